/* socket.h: the socket layer between the socket syscalls (sys/socket.c) and the families that
 * implement sockets (net/vsock_sock.c for AF_VSOCK, net/unix.c for AF_UNIX, net/inet.c for
 * AF_INET and AF_INET6).
 *
 * sys/socket.c does what Linux's net/socket.c does: it finds the socket behind a descriptor
 * (EBADF, ENOTSOCK), copies addresses, message headers, iovec arrays and control messages in
 * and out, and keeps the SOL_SOCKET options every socket has (struct sock_opts). A family
 * says what else happens through its struct sock_family (making sockets) and the struct
 * sock_ops of its sockets' files (file_ops.sock), as Linux's proto_ops do; a member left NULL
 * answers what Linux's sock_no_* functions answer (EOPNOTSUPP). Addresses reach the family
 * already copied into a SOCKADDR_STORAGE buffer; data buffers are the application's, checked
 * at each copy (struct sock_io), so that a bad buffer is found where Linux finds it.
 */
#ifndef ALCOVE_SOCKET_H
#define ALCOVE_SOCKET_H

#include "file.h"

#define AF_UNSPEC 0
#define AF_UNIX   1
#define PF_UNIX   AF_UNIX
#define NPROTO    46

#define SOCKADDR_STORAGE 128
#define SOL_SOCKET       1

/* socket types and flags, send/recv flags */
#define SOCK_STREAM      1
#define SOCK_DGRAM       2
#define SOCK_RAW         3
#define SOCK_SEQPACKET   5
#define SOCK_TYPE_MASK   0xf
#define SOCK_MAX         11
#define SOCK_NONBLOCK    O_NONBLOCK
#define SOCK_CLOEXEC     O_CLOEXEC
#define MSG_OOB          0x1
#define MSG_PEEK         0x2
#define MSG_CTRUNC       0x8
#define MSG_TRUNC        0x20
#define MSG_DONTWAIT     0x40
#define MSG_EOR          0x80
#define MSG_WAITALL      0x100
#define MSG_NOSIGNAL     0x4000
#define MSG_CMSG_CLOEXEC 0x40000000
#define SHUT_RD          0
#define SHUT_WR          1
#define SHUT_RDWR        2
#define SIOCINQ          FIONREAD
#define SIOCOUTQ         0x5411

/* SOL_SOCKET options */
#define SO_DEBUG        1
#define SO_REUSEADDR    2
#define SO_TYPE         3
#define SO_ERROR        4
#define SO_DONTROUTE    5
#define SO_BROADCAST    6
#define SO_SNDBUF       7
#define SO_RCVBUF       8
#define SO_KEEPALIVE    9
#define SO_OOBINLINE    10
#define SO_NO_CHECK     11
#define SO_PRIORITY     12
#define SO_LINGER       13
#define SO_REUSEPORT    15
#define SO_PASSCRED     16
#define SO_PEERCRED     17
#define SO_RCVLOWAT     18
#define SO_SNDLOWAT     19
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21
#define SO_ACCEPTCONN   30
#define SO_PROTOCOL     38
#define SO_DOMAIN       39
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67

/* control messages (SOL_SOCKET) */
#define SCM_RIGHTS      1
#define SCM_CREDENTIALS 2

struct linux_cmsghdr {
    uint64_t len;
    int32_t level;
    int32_t type;
};
#define CMSG_ALIGN(n) (((n) + 7ul) & ~7ul)
#define CMSG_HDR      sizeof(struct linux_cmsghdr)
#define CMSG_LEN(n)   (CMSG_HDR + (n))
#define CMSG_SPACE(n) (CMSG_HDR + CMSG_ALIGN(n))

struct linux_ucred {
    int32_t pid;
    uint32_t uid, gid;
};

/* The data buffers of one send or receive: user memory (checked at each copy) or kernel
 * memory, with a cursor. */
struct sock_io {
    const struct linux_iovec *iov;
    int cnt;
    bool user;
    /* cursor */
    int idx;
    uint64_t off;
};

/* Copies n bytes between kbuf and the buffers at the cursor, advancing it: 0 or -EFAULT (the
 * cursor then says how far it got). */
long sock_io_copy(struct sock_io *io, void *kbuf, size_t n, bool to_app);

/* One sendmsg or recvmsg, as the family sees it. */
struct sock_msg {
    struct sock_io io;
    size_t len; /* the bytes io holds, capped at MAX_RW_COUNT */
    /* send: the destination the caller named, copied in (namelen 0: none);
     * recv: SOCKADDR_STORAGE bytes for the sender's name, namelen its length (0: none) */
    uint8_t *name;
    int namelen;
    /* send: the control messages, copied in (ctllen 0: none) */
    const uint8_t *ctl;
    size_t ctllen;
    /* recv: the application's control buffer (uctl 0 or uctllen 0: none); the family writes
     * its control messages there and says how much it used */
    uint64_t uctl;
    size_t uctllen, ctl_used;
    int flags_out; /* recv: msg_flags (MSG_TRUNC, MSG_CTRUNC, MSG_EOR) */
};

/* The SOL_SOCKET options every socket keeps (sys/socket.c sets and reports them). */
struct sock_opts {
    int64_t rcvtimeo_ns, sndtimeo_ns; /* -1: forever, 0: never wait */
    int rcvbuf, sndbuf, rcvlowat;     /* as Linux reports them */
    bool reuseaddr, reuseport, keepalive, linger, passcred;
    int linger_sec;
};
#define SOCK_DEFAULT_BUF 212992 /* net.core.rmem_default and wmem_default */
void sock_opts_init(struct sock_opts *o);

/* What a socket's file does beyond a file's ops (file_ops.sock). Every member may be NULL. */
struct sock_ops {
    /* addr: len bytes copied in (len <= SOCKADDR_STORAGE) */
    int (*bind)(struct file *f, const void *addr, int len);
    int (*listen)(struct file *f, int backlog);
    int (*connect)(struct file *f, const void *addr, int len);
    /* a connection as a new file (flags: SOCK_NONBLOCK); the caller installs it */
    int (*accept)(struct file *f, uint32_t flags, struct file **out);
    /* the name (peer: the peer's) into addr (SOCKADDR_STORAGE bytes): its length or -errno */
    int (*getname)(struct file *f, bool peer, void *addr);
    int (*shutdown)(struct file *f, int how);
    /* flags: MSG_DONTWAIT set for an O_NONBLOCK file. Bytes or -errno. */
    long (*sendmsg)(struct file *f, struct sock_msg *m, int flags);
    long (*recvmsg)(struct file *f, struct sock_msg *m, int flags);
    struct sock_opts *(*opts)(struct file *f);
    /* SOL_SOCKET options the family answers itself (SO_TYPE, SO_ERROR, SO_ACCEPTCONN ...):
     * 0 with the value in val (at most 16 bytes) and its length in *len, or -ENOPROTOOPT for
     * the ones sys/socket.c keeps */
    int (*get_sol)(struct file *f, int name, void *val, int *len);
    /* setting one: 0 or -errno when the family takes it, -ENOPROTOOPT to leave it to
     * sys/socket.c */
    int (*set_sol)(struct file *f, int name, int val);
    /* other levels, as the syscalls take them */
    int (*setsockopt)(struct file *f, int level, int name, uint64_t uval, int len);
    int (*getsockopt)(struct file *f, int level, int name, uint64_t uval, uint64_t ulen);
};

/* A family: makes its sockets (type: SOCK_TYPE_MASK bits, checked < SOCK_MAX; flags:
 * SOCK_NONBLOCK) as files with no reference yet, for the caller to install. */
struct sock_family {
    int family;
    bool (*present)(void);
    int (*create)(int type, int protocol, uint32_t flags, struct file **out);
    /* NULL: socketpair is EOPNOTSUPP once create succeeded */
    int (*pair)(int type, int protocol, uint32_t flags, struct file **a, struct file **b);
};

extern const struct sock_family g_vsock_family; /* net/vsock_sock.c */
extern const struct sock_family g_unix_family;  /* net/unix.c */
extern const struct sock_family g_inet_family;  /* net/inet.c: AF_INET */
extern const struct sock_family g_inet6_family; /* net/inet.c: AF_INET6 */

/* The socket ops behind a file, NULL when it is not a socket. */
static inline const struct sock_ops *sock_ops_of(const struct file *f)
{
    return f && f->ops ? f->ops->sock : NULL;
}

/* Copies an option's value out as getsockopt does: min(len, vlen) bytes, and that length. */
long sock_opt_out(const void *val, int vlen, int len, uint64_t uval, uint64_t ulen);
/* SO_RCVTIMEO and SO_SNDTIMEO (Linux's sock_set_timeout): a timeval into ns. */
long sock_timeout_in(uint64_t uval, int len, int64_t *out);
/* A wait's deadline for a timeout in ns (< 0: forever, 0: now). */
int64_t sock_deadline(int64_t timeo_ns);
/* fstat of a socket, as Linux's sockfs answers: S_IFSOCK 0777, one link, this inode number. */
struct linux_stat;
void sock_fill_stat(struct linux_stat *st, uint64_t ino);

#endif
