/* mount.c: the mount table. The enclave has one tree: mounting a file system at a directory
 * replaces the entry that names that directory with the new file system's root (vfs_replace),
 * and the table remembers what the entry named before, so that unmounting can put it back. The
 * enclave's own mounts (the root, /dev, /proc, /tmp, /dev/shm, the image's tmpfs list) are in
 * the table too, for /proc/mounts, and stay; mount(2) adds tmpfs mounts that umount2(2) removes
 * (sys/mount.c).
 *
 * Lifetime: a mount's root is I_MOUNT (never freed, not removable) while it is mounted; the
 * directory it covers is held (a reference) until it is named again. Everything is guarded by
 * the kernel lock, like the rest of the tree.
 */
#include "klib.h"
#include "procfs.h"
#include "vfs.h"

struct mount {
    struct inode *root;    /* the mounted file system's root */
    struct inode *dir;     /* the directory holding the entry that names it */
    struct inode *covered; /* what that entry named before, held; NULL: nothing */
    char source[64];       /* what /proc/mounts shows first ("tmpfs", "proc" ...) */
    char type[16];
    char opts[64];
    bool user;    /* made by mount(2): umount2 may remove it */
    bool expired; /* MNT_EXPIRE asked once */
    struct mount *next;
};

static struct mount *g_mounts, **g_mounts_tail = &g_mounts;

/* The entry of dir that names ino, or NULL. */
static struct dirent_node *entry_naming(struct inode *dir, const struct inode *ino)
{
    for (struct dirent_node *d = dir->children; d; d = d->next)
        if (d->inode == ino)
            return d;
    return NULL;
}

int mount_at(struct inode *dir, const char *name, uint32_t len, struct inode *root,
             const char *source, const char *type, const char *opts, bool user)
{
    struct mount *m = kzalloc(sizeof(*m));
    if (!m)
        return -ENOMEM;
    struct dirent_node *d = vfs_entry(dir, name, len);
    if (d) {
        if (!S_ISDIR(d->inode->mode)) {
            kfree(m);
            return -ENOTDIR;
        }
        m->covered = d->inode;
        vfs_get(m->covered); /* held while nothing names it */
        vfs_swap(d, root);
        root->parent = dir;
        root->nlink = 2; /* its name and its "."; the covered one keeps counting in dir */
    } else {
        int err = vfs_link(dir, name, len, root, true);
        if (err) {
            kfree(m);
            return err;
        }
    }
    root->flags |= I_MOUNT;
    m->root = root;
    m->dir = dir;
    strlcpy(m->source, source, sizeof(m->source));
    strlcpy(m->type, type, sizeof(m->type));
    strlcpy(m->opts, opts, sizeof(m->opts));
    m->user = user;
    *g_mounts_tail = m;
    g_mounts_tail = &m->next;
    return 0;
}

/* True when ino lies in the tree under root (root included). */
static bool under(const struct inode *ino, const struct inode *root)
{
    for (;;) {
        if (ino == root)
            return true;
        if (ino == vfs_root() || !ino->parent || ino->nlink == 0)
            return false;
        ino = ino->parent;
    }
}

int mount_on(struct inode *target, struct inode *root, const char *source, const char *type,
             const char *opts)
{
    struct inode *dir = target->parent;
    struct dirent_node *d = target->nlink && dir ? entry_naming(dir, target) : NULL;
    if (!d)
        return -ENOENT; /* removed */
    return mount_at(dir, d->name, d->name_len, root, source, type, opts, true);
}

static struct mount **find(const struct inode *root)
{
    for (struct mount **pm = &g_mounts; *pm; pm = &(*pm)->next)
        if ((*pm)->root == root)
            return pm;
    return NULL;
}

/* True when something uses the tree under root: an open file or working directory in it (an
 * inode with references, which a file mapping holds too), or another mount inside it. */
static bool tree_busy(struct inode *root)
{
    if (root->refs)
        return true;
    struct inode *dir = root;
    struct dirent_node *d = root->children;
    for (;;) {
        if (d) {
            struct inode *c = d->inode;
            if (c->refs || (c->flags & I_MOUNT))
                return true;
            if (S_ISDIR(c->mode) && c->children) {
                dir = c;
                d = c->children;
            } else {
                d = d->next;
            }
            continue;
        }
        if (dir == root)
            return false;
        struct inode *up = dir->parent;
        d = entry_naming(up, dir)->next; /* dir's siblings after it */
        dir = up;
    }
}

/* Removes every name under root, deepest first: what nothing uses is freed now, the rest when
 * its last user lets go (a detached tree). */
static void tree_remove(struct inode *root)
{
    struct inode *dir = root;
    for (;;) {
        struct dirent_node *d = dir->children;
        if (d && S_ISDIR(d->inode->mode) && d->inode->children) {
            dir = d->inode;
            continue;
        }
        if (d) {
            vfs_unlink(dir, d->name, d->name_len);
            continue;
        }
        if (dir == root)
            return;
        dir = dir->parent; /* now empty: removed from there next */
    }
}

int mount_remove(struct inode *root, bool detach, bool expire)
{
    if (root == vfs_root())
        return -EBUSY;
    struct mount **pm = find(root);
    if (!pm)
        return -EINVAL; /* not a mount point */
    struct mount *m = *pm;
    if (!m->user)
        return -EBUSY; /* the enclave's own */
    for (struct mount *o = g_mounts; o; o = o->next)
        if (o != m && (o->covered == root || under(o->dir, root)))
            return -EBUSY; /* a mount over it or inside it: unmount that one first */
    if (!detach && tree_busy(root))
        return -EBUSY;
    if (expire && !m->expired) {
        m->expired = true;
        return -EAGAIN; /* Linux: marked; a second MNT_EXPIRE removes it if still unused */
    }
    struct dirent_node *d = entry_naming(m->dir, root);
    KASSERT(d); /* nothing covers it (above), and a mount's root cannot be renamed or removed */
    tree_remove(root);
    root->flags &= ~I_MOUNT;
    if (m->covered) {
        vfs_swap(d, m->covered);
        vfs_put(m->covered);
        vfs_drop(root); /* freed unless a detached user still holds it */
    } else {
        vfs_unlink(m->dir, d->name, d->name_len);
    }
    *pm = m->next;
    if (g_mounts_tail == &m->next)
        g_mounts_tail = pm;
    kfree(m);
    return 0;
}

bool mount_is_root(const struct inode *ino)
{
    return ino == vfs_root() || find(ino) != NULL;
}

void mount_gen_list(struct text *t)
{
    tprintf(t, "rootfs / rootfs ro 0 0\n");
    char path[PATH_MAX_LEN];
    for (const struct mount *m = g_mounts; m; m = m->next)
        if (vfs_path_of(m->root, path, sizeof(path)) > 0)
            tprintf(t, "%s %s %s %s 0 0\n", m->source, path, m->type, m->opts);
}
