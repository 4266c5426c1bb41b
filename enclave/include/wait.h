/* wait.h: blocking. When a syscall must wait (a pipe with no data, a sleep, stdin, poll), its
 * thread blocks (kernel/sched.c: another thread runs, or the vCPU idles in the monitor) until
 * something that could change the answer happens: another thread's syscall, host input, a
 * timer, a signal. */
#ifndef ALCOVE_WAIT_H
#define ALCOVE_WAIT_H

#include "kernel.h"

#define WAIT_FOREVER (-1ll)

/* A wait queue: the threads whose wait_until depends on one object (a file, a process's
 * children, an inode's locks). The object wakes them (waitq_wake) whenever what they wait for
 * may have changed; a wait queued on the objects it depends on is woken by them alone, not
 * after every syscall. Starts zeroed; empty again when no thread waits on it, so an object may
 * go once the threads that could wait on it are gone (or after waitq_release). */
struct wq_entry;
struct waitq {
    struct wq_entry *first;
};

/* Waits until ready(arg) returns true (0), the CLOCK_MONOTONIC deadline in ns passes
 * (-ETIMEDOUT; WAIT_FOREVER: never), or a signal the application has not blocked is pending
 * (-EINTR). ready is checked first, so a condition that already holds returns at once. events
 * (ALC_EV_*) are the monitor events ready depends on: the vCPU wakes when one is set, and ready
 * must clear the bit before it asks the monitor again (see dev/console.c). Timers
 * that fall due while waiting raise their signals. Blocking with nothing that could ever wake
 * the application (no timer, no host input, no signal) is the application's deadlock, as on
 * Linux: it waits until the host ends it. */
int wait_until(bool (*ready)(void *arg), void *arg, uint32_t events, int64_t deadline_ns);
/* The same without a deadline, and signals do not end it (a vfork parent's wait). */
void wait_until_uninterruptible(bool (*ready)(void *arg), void *arg);
/* With a deadline, and signals do not end it: 0 or -ETIMEDOUT. */
int wait_until_nosignal(bool (*ready)(void *arg), void *arg, int64_t deadline_ns);

/* What a ready function calls to say what its answer depends on, each time it is asked:
 * - wait_on(q) for each object whose state it looks at: the wait is queued on q;
 * - wait_on_file(f) for a file: queued on f when the file notifies (file_ops.notifies; then
 *   poll_notify(f) wakes it), broad otherwise;
 * - wait_broad() when it also depends on something that has no queue: the wait is woken after
 *   every syscall that may change something (wait_wake_all);
 * - wait_quiet() when it depends on nothing another syscall changes: only a signal (or its
 *   deadline) ends the wait (pause, sigsuspend, nanosleep's kind).
 * A wait that says none of these, or queues on more than THREAD_WAIT_FILES objects, is broad. */
void wait_on(struct waitq *q);
struct file;
void wait_on_file(struct file *f);
void wait_broad(void);
void wait_quiet(void);
/* Wakes the threads waiting on q: each asks its ready function again. */
void waitq_wake(struct waitq *q);
/* q's object goes: its waiters are unqueued and woken. */
void waitq_release(struct waitq *q);
/* Wakes the threads waiting on f (poll_notify calls it). */
void wait_wake_file(struct file *f);
/* f is being released: its waiters are unqueued and woken (fs/fdtable.c calls it). */
void wait_file_release(struct file *f);

/* A ready function that is never true (and quiet): wait_until(wait_never, NULL, 0, deadline)
 * sleeps until the deadline or a signal. */
bool wait_never(void *arg);
/* Makes every thread in wait_until that is not queued on files alone look again (sys/dispatch.c
 * calls it after each syscall that may change what they wait for). */
void wait_wake_all(void);
/* Makes every thread in wait_until look again, queued on files or not. */
void wait_wake_everyone(void);

#endif
