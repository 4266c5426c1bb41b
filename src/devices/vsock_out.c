/* vsock_out.c: outbound TCP connections (docs/networking.md, "Outbound connections"). A TCP
 * connect inside the enclave to an address that is not its own arrives as a REQUEST to the
 * parent's port ALC_VSOCK_TCP_OUT_PORT carrying the destination (struct alc_tcp_origin). The
 * guest is untrusted: the payload must be exactly that struct, of a known family, with a port.
 * The destination must be in the operator's allowlist (common/outbound.h), resolved here when
 * the enclave starts and again every period (out_policy.h): each rule's addresses, and
 * ALC_HOST_ALIAS_V4 for "host.alcove.internal" (and its address), which stands for the host's
 * own 127.0.0.1. Then a non-blocking connect with a deadline: the guest hears RESPONSE once it
 * is up, or RST whose flags carry the errno (EACCES: not allowed). Once open the connection is
 * a host connection like any other. */
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

int vsock_allow(struct vm *vm, const struct out_rule *rules, unsigned n)
{
    struct vsock *vs = vsock_state(vm);
    if (!vs)
        return E_MONITOR_FAILURE;
    /* the launch's lookup, before any filter: it also loads glibc's NSS modules, which the
     * refresh thread's lookups use under the resolver class's filter */
    struct out_gen *g = out_gen_build(rules, n, NULL, out_resolve_host, NULL, true);
    vs->policy = g ? out_policy_new(rules, n, g, out_refresh_period()) : NULL;
    if (!vs->policy) {
        out_gen_free(g);
        alc_err_report(E_MONITOR_FAILURE, "out of memory");
        return E_MONITOR_FAILURE;
    }
    if (out_rules_have_names(rules, n) && out_refresh_start(vs->policy)) {
        alc_err_report(E_THREAD, "cannot start the thread that resolves the allowlist's names: %s",
                       strerror(errno));
        return E_THREAD;
    }
    return 0;
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
    struct out_dest dest, *a = &dest;
    if (!out_policy_find(vs->policy, fam == 2 ? AF_INET : AF_INET6, d.addr, ntohs(d.port),
                         vsock_now_ms(), &dest)) {
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
