/* inet_vsock.c: TCP connections over vsock, the second kind behind inet.h's connection seam:
 * those that come from the host through a published port (`alcove run -p HOST:P`,
 * docs/networking.md), and outbound ones (inet_vsock_connect, at the end of the file).
 *
 * The monitor accepts a TCP client on the host and connects over vsock to this enclave's port
 * ALC_VSOCK_TCP_PORT0 + P, its REQUEST carrying the client's address (include/abi/alcove_abi.h).
 * A TCP listener on port P bound to the wildcard address (0.0.0.0 or ::, as Docker publishes only
 * to those; a listener on 127.0.0.1 stays private to the enclave) owns a kernel AF_VSOCK
 * listener on that vsock port. Its pending connections are moved into the TCP listener's accept
 * queue (inet_vsock_drain, called where the listener is polled or accepted from), each as a
 * struct isock whose data path (tcp_conn_ops) is the vsock connection: the program's accept,
 * read, write, poll, shutdown and close see a TCP socket, every byte crossing vsock.
 *
 * Its addresses: the remote one is the TCP client's when the REQUEST carried one that the
 * listener's family can show (a v6 client on an AF_INET listener cannot be), else 127.0.0.1
 * with no port; the local one is loopback, the enclave's only address.
 *
 * State: the vsock connection changes on its own (the client's end of file, a reset); each
 * entry of the generic code (tcp_poll, send, receive, shutdown, SO_ERROR) first calls the ops'
 * sync, which carries that into the socket's common state as the loopback kind's fin_to and
 * reset do. Readiness waits: the vsock connection's own (vsock_send, vsock_recv) block with the
 * device's event; inet_wait and poll/epoll of an AF_INET file wake on it too (inet.c).
 *
 * Lifetime: the listener's vsock file (struct isock.published) is made with no reference, as
 * every new file, and gets the one the listener holds until it stops; a connection's vsock file
 * (conn_priv) likewise holds one for its isock, put at close. The
 * vsock files' own waiter lists stay empty: nobody waits on them but through these sockets.
 */
#include "abi/alcove_abi.h"
#include "inet.h"
#include "klib.h"
#include "poll.h"
#include "vsock.h"

static const struct tcp_conn_ops g_vsock_ops;

static struct vsock *vs_of(struct isock *s)
{
    return vsock_of(s->conn_priv);
}

/* The socket's timeouts and low-water mark hold for the vsock connection's waits. */
static void pass_opts(struct isock *s)
{
    struct sock_opts *o = &vsock_opts(vs_of(s))->sk;
    o->rcvtimeo_ns = s->o.rcvtimeo_ns;
    o->sndtimeo_ns = s->o.sndtimeo_ns;
    o->rcvlowat = s->o.rcvlowat;
}

static void v_close(struct isock *s, bool abort);

/* What the client did since we last looked, in the socket's common state. */
static void v_sync(struct isock *s)
{
    struct vsock *v = vs_of(s);
    if (!v || s->state == TCP_CLOSE)
        return;
    if (s->state == TCP_SYN_SENT) {
        /* an outbound connection: the monitor's answer */
        int r = vsock_connect_result(v);
        if (r == -EINPROGRESS)
            return;
        if (r) {
            v_close(s, false);
            s->err = -r;
            inet_notify(s, 0);
            return;
        }
        s->state = TCP_ESTABLISHED;
        inet_notify(s, POLLOUT | POLLWRNORM);
    }
    uint32_t bits = vsock_poll_bits(v);
    if (bits & POLLERR) {
        int e = vsock_take_error(v);
        if (e) {
            /* Linux's tcp_reset: EPIPE once our side was closing, ECONNRESET otherwise */
            s->err = s->state == TCP_CLOSE_WAIT ? EPIPE : e;
            s->state = TCP_CLOSE;
            s->shut = SHUT_MASK;
            inet_notify(s, 0);
            return;
        }
    }
    if ((bits & POLLRDHUP) && !s->fin_in) {
        s->fin_in = true;
        s->shut |= RCV_SHUT;
        if (s->state == TCP_ESTABLISHED)
            s->state = TCP_CLOSE_WAIT;
        else if (s->state == TCP_FIN_WAIT2)
            s->state = TCP_CLOSE;
        inet_notify(s, POLLIN | POLLRDNORM | POLLRDHUP);
    }
}

/* A send or receive may block in net/vsock_io.c: it holds the vsock file meanwhile, since another
 * thread may close the connection under it (connect(AF_UNSPEC) runs v_close). */
static long v_sendmsg(struct isock *s, struct sock_msg *m, int flags)
{
    struct file *cf = s->conn_priv;
    file_get(cf);
    pass_opts(s);
    long r = vsock_send(vsock_of(cf), &m->io, m->len, flags, false);
    file_put(cf);
    v_sync(s);
    return r;
}

static long v_recvmsg(struct isock *s, struct sock_msg *m, int flags)
{
    struct file *cf = s->conn_priv;
    file_get(cf);
    pass_opts(s);
    long r = vsock_recv(vsock_of(cf), &m->io, m->len, flags);
    file_put(cf);
    m->namelen = 0; /* TCP names no sender */
    v_sync(s);
    /* a reset that v_sync (or a poll before) took out of the vsock: ECONNRESET, not an end of
     * file, as TCP's recv reports it */
    if (r == 0 && m->len && s->err)
        return -inet_take_error(s);
    return r;
}

static bool v_readable(struct isock *s)
{
    return vsock_poll_bits(vs_of(s)) & POLLIN;
}

static bool v_writable(struct isock *s)
{
    return vsock_poll_bits(vs_of(s)) & POLLOUT;
}

static void v_send_fin(struct isock *s)
{
    if (s->state == TCP_ESTABLISHED)
        s->state = TCP_FIN_WAIT2;
    else if (s->state == TCP_CLOSE_WAIT)
        s->state = TCP_CLOSE;
    vsock_shutdown(vs_of(s), SHUT_WR);
}

static void v_close(struct isock *s, bool abort)
{
    struct file *cf = s->conn_priv;
    /* as TCP: closing with unread data resets the client */
    if (abort || vsock_queued(vs_of(s), false))
        vsock_abort(vs_of(s));
    s->conn_priv = NULL;
    file_put(cf);
    s->state = TCP_CLOSE;
    s->shut = SHUT_MASK;
    s->cops = NULL;
}

static uint64_t v_inq(struct isock *s)
{
    return vsock_queued(vs_of(s), false);
}

static uint64_t v_outq(struct isock *s)
{
    return vsock_queued(vs_of(s), true);
}

static const struct tcp_conn_ops g_vsock_ops = {
    .sync = v_sync,
    .sendmsg = v_sendmsg,
    .recvmsg = v_recvmsg,
    .readable = v_readable,
    .writable = v_writable,
    .send_fin = v_send_fin,
    .close = v_close,
    .inq = v_inq,
    .outq = v_outq,
};

void inet_vsock_listen(struct isock *l)
{
    if (!vsock_present() || !inet_is_any(l->laddr, l->family == AF_INET))
        return;
    if (l->published) {
        vsock_listen(vsock_of(l->published), l->backlog); /* a new backlog */
        return;
    }
    struct file *vf = vsock_socket_file(O_NONBLOCK);
    if (!vf)
        return;
    file_get(vf); /* made with none: this is the listener's */
    struct sockaddr_vm a = {.svm_family = AF_VSOCK,
                            .svm_port = ALC_VSOCK_TCP_PORT0 + l->lport,
                            .svm_cid = VMADDR_CID_ANY};
    /* taken: another listener on this port has it (SO_REUSEPORT, a v4 and a v6 socket) or a
     * program's own AF_VSOCK socket does; this one then gets no published connections */
    if (vsock_bind(vsock_of(vf), &a) || vsock_listen(vsock_of(vf), l->backlog)) {
        file_put(vf);
        return;
    }
    l->published = vf;
}

void inet_vsock_unlisten(struct isock *l)
{
    if (!l->published)
        return;
    file_put(l->published); /* the connections not accepted yet are reset */
    l->published = NULL;
}

bool inet_vsock_pending(struct isock *l)
{
    return l->published && (vsock_poll_bits(vsock_of(l->published)) & POLLIN);
}

/* The connection's addresses on the listener's side (see the top of the file). */
static void set_names(struct isock *c, struct isock *l, struct vsock *v)
{
    struct alc_tcp_origin o;
    bool v4 = true;
    uint8_t raddr[16] = {0};
    uint16_t rport = 0;
    inet_set_v4(raddr, 0x0100007f); /* 127.0.0.1, network order */
    if (vsock_origin(v, &o) == 0) {
        if (o.family == AF_INET) {
            inet_set_v4(raddr, (uint32_t)o.addr[0] | (uint32_t)o.addr[1] << 8 |
                                   (uint32_t)o.addr[2] << 16 | (uint32_t)o.addr[3] << 24);
            rport = (uint16_t)(o.port >> 8 | o.port << 8);
        } else if (l->family == AF_INET6) {
            memcpy(raddr, o.addr, 16);
            rport = (uint16_t)(o.port >> 8 | o.port << 8);
            v4 = false;
        }
    }
    uint8_t laddr[16] = {0};
    if (v4)
        inet_set_v4(laddr, 0x0100007f);
    else
        laddr[15] = 1; /* ::1 */
    inet_set_laddr(c, laddr);
    memcpy(c->raddr, raddr, 16);
    c->rport = rport;
}

void inet_vsock_drain(struct isock *l)
{
    while (l->published && l->state == TCP_LISTEN && !inet_tcp_backlog_full(l)) {
        struct file *cf;
        if (vsock_accept(vsock_of(l->published), true, O_NONBLOCK, &cf))
            return;   /* nothing pending */
        file_get(cf); /* made with none: this is the connection's */
        struct isock *c = inet_tcp_child(l);
        if (!c) {
            vsock_abort(vsock_of(cf));
            file_put(cf);
            return;
        }
        set_names(c, l, vsock_of(cf));
        c->conn_priv = cf;
        c->cops = &g_vsock_ops;
        inet_hash(c);
        inet_tcp_enqueue_accept(l, c); /* takes inet_tcp_child's reference */
    }
}

/* ---- outbound connections ---- */

int inet_vsock_connect(struct isock *s, const struct inet_name *n)
{
    if (!vsock_present())
        return -ENETUNREACH;
    /* the source: the enclave's one address of the destination's kind */
    uint8_t src[16] = {0};
    if (n->v4)
        inet_set_v4(src, 0x0100007f);
    else
        src[15] = 1;
    if (!s->addr_locked)
        inet_set_laddr(s, src);
    if (!s->lport && inet_autobind(s))
        return -EADDRNOTAVAIL;
    struct alc_tcp_origin d = {.family = n->v4 ? 2 : 10,
                               .port = (uint16_t)(n->port >> 8 | n->port << 8)};
    if (n->v4)
        memcpy(d.addr, n->addr + 12, 4);
    else
        memcpy(d.addr, n->addr, 16);
    struct file *vf = vsock_socket_file(O_NONBLOCK);
    if (!vf)
        return -ENOBUFS;
    file_get(vf); /* made with none: this is the connection's */
    /* the monitor gives up first (ETIMEDOUT in its RST); ours is the backstop */
    int err = vsock_connect_out(vsock_of(vf), &d,
                                (int64_t)(ALC_OUT_CONNECT_TIMEOUT_S + 10) * 1000000000ll);
    if (err) {
        file_put(vf);
        return err == -ENODEV ? -ENETUNREACH : err;
    }
    memcpy(s->raddr, n->addr, 16);
    s->rport = n->port;
    s->state = TCP_SYN_SENT;
    s->shut = 0;
    s->conn_priv = vf;
    s->cops = &g_vsock_ops;
    return 0;
}
