/* wait.c: blocking a thread until something happens (see wait.h). */
#include "wait.h"

#include "scheduler.h"
#include "signal.h"
#include "virtio.h"

/* Threads in wait_until, woken (to look again) whenever a syscall may have changed what they
 * wait for. Most waits are for another thread's write, close or signal; a per-object wait
 * queue would wake fewer, at the price of every object keeping one. */
struct waiter {
    struct thread *t;
    struct waiter *next;
};
static struct waiter *g_waiters;

bool wait_never(void *arg)
{
    (void)arg;
    return false;
}

void wait_wake_all(void)
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

int wait_until(bool (*ready)(void *arg), void *arg, uint32_t events, int64_t deadline_ns)
{
    bool spun = false;
    for (;;) {
        timer_run_due();
        /* virtio devices raise no interrupts: their drivers look at the used rings now, having
         * cleared the event bit, so that what comes later wakes the thread again */
        if (events & VIRTIO_EVENTS)
            virtio_service(events);
        if (ready(arg))
            return 0;
        struct thread *t = current();
        bool booting = !t || t->idle; /* the kernel's own waits before the application runs */
        if (!booting && signal_pending())
            return -EINTR;
        int64_t now = time_monotonic_ns();
        if (deadline_ns != WAIT_FOREVER && now >= deadline_ns)
            return -ETIMEDOUT;
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
        struct waiter w = {t, g_waiters};
        g_waiters = &w;
        sched_block(events, deadline_ns, true);
        for (struct waiter **p = &g_waiters; *p; p = &(*p)->next) {
            if (*p == &w) {
                *p = w.next;
                break;
            }
        }
    }
}
