/* args.c: shared argument parsing (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"

int args_usage_error(int code, const char *fmt, ...)
{
    const char *desc = alc_err_description(code);
    fprintf(stderr, "[ E%02d ] %s: ", code, desc ? desc : "Error");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return ARGS_USAGE_EXIT;
}

int args_getopt_error(int c, char **gargv, const char *command)
{
    const char *arg = optind > 0 ? gargv[optind - 1] : "?";
    if (c == ':')
        return args_usage_error(E_MISSING_ARGUMENT, "%s needs a value (see 'alcove %s --help')",
                                arg, command);
    return args_usage_error(E_INVALID_ARGUMENT, "unknown option '%s' (see 'alcove %s --help')", arg,
                            command);
}

int args_parse_cid(const char *s, int allow_auto, uint32_t *cid)
{
    /* digits, after an optional '+', as Rust's u64::from_str (nitro-cli's parser) takes them:
     * strtoull alone would also skip leading white space ("\t5", "\n5") and take a '-' */
    const char *digits = s + (*s == '+');
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*digits < '0' || *digits > '9' || *end || (errno && errno != ERANGE)) {
        alc_err_report(E_INVALID_ARGUMENT, "--enclave-cid '%s': not a number", s);
        return -1;
    }
    /* nitro-cli's rules, in its order: 1 and 2 (local, host) and 0xFFFFFFFF (any) are vsock's
     * well-known CIDs, 3 is the parent's, and vsock CIDs have 32 bits */
    if ((v >= 1 && v <= 2) || v == UINT32_MAX) {
        alc_err_report(E_INVALID_ARGUMENT,
                       "--enclave-cid %llu: a well-known vsock CID, not one for an enclave "
                       "(enclaves use 4 and up)",
                       v);
        return -1;
    }
    if (v == 3) {
        alc_err_report(E_INVALID_ARGUMENT,
                       "--enclave-cid 3: the parent's CID, not one for an enclave (enclaves use 4 "
                       "and up)");
        return -1;
    }
    if (errno == ERANGE || v > UINT32_MAX) {
        alc_err_report(E_INVALID_ARGUMENT, "--enclave-cid %s: above 4294967294, the largest CID",
                       s);
        return -1;
    }
    if (v == 0 && !allow_auto) {
        alc_err_report(E_INVALID_ARGUMENT,
                       "--enclave-cid 0: names no enclave (CIDs 0-3 are vsock's and the "
                       "parent's; enclaves use 4 and up)");
        return -1;
    }
    if (v == 0) /* as nitro-cli: 0 asks for a CID to be picked, and says so */
        fprintf(stderr, "--enclave-cid 0: the enclave gets the lowest free CID\n");
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
    /* as clap: a separate argument that is itself an option is not taken as the value
     * ("--eif-path --memory 64" lacks a path; "--eif-path=--x" is one) */
    if (!o->inline_value && strncmp(o->value, "--", 2) == 0) {
        alc_err_report(E_MISSING_ARGUMENT, "%s needs a value ('%s' that follows is an option)",
                       o->name, o->value);
        return NULL;
    }
    /* no option of these commands has a meaning for an empty value: "--enclave-name=" would
     * name no enclave */
    if (!*o->value) {
        alc_err_report(E_MISSING_ARGUMENT, "%s needs a value, not an empty one", o->name);
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

int args_add_env(char ***env, int *envc, const char *spec)
{
    char *entry;
    if (strchr(spec, '=')) {
        entry = strdup(spec);
    } else {
        const char *v = getenv(spec);
        if (!v)
            return 0;
        if (asprintf(&entry, "%s=%s", spec, v) < 0)
            entry = NULL;
    }
    char **grown = realloc(*env, (size_t)(*envc + 1) * sizeof(char *));
    if (!entry || !grown) {
        free(entry);
        return -1;
    }
    *env = grown;
    (*env)[(*envc)++] = entry;
    return 0;
}
