/* pipe.c: anonymous pipes: pipe, pipe2, and the pipe ends as files.
 *
 * A pipe is Linux's ring of page-sized slots, so that what a program can observe matches it:
 * the capacity (16 slots, 64 KiB, F_SETPIPE_SZ in powers of two pages), which small writes
 * merge into the last slot and which take a new one (a write of up to PIPE_BUF bytes always
 * fits one slot, so it is all or nothing), O_DIRECT's packets (one write, one read), and
 * partial writes when the ring fills. The slots' pages are one buffer, allocated at the first
 * write.
 *
 * A reader or writer that must wait is queued on its end (kernel/wait.c); every change of
 * state (data in, room made, an end closed, a resize) notifies both ends, which wakes it.
 */
#include "pipe.h"

#include "klib.h"
#include "poll.h"
#include "signal.h"
#include "syscall.h"
#include "wait.h"

#define SLOT_SIZE     4096u
#define DEF_SLOTS     16u
#define MAX_PIPE_SIZE (1u << 31) /* F_SETPIPE_SZ: Linux's bound for a privileged process */

#define SLOT_CAN_MERGE 1u /* later small writes may append to this slot */
#define SLOT_PACKET    2u /* O_DIRECT: one write, read by one read */

struct slot {
    uint32_t off, len, flags;
};

struct pipe {
    uint8_t *pages;       /* ring_size pages of SLOT_SIZE, NULL until the first write */
    struct slot *slots;   /* ring_size */
    uint32_t ring_size;   /* a power of two */
    uint32_t head, tail;  /* free-running slot indices: [tail, head) hold data */
    uint64_t bytes;       /* the data held (FIONREAD) */
    struct file *rd, *wr; /* the ends; NULL once closed */
    uint64_t ino;
    int64_t ctime_ns;
};

static uint64_t g_next_ino = 0x1000;

static bool pipe_empty(const struct pipe *p)
{
    return p->head == p->tail;
}

static bool pipe_full(const struct pipe *p)
{
    return p->head - p->tail >= p->ring_size;
}

static struct slot *slot_at(struct pipe *p, uint32_t idx)
{
    return &p->slots[idx & (p->ring_size - 1)];
}

static uint8_t *page_at(struct pipe *p, uint32_t idx)
{
    return p->pages + (size_t)(idx & (p->ring_size - 1)) * SLOT_SIZE;
}

static bool is_read_end(const struct file *f)
{
    return (f->flags & O_ACCMODE) == O_RDONLY;
}

/* Both ends share the pipe's wait queues on Linux: tell watchers of either. */
static void notify(struct pipe *p, uint32_t key)
{
    if (p->rd)
        poll_notify(p->rd, key);
    if (p->wr)
        poll_notify(p->wr, key);
}

/* (notify wakes the waiters of both ends) */
static bool readable_or_eof(void *arg)
{
    struct pipe *p = arg;
    wait_on_file(p->rd);
    return !pipe_empty(p) || !p->wr;
}

static bool writable_or_broken(void *arg)
{
    struct pipe *p = arg;
    wait_on_file(p->wr);
    return !pipe_full(p) || !p->rd;
}

static long pipe_read(struct file *f, void *buf, size_t len)
{
    struct pipe *p = f->priv;
    uint8_t *dst = buf;
    size_t done = 0;
    if (len == 0)
        return 0;
    bool was_full = pipe_full(p);
    for (;;) {
        while (!pipe_empty(p) && done < len) {
            struct slot *s = slot_at(p, p->tail);
            uint32_t n = (uint32_t)MIN((size_t)s->len, len - done);
            memcpy(dst + done, page_at(p, p->tail) + s->off, n);
            done += n;
            s->off += n;
            s->len -= n;
            p->bytes -= n;
            bool packet = s->flags & SLOT_PACKET;
            if (packet) {
                p->bytes -= s->len; /* the rest of a packet is dropped */
                s->len = 0;
            }
            if (s->len == 0)
                p->tail++;
            if (packet)
                goto out;
        }
        if (done || !p->wr)
            break;
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        if (wait_until(readable_or_eof, p, 0, WAIT_FOREVER))
            return -ERESTARTSYS;
        was_full = pipe_full(p);
    }
out:
    if (was_full)
        notify(p, POLLOUT | POLLWRNORM);
    return (long)done;
}

static int alloc_pages(struct pipe *p)
{
    if (!p->pages)
        p->pages = kmalloc((size_t)p->ring_size * SLOT_SIZE);
    return p->pages ? 0 : -ENOMEM;
}

static long pipe_write(struct file *f, const void *buf, size_t len)
{
    struct pipe *p = f->priv;
    const uint8_t *src = buf;
    long done = 0;
    if (len == 0)
        return 0;
    if (!p->rd) {
        signal_raise(SIGPIPE);
        return -EPIPE;
    }
    /* The part of the write that is not a whole number of pages goes into the last slot when
     * it fits, so small writes share pages and large ones stay page-aligned (Linux's rule). */
    size_t chars = len & (SLOT_SIZE - 1);
    if (chars && !pipe_empty(p)) {
        struct slot *s = slot_at(p, p->head - 1);
        if ((s->flags & SLOT_CAN_MERGE) && s->off + s->len + chars <= SLOT_SIZE) {
            memcpy(page_at(p, p->head - 1) + s->off + s->len, src, chars);
            s->len += (uint32_t)chars;
            p->bytes += chars;
            done = (long)chars;
        }
    }
    while ((size_t)done < len) {
        if (!p->rd) {
            signal_raise(SIGPIPE);
            if (!done)
                done = -EPIPE;
            break;
        }
        if (!pipe_full(p)) {
            int err = alloc_pages(p);
            if (err) {
                if (!done)
                    done = err;
                break;
            }
            struct slot *s = slot_at(p, p->head);
            uint32_t n = (uint32_t)MIN((size_t)SLOT_SIZE, len - (size_t)done);
            memcpy(page_at(p, p->head), src + done, n);
            s->off = 0;
            s->len = n;
            s->flags = (f->flags & O_DIRECT) ? SLOT_PACKET : SLOT_CAN_MERGE;
            p->head++;
            p->bytes += n;
            done += n;
            continue;
        }
        if (f->flags & O_NONBLOCK) {
            if (!done)
                done = -EAGAIN;
            break;
        }
        /* the reader may be waiting for what is in already (Linux wakes it before sleeping) */
        if (done > 0)
            notify(p, POLLIN | POLLRDNORM);
        if (wait_until(writable_or_broken, p, 0, WAIT_FOREVER)) {
            if (!done)
                done = -ERESTARTSYS;
            break;
        }
    }
    if (done > 0)
        notify(p, POLLIN | POLLRDNORM);
    return done;
}

static uint32_t pipe_poll(struct file *f)
{
    struct pipe *p = f->priv;
    uint32_t mask = 0;
    if (is_read_end(f)) {
        if (!pipe_empty(p))
            mask |= POLLIN | POLLRDNORM;
        if (!p->wr)
            mask |= POLLHUP;
    } else {
        if (!pipe_full(p))
            mask |= POLLOUT | POLLWRNORM;
        if (!p->rd)
            mask |= POLLERR;
    }
    return mask;
}

static int pipe_stat(struct file *f, struct linux_stat *st)
{
    struct pipe *p = f->priv;
    memset(st, 0, sizeof(*st));
    st->st_dev = 0xd;
    st->st_ino = p->ino;
    st->st_nlink = 1;
    st->st_mode = S_IFIFO | 0600;
    st->st_blksize = SLOT_SIZE;
    st->st_atime_sec = st->st_mtime_sec = st->st_ctime_sec = p->ctime_ns / 1000000000;
    st->st_atime_nsec = st->st_mtime_nsec = st->st_ctime_nsec = p->ctime_ns % 1000000000;
    return 0;
}

static long pipe_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    struct pipe *p = f->priv;
    if (cmd != FIONREAD)
        return -ENOTTY;
    int n = (int)MIN(p->bytes, (uint64_t)INT32_MAX);
    return copy_to_user(arg, &n, sizeof(n)) ? -EFAULT : 0;
}

static void pipe_release(struct file *f)
{
    struct pipe *p = f->priv;
    if (is_read_end(f))
        p->rd = NULL;
    else
        p->wr = NULL;
    kfree(f);
    if (p->rd || p->wr) {
        notify(p, 0); /* the other end sees POLLHUP or POLLERR */
        return;
    }
    kfree(p->pages);
    kfree(p->slots);
    kfree(p);
}

static const struct file_ops g_pipe_ops = {
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .notifies = true,
    .stat = pipe_stat,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
};

/* Moves the data into a ring of nslots (a power of two) at indices 0..n-1. */
static long pipe_resize(struct pipe *p, uint32_t nslots)
{
    uint32_t used = p->head - p->tail;
    if (nslots < used)
        return -EBUSY;
    struct slot *slots = kzalloc((size_t)nslots * sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    uint8_t *pages = NULL;
    if (used) {
        pages = kmalloc((size_t)nslots * SLOT_SIZE);
        if (!pages) {
            kfree(slots);
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < used; i++) {
            slots[i] = *slot_at(p, p->tail + i);
            memcpy(pages + (size_t)i * SLOT_SIZE, page_at(p, p->tail + i), SLOT_SIZE);
        }
    }
    kfree(p->pages);
    kfree(p->slots);
    p->pages = pages;
    p->slots = slots;
    p->ring_size = nslots;
    p->tail = 0;
    p->head = used;
    notify(p, POLLOUT | POLLWRNORM);
    return 0;
}

long pipe_fcntl(struct file *f, int cmd, uint64_t arg)
{
    if (f->ops != &g_pipe_ops)
        return -EBADF;
    struct pipe *p = f->priv;
    if (cmd == F_SETPIPE_SZ) {
        uint64_t size = (uint32_t)arg; /* Linux takes the argument as an unsigned int */
        if (size > MAX_PIPE_SIZE)
            return -EINVAL;
        uint64_t bytes = SLOT_SIZE;
        while (bytes < size)
            bytes <<= 1;
        uint32_t nslots = (uint32_t)(bytes / SLOT_SIZE);
        if (nslots != p->ring_size) {
            long err = pipe_resize(p, nslots);
            if (err)
                return err;
        }
    }
    return (long)p->ring_size * SLOT_SIZE;
}

static long do_pipe2(uint64_t ufds, int flags)
{
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
        return -EINVAL;
    struct pipe *p = kzalloc(sizeof(*p));
    struct file *rd = kzalloc(sizeof(*rd)), *wr = kzalloc(sizeof(*wr));
    if (p)
        p->slots = kzalloc(DEF_SLOTS * sizeof(*p->slots));
    if (!p || !p->slots || !rd || !wr) {
        if (p)
            kfree(p->slots);
        kfree(p);
        kfree(rd);
        kfree(wr);
        return -ENFILE;
    }
    p->ring_size = DEF_SLOTS;
    p->ino = g_next_ino++;
    p->ctime_ns = time_realtime_ns();
    p->rd = rd;
    p->wr = wr;
    *rd = (struct file){
        .ops = &g_pipe_ops, .flags = O_RDONLY | ((uint32_t)flags & O_NONBLOCK), .priv = p};
    *wr = (struct file){.ops = &g_pipe_ops,
                        .flags = O_WRONLY | ((uint32_t)flags & (O_NONBLOCK | O_DIRECT)),
                        .priv = p};
    bool cloexec = flags & O_CLOEXEC;
    int fds[2];
    fds[0] = fd_install(rd, 0, cloexec);
    if (fds[0] < 0) {
        pipe_release(wr);
        pipe_release(rd);
        return fds[0];
    }
    fds[1] = fd_install(wr, 0, cloexec);
    if (fds[1] < 0) {
        pipe_release(wr);
        fd_close(fds[0]);
        return fds[1];
    }
    if (copy_to_user(ufds, fds, sizeof(fds))) {
        fd_close(fds[1]);
        fd_close(fds[0]);
        return -EFAULT;
    }
    return 0;
}

SYSCALL_DEFINE1(pipe, uint64_t, ufds)
{
    return do_pipe2(ufds, 0);
}

SYSCALL_DEFINE2(pipe2, uint64_t, ufds, int, flags)
{
    return do_pipe2(ufds, flags);
}
