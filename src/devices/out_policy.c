/* out_policy.c: the generations of the outbound allowlist's addresses and their swap (see
 * out_policy.h). Everything here is memory and a mutex, except out_resolve_host. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/log.h"
#include "devices/out_policy.h"
#include "abi/alcove_abi.h"

int out_resolve_host(void *ctx, const char *host, struct out_addr *out, unsigned max, char *why,
                     size_t why_size)
{
    (void)ctx;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int e = getaddrinfo(host, NULL, &hints, &res);
    if (e == EAI_NONAME || e == EAI_NODATA)
        return 0; /* the answer is that the name has no address (any more) */
    if (e) {
        snprintf(why, why_size, "%s", gai_strerror(e));
        return -1; /* no answer now (a name server that does not answer, a system error) */
    }
    unsigned n = 0;
    for (struct addrinfo *a = res; a && n < max; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            out[n].family = AF_INET;
            memcpy(out[n++].addr, &((struct sockaddr_in *)a->ai_addr)->sin_addr, 4);
        } else if (a->ai_family == AF_INET6) {
            out[n].family = AF_INET6;
            memcpy(out[n++].addr, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr, 16);
        }
    }
    freeaddrinfo(res);
    return (int)n;
}

static size_t alen(int family)
{
    return family == AF_INET ? 4 : 16;
}

/* Room for one more element in the array *v of n used and *cap allocated (doubling from 16):
 * false when memory is short (the element is then left out). */
static bool room(void **v, unsigned n, unsigned *cap, size_t size)
{
    if (n < *cap)
        return true;
    unsigned c = *cap ? *cap * 2 : 16;
    void *w = realloc(*v, c * size);
    if (!w)
        return false;
    *v = w;
    *cap = c;
    return true;
}

static void dest_add(struct out_gen *g, int family, const void *addr, uint16_t port, bool host_lo)
{
    for (unsigned i = 0; i < g->ndest; i++) {
        struct out_dest *d = &g->dest[i];
        if (d->family == family && d->port == port && !memcmp(d->addr, addr, alen(family)))
            return;
    }
    if (!room((void **)&g->dest, g->ndest, &g->cap_dest, sizeof(*g->dest)))
        return;
    struct out_dest *d = &g->dest[g->ndest++];
    memset(d, 0, sizeof(*d));
    d->family = family;
    memcpy(d->addr, addr, alen(family));
    d->port = port;
    d->host_lo = host_lo;
}

static void zone_add1(struct out_gen *g, const char *name, int family, const void *addr)
{
    for (unsigned i = 0; i < g->nzone; i++) {
        struct dns_record *r = &g->zone[i];
        if (r->family == family && strcasecmp(r->name, name) == 0 &&
            (!family || !memcmp(r->addr, addr, alen(family))))
            return;
    }
    if (!room((void **)&g->zone, g->nzone, &g->cap_zone, sizeof(*g->zone)))
        return;
    struct dns_record *r = &g->zone[g->nzone++];
    memset(r, 0, sizeof(*r));
    strncpy(r->name, name, sizeof(r->name) - 1);
    r->family = family;
    if (family)
        memcpy(r->addr, addr, alen(family));
}

/* The zone has name (family 0: the name alone, a lookup of it is allowed), with addr. */
static void zone_add(struct out_gen *g, const char *name, int family, const void *addr)
{
    zone_add1(g, name, 0, NULL); /* the name exists even with no address */
    if (family)
        zone_add1(g, name, family, addr);
}

static bool is_alias(const char *host)
{
    const uint32_t alias = htonl(ALC_HOST_ALIAS_V4);
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &alias, text, sizeof(text));
    return strcasecmp(host, ALC_HOST_ALIAS_NAME) == 0 || strcmp(host, text) == 0;
}

static bool is_name(const char *host)
{
    return !strchr(host, ':') && strspn(host, "0123456789.") != strlen(host);
}

bool out_rules_have_names(const struct out_rule *rules, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (!is_alias(rules[i].host) && is_name(rules[i].host))
            return true;
    return false;
}

/* The addresses last had for name (its zone records). */
static unsigned last_addrs(const struct out_gen *last, const char *name, struct out_addr *out,
                           unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; last && i < last->nzone && n < max; i++) {
        const struct dns_record *r = &last->zone[i];
        if (r->family && strcasecmp(r->name, name) == 0) {
            out[n].family = r->family;
            memcpy(out[n++].addr, r->addr, 16);
        }
    }
    return n;
}

/* A literal address rule: no lookup (the rule was checked when it was read). */
static int literal(const char *host, struct out_addr *out)
{
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        return 1;
    }
    if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        return 1;
    }
    return 0;
}

struct out_gen *out_gen_build(const struct out_rule *rules, unsigned n, const struct out_gen *last,
                              out_resolve_fn resolve, void *ctx, bool launch)
{
    struct out_gen *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    const uint32_t alias = htonl(ALC_HOST_ALIAS_V4);
    struct out_addr *a = malloc(OUT_ADDRS_MAX * sizeof(*a));
    if (!a) {
        free(g);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        const struct out_rule *r = &rules[i];
        if (is_alias(r->host)) {
            dest_add(g, AF_INET, &alias, r->port, true);
            zone_add(g, ALC_HOST_ALIAS_NAME, AF_INET, &alias);
            continue;
        }
        bool name = is_name(r->host);
        int na;
        char why[128] = "";
        memset(a, 0, OUT_ADDRS_MAX * sizeof(*a));
        if (!name) {
            na = literal(r->host, a);
        } else {
            zone_add(g, r->host, 0, NULL); /* a lookup of it is allowed */
            na = resolve(ctx, r->host, a, OUT_ADDRS_MAX, why, sizeof(why));
        }
        if (na < 0 && launch) {
            alc_log(ALC_LOG_WARN, "--allow %s:%u: %s; it allows no address until it resolves",
                    r->host, r->port, why);
            continue;
        }
        if (na < 0) {
            na = (int)last_addrs(last, r->host, a, OUT_ADDRS_MAX);
            alc_log(ALC_LOG_WARN,
                    "outbound: %s does not resolve (%s); it keeps its last "
                    "addresses (%d)",
                    r->host, why, na);
        }
        for (int k = 0; k < na; k++) {
            if (out_addr_is_local(a[k].family, a[k].addr)) {
                /* the host's loopback is host.alcove.internal's, port by port */
                if (launch)
                    alc_log(ALC_LOG_WARN,
                            "--allow %s:%u: it resolves to a loopback or unspecified address, "
                            "which is not allowed (use host.alcove.internal:%u)",
                            r->host, r->port, r->port);
                continue;
            }
            dest_add(g, a[k].family, a[k].addr, r->port, false);
            if (name)
                zone_add(g, r->host, a[k].family, a[k].addr); /* what its lookup answers */
        }
    }
    free(a);
    return g;
}

void out_gen_free(struct out_gen *g)
{
    if (!g)
        return;
    free(g->dest);
    free(g->zone);
    free(g);
}

struct out_policy *out_policy_new(const struct out_rule *rules, unsigned n, struct out_gen *g,
                                  unsigned period_s)
{
    struct out_policy *p = calloc(1, sizeof(*p));
    struct out_rule *copy = n ? malloc(n * sizeof(*copy)) : NULL;
    if (!p || (n && !copy)) {
        free(p);
        free(copy);
        return NULL;
    }
    if (n)
        memcpy(copy, rules, n * sizeof(*copy));
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&p->refs, 1);
    p->rules = copy;
    p->nrules = n;
    p->period_s = period_s;
    p->cur = g;
    p->generation = 1;
    p->resolved_at = time(NULL);
    return p;
}

void out_policy_unref(struct out_policy *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    out_gen_free(p->cur);
    out_gen_free(p->prev);
    free(p->rules);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void out_policy_swap(struct out_policy *p, struct out_gen *g, int64_t now_ms)
{
    pthread_mutex_lock(&p->lock);
    struct out_gen *old = p->prev;
    p->prev = p->cur;
    p->cur = g;
    p->prev_until_ms = now_ms + (int64_t)p->period_s * 1000;
    p->generation++;
    p->resolved_at = time(NULL);
    pthread_mutex_unlock(&p->lock);
    out_gen_free(old); /* outside the lock: the device thread waits for nothing but a search */
}

static const struct out_dest *gen_find(const struct out_gen *g, int family, const void *addr,
                                       uint16_t port)
{
    for (unsigned i = 0; g && i < g->ndest; i++) {
        const struct out_dest *d = &g->dest[i];
        if (d->family == family && d->port == port && !memcmp(d->addr, addr, alen(family)))
            return d;
    }
    return NULL;
}

bool out_policy_find(struct out_policy *p, int family, const void *addr, uint16_t port,
                     int64_t now_ms, struct out_dest *out)
{
    if (!p)
        return false;
    pthread_mutex_lock(&p->lock);
    const struct out_dest *d = gen_find(p->cur, family, addr, port);
    if (!d && now_ms < p->prev_until_ms)
        d = gen_find(p->prev, family, addr, port);
    if (d)
        *out = *d;
    pthread_mutex_unlock(&p->lock);
    return d != NULL;
}

size_t out_policy_answer(struct out_policy *p, const uint8_t *q, size_t len, uint8_t *out)
{
    if (!p) {
        struct dns_zone none = {NULL, 0, 0};
        return dns_answer(&none, q, len, out);
    }
    pthread_mutex_lock(&p->lock);
    /* no longer than the period: a program that caches an answer past the next refresh but one
     * would be refused the address it was given */
    struct dns_zone z = {p->cur->zone, p->cur->nzone, p->period_s};
    size_t n = dns_answer(&z, q, len, out);
    pthread_mutex_unlock(&p->lock);
    return n;
}
