/* thr_pi.c: priority-inheritance mutexes (PTHREAD_PRIO_INHERIT) and the futex operations under
 * them, LOCK_PI, TRYLOCK_PI and UNLOCK_PI (musl's libc-test pthread_mutex_pi and pthread_robust
 * use them): the protocol attribute, contention, trylock, timedlock, error-checking, a robust PI
 * mutex whose owner ends, and the raw word protocol (owner tid, FUTEX_WAITERS, FUTEX_OWNER_DIED,
 * the hand-over to a waiter, the errors). Prints one line per check group, only facts that are
 * the same on Linux and in an enclave; a wrong result prints "FAIL ..." and exits 1. alarm(120)
 * ends a hung run with SIGALRM (status 142). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STACK (64u << 10)

/* <linux/futex.h> is not on musl-gcc's include path */
#define FUTEX_LOCK_PI_PRIVATE    (6 | 128)
#define FUTEX_UNLOCK_PI_PRIVATE  (7 | 128)
#define FUTEX_TRYLOCK_PI_PRIVATE (8 | 128)
#define FUTEX_WAITERS            0x80000000u
#define FUTEX_OWNER_DIED         0x40000000u

#include "thr_common.h"

static long futex(atomic_uint *w, int op, const struct timespec *ts)
{
    return syscall(SYS_futex, w, op, 0, ts, NULL, 0);
}

static unsigned tid(void)
{
    return (unsigned)syscall(SYS_gettid);
}

static void init_pi(pthread_mutex_t *m, int type, int robust)
{
    pthread_mutexattr_t a;
    int p = -1;
    CHECK_EQ(pthread_mutexattr_init(&a), 0);
    CHECK_EQ(pthread_mutexattr_settype(&a, type), 0);
    CHECK_EQ(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT), 0);
    CHECK_EQ(pthread_mutexattr_getprotocol(&a, &p), 0);
    CHECK_EQ(p, PTHREAD_PRIO_INHERIT);
    if (robust)
        CHECK_EQ(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
    CHECK_EQ(pthread_mutex_init(m, &a), 0);
    pthread_mutexattr_destroy(&a);
}

/* ---- contention: 4 threads add to one counter under a PI mutex ---- */
#define ROUNDS 20000
static pthread_mutex_t g_m;
static long g_count;

static void *adder(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        CHECK_EQ(pthread_mutex_lock(&g_m), 0);
        g_count++;
        CHECK_EQ(pthread_mutex_unlock(&g_m), 0);
    }
    return NULL;
}

/* ---- another thread's view of a held mutex ---- */
static void *try_other(void *arg)
{
    struct timespec d = deadline(CLOCK_REALTIME, 100);
    long r = pthread_mutex_trylock(arg);
    long t = pthread_mutex_timedlock(arg, &d);
    return (void *)((r << 8) | t);
}

static void *unlock_other(void *arg)
{
    return (void *)(long)pthread_mutex_unlock(arg);
}

/* ---- robust: the owner ends while main waits for the mutex ---- */
static atomic_int g_owned;

static void *owner_ends(void *arg)
{
    CHECK_EQ(pthread_mutex_lock(arg), 0);
    atomic_store(&g_owned, 1);
    msleep(50); /* main is waiting in pthread_mutex_lock by then */
    return NULL;
}

/* ---- the raw word ---- */
static atomic_uint g_word;
static atomic_uint g_waiter_tid;

static void *raw_waiter(void *arg)
{
    (void)arg;
    atomic_store(&g_waiter_tid, tid());
    long r = futex(&g_word, FUTEX_LOCK_PI_PRIVATE, NULL); /* waits: main holds the word */
    unsigned got = atomic_load(&g_word);
    CHECK_EQ(r, 0);
    CHECK_EQ(futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, NULL), 0);
    return (void *)(uintptr_t)got;
}

static void *raw_other(void *arg)
{
    (void)arg;
    long r1 = futex(&g_word, FUTEX_TRYLOCK_PI_PRIVATE, NULL);
    long e1 = errno;
    long r2 = futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, NULL);
    long e2 = errno;
    CHECK_EQ(r1, -1);
    CHECK_EQ(r2, -1);
    return (void *)((e1 << 8) | e2);
}

int main(void)
{
    alarm(120);
    setvbuf(stdout, NULL, _IONBF, 0);

    init_pi(&g_m, PTHREAD_MUTEX_NORMAL, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn(adder, NULL);
    for (int i = 0; i < 4; i++)
        join(t[i]);
    CHECK_EQ(g_count, 4L * ROUNDS);
    printf("PI mutex, 4 threads x %d lock/unlock: count %ld\n", ROUNDS, g_count);

    CHECK_EQ(pthread_mutex_lock(&g_m), 0);
    long r = (long)(uintptr_t)join(spawn(try_other, &g_m));
    CHECK_EQ(pthread_mutex_unlock(&g_m), 0);
    CHECK_EQ(r >> 8, EBUSY);
    CHECK_EQ(r & 0xff, ETIMEDOUT);
    printf("held by another: trylock EBUSY, timedlock ETIMEDOUT\n");
    CHECK_EQ(pthread_mutex_trylock(&g_m), 0);
    CHECK_EQ(pthread_mutex_unlock(&g_m), 0);
    pthread_mutex_destroy(&g_m);

    pthread_mutex_t ec;
    init_pi(&ec, PTHREAD_MUTEX_ERRORCHECK, 0);
    CHECK_EQ(pthread_mutex_lock(&ec), 0);
    CHECK_EQ(pthread_mutex_lock(&ec), EDEADLK);
    CHECK_EQ((long)join(spawn(unlock_other, &ec)), EPERM);
    CHECK_EQ(pthread_mutex_unlock(&ec), 0);
    CHECK_EQ(pthread_mutex_unlock(&ec), EPERM);
    printf("error-checking PI mutex: relock EDEADLK, unlock by another EPERM\n");
    pthread_mutex_destroy(&ec);

    pthread_mutex_t rb;
    init_pi(&rb, PTHREAD_MUTEX_NORMAL, 1);
    pthread_t o = spawn(owner_ends, &rb);
    WAIT_FOR(&g_owned, 1);
    CHECK_EQ(pthread_mutex_lock(&rb), EOWNERDEAD);
    join(o);
    CHECK_EQ(pthread_mutex_consistent(&rb), 0);
    CHECK_EQ(pthread_mutex_unlock(&rb), 0);
    CHECK_EQ(pthread_mutex_lock(&rb), 0);
    CHECK_EQ(pthread_mutex_unlock(&rb), 0);
    printf("robust PI mutex, owner ends while main waits: EOWNERDEAD, consistent, relocked\n");
    pthread_mutex_destroy(&rb);

    /* the word protocol */
    CHECK_EQ(futex(&g_word, FUTEX_LOCK_PI_PRIVATE, NULL), 0);
    CHECK_EQ(atomic_load(&g_word), tid());
    CHECK_ERR(futex(&g_word, FUTEX_LOCK_PI_PRIVATE, NULL), EDEADLK);
    r = (long)(uintptr_t)join(spawn(raw_other, NULL));
    CHECK_EQ(r >> 8, EAGAIN);
    CHECK_EQ(r & 0xff, EPERM);
    pthread_t w = spawn(raw_waiter, NULL);
    for (int i = 0; i < 10000 && !(atomic_load(&g_word) & FUTEX_WAITERS); i++)
        msleep(1);
    CHECK_EQ(atomic_load(&g_word), FUTEX_WAITERS | tid());
    CHECK_EQ(futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, NULL), 0);
    unsigned handed = (unsigned)(uintptr_t)join(w);
    /* Linux (6.18) leaves FUTEX_WAITERS out when no other thread waits, as the enclave does;
     * older kernels set it: only the owner is checked */
    CHECK(atomic_load(&g_waiter_tid) != tid());
    CHECK_EQ(handed & ~FUTEX_WAITERS, atomic_load(&g_waiter_tid));
    CHECK_EQ(atomic_load(&g_word), 0);
    printf("LOCK_PI: word = tid, again EDEADLK; another's TRYLOCK_PI EAGAIN, UNLOCK_PI EPERM; "
           "a waiter sets FUTEX_WAITERS and is handed the word (its tid)\n");

    atomic_store(&g_word, FUTEX_OWNER_DIED);
    CHECK_EQ(futex(&g_word, FUTEX_LOCK_PI_PRIVATE, NULL), 0);
    CHECK_EQ(atomic_load(&g_word), FUTEX_OWNER_DIED | tid());
    CHECK_EQ(futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, NULL), 0);
    CHECK_EQ(atomic_load(&g_word), 0);
    atomic_store(&g_word, 0x3ffffff0u); /* no such thread */
    CHECK_ERR(futex(&g_word, FUTEX_LOCK_PI_PRIVATE, NULL), ESRCH);
    atomic_store(&g_word, 0);
    struct timespec past = {1, 0}; /* absolute CLOCK_REALTIME, long gone */
    CHECK_EQ(futex(&g_word, FUTEX_LOCK_PI_PRIVATE, &past), 0); /* free: taken, no wait */
    CHECK_EQ(futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, NULL), 0);
    CHECK_ERR(futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, NULL), EPERM);
    CHECK_ERR(futex((atomic_uint *)((char *)&g_word + 1), FUTEX_LOCK_PI_PRIVATE, NULL), EINVAL);
    printf("LOCK_PI of a dead owner's word keeps FUTEX_OWNER_DIED; of an absent owner ESRCH; "
           "UNLOCK_PI of a free word EPERM; unaligned EINVAL\n");
    return 0;
}
