/* allow_args.h: `--allow HOST:PORT` and `--allowlist FILE` of `alcove run` and `run-enclave`
 * (docs/networking.md, "Outbound connections"): both add to one list of rules. */
#ifndef ALCOVE_CLI_ALLOW_ARGS_H
#define ALCOVE_CLI_ALLOW_ARGS_H

#include "common/outbound.h"

/* --allow's value: one rule. 0, or an alcove error code (reported). */
int allow_arg(struct out_rule *list, unsigned *n, const char *spec);
/* --allowlist's value: a file in vsock-proxy.yaml's format (src/proxy/allowlist.c reads it),
 * each entry a rule. 0, or an alcove error code (reported). */
int allowlist_arg(struct out_rule *list, unsigned *n, const char *path);

#endif
