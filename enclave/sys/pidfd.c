/* pidfd.c: pidfd_open and the files it makes. A pidfd holds a reference on its struct process
 * (process.h: the struct stays allocated while one is held, after the process is reaped too),
 * so it can never come to name another process that took the same number. It is readable
 * (POLLIN) once the process has ended, as Linux's pidfd_poll says, and hangs up (POLLHUP) once
 * it has been reaped as well. pidfd_send_signal is in signal.c, waitid(P_PIDFD) in fork.c.
 *
 * The ends are told through the process: its pidfds are linked from it (pidfds), and its end
 * (kernel/process.c, the last thread gone) notifies each, which wakes poll, select and epoll. */
#include "pidfd.h"

#include "anon_inode.h"
#include "klib.h"
#include "poll.h"
#include "process.h"
#include "syscall.h"

#define PIDFD_NONBLOCK O_NONBLOCK

struct pidfd {
    struct file file; /* first: a pidfd's struct file * is its struct pidfd * */
    struct process *proc;
    struct pidfd *next; /* the process's other pidfds */
};

static const struct file_ops g_pidfd_ops;

struct process *pidfd_process(const struct file *f)
{
    return f->ops == &g_pidfd_ops ? ((const struct pidfd *)f)->proc : NULL;
}

bool pidfd_alive(const struct process *p)
{
    return process_find(p->pid) == p; /* reaped: unlinked from the list of processes */
}

void pidfd_process_ended(struct process *p)
{
    for (struct pidfd *d = p->pidfds; d; d = d->next)
        poll_notify(&d->file, POLLIN | POLLRDNORM);
}

static uint32_t pidfd_poll(struct file *f)
{
    struct process *p = ((struct pidfd *)f)->proc;
    if (!pidfd_alive(p))
        return POLLIN | POLLRDNORM | POLLHUP;
    return p->zombie ? POLLIN | POLLRDNORM : 0;
}

static int pidfd_stat(struct file *f, struct linux_stat *st)
{
    (void)f;
    return anon_inode_stat(st);
}

static long pidfd_name(struct file *f, char *buf, size_t size)
{
    (void)f;
    return ksnprintf(buf, size, "anon_inode:[pidfd]");
}

static void pidfd_release(struct file *f)
{
    struct pidfd *d = (struct pidfd *)f;
    for (struct pidfd **pp = &d->proc->pidfds; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    }
    process_put(d->proc);
    kfree(d);
}

static const struct file_ops g_pidfd_ops = {
    .poll = pidfd_poll,
    .notifies = true,
    .stat = pidfd_stat,
    .name = pidfd_name,
    .release = pidfd_release,
};

/* pidfd_open(pid, flags): flags 0 or PIDFD_NONBLOCK (waitid on it does not wait); the process
 * may have ended but not been reaped; the descriptor is close-on-exec, as Linux's. */
SYSCALL_DEFINE2(pidfd_open, int, pid, uint32_t, flags)
{
    if ((flags & ~(uint32_t)PIDFD_NONBLOCK) || pid <= 0)
        return -EINVAL;
    struct process *p = process_find(pid);
    if (!p)
        return -ESRCH;
    return pidfd_install(p, flags);
}

int pidfd_install(struct process *p, uint32_t flags)
{
    struct pidfd *d = kzalloc(sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->file = (struct file){.ops = &g_pidfd_ops, .flags = O_RDWR | (flags & PIDFD_NONBLOCK)};
    d->proc = p;
    process_get(p);
    d->next = p->pidfds;
    p->pidfds = d;
    int fd = fd_install(&d->file, 0, true);
    if (fd < 0)
        pidfd_release(&d->file);
    return fd;
}
