/* ramfs.c: the application ramdisk (newc cpio) as the enclave's root file system. Entries under
 * "rootfs/" become the tree; "cmd", "env" and "tmpfs" at the top are handed back to the caller.
 * File bytes, link targets and names stay in the ramdisk: nothing is copied. Entries come in any
 * order; missing parent directories are created. Several archives may follow each other. */
#include "cpio/cpio.h"
#include "klib.h"
#include "vfs.h"

static const char PREFIX[] = "rootfs";

/* what statfs reports for the image (ramfs_usage): the root counts as one directory */
static uint64_t g_blocks = 1, g_inodes = 1;

static void count_inode(uint32_t mode, uint64_t size)
{
    g_inodes++;
    g_blocks += S_ISDIR(mode) ? 1 : (size + 4095) / 4096;
}

void ramfs_usage(uint64_t *blocks, uint64_t *inodes)
{
    *blocks = g_blocks;
    *inodes = g_inodes;
}

/* Finds or creates the directory for components [0, len) of name under root. */
static int parent_dir(const char *name, size_t len, struct inode **out)
{
    struct inode *dir = vfs_root();
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && name[i] != '/')
            i++;
        uint32_t clen = (uint32_t)(i - start);
        if (clen) {
            struct inode *next = vfs_child(dir, name + start, clen);
            if (!next) {
                next = vfs_new_inode(S_IFDIR | 0755, DEV_ROOTFS, I_READONLY);
                if (!next || vfs_link(dir, name + start, clen, next, false))
                    return -ENOMEM;
                count_inode(S_IFDIR, 0);
            } else if (!S_ISDIR(next->mode)) {
                return -ENOTDIR;
            }
            dir = next;
        }
        i++;
    }
    *out = dir;
    return 0;
}

static void set_attrs(struct inode *ino, const struct cpio_entry *e)
{
    ino->mode = e->mode;
    ino->uid = e->uid;
    ino->gid = e->gid;
    ino->atime_ns = ino->mtime_ns = ino->ctime_ns = (int64_t)e->mtime * 1000000000;
}

static int add_entry(const struct cpio_entry *e, const char *path, size_t len)
{
    while (len && path[len - 1] == '/')
        len--;
    if (len == 0)
        return 0; /* "rootfs" itself: the root */
    size_t slash = len;
    while (slash > 0 && path[slash - 1] != '/')
        slash--;
    const char *base = path + slash;
    uint32_t blen = (uint32_t)(len - slash);
    if ((blen == 1 && base[0] == '.') || (blen == 2 && base[0] == '.' && base[1] == '.'))
        return -EINVAL;
    struct inode *dir;
    int err = parent_dir(path, slash ? slash - 1 : 0, &dir);
    if (err)
        return err;
    uint32_t type = e->mode & S_IFMT;
    if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK)
        return 0; /* devices and fifos in an image are ignored, as unprivileged images get them */
    struct inode *ino = vfs_child(dir, base, blen);
    if (ino && S_ISDIR(ino->mode) && type == S_IFDIR) {
        set_attrs(ino, e); /* an implicit directory, now described */
        return 0;
    }
    if (ino)
        return -EEXIST; /* the same path twice with different types */
    ino = vfs_new_inode(e->mode, DEV_ROOTFS, I_READONLY);
    if (!ino)
        return -ENOMEM;
    set_attrs(ino, e);
    if (type != S_IFDIR) {
        ino->data = (uint8_t *)e->data;
        ino->size = e->size;
    }
    err = vfs_link(dir, base, blen, ino, false);
    if (!err)
        count_inode(e->mode, type == S_IFDIR ? 0 : e->size);
    return err;
}

int ramfs_load(const uint8_t *cpio, size_t size, struct ramdisk_files *out)
{
    memset(out, 0, sizeof(*out));
    size_t pos = 0;
    while (pos < size) {
        /* zero padding between concatenated archives */
        while (pos < size && cpio[pos] == 0)
            pos++;
        if (pos >= size)
            break;
        struct cpio_entry e;
        enum cpio_status st;
        while ((st = cpio_next(cpio, size, &pos, &e)) == CPIO_ENTRY) {
            const char *n = e.name;
            size_t len = e.name_len;
            if (len >= 2 && n[0] == '.' && n[1] == '/')
                n += 2, len -= 2;
            bool reg = (e.mode & S_IFMT) == S_IFREG;
            if (reg && len == 3 && memcmp(n, "cmd", 3) == 0) {
                out->cmd = e.data;
                out->cmd_len = e.size;
            } else if (reg && len == 3 && memcmp(n, "env", 3) == 0) {
                out->env = e.data;
                out->env_len = e.size;
            } else if (reg && len == 5 && memcmp(n, "tmpfs", 5) == 0) {
                out->tmpfs = e.data;
                out->tmpfs_len = e.size;
            } else if (len >= sizeof(PREFIX) - 1 && memcmp(n, PREFIX, sizeof(PREFIX) - 1) == 0 &&
                       (len == sizeof(PREFIX) - 1 || n[sizeof(PREFIX) - 1] == '/')) {
                int err = add_entry(&e, n + sizeof(PREFIX) - 1, len - (sizeof(PREFIX) - 1));
                if (err) {
                    klog(ALC_LOG_ERROR, "application ramdisk: entry %.*s: error %d",
                         (int)MIN(e.name_len, 200u), e.name, err);
                    return err;
                }
            }
        }
        if (st == CPIO_MALFORMED) {
            klog(ALC_LOG_ERROR, "application ramdisk: malformed cpio at byte %lu", pos);
            return -EINVAL;
        }
    }
    return 0;
}
