/* thr_common.h: what the thread test programs (thr_basic.c, thr_edge.c, thr_pi.c) share: checks
 * that print "FAIL line N: ..." and exit 1, clocks and deadlines, sleeping, waiting for a counter,
 * and making and joining threads with STACK-byte stacks (the includer defines STACK). */
#ifndef THR_COMMON_H
#define THR_COMMON_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void fail_at(int line, const char *what)
{
    printf("FAIL line %d: %s\n", line, what);
    fflush(stdout);
    _exit(1);
}

static void fail_eq(int line, const char *what, long long a, long long b)
{
    printf("FAIL line %d: %s (%lld, want %lld)\n", line, what, a, b);
    fflush(stdout);
    _exit(1);
}

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            fail_at(__LINE__, #c);                                                                 \
    } while (0)
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_)                                                                              \
            fail_eq(__LINE__, #a " == " #b, a_, b_);                                               \
    } while (0)
/* a syscall that must fail with errno e */
#define CHECK_ERR(call, e)                                                                         \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(call);                                                                    \
        if (r_ != -1 || errno != (e))                                                              \
            fail_eq(__LINE__, #call " fails with " #e, r_ == -1 ? -errno : r_, -(e));              \
    } while (0)

static inline double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline struct timespec deadline(clockid_t c, long ms)
{
    struct timespec t;
    clock_gettime(c, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static inline void msleep(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
}

/* Waits (polling each millisecond, at most 10 s) until *p >= want; FAIL otherwise. */
static inline void wait_at_least(atomic_int *p, int want, int line)
{
    for (int i = 0; i < 10000; i++) {
        if (atomic_load(p) >= want)
            return;
        msleep(1);
    }
    fail_eq(line, "waited 10 s for a count", atomic_load(p), want);
}
#define WAIT_FOR(p, want) wait_at_least((p), (want), __LINE__)

static inline pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, STACK);
    int e = pthread_create(&t, &a, fn, arg);
    pthread_attr_destroy(&a);
    if (e) {
        printf("FAIL pthread_create: %s\n", strerror(e));
        fflush(stdout);
        _exit(1);
    }
    return t;
}

static inline void *join(pthread_t t)
{
    void *r = NULL;
    CHECK_EQ(pthread_join(t, &r), 0);
    return r;
}

#endif
