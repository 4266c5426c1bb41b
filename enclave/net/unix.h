/* unix.h: AF_UNIX sockets, shared by net/unix.c (sockets, names, connections, readiness,
 * options) and net/unix_msg.c (messages: sending, receiving, descriptors and credentials in
 * flight, and the collection of sockets only messages in flight keep alive).
 *
 * The model is Linux's af_unix.c, so that programs see its errnos in its order: a socket's
 * messages wait in the receiver's queue; each is charged to its sender's SO_SNDBUF until it is
 * read (the only bound on a connection's memory, as on Linux); a datagram socket that others
 * send to without being its peer holds at most MAX_DGRAM_QLEN + 1 of their messages. A stream
 * connect makes the server's end at once (an embryo in the listener's accept queue, with no
 * file until accept), so the client may write before the server accepts.
 *
 * Lifetime: a struct usock lives while it has references: its file, the peer that points to
 * it, the listener's accept queue, and every message it sent that is still queued somewhere.
 * Everything is guarded by the kernel lock; a blocked thread holds a reference on what it
 * waits for.
 */
#ifndef ALCOVE_NET_UNIX_H
#define ALCOVE_NET_UNIX_H

#include "socket.h"

#define UNIX_PATH_OFF  2   /* offsetof(struct sockaddr_un, sun_path) */
#define UNIX_ADDR_MAX  110 /* sizeof(struct sockaddr_un) */
#define MAX_DGRAM_QLEN 10  /* net.unix.max_dgram_qlen */
#define SCM_MAX_FD     253
#define RCV_SHUT       1u /* Linux's RCV_SHUTDOWN and SEND_SHUTDOWN */
#define SEND_SHUT      2u
#define SHUT_MASK      3u

enum { US_UNCONNECTED, US_LISTEN, US_CONNECTED };

struct usock;

/* A message (a datagram, or a piece of a stream) in a receive queue. */
struct umsg {
    struct umsg *next;
    struct usock *from; /* the sender (a reference): its name, its SO_SNDBUF charge */
    uint32_t len, off;  /* data bytes; bytes of it already read (streams) */
    uint32_t charge;    /* what it counts in from->wmem */
    struct linux_ucred cred;
    uint32_t nfiles;
    struct file **files; /* SCM_RIGHTS: a reference on each, in flight */
    uint8_t data[];
};

struct usock {
    struct file *file; /* NULL for an embryo (not accepted yet) and once closed */
    uint32_t refs;
    uint8_t type, state, shut;
    bool dead; /* closed: Linux's SOCK_DEAD */
    int err;   /* sk_err, positive */
    uint64_t ino;
    int addrlen; /* 0: no name */
    uint8_t addr[UNIX_ADDR_MAX + 1];
    struct inode *path; /* the inode of the path it is bound to (a reference) */
    struct usock *peer; /* a reference */
    struct umsg *rq_head, *rq_tail;
    uint32_t rq_len;                           /* messages queued */
    uint64_t rq_bytes;                         /* bytes not read yet */
    uint64_t wmem;                             /* bytes of its messages that others have not read */
    int backlog;                               /* listening */
    struct usock *aq_head, *aq_tail, *aq_next; /* a listener's embryos */
    uint32_t nq;
    uint32_t inflight; /* messages in flight that carry its file */
    bool abstract;     /* owns its abstract name (an accepted socket shows its listener's) */
    bool has_peercred, gc_cand, gc_reach;
    struct linux_ucred peercred;
    struct sock_opts o;
    struct usock *next_all, **prev_all; /* the sockets that have a file */
};

extern const struct file_ops g_unix_file_ops;

static inline struct usock *usock_of(struct file *f)
{
    return f && f->ops == &g_unix_file_ops ? f->priv : NULL;
}

void usock_get(struct usock *s);
void usock_put(struct usock *s);
/* Wakes the threads waiting on s's file and marks its epoll items (key: POLL* bits, 0: any). */
void unix_notify(struct usock *s, uint32_t key);
/* wait_until for a socket call: 0, -EAGAIN when the deadline passed, -EINTR or -ERESTARTSYS
 * (timeo < 0: no timeout, so the call restarts) for a signal. */
long unix_wait(bool (*ready)(void *), void *arg, int64_t timeo);
/* SO_ERROR's value, cleared. */
int unix_take_error(struct usock *s);
/* The process's credentials: effective ids (SO_PEERCRED) or real ones (SCM_CREDENTIALS). */
struct linux_ucred unix_cred(bool effective);
/* The socket named addr (len bytes, checked, as bind left the buffer) of this type, with a
 * reference: 0, or -ENOENT ... -EACCES, -ECONNREFUSED, -EPROTOTYPE as Linux's unix_find_other. */
int unix_find_other(uint8_t *addr, int len, int type, struct usock **out);
/* Checks a name of bind or connect (Linux's unix_validate_addr, unix_mkname_bsd): the length
 * Linux stores for it, or -EINVAL. addr has room for a NUL after len bytes. */
int unix_name_check(uint8_t *addr, int len);
int unix_autobind(struct usock *s);
/* s stops being connected to its datagram peer (reconnect, or the peer is gone). */
void unix_dgram_disconnect(struct usock *s);
/* The sockets whose peer is s may have become writable (datagram queues). */
void unix_wake_senders(struct usock *s);

/* ---- net/unix_msg.c ---- */
long unix_stream_sendmsg(struct file *f, struct sock_msg *m, int flags);
long unix_stream_recvmsg(struct file *f, struct sock_msg *m, int flags);
long unix_dgram_sendmsg(struct file *f, struct sock_msg *m, int flags);
long unix_dgram_recvmsg(struct file *f, struct sock_msg *m, int flags);
/* Frees a message: its descriptors' references go back, its charge leaves its sender. */
void unix_msg_free(struct umsg *m);
/* Frees every message in s's queue. */
void unix_purge(struct usock *s);
/* Frees the sockets that only messages in flight keep alive (cycles of descriptors sent over
 * sockets that are then closed); cheap when nothing is in flight. */
void unix_gc(void);
/* Every socket that has a file (for unix_gc). */
extern struct usock *g_unix_all;

#endif
