/* vfs.h: the enclave's file system: one tree of in-memory inodes under a root.
 *
 * The image's files are served in place (their bytes stay in the application ramdisk) and are
 * read-only. Writable trees (tmpfs, fs/tmpfs.c) are mounted at /tmp, /dev/shm and where the image
 * asks; /dev (fs/devfs.c) and /proc (fs/procfs.c) are generated. Path lookup follows Linux: ".",
 * "..", symbolic links (at most 40), and ".." never leaves the root.
 *
 * Lifetime: an inode lives while it has a name (nlink > 0) or a user (refs: open files, the
 * working directory). Directory entries are kept in insertion order, each with a sequence number
 * that getdents positions use, so that entries removed during a listing do not make it skip
 * others; large directories get a hash table.
 */
#ifndef ALCOVE_VFS_H
#define ALCOVE_VFS_H

#include "kernel.h"
#include "wait.h"

struct inode;
struct file;

struct dirent_node {
    const char *name; /* not NUL-terminated */
    uint32_t name_len;
    uint32_t hash;
    uint64_t seq; /* getdents position of this entry (>= 2: 0 and 1 are "." and "..") */
    struct inode *inode;
    struct dirent_node *next, *prev; /* insertion order */
    struct dirent_node *hnext;       /* hash chain */
    bool name_owned;                 /* the name was allocated with the node */
};

/* Inodes whose behaviour is computed rather than stored (/dev, /proc). Every member may be NULL.
 */
struct inode_ops {
    /* Opens the inode: *out is a new file (or an existing one with a reference taken). */
    int (*open)(struct inode *ino, uint32_t flags, struct file **out);
    /* A symbolic link whose target is computed: writes it (no NUL), returns its length. */
    long (*readlink)(struct inode *ino, char *buf, size_t size);
    /* A "magic" link (/proc/self/fd/N): the inode it stands for, or NULL when its object is not
     * in the tree (a pipe, the console): lookup then stops at the link itself, and open and stat
     * go to the object through open and stat below. */
    struct inode *(*follow)(struct inode *link);
    int (*stat)(struct inode *ino, struct linux_stat *st);
    /* A directory whose entries are computed: lookup by name, and the index-th entry (returns 1
     * and fills name and *child, or 0 past the end). */
    struct inode *(*lookup)(struct inode *dir, const char *name, uint32_t len);
    int (*entry)(struct inode *dir, uint64_t index, char *name, size_t size, struct inode **child);
};

/* inode flags */
#define I_READONLY 0x1 /* part of the image (or generated): EROFS for changes */
#define I_MOUNT    0x2 /* the root of a mounted file system: never freed, not removable */
#define I_PINNED   0x4 /* never freed (generated inodes kept in tables) */
#define I_SEALABLE 0x8 /* a memfd: it has seals (sys/memfd.c) */

struct inode {
    uint32_t mode; /* S_IF* | permission bits */
    uint32_t nlink;
    uint32_t uid, gid;
    uint32_t flags; /* I_* */
    uint32_t dev;   /* st_dev: which file system */
    uint64_t ino;
    uint64_t refs; /* open files and working-directory references */
    uint64_t size; /* bytes (file, symlink target) */
    int64_t atime_ns, mtime_ns, ctime_ns;
    uint8_t *data; /* file bytes or symlink target (contiguous: the image's, small tmpfs files) */
    uint64_t cap;  /* bytes the kernel allocated for the file (0: data is the ramdisk's) */
    uint8_t **chunks; /* large tmpfs files: their bytes in 1 MiB pieces (fs/tmpfs.c) */
    uint64_t chunk_slots;
    /* the image's files (vfs_immutable): the frame of each page mapped so far, shared by every
     * mapping that reads it (mm/mm.c), and the next file that has such frames */
    uint64_t *pages;
    struct inode *pages_next;
    struct inode *parent; /* directories: ".." */
    /* directories */
    struct dirent_node *children, *last_child;
    struct dirent_node **buckets; /* hash table (NULL while the directory is small) */
    uint32_t nchildren, nbuckets;
    uint64_t next_seq;
    struct file_lock *locks;   /* advisory locks on it (fs/lock.c) */
    struct waitq lock_waiters; /* threads waiting for one of them to go (fs/lock.c) */
    /* regular files: descriptions open for writing (> 0), or address spaces running it as their
     * program (< 0); never both at once: the other side gets ETXTBSY (vfs_deny_write) */
    int32_t writers;
    /* a file with no name made by the kernel (memfd_create): what /proc/self/fd shows, kmalloc'd;
     * and its F_SEAL_* seals (I_SEALABLE) */
    char *anon_name;
    uint32_t seals;
    /* computed inodes */
    const struct inode_ops *iops;
    uint64_t arg; /* for iops: a descriptor number, a kind ... */
};

#define S_ISDIR(m)  (((m)&S_IFMT) == S_IFDIR)
#define S_ISREG(m)  (((m)&S_IFMT) == S_IFREG)
#define S_ISLNK(m)  (((m)&S_IFMT) == S_IFLNK)
#define S_ISCHR(m)  (((m)&S_IFMT) == S_IFCHR)
#define S_ISFIFO(m) (((m)&S_IFMT) == S_IFIFO)

#define PATH_MAX_LEN 4096
#define NAME_MAX_LEN 255
#define SYMLOOP_MAX  40

/* file system numbers (st_dev) */
#define DEV_ROOTFS 0x801
#define DEV_PROC   0x4
#define DEV_DEVFS  0x5
#define DEV_DEVPTS 0x16 /* /dev/pts (dev/pty.c) */
#define DEV_TMPFS  0x20 /* the first tmpfs; later ones count up */

/* device numbers (st_rdev) of the character devices in /dev */
#define DEVNUM(major, minor) (((uint64_t)(major) << 8) | (minor))
#define DEVNUM_NULL          DEVNUM(1, 3)
#define DEVNUM_ZERO          DEVNUM(1, 5)
#define DEVNUM_FULL          DEVNUM(1, 7)
#define DEVNUM_RANDOM        DEVNUM(1, 8)
#define DEVNUM_URANDOM       DEVNUM(1, 9)
#define DEVNUM_TTY           DEVNUM(5, 0)
#define DEVNUM_PTMX          DEVNUM(5, 2)

/* lookup flags */
#define LOOKUP_FOLLOW    0x1 /* follow a symbolic link in the last component */
#define LOOKUP_DIRECTORY 0x2 /* the result must be a directory (a trailing '/' implies it) */

struct inode *vfs_root(void);
struct inode *vfs_cwd(void);
void vfs_set_cwd(struct inode *dir);

/* A new inode with refs 0 and nlink 0 (vfs_link counts names). NULL when out of memory. */
struct inode *vfs_new_inode(uint32_t mode, uint32_t dev, uint32_t flags);
/* Takes and drops a reference; the last drop of an inode without names frees it. */
void vfs_get(struct inode *ino);
void vfs_put(struct inode *ino);
/* An inode that its owner held without a name in any directory (nlink set by the owner: /proc's
 * per-process links) loses that hold: it is freed now, or at its last vfs_put. */
void vfs_drop(struct inode *ino);

/* Adds name -> child to dir (the name is copied when copy_name, else it must outlive the entry).
 * 0 or -ENOMEM. */
int vfs_link(struct inode *dir, const char *name, uint32_t len, struct inode *child,
             bool copy_name);
/* Makes a new inode of this mode called name in dir (writable, on dir's file system): 0 and
 * *out, -ENOENT when dir has been removed, -ENOSPC when memory runs out. The caller has checked
 * that the name is free and dir writable. */
int vfs_create(struct inode *dir, const char *name, uint32_t len, uint32_t mode,
               struct inode **out);
/* Removes the entry called name from dir; the inode loses a name (and is freed when it has no
 * names and no users). 0 or -ENOENT. */
int vfs_unlink(struct inode *dir, const char *name, uint32_t len);
/* The entry called name in dir, or NULL. */
struct dirent_node *vfs_entry(struct inode *dir, const char *name, uint32_t len);
/* The child of dir called name, or NULL. */
struct inode *vfs_child(struct inode *dir, const char *name, uint32_t len);
/* Replaces what dir's entry d names: the old inode loses the name. */
void vfs_replace(struct inode *dir, struct dirent_node *d, struct inode *child);
/* Mounting: d names child from now on and no link count changes (fs/mount.c keeps the covered
 * directory's links as they were, so that a process inside it still sees a live directory). */
void vfs_swap(struct dirent_node *d, struct inode *child);

/* Resolves path from base (the cwd or a directory descriptor's inode; ignored for absolute
 * paths). 0 and *out, or -ENOENT, -ENOTDIR, -ELOOP, -ENAMETOOLONG. */
int vfs_lookup(struct inode *base, const char *path, unsigned flags, struct inode **out);
/* Resolves all but the last component of path: *dir, and the last name copied into name (room
 * for NAME_MAX_LEN + 1 bytes, NUL-terminated). A path whose last component is "." or ".." (or
 * that is "/", name "") gives -EEXIST, since nothing can be created under those names (name says
 * which); -ENOENT for "". */
int vfs_lookup_parent(struct inode *base, const char *path, struct inode **dir, char *name,
                      uint32_t *len);

/* Writes the absolute path of ino into buf (NUL-terminated): directories always; other inodes
 * when they still have a name (found through the directory they were created in). Length, or
 * -ERANGE, or -ENOENT. */
long vfs_path_of(struct inode *ino, char *buf, size_t size);
/* A symbolic link's target into buf (no NUL). Length or -errno. */
long vfs_readlink(struct inode *ino, char *buf, size_t size);

/* Fills a stat buffer from an inode. */
void vfs_stat(const struct inode *ino, struct linux_stat *st);
/* Sets atime/mtime/ctime to now (bits: 1 atime, 2 mtime, 4 ctime). */
#define T_ATIME 1
#define T_MTIME 2
#define T_CTIME 4
void vfs_touch(struct inode *ino, unsigned which);
bool vfs_writable(const struct inode *ino);
/* A regular file of the image: its bytes are the ramdisk's and never change. */
bool vfs_immutable(const struct inode *ino);

/* fs/ramfs.c: builds the tree from the application ramdisk (newc cpio with rootfs/..., cmd, env
 * and an optional "tmpfs" list of mount points). The cmd, env and tmpfs files are returned
 * (NULL, 0 when absent). */
struct ramdisk_files {
    const uint8_t *cmd, *env, *tmpfs;
    size_t cmd_len, env_len, tmpfs_len;
};
int ramfs_load(const uint8_t *cpio, size_t size, struct ramdisk_files *out);
/* The image's size for statfs: 4 KiB blocks (each file's and link's bytes rounded up, one per
 * directory) and inodes (the root included). */
void ramfs_usage(uint64_t *blocks, uint64_t *inodes);

/* fs/tmpfs.c: writable files. */
/* Mounts an empty tmpfs at the absolute path (created in the tree when missing). 0 or -errno. */
int tmpfs_mount(const char *path, uint32_t mode);
/* A regular file's bytes: reads [off, off + len) clipped at the end (bytes read), and writes
 * (growing the file; -EROFS for the image's files, -ENOSPC when memory runs out). */
long inode_read(struct inode *ino, void *buf, size_t len, uint64_t off);
long inode_write(struct inode *ino, const void *buf, size_t len, uint64_t off);
/* Makes room for at least need bytes of data in a writable file (new bytes are zero). */
int tmpfs_reserve(struct inode *ino, uint64_t need);
/* A hole punched in a writable file: [off, off + len) reads as zeros (clipped at its end; the
 * memory stays the file's); -EPERM when it is sealed against writing. */
int tmpfs_punch(struct inode *ino, uint64_t off, uint64_t len);
/* Sets the size of a writable file (zero-filling growth, releasing memory on shrink). */
int tmpfs_truncate(struct inode *ino, uint64_t size);
/* The physical address of the page of a writable file at off (page aligned, within its size
 * rounded up to a page): 0 and *pa, -ENXIO past the end (or for the image's files), -ENOSPC.
 * The file's bytes move into whole frames for it first: a MAP_SHARED mapping maps them. */
int tmpfs_page(struct inode *ino, uint64_t off, uint64_t *pa);
/* A new writable regular file of this mode with no name, on a tmpfs mounted nowhere (System V
 * shared memory segments, memfd_create): refs 0, nlink 0, size 0. NULL: no memory. */
struct inode *tmpfs_new_file(uint32_t mode);
/* sys/memfd.c: fcntl F_ADD_SEALS (seals) and F_GET_SEALS on f. */
long memfd_fcntl(struct file *f, int cmd, uint32_t seals);
/* Frees a writable file's data. */
void tmpfs_release_data(struct inode *ino);

/* fs/mount.c: the mount table. Mounts root (a directory inode, made I_MOUNT) at dir's entry
 * name, covering what that entry named (it must be a directory: -ENOTDIR); source, type and
 * opts are what /proc/mounts shows; user: made by mount(2), so that umount2 may remove it. */
int mount_at(struct inode *dir, const char *name, uint32_t len, struct inode *root,
             const char *source, const char *type, const char *opts, bool user);
/* mount(2): mounts root over the directory target (its entry), as a user mount. */
int mount_on(struct inode *target, struct inode *root, const char *source, const char *type,
             const char *opts);
/* Unmounts the mount whose root is root, putting back what it covered: -EINVAL (not a mount
 * point), -EBUSY (one of the enclave's own, in use, or with a mount inside), -EAGAIN (expire:
 * marked the first time). detach: in use is fine, its files stay usable until closed. */
int mount_remove(struct inode *root, bool detach, bool expire);
/* True when ino is the root of a mounted file system. */
bool mount_is_root(const struct inode *ino);
/* A new, empty tmpfs root directory (fs/tmpfs.c), to be mounted. NULL: no memory. */
struct inode *tmpfs_new_root(uint32_t mode);

/* fs/devfs.c and fs/procfs.c: mount /dev and /proc. */
int devfs_mount(void);
int procfs_mount(void);
/* A process is reaped: its /proc/<pid> goes (fs/procfs_pid.c). */
struct process;
void procfs_forget(struct process *p);

/* fs/open.c: an open file description for an inode (regular file or directory). */
struct file *vfs_open_inode(struct inode *ino, uint32_t flags);
/* Opens an inode as open(2) would after the lookup: computed inodes through their open op. */
int vfs_open(struct inode *ino, uint32_t flags, struct file **out);
/* The stat and release ops of files of the tree (for file_ops tables of other kinds of them). */
int vfs_file_stat(struct file *f, struct linux_stat *st);
void vfs_file_release(struct file *f);
/* A program runs from ino (which the caller made sure is not open for writing): opening it for
 * writing or truncating it gets ETXTBSY until the matching vfs_allow_write. */
void vfs_deny_write(struct inode *ino);
void vfs_allow_write(struct inode *ino);
/* A read-only file whose contents are text (kmalloc'd; the file owns it from now on). */
int vfs_open_snapshot(struct inode *ino, uint32_t flags, char *text, size_t len, struct file **out);

#endif
