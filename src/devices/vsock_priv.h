/* vsock_priv.h: what the files of the virtio-vsock device share (docs/vsock.md): the device's
 * state, its connections and the functions between them.
 *   vsock.c       the device, the guest's tx and rx queues, the thread, start and stop;
 *   vsock_conn.c  the connection table, the work list of connections owing the guest a packet;
 *   vsock_host.c  the host side: listening sockets, CONNECT lines, host socket events, connects
 *                 for the guest;
 *   vsock_tcp.c   published ports: TCP listeners whose connections become host connections;
 *   vsock_out.c   outbound TCP connections under the operator's allowlist;
 *   vsock_dns.c   name lookups from the guest, answered from the allowlist's zone.
 * Everything here runs on the device's one thread (vsock_start and vsock_stop aside).
 *
 * A host connection is a host socket: a client of the hybrid socket after its CONNECT line, a
 * client of a published TCP port (tcp: set, origin sent with its REQUEST), or the guest's
 * connection to "<uds>_P". Once open, all move data the same way. */
#ifndef ALCOVE_VSOCK_PRIV_H
#define ALCOVE_VSOCK_PRIV_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/alcove_abi.h"
#include "abi/virtio.h"
#include "common/dns_answer.h"
#include "common/outbound.h"
#include "common/publish.h"
#include "devices/out_policy.h"
#include "devices/virtqueue.h"
#include "devices/vsock_line.h"

#define VSOCK_QUEUE_SIZE 256
#define VSOCK_BUF_ALLOC  (256u << 10) /* the credit we give the guest, per connection */
#define VSOCK_MAX_CONNS  1023         /* every connection, host clients included */
/* Connections with no host descriptor (a RST's throwaway one, the heartbeat) may go this far past
 * VSOCK_MAX_CONNS: a guest whose host peers hold every slot still gets its answers. */
#define VSOCK_NOFD_EXTRA 64u
/* The guest's connections to host listeners ("<uds>_P"): at most this many, and no more than
 * its memory buys at VSOCK_GUEST_CONN_COST each (so what a guest can make the host hold in
 * socket buffers for listeners that do not read is about its own size), but never fewer than
 * VSOCK_MIN_GUEST_CONNS. Beyond it the guest's REQUEST is answered with a RST. */
#define VSOCK_MAX_GUEST_CONNS 256
#define VSOCK_MIN_GUEST_CONNS 128
#define VSOCK_GUEST_SNDBUF    (64u << 10) /* SO_SNDBUF (the kernel doubles it) */
#define VSOCK_GUEST_CONN_COST (2 * VSOCK_GUEST_SNDBUF + VSOCK_BUF_ALLOC)
/* A host client that has not sent its whole CONNECT line this long after it connected is
 * closed (as Firecracker times out its handshakes); one that closes before it sent the line is
 * freed at once. */
#define VSOCK_LINE_TIMEOUT_MS 5000
#define VSOCK_RETRY_MS        200         /* listening again after running out of descriptors */
#define VSOCK_MAX_PAYLOAD     (64u << 10) /* per rx packet */
#define VSOCK_HOST_PORT0      (1u << 30)  /* host ports of host-initiated connections */
#define HASH_SIZE             1024

enum { Q_RX = 0, Q_TX = 1, Q_EVENT = 2 };

#define TYPE_STREAM    VSOCK_TYPE_STREAM
#define SHUTDOWN_RCV   VSOCK_SHUTDOWN_RCV
#define SHUTDOWN_SEND  VSOCK_SHUTDOWN_SEND
#define CID_HOST_ALIAS 2u /* virtio's "host" CID: treated as the parent too */

enum tag { TAG_CONN, TAG_LISTEN, TAG_TCP, TAG_KICK, TAG_STOP, TAG_DNS };

enum conn_state {
    C_LINE,             /* a host client connected; its CONNECT line has not arrived */
    C_GUEST_CONNECTING, /* REQUEST sent (or queued) to the guest for a host client */
    C_HOST_CONNECTING,  /* the guest asked; our connect() to "<uds>_P" is in progress */
    C_OPEN,
    C_HEARTBEAT, /* the guest's connection to port 9000, answered here */
};

/* control packets a connection owes the guest */
#define CTRL_REQUEST  1u
#define CTRL_RESPONSE 2u
#define CTRL_SHUTDOWN 4u
#define CTRL_CREDIT   8u
#define CTRL_ECHO     16u
#define CTRL_RST      32u /* last: the connection is freed once it is sent */

struct conn {
    enum tag tag; /* first: the epoll cookie */
    enum conn_state state;
    int fd;
    uint32_t guest_port, host_port;
    struct conn *hnext;         /* hash chain */
    struct conn *wnext;         /* work list */
    struct conn *anext, *aprev; /* every connection */
    bool in_hash, in_work;
    char line[VSOCK_LINE_MAX];
    uint32_t ctrl;
    bool host_readable;   /* the socket may have data (edge seen, EAGAIN not yet) */
    bool host_eof;        /* the host will send nothing more */
    bool guest_shut_send; /* the guest will send nothing more */
    bool guest_shut_rcv;  /* the guest will receive nothing more */
    bool draining; /* the guest closed; what it sent is still going to the host, then a RST */
    uint32_t peer_buf_alloc, peer_fwd_cnt; /* the guest's credit */
    uint32_t tx_cnt;                       /* payload bytes sent to the guest */
    uint32_t fwd_cnt, fwd_cnt_told;        /* guest bytes written to the host, and what it knows */
    uint8_t *pend;                         /* guest bytes the host socket has not taken yet */
    size_t pend_len, pend_off;
    uint8_t echo;
    bool tcp;                     /* a client of a published TCP port */
    struct alc_tcp_origin origin; /* tcp: its address, the payload of our REQUEST */
    bool guest_made;              /* the guest's connection to a host listener */
    bool out;                     /* an outbound TCP connection (vsock_out.c) */
    bool out_connecting;          /* ... whose connect is under way (line_deadline_ms: its end) */
    int rst_errno;                /* the errno our RST carries in its flags (0: none) */
    int64_t line_deadline_ms;     /* C_LINE: when the client's time for its line is up */
};

/* A published TCP port's listening socket. */
struct tcp_listener {
    enum tag tag; /* first: the epoll cookie (TAG_TCP) */
    int fd;
    uint32_t guest_port; /* ALC_VSOCK_TCP_PORT0 + the enclave's TCP port */
};

struct vsock {
    struct vm *vm;
    struct virtio_dev *dev;
    uint64_t config_cid; /* config space: le64 guest_cid */
    uint32_t cid;
    char uds[PATH_MAX];
    int listen_fd, kick_fd, stop_fd, ep;
    enum tag listen_tag, kick_tag, stop_tag;
    pthread_t thread;
    bool thread_started;
    bool running; /* the driver said DRIVER_OK */
    struct conn *hash[HASH_SIZE];
    struct conn *work_head, *work_tail;
    struct conn *all;
    unsigned nconns;
    unsigned nguest, max_guest; /* the guest's connections to host listeners, and their cap */
    unsigned nline;             /* host clients whose CONNECT line has not come yet */
    int64_t sweep_ms;           /* when the next timer check is due (0: none pending) */
    bool cap_logged;            /* the guest's cap was reported */
    uint32_t next_host_port;
    bool used_any;      /* used buffers pushed since the last signal */
    bool listen_paused; /* out of descriptors or connections: no listener is polled */
    bool rx_starved;    /* work waits for rx buffers */
    struct tcp_listener tcp[PUBLISH_MAX]; /* published ports */
    unsigned ntcp;
    /* outbound connections and name lookups: the addresses the rules allow and the zone,
     * resolved again every period (out_policy.h; NULL without rules) */
    struct out_policy *policy;
    unsigned nout_connecting;
    /* the name-lookup streams' peers */
    struct dns_peer *dns_peers;
    bool dns_warned; /* a bad frame or a short write was logged (once) */
};

/* The device's state, made by the first of vsock_publish, vsock_allow and vsock_start. */
struct vsock *vsock_state(struct vm *vm);

/* ---- connections (vsock_conn.c) ---- */

struct conn *conn_find(struct vsock *vs, uint32_t guest_port, uint32_t host_port);
void conn_hash_add(struct vsock *vs, struct conn *c);
/* A new connection on the host socket fd (-1: none), in the epoll set; NULL over the cap or out
 * of memory (fd is then the caller's). */
struct conn *conn_new(struct vsock *vs, enum conn_state state, int fd);
void conn_free(struct vsock *vs, struct conn *c);
void work_remove(struct vsock *vs, struct conn *c);
uint32_t guest_credit(const struct conn *c);
bool conn_has_work(const struct conn *c);
void conn_update(struct vsock *vs, struct conn *c);
void conn_ctrl(struct vsock *vs, struct conn *c, uint32_t bits);
void conn_reset(struct vsock *vs, struct conn *c, bool tell_guest);
void reply_rst(struct vsock *vs, uint32_t guest_port, uint32_t host_port);
/* The same with an errno in the RST's flags (an outbound connect's failure). */
void reply_rst_errno(struct vsock *vs, uint32_t guest_port, uint32_t host_port, int err);

/* ---- the host side (vsock_host.c) ---- */

int flush_pending(struct vsock *vs, struct conn *c);
void guest_request(struct vsock *vs, const struct vsock_hdr *h);
void host_accept(struct vsock *vs);
void host_event(struct vsock *vs, struct conn *c, uint32_t events);
int listen_unix(const char *path);
/* A host port for a connection to guest_port that the host starts (>= VSOCK_HOST_PORT0). */
uint32_t host_port_for(struct vsock *vs, uint32_t guest_port);
/* Stops polling every listening socket (out of descriptors or connections), or resumes. */
void listeners_pause(struct vsock *vs);
void listeners_resume(struct vsock *vs);
/* Closes the host clients that are late with their CONNECT line and listens again where a
 * pause may be over; returns the epoll timeout (ms) to the next check, or timeout when sooner
 * (-1: no check pending). */
int host_timers(struct vsock *vs, int timeout);
int64_t vsock_now_ms(void);

/* ---- published TCP ports (vsock_tcp.c) ---- */

/* Listens on each port (bound now: a port in use fails the launch). 0, or an alcove error code
 * (reported); what was opened stays in vs for tcp_close. */
int tcp_listen_all(struct vsock *vs, const struct publish_port *ports, unsigned n);
/* Adds the listeners to the epoll set. 0 or -1 (errno). */
int tcp_watch(struct vsock *vs);
void tcp_accept(struct vsock *vs, struct tcp_listener *l);
/* The guest refused a TCP client's connection: the client sees a reset, not an end of file. */
void tcp_refused(struct conn *c);
void tcp_close(struct vsock *vs);

/* ---- outbound connections (vsock_out.c) ---- */

/* The guest's REQUEST to ALC_VSOCK_TCP_OUT_PORT with its payload (len bytes). */
void out_request(struct vsock *vs, const struct vsock_hdr *h, const void *payload, uint32_t len);
/* c's connect is over (done, failed or timed out): it leaves the count of those under way. */
void out_settled(struct vsock *vs, struct conn *c);

/* ---- name lookups (vsock_dns.c) ---- */

struct dns_peer;
/* A socket pair for a guest's DNS stream: the end for its host connection, or -1 (errno). */
int dns_open(struct vsock *vs);
/* The device thread's end has frames (or the stream ended). */
void dns_event(struct vsock *vs, struct dns_peer *p);
/* Closes every DNS peer (vsock_stop). */
void dns_close_all(struct vsock *vs);

#endif
