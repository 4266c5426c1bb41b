/* args.c: shared argument parsing (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void args_opt_split(int argc, char **argv, int i, struct args_opt *o)
{
    const char *arg = argv[i];
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    snprintf(o->name, sizeof(o->name), "%.*s", (int)len, arg);
    if (len >= sizeof(o->name))
        o->name[0] = 0; /* no option is that long: match none */
    o->inline_value = eq != NULL;
    o->value = eq ? eq + 1 : i + 1 < argc ? argv[i + 1] : NULL;
}

const char *args_opt_value(const struct args_opt *o, int *i)
{
    if (!o->value) {
        alc_err_report(E_MISSING_ARGUMENT, "%s needs a value", o->name);
        return NULL;
    }
    if (!o->inline_value)
        (*i)++;
    return o->value;
}

int args_opt_flag(const struct args_opt *o)
{
    if (o->inline_value) {
        alc_err_report(E_INVALID_ARGUMENT, "%s takes no value", o->name);
        return -1;
    }
    return 0;
}
