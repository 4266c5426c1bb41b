/* fs_change.c: the syscalls that change the tree or an inode: mkdir, rmdir, unlink, rename,
 * link, symlink, chmod, chown, truncate, fallocate, utimensat, umask, and the sync family (which
 * have nothing to flush: the file system is memory). The image's files are read-only (EROFS);
 * tmpfs mounts are writable. Errors follow Linux's order: a missing or wrong-typed path first,
 * then EEXIST, then EROFS. */
#include "file.h"
#include "fs_common.h"
#include "klib.h"
#include "pipe.h"
#include "syscall.h"

/* A path to change: its directory and last name. */
struct target {
    struct inode *dir;
    char name[NAME_MAX_LEN + 1];
    uint32_t len;
    struct inode *ino; /* what the name names now, or NULL */
    int err;           /* vfs_lookup_parent's answer: 0, or -EEXIST for "/", "." and ".." */
    bool slash;        /* the path ends with '/' */
};

static int target_at(int dirfd, uint64_t upath, struct target *t)
{
    char path[PATH_MAX_LEN];
    long n = get_path(upath, path);
    if (n < 0)
        return (int)n;
    if (n == 0)
        return -ENOENT;
    t->err = parent_at(dirfd, path, &t->dir, t->name, &t->len);
    if (t->err && t->err != -EEXIST)
        return t->err;
    if (t->err == 0 && !S_ISDIR(t->dir->mode))
        return -ENOTDIR;
    t->ino = t->err ? t->dir : vfs_child(t->dir, t->name, t->len);
    t->slash = path[n - 1] == '/';
    return 0;
}

/* "file/": a trailing slash on something that is not a directory (after the EROFS check, as
 * Linux orders it for removals). */
static int slash_check(const struct target *t)
{
    if (!t->slash || !t->ino || S_ISDIR(t->ino->mode))
        return 0;
    struct inode *followed;
    if (vfs_lookup(t->dir, t->name, LOOKUP_FOLLOW, &followed) || !S_ISDIR(followed->mode))
        return -ENOTDIR;
    return 0;
}

/* A path for a new name (mkdir, mknod, symlink): resolved, free (EEXIST), in a writable
 * directory (EROFS) the caller may change, in Linux's order. */
static int new_name_at(int dirfd, uint64_t upath, struct target *t)
{
    int err = target_at(dirfd, upath, t);
    if (err)
        return err;
    if (t->err || t->ino)
        return -EEXIST;
    if (!vfs_writable(t->dir))
        return -EROFS;
    return dir_may_change(t->dir, NULL);
}

static bool dotdot(const struct target *t)
{
    return t->len == 2 && t->name[0] == '.' && t->name[1] == '.';
}

/* ---- directories ---- */

static long do_mkdirat(int dirfd, uint64_t upath, uint32_t mode)
{
    struct target t;
    int err = new_name_at(dirfd, upath, &t);
    if (err)
        return err;
    struct inode *ino;
    return vfs_create(t.dir, t.name, t.len, S_IFDIR | (mode & 07777 & ~current_process()->umask),
                      &ino);
}

SYSCALL_DEFINE2(mkdir, uint64_t, upath, uint32_t, mode)
{
    return do_mkdirat(AT_FDCWD, upath, mode);
}

SYSCALL_DEFINE3(mkdirat, int, dirfd, uint64_t, upath, uint32_t, mode)
{
    return do_mkdirat(dirfd, upath, mode);
}

static long do_rmdir(int dirfd, uint64_t upath)
{
    struct target t;
    int err = target_at(dirfd, upath, &t);
    if (err)
        return err;
    if (t.err)
        return t.len == 1 ? -EINVAL : dotdot(&t) ? -ENOTEMPTY : -EBUSY; /* ".", "..", "/" */
    if (!vfs_writable(t.dir))
        return -EROFS;
    if (!t.ino)
        return -ENOENT;
    if ((err = dir_may_change(t.dir, t.ino)))
        return err;
    if (!S_ISDIR(t.ino->mode))
        return -ENOTDIR;
    if (t.ino->flags & I_MOUNT)
        return -EBUSY;
    if (t.ino->nchildren || (t.ino->iops && t.ino->iops->entry))
        return -ENOTEMPTY;
    return vfs_unlink(t.dir, t.name, t.len);
}

SYSCALL_DEFINE1(rmdir, uint64_t, upath)
{
    return do_rmdir(AT_FDCWD, upath);
}

static long do_unlink(int dirfd, uint64_t upath)
{
    struct target t;
    int err = target_at(dirfd, upath, &t);
    if (err)
        return err;
    if (t.err)
        return -EISDIR;
    if (!vfs_writable(t.dir))
        return -EROFS;
    if (!t.ino)
        return -ENOENT;
    if ((err = slash_check(&t)))
        return err;
    if ((err = dir_may_change(t.dir, t.ino)))
        return err;
    if (S_ISDIR(t.ino->mode))
        return -EISDIR;
    return vfs_unlink(t.dir, t.name, t.len);
}

SYSCALL_DEFINE1(unlink, uint64_t, upath)
{
    return do_unlink(AT_FDCWD, upath);
}

SYSCALL_DEFINE3(unlinkat, int, dirfd, uint64_t, upath, int, flags)
{
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    return flags ? do_rmdir(dirfd, upath) : do_unlink(dirfd, upath);
}

/* ---- rename ---- */

static bool is_ancestor(const struct inode *a, const struct inode *d)
{
    for (const struct inode *p = d;; p = p->parent) {
        if (p == a)
            return true;
        if (p == vfs_root())
            return false;
    }
}

static long do_renameat2(int olddirfd, uint64_t uold, int newdirfd, uint64_t unew, uint32_t flags)
{
    if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & RENAME_WHITEOUT) || ((flags & RENAME_EXCHANGE) && (flags & RENAME_NOREPLACE)))
        return -EINVAL;
    static struct target o, n; /* one syscall at a time */
    int err = target_at(olddirfd, uold, &o);
    if (!err)
        err = target_at(newdirfd, unew, &n);
    if (err)
        return err;
    if (o.err || n.err)
        return (flags & RENAME_NOREPLACE) && !o.err ? -EEXIST : -EBUSY; /* "/", ".", ".." */
    if (o.dir->dev != n.dir->dev)
        return -EXDEV;
    if (!vfs_writable(o.dir) || !vfs_writable(n.dir))
        return -EROFS;
    if (!o.ino)
        return -ENOENT;
    if ((err = slash_check(&o)) || (err = slash_check(&n)))
        return err;
    if ((flags & RENAME_EXCHANGE) && !n.ino)
        return -ENOENT;
    if ((flags & RENAME_NOREPLACE) && n.ino)
        return -EEXIST;
    if ((err = dir_may_change(o.dir, o.ino)) || (err = dir_may_change(n.dir, n.ino)))
        return err;
    struct inode *src = o.ino, *dst = n.ino;
    if (src == dst)
        return 0; /* the same file: nothing to do */
    if (!(flags & RENAME_EXCHANGE) && dst) {
        if (S_ISDIR(src->mode) && !S_ISDIR(dst->mode))
            return -ENOTDIR;
        if (!S_ISDIR(src->mode) && S_ISDIR(dst->mode))
            return -EISDIR;
        if (S_ISDIR(dst->mode) && (dst->nchildren || (dst->iops && dst->iops->entry)))
            return -ENOTEMPTY;
    }
    if ((src->flags & I_MOUNT) || (dst && (dst->flags & I_MOUNT)))
        return -EBUSY;
    if (S_ISDIR(src->mode) && is_ancestor(src, n.dir))
        return -EINVAL; /* into itself */
    if ((flags & RENAME_EXCHANGE) && S_ISDIR(dst->mode) && is_ancestor(dst, o.dir))
        return -EINVAL;

    vfs_get(src);
    if (dst)
        vfs_get(dst);
    vfs_unlink(o.dir, o.name, o.len);
    if (dst)
        vfs_unlink(n.dir, n.name, n.len);
    err = vfs_link(n.dir, n.name, n.len, src, true);
    if (!err && (flags & RENAME_EXCHANGE))
        err = vfs_link(o.dir, o.name, o.len, dst, true);
    vfs_touch(src, T_CTIME);
    vfs_put(src);
    if (dst)
        vfs_put(dst);
    return err ? -ENOSPC : 0;
}

SYSCALL_DEFINE2(rename, uint64_t, uold, uint64_t, unew)
{
    return do_renameat2(AT_FDCWD, uold, AT_FDCWD, unew, 0);
}

SYSCALL_DEFINE4(renameat, int, olddirfd, uint64_t, uold, int, newdirfd, uint64_t, unew)
{
    return do_renameat2(olddirfd, uold, newdirfd, unew, 0);
}

SYSCALL_DEFINE5(renameat2, int, olddirfd, uint64_t, uold, int, newdirfd, uint64_t, unew, uint32_t,
                flags)
{
    return do_renameat2(olddirfd, uold, newdirfd, unew, flags);
}

/* ---- links ---- */

static long do_linkat(int olddirfd, uint64_t uold, int newdirfd, uint64_t unew, int flags)
{
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct inode *src;
    int err =
        resolve_at(olddirfd, uold, flags, (flags & AT_SYMLINK_FOLLOW) ? LOOKUP_FOLLOW : 0, &src);
    if (err)
        return err;
    struct target t;
    err = target_at(newdirfd, unew, &t);
    if (err)
        return err;
    if (t.err || t.ino)
        return -EEXIST;
    if (!vfs_writable(t.dir))
        return -EROFS;
    if (src->dev != t.dir->dev)
        return -EXDEV;
    if ((err = dir_may_change(t.dir, NULL)))
        return err;
    if (S_ISDIR(src->mode))
        return -EPERM;
    if (src->nlink == 0)
        return -ENOENT;
    if (vfs_link(t.dir, t.name, t.len, src, true))
        return -ENOSPC;
    vfs_touch(src, T_CTIME);
    vfs_touch(t.dir, T_MTIME | T_CTIME);
    return 0;
}

SYSCALL_DEFINE2(link, uint64_t, uold, uint64_t, unew)
{
    return do_linkat(AT_FDCWD, uold, AT_FDCWD, unew, 0);
}

SYSCALL_DEFINE5(linkat, int, olddirfd, uint64_t, uold, int, newdirfd, uint64_t, unew, int, flags)
{
    return do_linkat(olddirfd, uold, newdirfd, unew, flags);
}

static long do_symlinkat(uint64_t utarget, int dirfd, uint64_t upath)
{
    char target[PATH_MAX_LEN];
    long tlen = get_path(utarget, target);
    if (tlen < 0)
        return tlen;
    if (tlen == 0)
        return -ENOENT;
    struct target t;
    int err = new_name_at(dirfd, upath, &t);
    if (err)
        return err;
    struct inode *ino;
    err = vfs_create(t.dir, t.name, t.len, S_IFLNK | 0777, &ino);
    if (err)
        return err;
    if (tmpfs_reserve(ino, (uint64_t)tlen)) {
        vfs_unlink(t.dir, t.name, t.len); /* frees it */
        return -ENOSPC;
    }
    memcpy(ino->data, target, (size_t)tlen);
    ino->size = (uint64_t)tlen;
    return 0;
}

SYSCALL_DEFINE2(symlink, uint64_t, utarget, uint64_t, upath)
{
    return do_symlinkat(utarget, AT_FDCWD, upath);
}

SYSCALL_DEFINE3(symlinkat, uint64_t, utarget, int, dirfd, uint64_t, upath)
{
    return do_symlinkat(utarget, dirfd, upath);
}

/* Regular files, FIFOs and sockets' names; no device nodes (EPERM even for root): the
 * enclave's devices are the ones in /dev. */
static long do_mknodat(int dirfd, uint64_t upath, uint32_t mode)
{
    uint32_t type = mode & S_IFMT;
    if (type == S_IFDIR)
        return -EPERM;
    if (type && type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
        type != S_IFBLK)
        return -EINVAL;
    struct target t;
    int err = new_name_at(dirfd, upath, &t);
    if (err)
        return err;
    if (type == S_IFCHR || type == S_IFBLK)
        return -EPERM;
    struct inode *ino;
    err = vfs_create(t.dir, t.name, t.len,
                     (type ? type : S_IFREG) | (mode & 07777 & ~current_process()->umask), &ino);
    if (!err && type == S_IFIFO)
        fifo_init(ino);
    return err;
}

SYSCALL_DEFINE3(mknod, uint64_t, upath, uint32_t, mode, uint64_t, dev)
{
    (void)dev;
    return do_mknodat(AT_FDCWD, upath, mode);
}

SYSCALL_DEFINE4(mknodat, int, dirfd, uint64_t, upath, uint32_t, mode, uint64_t, dev)
{
    (void)dev;
    return do_mknodat(dirfd, upath, mode);
}

/* ---- attributes ---- */

static int change_ok(const struct inode *ino)
{
    return vfs_writable(ino) ? 0 : -EROFS;
}

static long set_mode(struct inode *ino, uint32_t mode)
{
    int err = change_ok(ino);
    if (err)
        return err;
    if (!cred_owns(ino))
        return -EPERM;
    /* set-group-ID on a file of a group the caller is not in is dropped silently (Linux) */
    if (!cred_privileged() && !S_ISDIR(ino->mode) && !cred_in_group(ino->gid))
        mode &= ~(uint32_t)S_ISGID;
    ino->mode = (ino->mode & S_IFMT) | (mode & 07777);
    vfs_touch(ino, T_CTIME);
    return 0;
}

SYSCALL_DEFINE2(chmod, uint64_t, upath, uint32_t, mode)
{
    struct inode *ino;
    int err = resolve_at(AT_FDCWD, upath, 0, LOOKUP_FOLLOW, &ino);
    return err ? err : set_mode(ino, mode);
}

SYSCALL_DEFINE3(fchmodat, int, dirfd, uint64_t, upath, uint32_t, mode)
{
    struct inode *ino;
    int err = resolve_at(dirfd, upath, 0, LOOKUP_FOLLOW, &ino);
    return err ? err : set_mode(ino, mode);
}

static struct inode *fd_inode(int fd, int *err)
{
    struct file *f = fd_get(fd);
    *err = !f ? -EBADF : 0;
    return f ? f->inode : NULL;
}

SYSCALL_DEFINE2(fchmod, int, fd, uint32_t, mode)
{
    int err;
    struct inode *ino = fd_inode(fd, &err);
    if (err)
        return err;
    return ino ? set_mode(ino, mode) : 0; /* a pipe: nothing to keep */
}

static long set_owner(struct inode *ino, uint32_t uid, uint32_t gid)
{
    int err = change_ok(ino);
    if (err)
        return err;
    /* without privilege: only the owner, only to a group of its own, never to another user */
    if (!cred_privileged() && ((uid != (uint32_t)-1 && uid != ino->uid) || !cred_owns(ino) ||
                               (gid != (uint32_t)-1 && gid != ino->gid && !cred_in_group(gid))))
        return -EPERM;
    if (!cred_privileged() && (uid != (uint32_t)-1 || gid != (uint32_t)-1))
        ino->mode &= ~(uint32_t)(S_ISUID | S_ISGID); /* a change of owner drops them (Linux) */
    if (uid != (uint32_t)-1)
        ino->uid = uid;
    if (gid != (uint32_t)-1)
        ino->gid = gid;
    vfs_touch(ino, T_CTIME);
    return 0;
}

SYSCALL_DEFINE3(chown, uint64_t, upath, uint32_t, uid, uint32_t, gid)
{
    struct inode *ino;
    int err = resolve_at(AT_FDCWD, upath, 0, LOOKUP_FOLLOW, &ino);
    return err ? err : set_owner(ino, uid, gid);
}

SYSCALL_DEFINE3(lchown, uint64_t, upath, uint32_t, uid, uint32_t, gid)
{
    struct inode *ino;
    int err = resolve_at(AT_FDCWD, upath, 0, 0, &ino);
    return err ? err : set_owner(ino, uid, gid);
}

SYSCALL_DEFINE3(fchown, int, fd, uint32_t, uid, uint32_t, gid)
{
    int err;
    struct inode *ino = fd_inode(fd, &err);
    if (err)
        return err;
    return ino ? set_owner(ino, uid, gid) : 0;
}

SYSCALL_DEFINE5(fchownat, int, dirfd, uint64_t, upath, uint32_t, uid, uint32_t, gid, int, flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct inode *ino;
    int err =
        resolve_at(dirfd, upath, flags, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &ino);
    return err ? err : set_owner(ino, uid, gid);
}

SYSCALL_DEFINE1(umask, uint32_t, mask)
{
    uint32_t old = current_process()->umask;
    current_process()->umask = mask & 0777;
    return old;
}

/* ---- size ---- */

static long set_size(struct inode *ino, int64_t len)
{
    if (len < 0)
        return -EINVAL;
    if (S_ISDIR(ino->mode))
        return -EISDIR;
    if (!S_ISREG(ino->mode) || ino->iops)
        return -EINVAL;
    int err = change_ok(ino);
    if (err)
        return err;
    return tmpfs_truncate(ino, (uint64_t)len);
}

/* truncate(2) by path: the caller must be allowed to write the file (ftruncate asked at open). */
static long set_size_by_path(struct inode *ino, int64_t len)
{
    if (S_ISREG(ino->mode) && vfs_writable(ino) && cred_may_access(ino, MAY_WRITE))
        return -EACCES; /* after EROFS, as Linux orders them */
    if (S_ISREG(ino->mode) && vfs_writable(ino) && ino->writers < 0)
        return -ETXTBSY; /* a running program's file (after EROFS and EACCES, as Linux) */
    return set_size(ino, len);
}

SYSCALL_DEFINE2(truncate, uint64_t, upath, int64_t, len)
{
    struct inode *ino;
    int err = resolve_at(AT_FDCWD, upath, 0, LOOKUP_FOLLOW, &ino);
    return err ? err : set_size_by_path(ino, len);
}

SYSCALL_DEFINE2(ftruncate, int, fd, int64_t, len)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->inode || (f->flags & O_ACCMODE) == O_RDONLY || (f->flags & O_PATH))
        return -EINVAL; /* not open for writing, or not a file */
    return set_size(f->inode, len);
}

SYSCALL_DEFINE4(fallocate, int, fd, int, mode, int64_t, off, int64_t, len)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (off < 0 || len <= 0)
        return -EINVAL;
    if ((f->flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    if (!f->inode || !S_ISREG(f->inode->mode))
        return f->inode && S_ISDIR(f->inode->mode) ? -EISDIR : -ENODEV;
    /* FALLOC_FL_KEEP_SIZE, and FALLOC_FL_PUNCH_HOLE with it (tmpfs's modes) */
    if ((mode & ~3) || (mode & 3) == 2)
        return -EOPNOTSUPP;
    uint64_t end;
    if (__builtin_add_overflow((uint64_t)off, (uint64_t)len, &end))
        return -EFBIG;
    int err = change_ok(f->inode);
    if (!err && (mode & 2))
        return tmpfs_punch(f->inode, (uint64_t)off, (uint64_t)len);
    if (!err && (f->inode->seals & F_SEAL_GROW) && end > f->inode->size)
        err = -EPERM; /* even with FALLOC_FL_KEEP_SIZE, as Linux */
    if (!err)
        err = tmpfs_reserve(f->inode, end);
    if (!err && !(mode & 1) && end > f->inode->size)
        f->inode->size = end;
    return err;
}

/* ---- times ---- */

static int64_t ts_ns(const struct linux_timespec *ts, int64_t now, int64_t keep)
{
    if (ts->tv_nsec == UTIME_NOW)
        return now;
    if (ts->tv_nsec == UTIME_OMIT)
        return keep;
    return ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static long set_times(struct inode *ino, const struct linux_timespec *ts)
{
    int err = change_ok(ino);
    if (err)
        return err;
    /* explicit times: the owner only; now: the owner or whoever may write the file */
    bool explicit_times = ts && (ts[0].tv_nsec != UTIME_NOW || ts[1].tv_nsec != UTIME_NOW);
    if (!cred_owns(ino) && (explicit_times || cred_may_access(ino, MAY_WRITE)))
        return explicit_times ? -EPERM : -EACCES;
    int64_t now = time_realtime_ns();
    if (!ts) {
        ino->atime_ns = ino->mtime_ns = now;
    } else {
        for (int i = 0; i < 2; i++)
            if (ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT &&
                (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000))
                return -EINVAL;
        ino->atime_ns = ts_ns(&ts[0], now, ino->atime_ns);
        ino->mtime_ns = ts_ns(&ts[1], now, ino->mtime_ns);
    }
    ino->ctime_ns = now;
    return 0;
}

SYSCALL_DEFINE4(utimensat, int, dirfd, uint64_t, upath, uint64_t, utimes, int, flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct linux_timespec ts[2];
    if (utimes && copy_from_user(ts, utimes, sizeof(ts)))
        return -EFAULT;
    if (utimes && ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
        return 0;
    struct inode *ino;
    if (!upath) {
        /* futimens: the descriptor itself */
        int err;
        ino = fd_inode(dirfd, &err);
        if (err)
            return err;
        if (!ino)
            return 0;
    } else {
        int err = resolve_at(dirfd, upath, flags, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW,
                             &ino);
        if (err)
            return err;
    }
    return set_times(ino, utimes ? ts : NULL);
}

SYSCALL_DEFINE2(utimes, uint64_t, upath, uint64_t, utv)
{
    struct linux_timespec ts[2];
    if (utv) {
        struct linux_timeval tv[2];
        if (copy_from_user(tv, utv, sizeof(tv)))
            return -EFAULT;
        for (int i = 0; i < 2; i++) {
            if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
                return -EINVAL;
            ts[i] = (struct linux_timespec){tv[i].tv_sec, tv[i].tv_usec * 1000};
        }
    }
    struct inode *ino;
    int err = resolve_at(AT_FDCWD, upath, 0, LOOKUP_FOLLOW, &ino);
    return err ? err : set_times(ino, utv ? ts : NULL);
}

SYSCALL_DEFINE2(utime, uint64_t, upath, uint64_t, ubuf)
{
    struct linux_timespec ts[2];
    if (ubuf) {
        int64_t t[2]; /* actime, modtime */
        if (copy_from_user(t, ubuf, sizeof(t)))
            return -EFAULT;
        ts[0] = (struct linux_timespec){t[0], 0};
        ts[1] = (struct linux_timespec){t[1], 0};
    }
    struct inode *ino;
    int err = resolve_at(AT_FDCWD, upath, 0, LOOKUP_FOLLOW, &ino);
    return err ? err : set_times(ino, ubuf ? ts : NULL);
}

/* ---- sync: memory has nothing to flush ---- */

SYSCALL_DEFINE1(fsync, int, fd)
{
    return fd_get(fd) ? 0 : -EBADF;
}

SYSCALL_DEFINE1(fdatasync, int, fd)
{
    return fd_get(fd) ? 0 : -EBADF;
}

SYSCALL_DEFINE1(syncfs, int, fd)
{
    return fd_get(fd) ? 0 : -EBADF;
}

SYSCALL_DEFINE0(sync)
{
    return 0;
}
