/* splice.c: splice and tee, data moved between a pipe and another file (or copied between two
 * pipes) in the kernel.
 *
 * Linux moves page references; the enclave copies through a bounce buffer of the call's own (a
 * wait may come between the two halves: process.h). What a program can observe is kept: data
 * leaves a pipe only once it has been written on (it is peeked, written, then consumed), a
 * read from a file into a pipe takes no more than the pipe has room for, the pipe side waits
 * as read and write do unless SPLICE_F_NONBLOCK or its O_NONBLOCK, a call returns once
 * something has moved, and 0 at the end of the data. vmsplice is in io.c, with the vector
 * forms it reuses.
 *
 * One difference: while a splice from a pipe waits for its output (a full pipe, a socket),
 * another reader of the input pipe may take the bytes peeked; the splice then consumes bytes
 * that came after them. Linux holds the pipe's lock across that wait; the enclave's kernel
 * lock is let go while a thread waits.
 */
#include "file.h"
#include "klib.h"
#include "pipe.h"
#include "syscall.h"
#include "vfs.h"

#define SPLICE_F_NONBLOCK 0x02u
#define SPLICE_F_ALL      0x0fu /* MOVE, NONBLOCK, MORE, GIFT: the others are hints */
#define MAX_RW_COUNT      0x7ffff000ul
#define BOUNCE_SIZE       65536ul

/* A write to the pipe f that must not wait (the caller has waited for room): O_NONBLOCK for
 * this write alone, which cannot wait with it set, so no other thread sees the flag. */
static long write_nowait(struct file *f, const void *buf, size_t len)
{
    uint32_t saved = f->flags;
    f->flags |= O_NONBLOCK;
    long n = f->ops->write(f, buf, len);
    f->flags = (f->flags & ~(uint32_t)O_NONBLOCK) | (saved & O_NONBLOCK);
    return n;
}

/* From the pipe in to out (a file at *off when off is given, else at its position; a socket;
 * another pipe). Waits for data unless nonblock, then moves what is there without waiting for
 * more; a pipe on the output takes what it has room for. */
static long from_pipe(struct file *in, struct file *out, int64_t *off, uint64_t len, bool nonblock)
{
    bool to_pipe = pipe_is(out);
    uint8_t *buf = kmalloc(BOUNCE_SIZE);
    if (!buf)
        return -ENOMEM;
    long done = 0;
    while ((uint64_t)done < len) {
        size_t want = MIN(BOUNCE_SIZE, len - (uint64_t)done);
        if (to_pipe) {
            long room = pipe_wait_room(out, nonblock || done > 0);
            if (room < 0) {
                if (!done)
                    done = room;
                break;
            }
            want = MIN(want, (size_t)room);
        }
        long n = pipe_peek(in, buf, want, nonblock || done > 0);
        if (n <= 0) {
            if (!done)
                done = n;
            break;
        }
        long w = to_pipe ? write_nowait(out, buf, (size_t)n)
                 : off   ? out->ops->pwrite(out, buf, (size_t)n, (uint64_t)*off + (uint64_t)done)
                         : out->ops->write(out, buf, (size_t)n);
        if (w < 0) {
            if (!done)
                done = w;
            break;
        }
        pipe_consume(in, (size_t)w);
        done += w;
        if (w < n)
            break;
    }
    kfree(buf);
    if (done > 0 && off)
        *off += done;
    return done;
}

/* From in (a file at *off when off is given, else at its position; a socket) to the pipe out:
 * waits for room unless nonblock, then reads no more than fits. A file, which never waits, is
 * read until the room or len is used up; anything else once. */
static long into_pipe(struct file *in, int64_t *off, struct file *out, uint64_t len, bool nonblock)
{
    uint8_t *buf = kmalloc(BOUNCE_SIZE);
    if (!buf)
        return -ENOMEM;
    bool file = in->inode && S_ISREG(in->inode->mode);
    long done = 0;
    while ((uint64_t)done < len) {
        long room = pipe_wait_room(out, nonblock || done > 0);
        if (room < 0) {
            if (!done)
                done = room;
            break;
        }
        size_t want = MIN(MIN(BOUNCE_SIZE, len - (uint64_t)done), (size_t)room);
        long n = off ? in->ops->pread(in, buf, want, (uint64_t)*off + (uint64_t)done)
                     : in->ops->read(in, buf, want);
        if (n <= 0) {
            if (n < 0 && !done)
                done = n;
            break;
        }
        long w = write_nowait(out, buf, (size_t)n); /* it fits: room was counted in pages */
        if (w < 0) {
            if (!done)
                done = w;
            break;
        }
        done += w;
        if (w < n || (size_t)n < want || !file)
            break;
    }
    kfree(buf);
    if (done > 0 && off)
        *off += done;
    return done;
}

static bool can_read(const struct file *f)
{
    return f->ops->read && (f->flags & O_ACCMODE) != O_WRONLY;
}

static bool can_write(const struct file *f)
{
    return f->ops->write && (f->flags & O_ACCMODE) != O_RDONLY;
}

/* An offset argument: its value (EFAULT; negative: EINVAL, as Linux's rw_verify_area). */
static long load_off(uint64_t uoff, int64_t *off)
{
    if (copy_from_user(off, uoff, sizeof(*off)))
        return -EFAULT;
    return *off < 0 ? -EINVAL : 0;
}

/* Linux's checks in Linux's order (sys_splice, do_splice): a length of 0, the flags, the
 * descriptors, an offset for a pipe (ESPIPE), the access modes (EBADF); then per direction an
 * offset on a file that has none and O_APPEND on the output (EINVAL), and no pipe at all
 * (EINVAL). */
SYSCALL_DEFINE6(splice, int, fd_in, uint64_t, uoff_in, int, fd_out, uint64_t, uoff_out, uint64_t,
                len, uint32_t, flags)
{
    if (!len)
        return 0;
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    struct file *in = fd_get(fd_in), *out = fd_get(fd_out);
    if (!in || !out)
        return -EBADF;
    bool in_pipe = pipe_is(in), out_pipe = pipe_is(out);
    if ((in_pipe && uoff_in) || (out_pipe && uoff_out))
        return -ESPIPE;
    int64_t off_in = 0, off_out = 0;
    long err = uoff_in ? load_off(uoff_in, &off_in) : 0;
    if (!err && uoff_out)
        err = load_off(uoff_out, &off_out);
    if (err)
        return err;
    if (!can_read(in) || !can_write(out))
        return -EBADF;
    len = MIN(len, MAX_RW_COUNT);
    bool nonblock = flags & SPLICE_F_NONBLOCK;
    long ret;
    if (in_pipe && out_pipe) {
        if (pipe_same(in, out))
            return -EINVAL;
        nonblock |= ((in->flags | out->flags) & O_NONBLOCK) != 0;
        return from_pipe(in, out, NULL, len, nonblock);
    }
    if (in_pipe) {
        if ((uoff_out && !out->ops->pwrite) || (out->flags & O_APPEND))
            return -EINVAL;
        nonblock |= (in->flags & O_NONBLOCK) != 0;
        ret = from_pipe(in, out, uoff_out ? &off_out : NULL, len, nonblock);
        if (ret > 0 && uoff_out && copy_to_user(uoff_out, &off_out, sizeof(off_out)))
            return -EFAULT;
        return ret;
    }
    if (out_pipe) {
        if ((uoff_in && !in->ops->pread) || (in->inode && S_ISDIR(in->inode->mode)))
            return -EINVAL;
        nonblock |= (out->flags & O_NONBLOCK) != 0;
        ret = into_pipe(in, uoff_in ? &off_in : NULL, out, len, nonblock);
        if (ret > 0 && uoff_in && copy_to_user(uoff_in, &off_in, sizeof(off_in)))
            return -EFAULT;
        return ret;
    }
    return -EINVAL;
}

/* tee: copies up to len bytes from the front of the pipe in to the pipe out without consuming
 * them. It waits for data in in, then for room in out, unless SPLICE_F_NONBLOCK or either
 * end's O_NONBLOCK; 0 when in is empty and has no writer. */
SYSCALL_DEFINE4(tee, int, fd_in, int, fd_out, uint64_t, len, uint32_t, flags)
{
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    if (!len)
        return 0;
    struct file *in = fd_get(fd_in), *out = fd_get(fd_out);
    if (!in || !out)
        return -EBADF;
    if (!can_read(in) || !can_write(out))
        return -EBADF;
    if (!pipe_is(in) || !pipe_is(out) || pipe_same(in, out))
        return -EINVAL;
    bool nonblock = (flags & SPLICE_F_NONBLOCK) || ((in->flags | out->flags) & O_NONBLOCK);
    uint8_t *buf = kmalloc(BOUNCE_SIZE);
    if (!buf)
        return -ENOMEM;
    size_t want = MIN(BOUNCE_SIZE, MIN(len, MAX_RW_COUNT));
    long n = pipe_peek(in, buf, want, nonblock);
    if (n > 0) {
        long room = pipe_wait_room(out, nonblock);
        /* the wait for room may have let a reader of in go first: what is there now */
        n = room < 0 ? room : pipe_peek(in, buf, MIN(want, (size_t)room), true);
        if (n > 0)
            n = write_nowait(out, buf, (size_t)n);
    }
    kfree(buf);
    return n;
}
