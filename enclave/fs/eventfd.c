/* eventfd.c: eventfd and eventfd2: a 64-bit counter as a file. A write adds to it (waiting while
 * the sum would reach 2^64 - 1); a read takes it all, or 1 with EFD_SEMAPHORE (waiting while it
 * is 0). Both move exactly 8 bytes. */
#include "anon_inode.h"
#include "file.h"
#include "klib.h"
#include "poll.h"
#include "syscall.h"
#include "wait.h"

#define COUNT_MAX UINT64_MAX

struct eventfd {
    uint64_t count;
    bool semaphore;
};

static bool has_count(void *arg)
{
    struct file *f = arg;
    wait_on_file(f); /* reads and writes notify */
    return ((struct eventfd *)f->priv)->count > 0;
}

struct add_wait {
    struct file *f;
    uint64_t n;
};

static bool room_for(void *arg)
{
    struct add_wait *w = arg;
    wait_on_file(w->f);
    return COUNT_MAX - ((struct eventfd *)w->f->priv)->count > w->n;
}

static long eventfd_read(struct file *f, void *buf, size_t len)
{
    struct eventfd *e = f->priv;
    if (len < sizeof(uint64_t))
        return -EINVAL;
    if (!e->count) {
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        if (wait_until(has_count, f, 0, WAIT_FOREVER))
            return -ERESTARTSYS;
    }
    uint64_t n = e->semaphore ? 1 : e->count;
    e->count -= n;
    memcpy(buf, &n, sizeof(n));
    poll_notify(f, POLLOUT);
    return sizeof(n);
}

static long eventfd_write(struct file *f, const void *buf, size_t len)
{
    struct eventfd *e = f->priv;
    uint64_t n;
    if (len < sizeof(n))
        return -EINVAL;
    memcpy(&n, buf, sizeof(n));
    if (n == COUNT_MAX)
        return -EINVAL;
    struct add_wait w = {f, n};
    if (!room_for(&w)) {
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        if (wait_until(room_for, &w, 0, WAIT_FOREVER))
            return -ERESTARTSYS;
    }
    e->count += n;
    poll_notify(f, POLLIN);
    return sizeof(n);
}

static uint32_t eventfd_poll(struct file *f)
{
    struct eventfd *e = f->priv;
    uint32_t mask = 0;
    if (e->count > 0)
        mask |= POLLIN;
    if (e->count == COUNT_MAX)
        mask |= POLLERR;
    if (COUNT_MAX - 1 > e->count)
        mask |= POLLOUT;
    return mask;
}

static int eventfd_stat(struct file *f, struct linux_stat *st)
{
    (void)f;
    return anon_inode_stat(st);
}

static int64_t eventfd_lseek(struct file *f, int64_t off, int whence)
{
    (void)off;
    (void)whence;
    return (int64_t)f->pos; /* Linux's noop_llseek */
}

static void eventfd_release(struct file *f)
{
    kfree(f->priv);
    kfree(f);
}

static const struct file_ops g_eventfd_ops = {
    .notifies = true,
    .read = eventfd_read,
    .write = eventfd_write,
    .poll = eventfd_poll,
    .lseek = eventfd_lseek,
    .stat = eventfd_stat,
    .release = eventfd_release,
};

SYSCALL_DEFINE2(eventfd2, unsigned int, count, int, flags)
{
    if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
        return -EINVAL;
    struct eventfd *e = kzalloc(sizeof(*e));
    struct file *f = kzalloc(sizeof(*f));
    if (!e || !f) {
        kfree(e);
        kfree(f);
        return -ENOMEM;
    }
    e->count = count;
    e->semaphore = flags & EFD_SEMAPHORE;
    *f = (struct file){
        .ops = &g_eventfd_ops, .flags = O_RDWR | ((uint32_t)flags & O_NONBLOCK), .priv = e};
    int fd = fd_install(f, 0, flags & EFD_CLOEXEC);
    if (fd < 0)
        eventfd_release(f);
    return fd;
}

SYSCALL_DEFINE1(eventfd, unsigned int, count)
{
    return sys_eventfd2((long)count, 0, 0, 0, 0, 0);
}
