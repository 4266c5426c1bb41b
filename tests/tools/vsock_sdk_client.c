/* vsock_sdk_client.c: a small host program on libalcove (include/alcove/vsock.h), for
 * vsock_host.bats: the SDK as a user links it.
 *
 *   vsock_sdk_client connect CID PORT [TIMEOUT_MS]   stdin → the enclave's port → stdout
 *   vsock_sdk_client uds PATH PORT [TIMEOUT_MS]      the same through a socket given by path
 *   vsock_sdk_client listen CID PORT                 accepts one connection the enclave makes
 *                                                    to (3, PORT), echoes it, and unlistens
 *
 * A failure prints the errno's name ("ECONNREFUSED") on stdout and exits 2. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alcove/vsock.h"

static int fail(const char *what)
{
    int e = errno;
    const char *name = e == ECONNREFUSED   ? "ECONNREFUSED"
                       : e == ETIMEDOUT    ? "ETIMEDOUT"
                       : e == EHOSTUNREACH ? "EHOSTUNREACH"
                       : e == ENOENT       ? "ENOENT"
                       : e == EPROTO       ? "EPROTO"
                       : e == EADDRINUSE   ? "EADDRINUSE"
                                           : "OTHER";
    printf("%s\n", name);
    fflush(stdout);
    fprintf(stderr, "vsock_sdk_client: %s: %s\n", what, strerror(e));
    return 2;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* stdin → fd, then a half-close; fd → stdout until EOF (the child writes, the parent reads). */
static int relay_stdio(int fd)
{
    pid_t pid = fork();
    if (pid < 0)
        return fail("fork");
    static char buf[65536];
    if (pid == 0) {
        ssize_t n;
        while ((n = read(0, buf, sizeof(buf))) > 0)
            if (write_all(fd, buf, (size_t)n))
                _exit(1);
        shutdown(fd, SHUT_WR);
        _exit(0);
    }
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (write_all(1, buf, (size_t)n))
            return 1;
    return n < 0 ? fail("read") : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s connect CID PORT [MS] | uds PATH PORT [MS] | listen CID PORT\n",
                argv[0]);
        return 1;
    }
    uint32_t port = (uint32_t)strtoul(argv[3], NULL, 10);
    int timeout = argc > 4 ? atoi(argv[4]) : 5000;
    if (strcmp(argv[1], "connect") == 0 || strcmp(argv[1], "uds") == 0) {
        int fd = strcmp(argv[1], "uds") == 0
                     ? alcove_vsock_connect_uds(argv[2], port, timeout)
                     : alcove_vsock_connect((uint32_t)strtoul(argv[2], NULL, 10), port, timeout);
        if (fd < 0)
            return fail("connect");
        return relay_stdio(fd);
    }
    if (strcmp(argv[1], "listen") == 0) {
        int lfd = alcove_vsock_listen((uint32_t)strtoul(argv[2], NULL, 10), port);
        if (lfd < 0)
            return fail("listen");
        printf("listening\n");
        fflush(stdout);
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
            return fail("accept");
        static char buf[65536];
        ssize_t n;
        while ((n = read(c, buf, sizeof(buf))) > 0)
            if (write_all(c, buf, (size_t)n))
                return fail("write");
        close(c);
        return alcove_vsock_unlisten(lfd) == 0 ? 0 : fail("unlisten");
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 1;
}
