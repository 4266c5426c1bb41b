/* pidfd.h: process descriptors (sys/pidfd.c): pidfd_open's files, which refer to one process
 * for as long as they are open, whether it runs, has ended or has been reaped. */
#ifndef ALCOVE_PIDFD_H
#define ALCOVE_PIDFD_H

#include "file.h"

struct process;
struct pidfd;

/* The process f refers to (it stays allocated while f is open), or NULL when f is not a
 * pidfd. */
struct process *pidfd_process(const struct file *f);
/* A new descriptor of the caller's for p (close-on-exec; flags: PIDFD_NONBLOCK), or -errno:
 * pidfd_open, clone's CLONE_PIDFD. */
int pidfd_install(struct process *p, uint32_t flags);
/* True while p is still there to be signalled or waited for: not yet reaped. */
bool pidfd_alive(const struct process *p);
/* p has ended (a zombie now): its pidfds become readable (kernel/process.c calls it). */
void pidfd_process_ended(struct process *p);

#endif
