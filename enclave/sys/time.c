/* time.c: clocks, sleeping (the vCPU really idles in the monitor, and a signal interrupts it),
 * the interval timers (alarm, setitimer) and the process's CPU time (getrusage, times).
 *
 * CPU time is what the scheduler counts (kernel/sched.c): each thread's time on a vCPU, the
 * process's the sum over its threads. It is all counted as user time (the enclave kernel runs at
 * CPL3 beside the application and its share is small; the hypervisor's cost of traps is not seen).
 * ITIMER_VIRTUAL and ITIMER_PROF both count that CPU time; like every timer they fire at the next
 * syscall, exception or preemption after they expire: once a timer is armed the monitor preempts
 * a vCPU that computes past the next expiry (sched_timers_changed, timer_next_deadline).
 */
#include "klib.h"
#include "mm.h"
#include "scheduler.h"
#include "signal.h"
#include "syscall.h"
#include "wait.h"

#define NSEC       1000000000ll
#define USER_HZ    100
#define CLOCK_TAI  11
#define COARSE_RES 4000000 /* the tick of Linux with HZ=250 */

int64_t time_cpu_ns(void)
{
    int64_t t = sched_process_cpu_ns();
    return t > 0 ? t : 0;
}

/* CPU-time clocks of a process or thread (clock_getcpuclockid, pthread_getcpuclockid):
 * ~pid << 3 | thread << 2 | which; pid 0 is the caller. The one process is pid 1; a thread clock
 * names a live tid. Returns the clock's time in *ns, or false. */
static bool cpu_clock_now(int clk, int64_t *ns)
{
    if (clk == CLOCK_PROCESS_CPUTIME_ID) {
        *ns = time_cpu_ns();
        return true;
    }
    if (clk == CLOCK_THREAD_CPUTIME_ID) {
        *ns = sched_thread_cpu_ns(current());
        return true;
    }
    if (clk >= 0 || (clk & 3) == 3)
        return false;
    int id = ~(clk >> 3);
    if (clk & 4) {
        struct thread *t = id == 0 ? current() : thread_find(id);
        if (!t)
            return false;
        *ns = sched_thread_cpu_ns(t);
        return true;
    }
    if (id != 0 && id != 1)
        return false;
    *ns = time_cpu_ns();
    return true;
}

static int clock_now(int clk, int64_t *ns)
{
    switch (clk) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_TAI: /* the enclave is not told the TAI offset: 0, as Linux before NTP sets it */
        *ns = time_realtime_ns();
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME: /* the enclave never suspends */
        *ns = time_monotonic_ns();
        return 0;
    default:
        return cpu_clock_now(clk, ns) ? 0 : -EINVAL;
    }
}

static struct linux_timespec to_ts(int64_t ns)
{
    return (struct linux_timespec){ns / NSEC, ns % NSEC};
}

SYSCALL_DEFINE2(clock_gettime, int, clk, uint64_t, utp)
{
    int64_t ns;
    int err = clock_now(clk, &ns);
    if (err)
        return err;
    struct linux_timespec ts = to_ts(ns);
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
        ts.tv_nsec = COARSE_RES;
    return utp ? copy_to_user(utp, &ts, sizeof(ts)) : 0;
}

/* The enclave's clocks are the host's; nothing inside may set them: CLOCK_REALTIME is EPERM
 * (as for a process without CAP_SYS_TIME), any other clock EINVAL (not settable, as on Linux). */
SYSCALL_DEFINE2(clock_settime, int, clk, uint64_t, utp)
{
    int64_t ns;
    int err = clock_now(clk, &ns);
    if (err)
        return err;
    struct linux_timespec ts;
    if (copy_from_user(&ts, utp, sizeof(ts)))
        return -EFAULT;
    if (clk != CLOCK_REALTIME || ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC)
        return -EINVAL;
    return -EPERM;
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

/* ---- sleeping ---- */
static int64_t ts_ns(const struct linux_timespec *ts)
{
    return ts->tv_sec > INT64_MAX / NSEC - 1 ? INT64_MAX / 2 : ts->tv_sec * NSEC + ts->tv_nsec;
}

static long do_sleep(int clk, int flags, uint64_t ureq, uint64_t urem)
{
    struct linux_timespec req;
    if (copy_from_user(&req, ureq, sizeof(req)))
        return -EFAULT;
    if (req.tv_sec < 0 || req.tv_nsec < 0 || req.tv_nsec >= NSEC)
        return -EINVAL;
    int64_t now_mono = time_monotonic_ns(), want = ts_ns(&req), deadline;
    bool abs = flags & TIMER_ABSTIME;
    switch (clk) {
    case CLOCK_REALTIME:
    case CLOCK_TAI:
        deadline = abs ? now_mono + (want - time_realtime_ns()) : now_mono + want;
        break;
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
        deadline = abs ? want : now_mono + want;
        break;
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_THREAD_CPUTIME_ID:
        return -EOPNOTSUPP; /* Linux cannot sleep on these either */
    default:
        int64_t cpu_now;
        if (!cpu_clock_now(clk, &cpu_now) || (clk < 0 && (clk & 4)))
            return -EINVAL; /* a thread's CPU clock named by its id: the caller's own */
        /* the process's CPU clock: it advances at most cpu_count times as fast as the wall
         * clock while the caller sleeps. The sleep ends at the earliest time the clock could
         * get there (a known simplification: earlier than Linux when the others idle). */
        if (abs ? want <= cpu_now : want == 0)
            deadline = now_mono;
        else if (thread_count() == 1)
            deadline = WAIT_FOREVER; /* only this thread could make it advance */
        else
            deadline = now_mono + ((abs ? want - cpu_now : want) / (int64_t)g_boot->cpu_count);
        break;
    }
    if (deadline != WAIT_FOREVER && deadline < now_mono)
        deadline = now_mono;
    int err = wait_until(wait_never, NULL, 0, deadline);
    if (err != -EINTR)
        return 0;
    if (!abs && urem) {
        int64_t left = deadline == WAIT_FOREVER ? want : deadline - time_monotonic_ns();
        struct linux_timespec rem = to_ts(left > 0 ? left : 0);
        if (copy_to_user(urem, &rem, sizeof(rem)))
            return -EFAULT;
    }
    return -EINTR; /* a handler runs: Linux does not restart sleeps, whatever SA_RESTART says */
}

SYSCALL_DEFINE2(nanosleep, uint64_t, ureq, uint64_t, urem)
{
    return do_sleep(CLOCK_MONOTONIC, 0, ureq, urem);
}

SYSCALL_DEFINE4(clock_nanosleep, int, clk, int, flags, uint64_t, ureq, uint64_t, urem)
{
    return do_sleep(clk, flags, ureq, urem);
}

/* ---- interval timers ---- */
#define ITIMER_REAL    0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF    2

struct linux_itimerval {
    struct linux_timeval interval, value;
};

/* the process's timers (process.h) */
static struct itimer *itimers(void)
{
    return current_process()->itimers;
}

static const int g_itimer_sig[3] = {SIGALRM, SIGVTALRM, SIGPROF};

static int64_t itimer_clock(int which)
{
    return which == ITIMER_REAL ? time_monotonic_ns() : time_cpu_ns();
}

bool timers_armed(void)
{
    const struct itimer *it = itimers();
    return it[0].expires || it[1].expires || it[2].expires;
}

/* The processes whose real-time timer counts: every one that has not ended. */
static bool live(const struct process *p)
{
    return !p->zombie && !p->exiting;
}

/* When p's CPU-time timers could expire at the soonest, on CLOCK_MONOTONIC: its CPU clock
 * advances only while one of its threads runs, by at most the wall time times the threads
 * running (WAIT_FOREVER when none runs or none is armed). An early answer costs one look. */
static int64_t cpu_timer_deadline(struct process *p, int64_t now)
{
    const struct itimer *it = p->itimers;
    if (!it[ITIMER_VIRTUAL].expires && !it[ITIMER_PROF].expires)
        return WAIT_FOREVER;
    int64_t running = 0, cpu = (int64_t)p->dead_cpu_ns;
    for_each_thread_of(p, t)
    {
        running += t->state == T_RUNNING;
        cpu += sched_thread_cpu_ns(t);
    }
    if (!running)
        return WAIT_FOREVER;
    int64_t next = WAIT_FOREVER;
    for (int w = ITIMER_VIRTUAL; w <= ITIMER_PROF; w++) {
        if (!it[w].expires)
            continue;
        int64_t left = it[w].expires > cpu ? (it[w].expires - cpu) / running : 0;
        if (next == WAIT_FOREVER || now + left < next)
            next = now + left;
    }
    return next;
}

int64_t timer_next_deadline(void)
{
    /* any live process's real-time timer can expire while the vCPU idles */
    int64_t next = WAIT_FOREVER;
    for (struct process *p = process_list(); p; p = p->all_next) {
        int64_t e = p->itimers[ITIMER_REAL].expires;
        if (e && live(p) && (next == WAIT_FOREVER || e < next))
            next = e;
    }
    return next;
}

int64_t timer_cpu_deadline(struct process *p)
{
    return live(p) ? cpu_timer_deadline(p, time_monotonic_ns()) : WAIT_FOREVER;
}

int64_t timer_next_cpu_deadline(void)
{
    int64_t next = WAIT_FOREVER, now = time_monotonic_ns();
    for (struct process *p = process_list(); p; p = p->all_next) {
        int64_t c = live(p) ? cpu_timer_deadline(p, now) : WAIT_FOREVER;
        if (c != WAIT_FOREVER && (next == WAIT_FOREVER || c < next))
            next = c;
    }
    return next;
}

/* Raises the due timers of p among [first, last] (ITIMER_*), and re-arms the periodic ones. */
static void run_due(struct process *p, int first, int last)
{
    for (int w = first; w <= last; w++) {
        struct itimer *it = &p->itimers[w];
        if (!it->expires)
            continue;
        int64_t now = itimer_clock(w);
        if (now < it->expires)
            continue;
        struct linux_siginfo si;
        memset(&si, 0, sizeof(si));
        si.si_signo = g_itimer_sig[w];
        si.si_code = SI_KERNEL;
        signal_send_proc(p, g_itimer_sig[w], &si, NULL);
        if (it->interval) /* missed periods coalesce into the one signal, as pending ones do */
            it->expires += it->interval * ((now - it->expires) / it->interval + 1);
        else
            it->expires = 0;
    }
}

void timer_run_due(void)
{
    struct process *me = current_process();
    if (timers_armed())
        run_due(me, ITIMER_REAL, ITIMER_PROF); /* the CPU-time clocks are the current one's */
    for (struct process *p = process_list(); p; p = p->all_next)
        if (p != me && live(p) && p->itimers[ITIMER_REAL].expires)
            run_due(p, ITIMER_REAL, ITIMER_REAL);
}

static struct linux_timeval ns_to_tv(int64_t ns)
{
    return (struct linux_timeval){ns / NSEC, (ns % NSEC) / 1000};
}

static struct linux_itimerval itimer_get(int which)
{
    struct linux_itimerval v;
    memset(&v, 0, sizeof(v));
    if (itimers()[which].expires) {
        int64_t left = itimers()[which].expires - itimer_clock(which);
        v.value = ns_to_tv(left > 1000 ? left : 1000); /* armed reads as at least 1 µs */
        v.interval = ns_to_tv(itimers()[which].interval);
    }
    return v;
}

static bool tv_ok(const struct linux_timeval *tv)
{
    return tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < 1000000;
}

static int64_t tv_ns(const struct linux_timeval *tv)
{
    if (tv->tv_sec > INT64_MAX / NSEC - 1)
        return INT64_MAX / 2;
    return tv->tv_sec * NSEC + tv->tv_usec * 1000;
}

static void itimer_set(int which, const struct linux_itimerval *v)
{
    int64_t value = tv_ns(&v->value);
    itimers()[which].interval = value ? tv_ns(&v->interval) : 0;
    itimers()[which].expires = value ? itimer_clock(which) + value : 0;
    if (value)
        sched_timers_changed(); /* it fires even if the program makes no syscall until then */
}

SYSCALL_DEFINE2(getitimer, int, which, uint64_t, uvalue)
{
    if (which < 0 || which > 2)
        return -EINVAL;
    struct linux_itimerval v = itimer_get(which);
    return copy_to_user(uvalue, &v, sizeof(v));
}

SYSCALL_DEFINE3(setitimer, int, which, uint64_t, unew, uint64_t, uold)
{
    struct linux_itimerval nv;
    memset(&nv, 0, sizeof(nv)); /* NULL disarms, as Linux still allows */
    if (unew && copy_from_user(&nv, unew, sizeof(nv)))
        return -EFAULT;
    if (which < 0 || which > 2)
        return -EINVAL;
    if (!tv_ok(&nv.value) || !tv_ok(&nv.interval))
        return -EINVAL;
    struct linux_itimerval old = itimer_get(which);
    itimer_set(which, &nv);
    if (uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE1(alarm, unsigned, seconds)
{
    struct linux_itimerval nv, old = itimer_get(ITIMER_REAL);
    memset(&nv, 0, sizeof(nv));
    nv.value.tv_sec = seconds;
    itimer_set(ITIMER_REAL, &nv);
    /* whole seconds left, rounded to the nearest, but at least 1 while one is armed */
    if ((!old.value.tv_sec && old.value.tv_usec) || old.value.tv_usec >= 500000)
        old.value.tv_sec++;
    return old.value.tv_sec;
}

/* ---- resource usage ---- */
#define RUSAGE_SELF     0
#define RUSAGE_CHILDREN (-1)
#define RUSAGE_THREAD   1

SYSCALL_DEFINE2(getrusage, int, who, uint64_t, uru)
{
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
        return -EINVAL;
    struct linux_rusage ru;
    memset(&ru, 0, sizeof(ru));
    if (who == RUSAGE_CHILDREN) {
        ru.utime = ns_to_tv((int64_t)current_process()->children_cpu_ns); /* reaped ones */
    } else if (who == RUSAGE_THREAD) { /* the calling thread's own */
        ru.utime = ns_to_tv(sched_thread_cpu_ns(current()));
        ru.maxrss = (int64_t)(mm_rss_bytes() / 1024);
        ru.nvcsw = (int64_t)current()->nvcsw;
        ru.nivcsw = (int64_t)current()->nivcsw;
    } else {
        ru.utime = ns_to_tv(time_cpu_ns());
        ru.maxrss = (int64_t)(mm_rss_bytes() / 1024); /* resident now, in KiB */
        ru.nvcsw = (int64_t)sched_voluntary_switches();
    }
    return copy_to_user(uru, &ru, sizeof(ru));
}

SYSCALL_DEFINE1(times, uint64_t, ubuf)
{
    if (ubuf) {
        int64_t tms[4] = {time_cpu_ns() / (NSEC / USER_HZ), 0,
                          (int64_t)current_process()->children_cpu_ns / (NSEC / USER_HZ), 0};
        if (copy_to_user(ubuf, tms, sizeof(tms)))
            return -EFAULT;
    }
    return (long)(time_since_boot_ns() / (NSEC / USER_HZ));
}
