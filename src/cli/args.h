/* args.h: argument values several commands share, parsed one way with nitro-cli's rules. */
#ifndef ALCOVE_ARGS_H
#define ALCOVE_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* An enclave CID for --enclave-cid, by nitro-cli's rules: decimal digits, after an optional
 * '+' (nothing else: no white space, no '-'); 0 means "pick one" (a note on
 * stderr says so, as nitro-cli's does); 1, 2 (well-known), 3 (the parent) and 0xFFFFFFFF (any)
 * are refused, as is anything that does not fit 32 bits. 0, or -1 after reporting [ E03 ].
 * allow_auto: whether 0 is accepted (not where an existing enclave is named). */
int args_parse_cid(const char *s, int allow_auto, uint32_t *cid);

/* A --memory value: "N", "NM", "NG" or "NT" (MiB by default, as nitro-cli's). 0 on error. */
uint64_t args_parse_mib(const char *s);

/* One argument of a hand-written option parser, taken as nitro-cli's clap takes it: an option
 * with a value is "--name VALUE" or "--name=VALUE" (getopt_long's commands get the same from
 * getopt). */
struct args_opt {
    char name[48];     /* argv[i] without "=VALUE" (cut short if longer: then it matches nothing) */
    const char *value; /* VALUE after '=', else the next argument; NULL when there is none */
    bool inline_value; /* the value was given after '=' */
};
void args_opt_split(int argc, char **argv, int i, struct args_opt *o);
/* The value of an option that takes one; a separate value advances *i past it. NULL after
 * reporting [ E01 ] when there is none: no argument follows, the one that follows starts with
 * "--" (an option, as clap takes it; "--name=--x" gives "--x"), or the value is empty. */
const char *args_opt_value(const struct args_opt *o, int *i);
/* For an option that takes no value: 0, or -1 after reporting [ E03 ] for "--flag=VALUE". */
int args_opt_flag(const struct args_opt *o);

#endif
