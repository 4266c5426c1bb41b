/* poll_basic.c: poll, ppoll, select and pselect6 over pipes, an eventfd, a regular file,
 * /dev/null and stdout: readiness, hang-ups, timeouts (0, short, the time left written back),
 * POLLNVAL and EBADF, signals (EINTR, ppoll's and pselect6's masks) and bad arguments. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long show(const char *what, long ret)
{
    if (ret < 0)
        printf("%s = -1 errno %d\n", what, errno);
    else
        printf("%s = %ld\n", what, ret);
    fflush(stdout);
    return ret;
}
#define SHOW(expr) show(#expr, (long)(expr))

static void *volatile bad = (void *)8;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void revents(struct pollfd *p, int n)
{
    printf("  revents:");
    for (int i = 0; i < n; i++)
        printf(" %#x", (unsigned)p[i].revents);
    printf("\n");
}

static void fdset_print(const char *name, fd_set *s, int n)
{
    printf("  %s:", name);
    for (int i = 0; i < n; i++)
        if (FD_ISSET(i, s))
            printf(" %d", i);
    printf("\n");
}

static volatile int g_signals;
static void on_alarm(int sig)
{
    (void)sig;
    g_signals++;
}

static void arm(int ms, int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, ms * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

int main(void)
{
    for (int fd = 3; fd < 256; fd++) /* descriptors the caller left open (bats) */
        close(fd);
    int p[2], q[2];
    pipe(p);
    pipe2(q, O_NONBLOCK);
    int e = eventfd(0, EFD_NONBLOCK);
    int reg = open("/tmp/poll_basic.tmp", O_CREAT | O_RDWR | O_TRUNC, 0600);
    unlink("/tmp/poll_basic.tmp");
    int null = open("/dev/null", O_RDONLY);
    printf("fds %d %d %d %d %d %d %d\n", p[0], p[1], q[0], q[1], e, reg, null);

    /* ---- poll ---- */
    struct pollfd f[8] = {
        {p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {e, POLLIN | POLLOUT, 0}, {reg, POLLIN | POLLOUT, 0},
        {null, POLLIN, 0}, {-1, POLLIN, 0},    {99, POLLIN, 0},          {1, POLLOUT, 0},
    };
    SHOW(poll(f, 8, 0));
    revents(f, 8);
    write(p[1], "abc", 3);
    uint64_t one = 1;
    write(e, &one, 8);
    f[0].events = POLLIN | POLLPRI | POLLRDNORM;
    SHOW(poll(f, 8, -1));
    revents(f, 8);
    f[0].events = 0; /* nothing asked: only hang-ups and errors come */
    SHOW(poll(f, 1, 0));
    revents(f, 1);

    /* hang-ups: the read end sees POLLHUP (and POLLIN while data is left), the write end
     * POLLERR */
    int r[2];
    pipe(r);
    write(r[1], "x", 1);
    close(r[1]);
    struct pollfd h[2] = {{r[0], POLLIN, 0}};
    SHOW(poll(h, 1, 0));
    revents(h, 1);
    char c;
    read(r[0], &c, 1);
    SHOW(poll(h, 1, 1000));
    revents(h, 1);
    close(r[0]);
    pipe(r);
    close(r[0]);
    h[0] = (struct pollfd){r[1], POLLOUT, 0};
    SHOW(poll(h, 1, 0));
    revents(h, 1);
    close(r[1]);

    /* a full pipe is not writable */
    char big[65536];
    memset(big, 'y', sizeof(big));
    write(q[1], big, sizeof(big));
    h[0] = (struct pollfd){q[1], POLLOUT, 0};
    h[1] = (struct pollfd){q[0], POLLIN, 0};
    SHOW(poll(h, 2, 0));
    revents(h, 2);
    read(q[0], big, 100);
    SHOW(poll(h, 2, 0));
    revents(h, 2); /* still full: 100 bytes of a page freed no page */
    read(q[0], big, 4000);
    SHOW(poll(h, 2, 0));
    revents(h, 2);

    /* timeouts */
    struct pollfd w = {p[1], POLLIN, 0};
    int64_t t0 = now_ms();
    SHOW(poll(&w, 1, 30));
    printf("  waited >= 30 ms: %d\n", now_ms() - t0 >= 30);
    t0 = now_ms();
    SHOW(poll(NULL, 0, 20));
    printf("  waited >= 20 ms: %d\n", now_ms() - t0 >= 20);
    struct timespec ts = {0, 25000000};
    t0 = now_ms();
    SHOW(ppoll(&w, 1, &ts, NULL));
    printf("  waited >= 25 ms: %d\n", now_ms() - t0 >= 25);
    ts = (struct timespec){5, 0};
    f[0].events = POLLIN;
    SHOW(syscall(SYS_ppoll, f, 1, &ts, NULL, 8));
    printf("  time left written back: %d\n", ts.tv_sec >= 4 && ts.tv_sec <= 5);
    ts = (struct timespec){0, 0};
    SHOW(syscall(SYS_ppoll, &w, 1, &ts, NULL, 8));
    printf("  left %ld %ld\n", (long)ts.tv_sec, ts.tv_nsec);

    /* errors */
    SHOW(poll(bad, 1, 0));
    volatile nfds_t huge = 100000;
    SHOW(poll(f, huge, 0));
    ts = (struct timespec){0, 1000000000};
    SHOW(syscall(SYS_ppoll, f, 1, &ts, NULL, 8));
    ts = (struct timespec){-1, 0};
    SHOW(syscall(SYS_ppoll, f, 1, &ts, NULL, 8));
    SHOW(syscall(SYS_ppoll, f, 1, bad, NULL, 8));
    sigset_t none;
    sigemptyset(&none);
    SHOW(syscall(SYS_ppoll, f, 1, NULL, &none, 4));
    SHOW(syscall(SYS_ppoll, f, 1, NULL, bad, 8));

    /* signals: poll is never restarted after a handler, even with SA_RESTART */
    arm(20, 1);
    SHOW(poll(&w, 1, -1));
    printf("  signals %d\n", g_signals);
    /* ppoll's mask: SIGALRM blocked, let through only during the call */
    sigset_t block, old, cur;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, &old);
    arm(20, 0);
    SHOW(poll(&w, 1, 60)); /* blocked: the timeout ends it */
    printf("  signals %d\n", g_signals);
    SHOW(ppoll(&w, 1, NULL, &none)); /* the pending SIGALRM comes through */
    printf("  signals %d\n", g_signals);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    printf("  SIGALRM blocked again: %d\n", sigismember(&cur, SIGALRM));
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* ---- select ---- */
    fd_set rd, wr, ex;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    FD_SET(p[0], &rd);
    FD_SET(q[0], &rd);
    FD_SET(e, &rd);
    FD_SET(reg, &rd);
    FD_SET(p[1], &wr);
    FD_SET(q[1], &wr);
    FD_SET(1, &wr);
    FD_SET(p[0], &ex);
    struct timeval tv = {0, 0};
    SHOW(select(20, &rd, &wr, &ex, &tv));
    fdset_print("read", &rd, 20);
    fdset_print("write", &wr, 20);
    fdset_print("except", &ex, 20);
    printf("  left %ld %ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
    /* only the first n descriptors count */
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    SHOW(select(p[0], &rd, NULL, NULL, &tv));
    fdset_print("read", &rd, 20);
    /* timeout with nothing ready; the time left written back */
    FD_ZERO(&rd);
    FD_SET(p[1], &rd);
    tv = (struct timeval){0, 30000};
    t0 = now_ms();
    SHOW(select(p[1] + 1, &rd, NULL, NULL, &tv));
    printf("  waited >= 30 ms: %d, left %ld %ld\n", now_ms() - t0 >= 30, (long)tv.tv_sec,
           (long)tv.tv_usec);
    fdset_print("read", &rd, 20);
    FD_SET(p[0], &rd);
    tv = (struct timeval){3, 2000000}; /* whole seconds in tv_usec are fine */
    SHOW(syscall(SYS_select, p[0] + 1, &rd, NULL, NULL, &tv));
    printf("  time left written back: %d\n", tv.tv_sec >= 4 && tv.tv_sec <= 5);
    /* errors */
    FD_ZERO(&rd);
    FD_SET(99, &rd);
    tv = (struct timeval){0, 0};
    SHOW(select(100, &rd, NULL, NULL, &tv));
    fdset_print("read (unchanged)", &rd, 100);
    SHOW(select(-1, NULL, NULL, NULL, &tv));
    tv = (struct timeval){0, -1};
    SHOW(select(1, NULL, NULL, NULL, &tv));
    tv = (struct timeval){-1, 0};
    SHOW(select(1, NULL, NULL, NULL, &tv));
    SHOW(syscall(SYS_select, 1, NULL, NULL, NULL, bad));
    SHOW(syscall(SYS_select, 10, bad, NULL, NULL, NULL));
    /* select is never restarted after a handler */
    arm(20, 1);
    FD_ZERO(&rd);
    FD_SET(p[1], &rd);
    SHOW(select(p[1] + 1, &rd, NULL, NULL, NULL));
    fdset_print("read (unchanged)", &rd, 20);

    /* ---- pselect6 ---- */
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    FD_SET(p[1], &rd);
    ts = (struct timespec){0, 0};
    SHOW(pselect(p[1] + 1, &rd, NULL, NULL, &ts, NULL));
    fdset_print("read", &rd, 20);
    FD_ZERO(&rd);
    FD_SET(p[1], &rd);
    ts = (struct timespec){0, 20000000};
    t0 = now_ms();
    SHOW(pselect(p[1] + 1, &rd, NULL, NULL, &ts, &none));
    printf("  waited >= 20 ms: %d\n", now_ms() - t0 >= 20);
    struct {
        const sigset_t *set;
        size_t size;
    } pack = {&none, 8};
    ts = (struct timespec){5, 0};
    FD_SET(p[0], &rd);
    SHOW(syscall(SYS_pselect6, p[1] + 1, &rd, NULL, NULL, &ts, &pack));
    printf("  time left written back: %d\n", ts.tv_sec >= 4 && ts.tv_sec <= 5);
    pack.size = 4;
    SHOW(syscall(SYS_pselect6, p[1] + 1, &rd, NULL, NULL, &ts, &pack));
    pack.set = bad;
    pack.size = 8;
    SHOW(syscall(SYS_pselect6, p[1] + 1, &rd, NULL, NULL, &ts, &pack));
    SHOW(syscall(SYS_pselect6, p[1] + 1, &rd, NULL, NULL, &ts, bad));
    ts = (struct timespec){0, 1000000000};
    SHOW(syscall(SYS_pselect6, p[1] + 1, &rd, NULL, NULL, &ts, NULL));
    /* pselect's mask lets a blocked SIGALRM through */
    sigprocmask(SIG_BLOCK, &block, &old);
    arm(10, 0);
    int before = g_signals;
    FD_ZERO(&rd);
    FD_SET(p[1], &rd);
    SHOW(pselect(p[1] + 1, &rd, NULL, NULL, NULL, &none));
    printf("  signals +%d\n", g_signals - before);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    printf("  SIGALRM blocked again: %d\n", sigismember(&cur, SIGALRM));
    sigprocmask(SIG_SETMASK, &old, NULL);
    return 0;
}
