/* publish.h: published ports, `alcove run -p [IP:]HOST_PORT:ENCLAVE_PORT` and `run-enclave
 * --publish` (docs/networking.md): the host accepts TCP on HOST_PORT and each connection reaches
 * the enclave's TCP port ENCLAVE_PORT over vsock. The parser is pure (no I/O, no reporting), for
 * the CLI and tests/unit/test_publish.c. */
#ifndef ALCOVE_PUBLISH_H
#define ALCOVE_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PUBLISH_MAX     64 /* published ports per enclave */
#define PUBLISH_IP_SIZE 46 /* INET6_ADDRSTRLEN */

struct publish_port {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* the host address, network byte order; AF_INET: the first 4 bytes */
    uint16_t host_port, enclave_port;
    char host_ip[PUBLISH_IP_SIZE]; /* the address as text, without brackets: "0.0.0.0", "::1" */
};

/* One spec: "[IP:]HOST_PORT:ENCLAVE_PORT", optionally followed by "/tcp". IP is an IPv4 address
 * in dotted quads or an IPv6 address in brackets ("[::1]"); without it, every IPv4 address of
 * the host (0.0.0.0, Docker's default). Ports are decimal, 1 to 65535. 0, or -1 with the
 * reason in why. */
int publish_parse(const char *spec, struct publish_port *out, char *why, size_t why_size);

/* Whether two ports would need the same host socket: the same port, the same family, and the
 * same address or either one the wildcard (IPv6 sockets are IPV6_V6ONLY, so an IPv4 and an
 * IPv6 address never conflict). */
bool publish_conflict(const struct publish_port *a, const struct publish_port *b);

/* Parses spec and appends it to list (*n entries, at most PUBLISH_MAX), refusing one that
 * conflicts with an earlier one. 0, or -1 with the reason in why. */
int publish_add(struct publish_port *list, unsigned *n, const char *spec, char *why,
                size_t why_size);

#endif
