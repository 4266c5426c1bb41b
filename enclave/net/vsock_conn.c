/* vsock_conn.c: the enclave's vsock connections as the device sees them: the tables that find a
 * connection from a packet (by local and peer port) and a listener (by local port), the list of
 * every socket, sockets' birth and death, the control packets a connection sends (REQUEST,
 * RESPONSE, CREDIT_UPDATE, SHUTDOWN, RST: at once when a buffer is free, else owed and sent by
 * the pump in order), the connect and close timers, and the exit's wait until the host has
 * taken every byte. The receive side's state machine is net/vsock_rx.c; the application's side
 * (bind, connect, accept, send, receive, close) is net/vsock.c and net/vsock_io.c; all share
 * vsock_conn.h.
 *
 * Connections follow the spec's credit rules: we never have more than
 * peer_buf_alloc - (tx_cnt - peer_fwd_cnt) bytes in flight, and we tell the peer our fwd_cnt in
 * every packet, with a CREDIT_UPDATE of its own when the application has consumed half the ring
 * since the peer last heard (or when it asks). Every packet comes from the device, so a
 * connection is found by (local port, peer port).
 *
 * Lifetime: a struct vsock lives from vsock_new to vsock_free, on g_all throughout; its file
 * (s->file) is the application's reference, and a socket whose file is gone (an orphan closing,
 * a connection never accepted) is freed by the peer's RST, its close timer or its listener's
 * release; a socket that has a file is freed only by the file's release. Everything runs under
 * the kernel lock.
 */
#include "vsock_conn.h"

#include "klib.h"
#include "poll.h"
#include "vsock.h"

#define RST_QUEUE 32

#define DEFAULT_BUFFER     (256u << 10) /* Linux's VSOCK_DEFAULT_BUFFER_SIZE */
#define DEFAULT_BUFFER_MIN 128u
#define DEFAULT_BUFFER_MAX (256u << 10)
#define MAX_RING           (32u << 20)        /* the largest receive ring we allocate */
#define CONNECT_TIMEOUT_NS (2 * NSEC_PER_SEC) /* Linux's VSOCK_DEFAULT_CONNECT_TIMEOUT */
#define EXIT_LINGER_NS     (2 * NSEC_PER_SEC) /* how long an exit waits for the host */

struct rst_req {
    uint32_t local_port, peer_port;
    uint64_t peer_cid;
};

#define CONN_HASH  1024
#define BOUND_HASH 256
static struct vsock *g_conn[CONN_HASH], *g_bound[BOUND_HASH];
static struct vsock *g_all, *g_pend;
static struct rst_req g_rst_q[RST_QUEUE];
static unsigned g_rst_n;
static unsigned g_ntimed;
static int64_t g_next_deadline;
static uint64_t g_next_ino = 0x4000;

/* ---- tables ---- */

static unsigned conn_hash(uint32_t local_port, uint32_t peer_port)
{
    return (local_port * 2654435761u ^ peer_port * 40503u) % CONN_HASH;
}

struct vsock *vsock_conn_find(uint32_t local_port, uint32_t peer_port)
{
    for (struct vsock *s = g_conn[conn_hash(local_port, peer_port)]; s; s = s->cnext)
        if (s->local_port == local_port && s->peer_port == peer_port)
            return s;
    return NULL;
}

void vsock_conn_insert(struct vsock *s)
{
    struct vsock **head = &g_conn[conn_hash(s->local_port, s->peer_port)];
    s->cnext = *head;
    if (*head)
        (*head)->cprev = &s->cnext;
    s->cprev = head;
    *head = s;
    s->in_conn = true;
}

void vsock_conn_remove(struct vsock *s)
{
    if (!s->in_conn)
        return;
    *s->cprev = s->cnext;
    if (s->cnext)
        s->cnext->cprev = s->cprev;
    s->in_conn = false;
}

struct vsock *vsock_bound_find(uint32_t port)
{
    for (struct vsock *s = g_bound[port % BOUND_HASH]; s; s = s->bnext)
        if (s->local_port == port)
            return s;
    return NULL;
}

void vsock_bound_insert(struct vsock *s)
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

void vsock_set_timer(struct vsock *s, int64_t deadline)
{
    if (!s->timed)
        g_ntimed++;
    s->timed = true;
    s->deadline = deadline;
    if (g_ntimed == 1 || deadline < g_next_deadline)
        g_next_deadline = deadline;
}

void vsock_clear_timer(struct vsock *s)
{
    if (s->timed)
        g_ntimed--;
    s->timed = false;
}

void vsock_pend_remove(struct vsock *s)
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

void vsock_free(struct vsock *s)
{
    vsock_conn_remove(s);
    bound_remove(s);
    vsock_clear_timer(s);
    vsock_pend_remove(s);
    *s->aprev = s->anext;
    if (s->anext)
        s->anext->aprev = s->aprev;
    kfree(s->rbuf);
    kfree(s);
}

struct vsock *vsock_new(const struct vsock *parent)
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

/* The receive ring's size for a new connection: the buffer size, within what we allocate. */
uint32_t vsock_ring_size(const struct vsock *s)
{
    uint64_t n = s->o.buffer_size;
    if (n > MAX_RING)
        n = MAX_RING;
    return n ? (uint32_t)n : 1;
}

/* ---- control packets ---- */

void vsock_hdr_fill(struct vsock_hdr *h, struct vsock *s, uint16_t op, uint32_t flags, uint32_t len)
{
    *h = (struct vsock_hdr){
        .src_cid = vsock_local_cid(),
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
    struct txbuf *b = vsock_tx_get(&n);
    if (!b)
        return false;
    struct vsock_hdr h;
    vsock_hdr_fill(&h, s, op, flags, plen);
    memcpy(b->mem, &h, sizeof(h));
    if (plen)
        memcpy(b->mem + HDR_LEN, &s->dest, plen);
    vsock_tx_put(b, HDR_LEN + plen);
    return true;
}

/* Sends what s owes, in order. True when nothing is left owing. */
bool vsock_ctl_flush(struct vsock *s)
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
void vsock_ctl(struct vsock *s, uint8_t bit, uint32_t shut_flags)
{
    s->pend |= bit;
    if (bit == PEND_SHUTDOWN)
        s->pend_shut |= (uint8_t)shut_flags;
    if (vsock_ctl_flush(s) || s->on_pend)
        return;
    s->on_pend = true;
    s->pnext = g_pend;
    g_pend = s;
}

/* A RST for a connection we have no socket for (any more). */
static bool rst_send(uint32_t local_port, uint32_t peer_port, uint64_t peer_cid)
{
    uint32_t n = 0;
    struct txbuf *b = vsock_tx_get(&n);
    if (!b)
        return false;
    struct vsock_hdr h = {
        .src_cid = vsock_local_cid(),
        .dst_cid = peer_cid,
        .src_port = local_port,
        .dst_port = peer_port,
        .type = TYPE_STREAM,
        .op = OP_RST,
    };
    memcpy(b->mem, &h, sizeof(h));
    vsock_tx_put(b, HDR_LEN);
    return true;
}

void vsock_rst(uint32_t local_port, uint32_t peer_port, uint64_t peer_cid)
{
    if (g_rst_n == 0 && rst_send(local_port, peer_port, peer_cid))
        return;
    if (g_rst_n < RST_QUEUE)
        g_rst_q[g_rst_n++] = (struct rst_req){local_port, peer_port, peer_cid};
    else
        klog(ALC_LOG_WARN, "vsock: no buffer for a RST to port %u", peer_port);
}

/* Resets the connection of s and forgets it. */
void vsock_reset_and_free(struct vsock *s)
{
    if (s->in_conn && !s->done)
        vsock_rst(s->local_port, s->peer_port, s->peer_cid);
    vsock_free(s);
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
        if (!vsock_ctl_flush(s)) {
            pp = &s->pnext;
            continue;
        }
        *pp = s->pnext;
        s->on_pend = false;
    }
}

/* ---- timers ---- */

static void run_timers(void)
{
    int64_t now = time_monotonic_ns(), next = INT64_MAX;
    struct vsock *s = g_all;
    while (s) {
        struct vsock *n = s->anext;
        if (s->timed) {
            if (now >= s->deadline) {
                if (s->orphan) {
                    vsock_reset_and_free(s);
                } else if (s->sk_state == SK_SYN_SENT) {
                    /* a non-blocking connect that got no answer */
                    s->sk_state = SK_CLOSE;
                    s->ss = SS_UNCONNECTED;
                    s->err = ETIMEDOUT;
                    vsock_clear_timer(s);
                    vsock_conn_remove(s);
                    vsock_notify(s, 0);
                } else {
                    vsock_clear_timer(s);
                }
            } else if (s->deadline < next) {
                next = s->deadline;
            }
        }
        s = n;
    }
    g_next_deadline = next;
}

void vsock_conn_service(void)
{
    if (g_pend || g_rst_n)
        flush_pending();
    if (g_ntimed && time_monotonic_ns() >= g_next_deadline)
        run_timers();
}

/* ---- the program's exit ---- */

/* Whether the peer has taken all we sent on s (its fwd_cnt: the bytes the host socket took). */
static bool acked(const struct vsock *s)
{
    return !s->in_conn || s->done || (s->sk_state != SK_ESTABLISHED && s->sk_state != SK_CLOSING) ||
           s->tx_cnt == s->peer_fwd_cnt;
}

static bool all_delivered(void)
{
    vsock_pump();
    if (vsock_tx_busy() || g_pend || g_rst_n)
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
    if (!vsock_present())
        return;
    vsock_pump();
    for (struct vsock *s = g_all; s; s = s->anext)
        if (!acked(s) && !s->pend)
            ctl_send(s, OP_CREDIT_REQUEST, 0);
    vsock_tx_kick();
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
