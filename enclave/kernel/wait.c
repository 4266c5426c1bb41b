/* wait.c: blocking the application until something happens (see wait.h). */
#include "wait.h"

#include "signal.h"

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

int wait_until(bool (*ready)(void *arg), void *arg, uint32_t events, int64_t deadline_ns)
{
    for (;;) {
        timer_run_due();
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
        uint64_t t0 = time_since_boot_ns();
        hc_wait(events, timeout);
        g_idle_ns += time_since_boot_ns() - t0;
        g_waits++;
    }
}
