/* thr_wakeups.c: a blocked thread is woken by what it waits for, not by every other syscall.
 * One thread (the waiter) blocks for about 300 ms in a call while main makes system calls that
 * change unrelated things (dup and close of a descriptor, as fast as it can) until the waiter is
 * back. The waiter counts its voluntary context switches across the call (getrusage
 * RUSAGE_THREAD, ru_nvcsw): Linux blocks it once or twice; a kernel that woke every waiter
 * after each syscall would count thousands. One subcommand per run, or "all":
 *   waitpid    a child that sleeps, then exits; the waiter is in waitpid for it
 *   vfork      the waiter calls vfork; the child sleeps, then _exit
 *   flock      another open description holds an exclusive flock; the waiter's flock waits
 *   fcntl      a child holds an F_SETLK write lock; the waiter's F_SETLKW waits
 *   nanosleep  the waiter sleeps
 *   sigwait    the waiter is in sigtimedwait with a 300 ms timeout
 * Prints "ok NAME" per check; more than MAX_SWITCHES switches prints "FAIL ..." and exits 1.
 * alarm(60) ends a hung run with SIGALRM (status 142). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK (64u << 10)
#include "thr_common.h"

#define WAIT_MS      300
#define MAX_SWITCHES 20 /* generous: Linux says 1 or 2 */

static const char *g_lockfile = "/tmp/thr_wakeups.lock";

static long my_switches(void)
{
    struct rusage ru;
    CHECK(getrusage(RUSAGE_THREAD, &ru) == 0);
    return ru.ru_nvcsw;
}

/* ---- the waits, each run by the waiter thread between two counts ---- */

static void wait_child(void)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        msleep(WAIT_MS);
        _exit(7);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

static void wait_vfork(void)
{
    pid_t pid = vfork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct timespec ts = {0, WAIT_MS * 1000000L};
        nanosleep(&ts, NULL);
        _exit(8);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 8);
}

static int g_holder_fd = -1;
static atomic_int g_unlock_at_ms; /* main releases the holder's lock this long after the start */

static void wait_flock(void)
{
    int fd = open(g_lockfile, O_RDWR);
    CHECK(fd >= 0);
    CHECK_ERR(flock(fd, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    CHECK(flock(fd, LOCK_EX) == 0); /* granted when main drops the holder's lock */
    CHECK(close(fd) == 0);
}

static pid_t g_lock_child = -1;

static void wait_fcntl(void)
{
    int fd = open(g_lockfile, O_RDWR);
    CHECK(fd >= 0);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    CHECK_ERR(fcntl(fd, F_SETLK, &fl), EAGAIN);
    CHECK(fcntl(fd, F_SETLKW, &fl) == 0); /* granted when the child ends */
    int st;
    CHECK_EQ(waitpid(g_lock_child, &st, 0), g_lock_child);
    CHECK(close(fd) == 0);
}

static void wait_nanosleep(void)
{
    msleep(WAIT_MS);
}

static void wait_sigwait(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
    struct timespec ts = {0, WAIT_MS * 1000000L};
    CHECK_ERR(sigtimedwait(&set, NULL, &ts), EAGAIN);
}

/* ---- the harness ---- */

struct waiter {
    void (*wait)(void);
    long switches;
    atomic_int done;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    long before = my_switches();
    w->wait();
    w->switches = my_switches() - before;
    atomic_store(&w->done, 1);
    return NULL;
}

static void check(const char *name, void (*wait)(void))
{
    struct waiter w = {wait, 0, 0};
    pthread_t th = spawn(waiter_main, &w);
    double t0 = now(CLOCK_MONOTONIC);
    long calls = 0;
    int scratch = open("/dev/null", O_RDONLY);
    CHECK(scratch >= 0);
    while (!atomic_load(&w.done)) {
        int unlock = atomic_load(&g_unlock_at_ms);
        if (unlock && (now(CLOCK_MONOTONIC) - t0) * 1000 >= unlock) {
            CHECK(flock(g_holder_fd, LOCK_UN) == 0);
            atomic_store(&g_unlock_at_ms, 0);
        }
        int d = dup(scratch);
        CHECK(d >= 0);
        CHECK(close(d) == 0);
        calls += 2;
    }
    join(th);
    CHECK(close(scratch) == 0);
    if (w.switches > MAX_SWITCHES) {
        printf("FAIL %s: the waiter blocked %ld times while main made %ld syscalls (want at most "
               "%d)\n",
               name, w.switches, calls, MAX_SWITCHES);
        fflush(stdout);
        _exit(1);
    }
    printf("ok %s\n", name);
}

static void make_lockfile(void)
{
    int fd = open(g_lockfile, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(close(fd) == 0);
}

static void run(const char *what)
{
    bool all = strcmp(what, "all") == 0;
    bool known = all;
    if (all || strcmp(what, "waitpid") == 0) {
        known = true;
        check("waitpid", wait_child);
    }
    if (all || strcmp(what, "vfork") == 0) {
        known = true;
        check("vfork", wait_vfork);
    }
    if (all || strcmp(what, "flock") == 0) {
        known = true;
        make_lockfile();
        g_holder_fd = open(g_lockfile, O_RDWR);
        CHECK(g_holder_fd >= 0);
        CHECK(flock(g_holder_fd, LOCK_EX) == 0);
        atomic_store(&g_unlock_at_ms, WAIT_MS);
        check("flock", wait_flock);
        CHECK(close(g_holder_fd) == 0);
    }
    if (all || strcmp(what, "fcntl") == 0) {
        known = true;
        make_lockfile();
        int ready[2];
        CHECK(pipe(ready) == 0);
        g_lock_child = fork();
        CHECK(g_lock_child >= 0);
        if (g_lock_child == 0) {
            int fd = open(g_lockfile, O_RDWR);
            struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
            if (fd < 0 || fcntl(fd, F_SETLK, &fl) != 0)
                _exit(2);
            if (write(ready[1], "x", 1) != 1)
                _exit(3);
            msleep(WAIT_MS);
            _exit(0); /* its lock goes with it */
        }
        char c;
        CHECK_EQ(read(ready[0], &c, 1), 1);
        CHECK(close(ready[0]) == 0 && close(ready[1]) == 0);
        check("fcntl", wait_fcntl);
    }
    if (all || strcmp(what, "nanosleep") == 0) {
        known = true;
        check("nanosleep", wait_nanosleep);
    }
    if (all || strcmp(what, "sigwait") == 0) {
        known = true;
        check("sigwait", wait_sigwait);
    }
    if (!known) {
        printf("FAIL unknown check %s\n", what);
        exit(2);
    }
    unlink(g_lockfile);
}

int main(int argc, char **argv)
{
    alarm(60);
    setvbuf(stdout, NULL, _IONBF, 0);
    run(argc > 1 ? argv[1] : "all");
    return 0;
}
