/* time.c: the clock syscalls, and sleeping (the vCPU really idles in the monitor). */
#include "kernel.h"
#include "syscall.h"

#define NSEC 1000000000ll

static int clock_now(int clk, int64_t *ns)
{
    switch (clk) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        *ns = time_realtime_ns();
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        *ns = time_monotonic_ns();
        return 0;
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
        /* one thread that has owned a vCPU since boot: its CPU time is the time since boot */
        *ns = (int64_t)time_since_boot_ns();
        return 0;
    default:
        return -EINVAL;
    }
}

SYSCALL_DEFINE2(clock_gettime, int, clk, uint64_t, utp)
{
    int64_t ns;
    int err = clock_now(clk, &ns);
    if (err)
        return err;
    struct linux_timespec ts = {ns / NSEC, ns % NSEC};
    return copy_to_user(utp, &ts, sizeof(ts));
}

SYSCALL_DEFINE2(clock_getres, int, clk, uint64_t, utp)
{
    int64_t ns;
    int err = clock_now(clk, &ns);
    if (err)
        return err;
    struct linux_timespec ts = {0, 1};
    if (clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE)
        ts.tv_nsec = 4000000; /* as Linux with HZ=250 */
    return utp ? copy_to_user(utp, &ts, sizeof(ts)) : 0;
}

SYSCALL_DEFINE2(gettimeofday, uint64_t, utv, uint64_t, utz)
{
    int64_t ns = time_realtime_ns();
    if (utv) {
        struct linux_timeval tv = {ns / NSEC, (ns % NSEC) / 1000};
        if (copy_to_user(utv, &tv, sizeof(tv)))
            return -EFAULT;
    }
    if (utz) {
        int32_t tz[2] = {0, 0};
        if (copy_to_user(utz, tz, sizeof(tz)))
            return -EFAULT;
    }
    return 0;
}

SYSCALL_DEFINE1(time, uint64_t, ut)
{
    int64_t s = time_realtime_ns() / NSEC;
    if (ut && copy_to_user(ut, &s, sizeof(s)))
        return -EFAULT;
    return s;
}

static long sleep_until(int clk, int64_t deadline)
{
    for (;;) {
        int64_t now = 0;
        clock_now(clk, &now);
        if (now >= deadline)
            return 0;
        hc_wait(0, (uint64_t)(deadline - now));
    }
}

static long do_sleep(int clk, int flags, uint64_t ureq)
{
    struct linux_timespec req;
    if (copy_from_user(&req, ureq, sizeof(req)))
        return -EFAULT;
    if (req.tv_sec < 0 || req.tv_nsec < 0 || req.tv_nsec >= NSEC)
        return -EINVAL;
    int64_t now;
    int err = clock_now(clk, &now);
    if (err)
        return err;
    if (clk == CLOCK_THREAD_CPUTIME_ID)
        return -EINVAL;
    int64_t req_ns =
        req.tv_sec > INT64_MAX / NSEC - 1 ? INT64_MAX / 2 : req.tv_sec * NSEC + req.tv_nsec;
    int64_t deadline = (flags & TIMER_ABSTIME) ? req_ns : now + req_ns;
    return sleep_until(clk, deadline);
}

SYSCALL_DEFINE2(nanosleep, uint64_t, ureq, uint64_t, urem)
{
    (void)urem; /* nothing interrupts a sleep yet, so nothing remains */
    return do_sleep(CLOCK_MONOTONIC, 0, ureq);
}

SYSCALL_DEFINE4(clock_nanosleep, int, clk, int, flags, uint64_t, ureq, uint64_t, urem)
{
    (void)urem;
    if (clk == CLOCK_THREAD_CPUTIME_ID)
        return -EINVAL;
    return do_sleep(clk, flags, ureq);
}
