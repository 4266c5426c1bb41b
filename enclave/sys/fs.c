/* fs.c: the path syscalls: open, stat, readlink, access, directories, and the ones that would
 * change the tree (the image's files are read-only: EROFS). */
#include "exe.h"
#include "file.h"
#include "klib.h"
#include "syscall.h"
#include "vfs.h"

#define PROC_SELF_EXE "/proc/self/exe"

/* The directory a *at() call starts from: the cwd, or dirfd's directory. */
static int base_dir(int dirfd, struct inode **out)
{
    if (dirfd == AT_FDCWD) {
        *out = vfs_cwd();
        return 0;
    }
    struct file *f = fd_get(dirfd);
    if (!f)
        return -EBADF;
    if (!f->inode || !S_ISDIR(f->inode->mode))
        return -ENOTDIR;
    *out = f->inode;
    return 0;
}

/* Copies a user path (at most PATH_MAX_LEN bytes with the NUL). */
static long get_path(uint64_t upath, char *path)
{
    long n = strncpy_from_user(path, upath, PATH_MAX_LEN);
    return n == -ENAMETOOLONG ? -ENAMETOOLONG : n;
}

/* Resolves (dirfd, path) with *at() semantics; AT_EMPTY_PATH with "" names dirfd itself. */
static int resolve_at(int dirfd, uint64_t upath, int at_flags, unsigned lookup, struct inode **out)
{
    char path[PATH_MAX_LEN];
    long n = get_path(upath, path);
    if (n < 0)
        return (int)n;
    if (n == 0) {
        if (!(at_flags & AT_EMPTY_PATH))
            return -ENOENT;
        if (dirfd == AT_FDCWD) {
            *out = vfs_cwd();
            return 0;
        }
        struct file *f = fd_get(dirfd);
        if (!f)
            return -EBADF;
        if (!f->inode)
            return -EBADF; /* the console streams are not in the tree */
        *out = f->inode;
        return 0;
    }
    struct inode *base = NULL;
    if (path[0] != '/') {
        int err = base_dir(dirfd, &base);
        if (err)
            return err;
    }
    return vfs_lookup(base, path, lookup, out);
}

static long do_openat(int dirfd, uint64_t upath, int flags, uint32_t mode)
{
    (void)mode;
    char path[PATH_MAX_LEN];
    long n = get_path(upath, path);
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    struct inode *base = NULL, *ino;
    if (path[0] != '/') {
        int err = base_dir(dirfd, &base);
        if (err)
            return err;
    }
    unsigned lookup = (flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    if (flags & O_DIRECTORY)
        lookup |= LOOKUP_DIRECTORY;
    int err = vfs_lookup(base, path, lookup, &ino);
    if (err == -ENOENT && (flags & O_CREAT))
        return -EROFS; /* nothing can be created in the image */
    if (err)
        return err;
    if ((flags & O_CREAT) && (flags & O_EXCL))
        return -EEXIST;
    if (S_ISLNK(ino->mode) && !(flags & O_PATH))
        return -ELOOP; /* O_NOFOLLOW on a symbolic link */
    uint32_t acc = (uint32_t)flags & O_ACCMODE;
    if (!(flags & O_PATH)) {
        if (S_ISDIR(ino->mode) && (acc != O_RDONLY || (flags & O_TRUNC)))
            return -EISDIR;
        if (acc != O_RDONLY || (flags & O_TRUNC))
            return ino->readonly ? -EROFS : -EACCES;
        if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
            return -ENOTDIR;
    }
    struct file *f = vfs_open_inode(ino, (uint32_t)flags);
    if (!f)
        return -ENOMEM;
    int fd = fd_install(f, 0, flags & O_CLOEXEC);
    if (fd < 0)
        kfree(f);
    return fd;
}

SYSCALL_DEFINE3(open, uint64_t, upath, int, flags, uint32_t, mode)
{
    return do_openat(AT_FDCWD, upath, flags, mode);
}

SYSCALL_DEFINE4(openat, int, dirfd, uint64_t, upath, int, flags, uint32_t, mode)
{
    return do_openat(dirfd, upath, flags, mode);
}

SYSCALL_DEFINE2(creat, uint64_t, upath, uint32_t, mode)
{
    return do_openat(AT_FDCWD, upath, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* ---- stat ---- */

static int stat_fd(int fd, struct linux_stat *st)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->ops->stat)
        return -EINVAL;
    return f->ops->stat(f, st);
}

static int stat_at(int dirfd, uint64_t upath, int at_flags, struct linux_stat *st)
{
    if (at_flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | 0x800 /* AT_NO_AUTOMOUNT */ |
                     0x6000 /* AT_STATX_SYNC_TYPE */))
        return -EINVAL;
    char probe[1];
    if (strncpy_from_user(probe, upath, 1) == 0 && (at_flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD)
        return stat_fd(dirfd, st); /* the descriptor itself, whatever it is */
    struct inode *ino;
    int err = resolve_at(dirfd, upath, at_flags,
                         (at_flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &ino);
    if (err)
        return err;
    vfs_stat(ino, st);
    return 0;
}

SYSCALL_DEFINE2(fstat, int, fd, uint64_t, ubuf)
{
    struct linux_stat st;
    int err = stat_fd(fd, &st);
    return err ? err : copy_to_user(ubuf, &st, sizeof(st));
}

SYSCALL_DEFINE2(stat, uint64_t, upath, uint64_t, ubuf)
{
    struct linux_stat st;
    int err = stat_at(AT_FDCWD, upath, 0, &st);
    return err ? err : copy_to_user(ubuf, &st, sizeof(st));
}

SYSCALL_DEFINE2(lstat, uint64_t, upath, uint64_t, ubuf)
{
    struct linux_stat st;
    int err = stat_at(AT_FDCWD, upath, AT_SYMLINK_NOFOLLOW, &st);
    return err ? err : copy_to_user(ubuf, &st, sizeof(st));
}

SYSCALL_DEFINE4(newfstatat, int, dirfd, uint64_t, upath, uint64_t, ubuf, int, flags)
{
    struct linux_stat st;
    int err = stat_at(dirfd, upath, flags, &st);
    return err ? err : copy_to_user(ubuf, &st, sizeof(st));
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
    sx.stx_btime.tv_sec = st.st_ctime_sec;
    sx.stx_ctime.tv_sec = st.st_ctime_sec;
    sx.stx_mtime.tv_sec = st.st_mtime_sec;
    sx.stx_dev_major = (uint32_t)(st.st_dev >> 8);
    sx.stx_dev_minor = (uint32_t)(st.st_dev & 0xff);
    return copy_to_user(ubuf, &sx, sizeof(sx));
}

/* ---- links, access, directories ---- */

static long do_readlinkat(int dirfd, uint64_t upath, uint64_t ubuf, int64_t size)
{
    char path[PATH_MAX_LEN];
    long n = get_path(upath, path);
    if (n < 0)
        return n;
    if (size <= 0)
        return -EINVAL;
    const void *target;
    size_t len;
    if (strcmp(path, PROC_SELF_EXE) == 0) {
        target = exe_path();
        len = strlen(exe_path());
    } else {
        struct inode *ino;
        int err = resolve_at(dirfd, upath, 0, 0, &ino);
        if (err)
            return err;
        if (!S_ISLNK(ino->mode))
            return -EINVAL;
        target = ino->data;
        len = ino->size;
    }
    len = MIN(len, (size_t)size);
    return copy_to_user(ubuf, target, len) ? -EFAULT : (long)len;
}

SYSCALL_DEFINE3(readlink, uint64_t, upath, uint64_t, ubuf, int64_t, size)
{
    return do_readlinkat(AT_FDCWD, upath, ubuf, size);
}

SYSCALL_DEFINE4(readlinkat, int, dirfd, uint64_t, upath, uint64_t, ubuf, int64_t, size)
{
    return do_readlinkat(dirfd, upath, ubuf, size);
}

static long do_faccessat(int dirfd, uint64_t upath, int mode, int flags)
{
    if (mode & ~(R_OK | W_OK | X_OK))
        return -EINVAL;
    if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct inode *ino;
    int err =
        resolve_at(dirfd, upath, flags, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &ino);
    if (err)
        return err;
    if ((mode & W_OK) && ino->readonly)
        return -EROFS;
    /* the enclave runs as root: reads and writes are allowed, execution needs an x bit */
    if ((mode & X_OK) && !S_ISDIR(ino->mode) && !(ino->mode & 0111))
        return -EACCES;
    return 0;
}

SYSCALL_DEFINE2(access, uint64_t, upath, int, mode)
{
    return do_faccessat(AT_FDCWD, upath, mode, 0);
}

SYSCALL_DEFINE3(faccessat, int, dirfd, uint64_t, upath, int, mode)
{
    return do_faccessat(dirfd, upath, mode, 0);
}

SYSCALL_DEFINE4(faccessat2, int, dirfd, uint64_t, upath, int, mode, int, flags)
{
    return do_faccessat(dirfd, upath, mode, flags);
}

SYSCALL_DEFINE2(getcwd, uint64_t, ubuf, uint64_t, size)
{
    char buf[PATH_MAX_LEN];
    long n = vfs_path_of(vfs_cwd(), buf, sizeof(buf));
    if (n < 0)
        return n;
    if ((uint64_t)n + 1 > size)
        return -ERANGE;
    return copy_to_user(ubuf, buf, (size_t)n + 1) ? -EFAULT : n + 1;
}

SYSCALL_DEFINE1(chdir, uint64_t, upath)
{
    struct inode *ino;
    int err = resolve_at(AT_FDCWD, upath, 0, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &ino);
    if (err)
        return err;
    vfs_set_cwd(ino);
    return 0;
}

SYSCALL_DEFINE1(fchdir, int, fd)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->inode || !S_ISDIR(f->inode->mode))
        return -ENOTDIR;
    vfs_set_cwd(f->inode);
    return 0;
}

/* ---- changes to the tree: the image is read-only ---- */

/* EROFS once the path's parent exists (Linux reports ENOENT/ENOTDIR first). */
static long readonly_at(int dirfd, uint64_t upath, bool must_exist)
{
    char path[PATH_MAX_LEN];
    long n = get_path(upath, path);
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    struct inode *ino, *base = NULL;
    if (path[0] != '/') {
        int err = base_dir(dirfd, &base);
        if (err)
            return err;
    }
    int err = vfs_lookup(base, path, 0, &ino);
    if (err == -ENOENT && !must_exist) {
        /* the parent must exist for the call to get as far as the file system */
        size_t len = (size_t)n;
        while (len > 1 && path[len - 1] == '/')
            len--;
        while (len > 0 && path[len - 1] != '/')
            len--;
        if (len == 0)
            return -EROFS;
        path[len] = 0;
        err = vfs_lookup(base, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &ino);
        return err ? err : -EROFS;
    }
    return err ? err : -EROFS;
}

SYSCALL_DEFINE2(mkdir, uint64_t, upath, uint32_t, mode)
{
    (void)mode;
    long r = readonly_at(AT_FDCWD, upath, false);
    return r;
}

SYSCALL_DEFINE3(mkdirat, int, dirfd, uint64_t, upath, uint32_t, mode)
{
    (void)mode;
    return readonly_at(dirfd, upath, false);
}

SYSCALL_DEFINE1(rmdir, uint64_t, upath)
{
    return readonly_at(AT_FDCWD, upath, true);
}

SYSCALL_DEFINE1(unlink, uint64_t, upath)
{
    return readonly_at(AT_FDCWD, upath, true);
}

SYSCALL_DEFINE3(unlinkat, int, dirfd, uint64_t, upath, int, flags)
{
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    return readonly_at(dirfd, upath, true);
}

SYSCALL_DEFINE2(chmod, uint64_t, upath, uint32_t, mode)
{
    (void)mode;
    return readonly_at(AT_FDCWD, upath, true);
}

SYSCALL_DEFINE2(truncate, uint64_t, upath, int64_t, len)
{
    (void)len;
    return readonly_at(AT_FDCWD, upath, true);
}
