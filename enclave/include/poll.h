/* poll.h: readiness of open files, for poll, select and epoll (sys/poll.c, sys/epoll.c).
 *
 * A file says how ready it is now through its ops->poll (POLL* bits). A file whose readiness
 * may have changed calls poll_notify, as Linux wakes a wait queue: the threads waiting on it
 * (kernel/wait.c, wait_on_file) are woken, and the epoll items watching it join their ready
 * lists (edge-triggered interest needs the events, not just the state). Files that do this
 * every time say so (file_ops.notifies); a wait on any other file looks again after every
 * syscall. The descriptor table calls poll_file_release when any file goes away.
 */
#ifndef ALCOVE_POLL_H
#define ALCOVE_POLL_H

#include "file.h"

/* What regular files and others without a poll op answer: always readable and writable. */
#define POLL_DEFAULT_MASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

/* f's readiness now (POLL* bits). */
static inline uint32_t file_poll(struct file *f)
{
    return f->ops->poll ? f->ops->poll(f) : POLL_DEFAULT_MASK;
}

/* f's readiness may have changed: key holds the POLL* bits that may have become true (0: any).
 * Wakes the threads waiting on f and marks the epoll items that watch f for those bits ready
 * (sys/epoll.c). */
void poll_notify(struct file *f, uint32_t key);
/* f is being released: removes it from every epoll set (sys/epoll.c; fs/fdtable.c calls it). */
void poll_file_release(struct file *f);

/* ---- shared by poll.c and epoll.c ---- */
/* The CLOCK_MONOTONIC time sec.nsec from now; WAIT_FOREVER when that would overflow. */
/* A user timespec timeout (0: none): *deadline (WAIT_FOREVER without one) and *zero (a timeout
 * of 0: never block). 0, -EFAULT or -EINVAL. */
long poll_timeout_from_user(uint64_t uts, int64_t *deadline, bool *zero);
int64_t poll_deadline(int64_t sec, int64_t nsec);
/* The mask argument of ppoll, pselect6 and epoll_pwait, in force for the call. */
struct poll_sigmask {
    bool active;
    uint64_t saved, mask;
};
/* umask 0: none. Checks it (-EINVAL for a size other than 8, -EFAULT) and puts it in force. */
long poll_sigmask_begin(uint64_t umask, uint64_t size, struct poll_sigmask *m);
/* Ends the call's mask: the old one comes back now, or, when the call was interrupted, after
 * the signal's handler (its frame saves the old mask), as Linux does. */
void poll_sigmask_end(const struct poll_sigmask *m, bool interrupted);

#endif
