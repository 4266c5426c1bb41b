/* vfs.c: inodes, directories and path lookup (see vfs.h). */
#include "vfs.h"

#include "klib.h"

#define ROOTFS_DEV 0x801

static struct inode *g_root, *g_cwd;
static uint64_t g_next_ino = 1;

struct inode *vfs_new_inode(uint32_t mode)
{
    struct inode *ino = kalloc_zeroed(sizeof(*ino));
    if (!ino)
        return NULL;
    ino->mode = mode;
    ino->nlink = S_ISDIR(mode) ? 2 : 1;
    ino->ino = g_next_ino++;
    return ino;
}

struct inode *vfs_root(void)
{
    if (!g_root) {
        g_root = vfs_new_inode(S_IFDIR | 0755);
        if (!g_root)
            kpanic("out of kernel memory for the root directory");
        g_root->parent = g_root;
        g_cwd = g_root;
    }
    return g_root;
}

struct inode *vfs_cwd(void)
{
    return g_cwd ? g_cwd : vfs_root();
}

void vfs_set_cwd(struct inode *dir)
{
    g_cwd = dir;
}

struct inode *vfs_child(struct inode *dir, const char *name, uint32_t len)
{
    for (struct dirent_node *d = dir->children; d; d = d->next)
        if (d->name_len == len && memcmp(d->name, name, len) == 0)
            return d->inode;
    return NULL;
}

int vfs_link(struct inode *dir, const char *name, uint32_t len, struct inode *child)
{
    struct dirent_node *d = kalloc_zeroed(sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->name = name;
    d->name_len = len;
    d->inode = child;
    if (dir->last_child)
        dir->last_child->next = d;
    else
        dir->children = d;
    dir->last_child = d;
    dir->nchildren++;
    if (S_ISDIR(child->mode)) {
        child->parent = dir;
        dir->nlink++;
    }
    return 0;
}

/* Path resolution works on a private copy so that a symbolic link's target can be spliced in
 * front of the rest of the path. */
struct walk {
    char buf[PATH_MAX_LEN];
    size_t len, pos;
    int links;
};

static int splice(struct walk *w, const uint8_t *target, size_t tlen, size_t rest)
{
    size_t rest_len = w->len - rest;
    if (tlen + 1 + rest_len >= sizeof(w->buf))
        return -ENAMETOOLONG;
    memmove(w->buf + tlen + 1, w->buf + rest, rest_len);
    memcpy(w->buf, target, tlen);
    w->buf[tlen] = '/';
    w->len = tlen + 1 + rest_len;
    w->buf[w->len] = 0;
    w->pos = 0;
    return 0;
}

int vfs_lookup(struct inode *base, const char *path, unsigned flags, struct inode **out)
{
    struct walk w;
    w.len = strnlen(path, sizeof(w.buf));
    if (w.len >= sizeof(w.buf))
        return -ENAMETOOLONG;
    if (w.len == 0)
        return -ENOENT;
    memcpy(w.buf, path, w.len + 1);
    w.pos = 0;
    w.links = 0;
    if (w.len && w.buf[w.len - 1] == '/')
        flags |= LOOKUP_DIRECTORY | LOOKUP_FOLLOW;

    struct inode *cur = w.buf[0] == '/' ? vfs_root() : (base ? base : vfs_cwd());
    for (;;) {
        while (w.pos < w.len && w.buf[w.pos] == '/') /* a run of slashes is one */
            w.pos++;
        if (w.pos >= w.len)
            break;
        size_t start = w.pos;
        while (w.pos < w.len && w.buf[w.pos] != '/')
            w.pos++;
        size_t nlen = w.pos - start;
        bool last = true;
        for (size_t i = w.pos; i < w.len; i++)
            if (w.buf[i] != '/') {
                last = false;
                break;
            }
        if (nlen > 255)
            return -ENAMETOOLONG;
        if (!S_ISDIR(cur->mode))
            return -ENOTDIR;
        const char *name = w.buf + start;
        if (nlen == 1 && name[0] == '.')
            continue;
        if (nlen == 2 && name[0] == '.' && name[1] == '.') {
            cur = cur->parent; /* the root is its own parent: no way out */
            continue;
        }
        struct inode *next = vfs_child(cur, name, (uint32_t)nlen);
        if (!next)
            return -ENOENT;
        if (S_ISLNK(next->mode) && (!last || (flags & LOOKUP_FOLLOW))) {
            if (++w.links > SYMLOOP_MAX)
                return -ELOOP;
            if (next->size == 0)
                return -ENOENT;
            int err = splice(&w, next->data, next->size, w.pos);
            if (err)
                return err;
            if (w.buf[0] == '/')
                cur = vfs_root();
            /* a relative target continues from the directory holding the link (cur) */
            continue;
        }
        cur = next;
    }
    if ((flags & LOOKUP_DIRECTORY) && !S_ISDIR(cur->mode))
        return -ENOTDIR;
    *out = cur;
    return 0;
}

long vfs_path_of(struct inode *dir, char *buf, size_t size)
{
    /* walk up collecting names, then write them root first */
    const struct dirent_node *names[256];
    int depth = 0;
    for (struct inode *d = dir; d != vfs_root() && depth < 256; d = d->parent) {
        struct inode *p = d->parent;
        const struct dirent_node *found = NULL;
        for (const struct dirent_node *e = p->children; e; e = e->next)
            if (e->inode == d)
                found = e;
        if (!found)
            return -ENOENT;
        names[depth++] = found;
    }
    size_t len = 0;
    if (depth == 0) {
        if (size < 2)
            return -ERANGE;
        buf[0] = '/';
        buf[1] = 0;
        return 1;
    }
    while (depth-- > 0) {
        const struct dirent_node *e = names[depth];
        if (len + 1 + e->name_len + 1 > size)
            return -ERANGE;
        buf[len++] = '/';
        memcpy(buf + len, e->name, e->name_len);
        len += e->name_len;
    }
    buf[len] = 0;
    return (long)len;
}

void vfs_stat(const struct inode *ino, struct linux_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = ROOTFS_DEV;
    st->st_ino = ino->ino;
    st->st_nlink = ino->nlink;
    st->st_mode = ino->mode;
    st->st_size = (int64_t)ino->size;
    st->st_blksize = 4096;
    st->st_blocks = (int64_t)((ino->size + 511) / 512);
    st->st_atime_sec = st->st_mtime_sec = st->st_ctime_sec = ino->mtime;
}
