/* io.c: descriptor syscalls: read, write and their vector forms, close, dup*, fcntl, ioctl and
 * the stat family on descriptors. */
#include "file.h"
#include "vfs.h"
#include "klib.h"
#include "lock.h"
#include "process.h"
#include "pipe.h"
#include "socket.h"
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

#define S_ISDIR_MODE(ino) S_ISDIR((ino)->mode)

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
    if (count == 0 && !sock_ops_of(f))
        return 0; /* to a socket it is a message (an empty datagram), as writev's is */
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

/* The vector forms: one transfer per buffer, stopping at the first short one. off < 0: at the
 * file position (readv, writev); else at off without moving it (preadv, pwritev). The copy of
 * the iovec array is the caller's own (on this stack, or allocated for a long one): a transfer
 * may block, and another thread's readv or writev meanwhile must not touch it. */
static long transfer_iov_with(struct file *f, struct linux_iovec *iov, uint64_t uiov, int cnt,
                              int64_t off, bool write);

static long transfer_iov(struct file *f, uint64_t uiov, int cnt, int64_t off, bool write)
{
    struct linux_iovec fast[UIO_FASTIOV];
    if (cnt <= UIO_FASTIOV)
        return transfer_iov_with(f, fast, uiov, cnt, off, write);
    if (cnt > IOV_MAX)
        return -EINVAL;
    struct linux_iovec *iov = kmalloc((size_t)cnt * sizeof(*iov));
    if (!iov)
        return -ENOMEM;
    long ret = transfer_iov_with(f, iov, uiov, cnt, off, write);
    kfree(iov);
    return ret;
}

static long transfer_iov_with(struct file *f, struct linux_iovec *iov, uint64_t uiov, int cnt,
                              int64_t off, bool write)
{
    long total = load_iov(uiov, cnt, iov, write ? PROT_READ : PROT_WRITE);
    if (total < 0)
        return total;
    const struct sock_ops *so = sock_ops_of(f);
    if (so && off < 0 && so->sendmsg && so->recvmsg) {
        /* one message for the whole vector, as Linux's sock_read_iter/sock_write_iter: a
         * datagram is not cut at the iovec's boundaries */
        struct sock_msg m = {.io = {.iov = iov, .cnt = cnt, .user = true},
                             .len = MIN((uint64_t)total, MAX_RW_COUNT)};
        int flags = (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0;
        if (!write && !m.len)
            return 0;
        return write ? so->sendmsg(f, &m, flags) : so->recvmsg(f, &m, flags);
    }
    long done = 0;
    for (int i = 0; i < cnt && (uint64_t)done < MAX_RW_COUNT; i++) {
        if (iov[i].len == 0)
            continue;
        size_t len = MIN(iov[i].len, MAX_RW_COUNT - (uint64_t)done);
        /* a stream (pipe, stdin) that has given something is not waited on for more */
        if (!write && done && f->ops->poll && !(f->ops->poll(f) & (POLLIN | POLLHUP | POLLERR)))
            break;
        void *base = (void *)iov[i].base;
        uint64_t at = (uint64_t)off + (uint64_t)done;
        long n = off < 0
                     ? (write ? f->ops->write(f, base, len) : f->ops->read(f, base, len))
                     : (write ? f->ops->pwrite(f, base, len, at) : f->ops->pread(f, base, len, at));
        if (n < 0)
            return done ? done : n;
        done += n;
        if ((size_t)n < len)
            break;
    }
    return done;
}

SYSCALL_DEFINE3(writev, int, fd, uint64_t, uiov, int, cnt)
{
    struct file *f = writable(fd);
    return f ? transfer_iov(f, uiov, cnt, -1, true) : -EBADF;
}

SYSCALL_DEFINE3(readv, int, fd, uint64_t, uiov, int, cnt)
{
    struct file *f = readable(fd);
    return f ? transfer_iov(f, uiov, cnt, -1, false) : -EBADF;
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

static long record_lock(struct file *f, int cmd, uint64_t ulock);

SYSCALL_DEFINE3(fcntl, int, fd, int, cmd, uint64_t, arg)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if ((long)arg < 0 || arg >= FD_MAX || arg >= current_process()->rlimits[RLIMIT_NOFILE].cur)
            return -EINVAL; /* Linux: at or past RLIMIT_NOFILE */
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
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
        return pipe_fcntl(f, cmd, arg);
    case F_ADD_SEALS:
    case F_GET_SEALS:
        return memfd_fcntl(f, cmd, (uint32_t)arg);
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return record_lock(f, cmd, arg);
    default:
        return -EINVAL;
    }
}

/* Record locks: the checks of the request here, the locks themselves in fs/lock.c. */
static long record_lock(struct file *f, int cmd, uint64_t ulock)
{
    struct linux_flock fl;
    if (copy_from_user(&fl, ulock, sizeof(fl)))
        return -EFAULT;
    if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
        return -EINVAL;
    if (fl.l_whence != SEEK_SET && fl.l_whence != SEEK_CUR && fl.l_whence != SEEK_END)
        return -EINVAL;
    if ((cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW) && fl.l_pid != 0)
        return -EINVAL;
    bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
    if (!get && ((fl.l_type == F_RDLCK && (f->flags & O_ACCMODE) == O_WRONLY) ||
                 (fl.l_type == F_WRLCK && (f->flags & O_ACCMODE) == O_RDONLY)))
        return -EBADF;
    long err = lock_record(f, cmd, &fl);
    if (err || !get)
        return err;
    return copy_to_user(ulock, &fl, sizeof(fl));
}

SYSCALL_DEFINE2(flock, int, fd, int, op)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int kind = op & ~LOCK_NB;
    if (kind & 32)
        return 0; /* LOCK_MAND: ignored by Linux */
    if (kind != LOCK_SH && kind != LOCK_EX && kind != LOCK_UN)
        return -EINVAL;
    return lock_flock(f, op);
}

SYSCALL_DEFINE3(ioctl, int, fd, unsigned long, cmd, uint64_t, arg)
{
    cmd = (uint32_t)cmd; /* Linux's cmd is an unsigned int: musl passes it sign-extended */
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (cmd == FIOCLEX || cmd == FIONCLEX)
        return fd_set_cloexec(fd, cmd == FIOCLEX);
    if (cmd == FIONBIO) {
        int on;
        if (copy_from_user(&on, arg, sizeof(on)))
            return -EFAULT;
        f->flags = on ? f->flags | O_NONBLOCK : f->flags & ~(uint32_t)O_NONBLOCK;
        return 0;
    }
    if (!f->ops->ioctl)
        return -ENOTTY;
    return f->ops->ioctl(f, cmd, arg);
}

SYSCALL_DEFINE4(pread64, int, fd, uint64_t, buf, uint64_t, count, int64_t, off)
{
    struct file *f = readable(fd);
    if (!f)
        return -EBADF;
    if (off < 0)
        return -EINVAL;
    if (!f->ops->pread)
        return f->inode && S_ISDIR_MODE(f->inode) ? -EISDIR : -ESPIPE;
    count = MIN(count, MAX_RW_COUNT);
    if (!user_range_ok(buf, count, PROT_WRITE))
        return -EFAULT;
    return f->ops->pread(f, (void *)buf, count, (uint64_t)off);
}

SYSCALL_DEFINE4(pwrite64, int, fd, uint64_t, buf, uint64_t, count, int64_t, off)
{
    struct file *f = writable(fd);
    if (!f)
        return -EBADF;
    if (off < 0)
        return -EINVAL;
    if (!f->ops->pwrite)
        return -ESPIPE;
    if (count == 0)
        return 0;
    count = MIN(count, MAX_RW_COUNT);
    if (!user_range_ok(buf, count, PROT_READ))
        return -EFAULT;
    return f->ops->pwrite(f, (const void *)buf, count, (uint64_t)off);
}

/* preadv/pwritev: the vector forms at an offset (the position does not move). */
static long vec_at(struct file *f, uint64_t uiov, int cnt, int64_t off, bool write)
{
    if (off < 0)
        return -EINVAL;
    if (write ? !f->ops->pwrite : !f->ops->pread)
        return -ESPIPE;
    return transfer_iov(f, uiov, cnt, off, write);
}

SYSCALL_DEFINE4(preadv, int, fd, uint64_t, uiov, int, cnt, int64_t, off)
{
    struct file *f = readable(fd);
    return f ? vec_at(f, uiov, cnt, off, false) : -EBADF;
}

SYSCALL_DEFINE4(pwritev, int, fd, uint64_t, uiov, int, cnt, int64_t, off)
{
    struct file *f = writable(fd);
    return f ? vec_at(f, uiov, cnt, off, true) : -EBADF;
}

/* preadv2/pwritev2: preadv and pwritev with flags, or readv and writev at offset -1. The files
 * are memory, so RWF_HIPRI, RWF_DSYNC and RWF_SYNC have nothing to tune; RWF_APPEND writes at
 * the end as O_APPEND does; RWF_NOWAIT makes a pipe or socket non-blocking for the call
 * (EAGAIN where it would wait) and changes nothing on a file, which never waits. Linux's later
 * bits (RWF_NOAPPEND, RWF_ATOMIC, RWF_DONTCACHE) and unknown ones are EOPNOTSUPP, as Linux
 * answers for the last two on a tmpfs file. */
#define RWF_HIPRI  0x01u
#define RWF_DSYNC  0x02u
#define RWF_SYNC   0x04u
#define RWF_NOWAIT 0x08u
#define RWF_APPEND 0x10u

static long vec2(int fd, uint64_t uiov, int cnt, int64_t off, uint32_t flags, bool write)
{
    if (off < -1)
        return -EINVAL;
    struct file *f = write ? writable(fd) : readable(fd);
    if (!f)
        return -EBADF;
    if (off >= 0 && (write ? !f->ops->pwrite : !f->ops->pread))
        return -ESPIPE;
    if (flags & ~(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND))
        return -EOPNOTSUPP;
    /* the flags are the file's only for this call, which does not wait with them set: a file
     * that waits (a pipe, a socket) does not with O_NONBLOCK, and a regular one never does */
    uint32_t saved = f->flags;
    if ((flags & RWF_NOWAIT) && !(f->inode && S_ISREG(f->inode->mode)))
        f->flags |= O_NONBLOCK;
    if (write && (flags & RWF_APPEND) && f->inode && S_ISREG(f->inode->mode))
        f->flags |= O_APPEND;
    long ret = transfer_iov(f, uiov, cnt, off, write);
    f->flags = (f->flags & ~(uint32_t)(O_NONBLOCK | O_APPEND)) | (saved & (O_NONBLOCK | O_APPEND));
    return ret;
}

SYSCALL_DEFINE6(preadv2, int, fd, uint64_t, uiov, int, cnt, int64_t, off, int64_t, off_hi, uint32_t,
                flags)
{
    (void)off_hi; /* x86-64 takes the whole offset in the low word */
    return vec2(fd, uiov, cnt, off, flags, false);
}

SYSCALL_DEFINE6(pwritev2, int, fd, uint64_t, uiov, int, cnt, int64_t, off, int64_t, off_hi,
                uint32_t, flags)
{
    (void)off_hi;
    return vec2(fd, uiov, cnt, off, flags, true);
}

/* vmsplice: a pipe's write end takes the user's buffers as writev would, but only what fits
 * once there is room (Linux waits for space once, then adds what it can); a read end gives
 * its data as readv would. The buffers are copied, not mapped into the pipe, so SPLICE_F_GIFT
 * changes nothing. SPLICE_F_NONBLOCK or the end's O_NONBLOCK: EAGAIN instead of a wait. */
#define SPLICE_F_NONBLOCK 0x02u
#define SPLICE_F_ALL      0x0fu

SYSCALL_DEFINE4(vmsplice, int, fd, uint64_t, uiov, uint64_t, cnt, uint32_t, flags)
{
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    struct file *f = fd_get(fd);
    if (!f || !pipe_is(f))
        return -EBADF;
    bool write = (f->flags & O_ACCMODE) != O_RDONLY;
    if (cnt > IOV_MAX)
        return -EINVAL;
    bool nonblock = (flags & SPLICE_F_NONBLOCK) || (f->flags & O_NONBLOCK);
    if (write) {
        /* the wait comes first; the write after it never waits (O_NONBLOCK for it alone) */
        long room = pipe_wait_room(f, nonblock);
        if (room < 0)
            return room;
        uint32_t saved = f->flags;
        f->flags |= O_NONBLOCK;
        long ret = transfer_iov(f, uiov, (int)cnt, -1, true);
        f->flags = (f->flags & ~(uint32_t)O_NONBLOCK) | (saved & O_NONBLOCK);
        return ret;
    }
    if (!nonblock)
        return transfer_iov(f, uiov, (int)cnt, -1, false);
    uint32_t saved = f->flags;
    f->flags |= O_NONBLOCK;
    long ret = transfer_iov(f, uiov, (int)cnt, -1, false);
    f->flags = (f->flags & ~(uint32_t)O_NONBLOCK) | (saved & O_NONBLOCK);
    return ret;
}

SYSCALL_DEFINE3(lseek, int, fd, int64_t, off, int, whence)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->ops->lseek)
        return -ESPIPE;
    return f->ops->lseek(f, off, whence);
}

SYSCALL_DEFINE3(getdents64, int, fd, uint64_t, ubuf, uint64_t, count)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->ops->getdents)
        return -ENOTDIR;
    count = MIN(count, MAX_RW_COUNT);
    if (!user_range_ok(ubuf, count, PROT_WRITE))
        return -EFAULT;
    return f->ops->getdents(f, (void *)ubuf, count);
}

/* Moves up to count bytes from in to out through a bounce buffer of this call's own (a read or
 * write may block: process.h). in is read at *in_off when in_off is given, else at its position
 * (read); out is written at *out_off when given, else at its position (write); the offsets
 * given are advanced by what moved. It stops at a short read or write. The bytes moved, or
 * -errno when none did. sendfile and copy_file_range share it. */
static long bounce_copy(struct file *in, int64_t *in_off, struct file *out, int64_t *out_off,
                        uint64_t count)
{
    count = MIN(count, MAX_RW_COUNT);
    const size_t bufsize = MIN(count, 65536);
    if (bufsize == 0)
        return 0;
    uint8_t *buf = kmalloc(bufsize);
    if (!buf)
        return -ENOMEM;
    long done = 0;
    while ((uint64_t)done < count) {
        size_t want = MIN(bufsize, count - (uint64_t)done);
        long n = in_off ? in->ops->pread(in, buf, want, (uint64_t)*in_off + (uint64_t)done)
                        : in->ops->read(in, buf, want);
        if (n <= 0) {
            if (n < 0 && done == 0)
                done = n;
            break;
        }
        long w = out_off
                     ? out->ops->pwrite(out, buf, (size_t)n, (uint64_t)*out_off + (uint64_t)done)
                     : out->ops->write(out, buf, (size_t)n);
        if (w < 0) {
            if (done == 0)
                done = w;
            break;
        }
        done += w;
        if (w < n || (size_t)n < want)
            break;
    }
    kfree(buf);
    if (done > 0) {
        if (in_off)
            *in_off += done;
        if (out_off)
            *out_off += done;
    }
    return done;
}

SYSCALL_DEFINE4(sendfile, int, out_fd, int, in_fd, uint64_t, uoff, uint64_t, count)
{
    struct file *in = readable(in_fd), *out = writable(out_fd);
    if (!in || !out)
        return -EBADF;
    int64_t off = 0;
    if (uoff) {
        if (copy_from_user(&off, uoff, sizeof(off)))
            return -EFAULT;
        if (off < 0)
            return -EINVAL;
        if (!in->ops->pread)
            return -ESPIPE;
    }
    long done = bounce_copy(in, uoff ? &off : NULL, out, NULL, count);
    if (done < 0)
        return done;
    if (uoff && copy_to_user(uoff, &off, sizeof(off)))
        return -EFAULT;
    return done;
}

/* An offset argument of copy_file_range: the value at uoff, else the file's position. */
static long load_pos(uint64_t uoff, const struct file *f, int64_t *pos)
{
    if (!uoff) {
        *pos = (int64_t)f->pos;
        return 0;
    }
    if (copy_from_user(pos, uoff, sizeof(*pos)))
        return -EFAULT;
    return *pos < 0 ? -EINVAL : 0;
}

/* copy_file_range: between two regular files, through the same loop as sendfile (the files
 * are memory, so there is nothing to share or clone). Linux's checks in Linux's order: flags,
 * descriptors, a directory (EISDIR), another type (EINVAL), the access modes and O_APPEND on
 * the output (EBADF), offsets; then the length is cut at the input's end, and ranges of one
 * file that overlap are EINVAL. An offset given moves; else the file's position does. */
SYSCALL_DEFINE6(copy_file_range, int, fd_in, uint64_t, uoff_in, int, fd_out, uint64_t, uoff_out,
                uint64_t, len, uint32_t, flags)
{
    if (flags)
        return -EINVAL;
    struct file *in = fd_get(fd_in), *out = fd_get(fd_out);
    if (!in || !out)
        return -EBADF;
    if ((in->inode && S_ISDIR_MODE(in->inode)) || (out->inode && S_ISDIR_MODE(out->inode)))
        return -EISDIR;
    if (!in->inode || !out->inode || !S_ISREG(in->inode->mode) || !S_ISREG(out->inode->mode))
        return -EINVAL;
    if (!readable(fd_in) || !writable(fd_out) || (out->flags & O_APPEND) || !in->ops->pread ||
        !out->ops->pwrite)
        return -EBADF;
    int64_t pos_in, pos_out;
    long err = load_pos(uoff_in, in, &pos_in);
    if (!err)
        err = load_pos(uoff_out, out, &pos_out);
    if (err)
        return err;
    uint64_t size = in->inode->size;
    uint64_t count = (uint64_t)pos_in >= size ? 0 : MIN(len, size - (uint64_t)pos_in);
    if (in->inode == out->inode && (uint64_t)pos_out + count > (uint64_t)pos_in &&
        (uint64_t)pos_out < (uint64_t)pos_in + count)
        return -EINVAL;
    if (count == 0)
        return 0;
    long done = bounce_copy(in, &pos_in, out, &pos_out, count);
    if (done <= 0)
        return done;
    if (!uoff_in)
        in->pos = (uint64_t)pos_in;
    else if (copy_to_user(uoff_in, &pos_in, sizeof(pos_in)))
        return -EFAULT;
    if (!uoff_out)
        out->pos = (uint64_t)pos_out;
    else if (copy_to_user(uoff_out, &pos_out, sizeof(pos_out)))
        return -EFAULT;
    return done;
}

/* posix_fadvise: advice about caching a file's pages. The enclave's files are in its memory
 * and it has no page cache to tune, so valid advice is taken and changes nothing; the errors
 * are Linux's: a bad descriptor, a pipe or socket (ESPIPE), an unknown advice or a negative
 * length (EINVAL). */
SYSCALL_DEFINE4(fadvise64, int, fd, int64_t, off, int64_t, len, int, advice)
{
    (void)off;
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->ops->pread && !(f->inode && S_ISDIR_MODE(f->inode)))
        return -ESPIPE;
    if (len < 0 || advice < 0 || advice > 5) /* POSIX_FADV_NORMAL .. POSIX_FADV_NOREUSE */
        return -EINVAL;
    return 0;
}
