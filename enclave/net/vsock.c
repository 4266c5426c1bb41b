/* vsock.c: the virtio-vsock driver (virtio 1.2 section 5.10) and AF_VSOCK stream sockets on top
 * of it (see vsock.h for the conventions and docs/vsock.md for the device's contract).
 *
 * The device: queues rx (0) and tx (1); the event queue (2) is left unset (docs/vsock.md). RX_BUFS
 * device-writable buffers of a header and 64 KiB sit in the rx queue; a received packet's payload
 * is copied into its socket's receive ring at once and the buffer goes straight back, so a socket
 * that is not read never holds the device's buffers (flow control is the credit we advertise: the
 * ring's size). Sent packets are built in kernel buffers (TX_SMALL small ones for control packets
 * and small writes, TX_BIG of 64 KiB for the rest: about 1 MiB in flight at most), taken back when
 * the device has used them. There are no interrupts: vsock_pump, run at every socket operation
 * and by wait_until for waiters of ALC_EV_VIRTIO(slot), clears the event bit and then processes
 * the used rings, and notifies the device only when it asks for it (virtq_kick).
 *
 * Connections follow the spec's credit rules: we never have more than
 * peer_buf_alloc - (tx_cnt - peer_fwd_cnt) bytes in flight, and we tell the peer our fwd_cnt in
 * every packet, with a CREDIT_UPDATE of its own when the application has consumed half the ring
 * since the peer last heard (or when it asks). Every packet comes from the device, so a
 * connection is found by (local port, peer port). The socket model (sock->state, sk_state,
 * shutdown bits, SO_ERROR) is Linux's af_vsock.c, so that programs see its errnos in its order.
 */
#include "vsock.h"

#include "exe.h"
#include "klib.h"
#include "poll.h"
#include "signal.h"
#include "syscall.h"
#include "vfs.h"
#include "virtio.h"
#include "wait.h"

#define SLOT ALC_VIRTIO_SLOT_VSOCK
#define EV   ALC_EV_VIRTIO(ALC_VIRTIO_SLOT_VSOCK)

enum { Q_RX = 0, Q_TX = 1 };

#define RX_QUEUE_SIZE    64
#define TX_QUEUE_SIZE    256
#define RX_BUFS          32
#define RX_BOOT_BUFS     2
#define HDR_LEN          44u
#define PKT_MAX          (64u << 10)
#define BUF_LEN          (HDR_LEN + PKT_MAX)
#define TX_SMALL         64
#define TX_SMALL_LEN     256u
#define TX_SMALL_PAYLOAD (TX_SMALL_LEN - HDR_LEN)
#define TX_BIG           16
#define RST_QUEUE        32

#define DEFAULT_BUFFER     (256u << 10) /* Linux's VSOCK_DEFAULT_BUFFER_SIZE */
#define DEFAULT_BUFFER_MIN 128u
#define DEFAULT_BUFFER_MAX (256u << 10)
#define MAX_RING           (32u << 20) /* the largest receive ring we allocate */
#define NSEC_PER_SEC       1000000000ll
#define CONNECT_TIMEOUT_NS (2 * NSEC_PER_SEC) /* Linux's VSOCK_DEFAULT_CONNECT_TIMEOUT */
#define CLOSE_TIMEOUT_NS   (8 * NSEC_PER_SEC) /* Linux's VSOCK_CLOSE_TIMEOUT */
#define EXIT_LINGER_NS     (2 * NSEC_PER_SEC) /* how long an exit waits for the host */
#define LAST_RESERVED_PORT 1023u
#define MAX_PORT_RETRIES   24

#define TYPE_STREAM VSOCK_TYPE_STREAM
#define SHUT_RCV    1u /* the spec's SHUTDOWN flags, and Linux's RCV_SHUTDOWN/SEND_SHUTDOWN */
#define SHUT_SEND   2u
#define SHUT_BOTH   3u

_Static_assert(sizeof(struct vsock_hdr) == HDR_LEN, "virtio_vsock_hdr");

/* Linux's sk_state values that matter here, and its socket->state */
enum { SK_CLOSE, SK_SYN_SENT, SK_ESTABLISHED, SK_LISTEN, SK_CLOSING };
enum { SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED, SS_DISCONNECTING };

/* control packets a socket owes the peer (sent in this order when buffers come back) */
#define PEND_REQUEST  1u
#define PEND_RESPONSE 2u
#define PEND_CREDIT   4u
#define PEND_SHUTDOWN 8u

struct vsock {
    struct file *file; /* NULL for connections not yet accepted and for closed ones */
    uint64_t ino;
    uint8_t sk_state, ss;
    uint8_t shut;      /* local shutdown (SHUT_RCV | SHUT_SEND) */
    uint8_t peer_shut; /* the peer's */
    uint8_t shut_sent; /* SHUTDOWN flags sent (or owed) */
    bool done;         /* the connection is over: the peer reset it or we did */
    bool reset;        /* ... by the peer's RST */
    bool bound, in_conn, orphan, timed, on_pend;
    int err; /* sk_err, positive */
    uint32_t local_cid, local_port;
    uint32_t peer_port;
    uint64_t peer_cid;         /* on the wire */
    struct sockaddr_vm remote; /* for getpeername, as connect() was given it */
    /* receive ring: [rx_out, rx_in) of the stream; rbuf is allocated at the first data */
    uint8_t *rbuf;
    uint32_t buf_alloc; /* its size, as advertised */
    uint64_t rx_in, rx_out;
    uint32_t fwd_sent; /* the fwd_cnt the peer last heard */
    /* the peer's credit */
    uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
    uint8_t pend, pend_shut;
    /* listening */
    int backlog, nqueued;
    struct vsock *aq_head, *aq_tail, *aq_next;
    int64_t deadline; /* connect timeout (SYN_SENT) or close timeout (orphan) */
    struct vsock_opts o;
    struct vsock *cnext, **cprev; /* connection table */
    struct vsock *bnext, **bprev; /* bound table */
    struct vsock *anext, **aprev; /* every socket */
    struct vsock *pnext;          /* owing control packets */
    /* a published TCP port's connection: the client's address, from the REQUEST's payload */
    bool has_origin;
    struct alc_tcp_origin origin;
    /* an outbound TCP connection (vsock_connect_out): the destination its REQUEST carries */
    bool has_dest;
    struct alc_tcp_origin dest;
};

struct rxbuf {
    uint8_t *mem;
};
struct txbuf {
    uint8_t *mem;
    uint32_t cap;
    struct txbuf *next;
};
struct rst_req {
    uint32_t local_port, peer_port;
    uint64_t peer_cid;
};

static struct virtio_dev g_dev;
static struct virtq g_q[2];
static bool g_present, g_in_pump;
static uint32_t g_cid = VMADDR_CID_ANY;
static struct rxbuf g_rx[RX_BUFS];
static unsigned g_rx_made;
static struct txbuf g_tx_small[TX_SMALL], g_tx_big[TX_BIG];
static struct txbuf *g_small_free, *g_big_free;
static unsigned g_big_made, g_tx_busy;
static bool g_tx_dirty, g_rx_dirty;

#define CONN_HASH  1024
#define BOUND_HASH 256
static struct vsock *g_conn[CONN_HASH], *g_bound[BOUND_HASH];
static struct vsock *g_all, *g_pend;
static struct rst_req g_rst_q[RST_QUEUE];
static unsigned g_rst_n;
static unsigned g_ntimed;
static int64_t g_next_deadline;
static uint32_t g_next_port;
static uint64_t g_next_ino = 0x4000;

static const struct file_ops g_sock_ops;

bool vsock_present(void)
{
    return g_present;
}

uint32_t vsock_local_cid(void)
{
    return g_cid;
}

/* ---- tables ---- */

static unsigned conn_hash(uint32_t local_port, uint32_t peer_port)
{
    return (local_port * 2654435761u ^ peer_port * 40503u) % CONN_HASH;
}

static struct vsock *conn_find(uint32_t local_port, uint32_t peer_port)
{
    for (struct vsock *s = g_conn[conn_hash(local_port, peer_port)]; s; s = s->cnext)
        if (s->local_port == local_port && s->peer_port == peer_port)
            return s;
    return NULL;
}

static void conn_insert(struct vsock *s)
{
    struct vsock **head = &g_conn[conn_hash(s->local_port, s->peer_port)];
    s->cnext = *head;
    if (*head)
        (*head)->cprev = &s->cnext;
    s->cprev = head;
    *head = s;
    s->in_conn = true;
}

static void conn_remove(struct vsock *s)
{
    if (!s->in_conn)
        return;
    *s->cprev = s->cnext;
    if (s->cnext)
        s->cnext->cprev = s->cprev;
    s->in_conn = false;
}

static struct vsock *bound_find(uint32_t port)
{
    for (struct vsock *s = g_bound[port % BOUND_HASH]; s; s = s->bnext)
        if (s->local_port == port)
            return s;
    return NULL;
}

static void bound_insert(struct vsock *s)
{
    struct vsock **head = &g_bound[s->local_port % BOUND_HASH];
    s->bnext = *head;
    if (*head)
        (*head)->bprev = &s->bnext;
    s->bprev = head;
    *head = s;
    s->bound = true;
}

static void bound_remove(struct vsock *s)
{
    if (!s->bound)
        return;
    *s->bprev = s->bnext;
    if (s->bnext)
        s->bnext->bprev = s->bprev;
    s->bound = false;
}

static void set_timer(struct vsock *s, int64_t deadline)
{
    if (!s->timed)
        g_ntimed++;
    s->timed = true;
    s->deadline = deadline;
    if (g_ntimed == 1 || deadline < g_next_deadline)
        g_next_deadline = deadline;
}

static void clear_timer(struct vsock *s)
{
    if (s->timed)
        g_ntimed--;
    s->timed = false;
}

static void pend_remove(struct vsock *s)
{
    if (!s->on_pend)
        return;
    for (struct vsock **pp = &g_pend; *pp; pp = &(*pp)->pnext)
        if (*pp == s) {
            *pp = s->pnext;
            break;
        }
    s->on_pend = false;
    s->pend = 0;
}

static void sock_free(struct vsock *s)
{
    conn_remove(s);
    bound_remove(s);
    clear_timer(s);
    pend_remove(s);
    *s->aprev = s->anext;
    if (s->anext)
        s->anext->aprev = s->aprev;
    kfree(s->rbuf);
    kfree(s);
}

static struct vsock *sock_new(const struct vsock *parent)
{
    struct vsock *s = kzalloc(sizeof(*s));
    if (!s)
        return NULL;
    s->ino = g_next_ino++;
    s->local_cid = s->local_port = VMADDR_CID_ANY;
    s->remote = (struct sockaddr_vm){
        .svm_family = AF_VSOCK, .svm_port = VMADDR_PORT_ANY, .svm_cid = VMADDR_CID_ANY};
    s->o = (struct vsock_opts){
        .buffer_size = DEFAULT_BUFFER,
        .buffer_min = DEFAULT_BUFFER_MIN,
        .buffer_max = DEFAULT_BUFFER_MAX,
        .connect_timeout_ns = CONNECT_TIMEOUT_NS,
    };
    sock_opts_init(&s->o.sk);
    if (parent) {
        /* what Linux's connections inherit from their listener: the vsock options only */
        s->o.buffer_size = parent->o.buffer_size;
        s->o.buffer_min = parent->o.buffer_min;
        s->o.buffer_max = parent->o.buffer_max;
        s->o.connect_timeout_ns = parent->o.connect_timeout_ns;
    }
    s->anext = g_all;
    if (g_all)
        g_all->aprev = &s->anext;
    s->aprev = &g_all;
    g_all = s;
    return s;
}

static void notify(struct vsock *s, uint32_t key)
{
    if (s->file)
        poll_notify(s->file, key);
}

static uint32_t credit(const struct vsock *s)
{
    uint32_t in_flight = s->tx_cnt - s->peer_fwd_cnt;
    return in_flight >= s->peer_buf_alloc ? 0 : s->peer_buf_alloc - in_flight;
}

static uint64_t rx_avail(const struct vsock *s)
{
    return s->rx_in - s->rx_out;
}

/* The receive ring's size for a new connection: the buffer size, within what we allocate. */
static uint32_t ring_size(const struct vsock *s)
{
    uint64_t n = s->o.buffer_size;
    if (n > MAX_RING)
        n = MAX_RING;
    return n ? (uint32_t)n : 1;
}

/* ---- transmit buffers ---- */

static void tx_release(struct txbuf *b)
{
    if (b->cap == TX_SMALL_LEN) {
        b->next = g_small_free;
        g_small_free = b;
    } else {
        b->next = g_big_free;
        g_big_free = b;
    }
}

static void tx_reclaim(void)
{
    uint32_t len;
    struct txbuf *b;
    while ((b = virtq_get_used(&g_q[Q_TX], &len))) {
        bool small = b >= g_tx_small && b < g_tx_small + TX_SMALL;
        if (!small && !(b >= g_tx_big && b < g_tx_big + TX_BIG))
            kpanic("virtio-vsock: tx cookie %p is not ours", (void *)b);
        tx_release(b);
        g_tx_busy--;
    }
}

/* Whether a buffer for a packet is to be had now (after tx_reclaim). */
static bool tx_avail(void)
{
    return g_q[Q_TX].num_free > 0 && (g_small_free || g_big_free || g_big_made < TX_BIG);
}

/* A buffer for a packet with up to *payload bytes; *payload shrinks to what fits. Small
 * packets take small buffers while there are any. */
static struct txbuf *tx_get(uint32_t *payload)
{
    if (g_q[Q_TX].num_free == 0 || (!g_small_free && !g_big_free))
        tx_reclaim();
    if (g_q[Q_TX].num_free == 0)
        return NULL;
    struct txbuf *b = NULL;
    if (*payload <= TX_SMALL_PAYLOAD && g_small_free) {
        b = g_small_free;
        g_small_free = b->next;
        return b;
    }
    if (!g_big_free && g_big_made < TX_BIG) {
        uint8_t *mem = kmalloc(BUF_LEN);
        if (mem) {
            g_tx_big[g_big_made] = (struct txbuf){mem, BUF_LEN, NULL};
            tx_release(&g_tx_big[g_big_made++]);
        }
    }
    if (g_big_free) {
        b = g_big_free;
        g_big_free = b->next;
        if (*payload > PKT_MAX)
            *payload = PKT_MAX;
    } else if (g_small_free) {
        b = g_small_free;
        g_small_free = b->next;
        *payload = TX_SMALL_PAYLOAD;
    }
    return b;
}

static void tx_put(struct txbuf *b, uint32_t len)
{
    struct virtq_buf vb = {b->mem, len};
    if (virtq_add(&g_q[Q_TX], &vb, 1, 0, b))
        kpanic("virtio-vsock: no tx descriptor after a check");
    g_tx_busy++;
    g_tx_dirty = true;
}

static void tx_kick(void)
{
    if (g_tx_dirty) {
        g_tx_dirty = false;
        virtq_kick(&g_q[Q_TX]);
    }
}

static void hdr_fill(struct vsock_hdr *h, struct vsock *s, uint16_t op, uint32_t flags,
                     uint32_t len)
{
    *h = (struct vsock_hdr){
        .src_cid = g_cid,
        .dst_cid = s->peer_cid,
        .src_port = s->local_port,
        .dst_port = s->peer_port,
        .len = len,
        .type = TYPE_STREAM,
        .op = op,
        .flags = flags,
        .buf_alloc = s->buf_alloc,
        .fwd_cnt = (uint32_t)s->rx_out,
    };
    /* fwd_sent moves only with CREDIT_UPDATE: a peer may take the credit in other packets'
     * headers as news without acting on it */
    if (op == OP_CREDIT_UPDATE)
        s->fwd_sent = (uint32_t)s->rx_out;
}

static bool ctl_send(struct vsock *s, uint16_t op, uint32_t flags)
{
    /* an outbound TCP connection's REQUEST carries its destination (alcove_abi.h) */
    uint32_t plen = op == OP_REQUEST && s->has_dest ? (uint32_t)sizeof(s->dest) : 0;
    uint32_t n = plen;
    struct txbuf *b = tx_get(&n);
    if (!b)
        return false;
    struct vsock_hdr h;
    hdr_fill(&h, s, op, flags, plen);
    memcpy(b->mem, &h, sizeof(h));
    if (plen)
        memcpy(b->mem + HDR_LEN, &s->dest, plen);
    tx_put(b, HDR_LEN + plen);
    return true;
}

/* Sends what s owes, in order. True when nothing is left owing. */
static bool ctl_flush(struct vsock *s)
{
    static const struct {
        uint8_t bit;
        uint16_t op;
    } order[] = {{PEND_REQUEST, OP_REQUEST},
                 {PEND_RESPONSE, OP_RESPONSE},
                 {PEND_CREDIT, OP_CREDIT_UPDATE},
                 {PEND_SHUTDOWN, OP_SHUTDOWN}};
    for (unsigned i = 0; i < ARRAY_SIZE(order) && s->pend; i++) {
        if (!(s->pend & order[i].bit))
            continue;
        if (!ctl_send(s, order[i].op, order[i].bit == PEND_SHUTDOWN ? s->pend_shut : 0))
            return false;
        s->pend &= (uint8_t)~order[i].bit;
    }
    return true;
}

/* Owes the peer a control packet; sends it now when nothing else is owed before it. */
static void ctl(struct vsock *s, uint8_t bit, uint32_t shut_flags)
{
    s->pend |= bit;
    if (bit == PEND_SHUTDOWN)
        s->pend_shut |= (uint8_t)shut_flags;
    if (ctl_flush(s) || s->on_pend)
        return;
    s->on_pend = true;
    s->pnext = g_pend;
    g_pend = s;
}

/* A RST for a connection we have no socket for (any more). */
static bool rst_send(uint32_t local_port, uint32_t peer_port, uint64_t peer_cid)
{
    uint32_t n = 0;
    struct txbuf *b = tx_get(&n);
    if (!b)
        return false;
    struct vsock_hdr h = {
        .src_cid = g_cid,
        .dst_cid = peer_cid,
        .src_port = local_port,
        .dst_port = peer_port,
        .type = TYPE_STREAM,
        .op = OP_RST,
    };
    memcpy(b->mem, &h, sizeof(h));
    tx_put(b, HDR_LEN);
    return true;
}

static void rst(uint32_t local_port, uint32_t peer_port, uint64_t peer_cid)
{
    if (g_rst_n == 0 && rst_send(local_port, peer_port, peer_cid))
        return;
    if (g_rst_n < RST_QUEUE)
        g_rst_q[g_rst_n++] = (struct rst_req){local_port, peer_port, peer_cid};
    else
        klog(ALC_LOG_WARN, "vsock: no buffer for a RST to port %u", peer_port);
}

/* Resets the connection of s and forgets it. */
static void reset_and_free(struct vsock *s)
{
    if (s->in_conn && !s->done)
        rst(s->local_port, s->peer_port, s->peer_cid);
    sock_free(s);
}

static void flush_pending(void)
{
    unsigned k = 0;
    while (k < g_rst_n &&
           rst_send(g_rst_q[k].local_port, g_rst_q[k].peer_port, g_rst_q[k].peer_cid))
        k++;
    if (k) {
        memmove(g_rst_q, g_rst_q + k, (g_rst_n - k) * sizeof(g_rst_q[0]));
        g_rst_n -= k;
    }
    struct vsock **pp = &g_pend;
    while (*pp) {
        struct vsock *s = *pp;
        if (!ctl_flush(s)) {
            pp = &s->pnext;
            continue;
        }
        *pp = s->pnext;
        s->on_pend = false;
    }
}

/* ---- receive ---- */

static void enter_closing(struct vsock *s)
{
    if (s->sk_state == SK_ESTABLISHED && !rx_avail(s))
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
    notify(s, 0);
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
            rst(s->local_port, s->peer_port, s->peer_cid);
            s->err = ENOMEM;
            peer_gone(s, false);
            conn_remove(s);
            return;
        }
    }
    if (h->len > s->buf_alloc - rx_avail(s)) {
        klog(ALC_LOG_WARN, "vsock: the peer of port %u overran its credit", s->local_port);
        rst(s->local_port, s->peer_port, s->peer_cid);
        peer_gone(s, true);
        conn_remove(s);
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
    notify(s, POLLIN | POLLRDNORM);
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
    struct vsock *c = l->nqueued > l->backlog ? NULL : sock_new(l);
    if (!c) {
        rst(h->dst_port, h->src_port, h->src_cid);
        return;
    }
    c->local_cid = g_cid;
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
    c->buf_alloc = ring_size(c);
    c->sk_state = SK_ESTABLISHED;
    c->ss = SS_CONNECTED;
    conn_insert(c);
    ctl(c, PEND_RESPONSE, 0);
    if (l->aq_tail)
        l->aq_tail->aq_next = c;
    else
        l->aq_head = c;
    l->aq_tail = c;
    l->nqueued++;
    notify(l, POLLIN | POLLRDNORM);
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

static void rx_packet(const struct vsock_hdr *h, const uint8_t *payload)
{
    if (h->dst_cid != g_cid || h->type != TYPE_STREAM) {
        klog(ALC_LOG_DEBUG, "vsock: dropped a packet for CID %lu, type %u", h->dst_cid, h->type);
        return;
    }
    struct vsock *s = conn_find(h->dst_port, h->src_port);
    if (!s) {
        struct vsock *l = h->op == OP_REQUEST ? bound_find(h->dst_port) : NULL;
        if (l && l->sk_state == SK_LISTEN)
            rx_request(l, h, payload);
        else if (h->op != OP_RST)
            rst(h->dst_port, h->src_port, h->src_cid);
        return;
    }
    uint32_t before = credit(s);
    s->peer_buf_alloc = h->buf_alloc;
    s->peer_fwd_cnt = h->fwd_cnt;
    if (credit(s) > before)
        notify(s, POLLOUT | POLLWRNORM);

    if (s->orphan) {
        /* closed here: waiting for the peer to finish */
        if (h->op == OP_RST) {
            sock_free(s);
        } else if (h->op == OP_SHUTDOWN && ((s->peer_shut | h->flags) & SHUT_BOTH) == SHUT_BOTH) {
            rst(s->local_port, s->peer_port, s->peer_cid);
            sock_free(s);
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
            clear_timer(s);
            notify(s, POLLOUT | POLLWRNORM);
            return;
        }
        /* RST: refused; anything else is a broken peer */
        if (h->op != OP_RST)
            rst(s->local_port, s->peer_port, s->peer_cid);
        s->err = h->op == OP_RST ? rst_errno(s, h) : EPROTO;
        s->sk_state = SK_CLOSE;
        clear_timer(s);
        conn_remove(s);
        notify(s, 0);
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
            ctl(s, PEND_CREDIT, 0);
        break;
    case OP_SHUTDOWN:
        s->peer_shut |= (uint8_t)(h->flags & SHUT_BOTH);
        if (s->peer_shut == SHUT_BOTH && !rx_avail(s) && !s->done) {
            /* Linux's answer to a peer that is completely done: RST, and the connection is
             * over (reads see the end, writes EPIPE) */
            rst(s->local_port, s->peer_port, s->peer_cid);
            peer_gone(s, false);
        }
        notify(s, 0);
        break;
    case OP_RST:
        peer_gone(s, true);
        break;
    default:
        /* REQUEST or RESPONSE on an open connection: ignored, as Linux does */
        break;
    }
}

static void rx_post(struct rxbuf *b)
{
    struct virtq_buf vb = {b->mem, BUF_LEN};
    if (virtq_add(&g_q[Q_RX], &vb, 0, 1, b))
        kpanic("virtio-vsock: no rx descriptor for a buffer");
    g_rx_dirty = true;
}

static void rx_process(void)
{
    uint32_t len;
    struct rxbuf *b;
    while ((b = virtq_get_used(&g_q[Q_RX], &len))) {
        if (b < g_rx || b >= g_rx + RX_BUFS)
            kpanic("virtio-vsock: rx cookie %p is not ours", (void *)b);
        if (len < HDR_LEN)
            kpanic("virtio-vsock: an rx packet of %u bytes, less than its header", len);
        struct vsock_hdr h;
        memcpy(&h, b->mem, sizeof(h));
        if (h.len > len - HDR_LEN)
            kpanic("virtio-vsock: an rx packet says %u payload bytes of %u", h.len, len - HDR_LEN);
        rx_packet(&h, b->mem + HDR_LEN);
        rx_post(b); /* straight back: the payload has been copied */
    }
}

static void run_timers(void)
{
    int64_t now = time_monotonic_ns(), next = INT64_MAX;
    struct vsock *s = g_all;
    while (s) {
        struct vsock *n = s->anext;
        if (s->timed) {
            if (now >= s->deadline) {
                if (s->orphan) {
                    reset_and_free(s);
                } else if (s->sk_state == SK_SYN_SENT) {
                    /* a non-blocking connect that got no answer */
                    s->sk_state = SK_CLOSE;
                    s->ss = SS_UNCONNECTED;
                    s->err = ETIMEDOUT;
                    clear_timer(s);
                    conn_remove(s);
                    notify(s, 0);
                } else {
                    clear_timer(s);
                }
            } else if (s->deadline < next) {
                next = s->deadline;
            }
        }
        s = n;
    }
    g_next_deadline = next;
}

void vsock_pump(void)
{
    if (!g_present || g_in_pump)
        return;
    g_in_pump = true;
    virtio_event_clear(SLOT); /* before looking: what the device uses later wakes the next wait */
    tx_reclaim();
    rx_process();
    if (g_pend || g_rst_n)
        flush_pending();
    if (g_ntimed && time_monotonic_ns() >= g_next_deadline)
        run_timers();
    if (g_rx_dirty) {
        g_rx_dirty = false;
        virtq_kick(&g_q[Q_RX]); /* an exit only when the device ran out of buffers */
    }
    tx_kick();
    g_in_pump = false;
}

/* ---- the device ---- */

/* Adds rx buffers until the queue holds want of them (or memory runs out). */
static void rx_grow(unsigned want)
{
    want = MIN(want, MIN((unsigned)RX_BUFS, (unsigned)g_q[Q_RX].size));
    while (g_rx_made < want) {
        uint8_t *mem = kmalloc(BUF_LEN);
        if (!mem) {
            klog(ALC_LOG_WARN, "vsock: no memory for more rx buffers (%u)", g_rx_made);
            break;
        }
        g_rx[g_rx_made].mem = mem;
        rx_post(&g_rx[g_rx_made++]);
    }
    if (g_rx_dirty && g_present) {
        g_rx_dirty = false;
        virtq_kick(&g_q[Q_RX]);
    }
}

int vsock_init(void)
{
    int err = virtio_probe(&g_dev, SLOT, VIRTIO_ID_VSOCK);
    if (err) {
        if (err != -ENODEV)
            klog(ALC_LOG_ERROR, "virtio-vsock: the device refused the driver (%d)", err);
        return -ENODEV;
    }
    uint64_t cid = virtio_config_read(&g_dev, 0, 8);
    if (cid <= VMADDR_CID_HOST || cid >= VMADDR_CID_ANY) {
        klog(ALC_LOG_ERROR, "virtio-vsock: the device gave CID %lu", cid);
        return -ENODEV;
    }
    /* the event queue (2) carries only transport resets, which a monitor that never migrates
     * does not send: it is left unset, which saves its ~7 register exits at boot */
    if (virtio_queue_setup(&g_dev, &g_q[Q_RX], Q_RX, RX_QUEUE_SIZE) ||
        virtio_queue_setup(&g_dev, &g_q[Q_TX], Q_TX, TX_QUEUE_SIZE)) {
        klog(ALC_LOG_ERROR, "virtio-vsock: cannot set the queues up");
        return -ENODEV;
    }
    uint8_t *small = kalloc_zeroed(TX_SMALL * TX_SMALL_LEN);
    if (!small)
        return -ENOMEM;
    for (unsigned i = 0; i < TX_SMALL; i++) {
        g_tx_small[i] = (struct txbuf){small + i * TX_SMALL_LEN, TX_SMALL_LEN, NULL};
        tx_release(&g_tx_small[i]);
    }
    g_cid = (uint32_t)cid;
    /* a few rx buffers for the heartbeat; the rest when the application makes a socket. No
     * notification before DRIVER_OK: the device looks at its queues when it starts */
    rx_grow(RX_BOOT_BUFS);
    if (g_boot->flags & ALC_BOOT_FAULT_VIRTQ)
        virtq_fault_last(&g_q[Q_RX], g_boot->mem_size + ALC_PAGE_SIZE); /* see the tests */
    g_rx_dirty = false;
    virtio_driver_ok(&g_dev);
    virtio_set_service(SLOT, vsock_pump);
    g_present = true;
    return 0;
}

/* Whether the peer has taken all we sent on s (its fwd_cnt: the bytes the host socket took). */
static bool acked(const struct vsock *s)
{
    return !s->in_conn || s->done || (s->sk_state != SK_ESTABLISHED && s->sk_state != SK_CLOSING) ||
           s->tx_cnt == s->peer_fwd_cnt;
}

static bool all_delivered(void)
{
    vsock_pump();
    if (g_tx_busy || g_pend || g_rst_n)
        return false;
    for (struct vsock *s = g_all; s; s = s->anext)
        if (!acked(s))
            return false;
    return true;
}

/* Linux delivers what a closed socket still holds after the process has gone; here the
 * enclave ends with the program, so the program's exit waits (a while) until the device has
 * taken every packet and the peer has confirmed every byte (its fwd_cnt, asked for with
 * CREDIT_REQUEST), which means the host socket holds it. */
void vsock_exit_flush(void)
{
    if (!g_present)
        return;
    vsock_pump();
    for (struct vsock *s = g_all; s; s = s->anext)
        if (!acked(s) && !s->pend)
            ctl_send(s, OP_CREDIT_REQUEST, 0);
    tx_kick();
    int64_t end = time_monotonic_ns() + EXIT_LINGER_NS;
    while (!all_delivered()) {
        int64_t now = time_monotonic_ns();
        if (now >= end) {
            klog(ALC_LOG_WARN, "vsock: the program ended with data the host has not taken");
            return;
        }
        hc_wait(EV, (uint64_t)(end - now));
    }
}

/* ---- user buffers ---- */

/* ---- socket operations ---- */

int vsock_addr_check(const void *addr, int len, struct sockaddr_vm *out)
{
    if (len < (int)sizeof(*out))
        return -EINVAL;
    memcpy(out, addr, sizeof(*out));
    if (out->svm_family != AF_VSOCK || (out->svm_flags & ~VMADDR_FLAG_TO_HOST))
        return -EINVAL;
    return 0;
}

static int do_bind(struct vsock *s, uint32_t cid, uint32_t port)
{
    if (port == VMADDR_PORT_ANY) {
        if (!g_next_port) {
            uint32_t r = 0;
            random_fill(&r, sizeof(r));
            g_next_port = r > LAST_RESERVED_PORT ? r : LAST_RESERVED_PORT + 1 + r;
        }
        bool found = false;
        for (int i = 0; i < MAX_PORT_RETRIES && !found; i++) {
            if (g_next_port <= LAST_RESERVED_PORT || g_next_port == VMADDR_PORT_ANY)
                g_next_port = LAST_RESERVED_PORT + 1;
            port = g_next_port++;
            found = !bound_find(port);
        }
        if (!found)
            return -EADDRNOTAVAIL;
    } else if (bound_find(port)) {
        return -EADDRINUSE;
    }
    s->local_cid = cid;
    s->local_port = port;
    bound_insert(s);
    return 0;
}

int vsock_bind(struct vsock *s, const struct sockaddr_vm *a)
{
    vsock_pump();
    if (s->bound || s->local_port != VMADDR_PORT_ANY)
        return -EINVAL;
    if (a->svm_cid != VMADDR_CID_ANY && a->svm_cid != g_cid)
        return -EADDRNOTAVAIL;
    return do_bind(s, a->svm_cid, a->svm_port);
}

int vsock_listen(struct vsock *s, int backlog)
{
    if (s->ss != SS_UNCONNECTED || !s->bound)
        return -EINVAL;
    s->backlog = backlog;
    s->sk_state = SK_LISTEN;
    return 0;
}

static bool connect_decided(void *arg)
{
    return ((struct vsock *)arg)->sk_state != SK_SYN_SENT;
}

static void connect_abort(struct vsock *s)
{
    s->sk_state = SK_CLOSE;
    s->ss = SS_UNCONNECTED;
    clear_timer(s);
    pend_remove(s);
    conn_remove(s);
}

int vsock_connect(struct vsock *s, const void *addr, int len, bool nonblock)
{
    vsock_pump();
    switch (s->ss) {
    case SS_CONNECTED:
        return -EISCONN;
    case SS_DISCONNECTING:
        return -EINVAL;
    case SS_CONNECTING:
        if (nonblock)
            return -EALREADY;
        break;
    default: {
        struct sockaddr_vm a;
        if (s->sk_state == SK_LISTEN || vsock_addr_check(addr, len, &a))
            return -EINVAL;
        if (a.svm_cid == VMADDR_CID_LOCAL)
            return -ENODEV; /* no loopback transport */
        if (!s->bound) {
            int err = do_bind(s, VMADDR_CID_ANY, VMADDR_PORT_ANY);
            if (err)
                return err;
        }
        s->remote = a;
        s->peer_cid = a.svm_cid == VMADDR_CID_HOST ? ALC_VSOCK_CID_HOST : a.svm_cid;
        s->peer_port = a.svm_port;
        if (conn_find(s->local_port, s->peer_port))
            return -EADDRNOTAVAIL; /* the same pair is still closing */
        s->err = 0;
        s->done = s->reset = false;
        s->shut = s->peer_shut = s->shut_sent = 0;
        s->buf_alloc = ring_size(s);
        s->rx_in = s->rx_out = 0;
        s->fwd_sent = 0;
        s->tx_cnt = s->peer_buf_alloc = s->peer_fwd_cnt = 0;
        s->sk_state = SK_SYN_SENT;
        conn_insert(s);
        ctl(s, PEND_REQUEST, 0);
        tx_kick();
        s->ss = SS_CONNECTING;
        int64_t t = s->o.connect_timeout_ns;
        set_timer(s, time_monotonic_ns() + t);
        if (nonblock)
            return -EINPROGRESS;
    }
    }
    int r = wait_until(connect_decided, s, EV, s->timed ? s->deadline : WAIT_FOREVER);
    if (s->sk_state == SK_ESTABLISHED)
        return 0;
    if (r == -EINTR) {
        connect_abort(s);
        return -EINTR;
    }
    if (s->sk_state == SK_SYN_SENT) {
        connect_abort(s);
        return -ETIMEDOUT;
    }
    s->ss = SS_UNCONNECTED;
    return s->err ? -s->err : -ECONNRESET;
}

int vsock_connect_out(struct vsock *s, const struct alc_tcp_origin *dest, int64_t timeout_ns)
{
    struct sockaddr_vm a = {
        .svm_family = AF_VSOCK, .svm_port = ALC_VSOCK_TCP_OUT_PORT, .svm_cid = ALC_VSOCK_CID_HOST};
    s->has_dest = true;
    s->dest = *dest;
    s->o.connect_timeout_ns = timeout_ns;
    int err = vsock_connect(s, &a, sizeof(a), true);
    return err == -EINPROGRESS ? 0 : err;
}

int vsock_connect_result(struct vsock *s)
{
    vsock_pump();
    if (s->sk_state == SK_SYN_SENT)
        return -EINPROGRESS;
    if (s->ss == SS_CONNECTED || s->sk_state == SK_ESTABLISHED || s->sk_state == SK_CLOSING)
        return 0;
    return s->err ? -s->err : -ECONNRESET;
}

static bool accept_ready(void *arg)
{
    struct vsock *s = arg;
    return s->aq_head || s->err || s->sk_state != SK_LISTEN;
}

static int64_t deadline_of(int64_t timeo)
{
    return timeo < 0 ? WAIT_FOREVER : time_monotonic_ns() + timeo;
}

static struct file *file_for(struct vsock *s, uint32_t flags)
{
    struct file *f = kzalloc(sizeof(*f));
    if (!f)
        return NULL;
    *f = (struct file){.ops = &g_sock_ops, .flags = O_RDWR | (flags & O_NONBLOCK), .priv = s};
    s->file = f;
    return f;
}

int vsock_accept(struct vsock *l, bool nonblock, uint32_t flags, struct file **out)
{
    vsock_pump();
    if (l->sk_state != SK_LISTEN)
        return -EINVAL;
    int64_t timeo = nonblock ? 0 : l->o.sk.rcvtimeo_ns;
    int64_t deadline = deadline_of(timeo);
    while (!l->aq_head) {
        if (timeo == 0)
            return -EAGAIN;
        int r = wait_until(accept_ready, l, EV, deadline);
        if (r == -EINTR)
            return timeo < 0 ? -ERESTARTSYS : -EINTR;
        if (r == -ETIMEDOUT)
            return -EAGAIN;
        if (l->sk_state != SK_LISTEN)
            return -EINVAL;
    }
    struct vsock *c = l->aq_head;
    struct file *f = file_for(c, flags);
    if (!f)
        return -ENFILE;
    l->aq_head = c->aq_next;
    if (!l->aq_head)
        l->aq_tail = NULL;
    c->aq_next = NULL;
    l->nqueued--;
    *out = f;
    return 0;
}

static bool send_ready(void *arg)
{
    struct vsock *s = arg;
    return s->err || (s->shut & SHUT_SEND) || (s->peer_shut & SHUT_RCV) ||
           s->sk_state != SK_ESTABLISHED || (credit(s) > 0 && tx_avail() && !s->pend);
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
    int64_t deadline = deadline_of(timeo);
    while (done < total) {
        if (s->pend && !s->done)
            ctl_flush(s);
        if (!send_ready(s)) {
            if (timeo == 0) {
                err = -EAGAIN;
                break;
            }
            tx_kick();
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
        uint32_t chunk = (uint32_t)MIN(total - done, (size_t)credit(s));
        struct txbuf *b = tx_get(&chunk);
        if (!b)
            continue; /* send_ready said yes: cannot happen */
        long r = sock_io_copy(io, b->mem + HDR_LEN, chunk, false);
        if (r) {
            tx_release(b);
            err = r;
            break;
        }
        struct vsock_hdr h;
        hdr_fill(&h, s, OP_RW, 0, chunk);
        memcpy(b->mem, &h, sizeof(h));
        tx_put(b, HDR_LEN + chunk);
        s->tx_cnt += chunk;
        done += chunk;
    }
    tx_kick();
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
    return rx_avail(s) || s->err || (s->shut & SHUT_RCV) || (s->peer_shut & SHUT_SEND) ||
           (s->sk_state != SK_ESTABLISHED && s->sk_state != SK_CLOSING);
}

/* The application consumed data: tell the peer when it has half the ring to gain. */
static void consumed(struct vsock *s)
{
    if (!s->done && s->in_conn && (uint32_t)s->rx_out - s->fwd_sent >= s->buf_alloc / 2)
        ctl(s, PEND_CREDIT, 0);
    if (s->sk_state == SK_ESTABLISHED && s->done && !rx_avail(s))
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
    int64_t deadline = deadline_of(timeo);
    size_t copied = 0;
    long err = 0;
    for (;;) {
        if (!rx_avail(s)) {
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
        size_t n = (size_t)MIN(rx_avail(s), (uint64_t)(total - copied));
        long r = rx_copy(s, io, n, flags & MSG_PEEK);
        if (r) {
            err = r;
            break;
        }
        copied += n;
        if ((flags & MSG_PEEK) || copied >= target)
            break;
    }
    tx_kick();
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

int vsock_shutdown(struct vsock *s, int how)
{
    unsigned mode = (unsigned)how + 1;
    if ((mode & ~SHUT_BOTH) || !mode)
        return -EINVAL;
    vsock_pump();
    if (s->ss == SS_UNCONNECTED)
        return -ENOTCONN;
    s->ss = SS_DISCONNECTING;
    s->shut |= (uint8_t)mode;
    if (s->sk_state == SK_ESTABLISHED && !s->done) {
        s->shut_sent |= (uint8_t)mode;
        ctl(s, PEND_SHUTDOWN, mode);
        tx_kick();
    }
    notify(s, 0);
    return 0;
}

int vsock_getname(struct vsock *s, bool peer, struct sockaddr_vm *out)
{
    if (peer) {
        if (s->ss != SS_CONNECTED)
            return -ENOTCONN;
        *out = s->remote;
        return 0;
    }
    *out = (struct sockaddr_vm){
        .svm_family = AF_VSOCK, .svm_port = s->local_port, .svm_cid = s->local_cid};
    return 0;
}

struct vsock_opts *vsock_opts(struct vsock *s)
{
    return &s->o;
}

int vsock_take_error(struct vsock *s)
{
    vsock_pump();
    int e = s->err;
    s->err = 0;
    return e;
}

bool vsock_listening(struct vsock *s)
{
    return s->sk_state == SK_LISTEN;
}

/* ---- the socket as a file ---- */

struct vsock *vsock_of(struct file *f)
{
    return f && f->ops == &g_sock_ops ? f->priv : NULL;
}

static long sock_read(struct file *f, void *buf, size_t len)
{
    struct linux_iovec v = {(uint64_t)buf, len};
    struct sock_io io = {.iov = &v, .cnt = 1};
    return vsock_recv(f->priv, &io, len, (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0);
}

static long sock_write(struct file *f, const void *buf, size_t len)
{
    struct linux_iovec v = {(uint64_t)buf, len};
    struct sock_io io = {.iov = &v, .cnt = 1};
    return vsock_send(f->priv, &io, len, (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0, false);
}

static uint32_t sock_poll(struct file *f)
{
    return vsock_poll_bits(f->priv);
}

uint64_t vsock_queued(struct vsock *s, bool out)
{
    vsock_pump();
    return out ? (uint64_t)(s->tx_cnt - s->peer_fwd_cnt) : rx_avail(s);
}

void vsock_abort(struct vsock *s)
{
    vsock_pump();
    if (s->in_conn && !s->done) {
        rst(s->local_port, s->peer_port, s->peer_cid);
        s->done = true;
        conn_remove(s);
        tx_kick();
    }
}

/* Linux's vsock_poll. */
uint32_t vsock_poll_bits(struct vsock *s)
{
    vsock_pump();
    uint32_t m = 0;
    if (s->err)
        m |= POLLERR;
    if (s->shut == SHUT_BOTH || ((s->shut & SHUT_SEND) && (s->peer_shut & SHUT_SEND)) || s->reset)
        m |= POLLHUP;
    if ((s->shut & SHUT_RCV) || (s->peer_shut & SHUT_SEND))
        m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (s->sk_state == SK_LISTEN && s->aq_head)
        m |= POLLIN | POLLRDNORM;
    if ((s->sk_state == SK_ESTABLISHED || s->sk_state == SK_CLOSING) && !(s->shut & SHUT_RCV) &&
        rx_avail(s) >= (uint64_t)MAX(s->o.sk.rcvlowat, 1))
        m |= POLLIN | POLLRDNORM;
    if (s->sk_state == SK_ESTABLISHED && !(s->shut & SHUT_SEND) && credit(s) > 0 && tx_avail())
        m |= POLLOUT | POLLWRNORM;
    if ((s->sk_state == SK_CLOSE || s->sk_state == SK_CLOSING) && !(s->shut & SHUT_SEND))
        m |= POLLOUT | POLLWRNORM;
    return m;
}

static int sock_stat(struct file *f, struct linux_stat *st)
{
    sock_fill_stat(st, ((struct vsock *)f->priv)->ino);
    return 0;
}

static long sock_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    struct vsock *s = f->priv;
    int n;
    vsock_pump();
    switch (cmd) {
    case SIOCINQ:
        if (s->sk_state == SK_LISTEN)
            return -EINVAL;
        n = (int)MIN(rx_avail(s), (uint64_t)INT32_MAX);
        break;
    case SIOCOUTQ:
        if (s->sk_state == SK_LISTEN)
            return -EINVAL;
        n = (int)(s->tx_cnt - s->peer_fwd_cnt);
        break;
    default:
        return -ENOTTY;
    }
    return copy_to_user(arg, &n, sizeof(n)) ? -EFAULT : 0;
}

static long sock_name(struct file *f, char *buf, size_t size)
{
    return ksnprintf(buf, size, "socket:[%lu]", ((struct vsock *)f->priv)->ino);
}

/* The last close: the connection is shut down both ways and forgotten once the peer answers
 * with its RST (or after CLOSE_TIMEOUT_NS, with ours); connections never accepted are reset. */
static void sock_release(struct file *f)
{
    struct vsock *s = f->priv;
    kfree(f);
    s->file = NULL;
    vsock_pump();
    while (s->aq_head) {
        struct vsock *c = s->aq_head;
        s->aq_head = c->aq_next;
        reset_and_free(c);
    }
    if (s->sk_state == SK_SYN_SENT) {
        reset_and_free(s); /* closed while connecting: the peer forgets the request at once */
    } else if ((s->sk_state == SK_ESTABLISHED || s->sk_state == SK_CLOSING) && !s->done &&
               s->in_conn) {
        if (s->peer_shut == SHUT_BOTH) {
            reset_and_free(s);
        } else {
            /* as Linux: SHUTDOWN both ways unless the program shut something down itself
             * (then the peer's answer to that ends the connection) */
            if (!s->shut_sent)
                ctl(s, PEND_SHUTDOWN, SHUT_BOTH);
            s->shut = s->shut_sent = SHUT_BOTH;
            s->orphan = true;
            kfree(s->rbuf);
            s->rbuf = NULL;
            set_timer(s, time_monotonic_ns() + CLOSE_TIMEOUT_NS);
        }
    } else {
        sock_free(s);
    }
    tx_kick();
}

static const struct file_ops g_sock_ops = {
    .read = sock_read,
    .write = sock_write,
    .poll = sock_poll,
    .wake_events = EV,
    .stat = sock_stat,
    .ioctl = sock_ioctl,
    .name = sock_name,
    .release = sock_release,
    .sock = &g_vsock_sock_ops,
};

struct file *vsock_socket_file(uint32_t flags)
{
    rx_grow(RX_BUFS);
    struct vsock *s = sock_new(NULL);
    if (!s)
        return NULL;
    struct file *f = file_for(s, flags);
    if (!f)
        sock_free(s);
    return f;
}

/* ---- /dev/vsock ---- */

static long vdev_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    (void)f;
    if (cmd != IOCTL_VM_SOCKETS_GET_LOCAL_CID)
        return -ENOTTY;
    uint32_t cid = g_cid;
    return copy_to_user(arg, &cid, sizeof(cid)) ? -EFAULT : 0;
}

const struct file_ops g_vsock_dev_ops = {
    .ioctl = vdev_ioctl,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};

/* ---- the heartbeat ---- */

static struct file *g_hb;

int vsock_heartbeat_begin(void)
{
    if (!g_present)
        return -ENODEV;
    struct vsock *s = sock_new(NULL);
    g_hb = s ? file_for(s, 0) : NULL;
    if (!g_hb) {
        if (s)
            sock_free(s);
        return -ENOMEM;
    }
    struct sockaddr_vm a = {.svm_family = AF_VSOCK,
                            .svm_port = ALC_VSOCK_HEARTBEAT_PORT,
                            .svm_cid = ALC_VSOCK_CID_HOST};
    /* the deadline starts now: as long as the monitor itself waits (a loaded host is slow) */
    s->o.connect_timeout_ns = (int64_t)ALC_HEARTBEAT_TIMEOUT_S * NSEC_PER_SEC;
    int err = vsock_connect(s, &a, sizeof(a), true);
    return err == -EINPROGRESS ? 0 : err;
}

int vsock_heartbeat_end(void)
{
    if (!g_hb)
        return -ENODEV;
    struct vsock *s = g_hb->priv;
    struct sockaddr_vm a = s->remote;
    uint8_t b = ALC_VSOCK_HEARTBEAT_BYTE;
    struct linux_iovec v = {(uint64_t)&b, 1};
    struct sock_io io = {.iov = &v, .cnt = 1};
    long err = vsock_connect(s, &a, sizeof(a), false); /* waits for the answer */
    if (err == -EISCONN)
        err = 0;
    if (!err) {
        long n = vsock_send(s, &io, 1, MSG_NOSIGNAL, false);
        err = n == 1 ? 0 : n < 0 ? n : -EIO;
    }
    if (!err) {
        b = 0;
        io = (struct sock_io){.iov = &v, .cnt = 1};
        s->o.sk.rcvtimeo_ns = (int64_t)ALC_HEARTBEAT_TIMEOUT_S * NSEC_PER_SEC;
        long n = vsock_recv(s, &io, 1, 0);
        err = n == 1 ? (b == ALC_VSOCK_HEARTBEAT_BYTE ? 0 : -EPROTO) : n < 0 ? n : -ECONNRESET;
    }
    file_discard(g_hb);
    g_hb = NULL;
    return (int)err;
}
