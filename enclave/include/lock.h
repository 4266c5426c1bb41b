/* lock.h: advisory file locks between the enclave's processes (fs/lock.c): flock(2) locks and
 * record locks (fcntl), POSIX ones owned by a process and open-file-description ones owned by an
 * open file. Locks are kept per inode; the kernel lock guards them like everything else. */
#ifndef ALCOVE_LOCK_H
#define ALCOVE_LOCK_H

#include "kernel.h"

struct file;
struct inode;
struct process;

/* fcntl's F_GETLK, F_SETLK, F_SETLKW and their F_OFD_ forms on f with *fl (the caller has
 * checked the type, whence and access mode): 0 (F_GETLK: *fl rewritten), -EAGAIN (held by
 * another), -EINVAL, -EOVERFLOW, -ENOLCK, -ERESTARTSYS (a signal ended a wait). */
long lock_record(struct file *f, int cmd, struct linux_flock *fl);
/* flock(2) on f: LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB. 0, -EAGAIN, -ENOLCK, -ERESTARTSYS.
 */
long lock_flock(struct file *f, int op);
/* Process p closed a descriptor of ino: its POSIX locks on ino go (Linux's rule, whichever
 * descriptor they were taken through). */
void lock_close(struct inode *ino, const struct process *p);
/* The last reference to the open file f goes: its flock and open-file-description locks go. */
void lock_release_file(struct file *f);

#endif
