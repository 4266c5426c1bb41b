/* vsock_args.c: argument parsing shared by `alcove connect` and `alcove vsock-proxy` (see
 * vsock_args.h). An enclave given by name or ID is looked up among the running enclaves'
 * descriptions in the runtime directory; one given by CID is taken as it is, and whether it
 * runs is learnt when its socket is used. */
#include "cli/vsock_args.h"

#include <errno.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/enclaves.h"
#include "common/errors.h"
#include "common/runtime.h"

int vsock_arg_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || *s == '+' || *s == ' ' || v < min || v > max) {
        alc_err_report(E_INVALID_ARGUMENT, "%s '%s': expected a number from %u to %u", opt, s, min,
                       max);
        return E_INVALID_ARGUMENT;
    }
    *out = (uint32_t)v;
    return 0;
}

int vsock_arg_seconds(const char *opt, const char *s, int *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 86400.0 * 365) {
        alc_err_report(E_INVALID_ARGUMENT, "%s '%s': expected a number of seconds > 0", opt, s);
        return E_INVALID_ARGUMENT;
    }
    *ms = v * 1000 < 1 ? 1 : (int)(v * 1000);
    return 0;
}

int vsock_arg_enclave(const char *cid, const char *name, const char *id, uint32_t *out)
{
    int given = !!cid + !!name + !!id;
    if (given == 0) {
        return args_usage_error(E_MISSING_ARGUMENT,
                                "which enclave? (--enclave-cid, --enclave-name or "
                                "--enclave-id)");
    }
    if (given > 1) {
        return args_usage_error(E_CONFLICTING_ARGUMENT,
                                "give only one of --enclave-cid, --enclave-name and --enclave-id");
    }
    if (cid && args_parse_cid(cid, 0, out))
        return E_INVALID_ARGUMENT;
    int err = enclaves_runtime_check(); /* the enclave's socket is there */
    if (err || cid)
        return err;
    struct enclave_rec *list;
    size_t n;
    enclaves_list(&list, &n);
    const struct enclave_rec *e = enclaves_find(list, n, id, name);
    *out = e && e->running ? e->cid : 0;
    enclaves_free(list, n);
    if (*out == 0) {
        int code = name ? E_ENCLAVE_NAMING : E_ENCLAVE_NOT_FOUND; /* as nitro-cli */
        alc_err_report(code, "no running enclave has the %s '%s'%s", name ? "name" : "ID",
                       name ? name : id, enclaves_hidden_note());
        return code;
    }
    return 0;
}
