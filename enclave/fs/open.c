/* open.c: open files of the file system: regular files (read, pread, lseek) and directories
 * (getdents64, lseek back to the start). */
#include "file.h"
#include "klib.h"
#include "vfs.h"

static long reg_pread(struct file *f, void *buf, size_t len, uint64_t off)
{
    const struct inode *ino = f->inode;
    if (off >= ino->size)
        return 0;
    size_t n = MIN(len, ino->size - off);
    memcpy(buf, ino->data + off, n);
    return (long)n;
}

static long reg_read(struct file *f, void *buf, size_t len)
{
    long n = reg_pread(f, buf, len, f->pos);
    if (n > 0)
        f->pos += (uint64_t)n;
    return n;
}

static int64_t reg_lseek(struct file *f, int64_t off, int whence)
{
    int64_t base;
    switch (whence) {
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = (int64_t)f->pos;
        break;
    case SEEK_END:
        base = (int64_t)f->inode->size;
        break;
    case SEEK_DATA:
        if (off < 0 || (uint64_t)off >= f->inode->size)
            return -ENXIO;
        return f->pos = (uint64_t)off, off;
    case SEEK_HOLE:
        if (off < 0 || (uint64_t)off > f->inode->size)
            return -ENXIO;
        return f->pos = f->inode->size, (int64_t)f->inode->size;
    default:
        return -EINVAL;
    }
    int64_t np;
    if (__builtin_add_overflow(base, off, &np) || np < 0)
        return -EINVAL;
    f->pos = (uint64_t)np;
    return np;
}

static int inode_stat(struct file *f, struct linux_stat *st)
{
    vfs_stat(f->inode, st);
    return 0;
}

static long dir_read(struct file *f, void *buf, size_t len)
{
    (void)f;
    (void)buf;
    (void)len;
    return -EISDIR;
}

static uint8_t dtype(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR:
        return DT_DIR;
    case S_IFREG:
        return DT_REG;
    case S_IFLNK:
        return DT_LNK;
    case S_IFCHR:
        return DT_CHR;
    case S_IFIFO:
        return DT_FIFO;
    default:
        return DT_UNKNOWN;
    }
}

/* linux_dirent64: ino, off, reclen, type, name (NUL-terminated), padded to 8 bytes */
static size_t put_dirent(uint8_t *buf, size_t room, uint64_t ino, uint64_t next_off, uint8_t type,
                         const char *name, size_t nlen)
{
    size_t reclen = (19 + nlen + 1 + 7) & ~(size_t)7;
    if (reclen > room)
        return 0;
    memcpy(buf, &ino, 8);
    memcpy(buf + 8, &next_off, 8);
    uint16_t r = (uint16_t)reclen;
    memcpy(buf + 16, &r, 2);
    buf[18] = type;
    memcpy(buf + 19, name, nlen);
    memset(buf + 19 + nlen, 0, reclen - 19 - nlen);
    return reclen;
}

static long dir_getdents(struct file *f, void *ubuf, size_t len)
{
    struct inode *dir = f->inode;
    uint8_t *buf = ubuf;
    size_t used = 0;
    uint64_t idx = 0;
    /* entries: ".", "..", then the children in order; pos is the index of the next */
    const struct dirent_node *d = dir->children;
    for (;; idx++) {
        const char *name;
        size_t nlen;
        uint64_t ino;
        uint8_t type;
        if (idx == 0) {
            name = ".", nlen = 1, ino = dir->ino, type = DT_DIR;
        } else if (idx == 1) {
            name = "..", nlen = 2, ino = dir->parent->ino, type = DT_DIR;
        } else {
            if (!d)
                break;
            name = d->name, nlen = d->name_len, ino = d->inode->ino, type = dtype(d->inode->mode);
            d = d->next;
        }
        if (idx < f->pos)
            continue;
        size_t n = put_dirent(buf + used, len - used, ino, idx + 1, type, name, nlen);
        if (n == 0)
            return used ? (long)used : -EINVAL; /* the first record does not fit */
        used += n;
        f->pos = idx + 1;
    }
    return (long)used;
}

static int64_t dir_lseek(struct file *f, int64_t off, int whence)
{
    if (whence != SEEK_SET || off < 0)
        return -EINVAL;
    f->pos = (uint64_t)off;
    return off;
}

static void inode_release(struct file *f)
{
    kfree(f);
}

static const struct file_ops g_reg_ops = {
    .read = reg_read,
    .pread = reg_pread,
    .lseek = reg_lseek,
    .stat = inode_stat,
    .release = inode_release,
};

static const struct file_ops g_dir_ops = {
    .read = dir_read,
    .lseek = dir_lseek,
    .getdents = dir_getdents,
    .stat = inode_stat,
    .release = inode_release,
};

/* O_PATH descriptors and symlinks opened with O_PATH|O_NOFOLLOW: stat and nothing else */
static const struct file_ops g_path_ops = {
    .stat = inode_stat,
    .release = inode_release,
};

struct file *vfs_open_inode(struct inode *ino, uint32_t flags)
{
    struct file *f = kzalloc(sizeof(*f));
    if (!f)
        return NULL;
    if (flags & O_PATH)
        f->ops = &g_path_ops;
    else
        f->ops = S_ISDIR(ino->mode) ? &g_dir_ops : &g_reg_ops;
    f->flags = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY);
    f->inode = ino;
    return f;
}
