/* allow_args.c: the outbound allowlist's options (allow_args.h). */
#include "cli/allow_args.h"

#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "proxy/allowlist.h"

int allow_arg(struct out_rule *list, unsigned *n, const char *spec)
{
    char why[160];
    if (out_rule_add(list, n, spec, why, sizeof(why))) {
        alc_err_report(E_INVALID_ARGUMENT, "--allow '%s': %s", spec, why);
        return E_INVALID_ARGUMENT;
    }
    return 0;
}

int allowlist_arg(struct out_rule *list, unsigned *n, const char *path)
{
    struct allowlist al;
    char why[256];
    if (allowlist_load(path, &al, why, sizeof(why)) != 0) {
        alc_err_report(E_INVALID_ARGUMENT, "--allowlist %s: %s", path, why);
        return E_INVALID_ARGUMENT;
    }
    int err = 0;
    for (size_t i = 0; i < al.n && !err; i++) {
        if (out_rule_add_host(list, n, al.v[i].address, al.v[i].port, why, sizeof(why))) {
            alc_err_report(E_INVALID_ARGUMENT, "--allowlist %s: line %u: %s", path, al.v[i].line,
                           why);
            err = E_INVALID_ARGUMENT;
        }
    }
    allowlist_free(&al);
    return err;
}
