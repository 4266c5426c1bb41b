/* fdtable.c: the descriptor table (see file.h). */
#include "file.h"
#include "klib.h"
#include "lock.h"
#include "poll.h"
#include "process.h"
#include "scheduler.h"
#include "wait.h"

/* A process's descriptors (process.h: struct process.files). */
struct fdtable {
    struct file *fds[FD_MAX];
    uint64_t cloexec[FD_MAX / 64];
};

static struct fdtable *table(void)
{
    return current_process()->files;
}

void fd_init(void)
{
    struct fdtable *t = kzalloc(sizeof(*t));
    if (!t)
        kpanic("out of kernel memory for the descriptor table");
    current_process()->files = t;
    for (int i = 0; i < 3; i++)
        if (fd_install(console_file(i), i, false) != i)
            kpanic("cannot install standard stream %d", i);
}

struct fdtable *fdtable_copy(const struct fdtable *src)
{
    struct fdtable *t = kmalloc(sizeof(*t));
    if (!t)
        return NULL;
    memcpy(t, src, sizeof(*t));
    for (int fd = 0; fd < FD_MAX; fd++)
        if (t->fds[fd])
            t->fds[fd]->refs++;
    return t;
}

/* Process p's descriptor of f is closed: p's POSIX locks on the file go (lock.h), then the
 * descriptor's reference. */
static void close_file(struct file *f, const struct process *p)
{
    if (f->inode)
        lock_close(f->inode, p);
    file_put(f);
}

void fdtable_free(struct fdtable *t, const struct process *owner)
{
    for (int fd = 0; fd < FD_MAX; fd++)
        if (t->fds[fd])
            close_file(t->fds[fd], owner);
    kfree(t);
}

void fd_close_on_exec(void)
{
    struct fdtable *t = table();
    for (int w = 0; w < FD_MAX / 64; w++) {
        while (t->cloexec[w]) {
            int fd = w * 64 + __builtin_ctzll(t->cloexec[w]);
            t->cloexec[w] &= t->cloexec[w] - 1;
            struct file *f = t->fds[fd];
            t->fds[fd] = NULL;
            if (f)
                close_file(f, current_process());
        }
    }
}

static void set_cloexec_bit(int fd, bool on)
{
    uint64_t *w = &table()->cloexec[fd / 64];
    if (on)
        *w |= 1ull << (fd % 64);
    else
        *w &= ~(1ull << (fd % 64));
}

/* Descriptors the process may have: RLIMIT_NOFILE's soft limit, at most the table's size. */
static int fd_limit(void)
{
    uint64_t cur = current_process()->rlimits[RLIMIT_NOFILE].cur;
    return cur < FD_MAX ? (int)cur : FD_MAX;
}

bool fd_room(void)
{
    struct file **fds = table()->fds;
    for (int fd = 0; fd < fd_limit(); fd++)
        if (!fds[fd])
            return true;
    return false;
}

int fd_install(struct file *f, int min, bool cloexec)
{
    if (min < 0)
        return -EINVAL;
    struct file **fds = table()->fds;
    for (int fd = min; fd < fd_limit(); fd++) {
        if (!fds[fd]) {
            f->refs++;
            fds[fd] = f;
            set_cloexec_bit(fd, cloexec);
            return fd;
        }
    }
    return -EMFILE;
}

/* A file a syscall found through its descriptor stays alive until the syscall ends, even if
 * another thread closes the descriptor while this one blocks inside it (a reader woken by the
 * close must see the pipe it read, not freed memory). The references go in the thread's
 * holding list, given back by fd_release_held; a syscall that looks up more descriptors than the
 * list holds (poll of many) holds the first ones only: the rest are not kept across a wait. */
static void hold(struct file *f)
{
    struct thread *t = current();
    if (!t || t->idle || t->nheld == THREAD_HELD_FILES)
        return;
    f->refs++;
    t->held[t->nheld++] = f;
}

struct file *fd_get(int fd)
{
    if (fd < 0 || fd >= FD_MAX)
        return NULL;
    struct file *f = table()->fds[fd];
    if (f)
        hold(f);
    return f;
}

struct file *fd_peek(const struct fdtable *t, int fd)
{
    return fd >= 0 && fd < FD_MAX ? t->fds[fd] : NULL;
}

/* The last reference: out of every epoll set first, then the file's own release. */
static void file_release(struct file *f)
{
    lock_release_file(f);
    wait_file_release(f);
    poll_file_release(f);
    if (f->ops->release)
        f->ops->release(f);
}

void file_put(struct file *f)
{
    if (--f->refs == 0)
        file_release(f);
}

void fd_release_held(void)
{
    struct thread *t = current();
    while (t->nheld)
        file_put(t->held[--t->nheld]);
}

void file_discard(struct file *f)
{
    if (f->refs == 0)
        file_release(f);
}

int fd_close(int fd)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    table()->fds[fd] = NULL;
    set_cloexec_bit(fd, false);
    close_file(f, current_process());
    return 0;
}

int fd_dup_to(int oldfd, int newfd, bool cloexec)
{
    struct file *f = fd_get(oldfd);
    if (!f)
        return -EBADF;
    if (newfd < 0 || newfd >= fd_limit())
        return -EBADF;
    if (oldfd == newfd) {
        set_cloexec_bit(newfd, cloexec);
        return newfd;
    }
    struct file **fds = table()->fds;
    f->refs++;
    if (fds[newfd])
        close_file(fds[newfd], current_process());
    fds[newfd] = f;
    set_cloexec_bit(newfd, cloexec);
    return newfd;
}

int fd_get_cloexec(int fd)
{
    if (!fd_get(fd))
        return -EBADF;
    return (table()->cloexec[fd / 64] >> (fd % 64)) & 1;
}

int fd_set_cloexec(int fd, bool cloexec)
{
    if (!fd_get(fd))
        return -EBADF;
    set_cloexec_bit(fd, cloexec);
    return 0;
}
