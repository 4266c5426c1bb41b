/* epoll.c: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.
 *
 * Linux's model, kept where a program can see it: an epoll instance holds items (a file and the
 * descriptor it was added with) and a ready list. A file whose state changes calls poll_notify,
 * as Linux wakes the file's wait queue, and the items watching it for those events join the
 * ready list; epoll_wait polls the items on it in order, reports the ready ones, puts
 * level-triggered ones back at the end (edge-triggered ones wait for the next notification,
 * one-shot ones are disabled until EPOLL_CTL_MOD), and leaves the ones it had no room for at the
 * front. Files whose readiness comes from the host (console stdin, ops->wake_events) notify
 * nobody: their items are polled at every look, and an edge is a change of that answer.
 *
 * Items are found by file through one hash table, for poll_notify and for poll_file_release,
 * which removes a file from every set when it goes away (Linux does so at the file's last
 * close, whatever its descriptors).
 */
#include "anon_inode.h"
#include "file.h"
#include "klib.h"
#include "poll.h"
#include "signal.h"
#include "syscall.h"
#include "wait.h"

#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_EXCL_OK_BITS                                                                            \
    (POLLIN | POLLOUT | POLLERR | POLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
#define EP_MAX_NESTS  4
#define EP_MAX_EVENTS (INT32_MAX / (int)sizeof(struct linux_epoll_event))
#define HASH_BUCKETS  256

struct epitem {
    struct epoll *ep;
    struct file *file;
    int fd;
    uint32_t events; /* what was asked, with POLLERR | POLLHUP and the EPOLL* flags */
    uint64_t data;
    uint32_t last;          /* files with wake_events: the last answer (edges) */
    bool linked;            /* on the ready list or the list being reported */
    struct epitem *rnext;   /* the ready list (circular, through the epoll's head) */
    struct epitem *rprev;   /* ... */
    struct epitem *inext;   /* the epoll's items (circular, through the epoll's head) */
    struct epitem *iprev;   /* ... */
    struct epitem *hnext;   /* the hash chain of its file */
    struct epitem **hprevp; /* ... */
};

struct epoll {
    struct file *file;
    struct epitem ready; /* heads: only the list links are used */
    struct epitem items;
    uint32_t nwake; /* items of files with wake_events */
    uint64_t visit; /* loop checks */
};

static struct epitem *g_hash[HASH_BUCKETS];
static uint64_t g_nitems;
static uint64_t g_visit;

static const struct file_ops g_epoll_ops;

static unsigned hash_of(const struct file *f)
{
    uint64_t x = (uint64_t)(uintptr_t)f;
    return (unsigned)((x >> 4) ^ (x >> 12)) % HASH_BUCKETS;
}

static bool is_epoll(const struct file *f)
{
    return f->ops == &g_epoll_ops;
}

/* ---- the ready list ---- */

static void list_init(struct epitem *head)
{
    head->rnext = head->rprev = head;
}

static void rd_unlink(struct epitem *it)
{
    it->rprev->rnext = it->rnext;
    it->rnext->rprev = it->rprev;
    it->rnext = it->rprev = NULL;
    it->linked = false;
}

static void rd_add_tail(struct epitem *head, struct epitem *it)
{
    it->rprev = head->rprev;
    it->rnext = head;
    head->rprev->rnext = it;
    head->rprev = it;
    it->linked = true;
}

static bool enabled(const struct epitem *it)
{
    return (it->events & ~EP_PRIVATE_BITS) != 0;
}

static void make_ready(struct epitem *it)
{
    if (!it->linked)
        rd_add_tail(&it->ep->ready, it);
    /* the epoll's own readers (poll, select, an outer epoll) learn of it */
    poll_notify(it->ep->file, POLLIN);
}

void poll_notify(struct file *f, uint32_t key)
{
    wait_wake_file(f); /* threads in poll, select, epoll_wait or a read of f (kernel/wait.c) */
    if (!g_nitems)
        return;
    for (struct epitem *it = g_hash[hash_of(f)]; it; it = it->hnext) {
        if (it->file != f || !enabled(it))
            continue;
        if (key && !(key & it->events))
            continue;
        make_ready(it);
    }
}

/* Items of files that notify nobody: polled at every look. */
static void poll_wake_items(struct epoll *ep)
{
    if (!ep->nwake)
        return;
    for (struct epitem *it = ep->items.inext; it != &ep->items; it = it->inext) {
        if (!it->file->ops->wake_events || !enabled(it))
            continue;
        uint32_t now = file_poll(it->file) & it->events;
        uint32_t edge = now & ~it->last;
        it->last = now;
        if ((it->events & EPOLLET) ? edge : now)
            if (!it->linked)
                rd_add_tail(&ep->ready, it);
    }
}

/* ---- items ---- */

static struct epitem *find_item(struct epoll *ep, struct file *f, int fd)
{
    for (struct epitem *it = g_hash[hash_of(f)]; it; it = it->hnext)
        if (it->ep == ep && it->file == f && it->fd == fd)
            return it;
    return NULL;
}

static void remove_item(struct epitem *it)
{
    struct epoll *ep = it->ep;
    if (it->linked)
        rd_unlink(it);
    it->iprev->inext = it->inext;
    it->inext->iprev = it->iprev;
    *it->hprevp = it->hnext;
    if (it->hnext)
        it->hnext->hprevp = it->hprevp;
    if (it->file->ops->wake_events)
        ep->nwake--;
    g_nitems--;
    kfree(it);
}

void poll_file_release(struct file *f)
{
    if (!g_nitems)
        return;
    struct epitem **pp = &g_hash[hash_of(f)];
    while (*pp) {
        if ((*pp)->file == f)
            remove_item(*pp); /* unlinks *pp: look at the same place again */
        else
            pp = &(*pp)->hnext;
    }
}

/* Would adding the epoll `to` into `into` make a cycle, or nest deeper than Linux allows? */
static bool loop_check(struct epoll *to, struct epoll *into, int depth)
{
    to->visit = g_visit;
    for (struct epitem *it = to->items.inext; it != &to->items; it = it->inext) {
        if (!is_epoll(it->file))
            continue;
        struct epoll *sub = it->file->priv;
        if (sub->visit == g_visit)
            continue;
        if (sub == into || depth > EP_MAX_NESTS || loop_check(sub, into, depth + 1))
            return true;
    }
    return false;
}

static long insert_item(struct epoll *ep, struct file *tf, int fd,
                        const struct linux_epoll_event *ev)
{
    if (is_epoll(tf)) {
        g_visit++;
        if (tf->priv == ep || loop_check(tf->priv, ep, 0))
            return -ELOOP;
    }
    struct epitem *it = kzalloc(sizeof(*it));
    if (!it)
        return -ENOMEM;
    it->ep = ep;
    it->file = tf;
    it->fd = fd;
    it->events = ev->events;
    it->data = ev->data;
    it->inext = &ep->items;
    it->iprev = ep->items.iprev;
    ep->items.iprev->inext = it;
    ep->items.iprev = it;
    struct epitem **bucket = &g_hash[hash_of(tf)];
    it->hnext = *bucket;
    if (*bucket)
        (*bucket)->hprevp = &it->hnext;
    it->hprevp = bucket;
    *bucket = it;
    if (tf->ops->wake_events && ep->nwake++ == 0)
        wait_wake_file(ep->file); /* its waiters must now look after every syscall too */
    g_nitems++;
    uint32_t now = file_poll(tf) & it->events;
    it->last = now;
    if (now)
        make_ready(it);
    return 0;
}

static void modify_item(struct epitem *it, const struct linux_epoll_event *ev)
{
    it->events = ev->events;
    it->data = ev->data;
    uint32_t now = file_poll(it->file) & it->events;
    it->last = now;
    if (now)
        make_ready(it);
}

/* ---- the epoll file ---- */

/* Is anything on the ready list really ready? (Linux drops the ones that are not.) */
static bool any_ready(struct epoll *ep)
{
    poll_wake_items(ep);
    struct epitem *it = ep->ready.rnext;
    while (it != &ep->ready) {
        struct epitem *next = it->rnext;
        if (file_poll(it->file) & it->events)
            return true;
        rd_unlink(it);
        it = next;
    }
    return false;
}

static uint32_t epoll_file_poll(struct file *f)
{
    struct epoll *ep = f->priv;
    if (ep->nwake)
        wait_broad(); /* a waiter on it: items of files that do not notify change it too */
    return any_ready(ep) ? POLLIN | POLLRDNORM : 0;
}

static int epoll_stat(struct file *f, struct linux_stat *st)
{
    (void)f;
    return anon_inode_stat(st);
}

static int64_t epoll_lseek(struct file *f, int64_t off, int whence)
{
    (void)off;
    (void)whence;
    return (int64_t)f->pos; /* Linux's noop_llseek */
}

static void epoll_release(struct file *f)
{
    struct epoll *ep = f->priv;
    while (ep->items.inext != &ep->items)
        remove_item(ep->items.inext);
    kfree(ep);
    kfree(f);
}

static const struct file_ops g_epoll_ops = {
    .poll = epoll_file_poll,
    .notifies = true, /* make_ready; epoll_file_poll says when that is not enough */
    /* it may watch console stdin and sockets */
    .wake_events = ALC_EV_STDIN | ALC_EV_VIRTIO(ALC_VIRTIO_SLOT_VSOCK),
    .lseek = epoll_lseek,
    .stat = epoll_stat,
    .release = epoll_release,
};

static long do_epoll_create(int flags)
{
    if (flags & ~EPOLL_CLOEXEC)
        return -EINVAL;
    struct epoll *ep = kzalloc(sizeof(*ep));
    struct file *f = kzalloc(sizeof(*f));
    if (!ep || !f) {
        kfree(ep);
        kfree(f);
        return -ENOMEM;
    }
    list_init(&ep->ready);
    ep->items.inext = ep->items.iprev = &ep->items;
    ep->file = f;
    *f = (struct file){.ops = &g_epoll_ops, .flags = O_RDWR, .priv = ep};
    int fd = fd_install(f, 0, flags & EPOLL_CLOEXEC);
    if (fd < 0)
        epoll_release(f);
    return fd;
}

SYSCALL_DEFINE1(epoll_create, int, size)
{
    if (size <= 0)
        return -EINVAL;
    return do_epoll_create(0);
}

SYSCALL_DEFINE1(epoll_create1, int, flags)
{
    return do_epoll_create(flags);
}

SYSCALL_DEFINE4(epoll_ctl, int, epfd, int, op, int, fd, uint64_t, uevent)
{
    struct linux_epoll_event ev = {0, 0};
    bool has_event = op != EPOLL_CTL_DEL;
    if (has_event && copy_from_user(&ev, uevent, sizeof(ev)))
        return -EFAULT;
    struct file *ef = fd_get(epfd), *tf = fd_get(fd);
    if (!ef || !tf)
        return -EBADF;
    if (!tf->ops->poll)
        return -EPERM; /* regular files and the like cannot be watched */
    if (ef == tf || !is_epoll(ef))
        return -EINVAL;
    if (has_event && (ev.events & EPOLLEXCLUSIVE)) {
        if (op == EPOLL_CTL_MOD)
            return -EINVAL;
        if (op == EPOLL_CTL_ADD && (is_epoll(tf) || (ev.events & ~EP_EXCL_OK_BITS)))
            return -EINVAL;
    }
    struct epoll *ep = ef->priv;
    struct epitem *it = find_item(ep, tf, fd);
    switch (op) {
    case EPOLL_CTL_ADD:
        if (it)
            return -EEXIST;
        ev.events |= POLLERR | POLLHUP;
        return insert_item(ep, tf, fd, &ev);
    case EPOLL_CTL_DEL:
        if (!it)
            return -ENOENT;
        remove_item(it);
        return 0;
    case EPOLL_CTL_MOD:
        if (!it)
            return -ENOENT;
        if (it->events & EPOLLEXCLUSIVE)
            return -EINVAL;
        ev.events |= POLLERR | POLLHUP;
        modify_item(it, &ev);
        return 0;
    default:
        return -EINVAL;
    }
}

/* ---- waiting ---- */

struct ep_wait {
    struct epoll *ep;
    uint64_t uevents;
    int maxevents;
    bool checked; /* the whole event buffer is known to be writable */
    long res;
};

/* Linux's ep_send_events: reports what is ready on the ready list, in its order. */
static long send_events(struct ep_wait *w)
{
    struct epoll *ep = w->ep;
    struct epitem tx;
    poll_wake_items(ep);
    if (ep->ready.rnext == &ep->ready)
        return 0;
    /* take the whole ready list */
    tx.rnext = ep->ready.rnext;
    tx.rprev = ep->ready.rprev;
    tx.rnext->rprev = &tx;
    tx.rprev->rnext = &tx;
    list_init(&ep->ready);
    long res = 0;
    while (tx.rnext != &tx && res < w->maxevents) {
        struct epitem *it = tx.rnext;
        rd_unlink(it);
        uint32_t revents = file_poll(it->file) & it->events;
        if (!revents)
            continue;
        struct linux_epoll_event ev = {revents, it->data};
        uint64_t at = w->uevents + (uint64_t)res * sizeof(ev);
        if (!w->checked && !user_range_ok(at, sizeof(ev), PROT_WRITE)) {
            /* back where it was; EFAULT unless something was reported */
            it->rnext = tx.rnext;
            it->rprev = &tx;
            tx.rnext->rprev = it;
            tx.rnext = it;
            it->linked = true;
            if (!res)
                res = -EFAULT;
            break;
        }
        memcpy((void *)at, &ev, sizeof(ev));
        res++;
        if (it->events & EPOLLONESHOT)
            it->events &= EP_PRIVATE_BITS;
        else if (!(it->events & EPOLLET))
            rd_add_tail(&ep->ready, it);
    }
    /* what there was no room for goes first next time */
    if (tx.rnext != &tx) {
        tx.rprev->rnext = ep->ready.rnext;
        ep->ready.rnext->rprev = tx.rprev;
        ep->ready.rnext = tx.rnext;
        tx.rnext->rprev = &ep->ready;
    }
    return res;
}

static bool ep_wait_ready(void *arg)
{
    struct ep_wait *w = arg;
    wait_on_file(w->ep->file); /* make_ready notifies it */
    if (w->ep->nwake)
        wait_broad(); /* items polled at every look (their files do not notify) */
    w->res = send_events(w);
    return w->res != 0;
}

static uint32_t wake_events_of(struct epoll *ep)
{
    uint32_t events = 0;
    for (struct epitem *it = ep->items.inext; it != &ep->items; it = it->inext)
        events |= it->file->ops->wake_events;
    return events;
}

/* deadline: WAIT_FOREVER, or a CLOCK_MONOTONIC time; zero: look once. */
static long do_epoll_wait(int epfd, uint64_t uevents, int maxevents, int64_t deadline, bool zero)
{
    if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
        return -EINVAL;
    struct file *f = fd_get(epfd);
    if (!f)
        return -EBADF;
    if (!is_epoll(f))
        return -EINVAL;
    struct ep_wait w = {
        .ep = f->priv,
        .uevents = uevents,
        .maxevents = maxevents,
        .checked = user_range_ok(uevents, (size_t)maxevents * sizeof(struct linux_epoll_event),
                                 PROT_WRITE),
    };
    if (zero)
        return send_events(&w);
    int r = wait_until(ep_wait_ready, &w, wake_events_of(w.ep), deadline);
    if (r == -ETIMEDOUT)
        return 0;
    return r ? r : w.res; /* -EINTR: epoll_wait is never restarted, as on Linux */
}

static int64_t ms_deadline(int timeout_ms, bool *zero)
{
    *zero = timeout_ms == 0;
    if (timeout_ms < 0)
        return WAIT_FOREVER;
    return poll_deadline(timeout_ms / 1000, (int64_t)(timeout_ms % 1000) * 1000000);
}

SYSCALL_DEFINE4(epoll_wait, int, epfd, uint64_t, uevents, int, maxevents, int, timeout_ms)
{
    bool zero;
    int64_t deadline = ms_deadline(timeout_ms, &zero);
    return do_epoll_wait(epfd, uevents, maxevents, deadline, zero);
}

SYSCALL_DEFINE6(epoll_pwait, int, epfd, uint64_t, uevents, int, maxevents, int, timeout_ms,
                uint64_t, umask, uint64_t, masksize)
{
    bool zero;
    struct poll_sigmask m;
    int64_t deadline = ms_deadline(timeout_ms, &zero);
    long ret = poll_sigmask_begin(umask, masksize, &m);
    if (ret)
        return ret;
    ret = do_epoll_wait(epfd, uevents, maxevents, deadline, zero);
    poll_sigmask_end(&m, ret == -EINTR);
    return ret;
}

SYSCALL_DEFINE6(epoll_pwait2, int, epfd, uint64_t, uevents, int, maxevents, uint64_t, uts, uint64_t,
                umask, uint64_t, masksize)
{
    bool zero;
    struct poll_sigmask m;
    int64_t deadline;
    long ret = poll_timeout_from_user(uts, &deadline, &zero);
    if (ret)
        return ret;
    ret = poll_sigmask_begin(umask, masksize, &m);
    if (ret)
        return ret;
    ret = do_epoll_wait(epfd, uevents, maxevents, deadline, zero);
    poll_sigmask_end(&m, ret == -EINTR);
    return ret;
}
