/* wait.c: blocking a thread until something happens (see wait.h). */
#include "wait.h"

#include "file.h"
#include "scheduler.h"
#include "signal.h"
#include "virtio.h"

/* Two ways a thread in wait_until is woken to look again:
 * - queued: each object it depends on (wait_on, wait_on_file, from its ready function) wakes
 *   its queue whenever its state may change (poll_notify for a file, a child's end for a
 *   process's children, a lock's removal for an inode's locks), and only its own waiters;
 * - broad: a wait on something that has no queue (or on nothing it said) looks again after
 *   every syscall that may have changed anything (sys/dispatch.c).
 * A quiet wait (wait_quiet) is neither: only signals and its deadline end it.
 * Every waiter is on g_waiters (broad or not): while a process-directed signal is pending, or
 * a thread ends, all of them look again, since the one the signal was meant for may have
 * blocked it or gone, and another must take it.
 * Either way monitor events, deadlines and signals wake it through the scheduler (sched_block).
 * The entries live in the waiting thread (struct thread.wq) and are unlinked before
 * wait_until returns; a queue whose object goes unlinks them itself (waitq_release). */
struct waiter {
    struct thread *t;
    struct waiter *next;
    bool broad;
};
static struct waiter *g_waiters;

void wait_broad(void)
{
    struct thread *t = current();
    if (t && t->wq_collecting)
        t->wq_broad = true;
}

void wait_quiet(void)
{
    struct thread *t = current();
    if (t && t->wq_collecting)
        t->wq_quiet = true;
}

void wait_on(struct waitq *q)
{
    struct thread *t = current();
    if (!q || !t || !t->wq_collecting)
        return;
    for (unsigned i = 0; i < t->nwq; i++)
        if (t->wq[i].q == q)
            return;
    if (t->nwq == THREAD_WAIT_FILES) {
        wait_broad();
        return;
    }
    struct wq_entry *e = &t->wq[t->nwq++];
    e->t = t;
    e->q = q;
    e->next = q->first;
    if (e->next)
        e->next->pprev = &e->next;
    e->pprev = &q->first;
    q->first = e;
}

void wait_on_file(struct file *f)
{
    if (!f)
        return;
    if (f->ops->notifies)
        wait_on(&f->waiters);
    else
        wait_broad();
}

static void unlink_entry(struct wq_entry *e)
{
    if (!e->q)
        return;
    *e->pprev = e->next;
    if (e->next)
        e->next->pprev = e->pprev;
    e->q = NULL;
}

static void unqueue_all(struct thread *t)
{
    if (!t)
        return; /* the kernel's own waits at boot queue nowhere */
    for (unsigned i = 0; i < t->nwq; i++)
        unlink_entry(&t->wq[i]);
    t->nwq = 0;
}

void waitq_wake(struct waitq *q)
{
    for (struct wq_entry *e = q->first; e; e = e->next)
        sched_wake(e->t);
}

void waitq_release(struct waitq *q)
{
    while (q->first) {
        struct wq_entry *e = q->first;
        unlink_entry(e);
        sched_wake(e->t);
    }
}

void wait_wake_file(struct file *f)
{
    waitq_wake(&f->waiters);
}

void wait_file_release(struct file *f)
{
    waitq_release(&f->waiters);
}

/* Asks ready(arg), collecting the files it queues on. */
static bool ask(bool (*ready)(void *arg), void *arg, struct thread *t)
{
    if (!t || t->idle)
        return ready(arg);
    unqueue_all(t);
    t->wq_broad = false;
    t->wq_quiet = false;
    t->wq_collecting = true;
    bool yes = ready(arg);
    t->wq_collecting = false;
    return yes;
}

bool wait_never(void *arg)
{
    (void)arg;
    wait_quiet();
    return false;
}

void wait_wake_all(void)
{
    for (struct waiter *w = g_waiters; w; w = w->next)
        if (w->broad)
            sched_wake(w->t);
}

void wait_wake_everyone(void)
{
    for (struct waiter *w = g_waiters; w; w = w->next)
        sched_wake(w->t);
}

/* How long a wait for a virtio device spins at CPL3 before it blocks. Blocking with nothing
 * else to run idles the vCPU in the monitor, two exits (~50 us each here, plus the host's
 * wake-up), so a device that answers within tens of microseconds (a vsock peer replying, the
 * monitor's device thread catching up) is cheaper to wait for by looking at the shared events
 * word. The kernel lock is not held while spinning. */
#define WAIT_SPIN_NS 30000

/* Spins until one of events is set (true), or the spin time or until passes (false). */
static bool spin_for(uint32_t events, int64_t until)
{
    int64_t end = time_monotonic_ns() + WAIT_SPIN_NS;
    if (until != WAIT_FOREVER && until < end)
        end = until;
    bool seen = false;
    kernel_unlock();
    do {
        if (shared_events() & events) {
            seen = true;
            break;
        }
        __asm__ volatile("pause");
    } while (time_monotonic_ns() < end);
    kernel_lock();
    return seen;
}

static int wait_for(bool (*ready)(void *arg), void *arg, uint32_t events, int64_t deadline_ns,
                    bool interruptible)
{
    bool spun = false;
    for (;;) {
        timer_run_due();
        /* virtio devices raise no interrupts: their drivers look at the used rings now, having
         * cleared the event bit, so that what comes later wakes the thread again */
        if (events & VIRTIO_EVENTS)
            virtio_service(events);
        struct thread *t = current();
        bool booting = !t || t->idle; /* the kernel's own waits before the application runs */
        if (ask(ready, arg, t)) {
            unqueue_all(t);
            return 0;
        }
        if (!booting && interruptible && signal_pending()) {
            unqueue_all(t);
            return -EINTR;
        }
        int64_t now = time_monotonic_ns();
        if (deadline_ns != WAIT_FOREVER && now >= deadline_ns) {
            unqueue_all(t);
            return -ETIMEDOUT;
        }
        /* spin once; then look again whatever happened: the lock was given up, so another
         * thread may have served this one's device events meanwhile */
        if ((events & VIRTIO_EVENTS) && !spun) {
            spun = true;
            spin_for(events & VIRTIO_EVENTS, deadline_ns);
            continue;
        }
        if (booting) {
            uint64_t timeout =
                deadline_ns == WAIT_FOREVER ? 0 : (uint64_t)MAX(deadline_ns - now, 1);
            hc_wait(events, timeout);
            continue;
        }
        struct waiter w = {t, g_waiters, t->wq_broad || (t->nwq == 0 && !t->wq_quiet)};
        g_waiters = &w;
        sched_block(events, deadline_ns, interruptible);
        for (struct waiter **p = &g_waiters; *p; p = &(*p)->next) {
            if (*p == &w) {
                *p = w.next;
                break;
            }
        }
    }
}

int wait_until(bool (*ready)(void *arg), void *arg, uint32_t events, int64_t deadline_ns)
{
    return wait_for(ready, arg, events, deadline_ns, true);
}

void wait_until_uninterruptible(bool (*ready)(void *arg), void *arg)
{
    wait_for(ready, arg, 0, WAIT_FOREVER, false);
}

int wait_until_nosignal(bool (*ready)(void *arg), void *arg, int64_t deadline_ns)
{
    return wait_for(ready, arg, 0, deadline_ns, false);
}
