/* socket.c: the socket syscalls: socket, socketpair, bind, listen, accept, accept4, connect,
 * sendto, recvfrom, sendmsg, recvmsg, shutdown, getsockname, getpeername, setsockopt,
 * getsockopt. The only family is AF_VSOCK with SOCK_STREAM (net/vsock.c); other families are
 * EAFNOSUPPORT, as on a Linux without them. The checks follow Linux's net/socket.c and
 * af_vsock.c in order (EBADF, ENOTSOCK, then the arguments, then the socket's state), the
 * addresses are copied as Linux's move_addr_to_kernel / move_addr_to_user do, and the data
 * buffers are checked when they are copied, so a bad buffer on an unconnected socket is
 * ENOTCONN, not EFAULT, as on Linux.
 */
#include "file.h"
#include "klib.h"
#include "syscall.h"
#include "vsock.h"

#define MAX_RW_COUNT      0x7ffff000ul
#define SOCKADDR_STORAGE  128
#define NPROTO            46
#define UIO_MAXIOV        1024
#define SOMAXCONN         4096
#define SOL_SOCKET        1
#define SOCK_MIN_RCVBUF   2304 /* 2048 + an aligned struct sk_buff */
#define SOCK_MIN_SNDBUF   (2 * SOCK_MIN_RCVBUF)
#define SYSCTL_RMEM_MAX   212992
#define SYSCTL_WMEM_MAX   212992
#define USEC_PER_SEC      1000000ll
#define NSEC_PER_USEC     1000ll
#define NSEC_PER_SEC      1000000000ll
#define DEFAULT_CONNECT_S 2

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
#define SO_RCVLOWAT     18
#define SO_SNDLOWAT     19
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21
#define SO_ACCEPTCONN   30
#define SO_PROTOCOL     38
#define SO_DOMAIN       39
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67

/* AF_VSOCK level options */
#define SO_VM_SOCKETS_BUFFER_SIZE         0
#define SO_VM_SOCKETS_BUFFER_MIN_SIZE     1
#define SO_VM_SOCKETS_BUFFER_MAX_SIZE     2
#define SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD 6
#define SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW 8

struct linux_msghdr {
    uint64_t name;
    uint32_t namelen;
    uint32_t pad;
    uint64_t iov;
    uint64_t iovlen;
    uint64_t control;
    uint64_t controllen;
    int32_t flags;
    int32_t pad2;
};
_Static_assert(sizeof(struct linux_msghdr) == 56, "struct msghdr");

/* The socket behind fd: -EBADF, -ENOTSOCK or 0. */
static long lookup(int fd, struct file **fp, struct vsock **sp)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    struct vsock *s = vsock_of(f);
    if (!s)
        return -ENOTSOCK;
    if (fp)
        *fp = f;
    *sp = s;
    return 0;
}

/* Linux's move_addr_to_kernel. */
static long addr_in(uint64_t uaddr, int len, void *buf)
{
    if (len < 0 || len > SOCKADDR_STORAGE)
        return -EINVAL;
    if (len == 0)
        return 0;
    return copy_from_user(buf, uaddr, (size_t)len) ? -EFAULT : 0;
}

/* Linux's move_addr_to_user: copies min(*ulen, klen) bytes and stores klen in *ulen. */
static long addr_out(const void *kaddr, int klen, uint64_t uaddr, uint64_t ulen)
{
    int len;
    if (copy_from_user(&len, ulen, sizeof(len)))
        return -EFAULT;
    if (len > klen)
        len = klen;
    if (len < 0)
        return -EINVAL;
    if (len && copy_to_user(uaddr, kaddr, (size_t)len))
        return -EFAULT;
    return copy_to_user(ulen, &klen, sizeof(klen)) ? -EFAULT : 0;
}

static long install(struct file *f, uint32_t flags)
{
    int fd = fd_install(f, 0, flags & SOCK_CLOEXEC);
    if (fd < 0)
        file_discard(f);
    return fd;
}

SYSCALL_DEFINE3(socket, int, family, int, type, int, protocol)
{
    int flags = type & ~SOCK_TYPE_MASK;
    type &= SOCK_TYPE_MASK;
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    if (family < 0 || family >= NPROTO)
        return -EAFNOSUPPORT;
    if (type >= SOCK_MAX)
        return -EINVAL;
    if (family != AF_VSOCK || !vsock_present())
        return -EAFNOSUPPORT; /* no other family exists in an enclave */
    if (protocol && protocol != PF_VSOCK)
        return -EPROTONOSUPPORT;
    if (type == SOCK_DGRAM)
        return -ENODEV; /* Linux's virtio transport has no datagrams */
    if (type != SOCK_STREAM)
        return -ESOCKTNOSUPPORT; /* SOCK_SEQPACKET: the device does not offer it */
    struct file *f = vsock_socket_file((uint32_t)flags);
    if (!f)
        return -ENOMEM;
    return install(f, (uint32_t)flags);
}

SYSCALL_DEFINE4(socketpair, int, family, int, type, int, protocol, uint64_t, usv)
{
    (void)usv;
    int flags = type & ~SOCK_TYPE_MASK;
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    if (family < 0 || family >= NPROTO)
        return -EAFNOSUPPORT;
    if ((type & SOCK_TYPE_MASK) >= SOCK_MAX)
        return -EINVAL;
    if (family != AF_VSOCK || !vsock_present())
        return -EAFNOSUPPORT;
    if (protocol && protocol != PF_VSOCK)
        return -EPROTONOSUPPORT;
    if ((type & SOCK_TYPE_MASK) != SOCK_STREAM)
        return (type & SOCK_TYPE_MASK) == SOCK_DGRAM ? -ENODEV : -ESOCKTNOSUPPORT;
    return -EOPNOTSUPP; /* sock_no_socketpair */
}

SYSCALL_DEFINE3(bind, int, fd, uint64_t, uaddr, int, len)
{
    struct vsock *s;
    uint8_t buf[SOCKADDR_STORAGE];
    long err = lookup(fd, NULL, &s);
    if (!err)
        err = addr_in(uaddr, len, buf);
    if (err)
        return err;
    struct sockaddr_vm a;
    if (vsock_addr_check(buf, len, &a))
        return -EINVAL;
    return vsock_bind(s, &a);
}

SYSCALL_DEFINE2(listen, int, fd, int, backlog)
{
    struct vsock *s;
    long err = lookup(fd, NULL, &s);
    if (err)
        return err;
    if ((unsigned)backlog > SOMAXCONN)
        backlog = SOMAXCONN;
    return vsock_listen(s, backlog);
}

SYSCALL_DEFINE3(connect, int, fd, uint64_t, uaddr, int, len)
{
    struct file *f;
    struct vsock *s;
    uint8_t buf[SOCKADDR_STORAGE];
    long err = lookup(fd, &f, &s);
    if (!err)
        err = addr_in(uaddr, len, buf);
    if (err)
        return err;
    return vsock_connect(s, buf, len, f->flags & O_NONBLOCK);
}

static long do_accept(int fd, uint64_t uaddr, uint64_t ulen, int flags)
{
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    struct file *f, *nf;
    struct vsock *s;
    long err = lookup(fd, &f, &s);
    if (err)
        return err;
    err = vsock_accept(s, f->flags & O_NONBLOCK, (uint32_t)flags, &nf);
    if (err)
        return err;
    if (uaddr) {
        struct sockaddr_vm a;
        vsock_getname(vsock_of(nf), true, &a);
        err = addr_out(&a, sizeof(a), uaddr, ulen);
        if (err) {
            file_discard(nf); /* the connection is lost, as on Linux */
            return err;
        }
    }
    return install(nf, (uint32_t)flags);
}

SYSCALL_DEFINE3(accept, int, fd, uint64_t, uaddr, uint64_t, ulen)
{
    return do_accept(fd, uaddr, ulen, 0);
}

SYSCALL_DEFINE4(accept4, int, fd, uint64_t, uaddr, uint64_t, ulen, int, flags)
{
    return do_accept(fd, uaddr, ulen, flags);
}

SYSCALL_DEFINE2(shutdown, int, fd, int, how)
{
    struct vsock *s;
    long err = lookup(fd, NULL, &s);
    return err ? err : vsock_shutdown(s, how);
}

static long getname(int fd, uint64_t uaddr, uint64_t ulen, bool peer)
{
    struct vsock *s;
    long err = lookup(fd, NULL, &s);
    if (err)
        return err;
    struct sockaddr_vm a;
    err = vsock_getname(s, peer, &a);
    return err ? err : addr_out(&a, sizeof(a), uaddr, ulen);
}

SYSCALL_DEFINE3(getsockname, int, fd, uint64_t, uaddr, uint64_t, ulen)
{
    return getname(fd, uaddr, ulen, false);
}

SYSCALL_DEFINE3(getpeername, int, fd, uint64_t, uaddr, uint64_t, ulen)
{
    return getname(fd, uaddr, ulen, true);
}

/* ---- data ---- */

SYSCALL_DEFINE6(sendto, int, fd, uint64_t, buf, uint64_t, len, int, flags, uint64_t, uaddr, int,
                alen)
{
    struct file *f;
    struct vsock *s;
    uint8_t abuf[SOCKADDR_STORAGE];
    long err = lookup(fd, &f, &s);
    if (err)
        return err;
    bool named = false;
    if (uaddr) {
        err = addr_in(uaddr, alen, abuf);
        if (err)
            return err;
        named = alen != 0;
    }
    if (f->flags & O_NONBLOCK)
        flags |= MSG_DONTWAIT;
    len = MIN(len, MAX_RW_COUNT);
    struct linux_iovec v = {buf, len};
    struct vsock_io io = {.iov = &v, .cnt = 1, .user = true};
    return vsock_send(s, &io, len, flags, named);
}

SYSCALL_DEFINE6(recvfrom, int, fd, uint64_t, buf, uint64_t, len, int, flags, uint64_t, uaddr,
                uint64_t, ulen)
{
    struct file *f;
    struct vsock *s;
    long err = lookup(fd, &f, &s);
    if (err)
        return err;
    if (f->flags & O_NONBLOCK)
        flags |= MSG_DONTWAIT;
    len = MIN(len, MAX_RW_COUNT);
    struct linux_iovec v = {buf, len};
    struct vsock_io io = {.iov = &v, .cnt = 1, .user = true};
    long ret = vsock_recv(s, &io, len, flags);
    if (ret >= 0 && uaddr) {
        /* a stream socket names no sender: the length written back is 0 */
        err = addr_out(NULL, 0, uaddr, ulen);
        if (err)
            ret = err;
    }
    return ret;
}

/* A message's iovec array, copied in: on the stack when short, else allocated. It is the
 * syscall's own, since a send or receive may block (process.h, the rule for blocking code). */
struct msg_iov {
    struct linux_iovec fast[UIO_FASTIOV];
    struct linux_iovec *v;
};

static void msg_iov_free(struct msg_iov *mi)
{
    if (mi->v != mi->fast)
        kfree(mi->v);
}

/* Copies msghdr and its iovec array (Linux's copy_msghdr_from_user and import_iovec) into *m
 * and *mi: the total length, capped at MAX_RW_COUNT, or -errno (nothing to free then). */
static long load_msg(uint64_t umsg, struct linux_msghdr *m, struct msg_iov *mi)
{
    long ret = -EFAULT;
    if (copy_from_user(m, umsg, sizeof(*m)))
        return -EFAULT;
    if (!m->name)
        m->namelen = 0;
    if ((int32_t)m->namelen < 0)
        return -EINVAL;
    if (m->namelen > SOCKADDR_STORAGE)
        m->namelen = SOCKADDR_STORAGE;
    if (m->iovlen > UIO_MAXIOV)
        return -EMSGSIZE;
    mi->v = mi->fast;
    if (m->iovlen > UIO_FASTIOV && !(mi->v = kmalloc(m->iovlen * sizeof(mi->v[0]))))
        return -ENOMEM;
    if (copy_from_user(mi->v, m->iov, m->iovlen * sizeof(mi->v[0])))
        goto fail;
    uint64_t total = 0;
    for (uint64_t i = 0; i < m->iovlen; i++) {
        if ((int64_t)mi->v[i].len < 0) {
            ret = -EINVAL;
            goto fail;
        }
        uint64_t room = MAX_RW_COUNT - total;
        if (mi->v[i].len > room)
            mi->v[i].len = room;
        total += mi->v[i].len;
    }
    return (long)total;
fail:
    msg_iov_free(mi);
    return ret;
}

SYSCALL_DEFINE3(sendmsg, int, fd, uint64_t, umsg, int, flags)
{
    struct file *f;
    struct vsock *s;
    struct linux_msghdr m;
    long err = lookup(fd, &f, &s);
    if (err)
        return err;
    struct msg_iov mi;
    long total = load_msg(umsg, &m, &mi);
    if (total < 0)
        return total;
    uint8_t abuf[SOCKADDR_STORAGE];
    long ret = -EFAULT;
    if (!m.namelen || !copy_from_user(abuf, m.name, m.namelen)) {
        if (f->flags & O_NONBLOCK)
            flags |= MSG_DONTWAIT;
        struct vsock_io io = {.iov = mi.v, .cnt = (int)m.iovlen, .user = true};
        ret = vsock_send(s, &io, (size_t)total, flags, m.namelen != 0);
    }
    msg_iov_free(&mi);
    return ret;
}

SYSCALL_DEFINE3(recvmsg, int, fd, uint64_t, umsg, int, flags)
{
    struct file *f;
    struct vsock *s;
    struct linux_msghdr m;
    long err = lookup(fd, &f, &s);
    if (err)
        return err;
    struct msg_iov mi;
    long total = load_msg(umsg, &m, &mi);
    if (total < 0)
        return total;
    if (f->flags & O_NONBLOCK)
        flags |= MSG_DONTWAIT;
    struct vsock_io io = {.iov = mi.v, .cnt = (int)m.iovlen, .user = true};
    long ret = vsock_recv(s, &io, (size_t)total, flags);
    msg_iov_free(&mi);
    if (ret < 0)
        return ret;
    /* no sender name, no flags, no control messages */
    struct linux_msghdr *u = (struct linux_msghdr *)umsg;
    uint32_t zero32 = 0;
    uint64_t zero64 = 0;
    if ((m.name && copy_to_user((uint64_t)&u->namelen, &zero32, sizeof(zero32))) ||
        copy_to_user((uint64_t)&u->flags, &zero32, sizeof(zero32)) ||
        copy_to_user((uint64_t)&u->controllen, &zero64, sizeof(zero64)))
        return -EFAULT;
    return ret;
}

/* ---- options ---- */

/* Linux's sock_set_timeout: a timeval (16 bytes) into ns (-1: forever, 0: never wait). */
static long timeout_in(uint64_t uval, int len, int64_t *out)
{
    struct linux_timeval tv;
    if (len < (int)sizeof(tv))
        return -EINVAL;
    if (copy_from_user(&tv, uval, sizeof(tv)))
        return -EFAULT;
    if (tv.tv_usec < 0 || tv.tv_usec >= USEC_PER_SEC)
        return -EDOM;
    if (tv.tv_sec < 0)
        *out = 0;
    else if (tv.tv_sec == 0 && tv.tv_usec == 0)
        *out = -1;
    else if (tv.tv_sec > INT64_MAX / NSEC_PER_SEC - 1)
        *out = -1;
    else
        *out = tv.tv_sec * NSEC_PER_SEC + tv.tv_usec * NSEC_PER_USEC;
    return 0;
}

static struct linux_timeval timeout_out(int64_t ns)
{
    if (ns <= 0)
        return (struct linux_timeval){0, 0};
    return (struct linux_timeval){ns / NSEC_PER_SEC, (ns % NSEC_PER_SEC) / NSEC_PER_USEC};
}

static void update_buffer_size(struct vsock_opts *o, uint64_t val)
{
    if (val > o->buffer_max)
        val = o->buffer_max;
    if (val < o->buffer_min)
        val = o->buffer_min;
    o->buffer_size = val;
}

static long vsock_level_set(struct vsock_opts *o, int name, uint64_t uval, int len)
{
    uint64_t v;
    switch (name) {
    case SO_VM_SOCKETS_BUFFER_SIZE:
    case SO_VM_SOCKETS_BUFFER_MIN_SIZE:
    case SO_VM_SOCKETS_BUFFER_MAX_SIZE:
        if (len < (int)sizeof(v))
            return -EINVAL;
        if (copy_from_user(&v, uval, sizeof(v)))
            return -EFAULT;
        if (name == SO_VM_SOCKETS_BUFFER_MIN_SIZE)
            o->buffer_min = v;
        else if (name == SO_VM_SOCKETS_BUFFER_MAX_SIZE)
            o->buffer_max = v;
        update_buffer_size(o, name == SO_VM_SOCKETS_BUFFER_SIZE ? v : o->buffer_size);
        return 0;
    case SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD:
    case SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW: {
        struct linux_timeval tv;
        if (len < (int)sizeof(tv))
            return -EINVAL;
        if (copy_from_user(&tv, uval, sizeof(tv)))
            return -EFAULT;
        if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= USEC_PER_SEC ||
            tv.tv_sec >= INT64_MAX / NSEC_PER_SEC - 1)
            return -ERANGE;
        int64_t ns = tv.tv_sec * NSEC_PER_SEC + tv.tv_usec * NSEC_PER_USEC;
        o->connect_timeout_ns = ns ? ns : DEFAULT_CONNECT_S * NSEC_PER_SEC;
        return 0;
    }
    default:
        return -ENOPROTOOPT;
    }
}

static long sol_socket_set(struct vsock *s, int name, uint64_t uval, int len)
{
    struct vsock_opts *o = vsock_opts(s);
    int val;
    if (len < (int)sizeof(val))
        return -EINVAL;
    if (copy_from_user(&val, uval, sizeof(val)))
        return -EFAULT;
    switch (name) {
    case SO_DEBUG:
    case SO_DONTROUTE:
    case SO_BROADCAST:
    case SO_OOBINLINE:
    case SO_NO_CHECK:
    case SO_PRIORITY:
    case SO_PASSCRED:
    case SO_REUSEPORT:
        return 0; /* accepted; nothing here depends on them */
    case SO_REUSEADDR:
        o->reuseaddr = val != 0;
        return 0;
    case SO_KEEPALIVE:
        o->keepalive = val != 0;
        return 0;
    case SO_SNDBUF: {
        uint32_t v = MIN((uint32_t)val, (uint32_t)SYSCTL_WMEM_MAX);
        o->sndbuf = MAX((int)(v * 2), SOCK_MIN_SNDBUF);
        return 0;
    }
    case SO_RCVBUF: {
        /* reported as Linux does; the vsock ring is SO_VM_SOCKETS_BUFFER_SIZE, as on Linux */
        uint32_t v = MIN((uint32_t)val, (uint32_t)SYSCTL_RMEM_MAX);
        o->rcvbuf = MAX((int)(v * 2), SOCK_MIN_RCVBUF);
        return 0;
    }
    case SO_LINGER: {
        int32_t l[2];
        if (len < (int)sizeof(l))
            return -EINVAL;
        if (copy_from_user(l, uval, sizeof(l)))
            return -EFAULT;
        o->linger = l[0] != 0;
        o->linger_sec = l[1];
        return 0;
    }
    case SO_RCVLOWAT:
        if (val < 0)
            val = INT32_MAX;
        if ((uint64_t)val > o->buffer_size)
            return -EINVAL;
        o->rcvlowat = val ? val : 1;
        return 0;
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
        return timeout_in(uval, len, &o->rcvtimeo_ns);
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW:
        return timeout_in(uval, len, &o->sndtimeo_ns);
    default:
        return -ENOPROTOOPT;
    }
}

SYSCALL_DEFINE5(setsockopt, int, fd, int, level, int, name, uint64_t, uval, int, len)
{
    struct vsock *s;
    long err = lookup(fd, NULL, &s);
    if (err)
        return err;
    if (len < 0)
        return -EINVAL;
    if (level == SOL_SOCKET)
        return sol_socket_set(s, name, uval, len);
    if (level != AF_VSOCK)
        return -ENOPROTOOPT;
    return vsock_level_set(vsock_opts(s), name, uval, len);
}

SYSCALL_DEFINE5(getsockopt, int, fd, int, level, int, name, uint64_t, uval, uint64_t, ulen)
{
    struct vsock *s;
    long err = lookup(fd, NULL, &s);
    if (err)
        return err;
    if (level != SOL_SOCKET && level != AF_VSOCK)
        return -ENOPROTOOPT;
    struct vsock_opts *o = vsock_opts(s);
    int len;
    if (copy_from_user(&len, ulen, sizeof(len)))
        return -EFAULT;
    union {
        int i;
        int32_t pair[2];
        uint64_t u64;
        struct linux_timeval tv;
    } v;
    memset(&v, 0, sizeof(v));
    int lv = sizeof(int);
    if (level == AF_VSOCK) {
        lv = sizeof(uint64_t);
        switch (name) {
        case SO_VM_SOCKETS_BUFFER_SIZE:
            v.u64 = o->buffer_size;
            break;
        case SO_VM_SOCKETS_BUFFER_MIN_SIZE:
            v.u64 = o->buffer_min;
            break;
        case SO_VM_SOCKETS_BUFFER_MAX_SIZE:
            v.u64 = o->buffer_max;
            break;
        case SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD:
        case SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW:
            v.tv = timeout_out(o->connect_timeout_ns);
            lv = sizeof(v.tv);
            break;
        default:
            return -ENOPROTOOPT;
        }
        if (len < lv)
            return -EINVAL;
    } else {
        if (len < 0)
            return -EINVAL;
        switch (name) {
        case SO_DEBUG:
        case SO_DONTROUTE:
        case SO_BROADCAST:
        case SO_OOBINLINE:
        case SO_NO_CHECK:
        case SO_PRIORITY:
        case SO_PASSCRED:
        case SO_REUSEPORT:
        case SO_PROTOCOL:
            v.i = 0;
            break;
        case SO_REUSEADDR:
            v.i = o->reuseaddr;
            break;
        case SO_KEEPALIVE:
            v.i = o->keepalive;
            break;
        case SO_TYPE:
            v.i = SOCK_STREAM;
            break;
        case SO_DOMAIN:
            v.i = AF_VSOCK;
            break;
        case SO_ERROR:
            v.i = vsock_take_error(s);
            break;
        case SO_SNDBUF:
            v.i = o->sndbuf;
            break;
        case SO_RCVBUF:
            v.i = o->rcvbuf;
            break;
        case SO_RCVLOWAT:
            v.i = o->rcvlowat;
            break;
        case SO_SNDLOWAT:
            v.i = 1;
            break;
        case SO_ACCEPTCONN:
            v.i = vsock_listening(s);
            break;
        case SO_LINGER:
            v.pair[0] = o->linger;
            v.pair[1] = o->linger_sec;
            lv = sizeof(v.pair);
            break;
        case SO_RCVTIMEO_OLD:
        case SO_RCVTIMEO_NEW:
            v.tv = timeout_out(o->rcvtimeo_ns);
            lv = sizeof(v.tv);
            break;
        case SO_SNDTIMEO_OLD:
        case SO_SNDTIMEO_NEW:
            v.tv = timeout_out(o->sndtimeo_ns);
            lv = sizeof(v.tv);
            break;
        default:
            return -ENOPROTOOPT;
        }
    }
    if (len > lv)
        len = lv;
    if (copy_to_user(uval, &v, (size_t)len))
        return -EFAULT;
    return copy_to_user(ulen, &len, sizeof(len)) ? -EFAULT : 0;
}
