/* io.c: descriptor syscalls: read, write and their vector forms, close, dup*, fcntl, ioctl and
 * the stat family on descriptors. */
#include "file.h"
#include "klib.h"
#include "syscall.h"

#define MAX_RW_COUNT 0x7ffff000ul /* Linux caps one transfer at this */

static struct file *readable(int fd)
{
    struct file *f = fd_get(fd);
    if (!f || !f->ops->read || (f->flags & O_ACCMODE) == O_WRONLY)
        return NULL;
    return f;
}

static struct file *writable(int fd)
{
    struct file *f = fd_get(fd);
    if (!f || !f->ops->write || (f->flags & O_ACCMODE) == O_RDONLY)
        return NULL;
    return f;
}

SYSCALL_DEFINE3(read, int, fd, uint64_t, buf, uint64_t, count)
{
    struct file *f = readable(fd);
    if (!f)
        return -EBADF;
    if (count == 0)
        return 0;
    count = MIN(count, MAX_RW_COUNT);
    if (!user_range_ok(buf, count, PROT_WRITE))
        return -EFAULT;
    return f->ops->read(f, (void *)buf, count);
}

SYSCALL_DEFINE3(write, int, fd, uint64_t, buf, uint64_t, count)
{
    struct file *f = writable(fd);
    if (!f)
        return -EBADF;
    if (count == 0)
        return 0;
    count = MIN(count, MAX_RW_COUNT);
    if (!user_range_ok(buf, count, PROT_READ))
        return -EFAULT;
    return f->ops->write(f, (const void *)buf, count);
}

/* Copies and checks an iovec array: every buffer must be accessible for `need`. */
static long load_iov(uint64_t uiov, int cnt, struct linux_iovec *iov, uint32_t need)
{
    if (cnt < 0 || cnt > IOV_MAX)
        return -EINVAL;
    if (copy_from_user(iov, uiov, (size_t)cnt * sizeof(*iov)))
        return -EFAULT;
    uint64_t total = 0;
    for (int i = 0; i < cnt; i++) {
        if (iov[i].len > (uint64_t)INT64_MAX || __builtin_add_overflow(total, iov[i].len, &total) ||
            total > (uint64_t)INT64_MAX)
            return -EINVAL;
        if (!user_range_ok(iov[i].base, iov[i].len, need))
            return -EFAULT;
    }
    return (long)total;
}

static struct linux_iovec g_iov[IOV_MAX];

SYSCALL_DEFINE3(writev, int, fd, uint64_t, uiov, int, cnt)
{
    struct file *f = writable(fd);
    if (!f)
        return -EBADF;
    long total = load_iov(uiov, cnt, g_iov, PROT_READ);
    if (total < 0)
        return total;
    long done = 0;
    for (int i = 0; i < cnt && (uint64_t)done < MAX_RW_COUNT; i++) {
        if (g_iov[i].len == 0)
            continue;
        size_t len = MIN(g_iov[i].len, MAX_RW_COUNT - (uint64_t)done);
        long n = f->ops->write(f, (const void *)g_iov[i].base, len);
        if (n < 0)
            return done ? done : n;
        done += n;
        if ((size_t)n < len)
            break;
    }
    return done;
}

SYSCALL_DEFINE3(readv, int, fd, uint64_t, uiov, int, cnt)
{
    struct file *f = readable(fd);
    if (!f)
        return -EBADF;
    long total = load_iov(uiov, cnt, g_iov, PROT_WRITE);
    if (total < 0)
        return total;
    long done = 0;
    for (int i = 0; i < cnt && (uint64_t)done < MAX_RW_COUNT; i++) {
        if (g_iov[i].len == 0)
            continue;
        size_t len = MIN(g_iov[i].len, MAX_RW_COUNT - (uint64_t)done);
        long n = f->ops->read(f, (void *)g_iov[i].base, len);
        if (n < 0)
            return done ? done : n;
        done += n;
        if ((size_t)n < len)
            break;
    }
    return done;
}

SYSCALL_DEFINE1(close, int, fd)
{
    return fd_close(fd);
}

SYSCALL_DEFINE1(dup, int, fd)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    return fd_install(f, 0, false);
}

SYSCALL_DEFINE2(dup2, int, oldfd, int, newfd)
{
    if (!fd_get(oldfd))
        return -EBADF;
    if (oldfd == newfd)
        return newfd;
    return fd_dup_to(oldfd, newfd, false);
}

SYSCALL_DEFINE3(dup3, int, oldfd, int, newfd, int, flags)
{
    if ((flags & ~O_CLOEXEC) || oldfd == newfd)
        return -EINVAL;
    return fd_dup_to(oldfd, newfd, flags & O_CLOEXEC);
}

SYSCALL_DEFINE3(fcntl, int, fd, int, cmd, uint64_t, arg)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if ((long)arg < 0 || arg >= FD_MAX)
            return -EINVAL;
        return fd_install(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
    case F_GETFD:
        return fd_get_cloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD:
        return fd_set_cloexec(fd, arg & FD_CLOEXEC);
    case F_GETFL:
        return f->flags;
    case F_SETFL:
        f->flags = (f->flags & ~(uint32_t)(O_APPEND | O_NONBLOCK)) |
                   ((uint32_t)arg & (O_APPEND | O_NONBLOCK));
        return 0;
    default:
        return -EINVAL;
    }
}

SYSCALL_DEFINE3(ioctl, int, fd, unsigned long, cmd, uint64_t, arg)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (cmd == FIOCLEX || cmd == FIONCLEX)
        return fd_set_cloexec(fd, cmd == FIOCLEX);
    if (!f->ops->ioctl)
        return -ENOTTY;
    return f->ops->ioctl(f, cmd, arg);
}

static int stat_fd(int fd, struct linux_stat *st)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->ops->stat)
        return -EINVAL;
    return f->ops->stat(f, st);
}

SYSCALL_DEFINE2(fstat, int, fd, uint64_t, ubuf)
{
    struct linux_stat st;
    int err = stat_fd(fd, &st);
    if (err)
        return err;
    return copy_to_user(ubuf, &st, sizeof(st));
}

/* Path lookups arrive with the file system; until then only AT_EMPTY_PATH works. */
static int stat_at(int dirfd, uint64_t upath, int flags, struct linux_stat *st)
{
    char path[2];
    long n = strncpy_from_user(path, upath, sizeof(path));
    if (n == -EFAULT)
        return -EFAULT;
    if (n == 0) {
        if (!(flags & AT_EMPTY_PATH))
            return -ENOENT;
        return stat_fd(dirfd, st);
    }
    return -ENOENT;
}

SYSCALL_DEFINE4(newfstatat, int, dirfd, uint64_t, upath, uint64_t, ubuf, int, flags)
{
    struct linux_stat st;
    int err = stat_at(dirfd, upath, flags, &st);
    if (err)
        return err;
    return copy_to_user(ubuf, &st, sizeof(st));
}

SYSCALL_DEFINE5(statx, int, dirfd, uint64_t, upath, int, flags, uint32_t, mask, uint64_t, ubuf)
{
    (void)mask;
    struct linux_stat st;
    int err = stat_at(dirfd, upath, flags, &st);
    if (err)
        return err;
    struct linux_statx sx;
    memset(&sx, 0, sizeof(sx));
    sx.stx_mask = STATX_BASIC_STATS;
    sx.stx_blksize = (uint32_t)st.st_blksize;
    sx.stx_nlink = (uint32_t)st.st_nlink;
    sx.stx_uid = st.st_uid;
    sx.stx_gid = st.st_gid;
    sx.stx_mode = (uint16_t)st.st_mode;
    sx.stx_ino = st.st_ino;
    sx.stx_size = (uint64_t)st.st_size;
    sx.stx_blocks = (uint64_t)st.st_blocks;
    sx.stx_atime.tv_sec = st.st_atime_sec;
    sx.stx_mtime.tv_sec = st.st_mtime_sec;
    sx.stx_ctime.tv_sec = st.st_ctime_sec;
    sx.stx_dev_minor = (uint32_t)st.st_dev;
    return copy_to_user(ubuf, &sx, sizeof(sx));
}
