/* xattr.c: the extended attribute syscalls (getxattr, setxattr, listxattr, removexattr and
 * their l- and f- forms).
 *
 * The enclave's file systems keep no extended attributes, as Linux's ramfs keeps none and a
 * Linux with no security module has no security.* labels: listing gives an empty list, and
 * reading, writing or removing one is EOPNOTSUPP (what coreutils, tar, rsync, python's shutil
 * and the JVM take for "this file system has none"). Every check before that is Linux's, in its
 * order (Linux 6.1's fs/xattr.c): the path or descriptor is resolved, a change needs a writable
 * mount (EROFS), the flags, name and value are copied and checked (EINVAL, ERANGE, E2BIG), and
 * the namespace's permission rule applies (trusted.* needs privilege; user.* only on regular files
 * and directories, with the file's read or write permission).
 */
#include "file.h"
#include "fs_common.h"
#include "klib.h"
#include "syscall.h"

#define XATTR_NAME_MAX 255
#define XATTR_SIZE_MAX 65536
#define XATTR_CREATE   1
#define XATTR_REPLACE  2

/* Copies an attribute's name: 0, -ERANGE (empty or too long) or -EFAULT. */
static long get_name(uint64_t uname, char *name)
{
    long n = strncpy_from_user(name, uname, XATTR_NAME_MAX + 1);
    if (n == 0 || n == -ENAMETOOLONG)
        return -ERANGE;
    return n < 0 ? n : 0;
}

/* Linux's xattr_permission: may the caller read (write: change) attribute name of ino? */
static int permission(struct inode *ino, const char *name, bool write)
{
    if (strncmp(name, "security.", 9) == 0 || strncmp(name, "system.", 7) == 0)
        return 0;
    if (strncmp(name, "trusted.", 8) == 0)
        return cred_privileged() ? 0 : write ? -EPERM : -ENODATA;
    if (strncmp(name, "user.", 5) == 0) {
        if (!S_ISREG(ino->mode) && !S_ISDIR(ino->mode))
            return write ? -EPERM : -ENODATA;
    }
    return cred_may_access(ino, write ? MAY_WRITE : MAY_READ);
}

/* fd of a path form: not a descriptor, the call named a path (which may be NULL: EFAULT) */
#define PATH_FORM (-1000)

/* The inode of a path form (fd PATH_FORM; lookup: LOOKUP_FOLLOW or 0) or of a descriptor. */
static int target(int fd, uint64_t upath, unsigned lookup, struct inode **out)
{
    if (fd == PATH_FORM)
        return resolve_at(AT_FDCWD, upath, 0, lookup, out);
    struct file *f = fd_get(fd);
    if (!f || (f->flags & O_PATH))
        return -EBADF;
    if (!f->inode)
        return -EOPNOTSUPP; /* a pipe or socket: no attributes either */
    *out = f->inode;
    return 0;
}

/* A change needs a writable mount: the image is a read-only one (EROFS); /proc and /dev are
 * not read-only mounts on Linux (their files refuse changes by other rules). */
static bool read_only_mount(const struct inode *ino)
{
    return (ino->flags & I_READONLY) && ino->dev != DEV_PROC && ino->dev != DEV_DEVFS;
}

static long do_getxattr(int fd, uint64_t upath, unsigned lookup, uint64_t uname)
{
    struct inode *ino;
    char name[XATTR_NAME_MAX + 1];
    long err = target(fd, upath, lookup, &ino);
    if (!err)
        err = get_name(uname, name);
    if (!err)
        err = permission(ino, name, false);
    return err ? err : -EOPNOTSUPP;
}

static long do_setxattr(int fd, uint64_t upath, unsigned lookup, uint64_t uname, uint64_t uvalue,
                        uint64_t size, int flags)
{
    char name[XATTR_NAME_MAX + 1];
    struct inode *ino;
    long err = target(fd, upath, lookup, &ino);
    if (err)
        return err;
    if (read_only_mount(ino))
        return -EROFS;
    if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
        return -EINVAL;
    if ((err = get_name(uname, name)))
        return err;
    if (size > XATTR_SIZE_MAX)
        return -E2BIG;
    if (size && !user_range_ok(uvalue, size, PROT_READ))
        return -EFAULT;
    err = permission(ino, name, true);
    return err ? err : -EOPNOTSUPP;
}

static long do_removexattr(int fd, uint64_t upath, unsigned lookup, uint64_t uname)
{
    char name[XATTR_NAME_MAX + 1];
    struct inode *ino;
    long err = target(fd, upath, lookup, &ino);
    if (err)
        return err;
    if (read_only_mount(ino))
        return -EROFS;
    if ((err = get_name(uname, name)))
        return err;
    err = permission(ino, name, true);
    return err ? err : -EOPNOTSUPP;
}

static long do_listxattr(int fd, uint64_t upath, unsigned lookup)
{
    struct inode *ino;
    long err = target(fd, upath, lookup, &ino);
    return err ? err : 0; /* no attributes: an empty list, whatever the buffer */
}

SYSCALL_DEFINE5(setxattr, uint64_t, upath, uint64_t, uname, uint64_t, uvalue, uint64_t, size, int,
                flags)
{
    return do_setxattr(PATH_FORM, upath, LOOKUP_FOLLOW, uname, uvalue, size, flags);
}

SYSCALL_DEFINE5(lsetxattr, uint64_t, upath, uint64_t, uname, uint64_t, uvalue, uint64_t, size, int,
                flags)
{
    return do_setxattr(PATH_FORM, upath, 0, uname, uvalue, size, flags);
}

SYSCALL_DEFINE5(fsetxattr, int, fd, uint64_t, uname, uint64_t, uvalue, uint64_t, size, int, flags)
{
    if (fd < 0)
        return -EBADF; /* and never PATH_FORM */
    return do_setxattr(fd, 0, 0, uname, uvalue, size, flags);
}

SYSCALL_DEFINE4(getxattr, uint64_t, upath, uint64_t, uname, uint64_t, uvalue, uint64_t, size)
{
    (void)uvalue, (void)size;
    return do_getxattr(PATH_FORM, upath, LOOKUP_FOLLOW, uname);
}

SYSCALL_DEFINE4(lgetxattr, uint64_t, upath, uint64_t, uname, uint64_t, uvalue, uint64_t, size)
{
    (void)uvalue, (void)size;
    return do_getxattr(PATH_FORM, upath, 0, uname);
}

SYSCALL_DEFINE4(fgetxattr, int, fd, uint64_t, uname, uint64_t, uvalue, uint64_t, size)
{
    (void)uvalue, (void)size;
    if (fd < 0)
        return -EBADF; /* and never PATH_FORM */
    return do_getxattr(fd, 0, 0, uname);
}

SYSCALL_DEFINE3(listxattr, uint64_t, upath, uint64_t, ulist, uint64_t, size)
{
    (void)ulist, (void)size;
    return do_listxattr(PATH_FORM, upath, LOOKUP_FOLLOW);
}

SYSCALL_DEFINE3(llistxattr, uint64_t, upath, uint64_t, ulist, uint64_t, size)
{
    (void)ulist, (void)size;
    return do_listxattr(PATH_FORM, upath, 0);
}

SYSCALL_DEFINE3(flistxattr, int, fd, uint64_t, ulist, uint64_t, size)
{
    (void)ulist, (void)size;
    if (fd < 0)
        return -EBADF; /* and never PATH_FORM */
    return do_listxattr(fd, 0, 0);
}

SYSCALL_DEFINE2(removexattr, uint64_t, upath, uint64_t, uname)
{
    return do_removexattr(PATH_FORM, upath, LOOKUP_FOLLOW, uname);
}

SYSCALL_DEFINE2(lremovexattr, uint64_t, upath, uint64_t, uname)
{
    return do_removexattr(PATH_FORM, upath, 0, uname);
}

SYSCALL_DEFINE2(fremovexattr, int, fd, uint64_t, uname)
{
    if (fd < 0)
        return -EBADF; /* and never PATH_FORM */
    return do_removexattr(fd, 0, 0, uname);
}
