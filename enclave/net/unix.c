/* unix.c: AF_UNIX sockets (see unix.h for the model): making them (socket, socketpair), names
 * (bind with a path, abstract names, autobind), connections (connect, listen, accept,
 * shutdown), readiness, the socket as a file, and the options only AF_UNIX answers. Messages
 * are net/unix_msg.c's.
 *
 * Names: a path name is a socket inode (S_IFSOCK) that bind creates in the enclave's file
 * system; the inode points back to the socket (inode.arg) while it is bound, so connect finds
 * the socket by following the path, with Linux's checks (write permission on the socket file,
 * ECONNREFUSED for a name no socket is bound to now). An abstract name (sun_path[0] == 0) lives
 * only while its socket does; names of different socket types do not meet, as on Linux, whose
 * hash mixes in the type. Autobind picks Linux's form: a NUL and five hex digits.
 */
#include "unix.h"

#include "fs_common.h"
#include "klib.h"
#include "poll.h"
#include "process.h"
#include "syscall.h"
#include "vfs.h"
#include "wait.h"

#define NSEC_PER_SEC 1000000000ll
#define AUTOBIND_MAX 0xfffffu
#define NO_ID        0xffffffffu /* what SO_PEERCRED says of a socket with no peer credentials */

struct usock *g_unix_all;
static uint64_t g_next_ino = 0x10000;
static uint32_t g_autobind_next = 0x10f3a; /* any start; Linux's is random */

void usock_get(struct usock *s)
{
    s->refs++;
}

void usock_put(struct usock *s)
{
    KASSERT(s->refs > 0);
    if (--s->refs)
        return;
    KASSERT(!s->rq_head && !s->aq_head && !s->peer && !s->file);
    kfree(s);
}

void unix_notify(struct usock *s, uint32_t key)
{
    if (s->file)
        poll_notify(s->file, key);
}

long unix_wait(bool (*ready)(void *), void *arg, int64_t timeo)
{
    int r = wait_until(ready, arg, 0, sock_deadline(timeo));
    if (r == -ETIMEDOUT)
        return -EAGAIN;
    if (r == -EINTR)
        return timeo < 0 ? -ERESTARTSYS : -EINTR;
    return 0;
}

int unix_take_error(struct usock *s)
{
    int e = s->err;
    s->err = 0;
    return e;
}

struct linux_ucred unix_cred(bool effective)
{
    struct process *p = current_process();
    int which = effective ? ID_EFF : ID_REAL;
    return (struct linux_ucred){p->pid, p->cred.uid[which], p->cred.gid[which]};
}

static void all_insert(struct usock *s)
{
    s->next_all = g_unix_all;
    if (g_unix_all)
        g_unix_all->prev_all = &s->next_all;
    s->prev_all = &g_unix_all;
    g_unix_all = s;
}

static void all_remove(struct usock *s)
{
    if (!s->prev_all)
        return;
    *s->prev_all = s->next_all;
    if (s->next_all)
        s->next_all->prev_all = s->prev_all;
    s->prev_all = NULL;
}

static struct usock *usock_new(int type)
{
    struct usock *s = kzalloc(sizeof(*s));
    if (!s)
        return NULL;
    s->refs = 1;
    s->type = (uint8_t)type;
    s->ino = g_next_ino++;
    sock_opts_init(&s->o);
    return s;
}

/* A file for s, which takes over the caller's reference. */
static struct file *file_for(struct usock *s, uint32_t flags)
{
    struct file *f = kzalloc(sizeof(*f));
    if (!f)
        return NULL;
    *f = (struct file){.ops = &g_unix_file_ops, .flags = O_RDWR | (flags & O_NONBLOCK), .priv = s};
    s->file = f;
    all_insert(s);
    return f;
}

/* ---- names ---- */

int unix_name_check(uint8_t *addr, int len)
{
    if (len <= UNIX_PATH_OFF || len > UNIX_ADDR_MAX)
        return -EINVAL;
    if (addr[0] != AF_UNIX || addr[1] != 0)
        return -EINVAL;
    if (!addr[UNIX_PATH_OFF])
        return len; /* abstract: every byte counts */
    addr[len] = 0;
    return UNIX_PATH_OFF + (int)strlen((const char *)addr + UNIX_PATH_OFF) + 1;
}

static struct usock *find_abstract(const uint8_t *addr, int len, int type)
{
    for (struct usock *s = g_unix_all; s; s = s->next_all)
        if (s->abstract && s->type == type && s->addrlen == len &&
            !memcmp(s->addr, addr, (size_t)len))
            return s;
    return NULL;
}

int unix_autobind(struct usock *s)
{
    if (s->addrlen)
        return 0;
    for (uint32_t tries = 0; tries <= AUTOBIND_MAX; tries++) {
        uint8_t a[UNIX_ADDR_MAX + 1] = {AF_UNIX, 0, 0};
        ksnprintf((char *)a + UNIX_PATH_OFF + 1, 6, "%05x", g_autobind_next);
        g_autobind_next = (g_autobind_next + 1) & AUTOBIND_MAX;
        int len = UNIX_PATH_OFF + 6;
        if (!find_abstract(a, len, s->type)) {
            memcpy(s->addr, a, (size_t)len);
            s->addrlen = len;
            s->abstract = true;
            return 0;
        }
    }
    return -ENOSPC;
}

static int bind_path(struct usock *s, const uint8_t *addr, int len)
{
    struct inode *dir;
    char name[NAME_MAX_LEN + 1];
    uint32_t nlen;
    const char *path = (const char *)addr + UNIX_PATH_OFF;
    /* Linux's order: the path's own errors, EADDRINUSE, EROFS, EACCES, then an already bound
     * socket (EINVAL, after Linux made and removed the file) */
    int err = parent_at(AT_FDCWD, path, &dir, name, &nlen);
    if (err && err != -EEXIST)
        return err;
    if (!err && !S_ISDIR(dir->mode))
        return -ENOTDIR;
    if (err || vfs_child(dir, name, nlen))
        return -EADDRINUSE; /* Linux's bind turns mknod's EEXIST into EADDRINUSE */
    if (!vfs_writable(dir))
        return -EROFS;
    err = dir_may_change(dir, NULL);
    if (err)
        return err;
    if (s->addrlen)
        return -EINVAL;
    struct inode *ino;
    err = vfs_create(dir, name, nlen, S_IFSOCK | (0777 & ~current_process()->umask), &ino);
    if (err)
        return err;
    ino->arg = (uint64_t)s;
    vfs_get(ino);
    s->path = ino;
    memcpy(s->addr, addr, (size_t)len);
    s->addrlen = len;
    return 0;
}

static int u_bind(struct file *f, const void *uaddr, int len)
{
    struct usock *s = f->priv;
    uint8_t *addr = (uint8_t *)uaddr;
    if (len == UNIX_PATH_OFF && addr[0] == AF_UNIX && addr[1] == 0)
        return unix_autobind(s);
    int n = unix_name_check(addr, len);
    if (n < 0)
        return n;
    if (addr[UNIX_PATH_OFF])
        return bind_path(s, addr, n);
    if (s->addrlen)
        return -EINVAL;
    if (find_abstract(addr, n, s->type))
        return -EADDRINUSE;
    memcpy(s->addr, addr, (size_t)n);
    s->addrlen = n;
    s->abstract = true;
    return 0;
}

int unix_find_other(uint8_t *addr, int len, int type, struct usock **out)
{
    int n = unix_name_check(addr, len);
    if (n < 0)
        return n;
    struct usock *o;
    if (addr[UNIX_PATH_OFF]) {
        struct inode *ino;
        int err =
            resolve_path_at(AT_FDCWD, (const char *)addr + UNIX_PATH_OFF, 0, LOOKUP_FOLLOW, &ino);
        if (err)
            return err;
        err = cred_may_access(ino, MAY_WRITE);
        if (err)
            return err;
        if ((ino->mode & S_IFMT) != S_IFSOCK || !ino->arg || ino->iops)
            return -ECONNREFUSED;
        o = (struct usock *)ino->arg;
        if (o->type != type)
            return -EPROTOTYPE;
        vfs_touch(ino, T_ATIME);
    } else {
        o = find_abstract(addr, n, type);
        if (!o)
            return -ECONNREFUSED;
    }
    usock_get(o);
    *out = o;
    return 0;
}

static int u_getname(struct file *f, bool peer, void *addr)
{
    struct usock *s = f->priv;
    if (peer) {
        s = s->peer;
        if (!s)
            return -ENOTCONN;
    }
    if (!s->addrlen) {
        *(uint16_t *)addr = AF_UNIX;
        return UNIX_PATH_OFF;
    }
    memcpy(addr, s->addr, (size_t)s->addrlen);
    return s->addrlen;
}

/* ---- connections ---- */

static int u_listen(struct file *f, int backlog)
{
    struct usock *s = f->priv;
    if (s->type != SOCK_STREAM && s->type != SOCK_SEQPACKET)
        return -EOPNOTSUPP;
    if (!s->addrlen)
        return -EINVAL; /* no listening on an unbound socket */
    if (s->state != US_UNCONNECTED && s->state != US_LISTEN)
        return -EINVAL;
    bool more = backlog > s->backlog;
    s->backlog = backlog;
    s->state = US_LISTEN;
    s->peercred = unix_cred(true); /* what connect copies */
    s->has_peercred = true;
    if (more)
        unix_notify(s, POLLOUT);
    return 0;
}

struct room_wait {
    struct usock *s, *other;
};

static bool backlog_room(void *arg)
{
    struct room_wait *w = arg;
    wait_on_file(w->s->file);
    if (w->other->file)
        wait_on_file(w->other->file);
    return w->other->dead || w->other->nq <= (uint32_t)w->other->backlog;
}

static int stream_connect(struct usock *s, uint8_t *addr, int len, bool nonblock)
{
    int n = unix_name_check(addr, len);
    if (n < 0)
        return n;
    if (s->o.passcred && !s->addrlen) {
        int err = unix_autobind(s);
        if (err)
            return err;
    }
    int64_t timeo = nonblock ? 0 : s->o.sndtimeo_ns;
    for (;;) {
        struct usock *other;
        int err = unix_find_other(addr, len, s->type, &other);
        if (err)
            return err;
        if (other->state != US_LISTEN || (other->shut & RCV_SHUT))
            err = -ECONNREFUSED;
        else if (other->nq > (uint32_t)other->backlog) {
            err = -EAGAIN;
            if (timeo) {
                struct room_wait w = {s, other};
                err = unix_wait(backlog_room, &w, timeo);
                usock_put(other);
                if (err)
                    return err;
                continue; /* the listener may be gone: look again */
            }
        } else if (s->state == US_CONNECTED)
            err = -EISCONN;
        else if (s->state != US_UNCONNECTED)
            err = -EINVAL;
        if (err) {
            usock_put(other);
            return err;
        }
        struct usock *e = usock_new(s->type);
        if (!e) {
            usock_put(other);
            return -ENOMEM;
        }
        /* the server's end: the listener's name and SO_PASSCRED (what Linux's accept
         * inherits), the client's credentials */
        e->state = US_CONNECTED;
        e->o.passcred = other->o.passcred;
        memcpy(e->addr, other->addr, sizeof(e->addr));
        e->addrlen = other->addrlen;
        e->peercred = unix_cred(true);
        e->has_peercred = true;
        usock_get(s);
        e->peer = s;
        s->peer = e; /* takes the reference usock_new made; the queue takes another */
        usock_get(e);
        s->state = US_CONNECTED;
        s->peercred = other->peercred;
        s->has_peercred = other->has_peercred;
        if (other->aq_tail)
            other->aq_tail->aq_next = e;
        else
            other->aq_head = e;
        other->aq_tail = e;
        other->nq++;
        unix_notify(other, POLLIN | POLLRDNORM);
        unix_notify(s, POLLOUT | POLLWRNORM);
        usock_put(other);
        return 0;
    }
}

void unix_wake_senders(struct usock *s)
{
    for (struct usock *t = g_unix_all; t; t = t->next_all)
        if (t->peer == s && t != s)
            unix_notify(t, POLLOUT | POLLWRNORM);
}

void unix_dgram_disconnect(struct usock *s)
{
    struct usock *old = s->peer;
    s->peer = NULL;
    s->state = US_UNCONNECTED;
    /* Linux drops what was received over the old connection, and tells the old peer when it
     * was connected back to us */
    if (s->rq_head) {
        unix_purge(s);
        unix_wake_senders(s);
        if (!old->dead && old->peer == s) {
            old->err = ECONNRESET;
            unix_notify(old, POLLERR);
        }
    }
    usock_put(old);
}

static int dgram_connect(struct usock *s, uint8_t *addr, int len)
{
    if (len < UNIX_PATH_OFF)
        return -EINVAL;
    struct usock *other = NULL;
    if (addr[0] != AF_UNSPEC || addr[1] != 0) {
        int n = unix_name_check(addr, len);
        if (n < 0)
            return n;
        if (s->o.passcred && !s->addrlen) {
            int err = unix_autobind(s);
            if (err)
                return err;
        }
        int err = unix_find_other(addr, len, s->type, &other);
        if (err)
            return err;
        if (other->peer && other->peer != s) {
            usock_put(other);
            return -EPERM;
        }
    }
    if (s->peer == other && other) {
        usock_put(other);
        return 0;
    }
    if (s->peer) {
        unix_dgram_disconnect(s);
        unix_notify(s, POLLOUT | POLLWRNORM);
    }
    s->peer = other;
    s->state = other ? US_CONNECTED : US_UNCONNECTED;
    unix_notify(s, 0);
    return 0;
}

static int u_connect(struct file *f, const void *uaddr, int len)
{
    struct usock *s = f->priv;
    uint8_t *addr = (uint8_t *)uaddr;
    if (s->type == SOCK_DGRAM)
        return dgram_connect(s, addr, len);
    return stream_connect(s, addr, len, f->flags & O_NONBLOCK);
}

static bool accept_ready(void *arg)
{
    struct usock *s = arg;
    wait_on_file(s->file);
    return s->aq_head || s->err || (s->shut & RCV_SHUT);
}

static int u_accept(struct file *f, uint32_t flags, struct file **out)
{
    struct usock *s = f->priv;
    if (s->type != SOCK_STREAM && s->type != SOCK_SEQPACKET)
        return -EOPNOTSUPP;
    if (s->state != US_LISTEN)
        return -EINVAL;
    int64_t timeo = (f->flags & O_NONBLOCK) ? 0 : s->o.rcvtimeo_ns;
    while (!s->aq_head) {
        if (s->err)
            return -unix_take_error(s);
        if (s->shut & RCV_SHUT)
            return -EINVAL;
        if (!timeo)
            return -EAGAIN;
        long err = unix_wait(accept_ready, s, timeo);
        if (err)
            return (int)err;
    }
    struct usock *e = s->aq_head;
    struct file *nf = file_for(e, flags);
    if (!nf)
        return -ENOMEM;
    s->aq_head = e->aq_next;
    if (!s->aq_head)
        s->aq_tail = NULL;
    e->aq_next = NULL;
    s->nq--;
    unix_notify(s, POLLOUT); /* connects waiting for room */
    *out = nf;
    return 0;
}

static int u_shutdown(struct file *f, int how)
{
    struct usock *s = f->priv;
    if (how < SHUT_RD || how > SHUT_RDWR)
        return -EINVAL;
    uint8_t mode = (uint8_t)(how + 1); /* SHUT_RD -> RCV_SHUT ... */
    s->shut |= mode;
    unix_notify(s, 0);
    struct usock *o = s->peer;
    if (o && s->type != SOCK_DGRAM) {
        uint8_t pm = 0;
        if (mode & RCV_SHUT)
            pm |= SEND_SHUT;
        if (mode & SEND_SHUT)
            pm |= RCV_SHUT;
        o->shut |= pm;
        unix_notify(o, 0);
    }
    return 0;
}

/* ---- options ---- */

static struct sock_opts *u_opts(struct file *f)
{
    return &((struct usock *)f->priv)->o;
}

static int u_get_sol(struct file *f, int name, void *val, int *len)
{
    struct usock *s = f->priv;
    int *v = val;
    *len = sizeof(int);
    switch (name) {
    case SO_TYPE:
        *v = s->type;
        return 0;
    case SO_DOMAIN:
        *v = AF_UNIX;
        return 0;
    case SO_ERROR:
        *v = unix_take_error(s);
        return 0;
    case SO_ACCEPTCONN:
        *v = s->state == US_LISTEN;
        return 0;
    case SO_PEERCRED: {
        struct linux_ucred c = {0, NO_ID, NO_ID};
        if (s->has_peercred)
            c = s->peercred;
        memcpy(val, &c, sizeof(c));
        *len = sizeof(c);
        return 0;
    }
    default:
        return -ENOPROTOOPT;
    }
}

static int u_set_sol(struct file *f, int name, int val)
{
    (void)val;
    if (name == SO_SNDBUF)
        unix_notify(f->priv, POLLOUT); /* writers may go on once sys/socket.c has set it */
    return -ENOPROTOOPT;
}

/* ---- the socket as a file ---- */

static long u_sendmsg(struct file *f, struct sock_msg *m, int flags);
static long u_recvmsg(struct file *f, struct sock_msg *m, int flags);

static long u_read(struct file *f, void *buf, size_t len)
{
    if (!len)
        return 0; /* Linux's sock_read_iter */
    struct linux_iovec v = {(uint64_t)buf, len};
    struct sock_msg m = {.io = {.iov = &v, .cnt = 1}, .len = len};
    return u_recvmsg(f, &m, (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0);
}

static long u_write(struct file *f, const void *buf, size_t len)
{
    struct linux_iovec v = {(uint64_t)buf, len};
    struct sock_msg m = {.io = {.iov = &v, .cnt = 1}, .len = len};
    return u_sendmsg(f, &m, (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0);
}

static bool writable(const struct usock *s)
{
    return s->state != US_LISTEN && s->wmem * 4 <= (uint64_t)s->o.sndbuf;
}

/* Linux's unix_poll and unix_dgram_poll. */
static uint32_t u_poll(struct file *f)
{
    struct usock *s = f->priv;
    uint32_t m = 0;
    if (s->err)
        m |= POLLERR;
    if (s->shut == SHUT_MASK)
        m |= POLLHUP;
    if (s->shut & RCV_SHUT)
        m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (s->rq_head || s->aq_head)
        m |= POLLIN | POLLRDNORM;
    if (s->type != SOCK_DGRAM && s->state == US_UNCONNECTED)
        m |= POLLHUP;
    bool w = writable(s);
    if (w && s->type != SOCK_STREAM) {
        struct usock *o = s->peer;
        if (o && o->peer != s && o->rq_len > MAX_DGRAM_QLEN)
            w = false;
    }
    if (w)
        m |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return m;
}

static int u_stat(struct file *f, struct linux_stat *st)
{
    sock_fill_stat(st, ((struct usock *)f->priv)->ino);
    return 0;
}

static long u_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    struct usock *s = f->priv;
    int n;
    switch (cmd) {
    case SIOCINQ:
        if (s->state == US_LISTEN)
            return -EINVAL;
        if (s->type == SOCK_STREAM)
            n = (int)MIN(s->rq_bytes, (uint64_t)INT32_MAX);
        else
            n = s->rq_head ? (int)s->rq_head->len : 0;
        break;
    case SIOCOUTQ:
        n = (int)MIN(s->wmem, (uint64_t)INT32_MAX);
        break;
    default:
        return -ENOTTY;
    }
    return copy_to_user(arg, &n, sizeof(n)) ? -EFAULT : 0;
}

static long u_name(struct file *f, char *buf, size_t size)
{
    return ksnprintf(buf, size, "socket:[%lu]", ((struct usock *)f->priv)->ino);
}

/* Linux's unix_release_sock: s is closed (embryo: a connection never accepted, whose client
 * then reads ECONNRESET). */
static void release_sock(struct usock *s, bool embryo)
{
    s->dead = true;
    s->shut = SHUT_MASK;
    all_remove(s);
    if (s->path) {
        if (s->path->arg == (uint64_t)s)
            s->path->arg = 0;
        vfs_put(s->path);
        s->path = NULL;
    }
    struct usock *peer = s->peer;
    s->peer = NULL;
    if (peer) {
        if (s->type != SOCK_DGRAM) {
            peer->shut = SHUT_MASK;
            if (s->rq_head || embryo)
                peer->err = ECONNRESET;
        }
        unix_notify(peer, 0);
        usock_put(peer);
    }
    while (s->aq_head) {
        struct usock *e = s->aq_head;
        s->aq_head = e->aq_next;
        e->aq_next = NULL;
        release_sock(e, true);
        usock_put(e);
    }
    s->aq_tail = NULL;
    s->nq = 0;
    unix_purge(s);
    if (s->type != SOCK_STREAM)
        unix_wake_senders(s);
}

static void u_release(struct file *f)
{
    struct usock *s = f->priv;
    kfree(f);
    s->file = NULL;
    release_sock(s, false);
    usock_put(s);
    unix_gc();
}

static long u_sendmsg(struct file *f, struct sock_msg *m, int flags)
{
    struct usock *s = f->priv;
    return s->type == SOCK_STREAM ? unix_stream_sendmsg(f, m, flags)
                                  : unix_dgram_sendmsg(f, m, flags);
}

static long u_recvmsg(struct file *f, struct sock_msg *m, int flags)
{
    struct usock *s = f->priv;
    return s->type == SOCK_STREAM ? unix_stream_recvmsg(f, m, flags)
                                  : unix_dgram_recvmsg(f, m, flags);
}

static const struct sock_ops g_unix_sock_ops = {
    .bind = u_bind,
    .listen = u_listen,
    .connect = u_connect,
    .accept = u_accept,
    .getname = u_getname,
    .shutdown = u_shutdown,
    .sendmsg = u_sendmsg,
    .recvmsg = u_recvmsg,
    .opts = u_opts,
    .get_sol = u_get_sol,
    .set_sol = u_set_sol,
};

const struct file_ops g_unix_file_ops = {
    .read = u_read,
    .write = u_write,
    .poll = u_poll,
    .notifies = true,
    .stat = u_stat,
    .ioctl = u_ioctl,
    .name = u_name,
    .release = u_release,
    .sock = &g_unix_sock_ops,
};

/* ---- the family ---- */

static int check_type(int *type, int protocol)
{
    if (protocol && protocol != PF_UNIX)
        return -EPROTONOSUPPORT;
    if (*type == SOCK_RAW)
        *type = SOCK_DGRAM; /* as Linux does */
    if (*type != SOCK_STREAM && *type != SOCK_DGRAM && *type != SOCK_SEQPACKET)
        return -ESOCKTNOSUPPORT;
    return 0;
}

static int make(int type, uint32_t flags, struct file **out)
{
    struct usock *s = usock_new(type);
    struct file *f = s ? file_for(s, flags) : NULL;
    if (!f) {
        kfree(s);
        return -ENOMEM;
    }
    *out = f;
    return 0;
}

static int u_create(int type, int protocol, uint32_t flags, struct file **out)
{
    int err = check_type(&type, protocol);
    if (err)
        return err;
    return make(type, flags, out);
}

static int u_pair(int type, int protocol, uint32_t flags, struct file **a, struct file **b)
{
    int err = check_type(&type, protocol);
    if (err)
        return err;
    err = make(type, flags, a);
    if (err)
        return err;
    err = make(type, flags, b);
    if (err) {
        file_discard(*a);
        return err;
    }
    struct usock *x = (*a)->priv, *y = (*b)->priv;
    usock_get(x);
    usock_get(y);
    x->peer = y;
    y->peer = x;
    x->state = y->state = US_CONNECTED;
    x->peercred = y->peercred = unix_cred(true);
    x->has_peercred = y->has_peercred = true;
    return 0;
}

const struct sock_family g_unix_family = {
    .family = AF_UNIX,
    .create = u_create,
    .pair = u_pair,
};
