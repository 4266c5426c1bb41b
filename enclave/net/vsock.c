/* vsock.c: the enclave's AF_VSOCK stream sockets as the application sees them (vsock.h for the
 * conventions): addresses and bind, listen, connect (and the kernel's own outbound TCP
 * connections over vsock, vsock_connect_out), accept, shutdown, names, the socket as a file
 * (read, write, poll, ioctl, stat, close) and its release. The data path is net/vsock_io.c,
 * connections and their packets net/vsock_conn.c and net/vsock_rx.c, the device
 * net/vsock_virtio.c.
 *
 * Lifetime: the file owns its struct vsock; its release (the last close) shuts the connection
 * down and leaves the socket to the connection core (vsock_conn.c) until the peer answers or
 * the close timer runs out. A blocking connect or accept holds the file, so its socket lives
 * while it waits. Everything runs under the kernel lock.
 */
#include "vsock_conn.h"

#include "exe.h"
#include "klib.h"
#include "poll.h"
#include "syscall.h"
#include "vfs.h"
#include "wait.h"

#define CLOSE_TIMEOUT_NS   (8 * NSEC_PER_SEC) /* Linux's VSOCK_CLOSE_TIMEOUT */
#define LAST_RESERVED_PORT 1023u
#define MAX_PORT_RETRIES   24

static uint32_t g_next_port;

static const struct file_ops g_sock_ops;

int vsock_addr_check(const void *addr, int len, struct sockaddr_vm *out)
{
    if (len < (int)sizeof(*out))
        return -EINVAL;
    memcpy(out, addr, sizeof(*out));
    if (out->svm_family != AF_VSOCK || (out->svm_flags & ~VMADDR_FLAG_TO_HOST))
        return -EINVAL;
    return 0;
}

static int do_bind(struct vsock *s, uint32_t cid, uint32_t port)
{
    if (port == VMADDR_PORT_ANY) {
        if (!g_next_port) {
            uint32_t r = 0;
            random_fill(&r, sizeof(r));
            g_next_port = r > LAST_RESERVED_PORT ? r : LAST_RESERVED_PORT + 1 + r;
        }
        bool found = false;
        for (int i = 0; i < MAX_PORT_RETRIES && !found; i++) {
            if (g_next_port <= LAST_RESERVED_PORT || g_next_port == VMADDR_PORT_ANY)
                g_next_port = LAST_RESERVED_PORT + 1;
            port = g_next_port++;
            found = !vsock_bound_find(port);
        }
        if (!found)
            return -EADDRNOTAVAIL;
    } else if (vsock_bound_find(port)) {
        return -EADDRINUSE;
    }
    s->local_cid = cid;
    s->local_port = port;
    vsock_bound_insert(s);
    return 0;
}

int vsock_bind(struct vsock *s, const struct sockaddr_vm *a)
{
    vsock_pump();
    if (s->bound || s->local_port != VMADDR_PORT_ANY)
        return -EINVAL;
    if (a->svm_cid != VMADDR_CID_ANY && a->svm_cid != vsock_local_cid())
        return -EADDRNOTAVAIL;
    return do_bind(s, a->svm_cid, a->svm_port);
}

int vsock_listen(struct vsock *s, int backlog)
{
    if (s->ss != SS_UNCONNECTED || !s->bound)
        return -EINVAL;
    s->backlog = backlog;
    s->sk_state = SK_LISTEN;
    return 0;
}

static bool connect_decided(void *arg)
{
    return ((struct vsock *)arg)->sk_state != SK_SYN_SENT;
}

static void connect_abort(struct vsock *s)
{
    s->sk_state = SK_CLOSE;
    s->ss = SS_UNCONNECTED;
    vsock_clear_timer(s);
    vsock_pend_remove(s);
    vsock_conn_remove(s);
}

int vsock_connect(struct vsock *s, const void *addr, int len, bool nonblock)
{
    vsock_pump();
    switch (s->ss) {
    case SS_CONNECTED:
        return -EISCONN;
    case SS_DISCONNECTING:
        return -EINVAL;
    case SS_CONNECTING:
        if (nonblock)
            return -EALREADY;
        break;
    default: {
        struct sockaddr_vm a;
        if (s->sk_state == SK_LISTEN || vsock_addr_check(addr, len, &a))
            return -EINVAL;
        if (a.svm_cid == VMADDR_CID_LOCAL)
            return -ENODEV; /* no loopback transport */
        if (!s->bound) {
            int err = do_bind(s, VMADDR_CID_ANY, VMADDR_PORT_ANY);
            if (err)
                return err;
        }
        s->remote = a;
        s->peer_cid = a.svm_cid == VMADDR_CID_HOST ? ALC_VSOCK_CID_HOST : a.svm_cid;
        s->peer_port = a.svm_port;
        if (vsock_conn_find(s->local_port, s->peer_port))
            return -EADDRNOTAVAIL; /* the same pair is still closing */
        s->err = 0;
        s->done = s->reset = false;
        s->shut = s->peer_shut = s->shut_sent = 0;
        s->buf_alloc = vsock_ring_size(s);
        s->rx_in = s->rx_out = 0;
        s->fwd_sent = 0;
        s->tx_cnt = s->peer_buf_alloc = s->peer_fwd_cnt = 0;
        s->sk_state = SK_SYN_SENT;
        vsock_conn_insert(s);
        vsock_ctl(s, PEND_REQUEST, 0);
        vsock_tx_kick();
        s->ss = SS_CONNECTING;
        int64_t t = s->o.connect_timeout_ns;
        vsock_set_timer(s, time_monotonic_ns() + t);
        if (nonblock)
            return -EINPROGRESS;
    }
    }
    int r = wait_until(connect_decided, s, EV, s->timed ? s->deadline : WAIT_FOREVER);
    if (s->sk_state == SK_ESTABLISHED)
        return 0;
    if (r == -EINTR) {
        connect_abort(s);
        return -EINTR;
    }
    if (s->sk_state == SK_SYN_SENT) {
        connect_abort(s);
        return -ETIMEDOUT;
    }
    s->ss = SS_UNCONNECTED;
    return s->err ? -s->err : -ECONNRESET;
}

int vsock_connect_out(struct vsock *s, const struct alc_tcp_origin *dest, int64_t timeout_ns)
{
    struct sockaddr_vm a = {
        .svm_family = AF_VSOCK, .svm_port = ALC_VSOCK_TCP_OUT_PORT, .svm_cid = ALC_VSOCK_CID_HOST};
    s->has_dest = true;
    s->dest = *dest;
    s->o.connect_timeout_ns = timeout_ns;
    int err = vsock_connect(s, &a, sizeof(a), true);
    return err == -EINPROGRESS ? 0 : err;
}

int vsock_connect_result(struct vsock *s)
{
    vsock_pump();
    if (s->sk_state == SK_SYN_SENT)
        return -EINPROGRESS;
    if (s->ss == SS_CONNECTED || s->sk_state == SK_ESTABLISHED || s->sk_state == SK_CLOSING)
        return 0;
    return s->err ? -s->err : -ECONNRESET;
}

static bool accept_ready(void *arg)
{
    struct vsock *s = arg;
    return s->aq_head || s->err || s->sk_state != SK_LISTEN;
}

struct file *vsock_file_for(struct vsock *s, uint32_t flags)
{
    struct file *f = kzalloc(sizeof(*f));
    if (!f)
        return NULL;
    *f = (struct file){.ops = &g_sock_ops, .flags = O_RDWR | (flags & O_NONBLOCK), .priv = s};
    s->file = f;
    return f;
}

int vsock_accept(struct vsock *l, bool nonblock, uint32_t flags, struct file **out)
{
    vsock_pump();
    if (l->sk_state != SK_LISTEN)
        return -EINVAL;
    int64_t timeo = nonblock ? 0 : l->o.sk.rcvtimeo_ns;
    int64_t deadline = vsock_deadline_of(timeo);
    while (!l->aq_head) {
        if (timeo == 0)
            return -EAGAIN;
        int r = wait_until(accept_ready, l, EV, deadline);
        if (r == -EINTR)
            return timeo < 0 ? -ERESTARTSYS : -EINTR;
        if (r == -ETIMEDOUT)
            return -EAGAIN;
        if (l->sk_state != SK_LISTEN)
            return -EINVAL;
    }
    struct vsock *c = l->aq_head;
    struct file *f = vsock_file_for(c, flags);
    if (!f)
        return -ENFILE;
    l->aq_head = c->aq_next;
    if (!l->aq_head)
        l->aq_tail = NULL;
    c->aq_next = NULL;
    l->nqueued--;
    *out = f;
    return 0;
}

int vsock_shutdown(struct vsock *s, int how)
{
    unsigned mode = (unsigned)how + 1;
    if ((mode & ~SHUT_BOTH) || !mode)
        return -EINVAL;
    vsock_pump();
    if (s->ss == SS_UNCONNECTED)
        return -ENOTCONN;
    s->ss = SS_DISCONNECTING;
    s->shut |= (uint8_t)mode;
    if (s->sk_state == SK_ESTABLISHED && !s->done) {
        s->shut_sent |= (uint8_t)mode;
        vsock_ctl(s, PEND_SHUTDOWN, mode);
        vsock_tx_kick();
    }
    vsock_notify(s, 0);
    return 0;
}

int vsock_getname(struct vsock *s, bool peer, struct sockaddr_vm *out)
{
    if (peer) {
        if (s->ss != SS_CONNECTED)
            return -ENOTCONN;
        *out = s->remote;
        return 0;
    }
    *out = (struct sockaddr_vm){
        .svm_family = AF_VSOCK, .svm_port = s->local_port, .svm_cid = s->local_cid};
    return 0;
}

struct vsock_opts *vsock_opts(struct vsock *s)
{
    return &s->o;
}

int vsock_take_error(struct vsock *s)
{
    vsock_pump();
    int e = s->err;
    s->err = 0;
    return e;
}

bool vsock_listening(struct vsock *s)
{
    return s->sk_state == SK_LISTEN;
}

/* ---- the socket as a file ---- */

struct vsock *vsock_of(struct file *f)
{
    return f && f->ops == &g_sock_ops ? f->priv : NULL;
}

static long sock_read(struct file *f, void *buf, size_t len)
{
    struct linux_iovec v = {(uint64_t)buf, len};
    struct sock_io io = {.iov = &v, .cnt = 1};
    return vsock_recv(f->priv, &io, len, (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0);
}

static long sock_write(struct file *f, const void *buf, size_t len)
{
    struct linux_iovec v = {(uint64_t)buf, len};
    struct sock_io io = {.iov = &v, .cnt = 1};
    return vsock_send(f->priv, &io, len, (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0, false);
}

static uint32_t sock_poll(struct file *f)
{
    return vsock_poll_bits(f->priv);
}

uint64_t vsock_queued(struct vsock *s, bool out)
{
    vsock_pump();
    return out ? (uint64_t)(s->tx_cnt - s->peer_fwd_cnt) : vsock_rx_avail(s);
}

void vsock_abort(struct vsock *s)
{
    vsock_pump();
    if (s->in_conn && !s->done) {
        vsock_rst(s->local_port, s->peer_port, s->peer_cid);
        s->done = true;
        vsock_conn_remove(s);
        vsock_tx_kick();
    }
}

/* Linux's vsock_poll. */
uint32_t vsock_poll_bits(struct vsock *s)
{
    vsock_pump();
    uint32_t m = 0;
    if (s->err)
        m |= POLLERR;
    if (s->shut == SHUT_BOTH || ((s->shut & SHUT_SEND) && (s->peer_shut & SHUT_SEND)) || s->reset)
        m |= POLLHUP;
    if ((s->shut & SHUT_RCV) || (s->peer_shut & SHUT_SEND))
        m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (s->sk_state == SK_LISTEN && s->aq_head)
        m |= POLLIN | POLLRDNORM;
    if ((s->sk_state == SK_ESTABLISHED || s->sk_state == SK_CLOSING) && !(s->shut & SHUT_RCV) &&
        vsock_rx_avail(s) >= (uint64_t)MAX(s->o.sk.rcvlowat, 1))
        m |= POLLIN | POLLRDNORM;
    if (s->sk_state == SK_ESTABLISHED && !(s->shut & SHUT_SEND) && vsock_credit(s) > 0 &&
        vsock_tx_avail())
        m |= POLLOUT | POLLWRNORM;
    if ((s->sk_state == SK_CLOSE || s->sk_state == SK_CLOSING) && !(s->shut & SHUT_SEND))
        m |= POLLOUT | POLLWRNORM;
    return m;
}

static int sock_stat(struct file *f, struct linux_stat *st)
{
    sock_fill_stat(st, ((struct vsock *)f->priv)->ino);
    return 0;
}

static long sock_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    struct vsock *s = f->priv;
    int n;
    vsock_pump();
    switch (cmd) {
    case SIOCINQ:
        if (s->sk_state == SK_LISTEN)
            return -EINVAL;
        n = (int)MIN(vsock_rx_avail(s), (uint64_t)INT32_MAX);
        break;
    case SIOCOUTQ:
        if (s->sk_state == SK_LISTEN)
            return -EINVAL;
        n = (int)(s->tx_cnt - s->peer_fwd_cnt);
        break;
    default:
        return -ENOTTY;
    }
    return copy_to_user(arg, &n, sizeof(n)) ? -EFAULT : 0;
}

static long sock_name(struct file *f, char *buf, size_t size)
{
    return ksnprintf(buf, size, "socket:[%lu]", ((struct vsock *)f->priv)->ino);
}

/* The last close: the connection is shut down both ways and forgotten once the peer answers
 * with its RST (or after CLOSE_TIMEOUT_NS, with ours); connections never accepted are reset. */
static void sock_release(struct file *f)
{
    struct vsock *s = f->priv;
    kfree(f);
    s->file = NULL;
    vsock_pump();
    while (s->aq_head) {
        struct vsock *c = s->aq_head;
        s->aq_head = c->aq_next;
        vsock_reset_and_free(c);
    }
    if (s->sk_state == SK_SYN_SENT) {
        vsock_reset_and_free(s); /* closed while connecting: the peer forgets the request at once */
    } else if ((s->sk_state == SK_ESTABLISHED || s->sk_state == SK_CLOSING) && !s->done &&
               s->in_conn) {
        if (s->peer_shut == SHUT_BOTH) {
            vsock_reset_and_free(s);
        } else {
            /* as Linux: SHUTDOWN both ways unless the program shut something down itself
             * (then the peer's answer to that ends the connection) */
            if (!s->shut_sent)
                vsock_ctl(s, PEND_SHUTDOWN, SHUT_BOTH);
            s->shut = s->shut_sent = SHUT_BOTH;
            s->orphan = true;
            kfree(s->rbuf);
            s->rbuf = NULL;
            vsock_set_timer(s, time_monotonic_ns() + CLOSE_TIMEOUT_NS);
        }
    } else {
        vsock_free(s);
    }
    vsock_tx_kick();
}

static const struct file_ops g_sock_ops = {
    .read = sock_read,
    .write = sock_write,
    .poll = sock_poll,
    .wake_events = EV,
    .stat = sock_stat,
    .ioctl = sock_ioctl,
    .name = sock_name,
    .release = sock_release,
    .sock = &g_vsock_sock_ops,
};

struct file *vsock_socket_file(uint32_t flags)
{
    vsock_rx_grow(RX_BUFS);
    struct vsock *s = vsock_new(NULL);
    if (!s)
        return NULL;
    struct file *f = vsock_file_for(s, flags);
    if (!f)
        vsock_free(s);
    return f;
}
