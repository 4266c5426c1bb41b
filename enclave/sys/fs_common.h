/* fs_common.h: what the path syscalls (sys/fs.c, sys/fs_change.c) share. */
#ifndef ALCOVE_FS_COMMON_H
#define ALCOVE_FS_COMMON_H

#include "kernel.h"
#include "mm.h"
#include "process.h"
#include "vfs.h"

/* The directory a *at() call starts from: the cwd, or dirfd's directory. */
int base_dir(int dirfd, struct inode **out);
/* Copies a user path (at most PATH_MAX_LEN bytes with the NUL): its length or -errno. */
long get_path(uint64_t upath, char *path);
/* Resolves (dirfd, path) with *at() semantics; AT_EMPTY_PATH with "" names dirfd itself. */
int resolve_at(int dirfd, uint64_t upath, int at_flags, unsigned lookup, struct inode **out);
/* The same for a path the kernel holds already. */
int resolve_path_at(int dirfd, const char *path, int at_flags, unsigned lookup, struct inode **out);
/* vfs_lookup_parent from dirfd. */
int parent_at(int dirfd, const char *path, struct inode **dir, char *name, uint32_t *len);
/* The caller may add names to dir and remove them (write and search permission: -EACCES), and
 * may remove victim from it (NULL: nothing is removed), which a sticky directory allows only
 * to the owner of one or the other (-EPERM). */
int dir_may_change(const struct inode *dir, const struct inode *victim);
/* stat of a looked-up inode; followed: the lookup followed links (magic links stat their
 * object). */
int getattr(struct inode *ino, bool followed, struct linux_stat *st);

#endif
