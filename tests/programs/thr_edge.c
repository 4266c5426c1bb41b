/* thr_edge.c: threads at the edges: a thread that never makes a syscall, the process ending
 * from a thread other than main, a deadlock (for a test to kill), main ending before the other
 * threads, creating threads until none can be made, the futex syscall itself, and raw clone and
 * clone3. One subcommand per run:
 *   spin       a thread spins with no syscalls; the others still run, exit(0) ends it all
 *   exitgroup  a thread calls _exit(3) while main waits in pthread_join: status 3
 *   exitfn     a thread calls exit(4) while main waits in pthread_join: atexit runs, status 4
 *   deadlock   two threads deadlock; prints "deadlocked", then main joins forever
 *   closed     both ends of a pipe closed by main while a thread blocks reading it: EOF for
 *              the reader, and a new pipe made at once keeps its bytes
 *   alarm      main waits in pause() for SIGALRM while a thread computes: main handles it
 *   mainexit   main calls pthread_exit; the last thread prints and the process ends with 0
 *   many       threads (16 KiB stacks) until pthread_create fails: prints the error's name
 *              ("limit reached: EAGAIN") or "no limit under 20000", then joins them all and
 *              makes 8 more (natively the limit needs one on the address space: ulimit -v)
 *   futex      FUTEX_WAIT/WAKE/WAIT_BITSET/WAKE_BITSET/REQUEUE/CMP_REQUEUE, private and shared,
 *              timeouts on both clocks, EINTR and restarts, the errors
 *   clone      clone(2) with the flags of pthread_create and clone3(2): the thread IDs, TLS, the
 *              stack, CLONE_CHILD_CLEARTID's wake, the errors
 * Prints only facts that are the same on Linux and in an enclave; a wrong result prints
 * "FAIL ..." and exits 1. alarm(120) ends a hung run with SIGALRM (status 142), except for
 * deadlock, which waits to be killed. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STACK (64u << 10)

/* <linux/futex.h> is not on musl-gcc's include path */
#define FUTEX_WAIT             0
#define FUTEX_WAKE             1
#define FUTEX_REQUEUE          3
#define FUTEX_CMP_REQUEUE      4
#define FUTEX_WAIT_BITSET      9
#define FUTEX_WAKE_BITSET      10
#define FUTEX_PRIVATE_FLAG     128
#define FUTEX_CLOCK_REALTIME   256
#define FUTEX_WAIT_PRIVATE     (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE     (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY (-1)
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#include "thr_common.h"

static void *sleep_forever(void *arg)
{
    (void)arg;
    for (;;)
        msleep(1000);
    return NULL;
}

/* ---- spin ---- */

static _Atomic uint64_t g_spins;

static void *spinner(void *arg)
{
    (void)arg;
    for (uint64_t i = 1;; i++)
        atomic_store_explicit(&g_spins, i, memory_order_relaxed);
    return NULL;
}

static void *work(void *arg)
{
    uint64_t n = (uintptr_t)arg, s = 0;
    for (uint64_t i = 1; i <= n; i++)
        s += i * i % 7;
    return (void *)(uintptr_t)s;
}

static int t_spin(void)
{
    spawn(spinner, NULL);
    for (int i = 0; i < 10000 && atomic_load(&g_spins) == 0; i++)
        msleep(1);
    CHECK(atomic_load(&g_spins) > 0);
    double t0 = now(CLOCK_MONOTONIC);
    for (int i = 0; i < 20; i++) {
        struct timespec t = {0, 10000000L};
        CHECK_EQ(nanosleep(&t, NULL), 0);
    }
    CHECK(now(CLOCK_MONOTONIC) - t0 >= 0.195);
    uint64_t want = 0;
    for (uint64_t i = 1; i <= 3000000; i++)
        want += i * i % 7;
    CHECK((uintptr_t)join(spawn(work, (void *)3000000)) == want);
    /* still spinning (within 5 s: the host may not run its vCPU for a while on a busy machine) */
    uint64_t s0 = atomic_load(&g_spins);
    for (int i = 0; i < 250 && atomic_load(&g_spins) == s0; i++)
        msleep(20);
    CHECK(atomic_load(&g_spins) != s0);
    printf("others ran\n");
    fflush(stdout);
    exit(0); /* exit_group, with the spinner still spinning */
}

/* ---- exitgroup, exitfn ---- */

static void *exit_later(void *arg)
{
    msleep(50);
    printf("thread: exiting with %d\n", (int)(intptr_t)arg);
    fflush(stdout);
    if ((intptr_t)arg == 3)
        _exit(3);
    exit((int)(intptr_t)arg);
}

static void at_exit(void)
{
    printf("atexit ran\n"); /* buffered: exit() flushes it */
}

static int t_exitgroup(int status)
{
    if (status != 3)
        atexit(at_exit);
    printf("main: joining a sleeper\n");
    fflush(stdout);
    pthread_t s = spawn(sleep_forever, NULL);
    spawn(exit_later, (void *)(intptr_t)status);
    join(s);
    printf("FAIL: the sleeper was joined\n");
    return 1;
}

/* ---- deadlock ---- */

static pthread_mutex_t g_ma = PTHREAD_MUTEX_INITIALIZER, g_mb = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t g_dl_bar;

static void *lock_two(void *arg)
{
    int first = arg != NULL;
    pthread_mutex_t *m1 = first ? &g_ma : &g_mb, *m2 = first ? &g_mb : &g_ma;
    pthread_mutex_lock(m1);
    pthread_barrier_wait(&g_dl_bar);
    pthread_mutex_lock(m2); /* never */
    printf("FAIL: no deadlock\n");
    fflush(stdout);
    _exit(1);
}

static int t_deadlock(void)
{
    alarm(0);
    CHECK_EQ(pthread_barrier_init(&g_dl_bar, NULL, 3), 0);
    pthread_t a = spawn(lock_two, (void *)1);
    spawn(lock_two, NULL);
    pthread_barrier_wait(&g_dl_bar); /* both hold their first mutex */
    CHECK_EQ(pthread_mutex_trylock(&g_ma), EBUSY);
    CHECK_EQ(pthread_mutex_trylock(&g_mb), EBUSY);
    msleep(50);
    printf("deadlocked\n");
    fflush(stdout);
    join(a);
    return 1;
}

/* ---- closed: a pipe closed by another thread while a reader blocks in it ---- */

static int g_cl[2];

static void *blocked_reader(void *arg)
{
    (void)arg;
    char b[64] = {0};
    ssize_t n = read(g_cl[0], b, sizeof(b) - 1);
    printf("the blocked reader's read: %zd\n", n);
    fflush(stdout);
    return NULL;
}

/* Both ends are closed while the reader waits: it sees the end of the pipe (0), and a new pipe
 * made at once (which may reuse the old one's kernel memory) keeps its bytes for its owner. */
static int t_closed(void)
{
    CHECK_EQ(pipe(g_cl), 0);
    pthread_t t = spawn(blocked_reader, NULL);
    msleep(100);
    CHECK_EQ(close(g_cl[0]), 0);
    CHECK_EQ(close(g_cl[1]), 0);
    int p2[2];
    CHECK_EQ(pipe(p2), 0);
    CHECK_EQ(write(p2[1], "secret", 6), 6);
    join(t);
    char b[16] = {0};
    CHECK_EQ(read(p2[0], b, sizeof(b)), 6);
    CHECK(memcmp(b, "secret", 6) == 0);
    printf("closed: the new pipe kept its 6 bytes: ok\n");
    return 0;
}

/* ---- alarm: a process-directed signal reaches the thread waiting for it ---- */

static _Atomic int g_alarm_tid;

static void on_alarm(int sig)
{
    (void)sig;
    g_alarm_tid = (int)syscall(SYS_gettid);
}

static void *compute(void *arg)
{
    (void)arg;
    double t0 = now(CLOCK_MONOTONIC);
    volatile unsigned long x = 0;
    while (now(CLOCK_MONOTONIC) - t0 < 1.5)
        for (int i = 0; i < 100000; i++)
            x++;
    return NULL;
}

/* main waits in pause() for SIGALRM while another thread computes: main runs the handler and
 * pause returns (Linux gives a process-directed signal to the main thread when it can take it) */
static int t_alarm(void)
{
    signal(SIGALRM, on_alarm);
    pthread_t t = spawn(compute, NULL);
    msleep(10);
    alarm(1);
    pause();
    CHECK_EQ(g_alarm_tid, getpid());
    join(t);
    printf("alarm: handled by main, whose pause() returned: ok\n");
    return 0;
}

/* ---- mainexit ---- */

static pthread_t g_main;

static void *outlive_main(void *arg)
{
    (void)arg;
    msleep(100);
    CHECK(!pthread_equal(g_main, pthread_self()));
    CHECK_EQ(syscall(SYS_gettid) == getpid(), 0);
    printf("second: main has gone, still running\n");
    return NULL; /* the last thread: the C library ends the process with exit(0) */
}

static int t_mainexit(void)
{
    g_main = pthread_self();
    spawn(outlive_main, NULL);
    printf("main: pthread_exit\n");
    fflush(stdout);
    pthread_exit(NULL);
}

/* ---- many ---- */

static const char *errno_name(int e)
{
    static char other[32];
    switch (e) {
    case EAGAIN:
        return "EAGAIN";
    case ENOMEM:
        return "ENOMEM";
    case EINVAL:
        return "EINVAL";
    case EPERM:
        return "EPERM";
    case ENOSYS:
        return "ENOSYS";
    }
    snprintf(other, sizeof(other), "errno %d", e);
    return other;
}

static int g_release;

static void *parked(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&g_release, __ATOMIC_ACQUIRE))
        syscall(SYS_futex, &g_release, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return NULL;
}

static int t_many(void)
{
    enum { CAP = 20000 };
    pthread_t *t = calloc(CAP, sizeof(*t));
    CHECK(t != NULL);
    pthread_attr_t a;
    pthread_attr_init(&a);
    CHECK_EQ(pthread_attr_setstacksize(&a, 16384), 0);
    int n = 0, e = 0;
    while (n < CAP && (e = pthread_create(&t[n], &a, parked, NULL)) == 0)
        n++;
    if (n == CAP)
        printf("no limit under %d\n", CAP);
    else
        printf("limit reached: %s\n", e == EAGAIN ? "EAGAIN" : errno_name(e));
    fflush(stdout);
    __atomic_store_n(&g_release, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &g_release, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    for (int i = 0; i < n; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    /* everything came back: threads can be made again */
    pthread_t again[8];
    for (int i = 0; i < 8; i++)
        CHECK_EQ(pthread_create(&again[i], &a, parked, NULL), 0);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(pthread_join(again[i], NULL), 0);
    printf("all joined, 8 more created: ok\n");
    pthread_attr_destroy(&a);
    free(t);
    return 0;
}

/* ---- futex ---- */

static long futex(int *uaddr, int op, int val, const struct timespec *ts, int *uaddr2, int val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* FUTEX_REQUEUE and FUTEX_CMP_REQUEUE: the fourth argument is a count, not a timeout */
static long requeue(int *uaddr, int op, int nr_wake, long nr_requeue, int *uaddr2, int val3)
{
    return syscall(SYS_futex, uaddr, op, nr_wake, nr_requeue, uaddr2, val3);
}

struct waiter {
    int *addr, op, bitset;
    long ret;
    int err;
    atomic_int done;
    pthread_t t;
};
static atomic_int g_arrived, g_left;

static void *fwaiter(void *p)
{
    struct waiter *w = p;
    atomic_fetch_add(&g_arrived, 1);
    errno = 0;
    w->ret = futex(w->addr, w->op, 0, NULL, NULL, w->bitset);
    w->err = errno;
    atomic_store(&w->done, 1);
    atomic_fetch_add(&g_left, 1);
    return NULL;
}

/* Starts n waiters on addr (whose value is 0) with op; returns once they are asleep in the
 * kernel (counted in, then 100 ms: a waiter not yet asleep would make a count below fail). */
static void start(struct waiter *w, int n, int *addr, int op, const int *bitsets)
{
    atomic_store(&g_arrived, 0);
    atomic_store(&g_left, 0);
    for (int i = 0; i < n; i++) {
        w[i].addr = addr;
        w[i].op = op;
        w[i].bitset = bitsets ? bitsets[i] : 0;
        w[i].ret = -2;
        atomic_store(&w[i].done, 0);
        w[i].t = spawn(fwaiter, &w[i]);
    }
    WAIT_FOR(&g_arrived, n);
    msleep(100);
    CHECK_EQ(atomic_load(&g_left), 0);
}

/* waits until `left` of them have returned, then a little longer to see no more do */
static void left_exactly(int left, int line)
{
    wait_at_least(&g_left, left, line);
    msleep(20);
    if (atomic_load(&g_left) != left)
        fail_eq(line, "waiters returned", atomic_load(&g_left), left);
}

static void join_all(struct waiter *w, int n)
{
    for (int i = 0; i < n; i++) {
        join(w[i].t);
        if (w[i].ret != 0)
            fail_eq(__LINE__, "a woken FUTEX_WAIT returns 0", w[i].ret == -1 ? -w[i].err : w[i].ret,
                    0);
    }
}

static int fa, fb, fc;
static atomic_int g_hits;

static void h_count(int sig)
{
    (void)sig;
    atomic_fetch_add(&g_hits, 1);
}

static void *kill_main_later(void *arg)
{
    msleep(50);
    pthread_kill(g_main, (int)(intptr_t)arg);
    if ((intptr_t)arg == SIGUSR2) { /* SA_RESTART: the wait goes on until a real wake */
        msleep(50);
        __atomic_store_n(&fc, 1, __ATOMIC_SEQ_CST);
        futex(&fc, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
    return NULL;
}

static void wake_counts(int priv)
{
    struct waiter w[3];
    int wait = priv ? FUTEX_WAIT_PRIVATE : FUTEX_WAIT,
        wake = priv ? FUTEX_WAKE_PRIVATE : FUTEX_WAKE;
    start(w, 3, &fa, wait, NULL);
    CHECK_EQ(futex(&fa, wake, 2, NULL, NULL, 0), 2);
    left_exactly(2, __LINE__);
    CHECK_EQ(futex(&fa, wake, 1, NULL, NULL, 0), 1);
    join_all(w, 3);
    CHECK_EQ(futex(&fa, wake, 1, NULL, NULL, 0), 0);
}

static int t_futex(void)
{
    g_main = pthread_self();
    struct timespec ms20 = {0, 20000000L}, t;
    double t0;

    CHECK_ERR(futex(&fa, FUTEX_WAIT, 1, NULL, NULL, 0), EAGAIN);
    CHECK_ERR(futex(&fa, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), EAGAIN);
    struct timespec s1 = {1, 0};
    CHECK_ERR(futex(&fa, FUTEX_WAIT, 1, &s1, NULL, 0), EAGAIN); /* the value first */
    CHECK_EQ(futex(&fa, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
    CHECK_EQ(futex(&fa, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
    printf("futex: EAGAIN for a changed value; WAKE with no waiters wakes 0: ok\n");

    t0 = now(CLOCK_MONOTONIC);
    CHECK_ERR(futex(&fa, FUTEX_WAIT, 0, &ms20, NULL, 0), ETIMEDOUT);
    CHECK(now(CLOCK_MONOTONIC) - t0 >= 0.019);
    t0 = now(CLOCK_MONOTONIC);
    CHECK_ERR(futex(&fa, FUTEX_WAIT_PRIVATE, 0, &ms20, NULL, 0), ETIMEDOUT);
    CHECK(now(CLOCK_MONOTONIC) - t0 >= 0.019);
    t = deadline(CLOCK_MONOTONIC, 20);
    CHECK_ERR(futex(&fa, FUTEX_WAIT_BITSET, 0, &t, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    CHECK(now(CLOCK_MONOTONIC) >= (double)t.tv_sec + (double)t.tv_nsec / 1e9);
    t = deadline(CLOCK_REALTIME, 20);
    CHECK_ERR(futex(&fa, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME | FUTEX_PRIVATE_FLAG, 0, &t, NULL,
                    FUTEX_BITSET_MATCH_ANY),
              ETIMEDOUT);
    CHECK(now(CLOCK_REALTIME) >= (double)t.tv_sec + (double)t.tv_nsec / 1e9);
    struct timespec past = {0, 0};
    CHECK_ERR(futex(&fa, FUTEX_WAIT_BITSET, 0, &past, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    printf("futex: ETIMEDOUT: relative, absolute on CLOCK_MONOTONIC and CLOCK_REALTIME, past: "
           "ok\n");

    struct timespec bad_ns = {0, 1000000000L}, bad_s = {-1, 0};
    CHECK_ERR(futex(&fa, FUTEX_WAIT, 0, &bad_ns, NULL, 0), EINVAL);
    CHECK_ERR(futex(&fa, FUTEX_WAIT, 0, &bad_s, NULL, 0), EINVAL);
    CHECK_ERR(futex(&fa, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(&fa, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex((int *)((char *)&fa + 1), FUTEX_WAIT, 0, &ms20, NULL, 0), EINVAL);
    CHECK_ERR(futex((int *)((char *)&fa + 2), FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(&fa, 99, 0, NULL, NULL, 0), ENOSYS);
    CHECK_ERR(futex(&fa, 99 | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0), ENOSYS);
    CHECK_ERR(futex(&fa, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, &ms20, NULL, 0), ENOSYS);
    CHECK_ERR(futex(NULL, FUTEX_WAIT, 0, &ms20, NULL, 0), EFAULT);
    void *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(gone != MAP_FAILED);
    CHECK_EQ(munmap(gone, 4096), 0);
    CHECK_ERR(futex(gone, FUTEX_WAIT_PRIVATE, 0, &ms20, NULL, 0), EFAULT);
    printf("futex: EINVAL (timeouts, bitset 0, unaligned), ENOSYS (unknown op, WAIT with "
           "CLOCK_REALTIME), EFAULT: ok\n");

    wake_counts(0);
    wake_counts(1);
    printf("futex: WAKE wakes as many as asked (2 of 3, then 1), shared and private: ok\n");

    struct waiter w[3];
    static const int bits[2] = {1, 2};
    start(w, 2, &fa, FUTEX_WAIT_BITSET, bits);
    CHECK_EQ(futex(&fa, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 4), 0);
    CHECK_EQ(futex(&fa, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 2), 1);
    left_exactly(1, __LINE__);
    CHECK(atomic_load(&w[1].done) && !atomic_load(&w[0].done));
    CHECK_EQ(futex(&fa, FUTEX_WAKE, INT_MAX, NULL, NULL, 0), 1); /* plain WAKE: any bits */
    join_all(w, 2);
    printf("futex: WAKE_BITSET wakes only waiters with a common bit: ok\n");

    start(w, 3, &fa, FUTEX_WAIT, NULL);
    CHECK_EQ(requeue(&fa, FUTEX_REQUEUE, 1, INT_MAX, &fb, 0), 3); /* woken + requeued */
    left_exactly(1, __LINE__);
    CHECK_EQ(futex(&fa, FUTEX_WAKE, INT_MAX, NULL, NULL, 0), 0);
    CHECK_EQ(futex(&fb, FUTEX_WAKE, INT_MAX, NULL, NULL, 0), 2);
    join_all(w, 3);
    printf("futex: REQUEUE wakes 1 and moves 2 to another word: ok\n");

    CHECK_ERR(requeue(&fa, FUTEX_CMP_REQUEUE, 1, INT_MAX, &fb, 1), EAGAIN);
    start(w, 3, &fa, FUTEX_WAIT, NULL);
    CHECK_ERR(requeue(&fa, FUTEX_CMP_REQUEUE, 1, INT_MAX, &fb, 5), EAGAIN);
    CHECK_EQ(requeue(&fa, FUTEX_CMP_REQUEUE, 1, 1, &fb, 0), 2); /* wake 1, move 1 */
    left_exactly(1, __LINE__);
    CHECK_EQ(futex(&fb, FUTEX_WAKE, INT_MAX, NULL, NULL, 0), 1);
    left_exactly(2, __LINE__);
    CHECK_EQ(futex(&fa, FUTEX_WAKE, INT_MAX, NULL, NULL, 0), 1);
    join_all(w, 3);
    start(w, 3, &fa, FUTEX_WAIT_PRIVATE, NULL);
    CHECK_EQ(requeue(&fa, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0, INT_MAX, &fb, 0), 3);
    CHECK_EQ(futex(&fa, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
    CHECK_EQ(futex(&fb, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
    left_exactly(1, __LINE__);
    CHECK_EQ(futex(&fb, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 2);
    join_all(w, 3);
    printf("futex: CMP_REQUEUE: EAGAIN for a changed value, counts woken and moved, private: "
           "ok\n");

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h_count;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0); /* no SA_RESTART */
    sa.sa_flags = SA_RESTART;
    CHECK_EQ(sigaction(SIGUSR2, &sa, NULL), 0);
    pthread_t k = spawn(kill_main_later, (void *)SIGUSR1);
    CHECK_ERR(futex(&fc, FUTEX_WAIT, 0, NULL, NULL, 0), EINTR);
    join(k);
    CHECK_EQ(atomic_load(&g_hits), 1);
    struct timespec s5 = {5, 0};
    k = spawn(kill_main_later, (void *)SIGUSR1);
    CHECK_ERR(futex(&fc, FUTEX_WAIT_PRIVATE, 0, &s5, NULL, 0), EINTR);
    join(k);
    CHECK_EQ(atomic_load(&g_hits), 2);
    k = spawn(kill_main_later, (void *)SIGUSR2);
    errno = 0;
    long r = futex(&fc, FUTEX_WAIT, 0, NULL, NULL, 0); /* restarted after the handler */
    CHECK(r == 0 || (r == -1 && errno == EAGAIN));
    join(k);
    CHECK_EQ(atomic_load(&g_hits), 3);
    CHECK_EQ(__atomic_load_n(&fc, __ATOMIC_SEQ_CST), 1);
    printf("futex: a handled signal ends a wait with EINTR, or resumes it with SA_RESTART: ok\n");
    return 0;
}

/* ---- clone, clone3 ---- */

/* raw syscalls for a thread that has no usable C library state (its TLS is not libc's) */
static long rsys(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

/* thr_clone3(args, size, fn, arg): clone3; the child runs fn(arg) on its new stack and exits
 * the thread with fn's return value. Returns the child's tid or -errno, in the parent. */
long thr_clone3(void *args, unsigned long size, int (*fn)(void *), void *arg);
__asm__(".pushsection .text\n"
        ".globl thr_clone3\n"
        ".type thr_clone3, @function\n"
        "thr_clone3:\n"
        "    mov %rdx, %r8\n"
        "    mov %rcx, %r9\n"
        "    mov $435, %eax\n"
        "    syscall\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    xor %ebp, %ebp\n"
        "    mov %r9, %rdi\n"
        "    and $-16, %rsp\n"
        "    call *%r8\n"
        "    mov %eax, %edi\n"
        "    mov $60, %eax\n"
        "    syscall\n"
        "    hlt\n"
        "1:  ret\n"
        ".size thr_clone3, .-thr_clone3\n"
        ".popsection\n");

struct clone_args_v0 { /* struct clone_args of Linux 5.3 (CLONE_ARGS_SIZE_VER0, 64 bytes) */
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

struct cinfo {
    long tid, pid, wrote;
    uint64_t fs0;
    int stack_ok, fd;
    char *lo, *hi;
};

static const struct timespec g_50ms = {0, 50000000L};

static int clone_child(void *arg)
{
    struct cinfo *c = arg;
    char here;
    uint64_t fs0;
    c->tid = rsys(SYS_gettid, 0, 0, 0);
    c->pid = rsys(SYS_getpid, 0, 0, 0);
    __asm__ volatile("mov %%fs:0, %0" : "=r"(fs0));
    c->fs0 = fs0;
    c->stack_ok = &here >= c->lo && &here < c->hi;
    c->wrote = rsys(SYS_write, c->fd, (long)"c", 1);
    rsys(SYS_nanosleep, (long)&g_50ms, 0, 0); /* the parent is waiting on the tid word by now */
    return 0;
}

#define CLONE_FLAGS                                                                                \
    (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |            \
     CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

static char g_stack[2][65536] __attribute__((aligned(64)));
static uint64_t g_tcb[2][512] __attribute__((aligned(64)));
static pid_t g_ptid[2], g_ctid[2];

/* a thread control block for the child: its self pointers, and main's stack canary */
static void *make_tcb(int i)
{
    uint64_t canary;
    __asm__ volatile("mov %%fs:0x28, %0" : "=r"(canary));
    g_tcb[i][0] = g_tcb[i][2] = (uint64_t)g_tcb[i];
    g_tcb[i][5] = canary;
    return g_tcb[i];
}

/* as pthread_join does: wait until the kernel clears the tid word and wakes its waiters */
static void wait_cleared(pid_t *ctid)
{
    int v;
    while ((v = __atomic_load_n(ctid, __ATOMIC_ACQUIRE)) != 0) {
        struct timespec s5 = {5, 0};
        if (futex(ctid, FUTEX_WAIT, v, &s5, NULL, 0) == -1 && errno != EAGAIN && errno != EINTR) {
            printf("FAIL: waiting for the child's tid word to be cleared: %s\n",
                   errno == ETIMEDOUT ? "not cleared and woken within 5 s" : strerror(errno));
            fflush(stdout);
            _exit(1);
        }
    }
}

static void check_child(const struct cinfo *c, long tid, int i, int rfd)
{
    char b = 0;
    CHECK(tid > 0 && tid != getpid());
    CHECK_EQ(g_ptid[i], tid);
    CHECK_EQ(c->tid, tid);
    CHECK_EQ(c->pid, getpid());
    CHECK(c->fs0 == (uint64_t)g_tcb[i]);
    CHECK(c->stack_ok);
    CHECK_EQ(c->wrote, 1);
    CHECK_EQ(read(rfd, &b, 1), 1);
    CHECK_EQ(b, 'c');
}

static int t_clone(void)
{
    int fds[2];
    CHECK_EQ(pipe(fds), 0);

    struct cinfo c = {.fd = fds[1], .lo = g_stack[0], .hi = g_stack[0] + sizeof(g_stack[0])};
    g_ctid[0] = -1;
    long tid = clone(clone_child, g_stack[0] + sizeof(g_stack[0]), CLONE_FLAGS, &c, &g_ptid[0],
                     make_tcb(0), &g_ctid[0]);
    if (tid <= 0)
        fail_eq(__LINE__, "clone", tid == -1 ? -errno : tid, 1);
    wait_cleared(&g_ctid[0]);
    check_child(&c, tid, 0, fds[0]);
    printf("clone: parent tid, TLS, the given stack, memory and files shared, the pid: ok\n");
    printf("clone: CLONE_CHILD_CLEARTID cleared the tid word and woke its waiter: ok\n");
    CHECK_ERR(syscall(SYS_clone, CLONE_VM | CLONE_THREAD, g_stack[1] + 4096, NULL, NULL, 0),
              EINVAL);
    CHECK_ERR(syscall(SYS_clone, CLONE_SIGHAND, g_stack[1] + 4096, NULL, NULL, 0), EINVAL);
    printf("clone: EINVAL for CLONE_THREAD without CLONE_SIGHAND, CLONE_SIGHAND without "
           "CLONE_VM: ok\n");

    struct cinfo c3 = {.fd = fds[1], .lo = g_stack[1], .hi = g_stack[1] + sizeof(g_stack[1])};
    struct clone_args_v0 a = {
        .flags = CLONE_FLAGS,
        .child_tid = (uintptr_t)&g_ctid[1],
        .parent_tid = (uintptr_t)&g_ptid[1],
        .stack = (uintptr_t)g_stack[1],
        .stack_size = sizeof(g_stack[1]),
        .tls = (uintptr_t)make_tcb(1),
    };
    g_ctid[1] = -1;
    tid = thr_clone3(&a, sizeof(a), clone_child, &c3);
    if (tid <= 0)
        fail_eq(__LINE__, "clone3", tid, 1);
    wait_cleared(&g_ctid[1]);
    check_child(&c3, tid, 1, fds[0]);
    printf("clone3: parent tid, TLS, the given stack, shared memory and files, tid cleared: ok\n");
    struct clone_args_v0 bad = a;
    CHECK_ERR(syscall(SYS_clone3, &bad, 8), EINVAL);
    bad.exit_signal = SIGCHLD;
    CHECK_ERR(syscall(SYS_clone3, &bad, sizeof(bad)), EINVAL);
    bad = a;
    bad.stack_size = 0;
    CHECK_ERR(syscall(SYS_clone3, &bad, sizeof(bad)), EINVAL);
    printf("clone3: EINVAL for a short size, an exit signal with CLONE_THREAD, no stack size: "
           "ok\n");

    /* the C library is none the worse */
    CHECK_EQ((uintptr_t)join(spawn(work, (void *)1000)),
             (uintptr_t)join(spawn(work, (void *)1000)));
    printf("clone: pthread_create still works after: ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    alarm(120);
    if (strcmp(c, "spin") == 0)
        return t_spin();
    if (strcmp(c, "exitgroup") == 0)
        return t_exitgroup(3);
    if (strcmp(c, "exitfn") == 0)
        return t_exitgroup(4);
    if (strcmp(c, "deadlock") == 0)
        return t_deadlock();
    if (strcmp(c, "closed") == 0)
        return t_closed();
    if (strcmp(c, "alarm") == 0)
        return t_alarm();
    if (strcmp(c, "mainexit") == 0)
        return t_mainexit();
    if (strcmp(c, "many") == 0)
        return t_many();
    if (strcmp(c, "futex") == 0)
        return t_futex();
    if (strcmp(c, "clone") == 0)
        return t_clone();
    fprintf(
        stderr,
        "usage: thr_edge spin|exitgroup|exitfn|deadlock|closed|alarm|mainexit|many|futex|clone\n");
    return 2;
}
