/* allow_args.c: the outbound allowlist's options (allow_args.h). */
#include "cli/allow_args.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "proxy/allowlist.h"

int allow_rules(struct out_rule *list, unsigned *n, const char *specs, char *why, size_t why_size)
{
    char one[OUTBOUND_HOST_MAX + 16];
    const char *p = specs;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len == 0) {
            snprintf(why, why_size, "an empty entry (expected HOST:PORT[,HOST:PORT]...)");
            return -1;
        }
        if (len >= sizeof(one)) {
            snprintf(why, why_size, "'%.40s...': too long for HOST:PORT", p);
            return -1;
        }
        memcpy(one, p, len);
        one[len] = '\0';
        char reason[200];
        if (out_rule_add(list, n, one, reason, sizeof(reason))) {
            snprintf(why, why_size, "'%s': %s", one, reason);
            return -1;
        }
        if (!end)
            return 0;
        p = end + 1;
    }
}

int allow_arg(struct out_rule *list, unsigned *n, const char *spec)
{
    char why[160];
    if (out_rule_add(list, n, spec, why, sizeof(why))) {
        alc_err_report(E_INVALID_ARGUMENT, "--allow '%s': %s", spec, why);
        return E_INVALID_ARGUMENT;
    }
    return 0;
}

int allowlist_rules(struct out_rule *list, unsigned *n, const char *path, char *why,
                    size_t why_size)
{
    struct allowlist al;
    if (allowlist_load(path, &al, why, why_size) != 0)
        return -1;
    int err = 0;
    for (size_t i = 0; i < al.n && !err; i++) {
        char reason[200];
        if (out_rule_add_host(list, n, al.v[i].address, al.v[i].port, reason, sizeof(reason))) {
            snprintf(why, why_size, "line %u: %s", al.v[i].line, reason);
            err = -1;
        }
    }
    allowlist_free(&al);
    return err;
}

int allowlist_arg(struct out_rule *list, unsigned *n, const char *path)
{
    char why[256];
    if (allowlist_rules(list, n, path, why, sizeof(why))) {
        alc_err_report(E_INVALID_ARGUMENT, "--allowlist %s: %s", path, why);
        return E_INVALID_ARGUMENT;
    }
    return 0;
}
