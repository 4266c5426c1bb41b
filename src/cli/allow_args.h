/* allow_args.h: `--allow HOST:PORT` and `--allowlist FILE` of `alcove run` and `run-enclave`
 * (docs/networking.md, "Outbound connections"): both add to one list of rules. alcove-oci's
 * annotations alcove.allow and alcove.allowlist (src/oci/bundle.c) read their values with the
 * same functions, reporting through its own log. */
#ifndef ALCOVE_CLI_ALLOW_ARGS_H
#define ALCOVE_CLI_ALLOW_ARGS_H

#include <stddef.h>

#include "common/outbound.h"

/* --allow's value: one rule. 0, or an alcove error code (reported). */
int allow_arg(struct out_rule *list, unsigned *n, const char *spec);
/* --allowlist's value: a file in vsock-proxy.yaml's format (src/proxy/allowlist.c reads it),
 * each entry a rule. 0, or an alcove error code (reported). */
int allowlist_arg(struct out_rule *list, unsigned *n, const char *path);

/* Without reporting (0, or -1 with the reason in why): */
/* rules separated by commas, each "HOST:PORT" as --allow takes it (out_rule_add); blanks around
 * one are ignored, an empty one is refused (alcove.allow's value). */
int allow_rules(struct out_rule *list, unsigned *n, const char *specs, char *why, size_t why_size);
/* what --allowlist adds; why names the line of a refused entry. */
int allowlist_rules(struct out_rule *list, unsigned *n, const char *path, char *why,
                    size_t why_size);

#endif
