/* thr_costs.c: what the scheduler's mechanisms cost, measured from inside a program (natively
 * the same program measures Linux's), for bench/threads.sh.
 *   thr_costs wake ROUNDS    a thread blocks in FUTEX_WAIT; the main thread lets it sit long
 *                            enough for an idle vCPU to go to sleep (2 ms), then wakes it and
 *                            the woken thread notes when it runs. Prints the median and the
 *                            90th percentile of wake-to-run, in microseconds.
 *   thr_costs slice SECONDS  two threads spin on private counters on one CPU (pinned to CPU 0)
 *                            for SECONDS; prints the switches each saw (a change of which
 *                            counter grows, sampled by the threads themselves) per second and
 *                            the work done per second relative to one thread alone: the cost of
 *                            time-slicing. */
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
        while (atomic_load(&g_done) != i)
            sched_yield();
        lat[i - 1] = (g_woke_at - t0) * 1e6;
    }
    pthread_join(t, NULL);
    qsort(lat, (size_t)rounds, sizeof(double), cmp_double);
    printf("%.1f %.1f\n", lat[rounds / 2], lat[rounds * 9 / 10]);
    free(lat);
    return 0;
}

/* ---- slice: two spinners sharing one CPU ---- */
static atomic_int g_stop;
static _Alignas(64) volatile uint64_t g_count[2][8];
static atomic_long g_turns;

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
    uint64_t other_seen = g_count[!me][0];
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        for (int i = 0; i < 4096; i++)
            g_count[me][0]++;
        uint64_t o = g_count[!me][0];
        if (o != other_seen) { /* the other ran since we last looked: a switch */
            other_seen = o;
            atomic_fetch_add_explicit(&g_turns, 1, memory_order_relaxed);
        }
    }
    return NULL;
}

static double spin_rate(int threads, double seconds)
{
    memset((void *)g_count, 0, sizeof(g_count));
    atomic_store(&g_stop, 0);
    atomic_store(&g_turns, 0);
    pthread_t t[2];
    double t0 = now();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, spinner, (void *)(intptr_t)i);
    struct timespec d = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&d, NULL);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double el = now() - t0;
    return (double)(g_count[0][0] + g_count[1][0]) / el;
}

static int slice(double seconds)
{
    double one = spin_rate(1, seconds);
    double two = spin_rate(2, seconds);
    double switches = (double)atomic_load(&g_turns) / seconds;
    printf("%.0f %.3f\n", switches, two / one);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "wake") == 0 && atoi(argv[2]) > 0)
        return wake(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "slice") == 0 && atof(argv[2]) > 0)
        return slice(atof(argv[2]));
    fprintf(stderr, "usage: thr_costs wake ROUNDS | slice SECONDS\n");
    return 2;
}
