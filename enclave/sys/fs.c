/* fs.c: the path syscalls that look: open, stat, statfs, readlink, access, the working
 * directory. The ones that change the tree are in fs_change.c. */
#include "file.h"
#include "fs_common.h"
#include "klib.h"
#include "syscall.h"

int base_dir(int dirfd, struct inode **out)
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

long get_path(uint64_t upath, char *path)
{
    return strncpy_from_user(path, upath, PATH_MAX_LEN);
}

int resolve_at(int dirfd, uint64_t upath, int at_flags, unsigned lookup, struct inode **out)
{
    char path[PATH_MAX_LEN];
    long n = get_path(upath, path);
    return n < 0 ? (int)n : resolve_path_at(dirfd, path, at_flags, lookup, out);
}

int resolve_path_at(int dirfd, const char *path, int at_flags, unsigned lookup, struct inode **out)
{
    if (!*path) {
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
            return -EBADF; /* pipes and the console streams are not in the tree */
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

int parent_at(int dirfd, const char *path, struct inode **dir, char *name, uint32_t *len)
{
    struct inode *base = NULL;
    if (path[0] != '/') {
        int err = base_dir(dirfd, &base);
        if (err)
            return err;
    }
    return vfs_lookup_parent(base, path, dir, name, len);
}

int dir_may_change(const struct inode *dir, const struct inode *victim)
{
    int err = cred_may_access(dir, MAY_WRITE | MAY_EXEC);
    if (err)
        return err;
    if (victim && (dir->mode & S_ISVTX) && !cred_owns(dir) && !cred_owns(victim))
        return -EPERM;
    return 0;
}

int getattr(struct inode *ino, bool followed, struct linux_stat *st)
{
    if (followed && S_ISLNK(ino->mode) && ino->iops && ino->iops->stat)
        return ino->iops->stat(ino, st); /* a magic link to a pipe or the console */
    vfs_stat(ino, st);
    return 0;
}

/* ---- open ---- */

static bool is_magic(const struct inode *ino)
{
    return S_ISLNK(ino->mode) && ino->iops && ino->iops->open;
}

/* Creates a regular file called name in dir. */
static int create_file(struct inode *dir, const char *name, uint32_t len, uint32_t mode,
                       struct inode **out)
{
    if (!vfs_writable(dir))
        return -EROFS;
    int err = dir_may_change(dir, NULL);
    if (err)
        return err;
    return vfs_create(dir, name, len, S_IFREG | (mode & 07777 & ~current_process()->umask), out);
}

static long do_openat(int dirfd, uint64_t upath, int flags, uint32_t mode)
{
    char path[PATH_MAX_LEN];
    long n = get_path(upath, path);
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return -EOPNOTSUPP;
    struct inode *base = NULL, *ino;
    if (path[0] != '/') {
        int err = base_dir(dirfd, &base);
        if (err)
            return err;
    }
    unsigned lookup = (flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    if ((flags & O_CREAT) && (flags & O_EXCL))
        lookup = 0; /* O_EXCL: even a dangling symbolic link counts as existing */
    if (flags & O_DIRECTORY)
        lookup |= LOOKUP_DIRECTORY;
    int err = vfs_lookup(base, path, lookup, &ino);
    bool created = false;
    if (err == -ENOENT && (flags & O_CREAT)) {
        if (path[n - 1] == '/')
            return -EISDIR;
        struct inode *dir;
        char name[NAME_MAX_LEN + 1];
        uint32_t len;
        err = vfs_lookup_parent(base, path, &dir, name, &len);
        if (err)
            return err == -EEXIST ? -EISDIR : err;
        if (!S_ISDIR(dir->mode))
            return -ENOTDIR;
        err = create_file(dir, name, len, mode, &ino);
        if (err)
            return err;
        created = true;
    } else if (err) {
        return err;
    } else if ((flags & O_CREAT) && (flags & O_EXCL)) {
        return -EEXIST;
    }
    uint32_t acc = (uint32_t)flags & O_ACCMODE;
    if (!(flags & O_PATH)) {
        if (S_ISLNK(ino->mode) && (!is_magic(ino) || (flags & O_NOFOLLOW)))
            return -ELOOP; /* O_NOFOLLOW on a symbolic link, /proc's magic ones too */
        if (S_ISDIR(ino->mode) && (acc != O_RDONLY || (flags & (O_TRUNC | O_CREAT))))
            return -EISDIR;
        if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
            return -ENOTDIR;
        if (acc == O_ACCMODE)
            return -EINVAL;
        unsigned want = (acc != O_WRONLY ? MAY_READ : 0) | (acc != O_RDONLY ? MAY_WRITE : 0) |
                        ((flags & O_TRUNC) ? MAY_WRITE : 0);
        if (!created && !is_magic(ino) && (err = cred_may_access(ino, want)))
            return err;
        if (S_ISREG(ino->mode) && !ino->iops && (acc != O_RDONLY || (flags & O_TRUNC)) &&
            !vfs_writable(ino))
            return -EROFS;
        if (S_ISREG(ino->mode) && !ino->iops && (acc != O_RDONLY || (flags & O_TRUNC)) &&
            ino->writers < 0)
            return -ETXTBSY; /* a running program's file: before O_TRUNC changes it */
        if (S_ISREG(ino->mode) && !ino->iops && (flags & O_TRUNC) && !created && ino->size) {
            err = tmpfs_truncate(ino, 0);
            if (err)
                return err;
        }
    }
    struct file *f;
    err = vfs_open(ino, (uint32_t)flags, &f);
    if (err)
        return err;
    int fd = fd_install(f, 0, flags & O_CLOEXEC);
    if (fd < 0)
        file_discard(f);
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
    if ((at_flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD && strncpy_from_user(probe, upath, 1) == 0)
        return stat_fd(dirfd, st); /* the descriptor itself, whatever it is */
    struct inode *ino;
    bool follow = !(at_flags & AT_SYMLINK_NOFOLLOW);
    int err = resolve_at(dirfd, upath, at_flags, follow ? LOOKUP_FOLLOW : 0, &ino);
    if (err)
        return err;
    return getattr(ino, follow, st);
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

static struct statx_timestamp stx_time(int64_t sec, int64_t nsec)
{
    return (struct statx_timestamp){.tv_sec = sec, .tv_nsec = (uint32_t)nsec};
}

SYSCALL_DEFINE5(statx, int, dirfd, uint64_t, upath, int, flags, uint32_t, mask, uint64_t, ubuf)
{
    if (mask & 0x80000000u) /* STATX__RESERVED */
        return -EINVAL;
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
    sx.stx_atime = stx_time(st.st_atime_sec, st.st_atime_nsec);
    sx.stx_ctime = stx_time(st.st_ctime_sec, st.st_ctime_nsec);
    sx.stx_mtime = stx_time(st.st_mtime_sec, st.st_mtime_nsec);
    sx.stx_rdev_major = (uint32_t)(st.st_rdev >> 8);
    sx.stx_rdev_minor = (uint32_t)(st.st_rdev & 0xff);
    sx.stx_dev_major = (uint32_t)(st.st_dev >> 8);
    sx.stx_dev_minor = (uint32_t)(st.st_dev & 0xff);
    return copy_to_user(ubuf, &sx, sizeof(sx));
}

/* ---- statfs ---- */

#define RAMFS_MAGIC 0x858458f6
#define TMPFS_MAGIC 0x01021994
#define PROC_MAGIC  0x9fa0

static int statfs_of(const struct inode *ino, uint64_t ubuf)
{
    struct linux_statfs sf;
    memset(&sf, 0, sizeof(sf));
    sf.f_bsize = sf.f_frsize = 4096;
    sf.f_namelen = NAME_MAX_LEN;
    sf.f_fsid[0] = (int32_t)ino->dev;
    if (ino->dev == DEV_PROC) {
        sf.f_type = PROC_MAGIC;
        sf.f_flags = ST_RDONLY | ST_NOSUID;
    } else if (!vfs_writable(ino) || ino->dev == DEV_DEVFS) {
        sf.f_type = ino->dev == DEV_DEVFS ? TMPFS_MAGIC : RAMFS_MAGIC;
        sf.f_flags = ST_RDONLY;
        /* the image: its size and inodes, none free, as Linux's read-only image file systems
         * (squashfs, iso9660) report theirs; statvfs("/") callers check for 0 blocks */
        if (ino->dev == DEV_ROOTFS)
            ramfs_usage(&sf.f_blocks, &sf.f_files);
    } else {
        /* a tmpfs: its room is the enclave's free memory */
        sf.f_type = TMPFS_MAGIC;
        sf.f_flags = ST_NOSUID;
        sf.f_blocks = mm_total_bytes() / 4096;
        sf.f_bfree = sf.f_bavail = (mm_total_bytes() - mm_used_bytes()) / 4096;
        sf.f_files = sf.f_blocks;
        sf.f_ffree = sf.f_bfree;
    }
    return copy_to_user(ubuf, &sf, sizeof(sf));
}

SYSCALL_DEFINE2(statfs, uint64_t, upath, uint64_t, ubuf)
{
    struct inode *ino;
    int err = resolve_at(AT_FDCWD, upath, 0, LOOKUP_FOLLOW, &ino);
    return err ? err : statfs_of(ino, ubuf);
}

SYSCALL_DEFINE2(fstatfs, int, fd, uint64_t, ubuf)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->inode) {
        struct inode pipefs = {.dev = 0xd, .flags = I_READONLY};
        return statfs_of(&pipefs, ubuf);
    }
    return statfs_of(f->inode, ubuf);
}

/* ---- links, access, directories ---- */

static long do_readlinkat(int dirfd, uint64_t upath, uint64_t ubuf, int64_t size)
{
    if (size <= 0)
        return -EINVAL;
    struct inode *ino;
    int err = resolve_at(dirfd, upath, AT_EMPTY_PATH, 0, &ino);
    if (err)
        return err;
    if (!S_ISLNK(ino->mode))
        return -EINVAL;
    char buf[PATH_MAX_LEN];
    long len = vfs_readlink(ino, buf, MIN(sizeof(buf), (size_t)size));
    if (len < 0)
        return len;
    vfs_touch(ino, T_ATIME);
    return copy_to_user(ubuf, buf, (size_t)len) ? -EFAULT : len;
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
    if ((mode & W_OK) && !vfs_writable(ino) && !S_ISCHR(ino->mode) && !is_magic(ino))
        return -EROFS;
    /* with the real ids, or the effective (filesystem) ones for AT_EACCESS, as on Linux */
    unsigned want = (unsigned)mode; /* R_OK, W_OK, X_OK are MAY_READ, MAY_WRITE, MAY_EXEC */
    if (is_magic(ino))
        return 0;
    return (flags & AT_EACCESS) ? cred_may_access(ino, want) : cred_may_access_real(ino, want);
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
    if ((err = cred_may_access(ino, MAY_EXEC))) /* search permission on the directory itself */
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
    int err = cred_may_access(f->inode, MAY_EXEC);
    if (err)
        return err;
    vfs_set_cwd(f->inode);
    return 0;
}

SYSCALL_DEFINE1(chroot, uint64_t, upath)
{
    struct inode *ino;
    int err = resolve_at(AT_FDCWD, upath, 0, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &ino);
    if (err)
        return err;
    return ino == vfs_root() ? 0 : -EPERM; /* one root per enclave */
}
