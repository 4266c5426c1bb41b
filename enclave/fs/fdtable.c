/* fdtable.c: the descriptor table (see file.h). */
#include "file.h"
#include "klib.h"
#include "poll.h"

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

struct file *fd_get(int fd)
{
    if (fd < 0 || fd >= FD_MAX)
        return NULL;
    return g_fds[fd];
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
