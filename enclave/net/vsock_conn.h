/* vsock_conn.h: the enclave's vsock connection core (net/vsock_conn.c: tables, sockets' birth
 * and death, control packets, timers; net/vsock_rx.c: the receive state machine) as the sockets'
 * side (net/vsock.c, net/vsock_io.c, net/vsock_heartbeat.c) uses it. Private to net/vsock*.c.
 *
 * Lifetime: a struct vsock is made by vsock_new and ends with vsock_free (or
 * vsock_reset_and_free, which first sends the peer a RST when the connection is open); while it
 * has a file (s->file), only the file's release frees it. Everything is guarded by the kernel
 * lock; vsock_pump may run at any blocking wait and change any socket's state.
 */
#ifndef ALCOVE_NET_VSOCK_CONN_H
#define ALCOVE_NET_VSOCK_CONN_H

#include "poll.h"
#include "vsock.h"
#include "vsock_virtio.h"
#include "wait.h"

#define NSEC_PER_SEC 1000000000ll

#define TYPE_STREAM VSOCK_TYPE_STREAM
#define SHUT_RCV    1u /* the spec's SHUTDOWN flags, and Linux's RCV_SHUTDOWN/SEND_SHUTDOWN */
#define SHUT_SEND   2u
#define SHUT_BOTH   3u

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

/* ---- net/vsock_conn.c ---- */
struct vsock *vsock_conn_find(uint32_t local_port, uint32_t peer_port);
void vsock_conn_insert(struct vsock *s);
void vsock_conn_remove(struct vsock *s);
struct vsock *vsock_bound_find(uint32_t port);
void vsock_bound_insert(struct vsock *s);
/* the connect timeout (SYN_SENT) or close timeout (orphan) */
void vsock_set_timer(struct vsock *s, int64_t deadline);
void vsock_clear_timer(struct vsock *s);
/* forgets the control packets s owes */
void vsock_pend_remove(struct vsock *s);
/* parent: the listener a connection inherits its vsock options from, or NULL */
struct vsock *vsock_new(const struct vsock *parent);
void vsock_free(struct vsock *s);
/* The receive ring's size for a new connection: the buffer size, within what we allocate. */
uint32_t vsock_ring_size(const struct vsock *s);
void vsock_hdr_fill(struct vsock_hdr *h, struct vsock *s, uint16_t op, uint32_t flags,
                    uint32_t len);
/* Sends what s owes, in order. True when nothing is left owing. */
bool vsock_ctl_flush(struct vsock *s);
/* Owes the peer a control packet (PEND_*); sends it now when nothing else is owed before it. */
void vsock_ctl(struct vsock *s, uint8_t bit, uint32_t shut_flags);
/* A RST for a connection we have no socket for (any more), queued when no buffer is free. */
void vsock_rst(uint32_t local_port, uint32_t peer_port, uint64_t peer_cid);
/* Resets the connection of s and forgets it. */
void vsock_reset_and_free(struct vsock *s);

/* ---- net/vsock.c ---- */
/* The file of s (flags: O_NONBLOCK), which owns it from now on. */
struct file *vsock_file_for(struct vsock *s, uint32_t flags);

static inline void vsock_notify(struct vsock *s, uint32_t key)
{
    if (s->file)
        poll_notify(s->file, key);
}

/* What we may send now: the peer's buffer less what is in flight. */
static inline uint32_t vsock_credit(const struct vsock *s)
{
    uint32_t in_flight = s->tx_cnt - s->peer_fwd_cnt;
    return in_flight >= s->peer_buf_alloc ? 0 : s->peer_buf_alloc - in_flight;
}

static inline uint64_t vsock_rx_avail(const struct vsock *s)
{
    return s->rx_in - s->rx_out;
}

static inline int64_t vsock_deadline_of(int64_t timeo)
{
    return timeo < 0 ? WAIT_FOREVER : time_monotonic_ns() + timeo;
}

#endif
