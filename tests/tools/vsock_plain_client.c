/* vsock_plain_client.c: an ordinary AF_VSOCK program that knows nothing of alcove: it uses only
 * socket(AF_VSOCK), connect/bind/listen/accept and <linux/vm_sockets.h>. vsock_host.bats runs it
 * with LD_PRELOAD=libalcove-preload.so to show the shim makes such programs reach enclaves.
 *
 *   vsock_plain_client CID PORT     connects; prints "peer CID:PORT" on stderr; stdin → it
 *                                   (then a half-close), it → stdout
 *   vsock_plain_client -l PORT      listens on (VMADDR_CID_ANY, PORT), accepts one connection,
 *                                   prints "accepted from CID" on stderr, echoes it
 *   add -n before the arguments to use a non-blocking socket (SOCK_NONBLOCK)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            poll(&pf, 1, -1);
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* read(2) that waits on a non-blocking descriptor */
static ssize_t read_wait(int fd, char *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0 || (errno != EAGAIN && errno != EINTR))
            return r;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        poll(&pf, 1, -1);
    }
}

int main(int argc, char **argv)
{
    int flags = SOCK_CLOEXEC;
    int a = 1;
    if (argc > a && strcmp(argv[a], "-n") == 0) {
        flags |= SOCK_NONBLOCK;
        a++;
    }
    if (argc - a != 2) {
        fprintf(stderr, "usage: %s [-n] CID PORT | [-n] -l PORT\n", argv[0]);
        return 1;
    }
    static char buf[65536];
    int fd = socket(AF_VSOCK, SOCK_STREAM | flags, 0);
    if (fd < 0) {
        perror("socket(AF_VSOCK)");
        return 2;
    }
    struct sockaddr_vm sa;
    memset(&sa, 0, sizeof(sa));
    sa.svm_family = AF_VSOCK;
    sa.svm_port = (unsigned)strtoul(argv[a + 1], NULL, 10);
    if (strcmp(argv[a], "-l") == 0) {
        sa.svm_cid = VMADDR_CID_ANY;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0) {
            perror("bind/listen");
            return 2;
        }
        fprintf(stderr, "listening\n");
        struct sockaddr_vm peer;
        socklen_t len = sizeof(peer);
        int c;
        while ((c = accept(fd, (struct sockaddr *)&peer, &len)) < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            poll(&pf, 1, -1);
        }
        if (c < 0 || peer.svm_family != AF_VSOCK) {
            perror("accept");
            return 2;
        }
        fprintf(stderr, "accepted from %u\n", peer.svm_cid);
        ssize_t n;
        while ((n = read_wait(c, buf, sizeof(buf))) > 0)
            if (write_all(c, buf, (size_t)n))
                return 2;
        close(c);
        close(fd);
        return 0;
    }
    sa.svm_cid = (unsigned)strtoul(argv[a], NULL, 10);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "connect: %s\n", strerror(errno));
        return 3;
    }
    struct sockaddr_vm peer, self;
    socklen_t plen = sizeof(peer), slen = sizeof(self);
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) != 0 ||
        getsockname(fd, (struct sockaddr *)&self, &slen) != 0 || peer.svm_family != AF_VSOCK) {
        perror("getpeername/getsockname");
        return 2;
    }
    fprintf(stderr, "peer %u:%u local %u\n", peer.svm_cid, peer.svm_port, self.svm_cid);
    pid_t pid = fork();
    if (pid == 0) {
        ssize_t n;
        while ((n = read(0, buf, sizeof(buf))) > 0)
            if (write_all(fd, buf, (size_t)n))
                _exit(1);
        shutdown(fd, SHUT_WR);
        _exit(0);
    }
    ssize_t n;
    while ((n = read_wait(fd, buf, sizeof(buf))) > 0)
        if (write_all(1, buf, (size_t)n))
            return 2;
    return n < 0 ? 2 : 0;
}
