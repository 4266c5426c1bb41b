/* thr_basic.c: POSIX threads, as a program uses them: create and join (return values, detached
 * threads, threads creating threads), mutexes (normal, recursive, error-checking, robust),
 * condition variables (ping-pong, broadcast, timeouts on both clocks), barriers, read-write
 * locks, thread-local storage and keys, a pipe between two threads, malloc from many threads at
 * once, a parallel sum, thread IDs, CPU affinity and per-thread signal masks and delivery.
 *   thr_basic [SUBCOMMAND [N]]...   the subcommands in turn; none: all of them, in order
 * Subcommands: create [N] (default 256), mutex, robust, cond, barrier, rwlock, tls, pipe, malloc,
 * sum, tid, affinity, sigmask. Each prints one line per check group ("NAME: ... ok"), only facts
 * that are the same on Linux and in an enclave (no addresses, IDs, timings or CPU numbers); a wrong
 * result prints "FAIL ..." and exits 1. alarm(120) ends a hung run with SIGALRM (status 142).
 * Memory stays under 48 MiB: threads other than the 3 made with default attributes get 64 KiB
 * stacks. The synchronisation objects' checks (mutex, robust, cond, barrier, rwlock) are in
 * thr_basic_sync.c, linked into this program. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STACK (64u << 10)

#include "thr_basic_sync.h"
#include "thr_common.h"

/* ---- create: waves of 1, 2, 4 ... N threads at once; detached threads; nested creation ---- */

static atomic_int g_running, g_detached_done;

static void *ret_value(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    atomic_fetch_add(&g_running, 1);
    if (i & 1)
        pthread_exit((void *)(i * 7 + 1));
    return (void *)(i * 7 + 1);
}

static void *detached(void *arg)
{
    (void)arg;
    atomic_fetch_add(&g_detached_done, 1);
    return NULL;
}

static void *nested(void *arg)
{
    uintptr_t depth = (uintptr_t)arg, sum = 1;
    if (depth > 0) {
        pthread_t t[3];
        for (int i = 0; i < 3; i++)
            t[i] = spawn(nested, (void *)(depth - 1));
        for (int i = 0; i < 3; i++)
            sum += (uintptr_t)join(t[i]);
    }
    return (void *)sum;
}

static void t_create(int n)
{
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    CHECK(t != NULL);
    int total = 0, waves = 0;
    atomic_store(&g_running, 0);
    atomic_store(&g_detached_done, 0);
    for (int size = 1;; size = size * 2 > n ? n : size * 2) {
        for (int i = 0; i < size; i++) {
            if (size <= 2) /* the default attributes: the C library's default stack size */
                CHECK_EQ(pthread_create(&t[i], NULL, ret_value, (void *)(uintptr_t)i), 0);
            else
                t[i] = spawn(ret_value, (void *)(uintptr_t)i);
        }
        for (int i = 0; i < size; i++)
            CHECK_EQ((uintptr_t)join(t[i]), (uintptr_t)i * 7 + 1);
        total += size;
        waves++;
        if (size == n)
            break;
    }
    CHECK_EQ(atomic_load(&g_running), total);
    free(t);
    printf("create: %d threads in %d waves of up to %d, return values joined: ok\n", total, waves,
           n);

    /* 64 created detached, 8 detached after creation: each counts itself */
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, STACK);
    CHECK_EQ(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0);
    for (int i = 0; i < 64; i++) {
        pthread_t d;
        CHECK_EQ(pthread_create(&d, &a, detached, NULL), 0);
    }
    pthread_attr_destroy(&a);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(pthread_detach(spawn(detached, NULL)), 0);
    WAIT_FOR(&g_detached_done, 72);
    CHECK_EQ(atomic_load(&g_detached_done), 72);
    printf("create: 72 detached threads finished: ok\n");

    /* threads that create and join threads: 1 + 3 + 9 + 27 */
    CHECK_EQ((uintptr_t)join(spawn(nested, (void *)3)), 40);
    printf("create: nested creation, 40 threads: ok\n");
}

/* ---- tls: __thread variables, keys and their destructors, errno ---- */

static __thread int tl_init = 42;
static __thread char tl_buf[64] = "initial";
static __thread long tl_zero;
static pthread_key_t g_key, g_key_unset;
static atomic_int g_dtor_runs, g_dtor_bad, g_dtor_unset_runs;
static pthread_barrier_t g_tls_bar;
static void *g_tl_addr[8];

static int g_key_vals[8];

static void dtor(void *v)
{
    int *p = v;
    if (p != &g_key_vals[*p & 7]) /* its own thread's value */
        atomic_fetch_add(&g_dtor_bad, 1);
    atomic_fetch_add(&g_dtor_runs, 1);
}

static void dtor_unset(void *v)
{
    (void)v;
    atomic_fetch_add(&g_dtor_unset_runs, 1);
}

static void *tls_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    int ok = tl_init == 42 && strcmp(tl_buf, "initial") == 0 && tl_zero == 0 &&
             pthread_getspecific(g_key) == NULL;
    tl_init = id * 100;
    snprintf(tl_buf, sizeof(tl_buf), "thread %d", id);
    tl_zero = -id;
    g_tl_addr[id] = &tl_init;
    int *v = &g_key_vals[id];
    *v = id;
    ok = ok && pthread_setspecific(g_key, v) == 0;
    ok = ok && pthread_setspecific(g_key_unset, &g_dtor_runs) == 0 &&
         pthread_setspecific(g_key_unset, NULL) == 0; /* NULL at exit: no destructor */
    errno = 0;
    ok = ok && close(-1) == -1 && errno == EBADF;
    pthread_barrier_wait(&g_tls_bar); /* all (and main) have written theirs */
    char want[64];
    snprintf(want, sizeof(want), "thread %d", id);
    ok = ok && tl_init == id * 100 && strcmp(tl_buf, want) == 0 && tl_zero == -id &&
         pthread_getspecific(g_key) == v && *(int *)pthread_getspecific(g_key) == id;
    return (void *)(intptr_t)ok;
}

static void t_tls(void)
{
    atomic_store(&g_dtor_runs, 0);
    atomic_store(&g_dtor_bad, 0);
    atomic_store(&g_dtor_unset_runs, 0);
    CHECK_EQ(pthread_key_create(&g_key, dtor), 0);
    CHECK_EQ(pthread_key_create(&g_key_unset, dtor_unset), 0);
    CHECK_EQ(pthread_barrier_init(&g_tls_bar, NULL, 9), 0);
    tl_init = 7;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = spawn(tls_worker, (void *)(intptr_t)i);
    errno = 12345;
    pthread_barrier_wait(&g_tls_bar); /* the threads set their errno to EBADF before this */
    int e = errno;
    for (int i = 0; i < 8; i++)
        CHECK_EQ((intptr_t)join(t[i]), 1);
    CHECK_EQ(tl_init, 7);
    CHECK(strcmp(tl_buf, "initial") == 0);
    CHECK_EQ(tl_zero, 0);
    CHECK_EQ(e, 12345);
    CHECK(pthread_getspecific(g_key) == NULL);
    for (int i = 0; i < 8; i++) {
        CHECK(g_tl_addr[i] != &tl_init);
        for (int j = 0; j < i; j++)
            CHECK(g_tl_addr[i] != g_tl_addr[j]);
    }
    printf("tls: 8 threads see their own __thread variables and errno: ok\n");
    CHECK_EQ(atomic_load(&g_dtor_runs), 8);
    CHECK_EQ(atomic_load(&g_dtor_bad), 0);
    CHECK_EQ(atomic_load(&g_dtor_unset_runs), 0);
    CHECK_EQ(pthread_key_delete(g_key), 0);
    CHECK_EQ(pthread_key_delete(g_key_unset), 0);
    pthread_barrier_destroy(&g_tls_bar);
    printf("tls: keys: own values, 8 destructor runs, none for NULL values: ok\n");
}

/* ---- pipe: 4 MiB from one thread to another ---- */

#define PIPE_BYTES (4u << 20)

static unsigned char pattern(uint32_t i)
{
    return (unsigned char)((i * 2654435761u) >> 13);
}

static int g_pipe[2];

static void *producer(void *arg)
{
    (void)arg;
    static unsigned char buf[8192];
    uint32_t off = 0, step = 1;
    while (off < PIPE_BYTES) {
        uint32_t n = step % 8191 + 1; /* 1 to 8191 bytes */
        if (n > PIPE_BYTES - off)
            n = PIPE_BYTES - off;
        for (uint32_t i = 0; i < n; i++)
            buf[i] = pattern(off + i);
        uint32_t done = 0;
        while (done < n) {
            ssize_t w = write(g_pipe[1], buf + done, n - done);
            if (w <= 0)
                return (void *)1;
            done += (uint32_t)w;
        }
        off += n;
        step = step * 7 + 3;
    }
    close(g_pipe[1]);
    return NULL;
}

static void t_pipe(void)
{
    CHECK_EQ(pipe(g_pipe), 0);
    pthread_t t = spawn(producer, NULL);
    static unsigned char buf[65536];
    uint32_t off = 0, bad = 0;
    uint64_t sum = 0, want = 0;
    ssize_t n;
    while ((n = read(g_pipe[0], buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != pattern(off + (uint32_t)i))
                bad++;
            sum = sum * 31 + buf[i];
        }
        off += (uint32_t)n;
    }
    CHECK_EQ(n, 0);
    CHECK_EQ((intptr_t)join(t), 0);
    for (uint32_t i = 0; i < PIPE_BYTES; i++)
        want = want * 31 + pattern(i);
    CHECK_EQ(off, PIPE_BYTES);
    CHECK_EQ(bad, 0);
    CHECK(sum == want);
    close(g_pipe[0]);
    printf("pipe: 4 MiB between two threads, in order, then the end: ok\n");
}

/* ---- malloc: 8 threads allocating and freeing at once; blocks freed by another thread ---- */

#define M_KEEP 64
static unsigned char *g_blocks[8][M_KEEP];
static size_t g_sizes[8][M_KEEP];

static int block_ok(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

static void *malloc_worker(void *arg)
{
    int id = (int)(intptr_t)arg, bad = 0;
    uint32_t x = (uint32_t)id * 2654435761u + 1;
    unsigned char **keep = g_blocks[id];
    size_t *size = g_sizes[id];
    for (int i = 0; i < 20000; i++) {
        x = x * 1103515245u + 12345u;
        int slot = (int)(x >> 8) % M_KEEP;
        unsigned char v = (unsigned char)(id * M_KEEP + slot);
        if (keep[slot]) {
            bad += !block_ok(keep[slot], size[slot], v);
            free(keep[slot]);
        }
        size[slot] = 16 + (x >> 16) % 4096;
        keep[slot] = malloc(size[slot]);
        if (!keep[slot]) {
            bad++;
            continue;
        }
        memset(keep[slot], v, size[slot]);
    }
    return (void *)(intptr_t)bad;
}

static void t_malloc(void)
{
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = spawn(malloc_worker, (void *)(intptr_t)i);
    for (int i = 0; i < 8; i++)
        CHECK_EQ((intptr_t)join(t[i]), 0);
    for (int i = 0; i < 8; i++)
        for (int s = 0; s < M_KEEP; s++) {
            if (!g_blocks[i][s])
                continue;
            CHECK(block_ok(g_blocks[i][s], g_sizes[i][s], (unsigned char)(i * M_KEEP + s)));
            free(g_blocks[i][s]); /* allocated by a thread that has ended */
            g_blocks[i][s] = NULL;
        }
    printf("malloc: 8 threads x 20000 malloc/free at once, the last blocks freed by main: ok\n");
}

/* ---- sum: a parallel sum over 16 MiB by 1, 2, 4 and 8 threads; atomics ---- */

#define SUM_N (2u << 20)
static uint64_t *g_arr;
struct part {
    uint64_t lo, hi, sum;
    char pad[40];
};

static void *sum_part(void *arg)
{
    struct part *p = arg;
    uint64_t s = 0;
    for (uint64_t i = p->lo; i < p->hi; i++)
        s += g_arr[i];
    p->sum = s;
    return NULL;
}

static atomic_ullong g_atomic;
static unsigned long long g_cas;

static void *atomic_adds(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        atomic_fetch_add(&g_atomic, 1);
        unsigned long long old = __atomic_load_n(&g_cas, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&g_cas, &old, old + 3, 1, __ATOMIC_SEQ_CST,
                                            __ATOMIC_RELAXED))
            ;
    }
    return NULL;
}

static void t_sum(void)
{
    g_arr = malloc(SUM_N * sizeof(*g_arr));
    CHECK(g_arr != NULL);
    uint64_t x = 0x9e3779b97f4a7c15ull, serial = 0;
    for (uint32_t i = 0; i < SUM_N; i++) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        g_arr[i] = z ^ (z >> 31);
        serial += g_arr[i];
    }
    for (int n = 1; n <= 8; n *= 2) {
        struct part p[8];
        pthread_t t[8];
        for (int i = 0; i < n; i++) {
            p[i].lo = (uint64_t)SUM_N * i / n;
            p[i].hi = (uint64_t)SUM_N * (i + 1) / n;
            t[i] = spawn(sum_part, &p[i]);
        }
        uint64_t s = 0;
        for (int i = 0; i < n; i++) {
            join(t[i]);
            s += p[i].sum;
        }
        if (s != serial)
            fail_eq(__LINE__, "parallel sum", n, -1);
    }
    free(g_arr);
    printf("sum: 2M elements by 1, 2, 4 and 8 threads equal the serial sum: ok\n");

    pthread_t t[8];
    atomic_store(&g_atomic, 0);
    g_cas = 0;
    for (int i = 0; i < 8; i++)
        t[i] = spawn(atomic_adds, NULL);
    for (int i = 0; i < 8; i++)
        join(t[i]);
    CHECK_EQ(atomic_load(&g_atomic), 800000);
    CHECK_EQ(g_cas, 2400000);
    printf("sum: 8 threads x 100000 atomic adds and compare-exchanges: ok\n");
}

/* ---- tid: thread IDs ---- */

struct ids {
    pid_t tid, pid, ppid;
    pthread_t self;
    int tgkill_ok;
};
static pthread_barrier_t g_tid_bar;

static void *get_ids(void *arg)
{
    struct ids *p = arg;
    p->tid = (pid_t)syscall(SYS_gettid);
    p->pid = getpid();
    p->ppid = getppid();
    p->self = pthread_self();
    pthread_barrier_wait(&g_tid_bar); /* all alive at once: no tid reused */
    p->tgkill_ok = syscall(SYS_tgkill, getpid(), p->tid, 0) == 0;
    pthread_barrier_wait(&g_tid_bar);
    return NULL;
}

static void t_tid(void)
{
    pid_t pid = getpid();
    CHECK_EQ(syscall(SYS_gettid), pid);
    CHECK_EQ(syscall(SYS_tgkill, pid, pid, 0), 0);
    CHECK(pthread_equal(pthread_self(), pthread_self()));
    struct ids ids[8];
    pthread_t t[8];
    CHECK_EQ(pthread_barrier_init(&g_tid_bar, NULL, 8), 0);
    for (int i = 0; i < 8; i++)
        t[i] = spawn(get_ids, &ids[i]);
    for (int i = 0; i < 8; i++)
        join(t[i]);
    pthread_barrier_destroy(&g_tid_bar);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(ids[i].pid, pid);
        CHECK_EQ(ids[i].ppid, getppid());
        CHECK(ids[i].tid > 0 && ids[i].tid != pid);
        CHECK(ids[i].tgkill_ok);
        CHECK(pthread_equal(ids[i].self, t[i]));
        CHECK(!pthread_equal(ids[i].self, pthread_self()));
        for (int j = 0; j < i; j++) {
            CHECK(ids[i].tid != ids[j].tid);
            CHECK(!pthread_equal(ids[i].self, ids[j].self));
        }
    }
    printf("tid: main's tid is the pid; 8 threads: own tids, the same pid, distinct "
           "pthread_self: ok\n");
}

/* ---- affinity ---- */

static void *affinity_thread(void *arg)
{
    int first = (int)(intptr_t)arg, ok = 1;
    cpu_set_t one, got;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ok = ok && sched_setaffinity(0, sizeof(one), &one) == 0;
    ok = ok && sched_getaffinity(0, sizeof(got), &got) == 0 && CPU_EQUAL(&got, &one);
    ok = ok && sched_getcpu() == first;
    return (void *)(intptr_t)ok;
}

static void t_affinity(void)
{
    cpu_set_t all, one, got;
    CHECK_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
    CHECK(CPU_COUNT(&all) > 0);
    int first = 0;
    while (!CPU_ISSET(first, &all))
        first++;
    int c = sched_getcpu();
    CHECK(c >= 0 && CPU_ISSET(c, &all));
    printf("affinity: the set is not empty, the CPU running is in it: ok\n");

    /* a thread pins itself: its mask changes, main's does not */
    CHECK_EQ((intptr_t)join(spawn(affinity_thread, (void *)(intptr_t)first)), 1);
    CHECK_EQ(sched_getaffinity(0, sizeof(got), &got), 0);
    CHECK(CPU_EQUAL(&got, &all));
    printf("affinity: a thread pins itself to the first CPU, main's set unchanged: ok\n");

    CPU_ZERO(&one);
    CPU_SET(first, &one);
    CHECK_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
    CHECK_EQ(sched_getaffinity(0, sizeof(got), &got), 0);
    CHECK(CPU_EQUAL(&got, &one));
    CHECK_EQ(sched_getcpu(), first);
    CHECK_EQ(pthread_getaffinity_np(pthread_self(), sizeof(got), &got), 0);
    CHECK(CPU_EQUAL(&got, &one));
    cpu_set_t none;
    CPU_ZERO(&none);
    errno = 0;
    CHECK(sched_setaffinity(0, sizeof(none), &none) == -1 && errno == EINVAL);
    CHECK_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
    CHECK_EQ(sched_getaffinity(0, sizeof(got), &got), 0);
    CHECK(CPU_EQUAL(&got, &all));
    printf("affinity: main pinned to the first CPU and back, an empty set EINVAL: ok\n");
}

/* ---- sigmask: per-thread masks, process- and thread-directed signals ---- */

static volatile pthread_t g_sig_self[65];
static atomic_int g_sig_count[65];

static void h_record(int sig)
{
    g_sig_self[sig] = pthread_self();
    atomic_fetch_add(&g_sig_count[sig], 1);
}

static atomic_int g_sm_stop, g_sm_ready;

static void block(int how, int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK_EQ(pthread_sigmask(how, &s, NULL), 0);
}

static int is_blocked(int sig)
{
    sigset_t s;
    pthread_sigmask(SIG_SETMASK, NULL, &s);
    return sigismember(&s, sig);
}

/* waits, with SIGUSR1 blocked or not (arg), until told to stop */
static void *sm_waiter(void *arg)
{
    block(arg ? SIG_UNBLOCK : SIG_BLOCK, SIGUSR1);
    atomic_fetch_add(&g_sm_ready, 1);
    while (!atomic_load(&g_sm_stop))
        msleep(1);
    return NULL;
}

/* unblocks SIGUSR1 when told to (phase 1), then waits until told to stop */
static atomic_int g_sm_phase;
static void *sm_unblock_later(void *arg)
{
    (void)arg;
    atomic_fetch_add(&g_sm_ready, 1);
    WAIT_FOR(&g_sm_phase, 1);
    block(SIG_UNBLOCK, SIGUSR1); /* the pending signal is delivered here */
    int ok = g_sig_count[SIGUSR1] == 1 && pthread_equal(g_sig_self[SIGUSR1], pthread_self());
    while (!atomic_load(&g_sm_stop))
        msleep(1);
    return (void *)(intptr_t)ok;
}

/* blocks SIGUSR2, waits for main to send it, sees it pending, unblocks it */
static void *sm_pending(void *arg)
{
    (void)arg;
    block(SIG_BLOCK, SIGUSR2);
    atomic_fetch_add(&g_sm_ready, 1);
    WAIT_FOR(&g_sm_phase, 2);
    sigset_t p;
    sigpending(&p);
    int ok = sigismember(&p, SIGUSR2) && g_sig_count[SIGUSR2] == 0;
    block(SIG_UNBLOCK, SIGUSR2);
    ok = ok && g_sig_count[SIGUSR2] == 1 && pthread_equal(g_sig_self[SIGUSR2], pthread_self());
    return (void *)(intptr_t)ok;
}

static void *sm_child(void *arg)
{
    (void)arg;
    int ok = is_blocked(SIGINT) && is_blocked(SIGTERM); /* inherited from its creator */
    block(SIG_UNBLOCK, SIGINT);
    return (void *)(intptr_t)(ok && !is_blocked(SIGINT));
}

static void *sm_changer(void *arg)
{
    (void)arg;
    block(SIG_BLOCK, SIGINT);
    block(SIG_BLOCK, SIGTERM);
    int ok = (intptr_t)join(spawn(sm_child, NULL)) == 1;
    ok = ok && is_blocked(SIGINT); /* the child's unblock did not change this thread */
    atomic_store(&g_sm_phase, 10);
    WAIT_FOR(&g_sm_phase, 11);
    return (void *)(intptr_t)ok;
}

static void *sm_sigwait(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    int sig = 0;
    if (sigwait(&s, &sig))
        return (void *)-1;
    return (void *)(intptr_t)sig;
}

static void t_sigmask(void)
{
    for (int i = 0; i < 65; i++)
        atomic_store(&g_sig_count[i], 0);
    atomic_store(&g_sm_stop, 0);
    atomic_store(&g_sm_ready, 0);
    atomic_store(&g_sm_phase, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h_record;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    CHECK_EQ(sigaction(SIGUSR2, &sa, NULL), 0);

    /* a process-directed signal goes to the one thread that does not block it */
    block(SIG_BLOCK, SIGUSR1);
    pthread_t a = spawn(sm_waiter, NULL), b = spawn(sm_waiter, (void *)1),
              c = spawn(sm_waiter, NULL);
    WAIT_FOR(&g_sm_ready, 3);
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    WAIT_FOR(&g_sig_count[SIGUSR1], 1);
    msleep(20);
    CHECK_EQ(atomic_load(&g_sig_count[SIGUSR1]), 1);
    CHECK(pthread_equal(g_sig_self[SIGUSR1], b));
    atomic_store(&g_sm_stop, 1);
    join(a);
    join(b);
    join(c);
    printf("sigmask: kill(getpid()) handled by the one thread not blocking it: ok\n");

    /* blocked everywhere: pending for the process until a thread unblocks it */
    atomic_store(&g_sm_stop, 0);
    atomic_store(&g_sm_ready, 0);
    atomic_store(&g_sig_count[SIGUSR1], 0);
    a = spawn(sm_waiter, NULL);
    b = spawn(sm_unblock_later, NULL);
    WAIT_FOR(&g_sm_ready, 2);
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    sigset_t p;
    CHECK_EQ(sigpending(&p), 0);
    CHECK(sigismember(&p, SIGUSR1));
    msleep(20);
    CHECK_EQ(atomic_load(&g_sig_count[SIGUSR1]), 0);
    atomic_store(&g_sm_phase, 1);
    WAIT_FOR(&g_sig_count[SIGUSR1], 1);
    CHECK(pthread_equal(g_sig_self[SIGUSR1], b));
    atomic_store(&g_sm_stop, 1);
    CHECK_EQ((intptr_t)join(b), 1);
    join(a);
    CHECK_EQ(sigpending(&p), 0);
    CHECK(!sigismember(&p, SIGUSR1));
    printf("sigmask: blocked by all, pending, taken by the thread that unblocks it: ok\n");

    /* pthread_kill reaches exactly its target, each of 4 threads in turn, and main itself */
    atomic_store(&g_sm_stop, 0);
    atomic_store(&g_sm_ready, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn(sm_waiter, NULL);
    WAIT_FOR(&g_sm_ready, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(pthread_kill(t[i], SIGUSR2), 0);
        WAIT_FOR(&g_sig_count[SIGUSR2], i + 1);
        CHECK(pthread_equal(g_sig_self[SIGUSR2], t[i]));
    }
    CHECK_EQ(pthread_kill(pthread_self(), SIGUSR2), 0);
    CHECK_EQ(atomic_load(&g_sig_count[SIGUSR2]), 5); /* delivered before pthread_kill returns */
    CHECK(pthread_equal(g_sig_self[SIGUSR2], pthread_self()));
    CHECK_EQ(pthread_kill(t[0], 0), 0);
    atomic_store(&g_sm_stop, 1);
    for (int i = 0; i < 4; i++)
        join(t[i]);
    CHECK_EQ(atomic_load(&g_sig_count[SIGUSR2]), 5);
    printf("sigmask: pthread_kill reaches exactly its target, 4 threads and main: ok\n");

    /* a thread-directed signal stays pending for its blocking target only */
    atomic_store(&g_sig_count[SIGUSR2], 0);
    atomic_store(&g_sm_ready, 0);
    atomic_store(&g_sm_phase, 0);
    a = spawn(sm_pending, NULL);
    WAIT_FOR(&g_sm_ready, 1);
    CHECK_EQ(pthread_kill(a, SIGUSR2), 0);
    msleep(20);
    CHECK_EQ(atomic_load(&g_sig_count[SIGUSR2]), 0);
    CHECK_EQ(sigpending(&p), 0);
    CHECK(!sigismember(&p, SIGUSR2)); /* pending for the thread, not for main */
    atomic_store(&g_sm_phase, 2);
    CHECK_EQ((intptr_t)join(a), 1);
    printf("sigmask: a signal to a blocking thread is pending for it alone: ok\n");

    /* one thread's pthread_sigmask does not change another's; a new thread inherits */
    sigset_t before, after;
    memset(&before, 0, sizeof(before)); /* the kernel fills only 8 of sizeof(sigset_t) bytes */
    memset(&after, 0, sizeof(after));
    pthread_sigmask(SIG_SETMASK, NULL, &before);
    atomic_store(&g_sm_phase, 0);
    a = spawn(sm_changer, NULL);
    WAIT_FOR(&g_sm_phase, 10);
    pthread_sigmask(SIG_SETMASK, NULL, &after);
    CHECK(!sigismember(&after, SIGINT) && !sigismember(&after, SIGTERM));
    CHECK(memcmp(&before, &after, sizeof(before)) == 0);
    atomic_store(&g_sm_phase, 11);
    CHECK_EQ((intptr_t)join(a), 1);
    printf("sigmask: masks are per thread, and inherited by a new thread: ok\n");

    /* sigwait in a dedicated thread, SIGUSR1 blocked everywhere */
    atomic_store(&g_sig_count[SIGUSR1], 0);
    a = spawn(sm_sigwait, NULL);
    CHECK_EQ(kill(getpid(), SIGUSR1), 0);
    CHECK_EQ((intptr_t)join(a), SIGUSR1);
    CHECK_EQ(atomic_load(&g_sig_count[SIGUSR1]), 0);
    block(SIG_UNBLOCK, SIGUSR1);
    printf("sigmask: sigwait in another thread takes a process-directed signal: ok\n");
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    static const char *all[] = {"create", "mutex",  "robust", "cond", "barrier",  "rwlock", "tls",
                                "pipe",   "malloc", "sum",    "tid",  "affinity", "sigmask"};
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(120);
    const char **list = argc > 1 ? (const char **)argv + 1 : all;
    int n = argc > 1 ? argc - 1 : (int)(sizeof(all) / sizeof(all[0]));
    for (int i = 0; i < n; i++) {
        const char *c = list[i];
        if (strcmp(c, "create") == 0) {
            int k = 256;
            if (i + 1 < n && list[i + 1][0] >= '0' && list[i + 1][0] <= '9')
                k = atoi(list[++i]);
            if (k < 1 || k > 4096) {
                fprintf(stderr, "thr_basic: create N: 1 to 4096\n");
                return 2;
            }
            t_create(k);
        } else if (strcmp(c, "mutex") == 0)
            t_mutex();
        else if (strcmp(c, "robust") == 0)
            t_robust();
        else if (strcmp(c, "cond") == 0)
            t_cond();
        else if (strcmp(c, "barrier") == 0)
            t_barrier();
        else if (strcmp(c, "rwlock") == 0)
            t_rwlock();
        else if (strcmp(c, "tls") == 0)
            t_tls();
        else if (strcmp(c, "pipe") == 0)
            t_pipe();
        else if (strcmp(c, "malloc") == 0)
            t_malloc();
        else if (strcmp(c, "sum") == 0)
            t_sum();
        else if (strcmp(c, "tid") == 0)
            t_tid();
        else if (strcmp(c, "affinity") == 0)
            t_affinity();
        else if (strcmp(c, "sigmask") == 0)
            t_sigmask();
        else {
            fprintf(stderr, "thr_basic: unknown subcommand '%s'\n", c);
            return 2;
        }
    }
    return 0;
}
