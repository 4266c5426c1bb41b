/* pipe_basic.c: pipes as Linux has them: capacity and how writes share its pages, PIPE_BUF
 * atomicity, partial and refused non-blocking writes, EOF, EPIPE with SIGPIPE, O_DIRECT packets,
 * F_GETPIPE_SZ/F_SETPIPE_SZ, FIONREAD, fstat, the calls a pipe refuses, and bad arguments.
 * "pipe_basic sigpipe" writes to a pipe with no reader with SIGPIPE at its default action. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
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

static char buf[300000];

/* Writes chunks of size n without blocking until the pipe refuses one: the bytes it took. */
static long fill(int fd, size_t n)
{
    long total = 0;
    for (;;) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno != EAGAIN)
                printf("fill: errno %d\n", errno);
            return total;
        }
        total += w;
    }
}

static void *volatile bad = (void *)8; /* an address nothing is mapped at */

static void capacity(void)
{
    size_t sizes[] = {1, 100, 3000, 4096, 5000, 65536};
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int p[2];
        pipe2(p, O_NONBLOCK);
        long got = fill(p[1], sizes[i]);
        int avail = -1;
        ioctl(p[0], FIONREAD, &avail);
        printf("capacity with %zu-byte writes: %ld (FIONREAD %d)\n", sizes[i], got, avail);
        close(p[0]);
        close(p[1]);
    }
}

static void atomic_and_partial(void)
{
    int p[2];
    SHOW(pipe2(p, O_NONBLOCK));
    SHOW(write(p[1], buf, 61440)); /* 15 pages */
    SHOW(write(p[1], buf, 3996));  /* the 16th page, 100 bytes free */
    SHOW(write(p[1], buf, 101));   /* does not fit the last page, no page free */
    SHOW(write(p[1], buf, 100));   /* fits the last page exactly */
    SHOW(write(p[1], buf, 1));
    SHOW(read(p[0], buf, 4096));  /* frees a page */
    SHOW(write(p[1], buf, 4097)); /* partial: one page */
    SHOW(write(p[1], buf, 4096)); /* full again */
    SHOW(read(p[0], buf, 10));    /* a partial read frees no page */
    SHOW(write(p[1], buf, 10));
    SHOW(read(p[0], buf, sizeof(buf))); /* everything */
    SHOW(read(p[0], buf, 1));
    SHOW(write(p[1], buf, 200000)); /* partial: what fits */
    int n = 0;
    SHOW(ioctl(p[0], FIONREAD, &n));
    printf("FIONREAD %d\n", n);
    close(p[0]);
    close(p[1]);
}

static void data_order(void)
{
    int p[2];
    SHOW(pipe(p));
    char out[64];
    for (int i = 0; i < 5; i++) {
        char msg[16];
        int len = snprintf(msg, sizeof(msg), "msg%d;", i);
        write(p[1], msg, (size_t)len);
    }
    SHOW(read(p[0], out, 7));
    out[7] = 0;
    printf("got '%s'\n", out);
    long n = SHOW(read(p[0], out, sizeof(out)));
    out[n > 0 ? n : 0] = 0;
    printf("got '%s'\n", out);
    /* readv and writev */
    struct iovec wv[3] = {{"ab", 2}, {"", 0}, {"cdef", 4}};
    SHOW(writev(p[1], wv, 3));
    char a[3] = {0}, b[10] = {0};
    struct iovec rv[2] = {{a, 2}, {b, 9}};
    SHOW(readv(p[0], rv, 2));
    printf("readv '%s' '%s'\n", a, b);
    /* a readv that fills its first buffer returns without waiting for more */
    SHOW(write(p[1], "gh", 2));
    memset(a, 0, sizeof(a));
    SHOW(readv(p[0], rv, 2));
    printf("readv '%s'\n", a);
    /* EOF only when every write end is closed */
    int d = dup(p[1]);
    close(p[1]);
    SHOW(write(d, "z", 1));
    SHOW(read(p[0], out, sizeof(out)));
    close(d);
    SHOW(read(p[0], out, sizeof(out)));
    SHOW(read(p[0], out, sizeof(out)));
    close(p[0]);
}

static void flags_and_stat(void)
{
    int p[2], q[2];
    SHOW(pipe2(p, O_CLOEXEC | O_NONBLOCK));
    SHOW(fcntl(p[0], F_GETFL));
    SHOW(fcntl(p[1], F_GETFL));
    SHOW(fcntl(p[0], F_GETFD));
    SHOW(pipe2(q, 0));
    SHOW(fcntl(q[0], F_GETFL));
    SHOW(fcntl(q[1], F_GETFL));
    SHOW(fcntl(q[1], F_GETFD));
    SHOW(fcntl(q[0], F_SETFL, O_NONBLOCK));
    SHOW(fcntl(q[0], F_GETFL));
    char c;
    SHOW(read(q[0], &c, 1));
    int off = 0;
    SHOW(ioctl(q[0], FIONBIO, &off));
    SHOW(fcntl(q[0], F_GETFL));
    int on = 1;
    SHOW(ioctl(q[1], FIONBIO, &on));
    SHOW(fcntl(q[1], F_GETFL));
    struct stat s0, s1, s2;
    SHOW(fstat(p[0], &s0));
    SHOW(fstat(p[1], &s1));
    SHOW(fstat(q[0], &s2));
    printf("fifo %d %d mode %o nlink %lu blksize %ld size %ld\n", S_ISFIFO(s0.st_mode),
           S_ISFIFO(s1.st_mode), s0.st_mode, (unsigned long)s0.st_nlink, (long)s0.st_blksize,
           (long)s0.st_size);
    printf("same inode for both ends %d, another pipe differs %d\n", s0.st_ino == s1.st_ino,
           s0.st_ino != s2.st_ino);
    SHOW(lseek(p[0], 0, SEEK_CUR));
    SHOW(lseek(p[1], 0, SEEK_SET));
    SHOW(pread(q[0], &c, 1, 0));
    SHOW(pwrite(q[1], &c, 1, 0));
    SHOW(read(p[1], &c, 1));  /* the write end cannot be read */
    SHOW(write(p[0], &c, 1)); /* nor the read end written */
    SHOW(ioctl(p[0], TCGETS + 0, buf));
    SHOW(pipe2(p, O_APPEND));
    SHOW(pipe2(p, 0x1000000));
    SHOW(pipe(bad));
    SHOW(syscall(SYS_pipe2, bad, O_CLOEXEC));
    SHOW(write(q[1], bad, 1));
    SHOW(write(q[1], "x", 1));
    SHOW(read(q[0], bad, 1));
    SHOW(ioctl(q[0], FIONREAD, bad));
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
    /* closed descriptors */
    SHOW(read(p[0], &c, 1));
    SHOW(write(p[1], &c, 1));
}

static void pipe_size(void)
{
    int p[2];
    SHOW(pipe(p));
    SHOW(fcntl(p[0], F_GETPIPE_SZ));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 0));
    SHOW(fcntl(p[0], F_GETPIPE_SZ));
    SHOW(fcntl(p[0], F_SETPIPE_SZ, 5000));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 1 << 20));
    SHOW(fcntl(p[0], F_SETPIPE_SZ, -1));
    SHOW(fcntl(p[0], F_SETPIPE_SZ, 8192));
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    printf("capacity %ld\n", fill(p[1], 1000));
    SHOW(fcntl(p[0], F_SETPIPE_SZ, 4096)); /* holds two pages of data: EBUSY */
    SHOW(fcntl(p[0], F_SETPIPE_SZ, 16384));
    printf("capacity %ld\n", fill(p[1], 1000));
    SHOW(read(p[0], buf, sizeof(buf)));
    SHOW(fcntl(p[0], F_SETPIPE_SZ, 4096));
    printf("capacity %ld\n", fill(p[1], 4096));
    int e = dup(1);
    (void)e;
    close(p[0]);
    close(p[1]);
}

static void packets(void)
{
    int p[2];
    SHOW(pipe2(p, O_DIRECT));
    SHOW(fcntl(p[0], F_GETFL));
    SHOW(fcntl(p[1], F_GETFL));
    SHOW(write(p[1], "0123456789", 10));
    SHOW(write(p[1], "abcdefghijklmnopqrst", 20));
    SHOW(write(p[1], buf, 5000)); /* two packets: 4096 and 904 */
    SHOW(write(p[1], "XYZ", 3));
    char out[100];
    SHOW(read(p[0], out, sizeof(out)));
    SHOW(read(p[0], out, 5)); /* the rest of this packet is gone */
    printf("got '%.5s'\n", out);
    SHOW(read(p[0], buf, sizeof(buf)));
    SHOW(read(p[0], buf, sizeof(buf)));
    SHOW(read(p[0], out, sizeof(out)));
    printf("got '%.3s'\n", out);
    close(p[0]);
    close(p[1]);
}

static void broken(void)
{
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int p[2];
    SHOW(pipe(p));
    close(p[0]);
    SHOW(write(p[1], "x", 1));
    sigpending(&pend);
    printf("SIGPIPE pending %d\n", sigismember(&pend, SIGPIPE));
    int sig = 0;
    SHOW(sigwait(&set, &sig));
    printf("sigwait got %d\n", sig);
    close(p[1]);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    SHOW(pipe(p));
    close(p[0]);
    SHOW(write(p[1], buf, 100000));
    struct iovec v = {buf, 10};
    SHOW(writev(p[1], &v, 1));
    close(p[1]);
    signal(SIGPIPE, SIG_DFL);
}

static int g_wfd = -1, g_rfd = -1;
static volatile int g_signals;

static void on_alarm(int sig)
{
    static char room[8192];
    (void)sig;
    g_signals++;
    if (g_wfd >= 0)
        write(g_wfd, "!", 1);
    if (g_rfd >= 0)
        read(g_rfd, room, sizeof(room));
}

/* A periodic timer, stopped once the call it interrupts returned (disarm): should a tick come
 * before the call blocks (a loaded machine, an enclave's first timer), the next one still
 * interrupts it. g_signals counts the ticks since. */
static void arm(int ms, int write_fd, int restart)
{
    g_rfd = -1;
    g_signals = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    g_wfd = write_fd;
    struct itimerval it = {{0, ms * 1000}, {0, ms * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm(void)
{
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    g_rfd = g_wfd = -1;
}

/* Blocking calls that a signal ends: EINTR without SA_RESTART, a restart with it. */
static void interrupts(void)
{
    int p[2];
    char c = 0;
    SHOW(pipe(p));
    arm(20, -1, 0);
    SHOW(read(p[0], &c, 1));
    disarm();
    arm(20, p[1], 1); /* the handler writes a byte: the restarted read finds it */
    SHOW(read(p[0], &c, 1));
    disarm();
    printf("read '%c' after a signal: %s\n", c, g_signals > 0 ? "yes" : "no");
    arm(20, -1, 0);
    SHOW(write(p[1], buf, 100000)); /* a partial write when interrupted after some */
    disarm();
    arm(20, -1, 1);
    g_rfd = p[0]; /* the handler makes room: the restarted write goes through */
    SHOW(write(p[1], buf, 1));
    disarm();
    printf("signals: %s\n", g_signals > 0 ? "yes" : "no");
    close(p[0]);
    close(p[1]);
    signal(SIGALRM, SIG_DFL);
}

int main(int argc, char **argv)
{
    for (int fd = 3; fd < 256; fd++) /* descriptors the caller left open (bats) */
        close(fd);
    memset(buf, 'x', sizeof(buf));
    if (argc > 1 && strcmp(argv[1], "sigpipe") == 0) {
        int p[2];
        pipe(p);
        close(p[0]);
        printf("writing to a pipe with no reader\n");
        fflush(stdout);
        write(p[1], "x", 1);
        printf("still alive\n");
        return 0;
    }
    capacity();
    atomic_and_partial();
    data_order();
    flags_and_stat();
    pipe_size();
    packets();
    broken();
    interrupts();
    return 0;
}
