/* tmpfs.c: writable file systems in the enclave's memory, and the bytes of regular files.
 *
 * A writable file up to CHUNK bytes is one kernel allocation that doubles as it grows; past
 * that, or once it is mapped MAP_SHARED, its bytes live in CHUNK-sized pieces of whole frames
 * listed in a table (kpages_alloc, mm.h), so growing never copies what is there, a file can use
 * nearly all free memory, and a shared mapping maps the file's own pages (tmpfs_page).
 * Everything a tmpfs holds counts against the enclave's memory, as on Linux. The image's files
 * are one contiguous range of the ramdisk (data, cap 0). */
#include "klib.h"
#include "mm.h"
#include "vfs.h"

#define CHUNK (1ull << 20)

static uint32_t g_next_dev = DEV_TMPFS;

static uint64_t nchunks(uint64_t bytes)
{
    return (bytes + CHUNK - 1) / CHUNK;
}

/* Small files: the one buffer grows to cap >= need (at most CHUNK). */
static int grow_small(struct inode *ino, uint64_t need)
{
    uint64_t cap = MAX(need, ino->cap * 2);
    cap = cap < 4096 ? MAX(cap, 64) : PAGE_UP(cap);
    cap = MIN(cap, CHUNK);
    uint8_t *data = kmalloc(cap);
    if (!data)
        return -ENOSPC;
    if (ino->size)
        memcpy(data, ino->data, ino->size);
    memset(data + ino->size, 0, cap - ino->size);
    if (ino->cap)
        kfree(ino->data);
    ino->data = data;
    ino->cap = cap;
    return 0;
}

/* Large files: the table of chunks covers need bytes; new chunks are zeroed. */
static int grow_chunks(struct inode *ino, uint64_t need)
{
    uint64_t have = ino->chunks ? ino->cap / CHUNK : 0, want = nchunks(need);
    if (!ino->chunks) {
        /* switch over: the small buffer's bytes move into chunk 0 */
        uint8_t **t = kzalloc(16 * sizeof(uint8_t *));
        uint8_t *c = t ? kpages_alloc(CHUNK) : NULL;
        if (!c) {
            kfree(t);
            return -ENOSPC;
        }
        if (ino->size)
            memcpy(c, ino->data, ino->size);
        memset(c + ino->size, 0, CHUNK - ino->size);
        if (ino->cap)
            kfree(ino->data);
        ino->data = NULL;
        ino->chunks = t;
        ino->chunk_slots = 16;
        ino->chunks[0] = c;
        have = 1;
    }
    if (want > ino->chunk_slots) {
        uint64_t slots = MAX(want, ino->chunk_slots * 2);
        uint8_t **t = kzalloc(slots * sizeof(uint8_t *));
        if (!t)
            return -ENOSPC;
        memcpy(t, ino->chunks, have * sizeof(uint8_t *));
        kfree(ino->chunks);
        ino->chunks = t;
        ino->chunk_slots = slots;
    }
    for (; have < want; have++) {
        if (!(ino->chunks[have] = kpages_alloc(CHUNK))) {
            ino->cap = have * CHUNK;
            return -ENOSPC;
        }
        memset(ino->chunks[have], 0, CHUNK);
    }
    ino->cap = have * CHUNK;
    return 0;
}

int tmpfs_reserve(struct inode *ino, uint64_t need)
{
    if (need <= ino->cap)
        return 0;
    if (need > (1ull << 40))
        return -EFBIG;
    if (need <= CHUNK && !ino->chunks)
        return grow_small(ino, need);
    return grow_chunks(ino, need);
}

/* Calls fn on each contiguous piece of [off, off + len) of the file's bytes. */
static void pieces(struct inode *ino, uint64_t off, size_t len,
                   void (*fn)(uint8_t *piece, size_t n, size_t done, void *arg), void *arg)
{
    size_t done = 0;
    while (done < len) {
        uint64_t at = off + done;
        uint8_t *p;
        size_t n;
        if (ino->chunks) {
            p = ino->chunks[at / CHUNK] + at % CHUNK;
            n = MIN(len - done, CHUNK - at % CHUNK);
        } else {
            p = ino->data + at;
            n = len - done;
        }
        fn(p, n, done, arg);
        done += n;
    }
}

static void copy_out(uint8_t *piece, size_t n, size_t done, void *arg)
{
    memcpy((uint8_t *)arg + done, piece, n);
}

static void copy_in(uint8_t *piece, size_t n, size_t done, void *arg)
{
    memcpy(piece, (const uint8_t *)arg + done, n);
}

static void zero(uint8_t *piece, size_t n, size_t done, void *arg)
{
    (void)done;
    (void)arg;
    memset(piece, 0, n);
}

long inode_read(struct inode *ino, void *buf, size_t len, uint64_t off)
{
    if (off >= ino->size)
        return 0;
    size_t n = MIN(len, ino->size - off);
    pieces(ino, off, n, copy_out, buf);
    return (long)n;
}

long inode_write(struct inode *ino, const void *buf, size_t len, uint64_t off)
{
    uint64_t end;
    if (__builtin_add_overflow(off, len, &end) || end > (1ull << 40))
        return -EFBIG;
    if (!vfs_writable(ino))
        return -EROFS;
    if (ino->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
        return -EPERM;
    if ((ino->seals & F_SEAL_GROW) && end > ino->size) {
        /* Linux writes page by page and stops at the first page that would grow the file */
        if (PAGE_DOWN(ino->size) <= off)
            return -EPERM;
        end = PAGE_DOWN(ino->size);
        len = (size_t)(end - off);
    }
    int err = tmpfs_reserve(ino, end);
    if (err)
        return err;
    /* bytes between the old end and off read back as zeros: reserve zeroed new room, and
     * truncation zeroes what it cuts off */
    pieces(ino, off, len, copy_in, (void *)buf);
    if (end > ino->size)
        ino->size = end;
    vfs_touch(ino, T_MTIME | T_CTIME);
    return (long)len;
}

int tmpfs_punch(struct inode *ino, uint64_t off, uint64_t len)
{
    if (!vfs_writable(ino))
        return -EROFS;
    if (ino->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
        return -EPERM;
    if (off < ino->size)
        pieces(ino, off, MIN(len, ino->size - off), zero, NULL);
    vfs_touch(ino, T_MTIME | T_CTIME);
    return 0;
}

int tmpfs_truncate(struct inode *ino, uint64_t size)
{
    if (((ino->seals & F_SEAL_GROW) && size > ino->size) ||
        ((ino->seals & F_SEAL_SHRINK) && size < ino->size))
        return -EPERM;
    if (size > ino->size) {
        int err = tmpfs_reserve(ino, size);
        if (err)
            return err;
    } else if (size == 0 && ino->cap > 4096) {
        tmpfs_release_data(ino);
    } else if (size < ino->size) {
        pieces(ino, size, ino->size - size, zero, NULL);
        if (ino->chunks) { /* give back whole chunks past the new end (keep one) */
            uint64_t keep = MAX(nchunks(size), 1);
            for (uint64_t i = keep; i < ino->cap / CHUNK; i++)
                kpages_free(ino->chunks[i], CHUNK);
            ino->cap = MIN(ino->cap, keep * CHUNK);
        }
    }
    ino->size = size;
    vfs_touch(ino, T_MTIME | T_CTIME);
    return 0;
}

void tmpfs_release_data(struct inode *ino)
{
    if (ino->chunks) {
        for (uint64_t i = 0; i < ino->cap / CHUNK; i++)
            kpages_free(ino->chunks[i], CHUNK);
        kfree(ino->chunks);
        ino->chunks = NULL;
        ino->chunk_slots = 0;
    } else if (ino->cap) {
        kfree(ino->data);
    }
    ino->data = NULL;
    ino->cap = 0;
}

int tmpfs_page(struct inode *ino, uint64_t off, uint64_t *pa)
{
    if (!vfs_writable(ino) || off >= PAGE_UP(MAX(ino->size, 1)))
        return -ENXIO;
    if (!ino->chunks) {
        int err = grow_chunks(ino, MAX(ino->size, 1));
        if (err)
            return err;
    }
    *pa = virt_to_phys(ino->chunks[off / CHUNK] + PAGE_DOWN(off % CHUNK));
    return 0;
}

/* Creates the missing directories above a mount point (read-only, like the image's). */
static int make_parents(const char *path)
{
    char prefix[PATH_MAX_LEN];
    size_t n = strlen(path);
    if (n >= sizeof(prefix))
        return -ENAMETOOLONG;
    for (size_t i = 1; i < n; i++) {
        if (path[i] != '/')
            continue;
        memcpy(prefix, path, i);
        prefix[i] = 0;
        struct inode *dir, *found;
        char name[NAME_MAX_LEN + 1];
        uint32_t len;
        if (vfs_lookup(NULL, prefix, LOOKUP_FOLLOW, &found) == 0)
            continue;
        int err = vfs_lookup_parent(NULL, prefix, &dir, name, &len);
        if (err)
            return err;
        struct inode *d = vfs_new_inode(S_IFDIR | 0755, dir->dev, dir->flags & I_READONLY);
        if (!d || vfs_link(dir, name, len, d, true))
            return -ENOMEM;
    }
    return 0;
}

int tmpfs_mount(const char *path, uint32_t mode)
{
    struct inode *dir;
    char name[NAME_MAX_LEN + 1];
    uint32_t len;
    int err = make_parents(path);
    if (!err)
        err = vfs_lookup_parent(NULL, path, &dir, name, &len);
    if (err)
        return err;
    if (!S_ISDIR(dir->mode))
        return -ENOTDIR;
    struct inode *root = tmpfs_new_root(mode);
    if (!root)
        return -ENOMEM;
    err = mount_at(dir, name, len, root, "tmpfs", "tmpfs", "rw,nosuid,nodev", false);
    if (err)
        vfs_drop(root);
    return err;
}

struct inode *tmpfs_new_file(uint32_t mode)
{
    static uint32_t dev;
    if (!dev)
        dev = g_next_dev++; /* the kernel's own tmpfs, mounted nowhere */
    return vfs_new_inode(mode, dev, 0);
}

struct inode *tmpfs_new_root(uint32_t mode)
{
    return vfs_new_inode(S_IFDIR | mode, g_next_dev++, 0);
}
