/* vsock.c: the virtio-vsock device (virtio 1.2 section 5.10) and its host side, Firecracker's
 * hybrid vsock over Unix sockets (docs/vsock.md). This file has the device, the guest's queues,
 * the thread, start and stop; vsock_conn.c the connections, vsock_host.c the host sockets.
 *
 * One thread owns everything here: the guest's rx and tx queues, the listening socket, and one
 * non-blocking Unix socket per connection, all in one edge-triggered epoll set. The vCPU that
 * writes QueueNotify only rings an eventfd. A connection is keyed by (guest port, host port).
 *
 * Guest -> host: each tx packet is handled at once; RW payload goes straight from guest memory
 * to the host socket, and what the socket does not take waits in a per-connection buffer that
 * the credit we advertise (VSOCK_BUF_ALLOC) bounds. A slow host reader therefore stops only its
 * own connection: the guest runs out of credit for it and nothing else.
 * Host -> guest: connections with something to say (a control packet, or host data and guest
 * credit) wait in a round-robin work list; each takes one rx buffer per turn, and host data is
 * read straight into it.
 *
 * Exits cost ~50 us here, so the thread asks the guest for notifications (VIRTQ_USED_F_NO_NOTIFY
 * clear) only when it is about to sleep, and checks the rings once more after asking.
 */
#include "devices/vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/log.h"
#include "common/runtime.h"
#include "devices/virtio_mmio.h"
#include "devices/vsock_priv.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

/* The guest sent len payload bytes (the chain's readable bytes from offset off). */
static void guest_data(struct vsock *vs, struct conn *c, const struct vq_chain *ch, size_t off,
                       uint32_t len)
{
    if (c->state == C_HEARTBEAT) {
        uint8_t b = 0;
        if (len != 1 || vq_chain_read(ch, off, &b, 1) != 1 || b != ALC_VSOCK_HEARTBEAT_BYTE) {
            vm_end(vs->vm, VM_END_LAUNCH, 125,
                   "[ E%02d ] Enclave boot failure: the heartbeat was not the byte 0x%02X",
                   E_ENCLAVE_BOOT_FAILURE, ALC_VSOCK_HEARTBEAT_BYTE);
            return;
        }
        c->echo = b;
        c->fwd_cnt += 1;
        conn_ctrl(vs, c, CTRL_ECHO);
        vm_heartbeat(vs->vm);
        return;
    }
    if (c->state != C_OPEN || c->guest_shut_send || c->fd < 0) {
        conn_reset(vs, c, true);
        return;
    }
    if (c->pend_len + len > VSOCK_BUF_ALLOC) {
        alc_log(ALC_LOG_WARN, "vsock: the guest overran its credit on port %u", c->guest_port);
        conn_reset(vs, c, true);
        return;
    }
    /* the payload as iovecs over guest memory */
    struct iovec iov[VQ_MAX_SEGS];
    int n = 0;
    size_t skip = off, left = len;
    for (unsigned s = 0; s < ch->nout && left; s++) {
        if (skip >= ch->out[s].len) {
            skip -= ch->out[s].len;
            continue;
        }
        size_t take = ch->out[s].len - skip < left ? ch->out[s].len - skip : left;
        iov[n++] = (struct iovec){ch->out[s].p + skip, take};
        left -= take;
        skip = 0;
    }
    size_t done = 0;
    if (c->pend_len == 0) {
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            conn_reset(vs, c, true);
            return;
        }
        done = w > 0 ? (size_t)w : 0;
        c->fwd_cnt += (uint32_t)done;
    }
    if (done < len) {
        if (!c->pend) {
            c->pend = malloc(VSOCK_BUF_ALLOC);
            if (!c->pend) {
                conn_reset(vs, c, true);
                return;
            }
        }
        if (c->pend_off + c->pend_len + (len - done) > VSOCK_BUF_ALLOC) {
            memmove(c->pend, c->pend + c->pend_off, c->pend_len);
            c->pend_off = 0;
        }
        size_t at = c->pend_off + c->pend_len;
        for (int i = 0; i < n; i++) {
            size_t l = iov[i].iov_len;
            if (done >= l) {
                done -= l;
                continue;
            }
            memcpy(c->pend + at, (uint8_t *)iov[i].iov_base + done, l - done);
            at += l - done;
            c->pend_len += l - done;
            done = 0;
        }
    }
    /* the guest learns our fwd_cnt from our packets; send one when it lags by half */
    if (c->fwd_cnt - c->fwd_cnt_told >= VSOCK_BUF_ALLOC / 2)
        conn_ctrl(vs, c, CTRL_CREDIT);
}

/* ---- tx: packets from the guest ---- */

static int tx_packet(struct vsock *vs, const struct vq_chain *ch)
{
    struct vsock_hdr h;
    if (ch->out_len < sizeof(h) || ch->nin) {
        vm_end(vs->vm, VM_END_VIOLATION, 137,
               "virtio-vsock: a tx packet of %" PRIu64 " bytes (%u writable segments)", ch->out_len,
               ch->nin);
        return -1;
    }
    vq_chain_read(ch, 0, &h, sizeof(h));
    if (h.src_cid != vs->cid || h.len > ch->out_len - sizeof(h) ||
        (h.op < OP_REQUEST || h.op > OP_CREDIT_REQUEST)) {
        vm_end(vs->vm, VM_END_VIOLATION, 137,
               "virtio-vsock: a tx packet with source CID %" PRIu64
               ", op %u, length %u of %" PRIu64,
               h.src_cid, h.op, h.len, ch->out_len - sizeof(h));
        return -1;
    }
    struct conn *c = conn_find(vs, h.src_port, h.dst_port);
    bool to_host = h.dst_cid == ALC_VSOCK_CID_HOST || h.dst_cid == CID_HOST_ALIAS;
    if (h.type != TYPE_STREAM || !to_host) {
        if (h.op != OP_RST && !c)
            reply_rst(vs, h.src_port, h.dst_port); /* nobody there */
        return 0;
    }
    if (h.op == OP_REQUEST) {
        if (!c && h.dst_port == ALC_VSOCK_TCP_OUT_PORT) {
            /* an outbound TCP connect: the destination is the payload (at most a few bytes
             * are read; out_request checks the length) */
            uint8_t dest[sizeof(struct alc_tcp_origin)] = {0};
            uint32_t n = h.len == sizeof(dest) &&
                                 vq_chain_read(ch, sizeof(h), dest, sizeof(dest)) == sizeof(dest)
                             ? (uint32_t)sizeof(dest)
                             : 0;
            out_request(vs, &h, dest, n);
        } else if (!c) {
            guest_request(vs, &h);
        }
        return 0;
    }
    if (!c) {
        if (h.op != OP_RST)
            reply_rst(vs, h.src_port, h.dst_port);
        return 0;
    }
    c->peer_buf_alloc = h.buf_alloc;
    c->peer_fwd_cnt = h.fwd_cnt;
    switch (h.op) {
    case OP_RESPONSE:
        if (c->state == C_GUEST_CONNECTING) {
            char ok[32];
            int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);
            c->state = C_OPEN;
            if (!c->tcp && write(c->fd, ok, (size_t)n) != n) {
                conn_reset(vs, c, true);
                return 0;
            }
        }
        break;
    case OP_RST:
        if (c->tcp && c->state == C_GUEST_CONNECTING)
            tcp_refused(c); /* nothing listens inside: the client sees a reset */
        conn_free(vs, c);
        return 0;
    case OP_SHUTDOWN:
        if (h.flags & SHUTDOWN_SEND)
            c->guest_shut_send = true;
        if (h.flags & SHUTDOWN_RCV)
            c->guest_shut_rcv = true;
        if (c->state == C_HEARTBEAT || (c->guest_shut_send && c->guest_shut_rcv)) {
            /* the guest is done: what it sent goes to the host first (the socket's EPOLLOUT
             * finishes the job when it cannot all go now), then the RST that ends it */
            if (c->fd >= 0 && c->pend_len) {
                c->draining = true;
                if (flush_pending(vs, c))
                    conn_reset(vs, c, true);
                return 0;
            }
            conn_reset(vs, c, true);
            return 0;
        }
        if (c->guest_shut_send && c->fd >= 0 && c->pend_len == 0)
            shutdown(c->fd, SHUT_WR);
        if (c->guest_shut_send && c->host_eof && c->pend_len == 0) {
            conn_reset(vs, c, true);
            return 0;
        }
        break;
    case OP_RW:
        guest_data(vs, c, ch, sizeof(h), h.len);
        break; /* its header's credit may let host data flow again */
    case OP_CREDIT_UPDATE:
        break;
    case OP_CREDIT_REQUEST:
        conn_ctrl(vs, c, CTRL_CREDIT);
        break;
    }
    conn_update(vs, c);
    return 0;
}

static int tx_process(struct vsock *vs)
{
    struct vq *q = &vs->dev->vq[Q_TX];
    for (;;) {
        struct vq_chain ch;
        char why[160];
        int r = vq_pop(q, &ch, why, sizeof(why));
        if (r == 0)
            return 0;
        if (r < 0) {
            vm_end(vs->vm, VM_END_VIOLATION, 137, "virtio-vsock tx queue: %s", why);
            return -1;
        }
        if (tx_packet(vs, &ch))
            return -1;
        vq_push(q, ch.head, 0);
        vs->used_any = true;
    }
}

/* ---- rx: packets to the guest ---- */

static size_t chain_write(const struct vq_chain *ch, size_t off, const void *src, size_t len)
{
    size_t done = 0;
    for (unsigned s = 0; s < ch->nin && done < len; s++) {
        if (off >= ch->in[s].len) {
            off -= ch->in[s].len;
            continue;
        }
        size_t n = ch->in[s].len - off < len - done ? ch->in[s].len - off : len - done;
        memcpy(ch->in[s].p + off, (const uint8_t *)src + done, n);
        done += n;
        off = 0;
    }
    return done;
}

/* Reads host data into the chain after the header: the payload length, 0 at EOF, or -errno. */
static ssize_t read_into(struct conn *c, const struct vq_chain *ch, size_t cap)
{
    struct iovec iov[VQ_MAX_SEGS];
    int n = 0;
    size_t skip = sizeof(struct vsock_hdr), left = cap;
    for (unsigned s = 0; s < ch->nin && left; s++) {
        if (skip >= ch->in[s].len) {
            skip -= ch->in[s].len;
            continue;
        }
        size_t take = ch->in[s].len - skip < left ? ch->in[s].len - skip : left;
        iov[n++] = (struct iovec){ch->in[s].p + skip, take};
        left -= take;
        skip = 0;
    }
    ssize_t r = readv(c->fd, iov, n);
    return r < 0 ? -errno : r;
}

/* Builds the connection's next packet into the chain. Returns its length, or 0 when it turned
 * out to have nothing (the chain is then not used). */
static uint32_t rx_packet(struct vsock *vs, struct conn *c, const struct vq_chain *ch)
{
    struct vsock_hdr h = {
        .src_cid = ALC_VSOCK_CID_HOST,
        .dst_cid = vs->cid,
        .src_port = c->host_port,
        .dst_port = c->guest_port,
        .type = TYPE_STREAM,
        .buf_alloc = VSOCK_BUF_ALLOC,
        .fwd_cnt = c->fwd_cnt,
    };
    uint32_t payload = 0;
    if (c->ctrl & CTRL_RST) {
        h.op = OP_RST;
        h.flags = (uint32_t)c->rst_errno; /* an outbound connect's errno (alcove_abi.h) */
        c->ctrl = 0;
    } else if (c->ctrl & CTRL_RESPONSE) {
        h.op = OP_RESPONSE;
        c->ctrl &= ~CTRL_RESPONSE;
    } else if (c->ctrl & CTRL_REQUEST) {
        h.op = OP_REQUEST;
        c->ctrl &= ~CTRL_REQUEST;
        /* a published port's client: its address rides along (the guest's buffers are 64 KiB;
         * one too small for it gets the REQUEST alone, which means "no origin") */
        if (c->tcp && ch->in_len >= sizeof(h) + sizeof(c->origin)) {
            chain_write(ch, sizeof(h), &c->origin, sizeof(c->origin));
            h.len = payload = (uint32_t)sizeof(c->origin);
        }
    } else if ((c->ctrl & CTRL_ECHO) && guest_credit(c) > 0) {
        h.op = OP_RW;
        h.len = payload = 1;
        chain_write(ch, sizeof(h), &c->echo, 1);
        c->tx_cnt += 1;
        c->ctrl &= ~CTRL_ECHO;
    } else if (c->ctrl & CTRL_SHUTDOWN) {
        h.op = OP_SHUTDOWN;
        h.flags = SHUTDOWN_SEND;
        c->ctrl &= ~CTRL_SHUTDOWN;
    } else if (c->ctrl & CTRL_CREDIT) {
        h.op = OP_CREDIT_UPDATE;
        c->ctrl &= ~CTRL_CREDIT;
    } else if (c->ctrl & CTRL_ECHO) {
        return 0; /* no credit for it yet: the guest's next credit update requeues it */
    } else {
        size_t cap = ch->in_len - sizeof(h);
        uint32_t credit = guest_credit(c);
        if (cap > credit)
            cap = credit;
        if (cap > VSOCK_MAX_PAYLOAD)
            cap = VSOCK_MAX_PAYLOAD;
        ssize_t r = read_into(c, ch, cap);
        if (r == -EAGAIN || r == -EINTR) {
            c->host_readable = false;
            return 0;
        }
        if (r < 0) {
            conn_reset(vs, c, true);
            return 0;
        }
        if (r == 0) {
            c->host_eof = true;
            if (c->guest_shut_send && c->pend_len == 0) {
                conn_reset(vs, c, true);
                return 0;
            }
            h.op = OP_SHUTDOWN;
            h.flags = SHUTDOWN_SEND;
        } else {
            h.op = OP_RW;
            h.len = payload = (uint32_t)r;
            c->tx_cnt += (uint32_t)r;
        }
    }
    c->fwd_cnt_told = c->fwd_cnt;
    chain_write(ch, 0, &h, sizeof(h));
    return (uint32_t)sizeof(h) + payload;
}

static int rx_process(struct vsock *vs)
{
    struct vq *q = &vs->dev->vq[Q_RX];
    vs->rx_starved = false;
    while (vs->work_head) {
        struct conn *c = vs->work_head;
        work_remove(vs, c);
        if (!conn_has_work(c))
            continue;
        struct vq_chain ch;
        char why[160];
        int r = vq_pop(q, &ch, why, sizeof(why));
        if (r < 0) {
            vm_end(vs->vm, VM_END_VIOLATION, 137, "virtio-vsock rx queue: %s", why);
            return -1;
        }
        if (r == 0) {
            conn_update(vs, c); /* back on the list, first in line next time */
            vs->rx_starved = true;
            return 0;
        }
        if (ch.nout || ch.in_len < sizeof(struct vsock_hdr) + 1) {
            vm_end(vs->vm, VM_END_VIOLATION, 137,
                   "virtio-vsock: an rx buffer of %" PRIu64
                   " writable bytes (%u readable segments)",
                   ch.in_len, ch.nout);
            return -1;
        }
        bool rst = c->ctrl & CTRL_RST;
        uint32_t len = rx_packet(vs, c, &ch);
        if (len == 0) {
            q->last_avail--; /* not used: the next packet takes it */
        } else {
            vq_push(q, ch.head, len);
            vs->used_any = true;
        }
        if (rst && len)
            conn_free(vs, c);
        else
            conn_update(vs, c); /* round robin: to the back, if it has more */
    }
    return 0;
}

/* ---- the thread ---- */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* After work, the thread keeps looking at the tx ring (and its sockets) this long before it asks
 * the guest for notifications and sleeps: a guest that writes again within it costs no exit. */
#define VSOCK_SPIN_NS 50000

static void *vsock_thread(void *arg)
{
    struct vsock *vs = arg;
    struct epoll_event evs[64];
    int64_t idle_since = 0;
    for (;;) {
        /* once the monitor is sandboxed: before anything done for a running guest */
        sandbox_thread_class(SANDBOX_DEVICE);
        int timeout = -1;
        if (vs->running) {
            if (tx_process(vs) || rx_process(vs))
                break;
            if (vs->used_any) {
                vs->used_any = false;
                virtio_signal_used(vs->dev);
                idle_since = 0;
            }
            if (!idle_since)
                idle_since = mono_ns();
            if (mono_ns() - idle_since < VSOCK_SPIN_NS) {
                /* spinning: notifications stay off; sockets are polled without sleeping, and
                 * the CPU goes to whoever else wants it (the host peer, a vCPU) */
                sched_yield();
                timeout = 0;
                goto poll_sockets;
            }
            /* about to sleep: ask for notifications, then look once more */
            vq_want_notify(&vs->dev->vq[Q_TX], true);
            vq_want_notify(&vs->dev->vq[Q_RX], vs->rx_starved);
            if (vq_has_avail(&vs->dev->vq[Q_TX]) ||
                (vs->rx_starved && vq_has_avail(&vs->dev->vq[Q_RX]))) {
                vq_want_notify(&vs->dev->vq[Q_TX], false);
                vq_want_notify(&vs->dev->vq[Q_RX], false);
                continue;
            }
        }
        idle_since = 0;
    poll_sockets:;
        bool asked = timeout != 0; /* notifications are on: this is the sleep */
        int n = epoll_wait(vs->ep, evs, 64, host_timers(vs, timeout));
        if (vs->running && asked) {
            vq_want_notify(&vs->dev->vq[Q_TX], false);
            vq_want_notify(&vs->dev->vq[Q_RX], false);
        }
        if (n > 0)
            idle_since = 0;
        for (int i = 0; i < n; i++) {
            enum tag *t = evs[i].data.ptr;
            uint64_t v;
            switch (*t) {
            case TAG_STOP:
                return NULL;
            case TAG_KICK:
                if (read(vs->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    return NULL;
                break;
            case TAG_LISTEN:
                host_accept(vs); /* the REQUEST waits in the work list for the driver */
                break;
            case TAG_TCP:
                tcp_accept(vs, (struct tcp_listener *)t);
                break;
            case TAG_CONN:
                host_event(vs, (struct conn *)t, evs[i].events);
                break;
            case TAG_DNS:
                dns_event(vs, (struct dns_peer *)t);
                break;
            }
        }
    }
    return NULL;
}

/* ---- the device ---- */

static const void *vsock_config(struct virtio_dev *d)
{
    return &((struct vsock *)d->priv)->config_cid;
}

static int vsock_dev_start(struct virtio_dev *d)
{
    struct vsock *vs = d->priv;
    if (!d->vq[Q_RX].ready || !d->vq[Q_TX].ready) {
        vm_end(d->vm, VM_END_VIOLATION, 137, "virtio-vsock started without its rx and tx queues");
        return -1;
    }
    __atomic_store_n(&vs->running, true, __ATOMIC_RELEASE);
    uint64_t one = 1;
    if (write(vs->kick_fd, &one, sizeof(one)) < 0)
        return -1;
    return 0;
}

static void vsock_notify(struct virtio_dev *d, unsigned q)
{
    struct vsock *vs = d->priv;
    (void)q;
    uint64_t one = 1;
    if (write(vs->kick_fd, &one, sizeof(one)) < 0)
        alc_log(ALC_LOG_WARN, "vsock: kick: %s", strerror(errno));
}

static const struct virtio_ops g_vsock_ops = {
    .name = "vsock",
    .device_id = VIRTIO_ID_VSOCK,
    .nqueues = 3,
    .queue_max = VSOCK_QUEUE_SIZE,
    .config_size = 8,
    .config = vsock_config,
    .start = vsock_dev_start,
    .notify = vsock_notify,
};

static int ep_add(int ep, int fd, enum tag *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

struct vsock *vsock_state(struct vm *vm)
{
    if (vm->vsock)
        return vm->vsock;
    struct vsock *vs = calloc(1, sizeof(*vs));
    if (!vs) {
        alc_err_report(E_MONITOR_FAILURE, "out of memory");
        return NULL;
    }
    vs->vm = vm;
    vs->next_host_port = VSOCK_HOST_PORT0;
    vs->listen_fd = vs->kick_fd = vs->stop_fd = vs->ep = -1;
    vs->listen_tag = TAG_LISTEN;
    vs->kick_tag = TAG_KICK;
    vs->stop_tag = TAG_STOP;
    vm->vsock = vs;
    return vs;
}

int vsock_publish(struct vm *vm, const struct publish_port *ports, unsigned n)
{
    struct vsock *vs = vsock_state(vm);
    if (!vs)
        return E_MONITOR_FAILURE;
    return tcp_listen_all(vs, ports, n);
}

void vsock_forget_published(struct vm *vm)
{
    struct vsock *vs = vm->vsock;
    for (unsigned i = 0; vs && i < vs->ntcp; i++) {
        close(vs->tcp[i].fd);
        vs->tcp[i].fd = -1;
    }
}

int vsock_start(struct vm *vm, uint32_t cid, const char *uds_path)
{
    struct vsock *vs = vsock_state(vm);
    if (!vs)
        return E_MONITOR_FAILURE;
    vs->cid = cid;
    vs->config_cid = cid;
    uint64_t buys = vm->mem.size / VSOCK_GUEST_CONN_COST;
    vs->max_guest = buys < VSOCK_MIN_GUEST_CONNS   ? VSOCK_MIN_GUEST_CONNS
                    : buys > VSOCK_MAX_GUEST_CONNS ? VSOCK_MAX_GUEST_CONNS
                                                   : (unsigned)buys;
    snprintf(vs->uds, sizeof(vs->uds), "%s", uds_path);
    vs->listen_fd = listen_unix(uds_path);
    if (vs->listen_fd < 0) {
        alc_err_report(E_MONITOR_FAILURE, "cannot listen on the vsock socket %s: %s", uds_path,
                       strerror(errno));
        vs->uds[0] = 0; /* not ours to remove */
        return E_MONITOR_FAILURE;
    }
    vs->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    vs->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    vs->ep = epoll_create1(EPOLL_CLOEXEC);
    if (vs->kick_fd < 0 || vs->stop_fd < 0 || vs->ep < 0 ||
        ep_add(vs->ep, vs->listen_fd, &vs->listen_tag) ||
        ep_add(vs->ep, vs->kick_fd, &vs->kick_tag) || ep_add(vs->ep, vs->stop_fd, &vs->stop_tag) ||
        tcp_watch(vs)) {
        alc_err_report(E_MONITOR_FAILURE, "vsock: %s", strerror(errno));
        return E_MONITOR_FAILURE;
    }
    vs->dev = virtio_add(vm, ALC_VIRTIO_SLOT_VSOCK, &g_vsock_ops, vs);
    if (!vs->dev) {
        alc_err_report(E_MONITOR_FAILURE, "vsock: cannot add the device");
        return E_MONITOR_FAILURE;
    }
    if (pthread_create(&vs->thread, NULL, vsock_thread, vs)) {
        alc_err_report(E_THREAD, "cannot start the vsock thread");
        return E_THREAD;
    }
    vs->thread_started = true;
    return 0;
}

void vsock_stop(struct vm *vm)
{
    struct vsock *vs = vm->vsock;
    if (!vs)
        return;
    if (vs->thread_started) {
        uint64_t one = 1;
        if (write(vs->stop_fd, &one, sizeof(one)) < 0)
            alc_log(ALC_LOG_WARN, "vsock: stop: %s", strerror(errno));
        pthread_join(vs->thread, NULL);
    }
    /* what the enclave sent before it ended still reaches the host, within a bound */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (struct conn *c = vs->all; c; c = c->anext) {
        while (c->fd >= 0 && c->pend_len) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            int left_ms = 2000 - (int)((now.tv_sec - t0.tv_sec) * 1000 +
                                       (now.tv_nsec - t0.tv_nsec) / 1000000);
            struct pollfd p = {.fd = c->fd, .events = POLLOUT};
            if (left_ms <= 0 || poll(&p, 1, left_ms) != 1)
                break;
            ssize_t n = write(c->fd, c->pend + c->pend_off, c->pend_len);
            if (n <= 0 && errno != EAGAIN && errno != EINTR)
                break;
            if (n > 0) {
                c->pend_off += (size_t)n;
                c->pend_len -= (size_t)n;
            }
        }
    }
    while (vs->all)
        conn_free(vs, vs->all);
    if (vs->listen_fd >= 0)
        close(vs->listen_fd);
    tcp_close(vs);
    if (vs->uds[0])
        unlink(vs->uds);
    if (vs->kick_fd >= 0)
        close(vs->kick_fd);
    if (vs->stop_fd >= 0)
        close(vs->stop_fd);
    if (vs->ep >= 0)
        close(vs->ep);
    virtio_remove(vm, ALC_VIRTIO_SLOT_VSOCK);
    vm->vsock = NULL;
    dns_close_all(vs);
    /* a lookup under way is not waited for: the refresh thread ends on its own (out_refresh.c) */
    out_refresh_stop(vs->policy);
    free(vs);
}
