/* vsock_args.c: argument parsing shared by `alcove connect` and `alcove vsock-proxy` (see
 * vsock_args.h). An enclave given by name or ID is looked up among the running enclaves'
 * descriptions in the runtime directory; one given by CID is taken as it is, and whether it
 * runs is learnt when its socket is used. */
#include "cli/vsock_args.h"

#include <errno.h>
#include <limits.h>
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

int vsock_arg_owner(uint32_t cid, uid_t *owner)
{
    errno = 0;
    cJSON *d = runtime_read_desc_owner(cid, owner);
    if (d) {
        cJSON_Delete(d);
        return 0;
    }
    char path[PATH_MAX] = "?";
    runtime_path(path, sizeof(path), cid, "json");
    if (errno == EACCES) {
        alc_err_report(E_ENCLAVE_PROCESS_CONNECTION,
                       "the enclave with CID %u is another user's (%s): only the user who "
                       "started it and root may connect to it",
                       cid, path);
        return E_ENCLAVE_PROCESS_CONNECTION;
    }
    alc_err_report(E_ENCLAVE_NOT_FOUND, "no running enclave has the CID %u (%s: none there)", cid,
                   path);
    return E_ENCLAVE_NOT_FOUND;
}

int vsock_arg_enclave(const char *cid, const char *name, const char *id, uint32_t *out,
                      uid_t *owner)
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
    if (err || (cid && !owner))
        return err;
    if (cid)
        return vsock_arg_owner(*out, owner);
    struct enclave_rec *list;
    size_t n;
    enclaves_list(&list, &n);
    const struct enclave_rec *e = enclaves_find(list, n, id, name);
    *out = e && e->running ? e->cid : 0;
    if (e && owner)
        *owner = e->owner;
    enclaves_free(list, n);
    if (*out == 0) {
        int code = name ? E_ENCLAVE_NAMING : E_ENCLAVE_NOT_FOUND; /* as nitro-cli */
        alc_err_report(code, "no running enclave has the %s '%s'%s", name ? "name" : "ID",
                       name ? name : id, enclaves_hidden_note());
        return code;
    }
    return 0;
}
