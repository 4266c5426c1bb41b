/* inet.h: AF_INET and AF_INET6 sockets over the enclave's one interface, loopback, shared by
 * net/inet.c (sockets, addresses, the port table, the socket as a file), net/inet_opt.c (the
 * options of IPPROTO_IP, IPPROTO_IPV6 and IPPROTO_TCP), net/inet_tcp.c (SOCK_STREAM: listeners
 * and connections), net/inet_lo.c (the loopback connection's data path) and net/inet_udp.c
 * (SOCK_DGRAM).
 *
 * The model is Linux's net/ipv4 and net/ipv6 seen from a program on a loopback-only host: the
 * same errnos in the same order, the same poll bits (tcp_poll, udp_poll), the same address
 * lengths (16 and 28), dual stack as Linux (a v6 socket bound to :: also takes v4 unless
 * IPV6_V6ONLY, and sees v4 peers as ::ffff:a.b.c.d). No packets exist: a connect finds the
 * listener in the port table and makes the server's end at once; bytes go from one socket's
 * send straight into its peer's receive queue.
 *
 * Addresses: every socket keeps its local and remote address in IPv6 form (a v4 address as
 * ::ffff:a.b.c.d), its ports in host order, and rcv4, the v4 address Linux's bind conflict
 * check compares (a v6 socket bound to a v6 address other than :: has Linux's sentinel
 * 127.0.0.6 there), so that the port table answers as Linux's inet_bind_conflict and
 * udp_lib_lport_inuse do.
 *
 * The connection seam: a connected TCP socket moves its bytes through its struct tcp_conn_ops
 * (send, receive, readiness, shutdown, close, queue sizes) and nothing else in the family
 * looks at how. Today's only kind is loopback (net/inet_lo.c: the peer is another struct isock
 * in the enclave). A connection that comes from the host through a published port
 * (the parent connects over vsock to ALC_VSOCK_TCP_PORT0 + P, include/abi/alcove_abi.h) will be a
 * struct isock with the listener's local address, the client's address from struct alc_tcp_origin
 * as its remote one, its own tcp_conn_ops over a kernel-internal vsock connection (conn_priv), put
 * in the listener's accept queue with inet_tcp_enqueue_accept: accept, getpeername, options, poll
 * and close then work on it unchanged. The ops keep the common state (state, shut, err) up to date
 * and notify the socket's file (inet_notify) when readiness changes.
 *
 * Lifetime: a struct isock lives while it has references: its file, the peer that points to
 * it (loopback), the listener's accept queue or SYN queue it sits in, and a thread blocked on
 * it (which holds a reference through its file). The port table holds no reference: a socket
 * leaves it when its file is released. Nothing of a socket lives at file scope across a
 * blocking wait; a wait re-checks the socket's state when it wakes, since the peer or the
 * listener may be gone meanwhile. Everything is guarded by the kernel lock.
 */
#ifndef ALCOVE_NET_INET_H
#define ALCOVE_NET_INET_H

#include "socket.h"

#define AF_INET  2
#define AF_INET6 10

#define IPPROTO_IP   0
#define IPPROTO_TCP  6
#define IPPROTO_UDP  17
#define IPPROTO_IPV6 41

#define SIN_LEN          16 /* sizeof(struct sockaddr_in) */
#define SIN6_LEN         28 /* sizeof(struct sockaddr_in6) */
#define SIN6_LEN_RFC2133 24

#define EPHEMERAL_LO 32768 /* net.ipv4.ip_local_port_range */
#define EPHEMERAL_HI 60999
#define PROT_SOCK    1024   /* ports below need CAP_NET_BIND_SERVICE */
#define UDP_MAX_V4   65507  /* 65535 - IPv4 header - UDP header */
#define UDP_MAX_V6   65527  /* 65535 - UDP header (IPv6's payload length excludes its header) */
#define TCP_SNDBUF   16384  /* net.ipv4.tcp_wmem[1] */
#define TCP_RCVBUF   131072 /* net.ipv4.tcp_rmem[1] */
#define RCV_SHUT     1u     /* Linux's RCV_SHUTDOWN and SEND_SHUTDOWN */
#define SEND_SHUT    2u
#define SHUT_MASK    3u

enum { SS_UNCONNECTED = 1, SS_CONNECTING, SS_CONNECTED };

/* TCP states, Linux's numbers (TCP_INFO's tcpi_state) */
enum {
    TCP_ESTABLISHED = 1,
    TCP_SYN_SENT = 2,
    TCP_FIN_WAIT2 = 5,
    TCP_CLOSE = 7,
    TCP_CLOSE_WAIT = 8,
    TCP_LAST_ACK = 9,
    TCP_LISTEN = 10,
};

struct isock;

/* A connected TCP socket's data path (see the seam above). The generic code calls these only
 * on a socket that has them (s->cops), with the kernel lock held; each may block. */
struct tcp_conn_ops {
    /* NULL, or what changed on its own (a connection to the host: the client's end of file, a
     * reset) into the common state; called first by every entry of the generic code */
    void (*sync)(struct isock *s);
    /* bytes sent or -errno (EPIPE raises SIGPIPE unless MSG_NOSIGNAL) */
    long (*sendmsg)(struct isock *s, struct sock_msg *m, int flags);
    long (*recvmsg)(struct isock *s, struct sock_msg *m, int flags);
    /* POLLIN when data waits, POLLOUT when a send would not block (tcp_poll's own bits) */
    bool (*readable)(struct isock *s);
    bool (*writable)(struct isock *s);
    /* the program shut down its sending side: the peer reads end of file after the data */
    void (*send_fin)(struct isock *s);
    /* the socket closes (abort: a reset for the peer, as close with unread data or
     * SO_LINGER 0); the ops give back what they hold */
    void (*close)(struct isock *s, bool abort);
    /* SIOCINQ and SIOCOUTQ */
    uint64_t (*inq)(struct isock *s);
    uint64_t (*outq)(struct isock *s);
};

/* Bytes in a loopback receive queue. */
struct iseg {
    struct iseg *next;
    uint32_t len, off, cap; /* bytes in data; bytes read already; room */
    uint8_t data[];
};

/* A datagram in a UDP receive queue. */
struct idgram {
    struct idgram *next;
    uint32_t len, charge;
    uint8_t from[16]; /* the sender's address, v6 form */
    uint16_t from_port;
    uint8_t data[];
};

struct isock {
    struct file *file; /* NULL for an embryo (not accepted yet) and once closed */
    uint32_t refs;
    uint8_t family, type, state, shut;
    bool dead;        /* closed */
    bool v6only;      /* IPV6_V6ONLY */
    bool port_locked; /* the program bound the port (Linux's SOCK_BINDPORT_LOCK) */
    bool addr_locked; /* ... and the address (SOCK_BINDADDR_LOCK) */
    bool hashed;      /* in the port table */
    uint8_t ss;       /* Linux's socket state: SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED */
    bool fin_in;      /* the peer sent its end (TCP) */
    int err;          /* sk_err, positive */
    uint64_t ino;
    uint32_t uid; /* the owner's effective uid (SO_REUSEPORT matches it) */
    uint8_t laddr[16], raddr[16];
    uint32_t rcv4; /* the v4 address bind conflicts compare (see above) */
    uint16_t lport, rport;
    struct isock *next_port; /* the port table */
    /* TCP listener: the connections not accepted yet, and the connects waiting for room */
    int backlog;
    uint32_t nq;
    struct isock *aq_head, *aq_tail, *aq_next;
    struct isock *sq_head, *sq_tail, *sq_next;
    struct isock *syn_to; /* SYN_SENT: the listener whose SYN queue holds it (a reference) */
    /* TCP listener bound to the wildcard: its AF_VSOCK listener for published connections
     * (net/inet_vsock.c; NULL: none) */
    struct file *published;
    /* TCP connection: the data path, and the loopback kind's state */
    const struct tcp_conn_ops *cops;
    void *conn_priv;
    struct isock *peer; /* loopback: the other end (a reference) */
    struct iseg *rq_head, *rq_tail;
    uint64_t rq_bytes, rq_charge;
    /* UDP: the datagrams received */
    struct idgram *dq_head, *dq_tail;
    uint64_t dq_charge;
    bool has_remote; /* UDP: connected */
    /* UDP: the stream its name lookups go over to the parent (net/inet_dns.c), and the part of
     * a frame read from it */
    struct file *dns;
    uint8_t *dns_buf;
    uint32_t dns_have;
    /* options */
    struct sock_opts o;
    int tos, ttl; /* ttl -1: the default */
    bool nodelay, cork;
    int keepidle, keepintvl, keepcnt, maxseg;
};

extern const struct file_ops g_inet_file_ops;

static inline struct isock *isock_of(struct file *f)
{
    return f && f->ops == &g_inet_file_ops ? f->priv : NULL;
}

/* ---- net/inet.c ---- */
void isock_get(struct isock *s);
void isock_put(struct isock *s);
/* A new socket of this family and type (no file, one reference). */
struct isock *isock_new(int family, int type);
/* A file for s, which takes over the caller's reference (flags: O_NONBLOCK). */
struct file *inet_file_for(struct isock *s, uint32_t flags);
/* Wakes the threads waiting on s's file and marks its epoll items (key: POLL* bits, 0: any). */
void inet_notify(struct isock *s, uint32_t key);
/* wait_until for a socket call: 0, -EAGAIN when the deadline passed, -EINTR or -ERESTARTSYS
 * (timeo < 0: no timeout, so the call restarts) for a signal. */
long inet_wait(bool (*ready)(void *), void *arg, int64_t timeo);
int inet_take_error(struct isock *s);

/* Addresses. A parsed destination or name: v6 form, port in host order. */
struct inet_name {
    uint8_t addr[16];
    uint16_t port;
    bool v4; /* v4 traffic: a v4 address, or a v6 socket's ::ffff:a.b.c.d */
};
bool inet_is_mapped(const uint8_t *a);
bool inet_is_any(const uint8_t *a, bool v4);
bool inet_is_loopback(const uint8_t *a, bool v4);
void inet_set_v4(uint8_t *a, uint32_t be_addr);
/* addr:port (v6 form) as a socket of this family shows it (sockaddr_in, or sockaddr_in6 with
 * a v4 address mapped): its length. */
int inet_put_name(int family, const uint8_t *addr, uint16_t port, void *out);
/* Where a connect or send to n goes, as Linux routes it on loopback: the destination (any
 * becomes loopback), the source address s would use; -ENETUNREACH for anything else. */
int inet_route(const struct isock *s, struct inet_name *n, uint8_t *src);
/* s's local address becomes a (bind, or the source a connect chose; NULL: the wildcard),
 * and rcv4 with it. */
void inet_set_laddr(struct isock *s, const uint8_t *a);
/* s joins the port table on its port. */
void inet_hash(struct isock *s);
/* s takes an ephemeral port when it has none (connect, listen, sendto): 0 or -EAGAIN. */
int inet_autobind(struct isock *s);
/* s leaves the port table (close, or a disconnect of an autobound UDP socket). */
void inet_unhash(struct isock *s);
/* The port table's check for s on its own port again (listen): 0 or -EADDRINUSE. */
int inet_port_conflict(struct isock *s);
/* The socket that takes v4 or v6 traffic to addr:port of this type, best match first as
 * Linux scores them (listeners only for TCP; for UDP a connected socket only from its peer). */
struct isock *inet_lookup(int type, const struct inet_name *dst, const uint8_t *src,
                          uint16_t sport);
/* The process's effective uid, and whether it may bind ports below 1024. */
uint32_t inet_uid(void);

/* ---- net/inet_opt.c: the levels other than SOL_SOCKET (sock_ops.setsockopt/getsockopt) ---- */
int inet_setsockopt(struct file *f, int level, int name, uint64_t uval, int len);
int inet_getsockopt(struct file *f, int level, int name, uint64_t uval, uint64_t ulen);

/* ---- net/inet_tcp.c ---- */
int tcp_listen(struct isock *s, int backlog);
int tcp_connect(struct isock *s, const uint8_t *addr, int len, bool nonblock);
int tcp_accept(struct isock *s, bool nonblock, uint32_t flags, struct file **out);
int tcp_shutdown(struct isock *s, unsigned mode);
long tcp_sendmsg(struct isock *s, struct sock_msg *m, int flags);
long tcp_recvmsg(struct isock *s, struct sock_msg *m, int flags);
uint32_t tcp_poll(struct isock *s);
void tcp_release(struct isock *s);
/* A connection for listener l's accept queue (the seam's way in); l's POLLIN readers wake. */
void inet_tcp_enqueue_accept(struct isock *l, struct isock *c);
/* A new connected socket with what Linux's accepted socket inherits from listener l (options,
 * its port), ESTABLISHED, not in the port table yet; NULL when memory is short. */
struct isock *inet_tcp_child(struct isock *l);
/* l's accept queue has no room (Linux's sk_acceptq_is_full). */
bool inet_tcp_backlog_full(const struct isock *l);
/* What changed on its own, for a connection whose kind has a sync. */
static inline void tcp_sync(struct isock *s)
{
    if (s->cops && s->cops->sync)
        s->cops->sync(s);
}

/* ---- net/inet_vsock.c: connections through published ports ---- */
/* l listens: a wildcard listener gets its AF_VSOCK listener (or a new backlog). */
void inet_vsock_listen(struct isock *l);
/* l stops listening: its AF_VSOCK listener goes, pending connections are reset. */
void inet_vsock_unlisten(struct isock *l);
/* A published connection waits to be moved into l's accept queue. */
bool inet_vsock_pending(struct isock *l);
/* Moves the published connections waiting into l's accept queue while it has room. */
void inet_vsock_drain(struct isock *l);
/* An outbound connect to n, which is not the enclave's (inet_route said ENETUNREACH): s goes
 * SYN_SENT over a vsock connection to the parent, which checks its allowlist and connects
 * (alcove_abi.h); the ops' sync sees the answer. 0, or -errno (ENETUNREACH without vsock). */
int inet_vsock_connect(struct isock *s, const struct inet_name *n);
uint64_t tcp_inq(struct isock *s);
uint64_t tcp_outq(struct isock *s);
/* TCP_INFO's tcpi_state */
int tcp_info_state(const struct isock *s);

/* ---- net/inet_lo.c: the loopback connection ---- */
extern const struct tcp_conn_ops g_tcp_lo_ops;
/* c (connecting) and e (the server's end) become each other's peers, ESTABLISHED. */
void tcp_lo_pair(struct isock *c, struct isock *e);

/* ---- net/inet_udp.c ---- */
int udp_connect(struct isock *s, const uint8_t *addr, int len);
int udp_disconnect(struct isock *s);
long udp_sendmsg(struct isock *s, struct sock_msg *m, int flags);
long udp_recvmsg(struct isock *s, struct sock_msg *m, int flags);
uint32_t udp_poll(struct isock *s);
void udp_release(struct isock *s);
uint64_t udp_inq(struct isock *s);

/* ---- net/inet_dns.c: name lookups through the parent ---- */
/* Sends m, a datagram to port 53 at n outside the enclave, to the parent: m->len or -errno. */
long inet_dns_send(struct isock *s, const struct inet_name *n, struct sock_msg *m);
/* Moves the answers that have come into s's receive queue. */
void inet_dns_pull(struct isock *s);
void inet_dns_release(struct isock *s);

#endif
