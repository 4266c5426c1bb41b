/* vsock_rx.c: what a packet from the peer does to the enclave's vsock connections (the device
 * hands each received packet to vsock_rx_packet, net/vsock_virtio.c): the state machine of
 * Linux's af_vsock.c and virtio_transport_common.c on the receive side: a REQUEST to a listener
 * makes a connection that waits to be accepted, a RESPONSE completes a connect, data goes into
 * the receive ring within the credit we advertised, SHUTDOWN and RST end a connection, and a
 * packet for no connection is answered with a RST. The socket model (sock->state, sk_state,
 * shutdown bits, SO_ERROR) is Linux's, so that programs see its errnos in its order.
 *
 * A published TCP port's REQUEST carries its client's address (struct alc_tcp_origin), read here
 * and checked: the monitor is untrusted.
 *
 * Runs under the kernel lock, from vsock_pump; it may free a socket whose file is gone (an
 * orphan that the peer finished), never one that has a file.
 */
#include "vsock_conn.h"

#include "klib.h"
#include "poll.h"
#include "vsock.h"

static void enter_closing(struct vsock *s)
{
    if (s->sk_state == SK_ESTABLISHED && !vsock_rx_avail(s))
        s->sk_state = SK_CLOSING;
}

/* The peer has reset or closed s entirely. */
static void peer_gone(struct vsock *s, bool by_rst)
{
    s->done = true;
    s->peer_shut = SHUT_BOTH;
    /* A RST after our SHUTDOWN(SEND) is the clean end of the connection (the peer has sent
     * everything and heard our end); before it, the peer vanished: ECONNRESET. */
    if (by_rst && !(s->shut_sent & SHUT_SEND)) {
        s->reset = true;
        s->err = ECONNRESET;
    }
    enter_closing(s);
    vsock_notify(s, 0);
}

static void rx_data(struct vsock *s, const struct vsock_hdr *h, const uint8_t *payload)
{
    if (s->done || s->orphan || (s->shut & SHUT_RCV)) {
        /* nobody will read it: consume it so that the peer is not stalled */
        s->rx_in += h->len;
        s->rx_out += h->len;
        return;
    }
    if (!s->rbuf) {
        s->rbuf = kmalloc(s->buf_alloc);
        if (!s->rbuf) {
            klog(ALC_LOG_WARN, "vsock: no memory for a %u-byte receive buffer", s->buf_alloc);
            vsock_rst(s->local_port, s->peer_port, s->peer_cid);
            s->err = ENOMEM;
            peer_gone(s, false);
            vsock_conn_remove(s);
            return;
        }
    }
    if (h->len > s->buf_alloc - vsock_rx_avail(s)) {
        klog(ALC_LOG_WARN, "vsock: the peer of port %u overran its credit", s->local_port);
        vsock_rst(s->local_port, s->peer_port, s->peer_cid);
        peer_gone(s, true);
        vsock_conn_remove(s);
        return;
    }
    uint32_t done = 0;
    while (done < h->len) {
        uint32_t off = (uint32_t)(s->rx_in % s->buf_alloc);
        uint32_t n = MIN(h->len - done, s->buf_alloc - off);
        memcpy(s->rbuf + off, payload + done, n);
        done += n;
        s->rx_in += n;
    }
    vsock_notify(s, POLLIN | POLLRDNORM);
}

/* The client address a REQUEST from the parent to a published port's vsock port carries
 * (alcove_abi.h). The monitor is untrusted: anything but exactly one struct alc_tcp_origin of a
 * known family means "no origin", never an error; an AF_INET origin's unused address bytes are
 * cleared. Elsewhere a payload is ignored, as Linux ignores it. */
static bool origin_from(const struct vsock_hdr *h, const uint8_t *payload,
                        struct alc_tcp_origin *out)
{
    if (h->src_cid != ALC_VSOCK_CID_HOST || h->dst_port < ALC_VSOCK_TCP_PORT0 ||
        h->len != sizeof(*out))
        return false;
    memcpy(out, payload, sizeof(*out));
    if (out->family == 2)
        memset(out->addr + 4, 0, sizeof(out->addr) - 4);
    else if (out->family != 10)
        return false;
    return true;
}

/* Logs a published port's client at debug level (docs/networking.md): how the tests see that
 * the address arrived. */
static void origin_log(const struct vsock *c)
{
    const uint8_t *a = c->origin.addr;
    unsigned port = (unsigned)((c->origin.port & 0xff) << 8 | c->origin.port >> 8);
    if (c->origin.family == 2) {
        klog(ALC_LOG_DEBUG, "vsock: port %u: TCP client %u.%u.%u.%u:%u", c->local_port, a[0], a[1],
             a[2], a[3], port);
        return;
    }
    char text[48];
    size_t n = 0;
    for (int i = 0; i < 16; i += 2)
        n += ksnprintf(text + n, sizeof(text) - n, "%s%x", i ? ":" : "",
                       (unsigned)(a[i] << 8 | a[i + 1]));
    klog(ALC_LOG_DEBUG, "vsock: port %u: TCP client [%s]:%u", c->local_port, text, port);
}

int vsock_origin(struct vsock *s, struct alc_tcp_origin *out)
{
    if (!s->has_origin)
        return -ENOENT;
    *out = s->origin;
    return 0;
}

/* A REQUEST to a listening socket: the connection is made at once and waits to be accepted. */
static void rx_request(struct vsock *l, const struct vsock_hdr *h, const uint8_t *payload)
{
    struct vsock *c = l->nqueued > l->backlog ? NULL : vsock_new(l);
    if (!c) {
        vsock_rst(h->dst_port, h->src_port, h->src_cid);
        return;
    }
    c->local_cid = vsock_local_cid();
    c->local_port = h->dst_port;
    c->peer_cid = h->src_cid;
    c->peer_port = h->src_port;
    c->remote = (struct sockaddr_vm){
        .svm_family = AF_VSOCK, .svm_port = h->src_port, .svm_cid = (uint32_t)h->src_cid};
    c->peer_buf_alloc = h->buf_alloc;
    c->peer_fwd_cnt = h->fwd_cnt;
    c->has_origin = origin_from(h, payload, &c->origin);
    if (c->has_origin)
        origin_log(c);
    c->buf_alloc = vsock_ring_size(c);
    c->sk_state = SK_ESTABLISHED;
    c->ss = SS_CONNECTED;
    vsock_conn_insert(c);
    vsock_ctl(c, PEND_RESPONSE, 0);
    if (l->aq_tail)
        l->aq_tail->aq_next = c;
    else
        l->aq_head = c;
    l->aq_tail = c;
    l->nqueued++;
    vsock_notify(l, POLLIN | POLLRDNORM);
}

/* Why a connect was refused: ECONNREFUSED, or for an outbound TCP connection the errno the
 * monitor put in the RST's flags (alcove_abi.h) when it is one a TCP connect may fail with. */
static int rst_errno(const struct vsock *s, const struct vsock_hdr *h)
{
    static const uint16_t known[] = {EACCES,      EPERM,        ECONNREFUSED, ETIMEDOUT,
                                     ENETUNREACH, EHOSTUNREACH, ENETDOWN,     EHOSTDOWN,
                                     ECONNRESET,  EADDRNOTAVAIL};
    if (!s->has_dest)
        return ECONNREFUSED;
    for (unsigned i = 0; i < ARRAY_SIZE(known); i++)
        if (h->flags == known[i])
            return (int)h->flags;
    return ECONNREFUSED;
}

void vsock_rx_packet(const struct vsock_hdr *h, const uint8_t *payload)
{
    if (h->dst_cid != vsock_local_cid() || h->type != TYPE_STREAM) {
        klog(ALC_LOG_DEBUG, "vsock: dropped a packet for CID %lu, type %u", h->dst_cid, h->type);
        return;
    }
    struct vsock *s = vsock_conn_find(h->dst_port, h->src_port);
    if (!s) {
        struct vsock *l = h->op == OP_REQUEST ? vsock_bound_find(h->dst_port) : NULL;
        if (l && l->sk_state == SK_LISTEN)
            rx_request(l, h, payload);
        else if (h->op != OP_RST)
            vsock_rst(h->dst_port, h->src_port, h->src_cid);
        return;
    }
    uint32_t before = vsock_credit(s);
    s->peer_buf_alloc = h->buf_alloc;
    s->peer_fwd_cnt = h->fwd_cnt;
    if (vsock_credit(s) > before)
        vsock_notify(s, POLLOUT | POLLWRNORM);

    if (s->orphan) {
        /* closed here: waiting for the peer to finish */
        if (h->op == OP_RST) {
            vsock_free(s);
        } else if (h->op == OP_SHUTDOWN && ((s->peer_shut | h->flags) & SHUT_BOTH) == SHUT_BOTH) {
            vsock_rst(s->local_port, s->peer_port, s->peer_cid);
            vsock_free(s);
        } else if (h->op == OP_SHUTDOWN) {
            s->peer_shut |= (uint8_t)(h->flags & SHUT_BOTH);
        } else if (h->op == OP_RW) {
            rx_data(s, h, payload);
        }
        return;
    }

    if (s->sk_state == SK_SYN_SENT) {
        if (h->op == OP_RESPONSE) {
            s->sk_state = SK_ESTABLISHED;
            s->ss = SS_CONNECTED;
            vsock_clear_timer(s);
            vsock_notify(s, POLLOUT | POLLWRNORM);
            return;
        }
        /* RST: refused; anything else is a broken peer */
        if (h->op != OP_RST)
            vsock_rst(s->local_port, s->peer_port, s->peer_cid);
        s->err = h->op == OP_RST ? rst_errno(s, h) : EPROTO;
        s->sk_state = SK_CLOSE;
        vsock_clear_timer(s);
        vsock_conn_remove(s);
        vsock_notify(s, 0);
        return;
    }

    switch (h->op) {
    case OP_RW:
        rx_data(s, h, payload);
        break;
    case OP_CREDIT_UPDATE:
        break;
    case OP_CREDIT_REQUEST:
        if (!s->done)
            vsock_ctl(s, PEND_CREDIT, 0);
        break;
    case OP_SHUTDOWN:
        s->peer_shut |= (uint8_t)(h->flags & SHUT_BOTH);
        if (s->peer_shut == SHUT_BOTH && !vsock_rx_avail(s) && !s->done) {
            /* Linux's answer to a peer that is completely done: RST, and the connection is
             * over (reads see the end, writes EPIPE) */
            vsock_rst(s->local_port, s->peer_port, s->peer_cid);
            peer_gone(s, false);
        }
        vsock_notify(s, 0);
        break;
    case OP_RST:
        peer_gone(s, true);
        break;
    default:
        /* REQUEST or RESPONSE on an open connection: ignored, as Linux does */
        break;
    }
}
