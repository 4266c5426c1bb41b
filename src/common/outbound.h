/* outbound.h: the operator's allowlist for outbound connections, `alcove run --allow HOST:PORT`
 * and `--allowlist FILE` (vsock-proxy.yaml's format, read with src/proxy/allowlist.c), and
 * `run-enclave --allow/--allowlist` (docs/networking.md, "Outbound connections"). A TCP connect
 * from inside the enclave to HOST:PORT, or a name lookup of HOST, is allowed when a rule names
 * it. The parser is pure (no I/O, no reporting), for the CLI and tests/unit/test_outbound.c. */
#ifndef ALCOVE_OUTBOUND_H
#define ALCOVE_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUTBOUND_MAX      256 /* rules per enclave */
#define OUTBOUND_HOST_MAX 253 /* the longest DNS name */

struct out_rule {
    char host[OUTBOUND_HOST_MAX + 1]; /* a name (lower case), an IPv4 or an IPv6 address */
    uint16_t port;
};

/* One spec: "HOST:PORT", HOST a DNS name (letters, digits, '-', '_', '.'), an IPv4 address in
 * dotted quads, or an IPv6 address in brackets ("[2001:db8::1]:443"); PORT decimal, 1 to
 * 65535. 0, or -1 with the reason in why. */
int out_rule_parse(const char *spec, struct out_rule *out, char *why, size_t why_size);

/* Checks host and port as a rule (an allowlist file's entry: host without brackets) and appends
 * it to list (*n entries, at most OUTBOUND_MAX); a rule already there is not added twice. 0, or
 * -1 with the reason in why. */
int out_rule_add_host(struct out_rule *list, unsigned *n, const char *host, unsigned port,
                      char *why, size_t why_size);

/* Parses spec and appends it as out_rule_add_host does. */
int out_rule_add(struct out_rule *list, unsigned *n, const char *spec, char *why, size_t why_size);

/* Whether an address (AF_INET: 4 bytes, AF_INET6: 16) is the host's loopback or the unspecified
 * address, IPv4-mapped ones too: the enclave's own programs reach those inside it, so no rule
 * may send them to the host's (host.alcove.internal is the host's loopback, port by port). */
bool out_addr_is_local(int family, const void *addr);

/* Whether a rule names host (case-insensitive) with any port; port 0: any rule for host. */
int out_rule_names(const struct out_rule *list, unsigned n, const char *host, uint16_t port);

#endif
