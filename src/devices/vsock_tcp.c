/* vsock_tcp.c: published ports (docs/networking.md, "Published ports"). The device thread
 * listens on each published TCP port; a client it accepts becomes a host connection like a
 * hybrid-socket client after its CONNECT line: a REQUEST from the parent (CID 3) to the guest's
 * port ALC_VSOCK_TCP_PORT0 + P, carrying the client's address (struct alc_tcp_origin) as its
 * payload. The guest's RESPONSE opens it (no "OK" line: the client speaks TCP, not the hybrid
 * protocol) and data then flows as for any host connection, straight between the TCP socket
 * and guest memory. A guest that answers RST (nothing listens on P) makes the client's
 * connection end with a reset, as a refused TCP connection would. */
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errors.h"
#include "devices/vsock_priv.h"

static int listen_tcp(const struct publish_port *p)
{
    int fd = socket(p->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (p->family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(p->host_port);
        memcpy(&a->sin6_addr, p->addr, 16);
        len = sizeof(*a);
        /* IPv6 only: an IPv4 address of the same port is a -p of its own */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(p->host_port);
        memcpy(&a->sin_addr, p->addr, 4);
        len = sizeof(*a);
    }
    /* a port whose last connections linger in TIME_WAIT can be listened on again at once (a
     * port another socket listens on still cannot) */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int tcp_listen_all(struct vsock *vs, const struct publish_port *ports, unsigned n)
{
    for (unsigned i = 0; i < n && i < PUBLISH_MAX; i++) {
        const struct publish_port *p = &ports[i];
        int fd = listen_tcp(p);
        if (fd < 0) {
            bool v6 = p->family == AF_INET6;
            alc_err_report(E_PORT_UNAVAILABLE, "cannot listen on %s%s%s:%u (--publish): %s",
                           v6 ? "[" : "", p->host_ip, v6 ? "]" : "", p->host_port, strerror(errno));
            return E_PORT_UNAVAILABLE;
        }
        vs->tcp[vs->ntcp++] = (struct tcp_listener){
            .tag = TAG_TCP, .fd = fd, .guest_port = ALC_VSOCK_TCP_PORT0 + p->enclave_port};
    }
    return 0;
}

int tcp_watch(struct vsock *vs)
{
    for (unsigned i = 0; i < vs->ntcp; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &vs->tcp[i].tag};
        if (epoll_ctl(vs->ep, EPOLL_CTL_ADD, vs->tcp[i].fd, &ev) != 0)
            return -1;
    }
    return 0;
}

/* Ends a TCP connection with a reset (SO_LINGER with a zero timeout, then close). */
static void close_with_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* The client's address as the guest receives it (alcove_abi.h). */
static void origin_of(const struct sockaddr_storage *ss, struct alc_tcp_origin *o)
{
    memset(o, 0, sizeof(*o));
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        o->family = htole16(10);
        o->port = a->sin6_port;
        memcpy(o->addr, &a->sin6_addr, 16);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        o->family = htole16(2);
        o->port = a->sin_port;
        memcpy(o->addr, &a->sin_addr, 4);
    }
}

void tcp_accept(struct vsock *vs, struct tcp_listener *l)
{
    for (;;) {
        /* at the cap, clients wait in the listener's backlog until a connection ends */
        if (vs->nconns >= VSOCK_MAX_CONNS) {
            listeners_pause(vs);
            return;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                listeners_pause(vs);
            if (errno == ECONNABORTED || errno == EINTR)
                continue; /* that client gave up before we took it: the next one */
            return;
        }
        /* request/response protocols should not wait for Nagle: the guest's writes arrive as
         * whole packets already */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct conn *c = conn_new(vs, C_GUEST_CONNECTING, fd);
        if (!c) {
            close_with_reset(fd); /* out of memory */
            continue;
        }
        c->tcp = true;
        origin_of(&ss, &c->origin);
        c->guest_port = l->guest_port;
        c->host_port = host_port_for(vs, l->guest_port);
        c->peer_buf_alloc = 0; /* no credit until the guest answers */
        c->host_readable = true;
        conn_hash_add(vs, c);
        conn_ctrl(vs, c, CTRL_REQUEST); /* waits in the work list for an rx buffer */
    }
}

void tcp_refused(struct conn *c)
{
    if (c->fd < 0)
        return;
    close_with_reset(c->fd);
    c->fd = -1;
}

void tcp_close(struct vsock *vs)
{
    for (unsigned i = 0; i < vs->ntcp; i++)
        close(vs->tcp[i].fd);
    vs->ntcp = 0;
}
