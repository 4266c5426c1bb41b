/* vsock_echo.c: an AF_VSOCK echo server for the vsock tests.
 *
 *   vsock_echo [-n CONNS] [-c] [-p] PORT
 *
 * Listens on PORT (any CID), prints "listening on PORT" once it does, and echoes every
 * connection until its peer half-closes, then half-closes its side and closes. Connections are
 * served concurrently with epoll (-p: with poll), non-blocking, each with a bounded buffer: a
 * connection whose echo is not read stops being read, and only it. -n: exit after serving CONNS
 * connections (0, the default: never). -c: print "conn K bytes N checksum X" (FNV-1a of what
 * connection K sent) as each one ends, and a total line at exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock_common.h"

#define BUF_SIZE  (64 * 1024)
#define MAX_CONNS 1024

struct conn {
    int fd;
    int id;
    char *buf;
    size_t head, tail; /* [tail, head) waits to be echoed */
    int eof;
    unsigned long long bytes;
    uint64_t sum;
};

static struct conn *g_conns[MAX_CONNS];
static int g_use_poll, g_print_sum, g_ep = -1;
static unsigned long long g_total;

static void die(const char *what)
{
    fprintf(stderr, "vsock_echo: %s: %s\n", what, errno_name(errno));
    exit(1);
}

static uint32_t interest(const struct conn *c)
{
    uint32_t ev = 0;
    if (!c->eof && c->head < BUF_SIZE)
        ev |= EPOLLIN;
    if (c->head > c->tail)
        ev |= EPOLLOUT;
    return ev;
}

static void update(struct conn *c)
{
    if (g_use_poll)
        return;
    struct epoll_event e = {.events = interest(c), .data.fd = c->fd};
    if (epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &e) != 0)
        die("epoll_ctl MOD");
}

static void finish(struct conn *c)
{
    if (g_print_sum) {
        printf("conn %d bytes %llu checksum %016llx\n", c->id, c->bytes,
               (unsigned long long)c->sum);
        fflush(stdout); /* as it happens: a test may wait for the line */
    }
    g_total += c->bytes;
    if (!g_use_poll)
        epoll_ctl(g_ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    g_conns[c->fd] = NULL;
    free(c->buf);
    free(c);
}

/* Returns 1 when the connection is over. */
static int serve(struct conn *c, uint32_t ev)
{
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->eof && c->head < BUF_SIZE) {
        ssize_t n = read(c->fd, c->buf + c->head, BUF_SIZE - c->head);
        if (n > 0) {
            c->sum = checksum_add(c->sum, c->buf + c->head, (size_t)n);
            c->bytes += (unsigned long long)n;
            c->head += (size_t)n;
        } else if (n == 0) {
            c->eof = 1;
        } else if (errno != EAGAIN) {
            fprintf(stderr, "vsock_echo: conn %d: read: %s\n", c->id, errno_name(errno));
            return 1;
        }
    }
    if (c->head > c->tail) {
        ssize_t n = send(c->fd, c->buf + c->tail, c->head - c->tail, MSG_NOSIGNAL);
        if (n > 0) {
            c->tail += (size_t)n;
            if (c->tail == c->head)
                c->head = c->tail = 0;
        } else if (n < 0 && errno != EAGAIN) {
            fprintf(stderr, "vsock_echo: conn %d: send: %s\n", c->id, errno_name(errno));
            return 1;
        }
    }
    if (c->eof && c->head == c->tail) {
        shutdown(c->fd, SHUT_WR);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int max_conns = 0, opt;
    while ((opt = getopt(argc, argv, "n:cp")) != -1) {
        switch (opt) {
        case 'n':
            max_conns = atoi(optarg);
            break;
        case 'c':
            g_print_sum = 1;
            break;
        case 'p':
            g_use_poll = 1;
            break;
        default:
            fprintf(stderr, "usage: vsock_echo [-n CONNS] [-c] [-p] PORT\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: vsock_echo [-n CONNS] [-c] [-p] PORT\n");
        return 2;
    }
    unsigned port = (unsigned)strtoul(argv[optind], NULL, 0);
    int l = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l < 0)
        die("socket");
    struct vm_addr a = vm_addr(VMADDR_CID_ANY, port);
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0)
        die("bind");
    if (listen(l, 128) != 0)
        die("listen");
    if (!g_use_poll) {
        g_ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event e = {.events = EPOLLIN, .data.fd = l};
        if (g_ep < 0 || epoll_ctl(g_ep, EPOLL_CTL_ADD, l, &e) != 0)
            die("epoll");
    }
    printf("listening on %u\n", port);
    fflush(stdout);

    int accepted = 0, open = 0, next_id = 0;
    static struct pollfd pfds[MAX_CONNS + 1];
    static struct epoll_event evs[64];
    while (max_conns == 0 || accepted < max_conns || open > 0) {
        int n;
        if (g_use_poll) {
            int k = 0;
            if (max_conns == 0 || accepted < max_conns)
                pfds[k++] = (struct pollfd){.fd = l, .events = POLLIN};
            for (int fd = 0; fd < MAX_CONNS; fd++)
                if (g_conns[fd])
                    pfds[k++] = (struct pollfd){.fd = fd, .events = (short)interest(g_conns[fd])};
            n = poll(pfds, (nfds_t)k, -1);
            if (n < 0)
                die("poll");
            n = 0;
            for (int i = 0; i < k; i++)
                if (pfds[i].revents)
                    evs[n++] = (struct epoll_event){.events = (uint32_t)pfds[i].revents,
                                                    .data.fd = pfds[i].fd};
        } else {
            n = epoll_wait(g_ep, evs, 64, -1);
            if (n < 0)
                die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == l) {
                for (;;) {
                    if (max_conns && accepted >= max_conns) {
                        if (!g_use_poll)
                            epoll_ctl(g_ep, EPOLL_CTL_DEL, l, NULL);
                        break;
                    }
                    int c = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) {
                        if (errno == EAGAIN)
                            break;
                        die("accept4");
                    }
                    if (c >= MAX_CONNS) {
                        close(c);
                        continue;
                    }
                    struct conn *cn = calloc(1, sizeof(*cn));
                    cn->buf = malloc(BUF_SIZE);
                    cn->fd = c;
                    cn->id = next_id++;
                    cn->sum = CHECKSUM_INIT;
                    g_conns[c] = cn;
                    accepted++;
                    open++;
                    if (!g_use_poll) {
                        struct epoll_event e = {.events = EPOLLIN, .data.fd = c};
                        if (epoll_ctl(g_ep, EPOLL_CTL_ADD, c, &e) != 0)
                            die("epoll_ctl ADD");
                    }
                }
                continue;
            }
            struct conn *c = g_conns[fd];
            if (!c)
                continue;
            if (serve(c, evs[i].events)) {
                finish(c);
                open--;
            } else {
                update(c);
            }
        }
    }
    if (g_print_sum)
        printf("total conns %d bytes %llu\n", accepted, g_total);
    return 0;
}
