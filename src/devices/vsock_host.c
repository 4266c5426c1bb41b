/* vsock_host.c: the virtio-vsock device's host side, Firecracker's hybrid vsock over Unix sockets
 * (docs/vsock.md): the enclave's listening socket and the CONNECT line of each client it
 * accepts, the connections the guest opens to "<uds>_P", writes of what the guest sent that the
 * host socket did not take at once, and the events of every host socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/runtime.h"
#include "devices/vsock_priv.h"
#include "devices/vsock.h"
#include "monitor/keeper.h"
#include "monitor/vm.h"

/* ---- host socket I/O ---- */

/* Writes what is pending to the host. 0, or -1 when the host socket is gone. */
int flush_pending(struct vsock *vs, struct conn *c)
{
    while (c->pend_len) {
        ssize_t n = write(c->fd, c->pend + c->pend_off, c->pend_len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            return -1;
        }
        c->pend_off += (size_t)n;
        c->pend_len -= (size_t)n;
        c->fwd_cnt += (uint32_t)n;
    }
    c->pend_off = 0;
    if (c->draining) {
        conn_reset(vs, c, true); /* everything delivered: now the RST that ends it */
        return 0;
    }
    if (c->guest_shut_send)
        shutdown(c->fd, SHUT_WR);
    /* tell a guest that may be out of credit */
    if (c->fwd_cnt != c->fwd_cnt_told)
        conn_ctrl(vs, c, CTRL_CREDIT);
    return 0;
}

/* A non-blocking connect to the Unix socket at path: C_OPEN, C_HOST_CONNECTING, or C_LINE when
 * it failed (errno says why; fd is closed). */
static enum conn_state host_connect(const char *path, int *fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return C_LINE;
    if (len >= sizeof(sa.sun_path)) {
        close(*fd);
        *fd = -1;
        errno = ENAMETOOLONG;
        return C_LINE;
    }
    memcpy(sa.sun_path, path, len + 1);
    /* in a runtime directory shared by a group (docs/security.md) another member may make a
     * socket at "<cid>.vsock_P" or "any.vsock_P": one that is neither this monitor's uid's nor
     * root's counts as nothing there, and is not even connected to (its listener would learn
     * that this guest called); the sticky directory keeps others from replacing a file */
    struct stat st;
    if (lstat(path, &st) == 0 && st.st_uid != 0 && st.st_uid != geteuid()) {
        alc_log(ALC_LOG_DEBUG, "vsock: %s is uid %u's, not this user's: ignored", path,
                (unsigned)st.st_uid);
        close(*fd);
        *fd = -1;
        errno = ECONNREFUSED;
        return C_LINE;
    }
    /* a Unix connect completes at once or fails (EAGAIN: the listener's backlog is full, which
     * is a refusal too) */
    if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        /* and the listener itself: only one of this monitor's uid or root's gets this
         * enclave's connections */
        struct ucred cr = {.uid = (uid_t)-1};
        socklen_t crlen = sizeof(cr);
        if (getsockopt(*fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0 &&
            (cr.uid == 0 || cr.uid == geteuid()))
            return C_OPEN;
        alc_log(ALC_LOG_DEBUG, "vsock: %s listens as uid %u, not this user's: ignored", path,
                (unsigned)cr.uid);
        errno = ECONNREFUSED;
    } else if (errno == EINPROGRESS) {
        return C_HOST_CONNECTING;
    }
    int e = errno;
    close(*fd);
    *fd = -1;
    errno = e;
    return C_LINE;
}

int vsock_listener_connect(const char *uds, uint32_t port, int *fd)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s_%u", uds, port);
    enum conn_state st = host_connect(path, fd);
    const char *base = strrchr(uds, '/');
    if (st == C_LINE && (errno == ENOENT || errno == ECONNREFUSED) && base) {
        snprintf(path, sizeof(path), "%.*s/any.vsock_%u", (int)(base - uds), uds, port);
        st = host_connect(path, fd);
    }
    return st == C_OPEN ? 0 : st == C_HOST_CONNECTING ? 1 : -1;
}

/* A guest's REQUEST: a heartbeat, a name-lookup stream, or a connection to a host listener. */
void guest_request(struct vsock *vs, const struct vsock_hdr *h)
{
    if (conn_find(vs, h->src_port, h->dst_port))
        return; /* a duplicate REQUEST: ignore, as for any packet of a live connection */
    bool heartbeat = h->dst_port == ALC_VSOCK_HEARTBEAT_PORT;
    int fd = -1;
    enum conn_state st = C_HEARTBEAT;
    if (!heartbeat && vs->nguest >= vs->max_guest) {
        /* at its cap: refused, as a host that had no room would (no descriptor is spent) */
        if (!vs->cap_logged)
            alc_log(ALC_LOG_WARN,
                    "vsock: the guest holds %u connections to host listeners, its limit: "
                    "more are refused",
                    vs->nguest);
        vs->cap_logged = true;
        reply_rst(vs, h->src_port, h->dst_port);
        return;
    }
    if (h->dst_port == ALC_VSOCK_DNS_PORT) {
        /* a UDP socket's name lookups (vsock_dns.c): answered here, never a host listener */
        fd = dns_open(vs);
        st = fd < 0 ? C_LINE : C_OPEN;
    } else if (!heartbeat) {
        /* the keeper connects when there is one: this monitor may not reach the directory */
        int r = vs->vm->keeper ? keeper_connect(vs->vm->keeper, h->dst_port, &fd)
                               : vsock_listener_connect(vs->uds, h->dst_port, &fd);
        st = r == 0 ? C_OPEN : r == 1 ? C_HOST_CONNECTING : C_LINE;
    }
    struct conn *c = st == C_LINE ? NULL : conn_new(vs, st, fd);
    if (!c) {
        if (fd >= 0)
            close(fd);
        reply_rst(vs, h->src_port, h->dst_port); /* refused */
        return;
    }
    if (!heartbeat) {
        /* what a listener that does not read leaves here is bounded: VSOCK_GUEST_CONN_COST */
        int sz = (int)VSOCK_GUEST_SNDBUF;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        c->guest_made = true;
        vs->nguest++;
    }
    c->guest_port = h->src_port;
    c->host_port = h->dst_port;
    c->peer_buf_alloc = h->buf_alloc;
    c->peer_fwd_cnt = h->fwd_cnt;
    conn_hash_add(vs, c);
    if (st != C_HOST_CONNECTING)
        conn_ctrl(vs, c, CTRL_RESPONSE);
}

/* ---- host events ---- */

uint32_t host_port_for(struct vsock *vs, uint32_t guest_port)
{
    uint32_t hp = vs->next_host_port;
    while (conn_find(vs, guest_port, hp))
        hp++;
    vs->next_host_port = hp + 1 < VSOCK_HOST_PORT0 ? VSOCK_HOST_PORT0 : hp + 1;
    return hp;
}

/* Listeners are level-triggered: one that is resumed with clients waiting reports them at once.
 * A paused one leaves its clients in the kernel's backlog. */
static void listener_events(struct vsock *vs, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = &vs->listen_tag};
    epoll_ctl(vs->ep, EPOLL_CTL_MOD, vs->listen_fd, &ev);
    for (unsigned i = 0; i < vs->ntcp; i++) {
        ev = (struct epoll_event){.events = events, .data.ptr = &vs->tcp[i].tag};
        epoll_ctl(vs->ep, EPOLL_CTL_MOD, vs->tcp[i].fd, &ev);
    }
}

/* No descriptor (or connection) to take a client with: stop listening until a connection
 * ends, rather than spin on listeners that stay readable. */
void listeners_pause(struct vsock *vs)
{
    if (vs->listen_paused)
        return;
    listener_events(vs, 0);
    vs->listen_paused = true;
}

void listeners_resume(struct vsock *vs)
{
    if (!vs->listen_paused)
        return;
    listener_events(vs, EPOLLIN);
    vs->listen_paused = false;
}

void host_accept(struct vsock *vs)
{
    for (;;) {
        /* at the cap, clients wait in the listener's backlog until a connection ends (or a
         * late CONNECT line is timed out), rather than being closed as if nothing listened */
        if (vs->nconns >= VSOCK_MAX_CONNS) {
            listeners_pause(vs);
            return;
        }
        int fd = accept4(vs->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM))
            listeners_pause(vs);
        if (fd < 0)
            return;
        struct conn *c = conn_new(vs, C_LINE, fd);
        if (!c)
            close(fd); /* out of memory */
    }
}

int64_t vsock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int host_timers(struct vsock *vs, int timeout)
{
    if (!vs->nline && !vs->listen_paused && !vs->nout_connecting) {
        vs->sweep_ms = 0;
        return timeout;
    }
    int64_t now = vsock_now_ms();
    if (!vs->sweep_ms)
        vs->sweep_ms = now + VSOCK_RETRY_MS;
    if (now >= vs->sweep_ms) {
        int64_t next = 0;
        for (struct conn *c = vs->all, *n; c; c = n) {
            n = c->anext;
            if (c->state != C_LINE && !c->out_connecting)
                continue;
            if (c->line_deadline_ms <= now && c->out_connecting) {
                out_settled(vs, c); /* an outbound connect past its deadline */
                c->rst_errno = ETIMEDOUT;
                conn_reset(vs, c, true);
            } else if (c->line_deadline_ms <= now) {
                conn_free(vs, c); /* too slow with its line: closed without a reply */
            } else if (!next || c->line_deadline_ms < next)
                next = c->line_deadline_ms;
        }
        /* a pause for want of descriptors ends when one is free; try again now and then */
        if (vs->listen_paused && vs->nconns < VSOCK_MAX_CONNS)
            listeners_resume(vs);
        if (vs->listen_paused && (!next || now + VSOCK_RETRY_MS < next))
            next = now + VSOCK_RETRY_MS;
        vs->sweep_ms = next;
        if (!next)
            return timeout;
    }
    int64_t wait = vs->sweep_ms - now;
    if (wait < 0)
        wait = 0;
    return timeout < 0 || wait < timeout ? (int)wait : timeout;
}

/* A host client's CONNECT line: peeked first, so that bytes after the newline stay in the
 * socket for the stream. A client that closes before its line is whole is freed at once. */
static void host_line(struct vsock *vs, struct conn *c, uint32_t events)
{
    ssize_t n = recv(c->fd, c->line, sizeof(c->line), MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    uint32_t port = 0;
    size_t used = 0;
    enum vsock_line r =
        n > 0 ? vsock_line_parse(c->line, (size_t)n, &port, &used) : VSOCK_LINE_INVALID;
    if (r == VSOCK_LINE_MORE && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        return;
    if (r == VSOCK_LINE_OK && recv(c->fd, c->line, used, 0) == (ssize_t)used) {
        vs->nline--;
        c->guest_port = port;
        c->host_port = host_port_for(vs, port);
        c->state = C_GUEST_CONNECTING;
        c->peer_buf_alloc = 0; /* no credit until the guest answers */
        /* the edge that brought the line may have brought stream bytes or the end too */
        c->host_readable = true;
        conn_hash_add(vs, c);
        conn_ctrl(vs, c, CTRL_REQUEST);
        return;
    }
    conn_free(vs, c); /* malformed, too long, or gone: closed without a reply */
}

void host_event(struct vsock *vs, struct conn *c, uint32_t events)
{
    switch (c->state) {
    case C_LINE:
        host_line(vs, c, events);
        return;
    case C_HOST_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof(err);
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        out_settled(vs, c);
        if (err || (events & EPOLLHUP)) {
            if (c->out)
                c->rst_errno = err ? err : ECONNREFUSED; /* the connect's errno for the guest */
            conn_reset(vs, c, true);
            return;
        }
        c->state = C_OPEN;
        conn_ctrl(vs, c, CTRL_RESPONSE);
        if (events & EPOLLIN)
            c->host_readable = true;
        conn_update(vs, c);
        return;
    }
    case C_GUEST_CONNECTING:
        /* not open yet: remember the data; a client that hangs up ends the attempt */
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
            c->host_readable = true;
        if (events & (EPOLLHUP | EPOLLERR))
            conn_reset(vs, c, true);
        return;
    case C_OPEN:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            c->host_readable = true;
        if ((events & (EPOLLOUT | EPOLLERR)) && c->pend_len && flush_pending(vs, c)) {
            conn_reset(vs, c, true);
            return;
        }
        if (c->guest_shut_send && c->host_eof && c->pend_len == 0) {
            conn_reset(vs, c, true);
            return;
        }
        conn_update(vs, c);
        return;
    case C_HEARTBEAT:
        return;
    }
}

/* The enclave's hybrid vsock socket: mode 0600 whatever the umask (runtime_listen), so only
 * its owner and root reach the enclave's ports. */
int listen_unix(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (runtime_listen(fd, path, 128) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}
