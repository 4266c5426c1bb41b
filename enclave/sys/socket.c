/* socket.c: the socket syscalls: socket, socketpair, bind, listen, accept, accept4, connect,
 * sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, shutdown, getsockname, getpeername,
 * setsockopt, getsockopt, in front of the families (socket.h): AF_UNIX (net/unix.c), AF_INET
 * and AF_INET6 (net/inet.c) and AF_VSOCK (net/vsock_sock.c); other families are EAFNOSUPPORT, as on
 * a Linux without them. The checks follow Linux's net/socket.c in order (EBADF, ENOTSOCK, then the
 * arguments, then the family's checks of the socket's state), the addresses are copied as Linux's
 * move_addr_to_kernel / move_addr_to_user do, and the data buffers are checked when they are
 * copied, so a bad buffer on an unconnected socket is ENOTCONN, not EFAULT, as on Linux.
 */
#include "file.h"
#include "klib.h"
#include "socket.h"
#include "syscall.h"
#include "vsock.h"
#include "wait.h"

#define MAX_RW_COUNT    0x7ffff000ul
#define UIO_MAXIOV      1024
#define SOMAXCONN       4096
#define SOCK_MIN_RCVBUF 2304 /* 2048 + an aligned struct sk_buff */
#define SOCK_MIN_SNDBUF (2 * SOCK_MIN_RCVBUF)
#define SYSCTL_RMEM_MAX 212992
#define SYSCTL_WMEM_MAX 212992
#define OPTMEM_MAX      20480 /* net.core.optmem_max: the largest control buffer of a send */
#define USEC_PER_SEC    1000000ll
#define NSEC_PER_USEC   1000ll
#define NSEC_PER_SEC    1000000000ll

static const struct sock_family *const g_families[] = {&g_unix_family, &g_inet_family,
                                                       &g_inet6_family, &g_vsock_family};

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
static long lookup(int fd, struct file **fp, const struct sock_ops **op)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    const struct sock_ops *o = sock_ops_of(f);
    if (!o)
        return -ENOTSOCK;
    *fp = f;
    *op = o;
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

long sock_io_copy(struct sock_io *io, void *kbuf, size_t n, bool to_app)
{
    uint8_t *k = kbuf;
    while (n) {
        KASSERT(io->idx < io->cnt);
        const struct linux_iovec *v = &io->iov[io->idx];
        if (io->off >= v->len) {
            io->idx++;
            io->off = 0;
            continue;
        }
        size_t m = MIN(n, v->len - io->off);
        uint64_t addr = v->base + io->off;
        if (io->user && !user_range_ok(addr, m, to_app ? PROT_WRITE : PROT_READ))
            return -EFAULT;
        if (to_app)
            memcpy((void *)addr, k, m);
        else
            memcpy(k, (const void *)addr, m);
        k += m;
        n -= m;
        io->off += m;
    }
    return 0;
}

void sock_opts_init(struct sock_opts *o)
{
    *o = (struct sock_opts){
        .rcvtimeo_ns = -1,
        .sndtimeo_ns = -1,
        .rcvbuf = SOCK_DEFAULT_BUF,
        .sndbuf = SOCK_DEFAULT_BUF,
        .rcvlowat = 1,
    };
}

int64_t sock_deadline(int64_t timeo_ns)
{
    if (timeo_ns < 0)
        return WAIT_FOREVER;
    return time_monotonic_ns() + timeo_ns;
}

void sock_fill_stat(struct linux_stat *st, uint64_t ino)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = 0x8; /* sockfs */
    st->st_ino = ino;
    st->st_nlink = 1;
    st->st_mode = S_IFSOCK | 0777;
    st->st_blksize = 4096;
}

static long install(struct file *f, uint32_t flags)
{
    int fd = fd_install(f, 0, flags & SOCK_CLOEXEC);
    if (fd < 0)
        file_discard(f);
    return fd;
}

/* Linux's sock_create checks up to the family: -errno, or 0 and the family. */
static long family_of(int family, int type, const struct sock_family **out)
{
    if (family < 0 || family >= NPROTO)
        return -EAFNOSUPPORT;
    if (type >= SOCK_MAX)
        return -EINVAL;
    for (size_t i = 0; i < ARRAY_SIZE(g_families); i++) {
        const struct sock_family *fam = g_families[i];
        if (fam->family == family && (!fam->present || fam->present())) {
            *out = fam;
            return 0;
        }
    }
    return -EAFNOSUPPORT; /* no other family exists in an enclave */
}

SYSCALL_DEFINE3(socket, int, family, int, type, int, protocol)
{
    int flags = type & ~SOCK_TYPE_MASK;
    type &= SOCK_TYPE_MASK;
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    const struct sock_family *fam;
    long err = family_of(family, type, &fam);
    if (err)
        return err;
    struct file *f;
    err = fam->create(type, protocol, (uint32_t)flags & SOCK_NONBLOCK, &f);
    if (err)
        return err;
    return install(f, (uint32_t)flags);
}

SYSCALL_DEFINE4(socketpair, int, family, int, type, int, protocol, uint64_t, usv)
{
    int flags = type & ~SOCK_TYPE_MASK;
    type &= SOCK_TYPE_MASK;
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    /* Linux stores the two descriptors it reserved before it makes the sockets */
    if (!user_range_ok(usv, 2 * sizeof(int), PROT_WRITE))
        return -EFAULT;
    const struct sock_family *fam;
    long err = family_of(family, type, &fam);
    if (err)
        return err;
    if (!fam->pair)
        return -EOPNOTSUPP;
    struct file *a, *b;
    err = fam->pair(type, protocol, (uint32_t)flags & SOCK_NONBLOCK, &a, &b);
    if (err)
        return err;
    int fds[2];
    fds[0] = fd_install(a, 0, flags & SOCK_CLOEXEC);
    if (fds[0] < 0) {
        file_discard(a);
        file_discard(b);
        return fds[0];
    }
    fds[1] = fd_install(b, 0, flags & SOCK_CLOEXEC);
    if (fds[1] < 0) {
        file_discard(b);
        fd_close(fds[0]);
        return fds[1];
    }
    if (copy_to_user(usv, fds, sizeof(fds))) {
        fd_close(fds[1]);
        fd_close(fds[0]);
        return -EFAULT;
    }
    return 0;
}

SYSCALL_DEFINE3(bind, int, fd, uint64_t, uaddr, int, len)
{
    struct file *f;
    const struct sock_ops *o;
    uint8_t buf[SOCKADDR_STORAGE + 1]; /* room for a NUL after a full-length path */
    long err = lookup(fd, &f, &o);
    if (!err)
        err = addr_in(uaddr, len, buf);
    if (err)
        return err;
    return o->bind ? o->bind(f, buf, len) : -EOPNOTSUPP;
}

SYSCALL_DEFINE2(listen, int, fd, int, backlog)
{
    struct file *f;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    if (err)
        return err;
    if ((unsigned)backlog > SOMAXCONN)
        backlog = SOMAXCONN;
    return o->listen ? o->listen(f, backlog) : -EOPNOTSUPP;
}

SYSCALL_DEFINE3(connect, int, fd, uint64_t, uaddr, int, len)
{
    struct file *f;
    const struct sock_ops *o;
    uint8_t buf[SOCKADDR_STORAGE + 1];
    long err = lookup(fd, &f, &o);
    if (!err)
        err = addr_in(uaddr, len, buf);
    if (err)
        return err;
    return o->connect ? o->connect(f, buf, len) : -EOPNOTSUPP;
}

static long do_accept(int fd, uint64_t uaddr, uint64_t ulen, int flags)
{
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    struct file *f, *nf;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    if (err)
        return err;
    if (!o->accept)
        return -EOPNOTSUPP;
    if (!fd_room())
        return -EMFILE; /* before a connection is taken: it stays queued (Linux reserves first) */
    err = o->accept(f, (uint32_t)flags & SOCK_NONBLOCK, &nf);
    if (err)
        return err;
    if (uaddr) {
        uint8_t a[SOCKADDR_STORAGE];
        int n = o->getname(nf, true, a);
        err = n < 0 ? n : addr_out(a, n, uaddr, ulen);
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
    struct file *f;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    if (err)
        return err;
    return o->shutdown ? o->shutdown(f, how) : -EOPNOTSUPP;
}

static long getname(int fd, uint64_t uaddr, uint64_t ulen, bool peer)
{
    struct file *f;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    if (err)
        return err;
    uint8_t a[SOCKADDR_STORAGE];
    int n = o->getname ? o->getname(f, peer, a) : -EOPNOTSUPP;
    return n < 0 ? n : addr_out(a, n, uaddr, ulen);
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

static long send_common(struct file *f, const struct sock_ops *o, struct sock_msg *m, int flags)
{
    if (!o->sendmsg)
        return -EOPNOTSUPP;
    if (f->flags & O_NONBLOCK)
        flags |= MSG_DONTWAIT;
    return o->sendmsg(f, m, flags);
}

SYSCALL_DEFINE6(sendto, int, fd, uint64_t, buf, uint64_t, len, int, flags, uint64_t, uaddr, int,
                alen)
{
    struct file *f;
    const struct sock_ops *o;
    uint8_t abuf[SOCKADDR_STORAGE + 1];
    long err = lookup(fd, &f, &o);
    if (err)
        return err;
    len = MIN(len, MAX_RW_COUNT);
    struct linux_iovec v = {buf, len};
    struct sock_msg m = {.io = {.iov = &v, .cnt = 1, .user = true}, .len = len};
    if (uaddr) {
        err = addr_in(uaddr, alen, abuf);
        if (err)
            return err;
        m.name = abuf;
        m.namelen = alen;
    }
    return send_common(f, o, &m, flags);
}

/* Ends a receive: the sender's name out to the application when it asked (recvfrom, recvmsg). */
static long recv_common(struct file *f, const struct sock_ops *o, struct sock_msg *m, int flags)
{
    if (!o->recvmsg)
        return -EOPNOTSUPP;
    if (f->flags & O_NONBLOCK)
        flags |= MSG_DONTWAIT;
    return o->recvmsg(f, m, flags);
}

SYSCALL_DEFINE6(recvfrom, int, fd, uint64_t, buf, uint64_t, len, int, flags, uint64_t, uaddr,
                uint64_t, ulen)
{
    struct file *f;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    if (err)
        return err;
    len = MIN(len, MAX_RW_COUNT);
    struct linux_iovec v = {buf, len};
    uint8_t abuf[SOCKADDR_STORAGE];
    struct sock_msg m = {.io = {.iov = &v, .cnt = 1, .user = true}, .len = len, .name = abuf};
    long ret = recv_common(f, o, &m, flags);
    if (ret >= 0 && uaddr) {
        /* a stream socket names no sender: the length written back is 0 */
        err = addr_out(abuf, m.namelen, uaddr, ulen);
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

static long do_sendmsg(struct file *f, const struct sock_ops *o, uint64_t umsg, int flags)
{
    struct linux_msghdr m;
    struct msg_iov mi;
    long total = load_msg(umsg, &m, &mi);
    if (total < 0)
        return total;
    uint8_t abuf[SOCKADDR_STORAGE + 1];
    uint8_t *ctl = NULL;
    long ret = -EFAULT;
    if (m.namelen && copy_from_user(abuf, m.name, m.namelen))
        goto out;
    ret = -ENOBUFS;
    if (m.controllen > INT32_MAX || m.controllen > OPTMEM_MAX)
        goto out;
    if (m.controllen) {
        /* allocated: the send may block with it */
        ret = -ENOBUFS;
        if (!(ctl = kmalloc(m.controllen)))
            goto out;
        ret = -EFAULT;
        if (copy_from_user(ctl, m.control, m.controllen))
            goto out;
    }
    struct sock_msg sm = {
        .io = {.iov = mi.v, .cnt = (int)m.iovlen, .user = true},
        .len = (size_t)total,
        .name = m.namelen ? abuf : NULL,
        .namelen = (int)m.namelen,
        .ctl = ctl,
        .ctllen = m.controllen,
    };
    ret = send_common(f, o, &sm, flags);
out:
    kfree(ctl);
    msg_iov_free(&mi);
    return ret;
}

static long do_recvmsg(struct file *f, const struct sock_ops *o, uint64_t umsg, int flags)
{
    struct linux_msghdr m;
    struct msg_iov mi;
    long total = load_msg(umsg, &m, &mi);
    if (total < 0)
        return total;
    uint8_t abuf[SOCKADDR_STORAGE];
    struct sock_msg sm = {
        .io = {.iov = mi.v, .cnt = (int)m.iovlen, .user = true},
        .len = (size_t)total,
        .name = abuf,
        .uctl = m.control,
        .uctllen = m.control ? m.controllen : 0,
        .flags_out = flags & MSG_CMSG_CLOEXEC, /* Linux reports it back */
    };
    long ret = recv_common(f, o, &sm, flags);
    msg_iov_free(&mi);
    if (ret < 0)
        return ret;
    struct linux_msghdr *u = (struct linux_msghdr *)umsg;
    uint64_t used = sm.ctl_used;
    if (m.name && addr_out(abuf, sm.namelen, m.name, (uint64_t)&u->namelen))
        return -EFAULT;
    if (copy_to_user((uint64_t)&u->flags, &sm.flags_out, sizeof(sm.flags_out)) ||
        copy_to_user((uint64_t)&u->controllen, &used, sizeof(used)))
        return -EFAULT;
    return ret;
}

SYSCALL_DEFINE3(sendmsg, int, fd, uint64_t, umsg, int, flags)
{
    struct file *f;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    return err ? err : do_sendmsg(f, o, umsg, flags);
}

SYSCALL_DEFINE3(recvmsg, int, fd, uint64_t, umsg, int, flags)
{
    struct file *f;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    return err ? err : do_recvmsg(f, o, umsg, flags);
}

/* struct mmsghdr: a msghdr and the length its call moved */
#define MMSG_SIZE      64
#define MMSG_LEN_OFF   56
#define MSG_WAITFORONE 0x10000

/* Linux's __sys_sendmmsg: as many messages as go; an error after the first ends the batch and
 * the count is the answer. */
SYSCALL_DEFINE4(sendmmsg, int, fd, uint64_t, uvec, unsigned, vlen, int, flags)
{
    struct file *f;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    if (err)
        return err;
    if (vlen > UIO_MAXIOV)
        vlen = UIO_MAXIOV;
    unsigned n = 0;
    for (; n < vlen; n++) {
        uint64_t at = uvec + (uint64_t)n * MMSG_SIZE;
        long r = do_sendmsg(f, o, at, flags);
        if (r < 0) {
            err = r;
            break;
        }
        uint32_t len = (uint32_t)r;
        if (copy_to_user(at + MMSG_LEN_OFF, &len, sizeof(len))) {
            err = -EFAULT;
            break;
        }
    }
    return n ? (long)n : err;
}

/* Linux's do_recvmmsg: MSG_WAITFORONE makes every receive after the first non-blocking; the
 * timeout is looked at between messages, as Linux does. */
SYSCALL_DEFINE5(recvmmsg, int, fd, uint64_t, uvec, unsigned, vlen, int, flags, uint64_t, uts)
{
    struct file *f;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    if (err)
        return err;
    int64_t deadline = WAIT_FOREVER;
    if (uts) {
        struct linux_timespec ts;
        if (copy_from_user(&ts, uts, sizeof(ts)))
            return -EFAULT;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC_PER_SEC)
            return -EINVAL;
        deadline = time_monotonic_ns() + ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
    }
    if (vlen > UIO_MAXIOV)
        vlen = UIO_MAXIOV;
    unsigned n = 0;
    for (; n < vlen; n++) {
        uint64_t at = uvec + (uint64_t)n * MMSG_SIZE;
        long r = do_recvmsg(f, o, at, flags & ~MSG_WAITFORONE);
        if (r < 0) {
            err = r;
            break;
        }
        uint32_t len = (uint32_t)r;
        if (copy_to_user(at + MMSG_LEN_OFF, &len, sizeof(len))) {
            err = -EFAULT;
            break;
        }
        if (flags & MSG_WAITFORONE)
            flags |= MSG_DONTWAIT;
        if (uts && time_monotonic_ns() >= deadline) {
            n++;
            break;
        }
    }
    return n ? (long)n : err;
}

/* ---- options ---- */

long sock_timeout_in(uint64_t uval, int len, int64_t *out)
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

long sock_opt_out(const void *val, int vlen, int len, uint64_t uval, uint64_t ulen)
{
    if (len > vlen)
        len = vlen;
    if (copy_to_user(uval, val, (size_t)len))
        return -EFAULT;
    return copy_to_user(ulen, &len, sizeof(len)) ? -EFAULT : 0;
}

static long sol_socket_set(struct file *f, const struct sock_ops *ops, int name, uint64_t uval,
                           int len)
{
    struct sock_opts *o = ops->opts(f);
    int val;
    if (len < (int)sizeof(val))
        return -EINVAL;
    if (copy_from_user(&val, uval, sizeof(val)))
        return -EFAULT;
    if (ops->set_sol) {
        int err = ops->set_sol(f, name, val);
        if (err != -ENOPROTOOPT)
            return err;
    }
    switch (name) {
    case SO_DEBUG:
    case SO_DONTROUTE:
    case SO_BROADCAST:
    case SO_OOBINLINE:
    case SO_NO_CHECK:
    case SO_PRIORITY:
        return 0; /* accepted; nothing here depends on them */
    case SO_REUSEPORT:
        o->reuseport = val != 0;
        return 0;
    case SO_PASSCRED:
        o->passcred = val != 0;
        return 0;
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
        o->rcvlowat = val ? val : 1;
        return 0;
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
        return sock_timeout_in(uval, len, &o->rcvtimeo_ns);
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW:
        return sock_timeout_in(uval, len, &o->sndtimeo_ns);
    default:
        return -ENOPROTOOPT;
    }
}

SYSCALL_DEFINE5(setsockopt, int, fd, int, level, int, name, uint64_t, uval, int, len)
{
    struct file *f;
    const struct sock_ops *o;
    long err = lookup(fd, &f, &o);
    if (err)
        return err;
    if (len < 0)
        return -EINVAL;
    if (level == SOL_SOCKET)
        return sol_socket_set(f, o, name, uval, len);
    return o->setsockopt ? o->setsockopt(f, level, name, uval, len) : -EOPNOTSUPP;
}

SYSCALL_DEFINE5(getsockopt, int, fd, int, level, int, name, uint64_t, uval, uint64_t, ulen)
{
    struct file *f;
    const struct sock_ops *ops;
    long err = lookup(fd, &f, &ops);
    if (err)
        return err;
    if (level != SOL_SOCKET)
        return ops->getsockopt ? ops->getsockopt(f, level, name, uval, ulen) : -EOPNOTSUPP;
    struct sock_opts *o = ops->opts(f);
    int len;
    if (copy_from_user(&len, ulen, sizeof(len)))
        return -EFAULT;
    if (len < 0)
        return -EINVAL;
    union {
        int i;
        int32_t pair[2];
        struct linux_timeval tv;
        uint8_t bytes[16];
    } v;
    memset(&v, 0, sizeof(v));
    int lv = sizeof(int);
    err = ops->get_sol ? ops->get_sol(f, name, &v, &lv) : -ENOPROTOOPT;
    if (err == -ENOPROTOOPT) {
        err = 0;
        lv = sizeof(int);
        switch (name) {
        case SO_DEBUG:
        case SO_DONTROUTE:
        case SO_BROADCAST:
        case SO_OOBINLINE:
        case SO_NO_CHECK:
        case SO_PRIORITY:
        case SO_PROTOCOL:
            v.i = 0;
            break;
        case SO_REUSEPORT:
            v.i = o->reuseport;
            break;
        case SO_PASSCRED:
            v.i = o->passcred;
            break;
        case SO_REUSEADDR:
            v.i = o->reuseaddr;
            break;
        case SO_KEEPALIVE:
            v.i = o->keepalive;
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
    if (err)
        return err;
    return sock_opt_out(&v, lv, len, uval, ulen);
}
