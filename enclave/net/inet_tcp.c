/* inet_tcp.c: TCP sockets (see inet.h): listen, connect, accept, shutdown, close and readiness
 * (Linux's tcp_poll), in front of a connection's struct tcp_conn_ops.
 *
 * The loopback connection's data path is net/inet_lo.c's.
 *
 * A connect finds the listener in the port table and, when its accept queue has room (Linux
 * holds backlog + 1), makes the server's end at once: both are ESTABLISHED, and the client may
 * write before the server accepts. Without a listener the connect is refused (ECONNREFUSED,
 * as the RST Linux answers). With the accept queue full, Linux drops the SYN and the client
 * sends it again a second later and more: here the client waits in the listener's SYN queue
 * and is connected when an accept makes room, which is what the retransmission finds, sooner.
 * A non-blocking connect answers EINPROGRESS even when it is done at once, as Linux does on
 * loopback (the SYN-ACK waits in the socket's backlog until connect returns); the socket is
 * then writable, or readable with SO_ERROR set, and a second connect says how it ended.
 *
 * Closing: a close with unread data (or SO_LINGER with 0 seconds) resets the peer (ECONNRESET,
 * or EPIPE when the peer had the end of our data already); otherwise the peer reads end of
 * file, and its first write after that succeeds and brings the reset back (EPIPE after it),
 * as a loopback Linux answers. No TIME_WAIT: a port is free when its last socket closes.
 */
#include "inet.h"

#include "klib.h"
#include "poll.h"
#include "signal.h"
#include "wait.h"

/* ---- listeners ---- */

void inet_tcp_enqueue_accept(struct isock *l, struct isock *c)
{
    if (l->aq_tail)
        l->aq_tail->aq_next = c;
    else
        l->aq_head = c;
    l->aq_tail = c;
    l->nq++;
    inet_notify(l, POLLIN | POLLRDNORM);
}

bool inet_tcp_backlog_full(const struct isock *l)
{
    return l->nq > (uint32_t)l->backlog; /* Linux's sk_acceptq_is_full */
}

struct isock *inet_tcp_child(struct isock *l)
{
    struct isock *e = isock_new(l->family, SOCK_STREAM);
    if (!e)
        return NULL;
    /* what Linux's accepted socket inherits from its listener */
    e->o = l->o;
    e->o.rcvtimeo_ns = e->o.sndtimeo_ns = -1;
    e->uid = l->uid;
    e->v6only = l->v6only;
    e->tos = l->tos;
    e->ttl = l->ttl;
    e->nodelay = l->nodelay;
    e->keepidle = l->keepidle;
    e->keepintvl = l->keepintvl;
    e->keepcnt = l->keepcnt;
    e->maxseg = l->maxseg;
    e->lport = l->lport;
    e->port_locked = true;
    e->state = TCP_ESTABLISHED;
    e->ss = SS_CONNECTED;
    return e;
}

/* c connects to listener l, which has room: the server's end goes to l's accept queue. */
static int establish(struct isock *c, struct isock *l, const uint8_t *dst)
{
    struct isock *e = inet_tcp_child(l);
    if (!e)
        return -ENOBUFS;
    inet_set_laddr(e, dst);
    memcpy(e->raddr, c->laddr, 16);
    e->rport = c->lport;
    inet_hash(e); /* it holds its port too, as Linux's child socket does */
    tcp_lo_pair(c, e);
    inet_tcp_enqueue_accept(l, e); /* takes the reference isock_new made */
    inet_notify(c, POLLOUT | POLLWRNORM);
    return 0;
}

/* The first connects waiting in l's SYN queue get the room an accept made. */
static void syn_queue_run(struct isock *l)
{
    while (l->sq_head && !inet_tcp_backlog_full(l)) {
        struct isock *c = l->sq_head;
        l->sq_head = c->sq_next;
        if (!l->sq_head)
            l->sq_tail = NULL;
        c->sq_next = NULL;
        c->syn_to = NULL;
        isock_put(l);
        if (establish(c, l, c->raddr)) {
            c->state = TCP_CLOSE;
            c->shut = SHUT_MASK;
            c->err = ECONNREFUSED;
        }
        inet_notify(c, 0);
        isock_put(c);
    }
}

/* c leaves the SYN queue it waits in. */
static void syn_queue_leave(struct isock *c)
{
    struct isock *l = c->syn_to;
    if (!l)
        return;
    for (struct isock **p = &l->sq_head; *p; p = &(*p)->sq_next) {
        if (*p == c) {
            *p = c->sq_next;
            break;
        }
    }
    l->sq_tail = NULL;
    for (struct isock *t = l->sq_head; t; t = t->sq_next)
        l->sq_tail = t;
    c->sq_next = NULL;
    c->syn_to = NULL;
    isock_put(l);
    isock_put(c);
}

/* A listener stops (close, shutdown(SHUT_RD), AF_UNSPEC connect): the connections not
 * accepted are reset, the connects waiting are refused. */
static void listen_stop(struct isock *l)
{
    inet_vsock_unlisten(l);
    while (l->aq_head) {
        struct isock *e = l->aq_head;
        l->aq_head = e->aq_next;
        e->aq_next = NULL;
        e->dead = true;
        if (e->cops)
            e->cops->close(e, true);
        inet_unhash(e);
        isock_put(e);
    }
    l->aq_tail = NULL;
    l->nq = 0;
    while (l->sq_head) {
        struct isock *c = l->sq_head;
        isock_get(c);
        syn_queue_leave(c);
        c->state = TCP_CLOSE;
        c->shut = SHUT_MASK;
        c->err = ECONNREFUSED;
        inet_notify(c, 0);
        isock_put(c);
    }
    l->state = TCP_CLOSE;
    inet_notify(l, 0);
}

/* Linux's inet_listen. */
int tcp_listen(struct isock *s, int backlog)
{
    if (s->ss != SS_UNCONNECTED)
        return -EINVAL;
    if (s->state != TCP_CLOSE && s->state != TCP_LISTEN)
        return -EINVAL;
    s->backlog = backlog;
    if (s->state == TCP_LISTEN) {
        syn_queue_run(s);
        inet_vsock_listen(s);
        return 0;
    }
    s->state = TCP_LISTEN; /* Linux sets it before the port check */
    int err = s->lport ? inet_port_conflict(s) : inet_autobind(s);
    if (err) {
        s->state = TCP_CLOSE;
        return -EADDRINUSE;
    }
    inet_vsock_listen(s);
    return 0;
}

static bool accept_ready(void *arg)
{
    struct isock *s = arg;
    wait_on_file(s->file);
    return s->aq_head || inet_vsock_pending(s) || s->state != TCP_LISTEN;
}

int tcp_accept(struct isock *s, bool nonblock, uint32_t flags, struct file **out)
{
    if (s->state != TCP_LISTEN)
        return -EINVAL;
    int64_t timeo = nonblock ? 0 : s->o.rcvtimeo_ns;
    for (inet_vsock_drain(s); !s->aq_head; inet_vsock_drain(s)) {
        if (s->state != TCP_LISTEN)
            return -EINVAL;
        if (!timeo)
            return -EAGAIN;
        long err = inet_wait(accept_ready, s, timeo);
        if (err)
            return (int)err;
    }
    struct isock *e = s->aq_head;
    struct file *nf = inet_file_for(e, flags);
    if (!nf)
        return -ENOMEM;
    s->aq_head = e->aq_next;
    if (!s->aq_head)
        s->aq_tail = NULL;
    e->aq_next = NULL;
    s->nq--;
    syn_queue_run(s);
    *out = nf;
    return 0;
}

/* ---- connect ---- */

/* Linux's tcp_disconnect: back to an unconnected socket (AF_UNSPEC, a refused connect). */
static void disconnect(struct isock *s)
{
    if (s->state == TCP_LISTEN) {
        listen_stop(s);
    } else if (s->state == TCP_SYN_SENT) {
        syn_queue_leave(s);
        if (s->cops)
            s->cops->close(s, true); /* an outbound connect under way */
        s->err = ECONNRESET;
    } else if (s->cops) {
        bool alive =
            s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT || s->state == TCP_FIN_WAIT2;
        s->cops->close(s, true);
        if (alive)
            s->err = ECONNRESET;
    }
    s->cops = NULL;
    s->state = TCP_CLOSE;
    s->shut = 0;
    s->fin_in = false;
    s->rport = 0;
    memset(s->raddr, 0, 16);
    if (!s->addr_locked)
        inet_set_laddr(s, NULL);
    if (!s->port_locked)
        inet_unhash(s);
    inet_notify(s, 0);
}

/* The destination of a connect (Linux's tcp_v4_connect and tcp_v6_connect checks). */
static int parse_dst(struct isock *s, const uint8_t *a, int len, struct inet_name *n)
{
    uint16_t fam, be_port;
    memcpy(&fam, a, 2);
    memcpy(&be_port, a + 2, 2);
    n->port = __builtin_bswap16(be_port);
    if (s->family == AF_INET) {
        if (len < SIN_LEN)
            return -EINVAL;
        if (fam != AF_INET)
            return -EAFNOSUPPORT;
        uint32_t be;
        memcpy(&be, a + 4, 4);
        inet_set_v4(n->addr, be);
        n->v4 = true;
        if (n->addr[12] >= 224)
            return -ENETUNREACH; /* multicast and broadcast */
        return 0;
    }
    if (len < SIN6_LEN_RFC2133)
        return -EINVAL;
    if (fam != AF_INET6)
        return -EAFNOSUPPORT;
    memcpy(n->addr, a + 8, 16);
    if (inet_is_any(n->addr, false) && inet_is_mapped(s->laddr))
        inet_set_v4(n->addr, __builtin_bswap32(0x7f000001u));
    if (n->addr[0] == 0xff)
        return -ENETUNREACH;
    n->v4 = inet_is_mapped(n->addr);
    if (n->v4) {
        if (s->v6only)
            return -ENETUNREACH;
        if (n->addr[12] >= 224)
            return -ENETUNREACH;
    }
    return 0;
}

static bool connect_ready(void *arg)
{
    struct isock *s = arg;
    wait_on_file(s->file);
    tcp_sync(s);
    return s->state != TCP_SYN_SENT;
}

/* Linux's tcp_v4_connect / tcp_v6_connect, with the SYN's answer on loopback. */
static int proto_connect(struct isock *s, const uint8_t *a, int len)
{
    struct inet_name n;
    uint8_t src[16];
    int err = parse_dst(s, a, len, &n);
    if (err)
        return err;
    err = inet_route(s, &n, src);
    if (err == -ENETUNREACH)
        return inet_vsock_connect(s, &n); /* not the enclave's: through the parent */
    if (err)
        return err;
    if (!s->addr_locked)
        inet_set_laddr(s, src);
    if (!s->lport && inet_autobind(s))
        return -EADDRNOTAVAIL;
    memcpy(s->raddr, n.addr, 16);
    s->rport = n.port;
    s->state = TCP_SYN_SENT;
    s->shut = 0;
    struct isock *l = inet_lookup(SOCK_STREAM, &n, src, s->lport);
    if (!l || (l->shut & RCV_SHUT)) {
        s->state = TCP_CLOSE; /* the RST */
        s->shut = SHUT_MASK;
        s->err = ECONNREFUSED;
        inet_notify(s, 0);
        return 0;
    }
    if (!inet_tcp_backlog_full(l) && !l->sq_head)
        return establish(s, l, n.addr) ? -ENOBUFS : 0;
    /* the SYN is dropped; the next one is answered when an accept makes room */
    isock_get(l);
    s->syn_to = l;
    isock_get(s);
    if (l->sq_tail)
        l->sq_tail->sq_next = s;
    else
        l->sq_head = s;
    l->sq_tail = s;
    return 0;
}

/* Linux's __inet_stream_connect. */
int tcp_connect(struct isock *s, const uint8_t *addr, int len, bool nonblock)
{
    if (len < 2)
        return -EINVAL;
    uint16_t fam;
    memcpy(&fam, addr, 2);
    if (fam == AF_UNSPEC) {
        disconnect(s);
        s->ss = SS_UNCONNECTED;
        return 0;
    }
    int err;
    switch (s->ss) {
    case SS_CONNECTED:
        return -EISCONN;
    case SS_CONNECTING:
        tcp_sync(s); /* an outbound connect's answer */
        err = -EALREADY;
        break;
    case SS_UNCONNECTED:
        if (s->state != TCP_CLOSE)
            return -EISCONN;
        err = proto_connect(s, addr, len);
        if (err)
            return err;
        s->ss = SS_CONNECTING;
        err = -EINPROGRESS;
        break;
    default:
        return -EINVAL;
    }
    int64_t timeo = nonblock ? 0 : s->o.sndtimeo_ns;
    if (err == -EINPROGRESS && !timeo)
        return err; /* Linux's SYN-ACK (or RST) waits until connect returns */
    if (s->state == TCP_SYN_SENT) {
        if (!timeo)
            return err;
        long w = inet_wait(connect_ready, s, timeo);
        if (w == -EAGAIN)
            return err; /* the timeout: still connecting, EINPROGRESS */
        if (w)
            return (int)w;
    }
    if (s->state == TCP_CLOSE) {
        err = s->err ? -inet_take_error(s) : -ECONNABORTED;
        s->ss = SS_UNCONNECTED;
        disconnect(s);
        s->err = 0;
        return err;
    }
    s->ss = SS_CONNECTED;
    return 0;
}

/* ---- shutdown, close, readiness ---- */

/* Linux's inet_shutdown for TCP. */
int tcp_shutdown(struct isock *s, unsigned mode)
{
    tcp_sync(s);
    if (s->ss == SS_CONNECTING) {
        if (s->state == TCP_SYN_SENT || s->state == TCP_CLOSE)
            s->ss = SS_UNCONNECTED;
        else
            s->ss = SS_CONNECTED;
    }
    switch (s->state) {
    case TCP_LISTEN:
        if (mode & RCV_SHUT)
            disconnect(s);
        return 0;
    case TCP_SYN_SENT:
        disconnect(s);
        s->err = 0;
        return 0;
    case TCP_CLOSE:
        s->shut |= (uint8_t)mode;
        inet_notify(s, 0);
        return -ENOTCONN;
    default:
        break;
    }
    bool fin = (mode & SEND_SHUT) && !(s->shut & SEND_SHUT);
    s->shut |= (uint8_t)mode;
    if (fin && s->cops)
        s->cops->send_fin(s);
    inet_notify(s, 0);
    return 0;
}

void tcp_release(struct isock *s)
{
    if (s->state == TCP_LISTEN)
        listen_stop(s);
    else if (s->state == TCP_SYN_SENT)
        syn_queue_leave(s);
    if (s->cops)
        s->cops->close(s, s->o.linger && s->o.linger_sec == 0);
    s->state = TCP_CLOSE;
}

/* Linux's tcp_poll. */
uint32_t tcp_poll(struct isock *s)
{
    if (s->state == TCP_LISTEN) {
        inet_vsock_drain(s);
        return s->aq_head ? POLLIN | POLLRDNORM : 0;
    }
    tcp_sync(s);
    uint32_t m = 0;
    if (s->shut == SHUT_MASK || s->state == TCP_CLOSE)
        m |= POLLHUP;
    if (s->shut & RCV_SHUT)
        m |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (s->state != TCP_SYN_SENT) {
        if (s->cops && s->cops->readable(s))
            m |= POLLIN | POLLRDNORM;
        if (!(s->shut & SEND_SHUT)) {
            if (!s->cops || s->cops->writable(s))
                m |= POLLOUT | POLLWRNORM;
        } else {
            m |= POLLOUT | POLLWRNORM;
        }
    }
    if (s->err)
        m |= POLLERR;
    return m;
}

static bool connected_ready(void *arg)
{
    struct isock *s = arg;
    wait_on_file(s->file);
    tcp_sync(s);
    return s->state != TCP_SYN_SENT;
}

/* Linux's tcp_sendmsg up to the data: a socket still connecting waits, one that is not
 * connected is EPIPE (and SIGPIPE). */
long tcp_sendmsg(struct isock *s, struct sock_msg *m, int flags)
{
    if (flags & MSG_OOB)
        return -EOPNOTSUPP; /* urgent data: not in an enclave (docs/networking.md) */
    tcp_sync(s);
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.sndtimeo_ns;
    while (s->state == TCP_SYN_SENT) {
        if (!timeo)
            return -EAGAIN;
        long err = inet_wait(connected_ready, s, timeo);
        if (err)
            return err;
    }
    long err = -EPIPE;
    if (s->cops && !s->err && !(s->shut & SEND_SHUT) &&
        (s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT))
        return s->cops->sendmsg(s, m, flags);
    if (s->err)
        err = -inet_take_error(s);
    if (err == -EPIPE && !(flags & MSG_NOSIGNAL))
        signal_raise(SIGPIPE);
    return err;
}

long tcp_recvmsg(struct isock *s, struct sock_msg *m, int flags)
{
    if (s->state == TCP_LISTEN)
        return -ENOTCONN;
    if (flags & MSG_OOB)
        return -EINVAL; /* no urgent data, ever */
    tcp_sync(s);
    if (s->cops && s->state != TCP_SYN_SENT)
        return s->cops->recvmsg(s, m, flags);
    if (s->err)
        return -inet_take_error(s);
    if (s->shut & RCV_SHUT)
        return 0;
    if (s->state == TCP_SYN_SENT) {
        int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.rcvtimeo_ns;
        if (!timeo)
            return -EAGAIN;
        long err = inet_wait(connected_ready, s, timeo);
        if (err)
            return err;
        return tcp_recvmsg(s, m, flags);
    }
    return -ENOTCONN;
}

uint64_t tcp_inq(struct isock *s)
{
    return s->cops ? s->cops->inq(s) : s->rq_bytes;
}

uint64_t tcp_outq(struct isock *s)
{
    return s->cops && s->state != TCP_SYN_SENT ? s->cops->outq(s) : 0;
}

int tcp_info_state(const struct isock *s)
{
    return s->state;
}
