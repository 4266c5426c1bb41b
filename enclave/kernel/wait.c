/* wait.c: blocking the application until something happens (see wait.h). */
#include "wait.h"

#include "signal.h"
#include "virtio.h"

static uint64_t g_idle_ns, g_waits;

bool wait_never(void *arg)
{
    (void)arg;
    return false;
}

uint64_t wait_idle_ns(void)
{
    return g_idle_ns;
}

uint64_t wait_count(void)
{
    return g_waits;
}

/* How long a wait for a virtio device spins at CPL3 before it idles the vCPU in the monitor.
 * Going through the monitor costs two exits (~50 us each here, plus the host's wake-up), so a
 * device that answers within tens of microseconds (a vsock peer replying, the monitor's device
 * thread catching up) is cheaper to wait for by looking at the shared events word. */
#define WAIT_SPIN_NS 30000

/* Spins until one of events is set (true), or the spin time or until passes (false). */
static bool spin_for(uint32_t events, int64_t until)
{
    int64_t end = time_monotonic_ns() + WAIT_SPIN_NS;
    if (until != WAIT_FOREVER && until < end)
        end = until;
    do {
        if (shared_events() & events)
            return true;
        __asm__ volatile("pause");
    } while (time_monotonic_ns() < end);
    return false;
}

int wait_until(bool (*ready)(void *arg), void *arg, uint32_t events, int64_t deadline_ns)
{
    for (;;) {
        timer_run_due();
        /* virtio devices raise no interrupts: their drivers look at the used rings now, having
         * cleared the event bit, so that what comes later ends the hc_wait below */
        if (events & VIRTIO_EVENTS)
            virtio_service(events);
        if (ready(arg))
            return 0;
        if (signal_pending())
            return -EINTR;
        int64_t now = time_monotonic_ns();
        if (deadline_ns != WAIT_FOREVER && now >= deadline_ns)
            return -ETIMEDOUT;
        int64_t until = deadline_ns, t = timer_next_deadline();
        if (t != WAIT_FOREVER && (until == WAIT_FOREVER || t < until))
            until = t;
        /* 0 means no timeout to the monitor: idle until one of the events */
        uint64_t timeout = until == WAIT_FOREVER ? 0 : (uint64_t)MAX(until - now, 1);
        if ((events & VIRTIO_EVENTS) && spin_for(events & VIRTIO_EVENTS, until))
            continue;
        uint64_t t0 = time_since_boot_ns();
        hc_wait(events, timeout);
        g_idle_ns += time_since_boot_ns() - t0;
        g_waits++;
    }
}
