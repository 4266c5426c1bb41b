/* poll_epoll.c: epoll over pipes, eventfds and other epoll instances: level- and
 * edge-triggered and one-shot interest, the order of events and maxevents, hang-ups, closing a
 * watched descriptor, nesting, timeouts, signals and masks, and the errors of every call. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
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

/* epoll_wait, printing what it reports */
static int wait_show(int ep, int max, int timeout)
{
    struct epoll_event ev[16];
    int n = epoll_wait(ep, ev, max, timeout);
    if (n < 0) {
        printf("  wait = -1 errno %d\n", errno);
        return n;
    }
    printf("  wait = %d:", n);
    for (int i = 0; i < n; i++)
        printf(" [%llu %#x]", (unsigned long long)ev[i].data.u64, ev[i].events);
    printf("\n");
    fflush(stdout);
    return n;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
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
    char buf[70000];
    int a[2], b[2];
    pipe2(a, O_NONBLOCK);
    pipe(b);
    int e = eventfd(0, EFD_NONBLOCK);
    uint64_t one = 1, v;

    printf("-- create\n");
    SHOW(syscall(SYS_epoll_create, 0));
    SHOW(syscall(SYS_epoll_create, -1));
    SHOW(epoll_create1(0x1234));
    int ep = SHOW(epoll_create(1));
    int ep2 = SHOW(epoll_create1(EPOLL_CLOEXEC));
    SHOW(fcntl(ep, F_GETFD));
    SHOW(fcntl(ep2, F_GETFD));
    SHOW(fcntl(ep, F_GETFL));
    struct stat st;
    SHOW(fstat(ep, &st));
    printf("mode %o\n", st.st_mode);
    SHOW(lseek(ep, 0, SEEK_CUR));

    printf("-- ctl errors\n");
    struct epoll_event ev = {EPOLLIN, {.u64 = 1}};
    int reg = open("/tmp/poll_epoll.tmp", O_CREAT | O_RDWR | O_TRUNC, 0600);
    unlink("/tmp/poll_epoll.tmp");
    SHOW(epoll_ctl(99, EPOLL_CTL_ADD, a[0], &ev));
    SHOW(epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev));
    SHOW(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev));    /* regular files cannot be watched */
    SHOW(epoll_ctl(a[0], EPOLL_CTL_ADD, b[0], &ev)); /* not an epoll */
    SHOW(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));     /* itself */
    SHOW(epoll_ctl(ep, 7, a[0], &ev));
    SHOW(epoll_ctl(ep, EPOLL_CTL_ADD, a[0], bad));
    SHOW(epoll_ctl(ep, EPOLL_CTL_MOD, a[0], &ev));
    SHOW(epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL));
    SHOW(epoll_ctl(ep, EPOLL_CTL_DEL, a[0], bad)); /* DEL reads no event */
    ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    SHOW(epoll_ctl(ep, EPOLL_CTL_ADD, a[0], &ev));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    SHOW(epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev));

    printf("-- level-triggered\n");
    SHOW(add(ep, a[0], EPOLLIN, 10));
    SHOW(add(ep, a[0], EPOLLIN, 10));
    SHOW(add(ep, a[1], EPOLLOUT, 11));
    SHOW(add(ep, e, EPOLLIN, 12));
    SHOW(add(ep, b[1], EPOLLOUT, 13));
    wait_show(ep, 16, 0);
    write(a[1], "hello", 5);
    write(e, &one, 8);
    wait_show(ep, 16, 0);
    wait_show(ep, 16, 0); /* level: again */
    printf("-- maxevents: the rest come first next time\n");
    wait_show(ep, 1, 0);
    wait_show(ep, 1, 0);
    wait_show(ep, 2, 0);
    wait_show(ep, 16, 0);
    read(a[0], buf, sizeof(buf));
    read(e, &v, 8);
    wait_show(ep, 16, 0);
    SHOW(epoll_ctl(ep, EPOLL_CTL_DEL, b[1], NULL));
    SHOW(epoll_ctl(ep, EPOLL_CTL_DEL, a[1], NULL));
    wait_show(ep, 16, 0);

    printf("-- edge-triggered\n");
    SHOW(mod(ep, a[0], EPOLLIN | EPOLLET, 20));
    SHOW(mod(ep, e, EPOLLIN | EPOLLOUT | EPOLLET, 21));
    wait_show(ep, 16, 0); /* the eventfd is writable: one edge */
    wait_show(ep, 16, 0);
    write(a[1], "x", 1);
    wait_show(ep, 16, 0);
    wait_show(ep, 16, 0);
    write(a[1], "y", 1); /* more data: another edge, though it was readable already */
    wait_show(ep, 16, 0);
    write(e, &one, 8);
    wait_show(ep, 16, 0);
    read(e, &v, 8); /* a read of an eventfd wakes its writers: an edge for EPOLLOUT */
    wait_show(ep, 16, 0);
    read(a[0], buf, 1); /* a read of a pipe that was not full is no edge */
    wait_show(ep, 16, 0);
    SHOW(add(ep, a[1], EPOLLOUT | EPOLLET, 22));
    wait_show(ep, 16, 0);
    while (write(a[1], buf, sizeof(buf)) > 0)
        ;
    wait_show(ep, 16, 0); /* a full pipe is no longer writable; its reader got an edge */
    read(a[0], buf, 100); /* not a page: still full, but its writers are woken */
    wait_show(ep, 16, 0);
    read(a[0], buf, sizeof(buf));
    wait_show(ep, 16, 0);
    SHOW(epoll_ctl(ep, EPOLL_CTL_DEL, a[1], NULL));

    printf("-- one-shot\n");
    SHOW(mod(ep, a[0], EPOLLIN | EPOLLONESHOT, 30));
    write(a[1], "z", 1);
    wait_show(ep, 16, 0);
    wait_show(ep, 16, 0);
    write(a[1], "z", 1);
    wait_show(ep, 16, 0); /* disabled until MOD */
    SHOW(mod(ep, a[0], EPOLLIN | EPOLLONESHOT, 31));
    wait_show(ep, 16, 0);
    read(a[0], buf, sizeof(buf));
    SHOW(mod(ep, a[0], EPOLLIN, 32));
    SHOW(epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));

    printf("-- hang-ups\n");
    int c[2];
    pipe(c);
    SHOW(add(ep, c[0], EPOLLIN, 40));
    SHOW(add(ep, c[1], 0, 41)); /* nothing asked: hang-ups and errors still come */
    wait_show(ep, 16, 0);
    write(c[1], "q", 1);
    close(c[1]); /* closing the only descriptor removes its item */
    wait_show(ep, 16, 0);
    read(c[0], buf, 10);
    wait_show(ep, 16, 0);
    SHOW(epoll_ctl(ep, EPOLL_CTL_DEL, c[0], NULL));
    close(c[0]);
    pipe(c);
    SHOW(add(ep, c[1], EPOLLOUT, 42));
    close(c[0]);
    wait_show(ep, 16, 0);
    SHOW(epoll_ctl(ep, EPOLL_CTL_DEL, c[1], NULL));
    close(c[1]);

    printf("-- a closed descriptor leaves the set; its number can be added again\n");
    int d[2];
    pipe(d);
    SHOW(add(ep, d[0], EPOLLIN, 50));
    close(d[0]);
    close(d[1]);
    SHOW(pipe(d));
    SHOW(add(ep, d[0], EPOLLIN, 51));
    write(d[1], "w", 1);
    wait_show(ep, 16, 0);
    /* a dup keeps the file (and its item) alive */
    int dd = dup(d[0]);
    close(d[0]);
    wait_show(ep, 16, 0);
    SHOW(epoll_ctl(ep, EPOLL_CTL_DEL, d[0], NULL));
    close(dd);
    close(d[1]);

    printf("-- nesting\n");
    SHOW(add(ep2, ep, EPOLLIN, 60));
    SHOW(add(ep, ep2, EPOLLIN, 61)); /* a cycle */
    int ep3 = epoll_create1(0);
    SHOW(add(ep3, ep2, EPOLLIN, 62));
    SHOW(add(ep, ep3, EPOLLIN, 63)); /* a longer cycle */
    read(a[0], buf, sizeof(buf));
    wait_show(ep2, 16, 0);
    write(a[1], "n", 1);
    wait_show(ep2, 16, 0);
    wait_show(ep3, 16, 0);
    struct pollfd pf = {ep, POLLIN | POLLOUT, 0};
    SHOW(poll(&pf, 1, 0));
    printf("  revents %#x\n", pf.revents);
    read(a[0], buf, sizeof(buf));
    SHOW(poll(&pf, 1, 0));
    wait_show(ep2, 16, 0);
    SHOW(mod(ep2, ep, EPOLLIN | EPOLLET, 64));
    write(a[1], "n", 1);
    wait_show(ep2, 16, 0);
    wait_show(ep2, 16, 0);
    write(a[1], "n", 1);
    wait_show(ep2, 16, 0);
    read(a[0], buf, sizeof(buf));
    close(ep3);

    printf("-- wait errors\n");
    struct epoll_event out[4];
    SHOW(epoll_wait(ep, out, 0, 0));
    volatile int minus = -1;
    SHOW(epoll_wait(ep, out, minus, 0));
    SHOW(epoll_wait(99, out, 4, 0));
    SHOW(epoll_wait(a[0], out, 4, 0));
    write(a[1], "f", 1);
    SHOW(epoll_wait(ep, bad, 4, 0));
    read(a[0], buf, sizeof(buf));
    sigset_t none;
    sigemptyset(&none);
    SHOW(syscall(SYS_epoll_pwait, ep, out, 4, 0, &none, 4));
    SHOW(syscall(SYS_epoll_pwait, ep, out, 4, 0, bad, 8));
    struct timespec ts = {0, 1000000000};
    SHOW(syscall(SYS_epoll_pwait2, ep, out, 4, &ts, NULL, 8));
    SHOW(syscall(SYS_epoll_pwait2, ep, out, 4, bad, NULL, 8));

    printf("-- timeouts and signals\n");
    int64_t t0 = now_ms();
    SHOW(epoll_wait(ep, out, 4, 30));
    printf("  waited >= 30 ms: %d\n", now_ms() - t0 >= 30);
    ts = (struct timespec){0, 20000000};
    t0 = now_ms();
    SHOW(syscall(SYS_epoll_pwait2, ep, out, 4, &ts, NULL, 8));
    printf("  waited >= 20 ms: %d\n", now_ms() - t0 >= 20);
    arm(20, 1);
    SHOW(epoll_wait(ep, out, 4, -1)); /* EINTR even with SA_RESTART */
    printf("  signals %d\n", g_signals);
    sigset_t block, old, cur;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, &old);
    arm(10, 0);
    SHOW(epoll_wait(ep, out, 4, 50));
    printf("  signals %d\n", g_signals);
    SHOW(epoll_pwait(ep, out, 4, -1, &none));
    printf("  signals %d\n", g_signals);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    printf("  SIGALRM blocked again: %d\n", sigismember(&cur, SIGALRM));
    sigprocmask(SIG_SETMASK, &old, NULL);
    return 0;
}
