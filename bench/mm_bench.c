/* mm_bench.c: what the memory model's hardware steps cost, timed inside the program (bench/mm.sh
 * runs it natively and in an enclave). Each mode does N operations and prints "SECONDS CHECK".
 *   mm_bench touch N      first touch of N pages that cannot be part of a 2 MiB page (each
 *                         page of its own mapping, a PROT_NONE page between): a page fault, a
 *                         frame, a page-table write
 *   mm_bench protect N    N times: a touched page made read-only, then writable again
 *                         (mprotect: page-table writes and a TLB invalidation)
 *   mm_bench segv N       N times: a store to a PROT_NONE page, SIGSEGV to a handler that
 *                         leaves with siglongjmp (a fault, a signal, its return)
 *   mm_bench procs N      N round trips of one byte between two processes over two pipes: each
 *                         blocks in turn, so every trip switches address spaces twice (run
 *                         on one CPU: taskset natively, --cpu-count 1 in an enclave)
 *   mm_bench threads N    the same between two threads of one process (no address-space
 *                         switch): procs minus threads is what the switches add */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static double touch(long n)
{
    char *m = mmap(NULL, (size_t)n * 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        die("mmap");
    for (long i = 0; i < n; i++)
        if (mprotect(m + i * 2 * PAGE, PAGE, PROT_READ | PROT_WRITE))
            die("mprotect");
    double t0 = now();
    for (long i = 0; i < n; i++)
        m[i * 2 * PAGE] = 1;
    double t = now() - t0;
    munmap(m, (size_t)n * 2 * PAGE);
    return t;
}

static double protect(long n)
{
    char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        die("mmap");
    m[0] = 1;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (mprotect(m, PAGE, PROT_READ) || mprotect(m, PAGE, PROT_READ | PROT_WRITE))
            die("mprotect");
        m[0] = (char)i;
    }
    return now() - t0;
}

static sigjmp_buf g_jb;
static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(g_jb, 1);
}

static double segv(long n)
{
    volatile char *m = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        die("mmap");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    volatile long faults = 0;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (sigsetjmp(g_jb, 0) == 0)
            m[0] = 1;
        else
            faults++;
    }
    double t = now() - t0;
    if (faults != n) {
        fprintf(stderr, "mm_bench: %ld faults for %ld stores\n", (long)faults, n);
        exit(1);
    }
    return t;
}

/* ping-pong: a writes to b, b answers */
static int g_ab[2], g_ba[2];

static void pong(long n)
{
    char c;
    for (long i = 0; i < n; i++)
        if (read(g_ab[0], &c, 1) != 1 || write(g_ba[1], &c, 1) != 1)
            die("pong");
}

static void *pong_thread(void *arg)
{
    pong((long)arg);
    return NULL;
}

static double ping(long n)
{
    char c = 'x';
    double t0 = now();
    for (long i = 0; i < n; i++)
        if (write(g_ab[1], &c, 1) != 1 || read(g_ba[0], &c, 1) != 1)
            die("ping");
    return now() - t0;
}

static double procs(long n)
{
    if (pipe(g_ab) || pipe(g_ba))
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        pong(n);
        _exit(0);
    }
    double t = ping(n);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        die("the child");
    return t;
}

static double threads(long n)
{
    if (pipe(g_ab) || pipe(g_ba))
        die("pipe");
    pthread_t th;
    if (pthread_create(&th, NULL, pong_thread, (void *)n))
        die("pthread_create");
    double t = ping(n);
    pthread_join(th, NULL);
    return t;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mm_bench touch|protect|segv|procs|threads N\n");
        return 2;
    }
    long n = atol(argv[2]);
    double t;
    if (n <= 0)
        return 2;
    if (strcmp(argv[1], "touch") == 0)
        t = touch(n);
    else if (strcmp(argv[1], "protect") == 0)
        t = protect(n);
    else if (strcmp(argv[1], "segv") == 0)
        t = segv(n);
    else if (strcmp(argv[1], "procs") == 0)
        t = procs(n);
    else if (strcmp(argv[1], "threads") == 0)
        t = threads(n);
    else
        return 2;
    printf("%.6f %ld\n", t, n);
    return 0;
}
