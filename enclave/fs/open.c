/* open.c: open files of the file system: regular files (the image's, read-only, and tmpfs ones,
 * writable), directories (getdents64 by entry sequence numbers, lseek to a position getdents
 * gave), generated files (a snapshot taken at open, as /proc files read consistently), and
 * O_PATH descriptors. */
#include "file.h"
#include "klib.h"
#include "vfs.h"

/* ---- regular files ---- */

static long reg_pread(struct file *f, void *buf, size_t len, uint64_t off)
{
    return inode_read(f->inode, buf, len, off);
}

static long reg_read(struct file *f, void *buf, size_t len)
{
    long n = reg_pread(f, buf, len, f->pos);
    if (n > 0)
        f->pos += (uint64_t)n;
    return n;
}

static long reg_write(struct file *f, const void *buf, size_t len)
{
    if (f->flags & O_APPEND)
        f->pos = f->inode->size;
    long n = inode_write(f->inode, buf, len, f->pos);
    if (n > 0)
        f->pos += (uint64_t)n;
    return n;
}

static long reg_pwrite(struct file *f, const void *buf, size_t len, uint64_t off)
{
    /* as on Linux, pwrite on an O_APPEND file appends */
    return inode_write(f->inode, buf, len, (f->flags & O_APPEND) ? f->inode->size : off);
}

static int64_t seek_in(struct file *f, int64_t off, int whence, uint64_t size)
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
        base = (int64_t)size;
        break;
    case SEEK_DATA:
        if (off < 0 || (uint64_t)off >= size)
            return -ENXIO;
        return f->pos = (uint64_t)off, off;
    case SEEK_HOLE:
        if (off < 0 || (uint64_t)off >= size) /* at the end too, as Linux */
            return -ENXIO;
        return f->pos = size, (int64_t)size;
    default:
        return -EINVAL;
    }
    int64_t np;
    if (__builtin_add_overflow(base, off, &np) || np < 0)
        return -EINVAL;
    f->pos = (uint64_t)np;
    return np;
}

static int64_t reg_lseek(struct file *f, int64_t off, int whence)
{
    return seek_in(f, off, whence, f->inode->size);
}

int vfs_file_stat(struct file *f, struct linux_stat *st)
{
    vfs_stat(f->inode, st);
    return 0;
}

void vfs_file_release(struct file *f)
{
    if (f->writer)
        f->inode->writers--;
    vfs_put(f->inode);
    kfree(f);
}

/* ---- directories ---- */

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

/* Positions: 0 is ".", 1 is "..", then an entry's sequence number (stored directories) or 2 +
 * its index (computed ones). f->pos is the position of the next entry to return. */
static long dir_getdents(struct file *f, void *ubuf, size_t len)
{
    struct inode *dir = f->inode;
    uint8_t *buf = ubuf;
    size_t used = 0;
    if (dir->nlink == 0)
        return 0; /* removed: Linux lists nothing, not even "." */
    const struct dirent_node *d = dir->children;
    while (d && d->seq < f->pos)
        d = d->next;
    for (;;) {
        const char *name;
        size_t nlen;
        uint64_t ino, pos = f->pos, next;
        uint8_t type;
        char tmp[NAME_MAX_LEN + 1];
        if (pos == 0) {
            name = ".", nlen = 1, ino = dir->ino, type = DT_DIR, next = 1;
        } else if (pos == 1) {
            name = "..", nlen = 2, ino = dir->parent->ino, type = DT_DIR, next = 2;
        } else if (dir->iops && dir->iops->entry) {
            struct inode *child;
            if (!dir->iops->entry(dir, pos - 2, tmp, sizeof(tmp), &child))
                break;
            name = tmp, nlen = strlen(tmp), ino = child->ino, type = dtype(child->mode);
            next = pos + 1;
        } else {
            if (!d)
                break;
            name = d->name, nlen = d->name_len, ino = d->inode->ino, type = dtype(d->inode->mode);
            next = d->seq + 1;
            d = d->next;
        }
        size_t n = put_dirent(buf + used, len - used, ino, next, type, name, nlen);
        if (n == 0)
            return used ? (long)used : -EINVAL; /* the first record does not fit */
        used += n;
        f->pos = next;
    }
    vfs_touch(dir, T_ATIME);
    return (long)used;
}

static int64_t dir_lseek(struct file *f, int64_t off, int whence)
{
    if (whence == SEEK_CUR && off == 0)
        return (int64_t)f->pos;
    if (whence != SEEK_SET || off < 0)
        return -EINVAL;
    f->pos = (uint64_t)off;
    return off;
}

static const struct file_ops g_reg_ops = {
    .read = reg_read,
    .write = reg_write,
    .pread = reg_pread,
    .pwrite = reg_pwrite,
    .lseek = reg_lseek,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};

static const struct file_ops g_dir_ops = {
    .read = dir_read,
    .lseek = dir_lseek,
    .getdents = dir_getdents,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};

/* O_PATH descriptors and symlinks opened with O_PATH|O_NOFOLLOW: stat and nothing else */
static const struct file_ops g_path_ops = {
    .stat = vfs_file_stat,
    .release = vfs_file_release,
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
    f->flags = (flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY | O_NOATIME |
                         O_SYNC | O_DSYNC | O_DIRECT)) |
               O_LARGEFILE; /* as a 64-bit Linux sets it */
    f->inode = ino;
    vfs_get(ino);
    return f;
}

int vfs_open(struct inode *ino, uint32_t flags, struct file **out)
{
    if (!(flags & O_PATH) && ino->iops && ino->iops->open)
        return ino->iops->open(ino, flags, out);
    if (!(flags & O_PATH) && (ino->mode & S_IFMT) == S_IFSOCK)
        return -ENXIO; /* a socket's name is for connect (Linux's bad_sock_fops) */
    bool writer = !(flags & O_PATH) && S_ISREG(ino->mode) && (flags & O_ACCMODE) != O_RDONLY;
    if (writer && ino->writers < 0)
        return -ETXTBSY; /* a running program's file */
    *out = vfs_open_inode(ino, flags);
    if (!*out)
        return -ENOMEM;
    if (writer) {
        (*out)->writer = true;
        ino->writers++;
    }
    return 0;
}

void vfs_deny_write(struct inode *ino)
{
    ino->writers--;
}

void vfs_allow_write(struct inode *ino)
{
    ino->writers++;
}

/* ---- generated files: a snapshot of their text taken at open ---- */

struct snapshot {
    char *buf;
    size_t len;
};

static long snap_pread(struct file *f, void *buf, size_t len, uint64_t off)
{
    const struct snapshot *s = f->priv;
    if (off >= s->len)
        return 0;
    size_t n = MIN(len, s->len - off);
    memcpy(buf, s->buf + off, n);
    return (long)n;
}

static long snap_read(struct file *f, void *buf, size_t len)
{
    long n = snap_pread(f, buf, len, f->pos);
    if (n > 0)
        f->pos += (uint64_t)n;
    return n;
}

static int64_t snap_lseek(struct file *f, int64_t off, int whence)
{
    return seek_in(f, off, whence, ((const struct snapshot *)f->priv)->len);
}

static void snap_release(struct file *f)
{
    struct snapshot *s = f->priv;
    kfree(s->buf);
    kfree(s);
    vfs_file_release(f);
}

static const struct file_ops g_snap_ops = {
    .read = snap_read,
    .pread = snap_pread,
    .lseek = snap_lseek,
    .stat = vfs_file_stat,
    .release = snap_release,
};

int vfs_open_snapshot(struct inode *ino, uint32_t flags, char *text, size_t len, struct file **out)
{
    struct snapshot *s = kzalloc(sizeof(*s));
    struct file *f = s ? vfs_open_inode(ino, flags) : NULL;
    if (!f) {
        kfree(s);
        kfree(text);
        return -ENOMEM;
    }
    s->buf = text;
    s->len = len;
    f->ops = &g_snap_ops;
    f->priv = s;
    *out = f;
    return 0;
}
