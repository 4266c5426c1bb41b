/* pipe.h: pipes and FIFOs (fs/pipe.c). */
#ifndef ALCOVE_PIPE_H
#define ALCOVE_PIPE_H

#include "file.h"

/* F_GETPIPE_SZ and F_SETPIPE_SZ on f: the capacity in bytes, or -errno (-EBADF: not a pipe). */
long pipe_fcntl(struct file *f, int cmd, uint64_t arg);

/* /proc/<pid>/fd/N of a pipe opened again: a new end of f's pipe with flags' access. -ENXIO when
 * f is not a pipe. */
int pipe_reopen(struct file *f, uint32_t flags, struct file **out);
/* splice and tee (sys/splice.c). pipe_is: f is an end of a pipe or FIFO; pipe_same: a and b
 * (both pipes) are ends of one pipe. */
bool pipe_is(const struct file *f);
bool pipe_same(const struct file *a, const struct file *b);
/* Copies up to len bytes from the front of f's pipe without consuming them, after waiting as
 * read does (unless nonblock) for data or for no writer: the bytes, 0 at the end (empty, no
 * writer), -EAGAIN or -ERESTARTSYS. */
long pipe_peek(struct file *f, void *buf, size_t len, bool nonblock);
/* Drops the first n bytes of f's pipe (those a pipe_peek copied and the caller moved on). */
void pipe_consume(struct file *f, size_t n);
/* Waits (unless nonblock) until f's pipe has a free slot: the bytes that fit without waiting
 * (free slots times the page size), -EAGAIN, -EPIPE (SIGPIPE raised, as write), or
 * -ERESTARTSYS. */
long pipe_wait_room(struct file *f, bool nonblock);
/* Makes ino, a new S_IFIFO inode, a FIFO: opening it opens an end of its pipe. */
struct inode;
void fifo_init(struct inode *ino);

#endif
