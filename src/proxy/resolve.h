/* resolve.h: host names to TCP addresses for vsock-proxy: a fixed-size list of addresses, the
 * resolver, and a cache of the destination's addresses that a thread refreshes while the
 * workers read it. */
#ifndef ALCOVE_PROXY_RESOLVE_H
#define ALCOVE_PROXY_RESOLVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_LIST_MAX 16

/* Up to ADDR_LIST_MAX socket addresses (IPv4 or IPv6, with the port), without duplicates. */
struct addr_list {
    int n;
    struct sockaddr_storage a[ADDR_LIST_MAX];
    socklen_t len[ADDR_LIST_MAX];
};

/* Resolves host (a name or a numeric address) for TCP port `port`; family is AF_UNSPEC,
 * AF_INET or AF_INET6. 0, or a getaddrinfo error (gai_strerror) with out->n == 0. */
int resolve_host(const char *host, uint16_t port, int family, struct addr_list *out);

/* Whether a and b hold the same IP address (the ports are not compared). */
bool addr_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* Whether list holds a's IP address. */
bool addr_list_has_ip(const struct addr_list *list, const struct sockaddr_storage *a);
/* Adds a to list unless its IP is already there or the list is full. */
void addr_list_add(struct addr_list *list, const struct sockaddr_storage *a, socklen_t len);
/* "1.2.3.4" or "::1" into buf. */
const char *addr_ip_string(const struct sockaddr_storage *a, char *buf, size_t size);

/* The destination's addresses, shared by the workers and refreshed by a thread. */
struct addr_cache {
    pthread_mutex_t lock;
    struct addr_list cur; /* under lock */
    /* what the refresh thread needs */
    const char *host;
    uint16_t port;
    int family;
    bool any_ip;              /* the allowlist matched the host name: any of its addresses */
    struct addr_list allowed; /* else only these (the addresses the allowlist matched) */
    int refresh_s;
    pthread_t thread;
    bool started;
    int stop_pipe[2];
};

/* Initializes the cache with the first addresses. */
void addr_cache_init(struct addr_cache *c, const struct addr_list *first);
/* Copies the current addresses into out. */
void addr_cache_get(struct addr_cache *c, struct addr_list *out);
/* Starts the thread that resolves the host again every refresh_s seconds (as Nitro's
 * vsock-proxy does when the DNS TTL expires) and keeps the addresses the allowlist permits.
 * 0 or -errno. */
int addr_cache_start_refresh(struct addr_cache *c);
/* Stops that thread, waiting for it at most wait_ms. A thread inside getaddrinfo, which nothing
 * interrupts and which can take as long as the resolver's timeouts (30 s and more with
 * unreachable servers), is left to end with the process, so that a SIGTERM ends vsock-proxy at
 * once: false then, and the cache must stay allocated (it is the thread's). True when the
 * thread has ended (or never started). */
bool addr_cache_stop(struct addr_cache *c, int wait_ms);

#endif
