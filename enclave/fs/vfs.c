/* vfs.c: inodes, directories and path lookup (see vfs.h). */
#include "vfs.h"

#include "klib.h"
#include "process.h"

static struct inode *g_root;
static uint64_t g_next_ino = 1;

struct inode *vfs_new_inode(uint32_t mode, uint32_t dev, uint32_t flags)
{
    struct inode *ino = kzalloc(sizeof(*ino));
    if (!ino)
        return NULL;
    ino->mode = mode;
    ino->dev = dev;
    ino->flags = flags;
    ino->ino = g_next_ino++;
    ino->next_seq = 2;
    ino->atime_ns = ino->mtime_ns = ino->ctime_ns = time_realtime_ns();
    return ino;
}

static void free_inode(struct inode *ino)
{
    if (ino->flags & (I_MOUNT | I_PINNED))
        return;
    if (ino->cap)
        tmpfs_release_data(ino);
    kfree(ino->buckets);
    kfree(ino->anon_name);
    kfree(ino);
}

void vfs_get(struct inode *ino)
{
    ino->refs++;
}

void vfs_put(struct inode *ino)
{
    KASSERT(ino->refs > 0);
    if (--ino->refs == 0 && ino->nlink == 0)
        free_inode(ino);
}

void vfs_drop(struct inode *ino)
{
    ino->nlink = 0;
    if (ino->refs == 0)
        free_inode(ino);
}

struct inode *vfs_root(void)
{
    if (!g_root) {
        g_root = vfs_new_inode(S_IFDIR | 0755, DEV_ROOTFS, I_READONLY | I_MOUNT);
        if (!g_root)
            kpanic("out of kernel memory for the root directory");
        g_root->parent = g_root;
        g_root->nlink = 2;
        g_root->refs = 1; /* the mount's own */
    }
    return g_root;
}

/* A process's working directory; NULL (a new process) is the root. */
struct inode *vfs_cwd(void)
{
    struct inode *cwd = current_process()->cwd;
    return cwd ? cwd : vfs_root();
}

void vfs_set_cwd(struct inode *dir)
{
    struct process *p = current_process();
    struct inode *old = p->cwd;
    vfs_get(dir);
    p->cwd = dir;
    if (old)
        vfs_put(old);
}

bool vfs_writable(const struct inode *ino)
{
    return !(ino->flags & I_READONLY);
}

bool vfs_immutable(const struct inode *ino)
{
    return S_ISREG(ino->mode) && ino->dev == DEV_ROOTFS && (ino->flags & I_READONLY) &&
           !ino->iops && !ino->cap && !ino->chunks;
}

void vfs_touch(struct inode *ino, unsigned which)
{
    int64_t now = time_realtime_ns();
    if (which & T_ATIME)
        ino->atime_ns = now;
    if (which & T_MTIME)
        ino->mtime_ns = now;
    if (which & T_CTIME)
        ino->ctime_ns = now;
}

/* ---- directories ---- */

static uint32_t name_hash(const char *name, uint32_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    return h;
}

#define HASH_FROM 16 /* directories with this many entries get a hash table */

static void rehash(struct inode *dir, uint32_t nbuckets)
{
    struct dirent_node **b = kzalloc(nbuckets * sizeof(*b));
    if (!b)
        return; /* lookups stay correct through the list, only slower */
    for (struct dirent_node *d = dir->children; d; d = d->next) {
        uint32_t i = d->hash & (nbuckets - 1);
        d->hnext = b[i];
        b[i] = d;
    }
    kfree(dir->buckets);
    dir->buckets = b;
    dir->nbuckets = nbuckets;
}

struct dirent_node *vfs_entry(struct inode *dir, const char *name, uint32_t len)
{
    uint32_t h = name_hash(name, len);
    if (dir->buckets) {
        for (struct dirent_node *d = dir->buckets[h & (dir->nbuckets - 1)]; d; d = d->hnext)
            if (d->hash == h && d->name_len == len && memcmp(d->name, name, len) == 0)
                return d;
        return NULL;
    }
    for (struct dirent_node *d = dir->children; d; d = d->next)
        if (d->hash == h && d->name_len == len && memcmp(d->name, name, len) == 0)
            return d;
    return NULL;
}

struct inode *vfs_child(struct inode *dir, const char *name, uint32_t len)
{
    if (dir->iops && dir->iops->lookup)
        return dir->iops->lookup(dir, name, len);
    struct dirent_node *d = vfs_entry(dir, name, len);
    return d ? d->inode : NULL;
}

static void count_link(struct inode *dir, struct inode *child)
{
    child->nlink++;
    if (S_ISDIR(child->mode)) {
        child->parent = dir;
        child->nlink++; /* its own "." */
        dir->nlink++;   /* its ".." */
    } else if (!child->parent || child->parent->nlink == 0) {
        child->parent = dir; /* for vfs_path_of */
    }
}

int vfs_link(struct inode *dir, const char *name, uint32_t len, struct inode *child, bool copy_name)
{
    struct dirent_node *d = kzalloc(sizeof(*d) + (copy_name ? len : 0));
    if (!d)
        return -ENOMEM;
    if (copy_name) {
        char *copy = (char *)(d + 1);
        memcpy(copy, name, len);
        d->name = copy;
        d->name_owned = true;
    } else {
        d->name = name;
    }
    d->name_len = len;
    d->hash = name_hash(name, len);
    d->inode = child;
    d->seq = dir->next_seq++;
    d->prev = dir->last_child;
    if (dir->last_child)
        dir->last_child->next = d;
    else
        dir->children = d;
    dir->last_child = d;
    dir->nchildren++;
    if (dir->buckets && dir->nchildren > 2 * dir->nbuckets)
        rehash(dir, dir->nbuckets * 4);
    else if (dir->buckets) {
        uint32_t i = d->hash & (dir->nbuckets - 1);
        d->hnext = dir->buckets[i];
        dir->buckets[i] = d;
    } else if (dir->nchildren >= HASH_FROM) {
        rehash(dir, 64);
    }
    count_link(dir, child);
    return 0;
}

static void uncount_link(struct inode *dir, struct inode *child)
{
    if (S_ISDIR(child->mode)) {
        dir->nlink--;
        child->nlink -= 2; /* its name and its "." */
    } else {
        child->nlink--;
        /* the directory it was found through may go before its other names do: forget it
         * (vfs_path_of then answers ENOENT rather than reading a freed directory) */
        if (child->parent == dir)
            child->parent = NULL;
    }
    vfs_touch(child, T_CTIME);
    if (child->nlink == 0 && child->refs == 0)
        free_inode(child);
}

static void remove_entry(struct inode *dir, struct dirent_node *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        dir->children = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        dir->last_child = d->prev;
    if (dir->buckets) {
        struct dirent_node **pp = &dir->buckets[d->hash & (dir->nbuckets - 1)];
        while (*pp != d)
            pp = &(*pp)->hnext;
        *pp = d->hnext;
    }
    dir->nchildren--;
}

int vfs_create(struct inode *dir, const char *name, uint32_t len, uint32_t mode, struct inode **out)
{
    if (dir->nlink == 0)
        return -ENOENT; /* a removed directory */
    struct inode *ino = vfs_new_inode(mode, dir->dev, 0);
    if (!ino)
        return -ENOSPC;
    const struct cred *c = &current_process()->cred;
    ino->uid = c->uid[ID_FS];
    ino->gid = (dir->mode & S_ISGID) ? dir->gid : c->gid[ID_FS];
    if (S_ISDIR(mode) && (dir->mode & S_ISGID))
        ino->mode |= S_ISGID; /* a set-group-ID directory's subdirectories inherit it */
    if (vfs_link(dir, name, len, ino, true)) {
        kfree(ino);
        return -ENOSPC;
    }
    vfs_touch(dir, T_MTIME | T_CTIME);
    *out = ino;
    return 0;
}

int vfs_unlink(struct inode *dir, const char *name, uint32_t len)
{
    struct dirent_node *d = vfs_entry(dir, name, len);
    if (!d)
        return -ENOENT;
    remove_entry(dir, d);
    struct inode *child = d->inode;
    kfree(d);
    uncount_link(dir, child);
    vfs_touch(dir, T_MTIME | T_CTIME);
    return 0;
}

void vfs_swap(struct dirent_node *d, struct inode *child)
{
    d->inode = child;
}

void vfs_replace(struct inode *dir, struct dirent_node *d, struct inode *child)
{
    struct inode *old = d->inode;
    d->inode = child;
    count_link(dir, child);
    uncount_link(dir, old);
}

/* ---- path resolution ----
 * Resolution works on a private copy so that a symbolic link's target can be spliced in front of
 * the rest of the path. */
struct walk {
    char buf[PATH_MAX_LEN];
    char target[PATH_MAX_LEN];
    size_t len, pos;
    int links;
};

static int splice(struct walk *w, const char *target, size_t tlen, size_t rest)
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

long vfs_readlink(struct inode *ino, char *buf, size_t size)
{
    if (!S_ISLNK(ino->mode))
        return -EINVAL;
    if (ino->iops && ino->iops->readlink)
        return ino->iops->readlink(ino, buf, size);
    size_t n = MIN(size, ino->size);
    memcpy(buf, ino->data, n);
    return (long)n;
}

/* Walks w from cur. With want_parent, stops before the last component and returns it. */
static int walk(struct walk *w, struct inode *cur, unsigned flags, bool want_parent,
                struct inode **out, size_t *last_start, size_t *last_len)
{
    for (;;) {
        while (w->pos < w->len && w->buf[w->pos] == '/') /* a run of slashes is one */
            w->pos++;
        if (w->pos >= w->len)
            break;
        size_t start = w->pos;
        while (w->pos < w->len && w->buf[w->pos] != '/')
            w->pos++;
        size_t nlen = w->pos - start;
        bool last = true;
        for (size_t i = w->pos; i < w->len; i++)
            if (w->buf[i] != '/') {
                last = false;
                break;
            }
        if (nlen > NAME_MAX_LEN)
            return -ENAMETOOLONG;
        if (!S_ISDIR(cur->mode))
            return -ENOTDIR;
        if (cred_may_access(cur, MAY_EXEC)) /* search permission */
            return -EACCES;
        const char *name = w->buf + start;
        if (last && want_parent) {
            *out = cur;
            *last_start = start;
            *last_len = nlen;
            return 0;
        }
        if (nlen == 1 && name[0] == '.')
            continue;
        if (nlen == 2 && name[0] == '.' && name[1] == '.') {
            /* a removed directory has no parent any more (it may be freed): Linux says ENOENT */
            if (cur->nlink == 0)
                return -ENOENT;
            cur = cur->parent; /* the root is its own parent: no way out */
            continue;
        }
        struct inode *next = vfs_child(cur, name, (uint32_t)nlen);
        if (!next)
            return -ENOENT;
        if (S_ISLNK(next->mode) && (!last || (flags & LOOKUP_FOLLOW))) {
            if (++w->links > SYMLOOP_MAX)
                return -ELOOP;
            if (next->iops && next->iops->follow) {
                struct inode *t = next->iops->follow(next);
                if (!t && !last)
                    return -ENOTDIR;
                cur = t ? t : next; /* a magic link to an object outside the tree */
                continue;
            }
            long tlen = vfs_readlink(next, w->target, sizeof(w->target));
            if (tlen < 0)
                return (int)tlen;
            if (tlen == 0)
                return -ENOENT;
            int err = splice(w, w->target, (size_t)tlen, w->pos);
            if (err)
                return err;
            if (w->buf[0] == '/')
                cur = vfs_root();
            /* a relative target continues from the directory holding the link (cur) */
            continue;
        }
        cur = next;
    }
    if (want_parent)
        return -EEXIST; /* "/", or a path ending in "." or ".." */
    if ((flags & LOOKUP_DIRECTORY) && !S_ISDIR(cur->mode))
        return -ENOTDIR;
    *out = cur;
    return 0;
}

/* Scratch for one lookup at a time (too big for the kernel stack): a walk never blocks, and
 * the kernel lock is held throughout (process.h, the rule for blocking code). */
static struct walk g_walk;

static int walk_init(struct walk *w, const char *path)
{
    w->len = strnlen(path, sizeof(w->buf));
    if (w->len >= sizeof(w->buf))
        return -ENAMETOOLONG;
    if (w->len == 0)
        return -ENOENT;
    memcpy(w->buf, path, w->len + 1);
    w->pos = 0;
    w->links = 0;
    return 0;
}

int vfs_lookup(struct inode *base, const char *path, unsigned flags, struct inode **out)
{
    struct walk *w = &g_walk;
    int err = walk_init(w, path);
    if (err)
        return err;
    if (w->buf[w->len - 1] == '/')
        flags |= LOOKUP_DIRECTORY | LOOKUP_FOLLOW;
    struct inode *cur = w->buf[0] == '/' ? vfs_root() : (base ? base : vfs_cwd());
    return walk(w, cur, flags, false, out, NULL, NULL);
}

int vfs_lookup_parent(struct inode *base, const char *path, struct inode **dir, char *name,
                      uint32_t *len)
{
    struct walk *w = &g_walk;
    int err = walk_init(w, path);
    if (err)
        return err;
    struct inode *cur = w->buf[0] == '/' ? vfs_root() : (base ? base : vfs_cwd());
    size_t start = 0, nlen = 0;
    err = walk(w, cur, 0, true, dir, &start, &nlen);
    if (err == -EEXIST) {
        *dir = cur; /* "/" itself */
        name[0] = 0;
        *len = 0;
        return -EEXIST;
    }
    if (err)
        return err;
    const char *n = w->buf + start;
    memcpy(name, n, nlen);
    name[nlen] = 0;
    *len = (uint32_t)nlen;
    if ((nlen == 1 && n[0] == '.') || (nlen == 2 && n[0] == '.' && n[1] == '.'))
        return -EEXIST;
    return 0;
}

long vfs_path_of(struct inode *ino, char *buf, size_t size)
{
    /* walk up collecting names, then write them root first */
    const struct dirent_node *names[256];
    int depth = 0;
    for (struct inode *d = ino; d != vfs_root();) {
        if (depth == 256)
            return -ENAMETOOLONG;
        struct inode *p = d->parent;
        if (!p || d->nlink == 0)
            return -ENOENT;
        const struct dirent_node *found = NULL;
        for (const struct dirent_node *e = p->children; e && !found; e = e->next)
            if (e->inode == d)
                found = e;
        if (!found)
            return -ENOENT;
        names[depth++] = found;
        d = p;
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
    st->st_dev = ino->dev;
    st->st_ino = ino->ino;
    st->st_nlink = ino->nlink;
    st->st_mode = ino->mode;
    st->st_uid = ino->uid;
    st->st_gid = ino->gid;
    st->st_size = S_ISDIR(ino->mode) ? 4096 : (int64_t)ino->size;
    st->st_blksize = 4096;
    st->st_blocks = S_ISDIR(ino->mode) ? 8 : (int64_t)((ino->size + 4095) / 4096 * 8);
    if (S_ISCHR(ino->mode))
        st->st_rdev = ino->arg;
    st->st_atime_sec = ino->atime_ns / 1000000000;
    st->st_atime_nsec = ino->atime_ns % 1000000000;
    st->st_mtime_sec = ino->mtime_ns / 1000000000;
    st->st_mtime_nsec = ino->mtime_ns % 1000000000;
    st->st_ctime_sec = ino->ctime_ns / 1000000000;
    st->st_ctime_nsec = ino->ctime_ns % 1000000000;
}
