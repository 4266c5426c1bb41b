/* out_connect.c: an ordinary TCP client for outbound connections (outbound.bats): it knows
 * nothing of vsock.
 *
 *   out_connect [-n] ADDR PORT [PATH]
 *
 * Connects to ADDR:PORT (an IPv4 or IPv6 address), blocking, or with -n non-blocking (connect
 * must say EINPROGRESS, then poll waits for POLLOUT and SO_ERROR tells how it ended, as on
 * Linux). Prints "connect: ok" or "connect: ENAME". With PATH it then sends an HTTP/1.0 GET for
 * it and copies the whole answer to stdout. Exit status 0 when the connect succeeded, 1 when it
 * failed, 2 for a usage or I/O error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case EACCES:
        return "EACCES";
    case EPERM:
        return "EPERM";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case ENETUNREACH:
        return "ENETUNREACH";
    case EHOSTUNREACH:
        return "EHOSTUNREACH";
    case EINPROGRESS:
        return "EINPROGRESS";
    case ECONNRESET:
        return "ECONNRESET";
    case EADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    default:
        return strerror(e);
    }
}

int main(int argc, char **argv)
{
    int nb = argc > 1 && strcmp(argv[1], "-n") == 0;
    if (argc - nb < 3) {
        fprintf(stderr, "usage: out_connect [-n] ADDR PORT [PATH]\n");
        return 2;
    }
    const char *addr = argv[1 + nb], *path = argc - nb > 3 ? argv[3 + nb] : NULL;
    int port = atoi(argv[2 + nb]);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof(*a4);
    } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof(*a6);
    } else {
        fprintf(stderr, "out_connect: '%s' is not an address\n", addr);
        return 2;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) {
        perror("socket");
        return 2;
    }
    int err = 0;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0)
        err = errno;
    if (nb) {
        printf("nonblocking connect: %s\n", err ? ename(err) : "ok");
        if (err == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int r = poll(&p, 1, 60000);
            printf("poll: %d%s%s\n", r, (p.revents & POLLOUT) ? " POLLOUT" : "",
                   (p.revents & POLLERR) ? " POLLERR" : "");
            socklen_t el = sizeof(err);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
                err = errno;
            /* a second connect says how it ended too: EISCONN once connected */
            if (!err && connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EISCONN)
                err = errno;
            fcntl(fd, F_SETFL, 0);
        }
    }
    printf("connect: %s\n", err ? ename(err) : "ok");
    fflush(stdout);
    if (err)
        return 1;
    struct sockaddr_storage me;
    socklen_t ml = sizeof(me);
    if (getpeername(fd, (struct sockaddr *)&me, &ml) != 0) {
        perror("getpeername");
        return 2;
    }
    if (!path)
        return 0;
    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, addr);
    if (write(fd, req, (size_t)n) != n) {
        perror("write");
        return 2;
    }
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)r, stdout);
    if (r < 0) {
        perror("read");
        return 2;
    }
    return 0;
}
