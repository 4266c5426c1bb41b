/* args.c: shared argument parsing (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <stdlib.h>

#include "common/errors.h"

int args_parse_cid(const char *s, int allow_auto, uint32_t *cid)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || *s == '-' || errno || v > UINT32_MAX) {
        alc_err_report(E_INVALID_ARGUMENT, "--enclave-cid '%s': expected a number below 2^32", s);
        return -1;
    }
    if ((v == 0 && !allow_auto) || (v >= 1 && v <= 3) || v == UINT32_MAX) {
        alc_err_report(E_INVALID_ARGUMENT,
                       "--enclave-cid %llu: CIDs 0-3 and 4294967295 are reserved (3 is the "
                       "parent); enclaves use 4 and up",
                       v);
        return -1;
    }
    *cid = (uint32_t)v;
    return 0;
}
