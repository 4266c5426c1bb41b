/* thr_basic_sync.c: thr_basic's checks of the synchronisation objects (see thr_basic.c and
 * thr_basic_sync.h): mutexes (normal, recursive, error-checking, robust), condition variables,
 * barriers and read-write locks. Threads other than those made with default attributes get
 * STACK-byte stacks, as in thr_basic.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STACK (64u << 10)

#include "thr_basic_sync.h"
#include "thr_common.h"

/* ---- mutex: contention, trylock, timedlock, recursive, error-checking ---- */

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static volatile long g_counter; /* volatile: each increment a separate load and store */
static atomic_int g_inside, g_overlaps;

/* the critical section: a second thread inside at the same time is counted */
static void critical(void)
{
    if (atomic_exchange(&g_inside, 1) != 0)
        atomic_fetch_add(&g_overlaps, 1);
    g_counter++;
    atomic_store(&g_inside, 0);
}

static void *inc_100k(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        pthread_mutex_lock(&g_m);
        critical();
        pthread_mutex_unlock(&g_m);
    }
    return NULL;
}

static pthread_mutex_t g_rec, g_chk;

static void *inc_recursive(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&g_rec);
        pthread_mutex_lock(&g_rec);
        critical();
        pthread_mutex_unlock(&g_rec);
        pthread_mutex_unlock(&g_rec);
    }
    return NULL;
}

static void *try_lock(void *m)
{
    int e = pthread_mutex_trylock(m);
    if (e == 0)
        pthread_mutex_unlock(m);
    return (void *)(intptr_t)e;
}

static void *timed_lock(void *m)
{
    double t0 = now(CLOCK_MONOTONIC); /* before the deadline: a delay between them is not early */
    struct timespec d = deadline(CLOCK_REALTIME, 50);
    int e = pthread_mutex_timedlock(m, &d);
    if (e == 0)
        pthread_mutex_unlock(m);
    if (e == ETIMEDOUT && now(CLOCK_MONOTONIC) - t0 < 0.045)
        return (void *)(intptr_t)-1; /* timed out early */
    return (void *)(intptr_t)e;
}

static void *unlock_other(void *m)
{
    return (void *)(intptr_t)pthread_mutex_unlock(m);
}

void t_mutex(void)
{
    pthread_t t[8];
    g_counter = 0;
    atomic_store(&g_overlaps, 0);
    for (int i = 0; i < 8; i++)
        t[i] = spawn(inc_100k, NULL);
    for (int i = 0; i < 8; i++)
        join(t[i]);
    CHECK_EQ(g_counter, 800000);
    CHECK_EQ(atomic_load(&g_overlaps), 0);
    printf("mutex: 8 threads x 100000 increments, one thread inside at a time: ok\n");

    CHECK_EQ(pthread_mutex_lock(&g_m), 0);
    CHECK_EQ((intptr_t)join(spawn(try_lock, &g_m)), EBUSY);
    CHECK_EQ((intptr_t)join(spawn(timed_lock, &g_m)), ETIMEDOUT);
    CHECK_EQ(pthread_mutex_unlock(&g_m), 0);
    CHECK_EQ((intptr_t)join(spawn(try_lock, &g_m)), 0);
    CHECK_EQ((intptr_t)join(spawn(timed_lock, &g_m)), 0);
    printf("mutex: trylock EBUSY, timedlock ETIMEDOUT while held, both succeed after: ok\n");

    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    CHECK_EQ(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE), 0);
    CHECK_EQ(pthread_mutex_init(&g_rec, &ma), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_mutex_lock(&g_rec), 0);
    CHECK_EQ(pthread_mutex_trylock(&g_rec), 0);
    CHECK_EQ((intptr_t)join(spawn(try_lock, &g_rec)), EBUSY);
    CHECK_EQ((intptr_t)join(spawn(unlock_other, &g_rec)), EPERM);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_mutex_unlock(&g_rec), 0);
    CHECK_EQ((intptr_t)join(spawn(try_lock, &g_rec)), 0);
    g_counter = 0;
    for (int i = 0; i < 4; i++)
        t[i] = spawn(inc_recursive, NULL);
    for (int i = 0; i < 4; i++)
        join(t[i]);
    CHECK_EQ(g_counter, 80000);
    CHECK_EQ(atomic_load(&g_overlaps), 0);
    printf("mutex: recursive: 4 levels, EBUSY and EPERM for others, 4 x 20000 contended: ok\n");

    CHECK_EQ(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK), 0);
    CHECK_EQ(pthread_mutex_init(&g_chk, &ma), 0);
    CHECK_EQ(pthread_mutex_lock(&g_chk), 0);
    CHECK_EQ(pthread_mutex_lock(&g_chk), EDEADLK);
    CHECK_EQ((intptr_t)join(spawn(unlock_other, &g_chk)), EPERM);
    CHECK_EQ((intptr_t)join(spawn(try_lock, &g_chk)), EBUSY);
    CHECK_EQ(pthread_mutex_unlock(&g_chk), 0);
    CHECK_EQ(pthread_mutex_unlock(&g_chk), EPERM);
    CHECK_EQ((intptr_t)join(spawn(try_lock, &g_chk)), 0);
    pthread_mutexattr_destroy(&ma);
    printf("mutex: error-checking: EDEADLK on relock, EPERM unlocking unowned: ok\n");
}

/* ---- robust: a mutex whose owner ends while holding it (the kernel's robust list) ---- */

static pthread_mutex_t g_robust;
static atomic_int g_robust_locked, g_robust_release;

static void *lock_and_exit(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_mutex_lock(&g_robust), 0);
    atomic_store(&g_robust_locked, 1);
    if (!atomic_load(&g_robust_release)) {
        WAIT_FOR(&g_robust_release, 1);
        msleep(50); /* the waiter is blocked in pthread_mutex_lock by now */
    }
    return NULL; /* ends holding it */
}

static void *lock_waiter(void *arg)
{
    (void)arg;
    atomic_store(&g_robust_release, 1);
    int e = pthread_mutex_lock(&g_robust); /* blocks until the owner ends */
    if (e == EOWNERDEAD)
        pthread_mutex_unlock(&g_robust); /* not made consistent: unusable from now on */
    return (void *)(intptr_t)e;
}

void t_robust(void)
{
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    CHECK_EQ(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST), 0);
    CHECK_EQ(pthread_mutex_init(&g_robust, &ma), 0);
    pthread_mutexattr_destroy(&ma);
    atomic_store(&g_robust_locked, 0);
    atomic_store(&g_robust_release, 1); /* the owner ends at once */
    join(spawn(lock_and_exit, NULL));
    CHECK_EQ(pthread_mutex_lock(&g_robust), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_consistent(&g_robust), 0);
    CHECK_EQ(pthread_mutex_unlock(&g_robust), 0);
    CHECK_EQ(pthread_mutex_lock(&g_robust), 0);
    CHECK_EQ(pthread_mutex_unlock(&g_robust), 0);
    join(spawn(lock_and_exit, NULL));
    CHECK_EQ(pthread_mutex_trylock(&g_robust), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_consistent(&g_robust), 0);
    CHECK_EQ(pthread_mutex_unlock(&g_robust), 0);
    printf("robust: lock and trylock say EOWNERDEAD after the owner ended, consistent: ok\n");

    /* a thread already blocked in lock as the owner ends is woken with EOWNERDEAD */
    atomic_store(&g_robust_release, 0);
    atomic_store(&g_robust_locked, 0);
    pthread_t owner = spawn(lock_and_exit, NULL);
    WAIT_FOR(&g_robust_locked, 1);
    pthread_t waiter = spawn(lock_waiter, NULL); /* releases the owner, which ends 50 ms later */
    join(owner);
    CHECK_EQ((intptr_t)join(waiter), EOWNERDEAD);
    CHECK_EQ(pthread_mutex_lock(&g_robust), ENOTRECOVERABLE);
    printf("robust: a blocked waiter is woken with EOWNERDEAD, then ENOTRECOVERABLE: ok\n");
}

/* ---- cond: ping-pong, broadcast, timeouts ---- */

static pthread_mutex_t g_cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv[2] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
static pthread_cond_t g_bcv = PTHREAD_COND_INITIALIZER, g_main_cv = PTHREAD_COND_INITIALIZER;
static int g_turn, g_step, g_out_of_turn, g_waiting, g_go, g_woke;

static void *ping_pong(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int r = 0; r < 10000; r++) {
        pthread_mutex_lock(&g_cm);
        while (g_turn != me)
            pthread_cond_wait(&g_cv[me], &g_cm);
        if (g_step % 2 != me)
            g_out_of_turn++;
        g_step++;
        g_turn = 1 - me;
        pthread_cond_signal(&g_cv[1 - me]);
        pthread_mutex_unlock(&g_cm);
    }
    return NULL;
}

static void *bcast_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_cm);
    g_waiting++;
    pthread_cond_signal(&g_main_cv);
    while (!g_go)
        pthread_cond_wait(&g_bcv, &g_cm);
    g_woke++;
    pthread_mutex_unlock(&g_cm);
    return NULL;
}

static void *signalled_waiter(void *cv)
{
    pthread_mutex_lock(&g_cm);
    g_waiting = 1;
    pthread_cond_signal(&g_main_cv);
    struct timespec d = deadline(CLOCK_REALTIME, 10000);
    int e = 0;
    while (!g_go && e == 0)
        e = pthread_cond_timedwait(cv, &g_cm, &d);
    pthread_mutex_unlock(&g_cm);
    return (void *)(intptr_t)e;
}

/* timedwait on cv (whose clock is c) for 50 ms: ETIMEDOUT, not early */
static void timed_out(pthread_cond_t *cv, clockid_t c)
{
    pthread_mutex_lock(&g_cm);
    double t0 = now(CLOCK_MONOTONIC);
    struct timespec d = deadline(c, 50);
    int e;
    while ((e = pthread_cond_timedwait(cv, &g_cm, &d)) == 0)
        ; /* a spurious wake-up: wait again */
    CHECK_EQ(e, ETIMEDOUT);
    CHECK(now(CLOCK_MONOTONIC) - t0 >= 0.045);
    struct timespec past = {1, 0};
    CHECK_EQ(pthread_cond_timedwait(cv, &g_cm, &past), ETIMEDOUT);
    struct timespec bad = {d.tv_sec, 1000000000L};
    CHECK_EQ(pthread_cond_timedwait(cv, &g_cm, &bad), EINVAL);
    pthread_mutex_unlock(&g_cm);
}

void t_cond(void)
{
    g_turn = g_step = g_out_of_turn = 0;
    pthread_t a = spawn(ping_pong, (void *)0), b = spawn(ping_pong, (void *)1);
    join(a);
    join(b);
    CHECK_EQ(g_step, 20000);
    CHECK_EQ(g_out_of_turn, 0);
    printf("cond: ping-pong, 10000 rounds each way, always in turn: ok\n");

    pthread_t t[16];
    g_waiting = g_go = g_woke = 0;
    for (int i = 0; i < 16; i++)
        t[i] = spawn(bcast_waiter, NULL);
    pthread_mutex_lock(&g_cm);
    while (g_waiting < 16)
        pthread_cond_wait(&g_main_cv, &g_cm);
    g_go = 1;
    pthread_cond_broadcast(&g_bcv);
    pthread_mutex_unlock(&g_cm);
    for (int i = 0; i < 16; i++)
        join(t[i]);
    CHECK_EQ(g_woke, 16);
    printf("cond: broadcast to 16 waiters: ok\n");

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    CHECK_EQ(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
    pthread_cond_t mono, real = PTHREAD_COND_INITIALIZER;
    CHECK_EQ(pthread_cond_init(&mono, &ca), 0);
    pthread_condattr_destroy(&ca);
    timed_out(&mono, CLOCK_MONOTONIC);
    timed_out(&real, CLOCK_REALTIME);
    printf("cond: timedwait ETIMEDOUT on CLOCK_MONOTONIC and CLOCK_REALTIME, EINVAL: ok\n");

    /* a timed waiter signalled long before its deadline */
    g_waiting = g_go = 0;
    pthread_t w = spawn(signalled_waiter, &real);
    double t0 = now(CLOCK_MONOTONIC);
    pthread_mutex_lock(&g_cm);
    while (!g_waiting)
        pthread_cond_wait(&g_main_cv, &g_cm);
    pthread_mutex_unlock(&g_cm);
    msleep(20);
    pthread_mutex_lock(&g_cm);
    g_go = 1;
    pthread_cond_signal(&real);
    pthread_mutex_unlock(&g_cm);
    CHECK_EQ((intptr_t)join(w), 0);
    CHECK(now(CLOCK_MONOTONIC) - t0 < 5);
    printf("cond: a timed waiter woken by a signal before its deadline: ok\n");
}

/* ---- barrier: 8 threads, 1000 rounds, one serial thread per round ---- */

#define B_THREADS 8
#define B_ROUNDS  1000
static pthread_barrier_t g_bar;
static atomic_int g_arrived[B_ROUNDS], g_serial[B_ROUNDS], g_bar_bad;

static void *barrier_worker(void *arg)
{
    (void)arg;
    for (int r = 0; r < B_ROUNDS; r++) {
        atomic_fetch_add(&g_arrived[r], 1);
        int e = pthread_barrier_wait(&g_bar);
        if (e == PTHREAD_BARRIER_SERIAL_THREAD)
            atomic_fetch_add(&g_serial[r], 1);
        else if (e != 0)
            atomic_fetch_add(&g_bar_bad, 1);
        if (atomic_load(&g_arrived[r]) != B_THREADS)
            atomic_fetch_add(&g_bar_bad, 1); /* passed before all had arrived */
    }
    return NULL;
}

void t_barrier(void)
{
    for (int r = 0; r < B_ROUNDS; r++) {
        atomic_store(&g_arrived[r], 0);
        atomic_store(&g_serial[r], 0);
    }
    atomic_store(&g_bar_bad, 0);
    pthread_barrier_t b0;
    CHECK_EQ(pthread_barrier_init(&b0, NULL, 0), EINVAL);
    CHECK_EQ(pthread_barrier_init(&g_bar, NULL, B_THREADS), 0);
    pthread_t t[B_THREADS];
    for (int i = 0; i < B_THREADS; i++)
        t[i] = spawn(barrier_worker, NULL);
    for (int i = 0; i < B_THREADS; i++)
        join(t[i]);
    CHECK_EQ(atomic_load(&g_bar_bad), 0);
    for (int r = 0; r < B_ROUNDS; r++)
        CHECK_EQ(atomic_load(&g_serial[r]), 1);
    CHECK_EQ(pthread_barrier_destroy(&g_bar), 0);
    printf("barrier: 8 threads, 1000 rounds, one serial thread each: ok\n");
}

/* ---- rwlock: readers together, writers alone ---- */

static pthread_rwlock_t g_rw = PTHREAD_RWLOCK_INITIALIZER;
static atomic_int g_readers_in, g_writers_in, g_rw_bad, g_rw_phase;
static long g_rw_a, g_rw_b;

static void *hold_read(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_rwlock_rdlock(&g_rw), 0);
    atomic_store(&g_rw_phase, 1);
    WAIT_FOR(&g_rw_phase, 2);
    CHECK_EQ(pthread_rwlock_unlock(&g_rw), 0);
    return NULL;
}

static void *hold_write(void *arg)
{
    (void)arg;
    CHECK_EQ(pthread_rwlock_wrlock(&g_rw), 0);
    atomic_store(&g_rw_phase, 1);
    WAIT_FOR(&g_rw_phase, 2);
    CHECK_EQ(pthread_rwlock_unlock(&g_rw), 0);
    return NULL;
}

/* 4 readers each take the lock (timed), then wait for all 4 to be inside at once */
static void *reader_together(void *arg)
{
    (void)arg;
    struct timespec d = deadline(CLOCK_REALTIME, 10000);
    if (pthread_rwlock_timedrdlock(&g_rw, &d))
        return (void *)1;
    atomic_fetch_add(&g_readers_in, 1);
    WAIT_FOR(&g_readers_in, 4);
    pthread_rwlock_unlock(&g_rw);
    return NULL;
}

static void *rw_reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_rwlock_rdlock(&g_rw);
        atomic_fetch_add(&g_readers_in, 1);
        if (atomic_load(&g_writers_in) != 0 || g_rw_a != g_rw_b)
            atomic_fetch_add(&g_rw_bad, 1);
        atomic_fetch_sub(&g_readers_in, 1);
        pthread_rwlock_unlock(&g_rw);
    }
    return NULL;
}

static void *rw_writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_rwlock_wrlock(&g_rw);
        if (atomic_fetch_add(&g_writers_in, 1) != 0 || atomic_load(&g_readers_in) != 0)
            atomic_fetch_add(&g_rw_bad, 1);
        g_rw_a++;
        sched_yield(); /* a reader would see a != b now */
        g_rw_b++;
        atomic_fetch_sub(&g_writers_in, 1);
        pthread_rwlock_unlock(&g_rw);
    }
    return NULL;
}

void t_rwlock(void)
{
    atomic_store(&g_rw_phase, 0);
    atomic_store(&g_readers_in, 0);
    atomic_store(&g_writers_in, 0);
    atomic_store(&g_rw_bad, 0);
    g_rw_a = g_rw_b = 0;
    pthread_t t = spawn(hold_read, NULL);
    WAIT_FOR(&g_rw_phase, 1);
    CHECK_EQ(pthread_rwlock_tryrdlock(&g_rw), 0);
    CHECK_EQ(pthread_rwlock_unlock(&g_rw), 0);
    CHECK_EQ(pthread_rwlock_trywrlock(&g_rw), EBUSY);
    atomic_store(&g_rw_phase, 2);
    join(t);
    atomic_store(&g_rw_phase, 0);
    t = spawn(hold_write, NULL);
    WAIT_FOR(&g_rw_phase, 1);
    CHECK_EQ(pthread_rwlock_tryrdlock(&g_rw), EBUSY);
    CHECK_EQ(pthread_rwlock_trywrlock(&g_rw), EBUSY);
    struct timespec d = deadline(CLOCK_REALTIME, 30);
    CHECK_EQ(pthread_rwlock_timedrdlock(&g_rw, &d), ETIMEDOUT);
    atomic_store(&g_rw_phase, 2);
    join(t);
    CHECK_EQ(pthread_rwlock_trywrlock(&g_rw), 0);
    CHECK_EQ(pthread_rwlock_unlock(&g_rw), 0);
    printf("rwlock: a reader admits readers, not writers; a writer admits neither: ok\n");

    pthread_t r[4];
    for (int i = 0; i < 4; i++)
        r[i] = spawn(reader_together, NULL);
    for (int i = 0; i < 4; i++)
        CHECK_EQ((intptr_t)join(r[i]), 0);
    printf("rwlock: 4 readers inside at once: ok\n");

    atomic_store(&g_readers_in, 0);
    pthread_t w[6];
    for (int i = 0; i < 6; i++)
        w[i] = spawn(i < 4 ? rw_reader : rw_writer, NULL);
    for (int i = 0; i < 6; i++)
        join(w[i]);
    CHECK_EQ(atomic_load(&g_rw_bad), 0);
    CHECK_EQ(g_rw_a, 40000);
    CHECK_EQ(g_rw_b, 40000);
    printf("rwlock: 4 readers x 20000, 2 writers x 20000, writers always alone: ok\n");
}
