/* mount.c: mount and umount2. A privileged process may mount an empty tmpfs on a directory and
 * unmount it again (the mount table is fs/mount.c); propagation changes (MS_PRIVATE, MS_SHARED,
 * MS_SLAVE, MS_UNBINDABLE) succeed on a mount point and change nothing, since the enclave has one
 * mount namespace and nothing to propagate to. Other file system types are ENODEV; bind mounts,
 * moves and remounts are EINVAL (not there). The checks come in Linux's order: the strings, the
 * target's lookup, privilege, then the flags and the file system. */
#include "../fs/procfs.h"
#include "fs_common.h"
#include "klib.h"
#include "syscall.h"

#define MS_RDONLY      0x1
#define MS_REMOUNT     0x20
#define MS_BIND        0x1000
#define MS_MOVE        0x2000
#define MS_REC         0x4000
#define MS_UNBINDABLE  (1 << 17)
#define MS_PRIVATE     (1 << 18)
#define MS_SLAVE       (1 << 19)
#define MS_SHARED      (1 << 20)
#define MS_PROPAGATION (MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED)
#define MS_NOUSER      (1ul << 31)
#define MS_MGC_VAL     0xc0ed0000ul
#define MS_MGC_MSK     0xffff0000ul

#define MNT_FORCE       1
#define MNT_DETACH      2
#define MNT_EXPIRE      4
#define UMOUNT_NOFOLLOW 8

#define MOUNT_DATA_MAX 4096 /* Linux copies at most a page of options */

/* A string argument of at most max - 1 bytes: 0, -EFAULT, or -ENAMETOOLONG/-EINVAL (too long). */
static long get_string(uint64_t u, char *buf, size_t max, long too_long)
{
    long n = strncpy_from_user(buf, u, max);
    if (n < 0)
        return n;
    return (size_t)n >= max ? too_long : 0;
}

/* An unsigned number in base (8 or 10) that ends the option: 0 or -EINVAL. */
static int parse_num(const char *s, size_t len, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] >= '0' + (int)base)
            return -EINVAL;
        v = v * base + (uint64_t)(s[i] - '0');
        if (v > UINT32_MAX)
            return -EINVAL;
    }
    *out = v;
    return 0;
}

struct tmpfs_opts {
    uint32_t mode, uid, gid;
    bool ro;
};

/* A size: digits with an optional k, m, g, t, p, e (or %, when percent) suffix. */
static bool is_size(const char *s, size_t len, bool percent)
{
    size_t digits = 0;
    while (digits < len && s[digits] >= '0' && s[digits] <= '9')
        digits++;
    if (digits == 0)
        return false;
    if (digits == len)
        return true;
    char c = s[digits] | 0x20;
    return digits + 1 == len && (strchr("kmgtpe", c) || (percent && s[digits] == '%'));
}

static bool is_word(const char *s, size_t len, const char *w)
{
    return strlen(w) == len && memcmp(s, w, len) == 0;
}

/* tmpfs's comma-separated options: mode=, uid=, gid= are applied; size=, nr_blocks= and
 * nr_inodes= are checked and not enforced (the enclave's memory is the limit of every tmpfs);
 * ro and rw as the flags; the generic flags (sync, dirsync, lazytime, mand, posixacl) and
 * tmpfs's huge=, mpol=, inode32, inode64, noswap are accepted and change nothing here.
 * Anything else is EINVAL, as Linux's tmpfs answers. */
static int parse_tmpfs_opts(char *data, struct tmpfs_opts *o)
{
    for (char *p = data; *p;) {
        char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t klen = 0;
        while (klen < len && p[klen] != '=')
            klen++;
        const char *eq = klen < len ? p + klen : NULL;
        const char *val = eq ? eq + 1 : NULL;
        size_t vlen = eq ? len - klen - 1 : 0;
        uint64_t v = 0;
        int err = 0;
        if (len == 0) {
            /* an empty option between commas: skipped, as Linux does */
        } else if (klen == 4 && !memcmp(p, "mode", 4) && val) {
            err = parse_num(val, vlen, 8, &v);
            o->mode = (uint32_t)v & 07777;
        } else if (klen == 3 && !memcmp(p, "uid", 3) && val) {
            err = parse_num(val, vlen, 10, &v);
            o->uid = (uint32_t)v;
        } else if (klen == 3 && !memcmp(p, "gid", 3) && val) {
            err = parse_num(val, vlen, 10, &v);
            o->gid = (uint32_t)v;
        } else if (val && is_word(p, klen, "size")) {
            err = is_size(val, vlen, true) ? 0 : -EINVAL;
        } else if (val && (is_word(p, klen, "nr_blocks") || is_word(p, klen, "nr_inodes"))) {
            err = is_size(val, vlen, false) ? 0 : -EINVAL;
        } else if (val && (is_word(p, klen, "huge") || is_word(p, klen, "mpol"))) {
            err = vlen ? 0 : -EINVAL;
        } else if (!val && (is_word(p, len, "sync") || is_word(p, len, "dirsync") ||
                            is_word(p, len, "lazytime") || is_word(p, len, "mand") ||
                            is_word(p, len, "posixacl") || is_word(p, len, "inode32") ||
                            is_word(p, len, "inode64") || is_word(p, len, "noswap"))) {
            /* accepted: nothing to change */
        } else if (len == 2 && !memcmp(p, "ro", 2)) {
            o->ro = true;
        } else if (len == 2 && !memcmp(p, "rw", 2)) {
            o->ro = false;
        } else {
            err = -EINVAL;
        }
        if (err)
            return err;
        p += len + (end ? 1 : 0);
    }
    return 0;
}

SYSCALL_DEFINE5(mount, uint64_t, usource, uint64_t, utarget, uint64_t, utype, uint64_t, flags,
                uint64_t, udata)
{
    char type[64] = "", source[64] = "", *data = kzalloc(MOUNT_DATA_MAX + 1);
    long err = data ? 0 : -ENOMEM;
    if (!err && utype)
        err = get_string(utype, type, sizeof(type), -ENODEV);
    if (!err && usource) {
        long n = strncpy_from_user(source, usource, sizeof(source)); /* shown, not used */
        err = n < 0 && n != -ENAMETOOLONG ? n : 0;                   /* a long one is shown cut */
        source[sizeof(source) - 1] = 0;
    }
    if (!err && udata)
        err = get_string(udata, data, MOUNT_DATA_MAX + 1, -EINVAL);
    struct inode *target = NULL;
    if (!err)
        err = resolve_at(AT_FDCWD, utarget, 0, LOOKUP_FOLLOW, &target);
    if ((flags & MS_MGC_MSK) == MS_MGC_VAL)
        flags &= ~MS_MGC_MSK; /* the old magic number in the top half */
    if (!err && (flags & MS_NOUSER))
        err = -EINVAL;
    if (!err && !cred_privileged())
        err = -EPERM;
    if (err) {
    } else if (flags & (MS_REMOUNT | MS_BIND | MS_MOVE)) {
        err = -EINVAL; /* not there: remounts, bind mounts, moves */
    } else if (flags & MS_PROPAGATION) {
        if ((flags & ~(MS_PROPAGATION | MS_REC | 0x8000 /* MS_SILENT */)) ||
            __builtin_popcountll(flags & MS_PROPAGATION) != 1 || !mount_is_root(target))
            err = -EINVAL;
    } else if (!utype) {
        err = -EINVAL;
    } else if (strcmp(type, "tmpfs") != 0) {
        err = -ENODEV;
    } else if (!S_ISDIR(target->mode)) {
        err = -ENOTDIR;
    } else if (target == vfs_root()) {
        err = -EBUSY; /* the root stays */
    } else if (procfs_in_pid_dir(target)) {
        err = -EINVAL; /* /proc/<pid> goes with its process: nothing can stay mounted there */
    } else {
        const struct cred *c = &current_process()->cred;
        struct tmpfs_opts o = {01777, c->uid[ID_FS], c->gid[ID_FS], flags & MS_RDONLY};
        err = parse_tmpfs_opts(data, &o);
        struct inode *root = err ? NULL : tmpfs_new_root(o.mode);
        if (!err && !root)
            err = -ENOMEM;
        if (!err) {
            root->uid = o.uid;
            root->gid = o.gid;
            if (o.ro)
                root->flags |= I_READONLY;
            err = mount_on(target, root, *source ? source : "none", "tmpfs", o.ro ? "ro" : "rw");
            if (err)
                vfs_drop(root);
        }
    }
    kfree(data);
    return err;
}

SYSCALL_DEFINE2(umount2, uint64_t, utarget, int, flags)
{
    if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
        return -EINVAL;
    struct inode *target;
    int err =
        resolve_at(AT_FDCWD, utarget, 0, (flags & UMOUNT_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &target);
    if (err)
        return err;
    if (!cred_privileged())
        return -EPERM;
    if ((flags & MNT_EXPIRE) && (flags & (MNT_FORCE | MNT_DETACH)))
        return -EINVAL;
    return mount_remove(target, flags & MNT_DETACH, flags & MNT_EXPIRE);
}
