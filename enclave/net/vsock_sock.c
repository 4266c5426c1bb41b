/* vsock_sock.c: AF_VSOCK behind the socket layer (socket.h): the family's checks of socket()
 * and socketpair(), the sock_ops of its sockets' files in terms of net/vsock.c, and the
 * AF_VSOCK-level options (SO_VM_SOCKETS_*), in Linux's af_vsock.c order.
 */
#include "klib.h"
#include "socket.h"
#include "syscall.h"
#include "vsock.h"

#define USEC_PER_SEC      1000000ll
#define NSEC_PER_USEC     1000ll
#define NSEC_PER_SEC      1000000000ll
#define DEFAULT_CONNECT_S 2

/* AF_VSOCK level options */
#define SO_VM_SOCKETS_BUFFER_SIZE         0
#define SO_VM_SOCKETS_BUFFER_MIN_SIZE     1
#define SO_VM_SOCKETS_BUFFER_MAX_SIZE     2
#define SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD 6
#define SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW 8

static int check_type(int type, int protocol)
{
    if (protocol && protocol != PF_VSOCK)
        return -EPROTONOSUPPORT;
    if (type == SOCK_DGRAM)
        return -ENODEV; /* Linux's virtio transport has no datagrams */
    if (type != SOCK_STREAM)
        return -ESOCKTNOSUPPORT; /* SOCK_SEQPACKET: the device does not offer it */
    return 0;
}

static int vs_create(int type, int protocol, uint32_t flags, struct file **out)
{
    int err = check_type(type, protocol);
    if (err)
        return err;
    *out = vsock_socket_file(flags);
    return *out ? 0 : -ENOMEM;
}

static int vs_pair(int type, int protocol, uint32_t flags, struct file **a, struct file **b)
{
    (void)flags, (void)a, (void)b;
    int err = check_type(type, protocol);
    return err ? err : -EOPNOTSUPP; /* sock_no_socketpair */
}

const struct sock_family g_vsock_family = {
    .family = AF_VSOCK,
    .present = vsock_present,
    .create = vs_create,
    .pair = vs_pair,
};

static int vs_bind(struct file *f, const void *addr, int len)
{
    struct sockaddr_vm a;
    if (vsock_addr_check(addr, len, &a))
        return -EINVAL;
    return vsock_bind(vsock_of(f), &a);
}

static int vs_listen(struct file *f, int backlog)
{
    return vsock_listen(vsock_of(f), backlog);
}

static int vs_connect(struct file *f, const void *addr, int len)
{
    return vsock_connect(vsock_of(f), addr, len, f->flags & O_NONBLOCK);
}

static int vs_accept(struct file *f, uint32_t flags, struct file **out)
{
    return vsock_accept(vsock_of(f), f->flags & O_NONBLOCK, flags, out);
}

static int vs_getname(struct file *f, bool peer, void *addr)
{
    struct sockaddr_vm a;
    int err = vsock_getname(vsock_of(f), peer, &a);
    if (err)
        return err;
    memcpy(addr, &a, sizeof(a));
    return (int)sizeof(a);
}

static int vs_shutdown(struct file *f, int how)
{
    return vsock_shutdown(vsock_of(f), how);
}

static long vs_sendmsg(struct file *f, struct sock_msg *m, int flags)
{
    return vsock_send(vsock_of(f), &m->io, m->len, flags, m->namelen != 0);
}

/* A stream socket names no sender (namelen stays 0), sets no flags, passes no control
 * messages. */
static long vs_recvmsg(struct file *f, struct sock_msg *m, int flags)
{
    return vsock_recv(vsock_of(f), &m->io, m->len, flags);
}

static struct sock_opts *vs_opts(struct file *f)
{
    return &vsock_opts(vsock_of(f))->sk;
}

static int vs_get_sol(struct file *f, int name, void *val, int *len)
{
    struct vsock *s = vsock_of(f);
    int *v = val;
    *len = sizeof(int);
    switch (name) {
    case SO_PROTOCOL:
    case SO_PASSCRED:
        *v = 0;
        return 0;
    case SO_TYPE:
        *v = SOCK_STREAM;
        return 0;
    case SO_DOMAIN:
        *v = AF_VSOCK;
        return 0;
    case SO_ERROR:
        *v = vsock_take_error(s);
        return 0;
    case SO_ACCEPTCONN:
        *v = vsock_listening(s);
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int vs_set_sol(struct file *f, int name, int val)
{
    struct vsock_opts *o = vsock_opts(vsock_of(f));
    switch (name) {
    case SO_PASSCRED:
        return 0; /* accepted; nothing here depends on it */
    case SO_RCVLOWAT:
        /* vsock_set_rcvlowat: no more than the receive buffer */
        if (val < 0)
            val = INT32_MAX;
        if ((uint64_t)val > o->buffer_size)
            return -EINVAL;
        o->sk.rcvlowat = val ? val : 1;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static void update_buffer_size(struct vsock_opts *o, uint64_t val)
{
    if (val > o->buffer_max)
        val = o->buffer_max;
    if (val < o->buffer_min)
        val = o->buffer_min;
    o->buffer_size = val;
}

static int vs_setsockopt(struct file *f, int level, int name, uint64_t uval, int len)
{
    if (level != AF_VSOCK)
        return -ENOPROTOOPT;
    struct vsock_opts *o = vsock_opts(vsock_of(f));
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

static int vs_getsockopt(struct file *f, int level, int name, uint64_t uval, uint64_t ulen)
{
    if (level != AF_VSOCK)
        return -ENOPROTOOPT;
    struct vsock_opts *o = vsock_opts(vsock_of(f));
    int len;
    if (copy_from_user(&len, ulen, sizeof(len)))
        return -EFAULT;
    union {
        uint64_t u64;
        struct linux_timeval tv;
    } v;
    int lv = sizeof(uint64_t);
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
    case SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW: {
        int64_t ns = o->connect_timeout_ns;
        v.tv = (struct linux_timeval){ns / NSEC_PER_SEC, (ns % NSEC_PER_SEC) / NSEC_PER_USEC};
        lv = sizeof(v.tv);
        break;
    }
    default:
        return -ENOPROTOOPT;
    }
    if (len < lv)
        return -EINVAL;
    return (int)sock_opt_out(&v, lv, len, uval, ulen);
}

const struct sock_ops g_vsock_sock_ops = {
    .bind = vs_bind,
    .listen = vs_listen,
    .connect = vs_connect,
    .accept = vs_accept,
    .getname = vs_getname,
    .shutdown = vs_shutdown,
    .sendmsg = vs_sendmsg,
    .recvmsg = vs_recvmsg,
    .opts = vs_opts,
    .get_sol = vs_get_sol,
    .set_sol = vs_set_sol,
    .setsockopt = vs_setsockopt,
    .getsockopt = vs_getsockopt,
};
