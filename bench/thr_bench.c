/* thr_bench.c: thread workloads for bench/threads.sh, timed inside the program (the enclave's
 * launch is not in the number). Each mode prints "SECONDS CHECK": the wall time of the timed
 * part (CLOCK_MONOTONIC, from the threads' start to the last join) and a value computed from the
 * work (so that it cannot be skipped, and to compare both sides).
 *   thr_bench scale THREADS ITERS   ITERS rounds of an integer hash, split evenly among THREADS
 *                                   threads (no shared writes); CHECK is the same for any THREADS
 *   thr_bench pingpong ROUNDS       two threads hand a turn back and forth through one word with
 *                                   raw FUTEX_WAIT/FUTEX_WAKE, ROUNDS round trips
 *   thr_bench mutex THREADS OPS     THREADS threads each do OPS lock/increment/unlock on one
 *                                   pthread_mutex
 * Two modes measure what the scheduler's mechanisms cost, and print two numbers instead:
 *   thr_bench wake ROUNDS           a thread blocks in FUTEX_WAIT; the main thread lets it sit long
 *                                   enough for an idle vCPU to go to sleep (2 ms), then wakes it
 *                                   and the woken thread notes when it runs: the median and the
 *                                   90th percentile of wake-to-run, in microseconds
 *   thr_bench slice SECONDS         two threads spin on private counters on CPU 0 for SECONDS:
 *                                   the switches they saw per second, and their work per second
 *                                   relative to one spinner alone (the cost of time-slicing) */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256u << 10);
    int e = pthread_create(&t, &a, fn, arg);
    pthread_attr_destroy(&a);
    if (e) {
        fprintf(stderr, "thr_bench: pthread_create: %s\n", strerror(e));
        exit(1);
    }
    return t;
}

/* ---- scale ---- */

struct slice {
    uint64_t lo, hi, out;
    char pad[40]; /* one cache line each */
};

static void *hash_slice(void *arg)
{
    struct slice *s = arg;
    uint64_t acc = 0;
    for (uint64_t i = s->lo; i < s->hi; i++) {
        uint64_t z = i * 0x9e3779b97f4a7c15ull;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        acc += z ^ (z >> 31);
    }
    s->out = acc;
    return NULL;
}

static int scale(int threads, uint64_t iters)
{
    struct slice *s = calloc((size_t)threads, sizeof(*s));
    pthread_t *t = calloc((size_t)threads, sizeof(*t));
    if (!s || !t)
        return 1;
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        s[i].lo = iters * (uint64_t)i / (uint64_t)threads;
        s[i].hi = iters * (uint64_t)(i + 1) / (uint64_t)threads;
        t[i] = spawn(hash_slice, &s[i]);
    }
    uint64_t sum = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        sum += s[i].out;
    }
    printf("%.6f %016llx\n", now() - t0, (unsigned long long)sum);
    free(s);
    free(t);
    return 0;
}

/* ---- pingpong: the word says whose turn it is (0: main's, 1: the other's) ---- */

static int g_turn;
static long g_rounds;

static void pass_to(int who)
{
    __atomic_store_n(&g_turn, who, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &g_turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void wait_for(int me)
{
    int v;
    while ((v = __atomic_load_n(&g_turn, __ATOMIC_SEQ_CST)) != me)
        syscall(SYS_futex, &g_turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void *ponger(void *arg)
{
    (void)arg;
    for (long i = 0; i < g_rounds; i++) {
        wait_for(1);
        pass_to(0);
    }
    return NULL;
}

static int pingpong(long rounds)
{
    g_rounds = rounds;
    double t0 = now();
    pthread_t t = spawn(ponger, NULL);
    for (long i = 0; i < rounds; i++) {
        pass_to(1);
        wait_for(0);
    }
    pthread_join(t, NULL);
    printf("%.6f %ld\n", now() - t0, rounds);
    return 0;
}

/* ---- mutex ---- */

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static long g_count, g_ops;

static void *locker(void *arg)
{
    (void)arg;
    for (long i = 0; i < g_ops; i++) {
        pthread_mutex_lock(&g_m);
        g_count++;
        pthread_mutex_unlock(&g_m);
    }
    return NULL;
}

static int mutex(int threads, long ops)
{
    pthread_t *t = calloc((size_t)threads, sizeof(*t));
    if (!t)
        return 1;
    g_ops = ops;
    double t0 = now();
    for (int i = 0; i < threads; i++)
        t[i] = spawn(locker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("%.6f %ld\n", now() - t0, g_count);
    free(t);
    return g_count == ops * threads ? 0 : 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- wake: futex wake to the woken thread running ---- */
static atomic_int g_word, g_armed, g_done;
static double g_woke_at;

static void *sleeper(void *arg)
{
    int rounds = (int)(intptr_t)arg;
    for (int i = 1; i <= rounds; i++) {
        atomic_store(&g_armed, i);
        int w;
        while ((w = atomic_load(&g_word)) != i)
            syscall(SYS_futex, &g_word, FUTEX_WAIT_PRIVATE, w, NULL, NULL, 0);
        g_woke_at = now();
        atomic_store(&g_done, i);
    }
    return NULL;
}

static int wake(int rounds)
{
    double *lat = calloc((size_t)rounds, sizeof(double));
    pthread_t t;
    if (!lat || pthread_create(&t, NULL, sleeper, (void *)(intptr_t)rounds))
        return 1;
    for (int i = 1; i <= rounds; i++) {
        while (atomic_load(&g_armed) != i)
            sched_yield();
        struct timespec two_ms = {0, 2000000};
        nanosleep(&two_ms, NULL); /* the sleeper is in FUTEX_WAIT, its vCPU idle by now */
        double t0 = now();
        atomic_store(&g_word, i);
        syscall(SYS_futex, &g_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        while (atomic_load(&g_done) != i) /* spin, not yield: the sleeper runs elsewhere */
            __asm__ volatile("pause");
        lat[i - 1] = (g_woke_at - t0) * 1e6;
    }
    pthread_join(t, NULL);
    qsort(lat, (size_t)rounds, sizeof(double), cmp_double);
    printf("%.1f %.1f\n", lat[rounds / 2], lat[rounds * 9 / 10]);
    free(lat);
    return 0;
}

/* ---- slice: two spinners sharing one CPU ---- */
static atomic_int g_spin_stop;
static _Alignas(64) volatile uint64_t g_spin_count[2][8];
static atomic_long g_spin_turns;

static void pin0(void)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(0, &s);
    sched_setaffinity(0, sizeof(s), &s);
}

static void *spinner(void *arg)
{
    int me = (int)(intptr_t)arg;
    pin0();
    uint64_t other_seen = g_spin_count[!me][0];
    while (!atomic_load_explicit(&g_spin_stop, memory_order_relaxed)) {
        for (int i = 0; i < 4096; i++)
            g_spin_count[me][0]++;
        uint64_t o = g_spin_count[!me][0];
        if (o != other_seen) { /* the other ran since we last looked: a switch */
            other_seen = o;
            atomic_fetch_add_explicit(&g_spin_turns, 1, memory_order_relaxed);
        }
    }
    return NULL;
}

static double spin_rate(int threads, double seconds)
{
    memset((void *)g_spin_count, 0, sizeof(g_spin_count));
    atomic_store(&g_spin_stop, 0);
    atomic_store(&g_spin_turns, 0);
    pthread_t t[2];
    double t0 = now();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, spinner, (void *)(intptr_t)i);
    struct timespec d = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&d, NULL);
    atomic_store(&g_spin_stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double el = now() - t0;
    return (double)(g_spin_count[0][0] + g_spin_count[1][0]) / el;
}

static int slicing(double seconds)
{
    double one = spin_rate(1, seconds);
    double two = spin_rate(2, seconds);
    double switches = (double)atomic_load(&g_spin_turns) / seconds;
    printf("%.0f %.3f\n", switches, two / one);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "scale") == 0 && atoi(argv[2]) > 0)
        return scale(atoi(argv[2]), strtoull(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "pingpong") == 0)
        return pingpong(atol(argv[2]));
    if (argc == 4 && strcmp(argv[1], "mutex") == 0 && atoi(argv[2]) > 0)
        return mutex(atoi(argv[2]), atol(argv[3]));
    if (argc == 3 && strcmp(argv[1], "wake") == 0 && atoi(argv[2]) > 0)
        return wake(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "slice") == 0 && atof(argv[2]) > 0)
        return slicing(atof(argv[2]));
    fprintf(stderr, "usage: thr_bench scale THREADS ITERS | pingpong ROUNDS | "
                    "mutex THREADS OPS | wake ROUNDS | slice SECONDS\n");
    return 2;
}
