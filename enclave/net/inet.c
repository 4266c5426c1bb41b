/* inet.c: AF_INET and AF_INET6 sockets (see inet.h for the model): making them, addresses and
 * routes on loopback, the port table (bind, its conflicts as Linux's inet_bind_conflict and
 * udp_lib_lport_inuse decide them, ephemeral ports, the lookup of the socket that takes a
 * connection or a datagram), names, the SOL_SOCKET options a family answers, and the socket as
 * a file. The other levels' options are net/inet_opt.c's, streams net/inet_tcp.c's (their
 * loopback data path net/inet_lo.c's), datagrams net/inet_udp.c's.
 */
#include "inet.h"

#include "klib.h"
#include "poll.h"
#include "process.h"
#include "syscall.h"
#include "wait.h"

#define LOOPBACK4_IPV6  0x7f000006u /* Linux's v4 sentinel for a v6 socket's v6 address */
#define INADDR_LOOPBACK 0x7f000001u

static struct isock *g_ports; /* every socket with a port (no references: see inet.h) */
static uint64_t g_next_ino = 0x20000;
static uint16_t g_next_port = EPHEMERAL_LO + 0x1a3; /* any start; Linux's is a hash */

void isock_get(struct isock *s)
{
    s->refs++;
}

void isock_put(struct isock *s)
{
    KASSERT(s->refs > 0);
    if (--s->refs)
        return;
    KASSERT(!s->file && !s->peer && !s->aq_head && !s->sq_head && !s->hashed && !s->syn_to);
    kfree(s);
}

void inet_notify(struct isock *s, uint32_t key)
{
    if (s->file)
        poll_notify(s->file, key);
}

long inet_wait(bool (*ready)(void *), void *arg, int64_t timeo)
{
    /* the vsock device's event too: a published connection may be what is waited for */
    int r = wait_until(ready, arg, ALC_EV_VIRTIO(ALC_VIRTIO_SLOT_VSOCK), sock_deadline(timeo));
    if (r == -ETIMEDOUT)
        return -EAGAIN;
    if (r == -EINTR)
        return timeo < 0 ? -ERESTARTSYS : -EINTR;
    return 0;
}

int inet_take_error(struct isock *s)
{
    int e = s->err;
    s->err = 0;
    return e;
}

uint32_t inet_uid(void)
{
    return current_process()->cred.uid[ID_EFF];
}

/* ---- addresses ---- */

static uint32_t v4_of(const uint8_t *a)
{
    return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

bool inet_is_mapped(const uint8_t *a)
{
    static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return !memcmp(a, pfx, sizeof(pfx));
}

bool inet_is_any(const uint8_t *a, bool v4)
{
    static const uint8_t zero[16];
    return v4 ? v4_of(a) == 0 : !memcmp(a, zero, 16);
}

bool inet_is_loopback(const uint8_t *a, bool v4)
{
    static const uint8_t lo6[16] = {[15] = 1};
    return v4 ? (v4_of(a) >> 24) == 127 : !memcmp(a, lo6, 16);
}

/* be_addr: the four bytes as they are on the wire */
void inet_set_v4(uint8_t *a, uint32_t be_addr)
{
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    memcpy(a + 12, &be_addr, 4);
}

static void set_v4_host(uint8_t *a, uint32_t addr)
{
    uint32_t be = __builtin_bswap32(addr);
    inet_set_v4(a, be);
}

void inet_set_laddr(struct isock *s, const uint8_t *a)
{
    static const uint8_t any4[16] = {[10] = 0xff, [11] = 0xff}, any6[16];
    if (!a)
        a = s->family == AF_INET ? any4 : any6;
    memcpy(s->laddr, a, 16);
    if (s->family == AF_INET || inet_is_mapped(a))
        s->rcv4 = v4_of(a);
    else
        s->rcv4 = inet_is_any(a, false) ? 0 : LOOPBACK4_IPV6;
}

/* v4 traffic reaches s when it is bound (or connected) to a v4 address, or to :: */
static bool takes_v4(const struct isock *s)
{
    if (s->family == AF_INET || inet_is_mapped(s->laddr))
        return true;
    return inet_is_any(s->laddr, false) && !s->v6only;
}

int inet_put_name(int family, const uint8_t *addr, uint16_t port, void *out)
{
    uint8_t *o = out;
    uint16_t be_port = __builtin_bswap16(port);
    if (family == AF_INET) {
        memset(o, 0, SIN_LEN);
        *(uint16_t *)o = AF_INET;
        memcpy(o + 2, &be_port, 2);
        memcpy(o + 4, addr + 12, 4);
        return SIN_LEN;
    }
    memset(o, 0, SIN6_LEN);
    *(uint16_t *)o = AF_INET6;
    memcpy(o + 2, &be_port, 2);
    memcpy(o + 8, addr, 16);
    return SIN6_LEN;
}

int inet_route(const struct isock *s, struct inet_name *n, uint8_t *src)
{
    bool bound = !inet_is_any(s->laddr, s->family == AF_INET || inet_is_mapped(s->laddr));
    if (n->v4) {
        if (inet_is_any(n->addr, true)) {
            /* Linux: a destination of 0.0.0.0 is the source, or 127.0.0.1 */
            if (bound && (s->family == AF_INET || inet_is_mapped(s->laddr)))
                memcpy(n->addr, s->laddr, 16);
            else
                set_v4_host(n->addr, INADDR_LOOPBACK);
        }
        if (!inet_is_loopback(n->addr, true))
            return -ENETUNREACH;
        if (bound && (s->family == AF_INET || inet_is_mapped(s->laddr)))
            memcpy(src, s->laddr, 16);
        else
            set_v4_host(src, INADDR_LOOPBACK);
        return 0;
    }
    if (inet_is_any(n->addr, false))
        n->addr[15] = 1; /* :: is ::1 */
    if (!inet_is_loopback(n->addr, false))
        return -ENETUNREACH;
    memcpy(src, n->addr, 16);
    return 0;
}

/* ---- the port table ---- */

void inet_hash(struct isock *s)
{
    if (s->hashed)
        return;
    s->next_port = g_ports;
    g_ports = s;
    s->hashed = true;
}

void inet_unhash(struct isock *s)
{
    if (!s->hashed)
        return;
    for (struct isock **p = &g_ports; *p; p = &(*p)->next_port) {
        if (*p == s) {
            *p = s->next_port;
            break;
        }
    }
    s->next_port = NULL;
    s->hashed = false;
    s->lport = 0;
}

/* Linux's ipv4_rcv_saddr_equal and ipv6_rcv_saddr_equal (match_wildcard on both sides). */
static bool v4_equal(uint32_t a1, uint32_t a2, bool sk2_v6only)
{
    if (sk2_v6only)
        return false;
    return a1 == a2 || !a1 || !a2;
}

enum { A_ANY, A_MAPPED, A_OTHER };

static int addr_type(const struct isock *s)
{
    if (s->family == AF_INET || inet_is_mapped(s->laddr))
        return A_MAPPED;
    return inet_is_any(s->laddr, false) ? A_ANY : A_OTHER;
}

static bool saddr_equal(const struct isock *s1, const struct isock *s2)
{
    bool v6only2 = s2->family == AF_INET6 && s2->v6only;
    if (s1->family == AF_INET) {
        if (s2->family == AF_INET6 && addr_type(s2) == A_OTHER)
            return false; /* a v6 address takes no v4 (Linux 6.x's bhash2 finds no overlap) */
        return v4_equal(s1->rcv4, s2->rcv4, v6only2);
    }
    int t1 = addr_type(s1), t2 = addr_type(s2);
    if (t1 == A_MAPPED && t2 == A_MAPPED)
        return v4_equal(s1->rcv4, s2->rcv4, v6only2);
    if (t1 == A_ANY && t2 == A_ANY)
        return true;
    if (t2 == A_ANY && !(v6only2 && t1 == A_MAPPED))
        return true;
    if (t1 == A_ANY && !(s1->v6only && t2 == A_MAPPED))
        return true;
    return s2->family == AF_INET6 && !memcmp(s1->laddr, s2->laddr, 16);
}

/* Would s on port conflict with t, which has it? */
static bool conflicts(const struct isock *s, const struct isock *t)
{
    bool reuseport = s->o.reuseport && t->o.reuseport && s->uid == t->uid;
    if (s->type == SOCK_STREAM) {
        if (s->o.reuseaddr && t->o.reuseaddr && t->state != TCP_LISTEN)
            return false;
    } else if (s->o.reuseaddr && t->o.reuseaddr) {
        return false;
    }
    return !reuseport && saddr_equal(s, t);
}

static bool port_conflict(const struct isock *s, uint16_t port)
{
    for (const struct isock *t = g_ports; t; t = t->next_port)
        if (t != s && t->type == s->type && t->lport == port && conflicts(s, t))
            return true;
    return false;
}

int inet_port_conflict(struct isock *s)
{
    return port_conflict(s, s->lport) ? -EADDRINUSE : 0;
}

static bool port_used(int type, uint16_t port)
{
    for (const struct isock *t = g_ports; t; t = t->next_port)
        if (t->type == type && t->lport == port)
            return true;
    return false;
}

int inet_autobind(struct isock *s)
{
    if (s->lport)
        return 0;
    for (int tries = 0; tries <= EPHEMERAL_HI - EPHEMERAL_LO; tries++) {
        uint16_t p = g_next_port;
        g_next_port = p == EPHEMERAL_HI ? EPHEMERAL_LO : (uint16_t)(p + 1);
        if (!port_used(s->type, p)) {
            s->lport = p;
            inet_hash(s);
            return 0;
        }
    }
    return -EAGAIN;
}

struct isock *inet_lookup(int type, const struct inet_name *dst, const uint8_t *src, uint16_t sport)
{
    struct isock *best = NULL;
    int best_score = -1;
    for (struct isock *t = g_ports; t; t = t->next_port) {
        if (t->type != type || t->lport != dst->port || t->dead)
            continue;
        if (type == SOCK_STREAM && t->state != TCP_LISTEN)
            continue;
        int score = 0;
        if (dst->v4) {
            if (!takes_v4(t))
                continue;
            bool t_any = t->family == AF_INET6 && !inet_is_mapped(t->laddr)
                             ? true
                             : inet_is_any(t->laddr, true);
            if (!t_any) {
                if (v4_of(t->laddr) != v4_of(dst->addr))
                    continue;
                score += 4;
            }
            if (t->family == AF_INET)
                score += 1;
        } else {
            if (t->family != AF_INET6 || inet_is_mapped(t->laddr))
                continue;
            if (!inet_is_any(t->laddr, false)) {
                if (memcmp(t->laddr, dst->addr, 16))
                    continue;
                score += 4;
            }
        }
        if (type == SOCK_DGRAM && t->has_remote) {
            if (t->rport != sport || memcmp(t->raddr, src, 16))
                continue;
            score += 8;
        }
        if (score > best_score) {
            best = t;
            best_score = score;
        }
    }
    return best;
}

/* ---- making sockets ---- */

struct isock *isock_new(int family, int type)
{
    struct isock *s = kzalloc(sizeof(*s));
    if (!s)
        return NULL;
    s->refs = 1;
    s->family = (uint8_t)family;
    s->type = (uint8_t)type;
    s->state = TCP_CLOSE;
    s->ss = SS_UNCONNECTED;
    s->ino = g_next_ino++;
    s->uid = inet_uid();
    sock_opts_init(&s->o);
    if (type == SOCK_STREAM) {
        s->o.sndbuf = TCP_SNDBUF;
        s->o.rcvbuf = TCP_RCVBUF;
    }
    s->ttl = -1;
    s->keepidle = 7200;
    s->keepintvl = 75;
    s->keepcnt = 9;
    inet_set_laddr(s, NULL);
    return s;
}

struct file *inet_file_for(struct isock *s, uint32_t flags)
{
    struct file *f = kzalloc(sizeof(*f));
    if (!f)
        return NULL;
    *f = (struct file){.ops = &g_inet_file_ops, .flags = O_RDWR | (flags & O_NONBLOCK), .priv = s};
    s->file = f;
    return f;
}

/* ---- bind ---- */

/* Linux's __inet_bind. */
static int bind4(struct isock *s, const uint8_t *a, int len)
{
    uint16_t fam, be_port;
    uint32_t be_addr;
    if (len < SIN_LEN)
        return -EINVAL;
    memcpy(&fam, a, 2);
    memcpy(&be_port, a + 2, 2);
    memcpy(&be_addr, a + 4, 4);
    if (fam != AF_INET && (fam != AF_UNSPEC || be_addr))
        return -EAFNOSUPPORT;
    uint8_t addr[16];
    inet_set_v4(addr, be_addr);
    if (!inet_is_any(addr, true) && !inet_is_loopback(addr, true))
        return -EADDRNOTAVAIL;
    uint16_t port = __builtin_bswap16(be_port);
    if (port && port < PROT_SOCK && !cred_privileged())
        return -EACCES;
    if (s->state != TCP_CLOSE || s->lport)
        return -EINVAL;
    inet_set_laddr(s, addr);
    s->uid = inet_uid();
    if (port) {
        if (port_conflict(s, port)) {
            inet_set_laddr(s, NULL);
            return -EADDRINUSE;
        }
        s->lport = port;
        inet_hash(s);
    } else if (inet_autobind(s)) {
        return -EADDRINUSE;
    }
    s->addr_locked = !inet_is_any(addr, true);
    s->port_locked = port != 0;
    return 0;
}

/* Linux's __inet6_bind. */
static int bind6(struct isock *s, const uint8_t *a, int len)
{
    uint16_t fam, be_port;
    if (len < SIN6_LEN_RFC2133)
        return -EINVAL;
    memcpy(&fam, a, 2);
    memcpy(&be_port, a + 2, 2);
    if (fam != AF_INET6)
        return -EAFNOSUPPORT;
    const uint8_t *addr = a + 8;
    if (addr[0] == 0xff && s->type == SOCK_STREAM)
        return -EINVAL; /* multicast */
    uint16_t port = __builtin_bswap16(be_port);
    if (port && port < PROT_SOCK && !cred_privileged())
        return -EACCES;
    if (s->state != TCP_CLOSE || s->lport)
        return -EINVAL;
    bool mapped = inet_is_mapped(addr);
    if (mapped) {
        if (s->v6only)
            return -EINVAL;
        if (!inet_is_any(addr, true) && !inet_is_loopback(addr, true))
            return -EADDRNOTAVAIL;
    } else if (!inet_is_any(addr, false) && !inet_is_loopback(addr, false)) {
        return -EADDRNOTAVAIL;
    }
    inet_set_laddr(s, addr);
    s->uid = inet_uid();
    if (port) {
        if (port_conflict(s, port)) {
            inet_set_laddr(s, NULL);
            return -EADDRINUSE;
        }
        s->lport = port;
        inet_hash(s);
    } else if (inet_autobind(s)) {
        inet_set_laddr(s, NULL);
        return -EADDRINUSE;
    }
    s->addr_locked = !inet_is_any(addr, mapped);
    s->port_locked = port != 0;
    return 0;
}

static int i_bind(struct file *f, const void *addr, int len)
{
    struct isock *s = f->priv;
    return s->family == AF_INET ? bind4(s, addr, len) : bind6(s, addr, len);
}

/* ---- names ---- */

static int i_getname(struct file *f, bool peer, void *addr)
{
    struct isock *s = f->priv;
    if (peer) {
        if (!s->rport)
            return -ENOTCONN;
        if (s->type == SOCK_STREAM && (s->state == TCP_CLOSE || s->state == TCP_SYN_SENT))
            return -ENOTCONN;
        return inet_put_name(s->family, s->raddr, s->rport, addr);
    }
    return inet_put_name(s->family, s->laddr, s->lport, addr);
}

/* ---- connections and data: to the protocol ---- */

static int i_listen(struct file *f, int backlog)
{
    struct isock *s = f->priv;
    if (s->type != SOCK_STREAM)
        return -EOPNOTSUPP;
    return tcp_listen(s, backlog);
}

static int i_connect(struct file *f, const void *addr, int len)
{
    struct isock *s = f->priv;
    if (s->type == SOCK_STREAM)
        return tcp_connect(s, addr, len, f->flags & O_NONBLOCK);
    return udp_connect(s, addr, len);
}

static int i_accept(struct file *f, uint32_t flags, struct file **out)
{
    struct isock *s = f->priv;
    if (s->type != SOCK_STREAM)
        return -EOPNOTSUPP;
    return tcp_accept(s, f->flags & O_NONBLOCK, flags, out);
}

/* Linux's inet_shutdown. */
static int i_shutdown(struct file *f, int how)
{
    struct isock *s = f->priv;
    if (how < SHUT_RD || how > SHUT_RDWR)
        return -EINVAL;
    unsigned mode = (unsigned)how + 1; /* SHUT_RD -> RCV_SHUT ... */
    if (s->type == SOCK_STREAM)
        return tcp_shutdown(s, mode);
    int err = s->has_remote ? 0 : -ENOTCONN;
    s->shut |= (uint8_t)mode;
    inet_notify(s, 0);
    return err;
}

static long i_sendmsg(struct file *f, struct sock_msg *m, int flags)
{
    struct isock *s = f->priv;
    return s->type == SOCK_STREAM ? tcp_sendmsg(s, m, flags) : udp_sendmsg(s, m, flags);
}

static long i_recvmsg(struct file *f, struct sock_msg *m, int flags)
{
    struct isock *s = f->priv;
    return s->type == SOCK_STREAM ? tcp_recvmsg(s, m, flags) : udp_recvmsg(s, m, flags);
}

/* ---- options ---- */

static struct sock_opts *i_opts(struct file *f)
{
    return &((struct isock *)f->priv)->o;
}

static int i_get_sol(struct file *f, int name, void *val, int *len)
{
    struct isock *s = f->priv;
    int *v = val;
    *len = sizeof(int);
    switch (name) {
    case SO_TYPE:
        *v = s->type;
        return 0;
    case SO_DOMAIN:
        *v = s->family;
        return 0;
    case SO_PROTOCOL:
        *v = s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
        return 0;
    case SO_ERROR:
        tcp_sync(s);
        *v = inet_take_error(s);
        return 0;
    case SO_ACCEPTCONN:
        *v = s->state == TCP_LISTEN;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int i_set_sol(struct file *f, int name, int val)
{
    (void)val;
    if (name == SO_SNDBUF || name == SO_RCVBUF)
        inet_notify(f->priv, POLLOUT); /* writers may go on once sys/socket.c has set it */
    return -ENOPROTOOPT;
}

/* ---- the socket as a file ---- */

static long i_read(struct file *f, void *buf, size_t len)
{
    if (!len)
        return 0; /* Linux's sock_read_iter */
    struct linux_iovec v = {(uint64_t)buf, len};
    struct sock_msg m = {.io = {.iov = &v, .cnt = 1}, .len = len};
    return i_recvmsg(f, &m, (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0);
}

static long i_write(struct file *f, const void *buf, size_t len)
{
    struct linux_iovec v = {(uint64_t)buf, len};
    struct sock_msg m = {.io = {.iov = &v, .cnt = 1}, .len = len};
    return i_sendmsg(f, &m, (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0);
}

static uint32_t i_poll(struct file *f)
{
    struct isock *s = f->priv;
    return s->type == SOCK_STREAM ? tcp_poll(s) : udp_poll(s);
}

static int i_stat(struct file *f, struct linux_stat *st)
{
    sock_fill_stat(st, ((struct isock *)f->priv)->ino);
    return 0;
}

static long i_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    struct isock *s = f->priv;
    uint64_t n;
    switch (cmd) {
    case SIOCINQ:
        if (s->type == SOCK_STREAM) {
            if (s->state == TCP_LISTEN)
                return -EINVAL;
            n = tcp_inq(s);
        } else {
            n = udp_inq(s);
        }
        break;
    case SIOCOUTQ:
        if (s->type == SOCK_STREAM) {
            if (s->state == TCP_LISTEN)
                return -EINVAL;
            n = tcp_outq(s);
        } else {
            n = 0; /* datagrams leave at once on loopback */
        }
        break;
    default:
        return -ENOTTY;
    }
    int v = (int)MIN(n, (uint64_t)INT32_MAX);
    return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long i_name(struct file *f, char *buf, size_t size)
{
    return ksnprintf(buf, size, "socket:[%lu]", ((struct isock *)f->priv)->ino);
}

static void i_release(struct file *f)
{
    struct isock *s = f->priv;
    kfree(f);
    s->file = NULL;
    s->dead = true;
    if (s->type == SOCK_STREAM)
        tcp_release(s);
    else
        udp_release(s);
    inet_unhash(s);
    isock_put(s);
}

static const struct sock_ops g_inet_sock_ops = {
    .bind = i_bind,
    .listen = i_listen,
    .connect = i_connect,
    .accept = i_accept,
    .getname = i_getname,
    .shutdown = i_shutdown,
    .sendmsg = i_sendmsg,
    .recvmsg = i_recvmsg,
    .opts = i_opts,
    .get_sol = i_get_sol,
    .set_sol = i_set_sol,
    .setsockopt = inet_setsockopt,
    .getsockopt = inet_getsockopt,
};

const struct file_ops g_inet_file_ops = {
    .read = i_read,
    .write = i_write,
    .poll = i_poll,
    .notifies = true,
    /* a connection through a published port changes with the vsock device (inet_vsock.c) */
    .wake_events = ALC_EV_VIRTIO(ALC_VIRTIO_SLOT_VSOCK),
    .stat = i_stat,
    .ioctl = i_ioctl,
    .name = i_name,
    .release = i_release,
    .sock = &g_inet_sock_ops,
};

/* ---- the families ---- */

/* Linux's inet_create and inet6_create: TCP for streams, UDP for datagrams; raw sockets, ping
 * sockets, SCTP and the rest do not exist in an enclave. */
static int create(int family, int type, int protocol, uint32_t flags, struct file **out)
{
    if (protocol < 0 || protocol >= 256)
        return -EINVAL;
    if (type == SOCK_STREAM) {
        if (protocol && protocol != IPPROTO_TCP)
            return -EPROTONOSUPPORT;
    } else if (type == SOCK_DGRAM) {
        if (protocol && protocol != IPPROTO_UDP)
            return -EPROTONOSUPPORT;
    } else {
        return -ESOCKTNOSUPPORT;
    }
    struct isock *s = isock_new(family, type);
    struct file *f = s ? inet_file_for(s, flags) : NULL;
    if (!f) {
        kfree(s);
        return -ENOMEM;
    }
    *out = f;
    return 0;
}

static int create4(int type, int protocol, uint32_t flags, struct file **out)
{
    return create(AF_INET, type, protocol, flags, out);
}

static int create6(int type, int protocol, uint32_t flags, struct file **out)
{
    return create(AF_INET6, type, protocol, flags, out);
}

const struct sock_family g_inet_family = {
    .family = AF_INET,
    .create = create4,
};

const struct sock_family g_inet6_family = {
    .family = AF_INET6,
    .create = create6,
};
