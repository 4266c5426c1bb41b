/* deadline.h: the absolute deadline of ALC_HC_WAIT's relative timeout, which the guest chooses. */
#ifndef ALCOVE_MONITOR_DEADLINE_H
#define ALCOVE_MONITOR_DEADLINE_H

#include <stdint.h>

/* now + timeout_ns on the monotonic clock; 0 (no deadline) for a timeout of 0. A timeout that
 * would run past 2^64 ns is as good as none: it saturates at UINT64_MAX instead of wrapping to
 * a time already past (a wait for "as long as possible" returned at once, and a guest that
 * waited in a loop spun its vCPU's host thread). */
static inline uint64_t wait_deadline(uint64_t now_ns, uint64_t timeout_ns)
{
    if (!timeout_ns)
        return 0;
    return timeout_ns > UINT64_MAX - now_ns ? UINT64_MAX : now_ns + timeout_ns;
}

#endif
