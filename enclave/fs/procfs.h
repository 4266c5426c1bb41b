/* procfs.h: what the two halves of /proc share: the machine's files and the tree (procfs.c),
 * and the directory of each process (procfs_pid.c). Not a boundary: only fs/procfs*.c include it.
 */
#ifndef ALCOVE_FS_PROCFS_H
#define ALCOVE_FS_PROCFS_H

#include "klib.h"
#include "vfs.h"

/* A generated file's text, grown as it is written; failed once memory ran out. */
struct text {
    char *p;
    size_t len, cap;
    bool failed;
};

void tprintf(struct text *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
void tput(struct text *t, const void *bytes, size_t n);
/* Opens ino as a file whose contents are t's text (taken over: freed with the file). */
int procfs_open_text(struct inode *ino, uint32_t flags, struct text *t, struct file **out);

/* A new entry called name (a static string) in dir: a read-only inode of /proc. */
struct inode *procfs_add(struct inode *dir, const char *name, uint32_t mode);
/* True when ino lies in a /proc/<pid> directory (which goes with its process). */
bool procfs_in_pid_dir(const struct inode *ino);
/* /proc/mounts, the same for every process: the mount table (fs/mount.c). */
void mount_gen_list(struct text *t);

/* A decimal number of at most 9 digits without leading zeros (a pid, a descriptor), or -1. */
int procfs_parse_num(const char *name, uint32_t len);
/* /proc/<pid> of a live or zombie process, made the first time it is looked up (NULL: no such
 * process, or no memory); proc is /proc. */
struct inode *procfs_pid_dir(struct inode *proc, int pid);
/* The index-th process's directory for a listing of /proc: 1 with its name, 0 past the end. */
int procfs_pid_entry(struct inode *proc, uint64_t index, char *name, size_t size,
                     struct inode **child);

#endif
