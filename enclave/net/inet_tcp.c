/* inet_tcp.c: TCP sockets (see inet.h): listen, connect, accept, shutdown, close, readiness
 * (Linux's tcp_poll), and the loopback connection, the only kind today, behind the
 * struct tcp_conn_ops seam.
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

#define SEG_MIN (2u << 10)  /* the smallest piece of a receive queue, so small writes share */
#define SEG_MAX (64u << 10) /* the largest */
#define SEG_HDR 64          /* what a piece costs beyond its room */

static const struct tcp_conn_ops g_lo_ops;

/* ---- the loopback connection ---- */

/* Bytes the peer's receive buffer does not take: what Linux keeps in the sender's queue. */
static uint64_t lo_outq(struct isock *s)
{
    struct isock *p = s->peer;
    if (!p || p->dead)
        return 0;
    uint64_t rb = (uint64_t)p->o.rcvbuf;
    return p->rq_bytes > rb ? p->rq_bytes - rb : 0;
}

static uint64_t lo_inq(struct isock *s)
{
    return s->rq_bytes;
}

/* Linux's __sk_stream_is_writeable: free send space at least half of what is queued. */
static bool lo_writable(struct isock *s)
{
    uint64_t q = lo_outq(s);
    return (uint64_t)s->o.sndbuf >= q + q / 2;
}

static bool lo_readable(struct isock *s)
{
    return s->rq_bytes >= (uint64_t)MAX(s->o.rcvlowat, 1) || (s->rq_bytes && s->fin_in);
}

static void seg_free_all(struct isock *s)
{
    while (s->rq_head) {
        struct iseg *g = s->rq_head;
        s->rq_head = g->next;
        kfree(g);
    }
    s->rq_tail = NULL;
    s->rq_bytes = s->rq_charge = 0;
}

/* The other end has our end of file: its state moves on (ESTABLISHED -> CLOSE_WAIT, FIN_WAIT2
 * -> CLOSE). */
static void fin_to(struct isock *p)
{
    p->fin_in = true;
    p->shut |= RCV_SHUT;
    if (p->state == TCP_ESTABLISHED)
        p->state = TCP_CLOSE_WAIT;
    else if (p->state == TCP_FIN_WAIT2)
        p->state = TCP_CLOSE;
    inet_notify(p, POLLIN | POLLRDNORM | POLLRDHUP);
}

/* p receives a reset (Linux's tcp_reset): its error, closed both ways. */
static void reset(struct isock *p)
{
    p->err = p->state == TCP_CLOSE_WAIT ? EPIPE : ECONNRESET;
    p->state = TCP_CLOSE;
    p->shut = SHUT_MASK;
    inet_notify(p, 0);
}

/* Unlinks s from its peer, both ways when the peer points back. */
static void unlink_peer(struct isock *s)
{
    struct isock *p = s->peer;
    if (!p)
        return;
    s->peer = NULL;
    if (p->peer == s) {
        p->peer = NULL;
        isock_put(s);
    }
    isock_put(p);
}

static void lo_send_fin(struct isock *s)
{
    if (s->state == TCP_ESTABLISHED)
        s->state = TCP_FIN_WAIT2;
    else if (s->state == TCP_CLOSE_WAIT)
        s->state = TCP_CLOSE;
    struct isock *p = s->peer;
    if (p && !p->dead)
        fin_to(p);
}

static void lo_close(struct isock *s, bool abort)
{
    struct isock *p = s->peer;
    abort = abort || s->rq_bytes;
    seg_free_all(s);
    if (p && !p->dead && p->peer == s) {
        if (abort) {
            reset(p);
            unlink_peer(s);
        } else {
            if (!(s->shut & SEND_SHUT))
                fin_to(p);
            /* the peer keeps pointing at us (dead): its next write brings the reset back */
            s->peer = NULL;
            isock_put(p);
        }
    } else {
        unlink_peer(s);
    }
    s->state = TCP_CLOSE;
    s->shut = SHUT_MASK;
    s->cops = NULL;
}

/* Appends n bytes from the program to p's receive queue: 0 or -EFAULT / -ENOBUFS. */
static long seg_append(struct isock *p, struct sock_io *io, size_t n)
{
    while (n) {
        struct iseg *t = p->rq_tail;
        size_t room = t ? t->cap - t->len : 0;
        if (!room) {
            uint32_t cap = (uint32_t)MAX(MIN(n, (size_t)SEG_MAX), (size_t)SEG_MIN);
            t = kmalloc(sizeof(*t) + cap);
            if (!t)
                return -ENOBUFS;
            *t = (struct iseg){.cap = cap};
            if (p->rq_tail)
                p->rq_tail->next = t;
            else
                p->rq_head = t;
            p->rq_tail = t;
            p->rq_charge += cap + SEG_HDR;
            room = cap;
        }
        size_t k = MIN(room, n);
        if (sock_io_copy(io, t->data + t->len, k, false))
            return -EFAULT;
        t->len += (uint32_t)k;
        p->rq_bytes += k;
        n -= k;
    }
    return 0;
}

static bool send_ready(void *arg)
{
    struct isock *s = arg;
    wait_on_file(s->file);
    struct isock *p = s->peer;
    return s->err || (s->shut & SEND_SHUT) || !p || p->dead ||
           p->rq_bytes < (uint64_t)p->o.rcvbuf + (uint64_t)s->o.sndbuf;
}

static long lo_sendmsg(struct isock *s, struct sock_msg *m, int flags)
{
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.sndtimeo_ns;
    size_t sent = 0;
    long err = 0;
    while (sent < m->len) {
        if (s->err || (s->shut & SEND_SHUT)) {
            err = -EPIPE;
            break;
        }
        struct isock *p = s->peer;
        if (!p || p->dead) {
            /* the peer closed: this write goes, and the reset comes back for the next */
            sent = m->len;
            if (p) {
                reset(s);
                unlink_peer(s);
            }
            break;
        }
        uint64_t cap = (uint64_t)p->o.rcvbuf + (uint64_t)s->o.sndbuf;
        if (p->rq_bytes >= cap) {
            err = -EAGAIN;
            if (!timeo)
                break;
            err = inet_wait(send_ready, s, timeo);
            if (err)
                break;
            continue;
        }
        size_t n = MIN(m->len - sent, (size_t)(cap - p->rq_bytes));
        n = MIN(n, (size_t)SEG_MAX);
        err = seg_append(p, &m->io, n);
        inet_notify(p, POLLIN | POLLRDNORM);
        if (err)
            break;
        sent += n;
    }
    if (sent)
        return (long)sent;
    if (err == -EPIPE) {
        err = s->err ? -inet_take_error(s) : -EPIPE;
        if (err == -EPIPE && !(flags & MSG_NOSIGNAL))
            signal_raise(SIGPIPE);
    }
    return err;
}

struct recv_wait {
    struct isock *s;
    uint64_t seen; /* peeking: the bytes looked at already */
};

static bool recv_ready(void *arg)
{
    struct recv_wait *w = arg;
    struct isock *s = w->s;
    wait_on_file(s->file);
    return s->rq_bytes > w->seen || s->err || (s->shut & RCV_SHUT) || s->state == TCP_CLOSE;
}

/* Linux's tcp_recvmsg on the receive queue: data first, then the error, then end of file. */
static long lo_recvmsg(struct isock *s, struct sock_msg *m, int flags)
{
    size_t len = m->len;
    size_t target = (flags & MSG_WAITALL) ? len : MIN((size_t)MAX(s->o.rcvlowat, 1), len);
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.rcvtimeo_ns;
    bool peek = flags & MSG_PEEK, trunc = flags & MSG_TRUNC;
    long copied = 0;
    uint64_t peeked = 0; /* peeking: bytes already looked at */
    while ((size_t)copied < len) {
        if ((peek ? s->rq_bytes - peeked : s->rq_bytes) > 0) {
            /* find the byte to read next */
            struct iseg *g = s->rq_head;
            uint64_t skip = peek ? peeked : 0;
            uint32_t off = g->off;
            while (skip) {
                uint64_t here = g->len - off;
                if (skip < here) {
                    off += (uint32_t)skip;
                    break;
                }
                skip -= here;
                g = g->next;
                off = g->off;
            }
            size_t n = MIN(len - (size_t)copied, (size_t)(g->len - off));
            if (!trunc && sock_io_copy(&m->io, g->data + off, n, true)) {
                if (!copied)
                    copied = -EFAULT;
                break;
            }
            copied += (long)n;
            if (peek) {
                peeked += n;
                continue;
            }
            g->off += (uint32_t)n;
            s->rq_bytes -= n;
            if (g->off == g->len && (g->next || g->len == g->cap)) {
                s->rq_head = g->next;
                if (!s->rq_head)
                    s->rq_tail = NULL;
                s->rq_charge -= g->cap + SEG_HDR;
                kfree(g);
            } else if (g->off == g->len) {
                g->off = g->len = 0; /* the tail, empty: its room serves again */
            }
            if (s->peer)
                inet_notify(s->peer, POLLOUT | POLLWRNORM);
            continue;
        }
        if ((size_t)copied >= target)
            break;
        if (copied) {
            if (s->err || s->state == TCP_CLOSE || (s->shut & RCV_SHUT) || !timeo)
                break;
        } else {
            if (s->fin_in)
                break;
            if (s->err) {
                copied = -inet_take_error(s);
                break;
            }
            if (s->shut & RCV_SHUT)
                break;
            if (s->state == TCP_CLOSE) {
                copied = -ENOTCONN;
                break;
            }
            if (!timeo) {
                copied = -EAGAIN;
                break;
            }
        }
        struct recv_wait w = {s, peeked};
        long err = inet_wait(recv_ready, &w, timeo);
        if (err) {
            if (!copied)
                copied = err;
            break;
        }
    }
    return copied;
}

static const struct tcp_conn_ops g_lo_ops = {
    .sendmsg = lo_sendmsg,
    .recvmsg = lo_recvmsg,
    .readable = lo_readable,
    .writable = lo_writable,
    .send_fin = lo_send_fin,
    .close = lo_close,
    .inq = lo_inq,
    .outq = lo_outq,
};

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

static bool backlog_full(const struct isock *l)
{
    return l->nq > (uint32_t)l->backlog; /* Linux's sk_acceptq_is_full */
}

/* c connects to listener l, which has room: the server's end goes to l's accept queue. */
static int establish(struct isock *c, struct isock *l, const uint8_t *dst)
{
    struct isock *e = isock_new(l->family, SOCK_STREAM);
    if (!e)
        return -ENOBUFS;
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
    inet_set_laddr(e, dst);
    e->lport = l->lport;
    e->port_locked = true;
    memcpy(e->raddr, c->laddr, 16);
    e->rport = c->lport;
    e->state = TCP_ESTABLISHED;
    e->ss = SS_CONNECTED;
    e->cops = &g_lo_ops;
    inet_hash(e); /* it holds its port too, as Linux's child socket does */
    isock_get(c);
    e->peer = c;
    isock_get(e);
    c->peer = e;
    c->cops = &g_lo_ops;
    c->state = TCP_ESTABLISHED;
    inet_tcp_enqueue_accept(l, e); /* takes the reference isock_new made */
    inet_notify(c, POLLOUT | POLLWRNORM);
    return 0;
}

/* The first connects waiting in l's SYN queue get the room an accept made. */
static void syn_queue_run(struct isock *l)
{
    while (l->sq_head && !backlog_full(l)) {
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
        return 0;
    }
    s->state = TCP_LISTEN; /* Linux sets it before the port check */
    int err = s->lport ? inet_port_conflict(s) : inet_autobind(s);
    if (err) {
        s->state = TCP_CLOSE;
        return -EADDRINUSE;
    }
    return 0;
}

static bool accept_ready(void *arg)
{
    struct isock *s = arg;
    wait_on_file(s->file);
    return s->aq_head || s->state != TCP_LISTEN;
}

int tcp_accept(struct isock *s, bool nonblock, uint32_t flags, struct file **out)
{
    if (s->state != TCP_LISTEN)
        return -EINVAL;
    int64_t timeo = nonblock ? 0 : s->o.rcvtimeo_ns;
    while (!s->aq_head) {
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
    return s->state != TCP_SYN_SENT;
}

/* Linux's tcp_v4_connect / tcp_v6_connect, with the SYN's answer on loopback. */
static int proto_connect(struct isock *s, const uint8_t *a, int len)
{
    struct inet_name n;
    uint8_t src[16];
    int err = parse_dst(s, a, len, &n);
    if (!err)
        err = inet_route(s, &n, src);
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
    if (!backlog_full(l) && !l->sq_head)
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
    if (s->state == TCP_LISTEN)
        return s->aq_head ? POLLIN | POLLRDNORM : 0;
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
    return s->state != TCP_SYN_SENT;
}

/* Linux's tcp_sendmsg up to the data: a socket still connecting waits, one that is not
 * connected is EPIPE (and SIGPIPE). */
long tcp_sendmsg(struct isock *s, struct sock_msg *m, int flags)
{
    if (flags & MSG_OOB)
        return -EOPNOTSUPP; /* urgent data: not in an enclave (docs/networking.md) */
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
    if (s->cops)
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
