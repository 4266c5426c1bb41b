/* tcp_echo.c: an ordinary TCP echo server, for published ports (publish.bats): it knows nothing
 * of vsock.
 *
 *   tcp_echo PORT [v4|v6|lo] [COUNT] [inline|spin]
 *
 * Listens on the wildcard address (v4: 0.0.0.0, v6: :: which takes v4 clients too; lo:
 * 127.0.0.1 only, which published ports must not reach) and serves COUNT connections (0:
 * forever), each in a forked child (inline: in the server itself, one at a time) that echoes
 * until the client's end of file. For each
 * connection it prints the client's address as accept() gave it and the local address.
 * spin: inline, and a second thread polls an AF_VSOCK socket without pause meanwhile (each
 * poll runs the enclave kernel's vsock driver: its look at the device must not take the
 * wake-ups of the writer blocked on the connection). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static void name(const struct sockaddr_storage *a, char *buf, size_t n, unsigned *port)
{
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)a;
        inet_ntop(AF_INET, &s->sin_addr, buf, (socklen_t)n);
        *port = ntohs(s->sin_port);
    } else {
        const struct sockaddr_in6 *s = (const void *)a;
        inet_ntop(AF_INET6, &s->sin6_addr, buf, (socklen_t)n);
        *port = ntohs(s->sin6_port);
    }
}

static void serve(int c, int inline_serve)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(c, buf + off, (size_t)(n - off));
            if (w <= 0)
                _exit(1);
            off += w;
        }
    }
    if (inline_serve) {
        close(c);
        return;
    }
    _exit(0);
}

static void *spinner(void *arg)
{
    struct pollfd p = {.fd = (int)(intptr_t)arg, .events = POLLIN | POLLOUT};
    for (;;)
        poll(&p, 1, 0);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tcp_echo PORT [v4|v6|lo] [COUNT]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *kind = argc > 2 ? argv[2] : "v6";
    long count = argc > 3 ? atol(argv[3]) : 0;
    int spin = argc > 4 && strcmp(argv[4], "spin") == 0;
    int inline_serve = spin || (argc > 4 && strcmp(argv[4], "inline") == 0);
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGCHLD, SIG_IGN); /* children reap themselves */
    int v6 = strcmp(kind, "v6") == 0;
    int l = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_storage a = {0};
    socklen_t alen;
    if (v6) {
        struct sockaddr_in6 *s = (void *)&a;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons((uint16_t)port);
        s->sin6_addr = in6addr_any;
        alen = sizeof(*s);
    } else {
        struct sockaddr_in *s = (void *)&a;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)port);
        s->sin_addr.s_addr = strcmp(kind, "lo") == 0 ? htonl(INADDR_LOOPBACK) : INADDR_ANY;
        alen = sizeof(*s);
    }
    if (bind(l, (struct sockaddr *)&a, alen) || listen(l, 128)) {
        perror("bind/listen");
        return 1;
    }
    pthread_t spin_thread;
    if (spin) {
        int vs = socket(AF_VSOCK, SOCK_STREAM, 0); /* natively, -1: the thread polls nothing */
        if (pthread_create(&spin_thread, NULL, spinner, (void *)(intptr_t)vs)) {
            perror("pthread_create");
            return 1;
        }
    }
    printf("listening on %d (%s)\n", port, kind);
    for (long i = 0; count == 0 || i < count; i++) {
        struct sockaddr_storage peer, self;
        socklen_t plen = sizeof(peer), slen = sizeof(self);
        int c = accept(l, (struct sockaddr *)&peer, &plen);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            perror("accept");
            return 1;
        }
        getsockname(c, (struct sockaddr *)&self, &slen);
        char pb[64], sb[64];
        unsigned pp, sp;
        name(&peer, pb, sizeof(pb), &pp);
        name(&self, sb, sizeof(sb), &sp);
        int nodelay = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay));
        printf("connection %ld from %s port %u to %s port %u\n", i + 1, pb, pp, sb, sp);
        if (inline_serve) {
            serve(c, 1);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(l);
            serve(c, 0);
        }
        close(c);
    }
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    printf("served %ld\n", count);
    return 0;
}
