/* pipe_eventfd.c: eventfd and eventfd2: the counter, EFD_SEMAPHORE, EFD_NONBLOCK and
 * EFD_CLOEXEC, 8-byte transfers, the overflow limit, readiness, and bad arguments. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
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

static unsigned ready(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLOUT, 0};
    poll(&p, 1, 0);
    return (unsigned)p.revents;
}

static void on_alarm(int sig)
{
    (void)sig;
}

int main(void)
{
    for (int fd = 3; fd < 256; fd++) /* descriptors the caller left open (bats) */
        close(fd);
    uint64_t v = 0, one = 1, pair[2];
    char small[4];

    int e = SHOW(eventfd(5, 0));
    SHOW(fcntl(e, F_GETFL));
    SHOW(fcntl(e, F_GETFD));
    printf("ready %#x\n", ready(e));
    SHOW(read(e, &v, 8));
    printf("value %llu\n", (unsigned long long)v);
    printf("ready %#x\n", ready(e));
    SHOW(write(e, &one, 8));
    SHOW(write(e, &one, 8));
    v = 40;
    SHOW(write(e, &v, 8));
    SHOW(read(e, pair, 16)); /* longer buffers are fine */
    printf("value %llu\n", (unsigned long long)pair[0]);
    SHOW(read(e, small, 4));
    SHOW(write(e, small, 4));
    v = UINT64_MAX;
    SHOW(write(e, &v, 8));
    SHOW(write(e, &one, 8));
    SHOW(read(e, bad, 8));
    SHOW(write(e, bad, 8));
    SHOW(lseek(e, 0, SEEK_CUR));
    struct stat st;
    SHOW(fstat(e, &st));
    printf("mode %o\n", st.st_mode);
    int n;
    SHOW(ioctl(e, FIONREAD, &n));
    close(e);

    /* non-blocking: an empty counter and a full one */
    e = SHOW(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    SHOW(fcntl(e, F_GETFL) & O_NONBLOCK);
    SHOW(fcntl(e, F_GETFD));
    SHOW(read(e, &v, 8));
    v = UINT64_MAX - 1;
    SHOW(write(e, &v, 8));
    printf("ready %#x\n", ready(e));
    SHOW(write(e, &one, 8));
    v = 0;
    SHOW(write(e, &v, 8)); /* adding 0 always fits */
    SHOW(read(e, &v, 8));
    printf("value %llu\n", (unsigned long long)v);
    printf("ready %#x\n", ready(e));
    close(e);

    /* semaphore: one at a time */
    e = SHOW(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK));
    for (int i = 0; i < 4; i++) {
        v = 0;
        long r = SHOW(read(e, &v, 8));
        if (r > 0)
            printf("value %llu\n", (unsigned long long)v);
    }
    close(e);

    /* a blocking read that a signal interrupts (a periodic timer: should the first expiry come
     * before the read blocks, on a loaded machine, the next one interrupts it) */
    e = SHOW(eventfd(0, 0));
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 20000}, {0, 20000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    SHOW(read(e, &v, 8));
    setitimer(ITIMER_REAL, &off, NULL);
    close(e);

    SHOW(eventfd(0, 0x1234));
    SHOW(syscall(SYS_eventfd2, 0, EFD_NONBLOCK | O_RDWR));
    e = SHOW(syscall(SYS_eventfd, 7));
    SHOW(read(e, &v, 8));
    printf("value %llu\n", (unsigned long long)v);
    return 0;
}
