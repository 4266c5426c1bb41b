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

/* The exit status of an argument error of the kind nitro-cli's parser (clap) finds before
 * nitro-cli looks at any value: an unknown command, option or argument, an option without its
 * value, a flag given one, a required option missing, options that conflict. clap prints the
 * usage and exits with 2, so alcove's commands exit with 2 for these too, after their
 * "[ E01 ]", "[ E02 ]" or "[ E03 ]" message; a value that nitro-cli checks itself (a number, a
 * CID, a memory size) exits with its code's number, 3 for E03. (alcove run exits 125.) */
#define ARGS_USAGE_EXIT 2

/* Reports "[ Ecode ] description: ..." on stderr; returns ARGS_USAGE_EXIT. */
int args_usage_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The usage error for what getopt_long returned that no option matched, with an optstring that
 * starts with "+:" (so that a missing value is ':'): "[ E01 ] --x needs a value" or "[ E03 ]
 * unknown option '--x'", naming 'alcove COMMAND --help'. gargv: the argv given to getopt_long.
 * Returns ARGS_USAGE_EXIT. */
int args_getopt_error(int c, char **gargv, const char *command);

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
 * reporting [ E01 ] (a usage error: exit with ARGS_USAGE_EXIT) when there is none: no argument
 * follows, the one that follows starts with
 * "--" (an option, as clap takes it; "--name=--x" gives "--x"), or the value is empty. */
const char *args_opt_value(const struct args_opt *o, int *i);
/* For an option that takes no value: 0, or -1 after reporting [ E03 ] for "--flag=VALUE" (a
 * usage error: exit with ARGS_USAGE_EXIT). */
int args_opt_flag(const struct args_opt *o);

/* --env NAME=VALUE, or NAME alone for its value in alcove's own environment (nothing when it is
 * unset, as `docker run -e NAME`), appended to *env (malloc'd entries). 0, or -1 out of memory. */
int args_add_env(char ***env, int *envc, const char *spec);

#endif
