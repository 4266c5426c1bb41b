/* pipe.h: anonymous pipes (fs/pipe.c). */
#ifndef ALCOVE_PIPE_H
#define ALCOVE_PIPE_H

#include "file.h"

/* F_GETPIPE_SZ and F_SETPIPE_SZ on f: the capacity in bytes, or -errno (-EBADF: not a pipe). */
long pipe_fcntl(struct file *f, int cmd, uint64_t arg);

#endif
