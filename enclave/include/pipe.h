/* pipe.h: pipes and FIFOs (fs/pipe.c). */
#ifndef ALCOVE_PIPE_H
#define ALCOVE_PIPE_H

#include "file.h"

/* F_GETPIPE_SZ and F_SETPIPE_SZ on f: the capacity in bytes, or -errno (-EBADF: not a pipe). */
long pipe_fcntl(struct file *f, int cmd, uint64_t arg);

/* /proc/<pid>/fd/N of a pipe opened again: a new end of f's pipe with flags' access. -ENXIO when
 * f is not a pipe. */
int pipe_reopen(struct file *f, uint32_t flags, struct file **out);
/* Makes ino, a new S_IFIFO inode, a FIFO: opening it opens an end of its pipe. */
struct inode;
void fifo_init(struct inode *ino);

#endif
