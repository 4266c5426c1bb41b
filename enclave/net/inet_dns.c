/* inet_dns.c: name lookups through the parent (docs/networking.md, "Name lookups"). A UDP
 * datagram to port 53 of an address outside the enclave (the image's /etc/resolv.conf
 * nameserver, whatever it is) has no route; instead it goes, framed (struct alc_dns_frame,
 * alcove_abi.h), over a kernel vsock stream of its socket's own to the parent's
 * ALC_VSOCK_DNS_PORT, where the monitor answers it from the operator's allowlist. Answers come
 * back framed on the same stream and enter the socket's receive queue as datagrams from the
 * address and port the query went to, so resolvers that check the source (musl's, glibc's) take
 * them. The stream is opened at the socket's first such send (the monitor answers at once) and
 * closed with the socket; its bytes are moved into datagrams where the socket is read or polled
 * (inet_dns_pull). The monitor is untrusted: a frame over ALC_DNS_FRAME_MAX ends the stream. */
#include "abi/alcove_abi.h"
#include "inet.h"
#include "klib.h"
#include "poll.h"
#include "vsock.h"

#define FRAME_HDR      ((uint32_t)sizeof(struct alc_dns_frame))
#define DGRAM_OVERHEAD 768 /* as inet_udp.c */

static void dns_close(struct isock *s)
{
    if (s->dns) {
        vsock_abort(vsock_of(s->dns));
        file_put(s->dns);
        s->dns = NULL;
    }
    s->dns_have = 0;
}

void inet_dns_release(struct isock *s)
{
    dns_close(s);
    kfree(s->dns_buf);
    s->dns_buf = NULL;
}

static int dns_open(struct isock *s)
{
    if (!s->dns_buf) {
        s->dns_buf = kmalloc(FRAME_HDR + ALC_DNS_FRAME_MAX);
        if (!s->dns_buf)
            return -ENOBUFS;
    }
    struct file *vf = vsock_socket_file(0);
    if (!vf)
        return -ENOBUFS;
    file_get(vf); /* made with none: this is the socket's */
    struct sockaddr_vm a = {
        .svm_family = AF_VSOCK, .svm_port = ALC_VSOCK_DNS_PORT, .svm_cid = ALC_VSOCK_CID_HOST};
    int err = vsock_connect(vsock_of(vf), &a, sizeof(a), false); /* answered at once */
    if (err) {
        file_put(vf);
        return err;
    }
    s->dns = vf;
    s->dns_have = 0;
    return 0;
}

long inet_dns_send(struct isock *s, const struct inet_name *n, struct sock_msg *m)
{
    if (m->len > ALC_DNS_FRAME_MAX)
        return (long)m->len; /* no DNS query is that long: dropped, as a lost datagram */
    if (!s->dns && dns_open(s))
        return -ENETUNREACH; /* no parent to ask: no route, as before */
    uint8_t *frame = kmalloc(FRAME_HDR + m->len);
    if (!frame)
        return -ENOBUFS;
    struct alc_dns_frame h = {.len = (uint16_t)m->len,
                              .port = (uint16_t)(n->port >> 8 | n->port << 8)};
    memcpy(h.addr, n->addr, 16);
    memcpy(frame, &h, FRAME_HDR);
    if (sock_io_copy(&m->io, frame + FRAME_HDR, m->len, false)) {
        kfree(frame);
        return -EFAULT;
    }
    struct linux_iovec v = {(uint64_t)frame, FRAME_HDR + m->len};
    struct sock_io io = {.iov = &v, .cnt = 1};
    struct file *df = s->dns;
    file_get(df);
    /* whole frames only: this waits for credit, which the monitor gives back at once */
    long r = vsock_send(vsock_of(df), &io, FRAME_HDR + m->len, MSG_NOSIGNAL, false);
    file_put(df);
    kfree(frame);
    if (r != (long)(FRAME_HDR + m->len)) {
        if (s->dns == df)
            dns_close(s); /* the stream is broken: the next query opens another */
        return r < 0 && r != -EPIPE && r != -ECONNRESET ? r : (long)m->len;
    }
    return (long)m->len;
}

/* Reads what is there of the stream into s->dns_buf, up to want bytes: 1 when it has them, 0
 * when not yet, -1 when the stream ended. */
static int fill(struct isock *s, uint32_t want)
{
    while (s->dns_have < want) {
        struct linux_iovec v = {(uint64_t)(s->dns_buf + s->dns_have), want - s->dns_have};
        struct sock_io io = {.iov = &v, .cnt = 1};
        long r = vsock_recv(vsock_of(s->dns), &io, want - s->dns_have, MSG_DONTWAIT);
        if (r == -EAGAIN)
            return 0;
        if (r <= 0)
            return -1;
        s->dns_have += (uint32_t)r;
    }
    return 1;
}

void inet_dns_pull(struct isock *s)
{
    while (s->dns) {
        int r = fill(s, FRAME_HDR);
        if (r == 1) {
            struct alc_dns_frame h;
            memcpy(&h, s->dns_buf, FRAME_HDR);
            if (h.len > ALC_DNS_FRAME_MAX) {
                klog(ALC_LOG_WARN, "dns: a frame of %u bytes from the monitor", h.len);
                r = -1;
            } else {
                r = fill(s, FRAME_HDR + h.len);
            }
            if (r == 1) {
                s->dns_have = 0;
                if (s->dq_charge > (uint64_t)s->o.rcvbuf || (s->shut & RCV_SHUT))
                    continue; /* a full queue drops it, as for any datagram */
                struct idgram *d = kmalloc(sizeof(*d) + h.len);
                if (!d)
                    continue;
                *d = (struct idgram){.len = h.len, .charge = h.len + DGRAM_OVERHEAD};
                memcpy(d->data, s->dns_buf + FRAME_HDR, h.len);
                memcpy(d->from, h.addr, 16);
                d->from_port = (uint16_t)(h.port >> 8 | h.port << 8);
                if (s->dq_tail)
                    s->dq_tail->next = d;
                else
                    s->dq_head = d;
                s->dq_tail = d;
                s->dq_charge += d->charge;
                inet_notify(s, POLLIN | POLLRDNORM);
                continue;
            }
        }
        if (r < 0)
            dns_close(s);
        return;
    }
}
