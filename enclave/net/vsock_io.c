/* vsock_io.c: the data path of the enclave's AF_VSOCK stream sockets: vsock_send (a program's
 * bytes into packets, within the peer's credit and the device's free buffers) and vsock_recv
 * (out of the socket's receive ring, telling the peer of the room it gains), with Linux's
 * af_vsock.c errnos, timeouts (SO_SNDTIMEO, SO_RCVTIMEO), MSG_* flags and SIGPIPE.
 *
 * Both may block (wait_until on the device's event): the caller holds the socket's file, so the
 * socket stays alive while it waits, and each wake-up re-checks its state (vsock_pump has run).
 */
#include "vsock_conn.h"

#include "klib.h"
#include "signal.h"
#include "wait.h"

static bool send_ready(void *arg)
{
    struct vsock *s = arg;
    return s->err || (s->shut & SHUT_SEND) || (s->peer_shut & SHUT_RCV) ||
           s->sk_state != SK_ESTABLISHED || (vsock_credit(s) > 0 && vsock_tx_avail() && !s->pend);
}

long vsock_send(struct vsock *s, struct sock_io *io, size_t total, int flags, bool has_name)
{
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    vsock_pump();
    long err = 0;
    size_t done = 0;
    if (has_name)
        return s->sk_state == SK_ESTABLISHED ? -EISCONN : -EOPNOTSUPP;
    if ((s->shut & SHUT_SEND) || (s->peer_shut & SHUT_RCV)) {
        err = -EPIPE;
        goto out;
    }
    if (s->sk_state != SK_ESTABLISHED)
        return -ENOTCONN;
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.sk.sndtimeo_ns;
    int64_t deadline = vsock_deadline_of(timeo);
    while (done < total) {
        if (s->pend && !s->done)
            vsock_ctl_flush(s);
        if (!send_ready(s)) {
            if (timeo == 0) {
                err = -EAGAIN;
                break;
            }
            vsock_tx_kick();
            int r = wait_until(send_ready, s, EV, deadline);
            if (r == -EINTR) {
                err = timeo < 0 ? -ERESTARTSYS : -EINTR;
                break;
            }
            if (r == -ETIMEDOUT) {
                err = -EAGAIN;
                break;
            }
            continue;
        }
        if (s->err) {
            err = -s->err;
            s->err = 0;
            break;
        }
        if ((s->shut & SHUT_SEND) || (s->peer_shut & SHUT_RCV)) {
            err = -EPIPE;
            break;
        }
        if (s->sk_state != SK_ESTABLISHED) {
            err = -ENOTCONN;
            break;
        }
        uint32_t chunk = (uint32_t)MIN(total - done, (size_t)vsock_credit(s));
        struct txbuf *b = vsock_tx_get(&chunk);
        if (!b)
            continue; /* send_ready said yes: cannot happen */
        long r = sock_io_copy(io, b->mem + HDR_LEN, chunk, false);
        if (r) {
            vsock_tx_release(b);
            err = r;
            break;
        }
        struct vsock_hdr h;
        vsock_hdr_fill(&h, s, OP_RW, 0, chunk);
        memcpy(b->mem, &h, sizeof(h));
        vsock_tx_put(b, HDR_LEN + chunk);
        s->tx_cnt += chunk;
        done += chunk;
    }
    vsock_tx_kick();
    if (done)
        return (long)done;
out:
    if (err == -EPIPE) {
        if (s->err) {
            err = -s->err;
            s->err = 0;
        } else if (!(flags & MSG_NOSIGNAL)) {
            signal_raise(SIGPIPE);
        }
    }
    return err;
}

static bool recv_ready(void *arg)
{
    struct vsock *s = arg;
    return vsock_rx_avail(s) || s->err || (s->shut & SHUT_RCV) || (s->peer_shut & SHUT_SEND) ||
           (s->sk_state != SK_ESTABLISHED && s->sk_state != SK_CLOSING);
}

/* The application consumed data: tell the peer when it has half the ring to gain. */
static void consumed(struct vsock *s)
{
    if (!s->done && s->in_conn && (uint32_t)s->rx_out - s->fwd_sent >= s->buf_alloc / 2)
        vsock_ctl(s, PEND_CREDIT, 0);
    if (s->sk_state == SK_ESTABLISHED && s->done && !vsock_rx_avail(s))
        s->sk_state = SK_CLOSING;
}

static long rx_copy(struct vsock *s, struct sock_io *io, size_t n, bool peek)
{
    uint64_t pos = s->rx_out;
    size_t done = 0;
    while (done < n) {
        uint32_t off = (uint32_t)(pos % s->buf_alloc);
        size_t k = MIN(n - done, (size_t)(s->buf_alloc - off));
        long r = sock_io_copy(io, s->rbuf + off, k, true);
        if (r)
            return r;
        done += k;
        pos += k;
    }
    if (!peek) {
        s->rx_out = pos;
        consumed(s);
    }
    return 0;
}

long vsock_recv(struct vsock *s, struct sock_io *io, size_t total, int flags)
{
    vsock_pump();
    if (s->sk_state != SK_ESTABLISHED && s->sk_state != SK_CLOSING)
        return s->done ? 0 : -ENOTCONN;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    if (s->shut & SHUT_RCV)
        return 0;
    if (total == 0)
        return 0;
    size_t target = (flags & MSG_WAITALL) ? total : MIN((size_t)MAX(s->o.sk.rcvlowat, 1), total);
    if (target >= s->buf_alloc)
        return -ENOMEM; /* Linux: more than the ring could ever hold */
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.sk.rcvtimeo_ns;
    int64_t deadline = vsock_deadline_of(timeo);
    size_t copied = 0;
    long err = 0;
    for (;;) {
        if (!vsock_rx_avail(s)) {
            if (recv_ready(s))
                break;
            if (timeo == 0) {
                err = -EAGAIN;
                break;
            }
            int r = wait_until(recv_ready, s, EV, deadline);
            if (r == -EINTR) {
                err = timeo < 0 ? -ERESTARTSYS : -EINTR;
                break;
            }
            if (r == -ETIMEDOUT) {
                err = -EAGAIN;
                break;
            }
            continue;
        }
        size_t n = (size_t)MIN(vsock_rx_avail(s), (uint64_t)(total - copied));
        long r = rx_copy(s, io, n, flags & MSG_PEEK);
        if (r) {
            err = r;
            break;
        }
        copied += n;
        if ((flags & MSG_PEEK) || copied >= target)
            break;
    }
    vsock_tx_kick();
    if (copied)
        return (long)copied;
    if (s->err && err != -EFAULT) {
        err = -s->err;
        s->err = 0;
        return err;
    }
    if ((s->shut & SHUT_RCV) || (s->peer_shut & SHUT_SEND))
        return 0;
    return err;
}
