/* allowlist.h: vsock-proxy's allowlist, Nitro's vsock-proxy.yaml:
 *
 *     allowlist:
 *     - {address: kms.us-east-1.amazonaws.com, port: 443}
 *     - {address: 127.0.0.1, port: 8080}
 *
 * The file is the user's: the parser takes any bytes and either fills the list or says what is
 * wrong and where. A destination is allowed when an entry has its port and either the same host
 * name (case-insensitive) or an address the destination also resolves to. */
#ifndef ALCOVE_PROXY_ALLOWLIST_H
#define ALCOVE_PROXY_ALLOWLIST_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/resolve.h"

#define ALLOWLIST_MAX_BYTES   (1u << 20) /* a bigger file is refused */
#define ALLOWLIST_MAX_ENTRIES 4096
#define ALLOWLIST_MAX_ADDRESS 253 /* the longest DNS name */

struct allow_entry {
    char *address;
    uint16_t port;
    unsigned line; /* where it is in the file, from 1 */
};

struct allowlist {
    struct allow_entry *v;
    size_t n;
};

/* Parses YAML text (len bytes, no NUL needed). 0, or -1 with a message in why ("line 3:
 * 'port' must be a number from 1 to 65535"); out is empty on failure. */
int allowlist_parse(const char *text, size_t len, struct allowlist *out, char *why, size_t whylen);
/* Reads and parses the file at path. 0, or -1 with a message in why. */
int allowlist_load(const char *path, struct allowlist *out, char *why, size_t whylen);
void allowlist_free(struct allowlist *al);

enum allow_result {
    ALLOW_DENIED = 0,
    ALLOW_BY_NAME, /* an entry names the host: any address it resolves to */
    ALLOW_BY_ADDR, /* an entry resolves to some of remote's addresses: only those (*allowed) */
};

/* Checks the destination host:port, whose addresses are remote, resolving the entries with
 * that port (family as resolve_host). For ALLOW_BY_ADDR, *allowed gets the permitted subset
 * of remote; *matched (may be NULL) the entry that allowed it. */
enum allow_result allowlist_check(const struct allowlist *al, const char *host, uint16_t port,
                                  int family, const struct addr_list *remote,
                                  struct addr_list *allowed, const struct allow_entry **matched);

#endif
