/* poll_stdin.c: readiness of stdin. "readable" counts POLLIN and POLLHUP alike, as programs do:
 * at the end of its input a pipe says POLLHUP and a file POLLIN.
 *   poll_stdin            poll and select stdin (no wait), FIONREAD, read it all, again at EOF
 *   poll_stdin nonblock   O_NONBLOCK reads of stdin
 *   poll_stdin wait       stdin a pipe whose writer is slow: a short timeout passes, then a
 *                         blocking poll sees the data
 *   poll_stdin epoll      stdin a pipe: epoll on it, until its end (POLLHUP) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <unistd.h>

static char buf[1 << 20];

static int readable(int timeout)
{
    struct pollfd p = {0, POLLIN, 0};
    int n = poll(&p, 1, timeout);
    if (n < 0)
        return -errno;
    return n == 1 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

static int select_readable(void)
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(0, &rd);
    struct timeval tv = {0, 0};
    int n = select(1, &rd, NULL, NULL, &tv);
    return n < 0 ? -errno : n == 1 && FD_ISSET(0, &rd);
}

static long read_all(void)
{
    long total = 0, sum = 0;
    for (;;) {
        ssize_t n = read(0, buf, sizeof(buf));
        if (n < 0) {
            printf("read: errno %d\n", errno);
            return -1;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            sum = sum * 31 + (unsigned char)buf[i];
        total += n;
    }
    printf("read %ld bytes, sum %ld\n", total, sum);
    return total;
}

int main(int argc, char **argv)
{
    for (int fd = 3; fd < 256; fd++) /* descriptors the caller left open (bats) */
        close(fd);
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "nonblock") == 0) {
        fcntl(0, F_SETFL, O_NONBLOCK);
        ssize_t n = read(0, buf, 10);
        printf("first read %zd\n", n);
        return read_all() < 0;
    }
    if (strcmp(mode, "wait") == 0) {
        printf("readable within 100 ms: %d\n", readable(100));
        printf("readable, no limit: %d\n", readable(-1));
        read_all();
        printf("readable at the end: %d\n", readable(-1));
        return 0;
    }
    if (strcmp(mode, "epoll") == 0) {
        int ep = epoll_create1(0);
        struct epoll_event ev = {EPOLLIN, {.u64 = 7}};
        printf("add stdin: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev));
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, -1);
        printf("wait = %d, data %llu, readable %d\n", n, (unsigned long long)out.data.u64,
               (out.events & (EPOLLIN | EPOLLHUP)) != 0);
        read_all();
        n = epoll_wait(ep, &out, 1, -1);
        printf("at the end: wait = %d, events %#x\n", n, out.events);
        return 0;
    }
    printf("readable (poll, no wait): %d\n", readable(0));
    printf("readable (select, no wait): %d\n", select_readable());
    if (strcmp(mode, "fionread") == 0) {
        int avail = -1;
        int r = ioctl(0, FIONREAD, &avail);
        printf("FIONREAD %d: %d\n", r, avail);
    }
    read_all();
    printf("readable at the end (poll): %d\n", readable(0));
    printf("readable at the end (select): %d\n", select_readable());
    printf("readable at the end (poll, no limit): %d\n", readable(-1));
    return 0;
}
