/* vsock_conn.c: the virtio-vsock device's connections (docs/vsock.md): the table that finds one
 * by (guest port, host port), the list of every connection, and the round-robin work list of
 * connections that owe the guest a packet (a control packet, or host data the guest has credit
 * for). */
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/vsock_priv.h"

static unsigned hash_of(uint32_t guest_port, uint32_t host_port)
{
    return (guest_port * 2654435761u ^ host_port) % HASH_SIZE;
}

struct conn *conn_find(struct vsock *vs, uint32_t guest_port, uint32_t host_port)
{
    for (struct conn *c = vs->hash[hash_of(guest_port, host_port)]; c; c = c->hnext)
        if (c->guest_port == guest_port && c->host_port == host_port)
            return c;
    return NULL;
}

void conn_hash_add(struct vsock *vs, struct conn *c)
{
    unsigned h = hash_of(c->guest_port, c->host_port);
    c->hnext = vs->hash[h];
    vs->hash[h] = c;
    c->in_hash = true;
}

static void conn_hash_del(struct vsock *vs, struct conn *c)
{
    if (!c->in_hash)
        return;
    for (struct conn **p = &vs->hash[hash_of(c->guest_port, c->host_port)]; *p; p = &(*p)->hnext)
        if (*p == c) {
            *p = c->hnext;
            break;
        }
    c->in_hash = false;
}

struct conn *conn_new(struct vsock *vs, enum conn_state state, int fd)
{
    if (vs->nconns >= VSOCK_MAX_CONNS + (fd < 0 ? VSOCK_NOFD_EXTRA : 0u))
        return NULL;
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->tag = TAG_CONN;
    c->state = state;
    c->fd = fd;
    if (fd >= 0) {
        /* room for a credit's worth each way: fewer wake-ups of a streaming host peer (the
         * guest's own connections to host listeners get less: guest_request) */
        int sz = (int)VSOCK_BUF_ALLOC * 2;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.ptr = c};
        if (epoll_ctl(vs->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free(c);
            return NULL;
        }
    }
    vs->nconns++;
    if (state == C_LINE) {
        vs->nline++;
        c->line_deadline_ms = vsock_now_ms() + VSOCK_LINE_TIMEOUT_MS;
        if (!vs->sweep_ms || c->line_deadline_ms < vs->sweep_ms)
            vs->sweep_ms = c->line_deadline_ms;
    }
    c->anext = vs->all;
    if (vs->all)
        vs->all->aprev = c;
    vs->all = c;
    return c;
}

void work_remove(struct vsock *vs, struct conn *c)
{
    if (!c->in_work)
        return;
    struct conn **p = &vs->work_head, *prev = NULL;
    while (*p && *p != c) {
        prev = *p;
        p = &(*p)->wnext;
    }
    if (*p) {
        *p = c->wnext;
        if (vs->work_tail == c)
            vs->work_tail = prev;
    }
    c->wnext = NULL;
    c->in_work = false;
}

void conn_free(struct vsock *vs, struct conn *c)
{
    work_remove(vs, c);
    conn_hash_del(vs, c);
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    if (c->aprev)
        c->aprev->anext = c->anext;
    else
        vs->all = c->anext;
    if (c->anext)
        c->anext->aprev = c->aprev;
    if (c->state == C_LINE)
        vs->nline--;
    if (c->guest_made)
        vs->nguest--;
    out_settled(vs, c);
    free(c->pend);
    free(c);
    vs->nconns--;
    listeners_resume(vs); /* a descriptor and a connection are free again */
}

uint32_t guest_credit(const struct conn *c)
{
    uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
    return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* Whether the connection has a packet for the guest now. */
bool conn_has_work(const struct conn *c)
{
    /* the echo is data: it waits for credit like any */
    if (c->ctrl & ~CTRL_ECHO)
        return true;
    if ((c->ctrl & CTRL_ECHO) && guest_credit(c) > 0)
        return true;
    return c->state == C_OPEN && c->host_readable && !c->host_eof && !c->guest_shut_rcv &&
           !c->draining && guest_credit(c) > 0;
}

/* Puts the connection on the work list when it has something for the guest. */
void conn_update(struct vsock *vs, struct conn *c)
{
    if (c->in_work || !conn_has_work(c))
        return;
    c->wnext = NULL;
    if (vs->work_tail)
        vs->work_tail->wnext = c;
    else
        vs->work_head = c;
    vs->work_tail = c;
    c->in_work = true;
}

void conn_ctrl(struct vsock *vs, struct conn *c, uint32_t bits)
{
    c->ctrl |= bits;
    conn_update(vs, c);
}

/* The connection is over: the guest gets a RST (unless it sent one) and the socket closes. */
void conn_reset(struct vsock *vs, struct conn *c, bool tell_guest)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    if (tell_guest && c->in_hash) {
        c->ctrl = CTRL_RST;
        work_remove(vs, c);
        conn_update(vs, c);
    } else {
        conn_free(vs, c);
    }
}

/* Answers a packet for which there is no connection with a RST, sent from a throwaway one. */
void reply_rst(struct vsock *vs, uint32_t guest_port, uint32_t host_port)
{
    reply_rst_errno(vs, guest_port, host_port, 0);
}

void reply_rst_errno(struct vsock *vs, uint32_t guest_port, uint32_t host_port, int err)
{
    struct conn *r = conn_new(vs, C_OPEN, -1);
    if (!r)
        return;
    r->rst_errno = err;
    r->guest_port = guest_port;
    r->host_port = host_port;
    conn_hash_add(vs, r);
    conn_reset(vs, r, true);
}
