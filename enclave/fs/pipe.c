/* pipe.c: pipes: pipe, pipe2, FIFOs (named pipes: mknod S_IFIFO), and their ends as files.
 *
 * A pipe is Linux's ring of page-sized slots, so that what a program can observe matches it:
 * the capacity (16 slots, 64 KiB, F_SETPIPE_SZ in powers of two pages), which small writes
 * merge into the last slot and which take a new one (a write of up to PIPE_BUF bytes always
 * fits one slot, so it is all or nothing), O_DIRECT's packets (one write, one read), and
 * partial writes when the ring fills. The slots' pages are one buffer, allocated at the first
 * write.
 *
 * A reader or writer that must wait is queued on its end (kernel/wait.c); every change of
 * state (data in, room made, an end opened or closed, a resize) notifies every end, which wakes
 * it.
 *
 * A FIFO is a pipe found through an inode of the file system: each open makes another end (an
 * open file description that reads, writes, or both with O_RDWR). An open for reading waits for
 * a writer and an open for writing waits for a reader, unless O_NONBLOCK (then a writer with no
 * reader gets ENXIO). The pipe lives while one of its ends is open; its data goes with the last.
 */
#include "pipe.h"

#include "klib.h"
#include "poll.h"
#include "signal.h"
#include "syscall.h"
#include "vfs.h"
#include "wait.h"

#define SLOT_SIZE     4096u
#define DEF_SLOTS     16u
#define MAX_PIPE_SIZE (1u << 31) /* F_SETPIPE_SZ: Linux's bound for a privileged process */

#define SLOT_CAN_MERGE 1u /* later small writes may append to this slot */
#define SLOT_PACKET    2u /* O_DIRECT: one write, read by one read */

struct slot {
    uint32_t off, len, flags;
};

/* An end: an open file of the pipe, linked with the pipe's other ends. */
struct pipe_file {
    struct file file; /* first: a struct file * of a pipe is a struct pipe_file * */
    struct pipe_file *next;
    uint32_t writers_seen; /* the pipe's writer_opens when it was opened (POLLHUP, below) */
};

struct pipe {
    uint8_t *pages;            /* ring_size pages of SLOT_SIZE, NULL until the first write */
    struct slot *slots;        /* ring_size */
    uint32_t ring_size;        /* a power of two */
    uint32_t head, tail;       /* free-running slot indices: [tail, head) hold data */
    uint64_t bytes;            /* the data held (FIONREAD) */
    struct pipe_file *ends;    /* its open files */
    uint32_t readers, writers; /* ends that read, that write (O_RDWR counts in both) */
    uint32_t reader_opens, writer_opens; /* FIFOs: opens so far (a waiting open sees one come) */
    struct inode *fifo;                  /* a FIFO's inode (NULL: pipe(2)) */
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

static bool reads(const struct file *f)
{
    return (f->flags & O_ACCMODE) != O_WRONLY;
}

static bool writes(const struct file *f)
{
    return (f->flags & O_ACCMODE) != O_RDONLY;
}

/* The ends share the pipe's wait queues on Linux: tell the watchers of every end. */
static void notify(struct pipe *p, uint32_t key)
{
    for (struct pipe_file *e = p->ends; e; e = e->next)
        poll_notify(&e->file, key);
}

/* (arg: the waiting end; notify wakes the waiters of every end) */
static bool readable_or_eof(void *arg)
{
    struct file *f = arg;
    struct pipe *p = f->priv;
    wait_on_file(f);
    return !pipe_empty(p) || !p->writers;
}

static bool writable_or_broken(void *arg)
{
    struct file *f = arg;
    struct pipe *p = f->priv;
    wait_on_file(f);
    return !pipe_full(p) || !p->readers;
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
        if (done || !p->writers)
            break;
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        if (wait_until(readable_or_eof, f, 0, WAIT_FOREVER))
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
    if (!p->readers) {
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
        if (!p->readers) {
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
        if (wait_until(writable_or_broken, f, 0, WAIT_FOREVER)) {
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
    if (reads(f)) {
        if (!pipe_empty(p))
            mask |= POLLIN | POLLRDNORM;
        /* a FIFO's reader hangs up only once a writer has come since it opened and gone */
        if (!p->writers && (!p->fifo || p->writer_opens != ((struct pipe_file *)f)->writers_seen))
            mask |= POLLHUP;
    }
    if (writes(f)) {
        if (!pipe_full(p))
            mask |= POLLOUT | POLLWRNORM;
        if (!p->readers)
            mask |= POLLERR;
    }
    return mask;
}

static int pipe_stat(struct file *f, struct linux_stat *st)
{
    struct pipe *p = f->priv;
    if (p->fifo) {
        vfs_stat(p->fifo, st);
        return 0;
    }
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

static long pipe_name(struct file *f, char *buf, size_t size)
{
    return ksnprintf(buf, size, "pipe:[%lu]", ((struct pipe *)f->priv)->ino);
}

static void free_pipe(struct pipe *p)
{
    if (p->fifo)
        p->fifo->arg = 0;
    kfree(p->pages);
    kfree(p->slots);
    kfree(p);
}

static void pipe_release(struct file *f)
{
    struct pipe *p = f->priv;
    for (struct pipe_file **pp = &p->ends; *pp; pp = &(*pp)->next) {
        if (&(*pp)->file == f) {
            *pp = (*pp)->next;
            break;
        }
    }
    if (reads(f))
        p->readers--;
    if (writes(f))
        p->writers--;
    struct inode *fifo = f->inode;
    kfree(f);
    if (p->ends)
        notify(p, 0); /* the other ends see POLLHUP or POLLERR */
    else
        free_pipe(p); /* clears the FIFO's pointer to it: the inode must still be there */
    if (fifo)
        vfs_put(fifo);
}

static const struct file_ops g_pipe_ops = {
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .notifies = true,
    .stat = pipe_stat,
    .ioctl = pipe_ioctl,
    .name = pipe_name,
    .release = pipe_release,
};

/* ---- splice and tee (sys/splice.c): the ring seen without being consumed ---- */

bool pipe_is(const struct file *f)
{
    return f->ops == &g_pipe_ops;
}

bool pipe_same(const struct file *a, const struct file *b)
{
    return a->priv == b->priv;
}

long pipe_peek(struct file *f, void *buf, size_t len, bool nonblock)
{
    struct pipe *p = f->priv;
    while (pipe_empty(p)) {
        if (!p->writers)
            return 0;
        if (nonblock)
            return -EAGAIN;
        if (wait_until(readable_or_eof, f, 0, WAIT_FOREVER))
            return -ERESTARTSYS;
    }
    size_t done = 0;
    for (uint32_t i = p->tail; i != p->head && done < len; i++) {
        struct slot *s = slot_at(p, i);
        uint32_t n = (uint32_t)MIN((size_t)s->len, len - done);
        memcpy((uint8_t *)buf + done, page_at(p, i) + s->off, n);
        done += n;
    }
    return (long)done;
}

void pipe_consume(struct file *f, size_t n)
{
    struct pipe *p = f->priv;
    bool was_full = pipe_full(p);
    while (n && !pipe_empty(p)) {
        struct slot *s = slot_at(p, p->tail);
        uint32_t k = (uint32_t)MIN((size_t)s->len, n);
        s->off += k;
        s->len -= k;
        p->bytes -= k;
        n -= k;
        if (s->len == 0)
            p->tail++;
    }
    if (was_full)
        notify(p, POLLOUT | POLLWRNORM);
}

long pipe_wait_room(struct file *f, bool nonblock)
{
    struct pipe *p = f->priv;
    for (;;) {
        if (!p->readers) {
            signal_raise(SIGPIPE);
            return -EPIPE;
        }
        if (!pipe_full(p))
            return (long)(p->ring_size - (p->head - p->tail)) * SLOT_SIZE;
        if (nonblock)
            return -EAGAIN;
        if (wait_until(writable_or_broken, f, 0, WAIT_FOREVER))
            return -ERESTARTSYS;
    }
}

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

static struct pipe *new_pipe(void)
{
    struct pipe *p = kzalloc(sizeof(*p));
    if (p)
        p->slots = kzalloc(DEF_SLOTS * sizeof(*p->slots));
    if (!p || !p->slots) {
        kfree(p);
        return NULL;
    }
    p->ring_size = DEF_SLOTS;
    p->ino = g_next_ino++;
    p->ctime_ns = time_realtime_ns();
    return p;
}

/* A new end of p (flags: O_ACCMODE and O_NONBLOCK, O_DIRECT), or NULL. */
static struct file *new_end(struct pipe *p, uint32_t flags)
{
    struct pipe_file *e = kzalloc(sizeof(*e));
    if (!e)
        return NULL;
    e->file = (struct file){.ops = &g_pipe_ops, .flags = flags, .priv = p};
    e->writers_seen = p->writer_opens;
    e->next = p->ends;
    p->ends = e;
    if (reads(&e->file))
        p->readers++;
    if (writes(&e->file))
        p->writers++;
    return &e->file;
}

static long do_pipe2(uint64_t ufds, int flags)
{
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
        return -EINVAL;
    struct pipe *p = new_pipe();
    struct file *rd = p ? new_end(p, O_RDONLY | ((uint32_t)flags & O_NONBLOCK)) : NULL;
    struct file *wr =
        rd ? new_end(p, O_WRONLY | ((uint32_t)flags & (O_NONBLOCK | O_DIRECT))) : NULL;
    if (!wr) {
        if (rd)
            pipe_release(rd);
        else if (p)
            free_pipe(p);
        return -ENFILE;
    }
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

int pipe_reopen(struct file *f, uint32_t flags, struct file **out)
{
    if (f->ops != &g_pipe_ops || (flags & O_ACCMODE) == O_ACCMODE)
        return -ENXIO;
    struct pipe *p = f->priv;
    struct file *n = new_end(p, flags & (O_ACCMODE | O_NONBLOCK));
    if (!n)
        return -ENOMEM;
    notify(p, POLLIN | POLLOUT);
    *out = n;
    return 0;
}

/* ---- FIFOs ---- */

struct open_wait {
    struct file *f;
    uint32_t opens; /* the count of opens of the other kind when the wait began */
};

static bool reader_came(void *arg)
{
    struct open_wait *w = arg;
    struct pipe *p = w->f->priv;
    wait_on_file(w->f);
    return p->reader_opens != w->opens;
}

static bool writer_came(void *arg)
{
    struct open_wait *w = arg;
    struct pipe *p = w->f->priv;
    wait_on_file(w->f);
    return p->writer_opens != w->opens;
}

static int fifo_open(struct inode *ino, uint32_t flags, struct file **out)
{
    struct pipe *p = (struct pipe *)ino->arg;
    uint32_t acc = flags & O_ACCMODE;
    if (acc == O_ACCMODE)
        return -EINVAL;
    if (acc == O_WRONLY && (flags & O_NONBLOCK) && (!p || !p->readers))
        return -ENXIO;
    if (!p) {
        p = new_pipe();
        if (!p)
            return -ENOMEM;
        p->fifo = ino;
        ino->arg = (uint64_t)p;
    }
    struct file *f = new_end(p, flags & (O_ACCMODE | O_NONBLOCK | O_APPEND));
    if (!f) {
        if (!p->ends)
            free_pipe(p);
        return -ENOMEM;
    }
    f->inode = ino;
    vfs_get(ino);
    if (reads(f))
        p->reader_opens++;
    if (writes(f))
        p->writer_opens++;
    notify(p, POLLIN | POLLOUT); /* opens waiting for this one go on */
    int err = 0;
    if (!(flags & O_NONBLOCK) && acc == O_RDONLY && !p->writers) {
        struct open_wait w = {f, p->writer_opens};
        err = wait_until(writer_came, &w, 0, WAIT_FOREVER);
    } else if (!(flags & O_NONBLOCK) && acc == O_WRONLY && !p->readers) {
        struct open_wait w = {f, p->reader_opens};
        err = wait_until(reader_came, &w, 0, WAIT_FOREVER);
    }
    if (err) {
        file_discard(f);
        return -ERESTARTSYS;
    }
    *out = f;
    return 0;
}

static const struct inode_ops g_fifo_iops = {.open = fifo_open};

void fifo_init(struct inode *ino)
{
    ino->iops = &g_fifo_iops;
    ino->arg = 0;
}
