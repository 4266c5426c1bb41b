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

uint64_t args_parse_mib(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return 0;
    uint64_t mult = 1;
    if (*end == 'M' || *end == 'm')
        end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1024, end++;
    else if (*end == 'T' || *end == 't')
        mult = 1024 * 1024, end++;
    if (*end || v > UINT64_MAX / mult)
        return 0;
    return v * mult;
}
