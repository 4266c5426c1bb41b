/* vfs.h: the enclave's file system: one tree of in-memory inodes under a root. The application
 * ramdisk's files are served in place (their bytes stay where the monitor put the ramdisk); path
 * lookup follows Linux: ".", "..", symbolic links (at most 40), and ".." never leaves the root.
 */
#ifndef ALCOVE_VFS_H
#define ALCOVE_VFS_H

#include "kernel.h"

struct inode;

struct dirent_node {
    const char *name; /* not NUL-terminated */
    uint32_t name_len;
    struct inode *inode;
    struct dirent_node *next;
};

struct inode {
    uint32_t mode; /* S_IF* | permission bits */
    uint32_t nlink;
    uint64_t ino;
    uint64_t size;        /* bytes (file, symlink target) */
    int64_t mtime;        /* seconds */
    const uint8_t *data;  /* file bytes or symlink target (read-only, in the ramdisk) */
    struct inode *parent; /* directories: ".." */
    struct dirent_node *children, *last_child;
    uint32_t nchildren;
    bool readonly; /* part of the image: EROFS for writes */
};

#define S_ISDIR(m) (((m)&S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m)&S_IFMT) == S_IFREG)
#define S_ISLNK(m) (((m)&S_IFMT) == S_IFLNK)

#define PATH_MAX_LEN 4096
#define SYMLOOP_MAX  40

/* lookup flags */
#define LOOKUP_FOLLOW    0x1 /* follow a symbolic link in the last component */
#define LOOKUP_DIRECTORY 0x2 /* the result must be a directory (a trailing '/' implies it) */

struct inode *vfs_root(void);
struct inode *vfs_cwd(void);
void vfs_set_cwd(struct inode *dir);

/* A new inode (kernel heap, never freed). NULL when out of memory. */
struct inode *vfs_new_inode(uint32_t mode);
/* Adds name -> child to dir. 0 or -ENOMEM. */
int vfs_link(struct inode *dir, const char *name, uint32_t len, struct inode *child);
/* The child of dir called name, or NULL. */
struct inode *vfs_child(struct inode *dir, const char *name, uint32_t len);

/* Resolves path from base (the cwd or a directory descriptor's inode; ignored for absolute
 * paths). 0 and *out, or -ENOENT, -ENOTDIR, -ELOOP, -ENAMETOOLONG. */
int vfs_lookup(struct inode *base, const char *path, unsigned flags, struct inode **out);

/* Writes the absolute path of dir into buf (NUL-terminated). Length, or -ERANGE. */
long vfs_path_of(struct inode *dir, char *buf, size_t size);

/* Fills a stat buffer from an inode. */
void vfs_stat(const struct inode *ino, struct linux_stat *st);

/* fs/ramfs.c: builds the tree from the application ramdisk (newc cpio with rootfs/..., cmd and
 * env). Returns 0 or -errno; the cmd and env files are returned (NULL, 0 when absent). */
int ramfs_load(const uint8_t *cpio, size_t size, const uint8_t **cmd, size_t *cmd_len,
               const uint8_t **env, size_t *env_len);

/* fs/open.c: an open file description for an inode (regular file or directory). */
struct file;
struct file *vfs_open_inode(struct inode *ino, uint32_t flags);

#endif
