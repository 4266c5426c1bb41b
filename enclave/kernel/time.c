/* time.c: clocks from the TSC, anchored to the host's clocks when the enclave booted. */
#include "kernel.h"

uint64_t time_since_boot_ns(void)
{
    int64_t delta = (int64_t)(rdtsc() - g_boot->boot_tsc);
    if (delta < 0)
        return 0;
    return (uint64_t)(((unsigned __int128)(uint64_t)delta * g_boot->tsc_mult) >> 32);
}

int64_t time_realtime_ns(void)
{
    return g_boot->boot_realtime_ns + (int64_t)time_since_boot_ns();
}

int64_t time_monotonic_ns(void)
{
    return g_boot->boot_monotonic_ns + (int64_t)time_since_boot_ns();
}
