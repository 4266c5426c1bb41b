/* fdtable.c: the descriptor table (see file.h). */
#include "file.h"
#include "klib.h"
#include "poll.h"
#include "scheduler.h"

static struct file *g_fds[FD_MAX];
static uint64_t g_cloexec[FD_MAX / 64];

void fd_init(void)
{
    for (int i = 0; i < 3; i++)
        if (fd_install(console_file(i), i, false) != i)
            kpanic("cannot install standard stream %d", i);
}

static void set_cloexec_bit(int fd, bool on)
{
    if (on)
        g_cloexec[fd / 64] |= 1ull << (fd % 64);
    else
        g_cloexec[fd / 64] &= ~(1ull << (fd % 64));
}

int fd_install(struct file *f, int min, bool cloexec)
{
    if (min < 0)
        return -EINVAL;
    for (int fd = min; fd < FD_MAX; fd++) {
        if (!g_fds[fd]) {
            f->refs++;
            g_fds[fd] = f;
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
    struct file *f = g_fds[fd];
    if (f)
        hold(f);
    return f;
}

/* The last reference: out of every epoll set first, then the file's own release. */
static void file_release(struct file *f)
{
    poll_file_release(f);
    if (f->ops->release)
        f->ops->release(f);
}

static void file_put(struct file *f)
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
    g_fds[fd] = NULL;
    set_cloexec_bit(fd, false);
    file_put(f);
    return 0;
}

int fd_dup_to(int oldfd, int newfd, bool cloexec)
{
    struct file *f = fd_get(oldfd);
    if (!f)
        return -EBADF;
    if (newfd < 0 || newfd >= FD_MAX)
        return -EBADF;
    if (oldfd == newfd) {
        set_cloexec_bit(newfd, cloexec);
        return newfd;
    }
    f->refs++;
    if (g_fds[newfd])
        file_put(g_fds[newfd]);
    g_fds[newfd] = f;
    set_cloexec_bit(newfd, cloexec);
    return newfd;
}

int fd_get_cloexec(int fd)
{
    if (!fd_get(fd))
        return -EBADF;
    return (g_cloexec[fd / 64] >> (fd % 64)) & 1;
}

int fd_set_cloexec(int fd, bool cloexec)
{
    if (!fd_get(fd))
        return -EBADF;
    set_cloexec_bit(fd, cloexec);
    return 0;
}
