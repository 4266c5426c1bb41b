/* relay.c: vsock-proxy's copy engine (see relay.h).
 *
 * Workers: each has its own epoll and the shared listener (EPOLLEXCLUSIVE, so one worker wakes
 * per connection) and owns the connections it accepted, so nothing is shared between workers
 * but the listener and the address cache. Everything is non-blocking and level-triggered, with
 * each socket's interest set to what can make progress now:
 *
 *   side 0 = the accepted socket, side 1 = the one we dialed;
 *   b[i] holds bytes read from side i not yet written to the other side (buf_size at most);
 *   side i wants EPOLLIN  while it has not sent EOF and b[i] has room,
 *               EPOLLOUT while b[1-i] holds bytes for it.
 *
 * So a slow reader fills its buffer, then we stop reading from its peer: it stalls only its own
 * connection. An EOF from side i, once b[i] is written, becomes shutdown(SHUT_WR) of the other
 * side (half-close travels through); a connection ends when both directions have ended, or at
 * the first error (a reset). A socket that hangs up (EPOLLHUP: both directions shut) would be
 * reported at every wait, so it leaves the epoll and is read from when its buffer has room.
 *
 * Dialing: TCP tries the cached addresses in order with non-blocking connects; vsock connects to
 * the enclave's Unix socket, sends "CONNECT <port>\n" and reads the answer into b[1] (bytes the
 * enclave sends right after the "OK" line stay there). Until the dial is done we read only from
 * side 0. Dials end at a deadline: they are kept in a list in deadline order (they all get the
 * same timeout), so the earliest is its head and waiting costs nothing. */
#include "proxy/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "sdk/vsock_internal.h"

#define MAX_EVENTS      128
#define ACCEPT_BATCH    64
#define PUMP_ROUNDS     4   /* copy rounds per wake-up, so one busy connection cannot hog it */
#define EMFILE_PAUSE_MS 100 /* out of descriptors: stop accepting for this long */

enum conn_state { DIALING, HANDSHAKE, OPEN };

struct conn;

struct endpoint {
    struct conn *c;
    int side;
};

struct buf {
    char *p;
    size_t head, len;
};

struct conn {
    struct endpoint ep[2];
    int fd[2];
    uint32_t want[2]; /* the interest registered in the epoll */
    bool reg[2];      /* in the epoll at all */
    bool eof[2];      /* side i sent EOF */
    bool shut[2];     /* we shut side i's writing */
    bool hup[2];      /* side i hung up */
    struct buf b[2];
    enum conn_state state;
    int64_t deadline;
    struct addr_list addrs;
    int next_addr;
    bool dead;
    struct conn *prev, *next;   /* the worker's connections */
    struct conn *dprev, *dnext; /* the worker's dials, in deadline order */
};

struct worker {
    const struct relay_config *cfg;
    int ep;
    int stop_fd;
    pthread_t thread;
    struct conn *conns;
    size_t nconns;
    struct conn *dial_head, *dial_tail;
    struct conn *graveyard;
    bool listening;
    int64_t paused_until;
};

static char g_listen_tag, g_stop_tag;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_listening(struct worker *w, bool on)
{
    if (w->listening == on)
        return;
    if (on) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &g_listen_tag};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->cfg->listen_fd, &ev) != 0)
            return;
    } else {
        epoll_ctl(w->ep, EPOLL_CTL_DEL, w->cfg->listen_fd, NULL);
    }
    w->listening = on;
}

/* ---- the list of dials ---- */

static void dial_link(struct worker *w, struct conn *c)
{
    c->deadline = now_ms() + w->cfg->dial_timeout_ms;
    c->dnext = NULL;
    c->dprev = w->dial_tail;
    if (w->dial_tail)
        w->dial_tail->dnext = c;
    else
        w->dial_head = c;
    w->dial_tail = c;
}

static void dial_unlink(struct worker *w, struct conn *c)
{
    if (c->dprev)
        c->dprev->dnext = c->dnext;
    else if (w->dial_head == c)
        w->dial_head = c->dnext;
    else
        return; /* not in the list */
    if (c->dnext)
        c->dnext->dprev = c->dprev;
    else
        w->dial_tail = c->dprev;
    c->dprev = c->dnext = NULL;
}

/* ---- connections ---- */

static void conn_close(struct worker *w, struct conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    for (int i = 0; i < 2; i++)
        if (c->fd[i] >= 0)
            close(c->fd[i]); /* also leaves the epoll: nobody else holds it */
    if (c->state != OPEN)
        dial_unlink(w, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->nconns--;
    c->next = w->graveyard; /* freed after this batch of events, which may still name it */
    w->graveyard = c;
    if (w->paused_until == 0)
        set_listening(w, true);
}

static void set_interest(struct worker *w, struct conn *c, int i, uint32_t want)
{
    if (c->fd[i] < 0)
        return;
    if (c->hup[i]) {
        if (c->reg[i])
            epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd[i], NULL);
        c->reg[i] = false;
        return;
    }
    if (c->reg[i] && c->want[i] == want)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = &c->ep[i]};
    if (epoll_ctl(w->ep, c->reg[i] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd[i], &ev) == 0) {
        c->reg[i] = true;
        c->want[i] = want;
    }
}

static size_t room(const struct worker *w, const struct buf *b)
{
    return w->cfg->buf_size - b->len;
}

static void update_interest(struct worker *w, struct conn *c)
{
    for (int i = 0; i < 2; i++) {
        uint32_t want = 0;
        if (i == 1 && c->state == DIALING)
            want = EPOLLOUT;
        else if (i == 1 && c->state == HANDSHAKE)
            want = EPOLLIN;
        else {
            if (!c->eof[i] && room(w, &c->b[i]))
                want |= EPOLLIN;
            if (c->state == OPEN && c->b[1 - i].len)
                want |= EPOLLOUT;
        }
        set_interest(w, c, i, want);
    }
}

/* Reads from side i into b[i]: 1 progress, 0 nothing now, -1 error (reset). */
static int fill(struct worker *w, struct conn *c, int i)
{
    struct buf *b = &c->b[i];
    if (c->eof[i] || !room(w, b))
        return 0;
    if (b->head + b->len == w->cfg->buf_size) { /* no room at the end: move to the front */
        memmove(b->p, b->p + b->head, b->len);
        b->head = 0;
    }
    ssize_t n = recv(c->fd[i], b->p + b->head + b->len, w->cfg->buf_size - b->head - b->len, 0);
    if (n > 0) {
        b->len += (size_t)n;
        return 1;
    }
    if (n == 0) {
        c->eof[i] = true;
        return 1;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* Writes b[i] to the other side: 1 progress, 0 nothing now, -1 error. */
static int drain(struct conn *c, int i)
{
    struct buf *b = &c->b[i];
    if (!b->len)
        return 0;
    ssize_t n = send(c->fd[1 - i], b->p + b->head, b->len, MSG_NOSIGNAL);
    if (n > 0) {
        b->head += (size_t)n;
        b->len -= (size_t)n;
        if (!b->len)
            b->head = 0;
        return 1;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
}

/* Copies what can be copied now. Closes the connection when it is over. */
static void pump(struct worker *w, struct conn *c)
{
    for (int round = 1;; round++) {
        int progress = 0;
        for (int i = 0; i < 2; i++) {
            if (c->state != OPEN && i == 1)
                continue; /* the dial reads side 1 itself */
            int r = fill(w, c, i);
            if (r < 0)
                goto reset;
            progress |= r;
            if (c->state != OPEN)
                continue;
            r = drain(c, i);
            if (r < 0)
                goto reset;
            progress |= r;
            if (c->eof[i] && !c->b[i].len && !c->shut[1 - i]) {
                shutdown(c->fd[1 - i], SHUT_WR);
                c->shut[1 - i] = true;
                progress = 1;
            }
        }
        if (c->shut[0] && c->shut[1]) {
            conn_close(w, c); /* both directions are over */
            return;
        }
        /* a side that hung up is out of the epoll, so what it still holds is read now (it is
         * finite); otherwise level-triggered interest brings us back */
        if (!progress || (round >= PUMP_ROUNDS && !c->hup[0] && !c->hup[1]))
            return;
    }
reset:
    conn_close(w, c);
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails harmlessly on Unix */
}

static void opened(struct worker *w, struct conn *c)
{
    c->state = OPEN;
    dial_unlink(w, c);
}

/* Starts a TCP connect to the next address. 0 (dialing or open) or -1 (none left). */
static int tcp_next(struct worker *w, struct conn *c)
{
    int err = 0;
    while (c->next_addr < c->addrs.n) {
        int k = c->next_addr++;
        int s = socket(c->addrs.a[k].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s < 0) {
            err = errno;
            continue;
        }
        set_nodelay(s);
        if (connect(s, (struct sockaddr *)&c->addrs.a[k], c->addrs.len[k]) == 0 ||
            errno == EINPROGRESS) {
            c->fd[1] = s;
            c->reg[1] = false;
            return 0; /* DIALING: wait for EPOLLOUT, even after an immediate success */
        }
        err = errno;
        close(s);
    }
    if (err || !c->addrs.n) { /* (a failure after EINPROGRESS is told by dial_event) */
        char ip[64] = "?";
        if (c->addrs.n)
            addr_ip_string(&c->addrs.a[c->addrs.n - 1], ip, sizeof(ip));
        alc_log(ALC_LOG_WARN, "vsock-proxy: cannot connect to %s: %s", ip,
                err ? strerror(err) : "no address");
    }
    (void)w;
    return -1;
}

static int vsock_dial(struct worker *w, struct conn *c)
{
    const struct relay_config *cfg = w->cfg;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t plen = strlen(cfg->vsock_uds);
    if (plen >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, cfg->vsock_uds, plen + 1);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    char line[VSOCK_LINE_MAX];
    size_t len = vsock_connect_line(line, cfg->vsock_port);
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        alc_log(ALC_LOG_WARN, "vsock-proxy: cannot reach the enclave at %s: %s", cfg->vsock_uds,
                strerror(errno == ENOENT || errno == ECONNREFUSED ? EHOSTUNREACH : errno));
        close(s);
        return -1;
    }
    /* only the enclave's monitor: a socket another user put at the path meanwhile (a shared
     * runtime directory) gets nothing */
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || cred.uid != cfg->vsock_owner) {
        alc_log(ALC_LOG_WARN, "vsock-proxy: %s is not served by the enclave's owner (uid %u)",
                cfg->vsock_uds, (unsigned)cfg->vsock_owner);
        close(s);
        return -1;
    }
    if (send(s, line, len, MSG_NOSIGNAL) != (ssize_t)len) {
        alc_log(ALC_LOG_WARN, "vsock-proxy: cannot reach the enclave at %s: %s", cfg->vsock_uds,
                strerror(errno));
        close(s);
        return -1;
    }
    c->fd[1] = s;
    c->state = HANDSHAKE;
    return 0;
}

/* Side 1 finished connecting (or failed): go on, or try the next address. */
static void dial_event(struct worker *w, struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err == 0) {
        opened(w, c);
        return;
    }
    close(c->fd[1]); /* leaves the epoll */
    c->fd[1] = -1;
    c->reg[1] = false;
    c->hup[1] = false;
    if (c->next_addr >= c->addrs.n) {
        char ip[64];
        alc_log(ALC_LOG_WARN, "vsock-proxy: cannot connect to %s: %s",
                addr_ip_string(&c->addrs.a[c->next_addr - 1], ip, sizeof(ip)), strerror(err));
    }
    if (tcp_next(w, c) != 0)
        conn_close(w, c);
}

/* Reads the monitor's answer into b[1]. */
static void handshake_event(struct worker *w, struct conn *c)
{
    struct buf *b = &c->b[1];
    int r = fill(w, c, 1);
    if (r < 0 || c->eof[1]) {
        alc_log(ALC_LOG_INFO, "vsock-proxy: nothing listens on port %u in the enclave",
                w->cfg->vsock_port);
        conn_close(w, c);
        return;
    }
    size_t scan = b->len < VSOCK_LINE_MAX ? b->len : VSOCK_LINE_MAX;
    const char *nl = memchr(b->p + b->head, '\n', scan);
    uint32_t host_port;
    if (!nl) {
        if (b->len >= VSOCK_LINE_MAX) {
            alc_log(ALC_LOG_WARN, "vsock-proxy: the monitor's answer is not 'OK <port>'");
            conn_close(w, c);
        }
        return;
    }
    size_t line = (size_t)(nl - (b->p + b->head));
    if (vsock_parse_ok(b->p + b->head, line, &host_port) != 0) {
        alc_log(ALC_LOG_WARN, "vsock-proxy: the monitor's answer is not 'OK <port>'");
        conn_close(w, c);
        return;
    }
    b->head += line + 1;
    b->len -= line + 1;
    if (!b->len)
        b->head = 0;
    opened(w, c);
}

static void conn_new(struct worker *w, int fd)
{
    const struct relay_config *cfg = w->cfg;
    struct conn *c = calloc(1, sizeof(*c));
    char *mem = malloc(2 * cfg->buf_size);
    if (!c || !mem) {
        free(c);
        free(mem);
        close(fd);
        return;
    }
    c->b[0].p = mem;
    c->b[1].p = mem + cfg->buf_size;
    c->fd[0] = fd;
    c->fd[1] = -1;
    for (int i = 0; i < 2; i++)
        c->ep[i] = (struct endpoint){c, i};
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    set_nodelay(fd);
    c->state = DIALING;
    dial_link(w, c);
    int rc;
    if (cfg->kind == RELAY_TO_TCP) {
        addr_cache_get(cfg->tcp, &c->addrs);
        rc = tcp_next(w, c);
    } else {
        rc = vsock_dial(w, c);
    }
    if (rc != 0) {
        conn_close(w, c);
        return;
    }
    update_interest(w, c);
}

static void accept_some(struct worker *w)
{
    for (int k = 0; k < ACCEPT_BATCH; k++) {
        if (w->nconns >= w->cfg->max_conns) {
            set_listening(w, false); /* back when one closes */
            return;
        }
        int fd = accept4(w->cfg->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn_new(w, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            alc_log(ALC_LOG_WARN, "vsock-proxy: accept: %s", strerror(errno));
            set_listening(w, false);
            w->paused_until = now_ms() + EMFILE_PAUSE_MS;
        }
        return; /* EAGAIN: another worker took it, or nothing left */
    }
}

static void endpoint_event(struct worker *w, struct endpoint *e, uint32_t events)
{
    struct conn *c = e->c;
    if (c->dead)
        return;
    int i = e->side;
    if (i == 1 && c->state == DIALING) {
        dial_event(w, c);
    } else if (events & EPOLLERR) {
        conn_close(w, c); /* a reset */
        return;
    } else {
        if (events & EPOLLHUP)
            c->hup[i] = true;
        if (i == 1 && c->state == HANDSHAKE)
            handshake_event(w, c);
    }
    if (!c->dead)
        pump(w, c);
    if (!c->dead)
        update_interest(w, c);
}

/* Gives up the dials past their deadline; returns the ms to the next one, or -1. */
static int expire_dials(struct worker *w)
{
    int64_t now = now_ms();
    while (w->dial_head && w->dial_head->deadline <= now) {
        alc_log(ALC_LOG_WARN, "vsock-proxy: connecting took longer than %d ms, given up",
                w->cfg->dial_timeout_ms);
        conn_close(w, w->dial_head);
    }
    if (!w->dial_head)
        return -1;
    return (int)(w->dial_head->deadline - now);
}

static void bury(struct worker *w)
{
    while (w->graveyard) {
        struct conn *c = w->graveyard;
        w->graveyard = c->next;
        free(c->b[0].p);
        free(c);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int timeout = expire_dials(w);
        bury(w);
        if (w->paused_until) {
            int64_t left = w->paused_until - now_ms();
            if (left <= 0) {
                w->paused_until = 0;
                set_listening(w, true);
            } else if (timeout < 0 || left < timeout) {
                timeout = (int)left;
            }
        }
        int n = epoll_wait(w->ep, evs, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            alc_log(ALC_LOG_ERROR, "vsock-proxy: epoll_wait: %s", strerror(errno));
            break;
        }
        bool stop = false;
        for (int k = 0; k < n; k++) {
            if (evs[k].data.ptr == &g_stop_tag)
                stop = true;
            else if (evs[k].data.ptr == &g_listen_tag)
                accept_some(w);
            else
                endpoint_event(w, evs[k].data.ptr, evs[k].events);
        }
        if (stop)
            break;
    }
    while (w->conns)
        conn_close(w, w->conns);
    bury(w);
    return NULL;
}

int relay_run(const struct relay_config *cfg, int stop_fd)
{
    int flags = fcntl(cfg->listen_fd, F_GETFL);
    if (flags < 0 || fcntl(cfg->listen_fd, F_SETFL, flags | O_NONBLOCK) != 0)
        return -errno;
    int nw = cfg->workers > 0 ? cfg->workers : 1;
    struct worker *ws = calloc((size_t)nw, sizeof(*ws));
    if (!ws)
        return -ENOMEM;
    int started = 0, rc = 0;
    for (int k = 0; k < nw; k++) {
        struct worker *w = &ws[k];
        w->cfg = cfg;
        w->stop_fd = stop_fd;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &g_stop_tag};
        if (w->ep < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, stop_fd, &ev) != 0) {
            rc = -errno;
            if (w->ep >= 0)
                close(w->ep);
            break;
        }
        set_listening(w, true);
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e != 0) {
            rc = -e;
            close(w->ep);
            break;
        }
        started++;
    }
    if (started > 0 && rc != 0) {
        alc_log(ALC_LOG_WARN, "vsock-proxy: started %d of %d workers: %s", started, nw,
                strerror(-rc));
        rc = 0;
    }
    for (int k = 0; k < started; k++) {
        pthread_join(ws[k].thread, NULL);
        close(ws[k].ep);
    }
    free(ws);
    return rc;
}
