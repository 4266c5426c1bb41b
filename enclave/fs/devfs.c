/* devfs.c: /dev: the character devices static programs use (null, zero, full, random, urandom,
 * vsock (IOCTL_VM_SOCKETS_GET_LOCAL_CID), ptmx and tty (pseudo-terminals: dev/pty.c; tty is the
 * caller's controlling terminal, ENXIO without one), the devpts mount at /dev/pts where the slaves
 * appear, the standard-stream links into /proc/self/fd, and a tmpfs at /dev/shm. */
#include "exe.h"
#include "file.h"
#include "klib.h"
#include "nsm.h"
#include "tty.h"
#include "vfs.h"
#include "vsock.h"

#define DEVNUM_VSOCK DEVNUM(10, 121) /* a misc device, as on Linux */

static long dev_read_zero(struct file *f, void *buf, size_t len)
{
    (void)f;
    memset(buf, 0, len);
    return (long)len;
}

static long dev_pread_zero(struct file *f, void *buf, size_t len, uint64_t off)
{
    (void)off;
    return dev_read_zero(f, buf, len);
}

static long dev_read_eof(struct file *f, void *buf, size_t len)
{
    (void)f;
    (void)buf;
    (void)len;
    return 0;
}

static long dev_pread_eof(struct file *f, void *buf, size_t len, uint64_t off)
{
    (void)off;
    return dev_read_eof(f, buf, len);
}

static long dev_write_sink(struct file *f, const void *buf, size_t len)
{
    (void)f;
    (void)buf;
    return (long)len;
}

static long dev_pwrite_sink(struct file *f, const void *buf, size_t len, uint64_t off)
{
    (void)off;
    return dev_write_sink(f, buf, len);
}

static long dev_write_full(struct file *f, const void *buf, size_t len)
{
    (void)f;
    (void)buf;
    (void)len;
    return -ENOSPC;
}

static long dev_read_random(struct file *f, void *buf, size_t len)
{
    (void)f;
    int err = random_fill(buf, len);
    return err ? err : (long)len;
}

/* the position of these devices stays 0, as Linux reports */
static int64_t dev_lseek(struct file *f, int64_t off, int whence)
{
    (void)f;
    (void)off;
    (void)whence;
    return 0;
}

static const struct file_ops g_null_ops = {
    .read = dev_read_eof,
    .write = dev_write_sink,
    .pread = dev_pread_eof,
    .pwrite = dev_pwrite_sink,
    .lseek = dev_lseek,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};

static const struct file_ops g_zero_ops = {
    .read = dev_read_zero,
    .write = dev_write_sink,
    .pread = dev_pread_zero,
    .pwrite = dev_pwrite_sink,
    .lseek = dev_lseek,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};

static const struct file_ops g_full_ops = {
    .read = dev_read_zero,
    .write = dev_write_full,
    .pread = dev_pread_zero,
    .lseek = dev_lseek,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};

static const struct file_ops g_random_ops = {
    .read = dev_read_random,
    .write = dev_write_sink,
    .lseek = dev_lseek,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};

static int dev_open(struct inode *ino, uint32_t flags, struct file **out)
{
    const struct file_ops *ops;
    switch (ino->arg) {
    case DEVNUM_NULL:
        ops = &g_null_ops;
        break;
    case DEVNUM_ZERO:
        ops = &g_zero_ops;
        break;
    case DEVNUM_FULL:
        ops = &g_full_ops;
        break;
    case DEVNUM_RANDOM:
    case DEVNUM_URANDOM:
        ops = &g_random_ops;
        break;
    case DEVNUM_VSOCK:
        ops = &g_vsock_dev_ops;
        break;
    case DEVNUM_NSM:
        ops = nsm_file_ops();
        break;
    case DEVNUM_PTMX:
        return pty_open_ptmx(ino, flags, out);
    case DEVNUM_TTY:
        return tty_open_ctty(ino, flags, out);
    default:
        return -ENXIO;
    }
    struct file *f = vfs_open_inode(ino, flags);
    if (!f)
        return -ENOMEM;
    f->ops = ops;
    *out = f;
    return 0;
}

static const struct inode_ops g_dev_iops = {.open = dev_open};

static int add_dev(struct inode *dir, const char *name, uint32_t perm, uint64_t devnum)
{
    struct inode *ino = vfs_new_inode(S_IFCHR | perm, DEV_DEVFS, I_READONLY | I_PINNED);
    if (!ino)
        return -ENOMEM;
    ino->iops = &g_dev_iops;
    ino->arg = devnum;
    return vfs_link(dir, name, (uint32_t)strlen(name), ino, false);
}

static int add_symlink(struct inode *dir, const char *name, const char *target)
{
    struct inode *ino = vfs_new_inode(S_IFLNK | 0777, DEV_DEVFS, I_READONLY | I_PINNED);
    if (!ino)
        return -ENOMEM;
    ino->data = (uint8_t *)target;
    ino->size = strlen(target);
    return vfs_link(dir, name, (uint32_t)strlen(name), ino, false);
}

/* /dev/pts: a file system of its own (devpts), whose entries dev/pty.c adds and removes */
static int mount_devpts(struct inode *dev)
{
    struct inode *pts = vfs_new_inode(S_IFDIR | 0755, DEV_DEVPTS, I_READONLY | I_MOUNT);
    if (!pts)
        return -ENOMEM;
    int err = mount_at(dev, "pts", 3, pts, "devpts", "devpts",
                       "rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000", false);
    if (!err)
        pty_set_devpts(pts);
    return err;
}

int devfs_mount(void)
{
    struct inode *root = vfs_root();
    struct inode *dev = vfs_new_inode(S_IFDIR | 0755, DEV_DEVFS, I_READONLY | I_MOUNT);
    if (!dev)
        return -ENOMEM;
    int err = mount_at(root, "dev", 3, dev, "devfs", "devtmpfs", "ro,nosuid", false);
    err = err ? err : add_dev(dev, "null", 0666, DEVNUM_NULL);
    err = err ? err : add_dev(dev, "zero", 0666, DEVNUM_ZERO);
    err = err ? err : add_dev(dev, "full", 0666, DEVNUM_FULL);
    err = err ? err : add_dev(dev, "random", 0666, DEVNUM_RANDOM);
    err = err ? err : add_dev(dev, "urandom", 0666, DEVNUM_URANDOM);
    err = err ? err : add_dev(dev, "tty", 0666, DEVNUM_TTY);
    err = err ? err : add_dev(dev, "ptmx", 0666, DEVNUM_PTMX);
    err = err ? err : add_dev(dev, "vsock", 0666, DEVNUM_VSOCK);
    err = err ? err : add_dev(dev, "nsm", 0666, DEVNUM_NSM);
    err = err ? err : add_symlink(dev, "stdin", "/proc/self/fd/0");
    err = err ? err : add_symlink(dev, "stdout", "/proc/self/fd/1");
    err = err ? err : add_symlink(dev, "stderr", "/proc/self/fd/2");
    err = err ? err : add_symlink(dev, "fd", "/proc/self/fd");
    err = err ? err : mount_devpts(dev);
    return err ? err : tmpfs_mount("/dev/shm", 01777);
}
