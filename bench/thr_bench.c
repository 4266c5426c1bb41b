/* thr_bench.c: thread workloads for bench/threads.sh, timed inside the program (the enclave's
 * launch is not in the number). Each mode prints "SECONDS CHECK": the wall time of the timed
 * part (CLOCK_MONOTONIC, from the threads' start to the last join) and a value computed from the
 * work (so that it cannot be skipped, and to compare both sides).
 *   thr_bench scale THREADS ITERS   ITERS rounds of an integer hash, split evenly among THREADS
 *                                   threads (no shared writes); CHECK is the same for any THREADS
 *   thr_bench pingpong ROUNDS       two threads hand a turn back and forth through one word with
 *                                   raw FUTEX_WAIT/FUTEX_WAKE, ROUNDS round trips
 *   thr_bench mutex THREADS OPS     THREADS threads each do OPS lock/increment/unlock on one
 *                                   pthread_mutex */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
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

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "scale") == 0 && atoi(argv[2]) > 0)
        return scale(atoi(argv[2]), strtoull(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "pingpong") == 0)
        return pingpong(atol(argv[2]));
    if (argc == 4 && strcmp(argv[1], "mutex") == 0 && atoi(argv[2]) > 0)
        return mutex(atoi(argv[2]), atol(argv[3]));
    fprintf(stderr, "usage: thr_bench scale THREADS ITERS | pingpong ROUNDS | "
                    "mutex THREADS OPS\n");
    return 2;
}
