/* inet_lo.c: the loopback TCP connection behind struct tcp_conn_ops (see inet.h): both ends are
 * struct isock in the enclave, each pointing at the other (a reference); a send appends to the
 * peer's receive queue, at most the peer's SO_RCVBUF plus the sender's SO_SNDBUF (what Linux
 * holds in the receiver's queue and the sender's together), in pieces that small writes share;
 * a receive takes from its own. A clean close sends the end of file and leaves the peer
 * pointing at the closed end, so that its next write brings the reset back as on Linux; an
 * abort (unread data, SO_LINGER 0, AF_UNSPEC, a listener's close) resets the peer at once.
 */
#include "inet.h"

#include "klib.h"
#include "poll.h"
#include "signal.h"
#include "wait.h"

#define SEG_MIN (2u << 10)  /* the smallest piece of a receive queue, so small writes share */
#define SEG_MAX (64u << 10) /* the largest */
#define SEG_HDR 64          /* what a piece costs beyond its room */

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

/* Appends n bytes from the program to p's receive queue: 0 or -EFAULT / -ENOBUFS, and in *done
 * the bytes that went in either way (a send counts them: the peer may read them). */
static long seg_append(struct isock *p, struct sock_io *io, size_t n, size_t *done)
{
    *done = 0;
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
        *done += k;
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
        size_t done;
        err = seg_append(p, &m->io, n, &done);
        sent += done;
        inet_notify(p, POLLIN | POLLRDNORM);
        if (err)
            break;
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

const struct tcp_conn_ops g_tcp_lo_ops = {
    .sendmsg = lo_sendmsg,
    .recvmsg = lo_recvmsg,
    .readable = lo_readable,
    .writable = lo_writable,
    .send_fin = lo_send_fin,
    .close = lo_close,
    .inq = lo_inq,
    .outq = lo_outq,
};

void tcp_lo_pair(struct isock *c, struct isock *e)
{
    isock_get(c);
    e->peer = c;
    isock_get(e);
    c->peer = e;
    c->cops = e->cops = &g_tcp_lo_ops;
    c->state = e->state = TCP_ESTABLISHED;
}
