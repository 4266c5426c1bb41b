/* control.c: a detached enclave's control socket and console (see control.h).
 *
 * One thread serves "<runtime dir>/<cid>.ctl" and the console pipe. A client sends one line:
 *   DESCRIBE\n   the enclave's description (JSON), then the socket closes;
 *   TERMINATE\n  the enclave ends; the socket stays open until the monitor has cleaned up and
 *                exited, so the client knows when everything is gone;
 *   CONSOLE\n    debug mode only: the backlog (the last CONTROL_BACKLOG bytes), then the live
 *                console until the enclave ends; a reader that falls behind is dropped (it can
 *                reconnect and gets the backlog again), so no reader ever slows the enclave.
 * TERMINATE and CONSOLE are allowed to root and to the user who started the enclave
 * (SO_PEERCRED); DESCRIBE to anyone who can reach the socket, which is mode 0600 in a directory
 * only its owner may write to (common/runtime.h), so only that user and root.
 *
 * Bounded: CONTROL_MAX_PEERS clients at a time. One that has not sent its whole line within
 * CONTROL_IDLE_MS is dropped, and when every slot is taken the client that has waited longest
 * without a line gives up its slot to the newcomer, so idle clients never keep TERMINATE out.
 * Out of descriptors, the listening socket is left alone until a client goes or for
 * CONTROL_RETRY_MS, rather than spinning on a socket that stays readable. */
#include "monitor/control.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/runtime.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

#define CONTROL_BACKLOG   (64u << 10)
#define CONTROL_MAX_PEERS 64
#define LINE_MAX_BYTES    32
#define CONTROL_IDLE_MS   5000 /* to send a whole request line */
#define CONTROL_RETRY_MS  200  /* out of descriptors: listen again after this */

enum peer_kind { P_NEW, P_CONSOLE, P_TERMINATE };

struct peer {
    int fd;
    enum peer_kind kind;
    char line[LINE_MAX_BYTES];
    size_t len;
    int64_t since_ms; /* when it connected */
};

struct control {
    struct vm *vm;
    bool debug;
    uid_t owner;
    int listen_fd, pipe_rd, stop_fd, ep;
    char path[4200];
    pthread_t thread;
    bool started;
    bool listen_paused;       /* out of descriptors: the listening socket is not polled */
    int64_t listen_resume_ms; /* when to poll it again */
    uint8_t backlog[CONTROL_BACKLOG];
    uint64_t written; /* bytes ever put in the backlog */
    struct peer peers[CONTROL_MAX_PEERS];
    char *(*describe)(struct vm *vm); /* malloc'd JSON */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void listen_events(struct control *c, bool on)
{
    if (c->listen_paused == !on)
        return;
    struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.ptr = &c->listen_fd};
    epoll_ctl(c->ep, EPOLL_CTL_MOD, c->listen_fd, &ev);
    c->listen_paused = !on;
    c->listen_resume_ms = now_ms() + CONTROL_RETRY_MS;
}

static void peer_close(struct control *c, struct peer *p)
{
    if (p->fd >= 0) {
        close(p->fd);
        listen_events(c, true); /* a descriptor is free again */
    }
    p->fd = -1;
}

static bool peer_allowed(struct control *c, int fd)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
        return false;
    return cr.uid == 0 || cr.uid == c->owner;
}

static int send_all(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static int send_backlog(struct control *c, int fd)
{
    uint64_t n = c->written < CONTROL_BACKLOG ? c->written : CONTROL_BACKLOG;
    uint64_t start = c->written - n;
    size_t at = (size_t)(start % CONTROL_BACKLOG);
    size_t first = CONTROL_BACKLOG - at < n ? CONTROL_BACKLOG - at : (size_t)n;
    if (send_all(fd, c->backlog + at, first))
        return -1;
    return send_all(fd, c->backlog, (size_t)n - first);
}

static void reply(int fd, const char *text)
{
    send_all(fd, text, strlen(text));
}

static void peer_line(struct control *c, struct peer *p)
{
    ssize_t n = recv(p->fd, p->line + p->len, sizeof(p->line) - p->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        peer_close(c, p);
        return;
    }
    p->len += (size_t)n;
    char *nl = memchr(p->line, '\n', p->len);
    if (!nl) {
        if (p->len == sizeof(p->line))
            peer_close(c, p);
        return;
    }
    *nl = 0;
    if (strcmp(p->line, "DESCRIBE") == 0) {
        char *json = c->describe(c->vm);
        if (json) {
            reply(p->fd, json);
            reply(p->fd, "\n");
        }
        free(json);
        peer_close(c, p);
    } else if (strcmp(p->line, "TERMINATE") == 0) {
        if (!peer_allowed(c, p->fd)) {
            reply(p->fd, "ERROR EACCES\n");
            peer_close(c, p);
            return;
        }
        p->kind = P_TERMINATE; /* kept open: it closes when the monitor exits */
        vm_end(c->vm, VM_END_HOST, 143, "terminated");
    } else if (strcmp(p->line, "CONSOLE") == 0) {
        if (!c->debug) {
            reply(p->fd, "ERROR ENOTDEBUG\n");
            peer_close(c, p);
        } else if (!peer_allowed(c, p->fd)) {
            reply(p->fd, "ERROR EACCES\n");
            peer_close(c, p);
        } else {
            p->kind = P_CONSOLE;
            if (send_all(p->fd, "OK\n", 3) || send_backlog(c, p->fd))
                peer_close(c, p);
        }
    } else {
        reply(p->fd, "ERROR EINVAL\n");
        peer_close(c, p);
    }
}

/* Console bytes from the enclave: into the backlog and to every reader. */
static void console_data(struct control *c)
{
    uint8_t buf[16384];
    for (;;) {
        ssize_t n = read(c->pipe_rd, buf, sizeof(buf));
        if (n == 0 && c->ep >= 0) /* every writer is gone: stop watching */
            epoll_ctl(c->ep, EPOLL_CTL_DEL, c->pipe_rd, NULL);
        if (n <= 0)
            return;
        if (!c->debug)
            continue; /* no console outside debug mode: the output goes nowhere */
        for (ssize_t i = 0; i < n;) {
            size_t at = (size_t)(c->written % CONTROL_BACKLOG);
            size_t k =
                CONTROL_BACKLOG - at < (size_t)(n - i) ? CONTROL_BACKLOG - at : (size_t)(n - i);
            memcpy(c->backlog + at, buf + i, k);
            c->written += k;
            i += (ssize_t)k;
        }
        for (int i = 0; i < CONTROL_MAX_PEERS; i++) {
            struct peer *p = &c->peers[i];
            if (p->fd >= 0 && p->kind == P_CONSOLE && send_all(p->fd, buf, (size_t)n))
                peer_close(c, p); /* fell behind: dropped */
        }
    }
}

/* A free slot for a newcomer. When every slot is held: the clients whose request line has
 * arrived are served first (it may free their slots), then the one that has waited longest
 * without a line gives way, then the oldest console reader; NULL when every slot holds a
 * terminator. */
static struct peer *free_slot(struct control *c)
{
    for (int i = 0; i < CONTROL_MAX_PEERS; i++)
        if (c->peers[i].fd < 0)
            return &c->peers[i];
    for (int i = 0; i < CONTROL_MAX_PEERS; i++) {
        struct peer *p = &c->peers[i];
        char b;
        if (p->kind == P_NEW && recv(p->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
            peer_line(c, p);
    }
    struct peer *oldest = NULL;
    for (int i = 0; i < CONTROL_MAX_PEERS; i++) {
        struct peer *p = &c->peers[i];
        if (p->fd < 0)
            return p;
        if (p->kind != P_TERMINATE && (!oldest || (p->kind == P_NEW && oldest->kind != P_NEW) ||
                                       (p->kind == oldest->kind && p->since_ms < oldest->since_ms)))
            oldest = p;
    }
    if (oldest)
        peer_close(c, oldest);
    return oldest;
}

/* Newcomers taken per wake-up at most: a client that keeps connecting cannot hold the thread. */
#define ACCEPTS_PER_WAKE 16

static void accept_peers(struct control *c)
{
    for (int taken = 0; taken < ACCEPTS_PER_WAKE; taken++) {
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                listen_events(c, false); /* the socket stays readable: do not spin on it */
            return;
        }
        struct peer *slot = free_slot(c);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = slot};
        if (!slot || epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev)) {
            close(fd);
            continue;
        }
        *slot = (struct peer){.fd = fd, .kind = P_NEW, .since_ms = now_ms()};
    }
}

/* Drops the clients that are late with their line, resumes listening when it is time; returns
 * the epoll timeout until the next such deadline (-1: none). */
static int control_timers(struct control *c)
{
    int64_t now = now_ms(), next = -1;
    for (int i = 0; i < CONTROL_MAX_PEERS; i++) {
        struct peer *p = &c->peers[i];
        if (p->fd < 0 || p->kind != P_NEW)
            continue;
        int64_t due = p->since_ms + CONTROL_IDLE_MS;
        if (due <= now) {
            peer_close(c, p);
            continue;
        }
        if (next < 0 || due < next)
            next = due;
    }
    if (c->listen_paused) {
        if (c->listen_resume_ms <= now)
            listen_events(c, true);
        else if (next < 0 || c->listen_resume_ms < next)
            next = c->listen_resume_ms;
    }
    return next < 0 ? -1 : (int)(next - now);
}

static void *control_thread(void *arg)
{
    struct control *c = arg;
    struct epoll_event evs[16];
    for (;;) {
        /* once the monitor is sandboxed: before anything done for a running enclave */
        sandbox_thread_class(SANDBOX_CONTROL);
        int n = epoll_wait(c->ep, evs, 16, control_timers(c));
        for (int i = 0; i < n; i++) {
            void *ptr = evs[i].data.ptr;
            if (ptr == &c->stop_fd)
                return NULL;
            if (ptr == &c->listen_fd) {
                accept_peers(c);
            } else if (ptr == &c->pipe_rd) {
                console_data(c);
            } else {
                struct peer *p = ptr;
                if (p->fd < 0)
                    continue;
                if (p->kind == P_NEW)
                    peer_line(c, p);
                else if (evs[i].events & (EPOLLHUP | EPOLLERR | EPOLLIN)) {
                    /* a reader or a terminator that left (anything else it sends is ignored) */
                    char b[64];
                    ssize_t got = recv(p->fd, b, sizeof(b), MSG_DONTWAIT);
                    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
                        peer_close(c, p);
                }
            }
        }
    }
}

static int ep_add(int ep, int fd, void *ptr)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ptr};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

struct control *control_start(struct vm *vm, bool debug, char *(*describe)(struct vm *),
                              int *console_fd)
{
    struct control *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->vm = vm;
    c->debug = debug;
    c->owner = getuid();
    c->describe = describe;
    c->listen_fd = c->pipe_rd = c->stop_fd = c->ep = -1;
    for (int i = 0; i < CONTROL_MAX_PEERS; i++)
        c->peers[i].fd = -1;
    int pfd[2] = {-1, -1};
    if (runtime_path(c->path, sizeof(c->path), vm->claim.cid, "ctl"))
        goto fail;
    unlink(c->path); /* a dead monitor's */
    c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->listen_fd < 0 || runtime_listen(c->listen_fd, c->path, 16))
        goto fail;
    if (pipe2(pfd, O_CLOEXEC))
        goto fail;
    c->pipe_rd = pfd[0];
    fcntl(c->pipe_rd, F_SETFL, O_NONBLOCK);
    c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->ep = epoll_create1(EPOLL_CLOEXEC);
    if (c->stop_fd < 0 || c->ep < 0 || ep_add(c->ep, c->listen_fd, &c->listen_fd) ||
        ep_add(c->ep, c->pipe_rd, &c->pipe_rd) || ep_add(c->ep, c->stop_fd, &c->stop_fd))
        goto fail;
    if (pthread_create(&c->thread, NULL, control_thread, c))
        goto fail;
    c->started = true;
    *console_fd = pfd[1];
    return c;
fail:
    alc_log(ALC_LOG_ERROR, "control socket %s: %s", c->path, strerror(errno));
    if (pfd[1] >= 0)
        close(pfd[1]);
    control_stop(c);
    return NULL;
}

void control_stop(struct control *c)
{
    if (!c)
        return;
    if (c->started) {
        uint64_t one = 1;
        if (write(c->stop_fd, &one, sizeof(one)) < 0)
            alc_log(ALC_LOG_WARN, "control: stop: %s", strerror(errno));
        pthread_join(c->thread, NULL);
        console_data(c); /* the last words, to the readers still there */
    }
    /* readers of the console and terminators see the end now */
    for (int i = 0; i < CONTROL_MAX_PEERS; i++)
        if (c->peers[i].kind != P_TERMINATE)
            peer_close(c, &c->peers[i]);
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        unlink(c->path);
    }
    if (c->pipe_rd >= 0)
        close(c->pipe_rd);
    if (c->stop_fd >= 0)
        close(c->stop_fd);
    if (c->ep >= 0)
        close(c->ep);
    /* TERMINATE clients are left open on purpose: they close with the process */
    free(c);
}
