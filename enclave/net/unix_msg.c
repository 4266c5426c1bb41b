/* unix_msg.c: AF_UNIX messages (see unix.h): sendmsg and recvmsg for streams (a byte stream
 * cut into messages of at most STREAM_CHUNK, which a read joins again) and for datagrams and
 * seqpackets (one send, one message; a short read truncates it), control messages
 * (SCM_RIGHTS, SCM_CREDENTIALS), and the collection of garbage.
 *
 * Descriptors in flight: sendmsg takes a reference on each file it passes and the message holds
 * it until a recvmsg installs it in the receiver's table (or finds no room: MSG_CTRUNC, and the
 * file is closed), or the message is dropped (the receiving socket closes). A socket whose only
 * references are messages in flight in a cycle (a socket sent over itself, two sockets sent to
 * each other, then closed) would never be freed by that alone: unix_gc finds them, as Linux's
 * collector does (candidates are the sockets whose every reference is in flight; those that a
 * socket still open can reach are kept; the queues of the others are dropped). It runs when an
 * AF_UNIX socket closes, as Linux 6.1 does, and before a send would be ETOOMANYREFS, so a cycle
 * left behind is freed at the next close, not at the close of its last descriptor, as on Linux.
 */
#include "klib.h"
#include "poll.h"
#include "process.h"
#include "signal.h"
#include "syscall.h"
#include "unix.h"
#include "wait.h"

#define MSG_OVERHEAD 512         /* a message's cost beyond its bytes (Linux's sk_buff) */
#define STREAM_CHUNK (64u << 10) /* the largest piece of a stream write */
#define INFLIGHT_MAX 16384       /* descriptors in flight in the enclave: ETOOMANYREFS past it */

static uint32_t g_inflight, g_unix_inflight;
static bool g_gc_running; /* unix_gc never blocks */

/* The control messages of one send or receive (Linux's scm_cookie); files is allocated when a
 * message carries descriptors. */
struct scm {
    struct linux_ucred cred;
    struct file **files;
    uint32_t nfiles;
};

static void scm_release(struct scm *sc)
{
    for (uint32_t i = 0; i < sc->nfiles; i++)
        file_put(sc->files[i]);
    kfree(sc->files);
    sc->files = NULL;
    sc->nfiles = 0;
}

/* Linux's scm_check_creds: a process may claim its own pid and any of its ids, root anything. */
static int check_creds(const struct linux_ucred *c)
{
    const struct process *p = current_process();
    const struct cred *cr = &p->cred;
    bool priv = cred_privileged();
    bool pid_ok = c->pid == p->pid || priv;
    bool uid_ok = c->uid == cr->uid[ID_REAL] || c->uid == cr->uid[ID_EFF] ||
                  c->uid == cr->uid[ID_SAVED] || priv;
    bool gid_ok = c->gid == cr->gid[ID_REAL] || c->gid == cr->gid[ID_EFF] ||
                  c->gid == cr->gid[ID_SAVED] || priv;
    return pid_ok && uid_ok && gid_ok ? 0 : -EPERM;
}

static long scm_rights(const uint8_t *data, uint64_t dlen, struct scm *sc)
{
    uint64_t num = dlen / sizeof(int);
    if (!num)
        return 0;
    if (num > SCM_MAX_FD || sc->nfiles + num > SCM_MAX_FD)
        return -EINVAL;
    if (!sc->files && !(sc->files = kmalloc(SCM_MAX_FD * sizeof(sc->files[0]))))
        return -ENOMEM;
    for (uint64_t i = 0; i < num; i++) {
        int fd;
        memcpy(&fd, data + i * sizeof(int), sizeof(fd));
        struct file *f = fd_get(fd);
        if (!f)
            return -EBADF;
        file_get(f);
        sc->files[sc->nfiles++] = f;
    }
    if (g_inflight + sc->nfiles > INFLIGHT_MAX)
        unix_gc(); /* garbage may hold the room */
    if (g_inflight + sc->nfiles > INFLIGHT_MAX)
        return -ETOOMANYREFS;
    return 0;
}

/* Linux's __scm_send: the control messages of a send, checked. 0 or -errno (nothing held). */
static long scm_parse(const struct sock_msg *m, struct scm *sc)
{
    *sc = (struct scm){.cred = unix_cred(false)};
    long err = 0;
    for (size_t off = 0; off + CMSG_HDR <= m->ctllen;) {
        struct linux_cmsghdr h;
        memcpy(&h, m->ctl + off, sizeof(h));
        if (h.len < CMSG_HDR || h.len > m->ctllen - off) {
            err = -EINVAL;
            break;
        }
        const uint8_t *data = m->ctl + off + CMSG_HDR;
        if (h.level == SOL_SOCKET) {
            if (h.type == SCM_RIGHTS) {
                err = scm_rights(data, h.len - CMSG_HDR, sc);
            } else if (h.type == SCM_CREDENTIALS) {
                struct linux_ucred c;
                if (h.len != CMSG_LEN(sizeof(c))) {
                    err = -EINVAL;
                } else {
                    memcpy(&c, data, sizeof(c));
                    err = check_creds(&c);
                    if (!err)
                        sc->cred = c;
                }
            } else {
                err = -EINVAL;
            }
            if (err)
                break;
        }
        off += CMSG_ALIGN(h.len);
    }
    if (err)
        scm_release(sc);
    return err;
}

static void count_files(struct file **files, uint32_t n, int d)
{
    for (uint32_t i = 0; i < n; i++) {
        g_inflight += (uint32_t)d;
        struct usock *t = usock_of(files[i]);
        if (t) {
            t->inflight += (uint32_t)d;
            g_unix_inflight += (uint32_t)d;
        }
    }
}

/* The descriptors of sc go into message u. */
static void attach(struct umsg *u, struct scm *sc)
{
    if (!sc->nfiles)
        return;
    u->files = sc->files;
    u->nfiles = sc->nfiles;
    count_files(u->files, u->nfiles, 1);
    sc->files = NULL;
    sc->nfiles = 0;
}

/* The descriptors of u leave it for sc (a receive; peek: copies, with references of their
 * own). */
static int take_files(struct umsg *u, struct scm *sc, bool peek)
{
    if (!u->nfiles)
        return 0;
    if (!peek) {
        count_files(u->files, u->nfiles, -1);
        sc->files = u->files;
        sc->nfiles = u->nfiles;
        u->files = NULL;
        u->nfiles = 0;
        return 0;
    }
    sc->files = kmalloc(u->nfiles * sizeof(sc->files[0]));
    if (!sc->files)
        return -ENOMEM;
    for (uint32_t i = 0; i < u->nfiles; i++) {
        file_get(u->files[i]);
        sc->files[i] = u->files[i];
    }
    sc->nfiles = u->nfiles;
    return 0;
}

void unix_msg_free(struct umsg *u)
{
    count_files(u->files, u->nfiles, -1);
    for (uint32_t i = 0; i < u->nfiles; i++)
        file_put(u->files[i]);
    kfree(u->files);
    struct usock *from = u->from;
    bool was_full = from->wmem * 4 > (uint64_t)from->o.sndbuf;
    from->wmem -= u->charge;
    if (was_full)
        unix_notify(from, POLLOUT | POLLWRNORM);
    kfree(u);
    usock_put(from);
}

static void enqueue(struct usock *o, struct umsg *u)
{
    if (o->rq_tail)
        o->rq_tail->next = u;
    else
        o->rq_head = u;
    o->rq_tail = u;
    o->rq_len++;
    o->rq_bytes += u->len - u->off;
    unix_notify(o, POLLIN | POLLRDNORM);
}

static void dequeue(struct usock *s)
{
    struct umsg *u = s->rq_head;
    bool was_full = s->rq_len > MAX_DGRAM_QLEN;
    s->rq_head = u->next;
    if (!s->rq_head)
        s->rq_tail = NULL;
    s->rq_len--;
    s->rq_bytes -= u->len - u->off;
    u->next = NULL;
    if (was_full && s->type != SOCK_STREAM) {
        unix_notify(s, POLLOUT); /* senders wait on the receiver's file */
        unix_wake_senders(s);
    }
}

/* Messages of released sockets wait here for the outermost unix_purge to free them: freeing one
 * may release a socket it carried (its last reference was in flight), whose messages may carry
 * more, as deep as a chain of sockets in flight is long, which the kernel stack cannot take
 * (Linux defers the same through fput). Nothing between here and the frees waits, so the list
 * never lives across a blocking wait. */
static struct umsg *g_dying;
static bool g_purging;

void unix_purge(struct usock *s)
{
    while (s->rq_head) {
        struct umsg *u = s->rq_head;
        dequeue(s);
        u->next = g_dying;
        g_dying = u;
    }
    if (g_purging)
        return; /* a purge further out frees them */
    g_purging = true;
    while (g_dying) {
        struct umsg *u = g_dying;
        g_dying = u->next;
        unix_msg_free(u);
    }
    g_purging = false;
}

static bool wmem_ready(void *arg)
{
    struct usock *s = arg;
    wait_on_file(s->file);
    return s->wmem < (uint64_t)s->o.sndbuf || s->err || (s->shut & SEND_SHUT);
}

/* Linux's sock_alloc_send_pskb: a message of len bytes from s once its send buffer has room,
 * or NULL and *err. */
static struct umsg *alloc_send(struct usock *s, size_t len, int flags, const struct scm *sc,
                               long *err)
{
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.sndtimeo_ns;
    for (;;) {
        if (s->err) {
            *err = -unix_take_error(s);
            return NULL;
        }
        if (s->shut & SEND_SHUT) {
            *err = -EPIPE;
            return NULL;
        }
        if (s->wmem < (uint64_t)s->o.sndbuf)
            break;
        *err = -EAGAIN;
        if (!timeo)
            return NULL;
        *err = unix_wait(wmem_ready, s, timeo);
        if (*err)
            return NULL;
    }
    struct umsg *u = kmalloc(sizeof(*u) + len);
    if (!u) {
        *err = -ENOBUFS;
        return NULL;
    }
    memset(u, 0, sizeof(*u));
    u->len = (uint32_t)len;
    u->charge = (uint32_t)len + MSG_OVERHEAD;
    u->cred = sc->cred;
    u->from = s;
    usock_get(s);
    s->wmem += u->charge;
    return u;
}

/* ---- receiving: control messages to the application ---- */

/* Linux's put_cmsg. */
static void put_cmsg(struct sock_msg *m, int type, const void *data, size_t dlen)
{
    size_t left = m->uctllen - m->ctl_used;
    if (left < CMSG_HDR) {
        m->flags_out |= MSG_CTRUNC;
        return;
    }
    size_t cmlen = CMSG_LEN(dlen);
    if (left < cmlen) {
        m->flags_out |= MSG_CTRUNC;
        cmlen = left;
    }
    struct linux_cmsghdr h = {cmlen, SOL_SOCKET, type};
    uint64_t at = m->uctl + m->ctl_used;
    if (copy_to_user(at, &h, sizeof(h)) || copy_to_user(at + CMSG_HDR, data, cmlen - CMSG_HDR))
        return;
    m->ctl_used += MIN(CMSG_SPACE(dlen), left);
}

/* Linux's scm_detach_fds: as many descriptors as fit are installed; the references in flight
 * go back either way. */
static void detach_fds(struct sock_msg *m, struct scm *sc, int flags)
{
    size_t left = m->uctllen - m->ctl_used;
    uint32_t fdmax = left <= CMSG_HDR ? 0 : (uint32_t)MIN((left - CMSG_HDR) / sizeof(int), 1024ul);
    uint64_t at = m->uctl + m->ctl_used;
    uint32_t i;
    for (i = 0; i < fdmax && i < sc->nfiles; i++) {
        int fd = fd_install(sc->files[i], 0, flags & MSG_CMSG_CLOEXEC);
        if (fd < 0)
            break;
        if (copy_to_user(at + CMSG_HDR + i * sizeof(int), &fd, sizeof(fd))) {
            fd_close(fd);
            break;
        }
    }
    if (i > 0) {
        struct linux_cmsghdr h = {CMSG_LEN(i * sizeof(int)), SOL_SOCKET, SCM_RIGHTS};
        if (!copy_to_user(at, &h, sizeof(h)))
            m->ctl_used += MIN(CMSG_SPACE(i * sizeof(int)), left);
    }
    if (i < sc->nfiles)
        m->flags_out |= MSG_CTRUNC;
    scm_release(sc);
}

/* Linux's scm_recv: credentials when the receiver asked (SO_PASSCRED), then descriptors. */
static void scm_deliver(struct usock *s, struct sock_msg *m, struct scm *sc, int flags)
{
    if (!m->uctl) {
        if (s->o.passcred || sc->nfiles)
            m->flags_out |= MSG_CTRUNC;
        scm_release(sc);
        return;
    }
    if (s->o.passcred)
        put_cmsg(m, SCM_CREDENTIALS, &sc->cred, sizeof(sc->cred));
    detach_fds(m, sc, flags);
}

static void copy_name(struct sock_msg *m, const struct usock *from)
{
    if (m->name && from->addrlen) {
        memcpy(m->name, from->addr, (size_t)from->addrlen);
        m->namelen = from->addrlen;
    }
}

/* ---- streams ---- */

long unix_stream_sendmsg(struct file *f, struct sock_msg *m, int flags)
{
    struct usock *s = f->priv;
    struct scm sc;
    long err = scm_parse(m, &sc);
    if (err)
        return err;
    size_t sent = 0;
    if (flags & MSG_OOB) {
        err = -EOPNOTSUPP;
        goto out;
    }
    if (m->namelen) {
        err = s->state == US_CONNECTED ? -EISCONN : -EOPNOTSUPP;
        goto out;
    }
    err = -ENOTCONN;
    if (!s->peer)
        goto out;
    if (s->shut & SEND_SHUT)
        goto pipe;
    while (sent < m->len) {
        size_t size = MIN(m->len - sent, (size_t)(s->o.sndbuf / 2 - 64));
        size = MIN(size, (size_t)STREAM_CHUNK);
        struct umsg *u = alloc_send(s, size, flags, &sc, &err);
        if (!u)
            goto out;
        if (sock_io_copy(&m->io, u->data, size, false)) {
            unix_msg_free(u);
            err = -EFAULT;
            goto out;
        }
        struct usock *o = s->peer;
        if (o->dead || (o->shut & RCV_SHUT)) {
            unix_msg_free(u);
            goto pipe;
        }
        attach(u, &sc); /* the descriptors go with the first piece */
        enqueue(o, u);
        sent += size;
    }
    goto out;
pipe:
    if (!sent && !(flags & MSG_NOSIGNAL))
        signal_raise(SIGPIPE);
    err = -EPIPE;
out:
    scm_release(&sc);
    return sent ? (long)sent : err;
}

static bool stream_ready(void *arg)
{
    struct usock *s = arg;
    wait_on_file(s->file);
    return s->rq_head || s->err || (s->shut & RCV_SHUT);
}

static bool same_cred(const struct linux_ucred *a, const struct linux_ucred *b)
{
    return a->pid == b->pid && a->uid == b->uid && a->gid == b->gid;
}

/* Linux's unix_stream_read_generic: reads until the target (SO_RCVLOWAT, or all of it with
 * MSG_WAITALL), never joining pieces from different writers when credentials are passed, and
 * stopping after a piece that carried descriptors. */
long unix_stream_recvmsg(struct file *f, struct sock_msg *m, int flags)
{
    struct usock *s = f->priv;
    if (s->state != US_CONNECTED)
        return -EINVAL;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    size_t size = m->len;
    size_t target = (flags & MSG_WAITALL) ? size : MIN((size_t)s->o.rcvlowat, size);
    if (!target)
        target = 1;
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.rcvtimeo_ns;
    bool peek = flags & MSG_PEEK, check_creds = false;
    struct scm sc = {0};
    long copied = 0, err = 0;
    struct umsg *cur = NULL; /* peeking: the last piece read */
    for (;;) {
        struct umsg *u = cur ? cur->next : s->rq_head;
        if (!u) {
            if (cur || (size_t)copied >= target)
                break;
            if (s->err) {
                err = -unix_take_error(s);
                break;
            }
            if (s->shut & RCV_SHUT)
                break;
            err = -EAGAIN;
            if (!timeo)
                break;
            err = unix_wait(stream_ready, s, timeo);
            if (err == -EAGAIN)
                break;
            if (err) {
                scm_release(&sc);
                return copied ? copied : err;
            }
            continue;
        }
        if (check_creds) {
            if (!same_cred(&u->cred, &sc.cred))
                break; /* never glue pieces from different writers */
        } else if (s->o.passcred) {
            sc.cred = u->cred;
            check_creds = true;
        }
        copy_name(m, u->from);
        size_t chunk = MIN((size_t)(u->len - u->off), size);
        if (sock_io_copy(&m->io, u->data + u->off, chunk, true)) {
            if (!copied)
                copied = -EFAULT;
            break;
        }
        copied += (long)chunk;
        size -= chunk;
        if (!peek) {
            u->off += (uint32_t)chunk;
            s->rq_bytes -= chunk;
            take_files(u, &sc, false);
            if (u->off < u->len)
                break;
            dequeue(s);
            unix_msg_free(u);
            if (sc.nfiles)
                break;
        } else {
            if (u->nfiles) {
                take_files(u, &sc, true);
                break;
            }
            cur = u;
        }
        if (!size)
            break;
    }
    if (copied < 0) {
        scm_release(&sc);
        return copied;
    }
    scm_deliver(s, m, &sc, flags);
    return copied ? copied : err;
}

/* ---- datagrams and seqpackets ---- */

struct room_wait {
    struct usock *s, *o;
};

static bool peer_room(void *arg)
{
    struct room_wait *w = arg;
    wait_on_file(w->s->file);
    if (w->o->file)
        wait_on_file(w->o->file);
    return w->o->dead || w->o->rq_len <= MAX_DGRAM_QLEN || (w->o->shut & RCV_SHUT) ||
           w->o->peer == w->s;
}

/* Linux's unix_dgram_sendmsg (and unix_seqpacket_sendmsg before it). */
long unix_dgram_sendmsg(struct file *f, struct sock_msg *m, int flags)
{
    struct usock *s = f->priv;
    bool seq = s->type == SOCK_SEQPACKET;
    if (seq) {
        if (s->err)
            return -unix_take_error(s);
        if (s->state != US_CONNECTED)
            return -ENOTCONN;
    }
    int namelen = seq ? 0 : m->namelen;
    struct scm sc;
    long err = scm_parse(m, &sc);
    if (err)
        return err;
    struct usock *o = NULL;
    struct umsg *u = NULL;
    err = -EOPNOTSUPP;
    if (flags & MSG_OOB)
        goto out;
    if (namelen) {
        err = unix_name_check(m->name, namelen);
        if (err < 0)
            goto out;
    } else {
        err = -ENOTCONN;
        o = s->peer;
        if (!o)
            goto out;
        usock_get(o);
    }
    if (s->o.passcred && !s->addrlen) {
        err = unix_autobind(s);
        if (err)
            goto out;
    }
    err = -EMSGSIZE;
    if (m->len > (size_t)s->o.sndbuf - 32)
        goto out;
    u = alloc_send(s, m->len, flags, &sc, &err);
    if (!u)
        goto out;
    err = -EFAULT;
    if (sock_io_copy(&m->io, u->data, m->len, false))
        goto out;
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.sndtimeo_ns;
    for (;;) {
        if (!o) {
            err = -ECONNRESET;
            if (!namelen)
                goto out;
            err = unix_find_other(m->name, namelen, s->type, &o);
            if (err)
                goto out;
        }
        err = -EPERM;
        if (o->peer && o->peer != s)
            goto out;
        if (o->dead) {
            if (seq) {
                err = -EPIPE;
                goto out;
            }
            if (s->peer == o) {
                unix_dgram_disconnect(s); /* a send to a closed peer disconnects, once */
                err = -ECONNREFUSED;
                goto out;
            }
            usock_put(o);
            o = NULL;
            continue;
        }
        err = -EPIPE;
        if (o->shut & RCV_SHUT)
            goto out;
        if (o != s && o->peer != s && o->rq_len > MAX_DGRAM_QLEN) {
            err = -EAGAIN;
            if (!timeo)
                goto out;
            struct room_wait w = {s, o};
            err = unix_wait(peer_room, &w, timeo);
            if (err)
                goto out;
            continue;
        }
        break;
    }
    attach(u, &sc);
    enqueue(o, u);
    u = NULL;
    err = (long)m->len;
out:
    if (u)
        unix_msg_free(u);
    if (o)
        usock_put(o);
    scm_release(&sc);
    return err;
}

long unix_dgram_recvmsg(struct file *f, struct sock_msg *m, int flags)
{
    struct usock *s = f->priv;
    bool seq = s->type == SOCK_SEQPACKET;
    if (seq && s->state != US_CONNECTED)
        return -ENOTCONN;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.rcvtimeo_ns;
    struct umsg *u;
    for (;;) {
        if (s->err)
            return -unix_take_error(s);
        u = s->rq_head;
        if (u)
            break;
        /* shut down: end of file, but a non-blocking datagram read says EAGAIN (Linux) */
        if (s->shut & RCV_SHUT)
            return timeo || seq ? 0 : -EAGAIN;
        if (!timeo)
            return -EAGAIN;
        long err = unix_wait(stream_ready, s, timeo);
        if (err)
            return err;
    }
    bool peek = flags & MSG_PEEK;
    if (!peek)
        dequeue(s);
    copy_name(m, u->from);
    size_t size = m->len;
    if (size > u->len)
        size = u->len;
    else if (size < u->len)
        m->flags_out |= MSG_TRUNC;
    struct scm sc = {.cred = u->cred};
    long ret = (flags & MSG_TRUNC) ? (long)u->len : (long)size;
    if (sock_io_copy(&m->io, u->data, size, true))
        ret = -EFAULT;
    else if (take_files(u, &sc, peek))
        ret = -ENOMEM;
    if (!peek)
        unix_msg_free(u);
    if (ret < 0) {
        scm_release(&sc);
        return ret;
    }
    scm_deliver(s, m, &sc, flags);
    return ret;
}

/* ---- garbage ---- */

/* Marks the candidates that s's messages (and its embryos') carry as reachable. */
static void gc_scan(struct usock *s, bool *changed)
{
    for (struct umsg *u = s->rq_head; u; u = u->next) {
        for (uint32_t i = 0; i < u->nfiles; i++) {
            struct usock *t = usock_of(u->files[i]);
            if (t && t->gc_cand && !t->gc_reach) {
                t->gc_reach = true;
                *changed = true;
            }
        }
    }
    for (struct usock *e = s->aq_head; e; e = e->aq_next)
        gc_scan(e, changed);
}

static void detach_queue(struct usock *s, struct umsg **hit)
{
    while (s->rq_head) {
        struct umsg *u = s->rq_head;
        dequeue(s);
        u->next = *hit;
        *hit = u;
    }
    for (struct usock *e = s->aq_head; e; e = e->aq_next)
        detach_queue(e, hit);
}

void unix_gc(void)
{
    if (g_gc_running || !g_unix_inflight)
        return;
    g_gc_running = true;
    for (struct usock *s = g_unix_all; s; s = s->next_all) {
        s->gc_cand = s->inflight && s->file && s->file->refs == s->inflight;
        s->gc_reach = false;
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (struct usock *s = g_unix_all; s; s = s->next_all)
            if (!s->gc_cand || s->gc_reach)
                gc_scan(s, &changed);
    }
    /* the queues of the unreachable go first, then their messages: the last references of
     * the garbage go with them, and its sockets close with empty queues */
    struct umsg *hit = NULL;
    for (struct usock *s = g_unix_all; s; s = s->next_all)
        if (s->gc_cand && !s->gc_reach)
            detach_queue(s, &hit);
    while (hit) {
        struct umsg *u = hit;
        hit = u->next;
        unix_msg_free(u);
    }
    g_gc_running = false;
}
