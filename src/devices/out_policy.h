/* out_policy.h: what the outbound allowlist allows now (docs/networking.md, "Addresses that
 * follow a name"). The operator's rules are fixed at launch; the addresses of their names are
 * resolved at launch and again every period by a thread of their own (out_refresh.c). Each
 * resolution is a generation: the allowed destinations and the zone that name lookups are
 * answered from, made together so that what a program looks up it may connect to. The device
 * thread reads the current generation, and the previous one for one more period (a program that
 * looked a name up just before a refresh still connects), under a lock held only for a table
 * search: it never waits on a lookup, which happens outside the lock.
 *
 * A name that stops resolving keeps the addresses it had (a warning says so): a host's resolver
 * that fails for a while must not cut a long-lived enclave off from a service it was allowed to
 * reach, and the operator's rule still names it (vsock-proxy's cache does the same). The
 * resolver is a parameter, so tests/unit/test_out_policy.c can change a name's addresses. */
#ifndef ALCOVE_OUT_POLICY_H
#define ALCOVE_OUT_POLICY_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/dns_answer.h"
#include "common/outbound.h"

#define OUT_ADDRS_MAX      64 /* addresses kept per name and lookup */
#define OUT_REFRESH_PERIOD 60 /* seconds: the zone's TTL (DNS_TTL) */

struct out_addr {
    int family; /* AF_INET (4 bytes of addr) or AF_INET6 */
    uint8_t addr[16];
};

/* Resolves host into out (at most max): the count (0: the name has no address, as an
 * authoritative answer says: it allows nothing from then on), or -1 with a reason in why (no
 * answer now: a refresh keeps the name's last addresses). */
typedef int (*out_resolve_fn)(void *ctx, const char *host, struct out_addr *out, unsigned max,
                              char *why, size_t why_size);
/* The host's getaddrinfo (files, DNS... as nsswitch.conf says). */
int out_resolve_host(void *ctx, const char *host, struct out_addr *out, unsigned max, char *why,
                     size_t why_size);

/* An allowed destination: host_lo, the host-loopback alias (host.alcove.internal). */
struct out_dest {
    int family;
    uint8_t addr[16];
    uint16_t port;
    bool host_lo;
};

/* One resolution of the rules: destinations and the zone. */
struct out_gen {
    struct out_dest *dest;
    unsigned ndest, cap_dest;
    struct dns_record *zone;
    unsigned nzone, cap_zone;
};

/* Resolves every rule into a new generation (NULL: out of memory). A name that does not resolve
 * keeps its addresses in last (NULL at launch: it allows nothing); launch: warnings as the
 * options' ("--allow HOST:PORT: ..."), else as a refresh's. */
struct out_gen *out_gen_build(const struct out_rule *rules, unsigned n, const struct out_gen *last,
                              out_resolve_fn resolve, void *ctx, bool launch);
void out_gen_free(struct out_gen *g);
/* Whether the rules name a host that must be resolved (not an address, not the alias). */
bool out_rules_have_names(const struct out_rule *rules, unsigned n);

/* The policy shared by the device thread and the refresh thread, which may outlive the
 * monitor's tear-down (a lookup that hangs): it is freed by whichever drops it last. */
struct out_policy {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the refresh thread's wait; signalled when stopped */
    atomic_int refs;
    bool stopped;
    struct out_rule *rules; /* a copy: the caller's may go before the refresh thread does */
    unsigned nrules;
    unsigned period_s;
    struct out_gen *cur, *prev;
    int64_t prev_until_ms; /* prev allows connects until then (CLOCK_MONOTONIC) */
    unsigned generation;   /* 1: the launch's */
    time_t resolved_at;    /* when cur was made (wall clock) */
};

/* A policy of rules (copied) with its first generation g (taken). NULL: out of memory. */
struct out_policy *out_policy_new(const struct out_rule *rules, unsigned n, struct out_gen *g,
                                  unsigned period_s);
/* Drops a reference; the last frees everything. */
void out_policy_unref(struct out_policy *p);
/* Makes g (taken) the current generation at now_ms: the current one becomes the previous, which
 * allows connects until now_ms + the period; the one before is freed. */
void out_policy_swap(struct out_policy *p, struct out_gen *g, int64_t now_ms);
/* The allowed destination (copied into *out) for family, addr, port at now_ms: the current
 * generation's, or the previous one's while it lasts. p NULL: nothing is allowed. */
bool out_policy_find(struct out_policy *p, int family, const void *addr, uint16_t port,
                     int64_t now_ms, struct out_dest *out);
/* dns_answer from the current generation's zone (p NULL: an empty zone). */
size_t out_policy_answer(struct out_policy *p, const uint8_t *q, size_t len, uint8_t *out);

/* Starts the detached thread that makes a generation every period (period_s) and swaps it in.
 * 0, or -1 (errno). Its lookups run under the resolver thread class's filter. */
int out_refresh_start(struct out_policy *p);
/* Tells the refresh thread to end and drops the caller's reference, without waiting: a lookup
 * under way ends with the thread, or with the process. */
void out_refresh_stop(struct out_policy *p);
/* The period the monitor uses: OUT_REFRESH_PERIOD, or ALCOVE_OUTBOUND_REFRESH_S (a test knob,
 * 1 to 3600 seconds). */
unsigned out_refresh_period(void);

#endif
