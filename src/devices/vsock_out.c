/* vsock_out.c: outbound TCP connections (docs/networking.md, "Outbound connections"). A TCP
 * connect inside the enclave to an address that is not its own arrives as a REQUEST to the
 * parent's port ALC_VSOCK_TCP_OUT_PORT carrying the destination (struct alc_tcp_origin). The
 * guest is untrusted: the payload must be exactly that struct, of a known family, with a port.
 * The destination must be in the operator's allowlist (common/outbound.h), resolved here when
 * the enclave starts: each rule's addresses, and ALC_HOST_ALIAS_V4 for "host.alcove.internal"
 * (and its address), which stands for the host's own 127.0.0.1. Then a non-blocking connect with
 * a deadline: the guest hears RESPONSE once it is up, or RST whose flags carry the errno
 * (EACCES: not allowed). Once open the connection is a host connection like any other. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/log.h"
#include "devices/vsock.h"
#include "common/outbound.h"
#include "devices/vsock_priv.h"

static void dest_add(struct vsock *vs, int family, const void *addr, uint16_t port, bool host_lo)
{
    for (unsigned i = 0; i < vs->ndest; i++) {
        struct out_dest *d = &vs->dest[i];
        if (d->family == family && d->port == port &&
            !memcmp(d->addr, addr, family == AF_INET ? 4 : 16))
            return;
    }
    if (vs->ndest == vs->cap_dest) {
        unsigned cap = vs->cap_dest ? vs->cap_dest * 2 : 16;
        struct out_dest *v = realloc(vs->dest, cap * sizeof(*v));
        if (!v)
            return;
        vs->dest = v;
        vs->cap_dest = cap;
    }
    struct out_dest *d = &vs->dest[vs->ndest++];
    memset(d, 0, sizeof(*d));
    d->family = family;
    memcpy(d->addr, addr, family == AF_INET ? 4 : 16);
    d->port = port;
    d->host_lo = host_lo;
}

int vsock_allow(struct vm *vm, const struct out_rule *rules, unsigned n)
{
    struct vsock *vs = vsock_state(vm);
    if (!vs)
        return E_MONITOR_FAILURE;
    vs->rules = rules;
    vs->nrules = n;
    const uint32_t alias = htonl(ALC_HOST_ALIAS_V4);
    char alias_text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &alias, alias_text, sizeof(alias_text));
    for (unsigned i = 0; i < n; i++) {
        const struct out_rule *r = &rules[i];
        if (strcasecmp(r->host, ALC_HOST_ALIAS_NAME) == 0 || strcmp(r->host, alias_text) == 0) {
            dest_add(vs, AF_INET, &alias, r->port, true);
            dns_zone_add(vs, ALC_HOST_ALIAS_NAME, AF_INET, &alias);
            continue;
        }
        bool name = !strchr(r->host, ':') && strspn(r->host, "0123456789.") != strlen(r->host);
        if (name)
            dns_zone_add(vs, r->host, 0, NULL); /* a lookup of it is allowed */
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
        int e = getaddrinfo(r->host, NULL, &hints, &res);
        if (e) {
            /* not fatal, but nothing is looked up again: the name allows nothing */
            alc_log(ALC_LOG_WARN, "--allow %s:%u: %s; it allows no address", r->host, r->port,
                    gai_strerror(e));
            continue;
        }
        for (struct addrinfo *a = res; a; a = a->ai_next) {
            const void *ip = a->ai_family == AF_INET
                                 ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                                 : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
            if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
                continue;
            if (out_addr_is_local(a->ai_family, ip)) {
                /* the host's loopback is host.alcove.internal's, port by port */
                alc_log(ALC_LOG_WARN,
                        "--allow %s:%u: it resolves to a loopback or unspecified address, "
                        "which is not allowed (use host.alcove.internal:%u)",
                        r->host, r->port, r->port);
                continue;
            }
            dest_add(vs, a->ai_family, ip, r->port, false);
            if (name)
                dns_zone_add(vs, r->host, a->ai_family, ip); /* what its lookup answers */
        }
        freeaddrinfo(res);
    }
    return 0;
}

/* The allowed destination that d names, or NULL. */
static const struct out_dest *dest_find(const struct vsock *vs, const struct alc_tcp_origin *d)
{
    int family = le16toh(d->family) == 2 ? AF_INET : AF_INET6;
    uint16_t port = ntohs(d->port);
    for (unsigned i = 0; i < vs->ndest; i++) {
        const struct out_dest *a = &vs->dest[i];
        if (a->family == family && a->port == port &&
            !memcmp(a->addr, d->addr, family == AF_INET ? 4 : 16))
            return a;
    }
    return NULL;
}

static void refuse(struct vsock *vs, const struct vsock_hdr *h, int err)
{
    reply_rst_errno(vs, h->src_port, h->dst_port, err);
}

static void log_dest(const struct alc_tcp_origin *d, const char *what, int err)
{
    char text[INET6_ADDRSTRLEN] = "?";
    inet_ntop(le16toh(d->family) == 2 ? AF_INET : AF_INET6, d->addr, text, sizeof(text));
    alc_log(ALC_LOG_INFO, "outbound: %s%s%s:%u %s%s%s", le16toh(d->family) == 2 ? "" : "[", text,
            le16toh(d->family) == 2 ? "" : "]", ntohs(d->port), what, err ? ": " : "",
            err ? strerror(err) : "");
}

void out_request(struct vsock *vs, const struct vsock_hdr *h, const void *payload, uint32_t len)
{
    struct alc_tcp_origin d;
    if (len != sizeof(d)) {
        refuse(vs, h, EINVAL);
        return;
    }
    memcpy(&d, payload, sizeof(d));
    uint16_t fam = le16toh(d.family);
    if ((fam != 2 && fam != 10) || d.port == 0) {
        refuse(vs, h, EINVAL);
        return;
    }
    if (fam == 2)
        memset(d.addr + 4, 0, sizeof(d.addr) - 4);
    const struct out_dest *a = dest_find(vs, &d);
    if (!a) {
        log_dest(&d, "refused (not in the allowlist)", 0);
        refuse(vs, h, EACCES);
        return;
    }
    if (vs->nguest >= vs->max_guest) {
        refuse(vs, h, ECONNREFUSED); /* at its cap, as guest_request */
        return;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = d.port;
        if (a->host_lo)
            sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* the host's own loopback */
        else
            memcpy(&sin->sin_addr, d.addr, 4);
        sl = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = d.port;
        memcpy(&sin6->sin6_addr, d.addr, 16);
        sl = sizeof(*sin6);
    }
    int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        refuse(vs, h, errno);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    enum conn_state st = C_OPEN;
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            log_dest(&d, "failed", e);
            refuse(vs, h, e);
            return;
        }
        st = C_HOST_CONNECTING;
    }
    struct conn *c = conn_new(vs, st, fd);
    if (!c) {
        close(fd);
        refuse(vs, h, ENOBUFS);
        return;
    }
    /* as the guest's connections to host listeners: VSOCK_GUEST_CONN_COST of host memory */
    int sz = (int)VSOCK_GUEST_SNDBUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    c->guest_made = true;
    vs->nguest++;
    c->out = true;
    c->guest_port = h->src_port;
    c->host_port = h->dst_port;
    c->peer_buf_alloc = h->buf_alloc;
    c->peer_fwd_cnt = h->fwd_cnt;
    conn_hash_add(vs, c);
    if (st == C_HOST_CONNECTING) {
        c->out_connecting = true;
        vs->nout_connecting++;
        c->line_deadline_ms = vsock_now_ms() + (int64_t)ALC_OUT_CONNECT_TIMEOUT_S * 1000;
        if (!vs->sweep_ms || c->line_deadline_ms < vs->sweep_ms)
            vs->sweep_ms = c->line_deadline_ms;
    } else {
        conn_ctrl(vs, c, CTRL_RESPONSE);
    }
}

void out_settled(struct vsock *vs, struct conn *c)
{
    if (!c->out_connecting)
        return;
    c->out_connecting = false;
    vs->nout_connecting--;
}
