/* vsock_dns.c: the enclave's name lookups through the parent (docs/networking.md, "Name
 * lookups"). The enclave kernel opens one vsock stream per UDP socket that sends to port 53
 * outside the enclave, to the parent's ALC_VSOCK_DNS_PORT, and frames each datagram
 * (struct alc_dns_frame). The stream is an ordinary host connection whose host socket is one end
 * of a socket pair; the device thread holds the other end (a struct dns_peer in its epoll set),
 * reads the frames, answers each from the allowlist's current zone (common/dns_answer.c: no
 * lookup happens here, the zone is resolved by the refresh thread, out_policy.h, so the device
 * thread never blocks) and writes
 * the answer back framed. The guest is untrusted: a frame longer than ALC_DNS_FRAME_MAX ends the
 * stream; an answer that does not fit the socket pair's buffer is dropped, as UDP would drop
 * it. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/dns_answer.h"
#include "common/log.h"
#include "devices/vsock_priv.h"

#define FRAME_HDR sizeof(struct alc_dns_frame)
#define PEER_BUF  (2 * (FRAME_HDR + ALC_DNS_FRAME_MAX))

struct dns_peer {
    enum tag tag; /* first: the epoll cookie (TAG_DNS) */
    int fd;
    struct dns_peer *next;
    size_t have;
    uint8_t buf[PEER_BUF];
};

static void peer_free(struct vsock *vs, struct dns_peer *p)
{
    for (struct dns_peer **pp = &vs->dns_peers; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    close(p->fd); /* also leaves the epoll set */
    free(p);
}

void dns_close_all(struct vsock *vs)
{
    while (vs->dns_peers)
        peer_free(vs, vs->dns_peers);
}

int dns_open(struct vsock *vs)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) != 0)
        return -1;
    struct dns_peer *p = malloc(sizeof(*p));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
    if (!p || epoll_ctl(vs->ep, EPOLL_CTL_ADD, sp[1], &ev) != 0) {
        free(p);
        close(sp[0]);
        close(sp[1]);
        return -1;
    }
    p->tag = TAG_DNS;
    p->fd = sp[1];
    p->have = 0;
    p->next = vs->dns_peers;
    vs->dns_peers = p;
    return sp[0];
}

/* Answers one whole frame at p->buf. */
static void answer(struct vsock *vs, struct dns_peer *p, const struct alc_dns_frame *f,
                   const uint8_t *msg, size_t len)
{
    uint8_t out[FRAME_HDR + DNS_ANSWER_MAX];
    size_t n = out_policy_answer(vs->policy, msg, len, out + FRAME_HDR);
    if (!n)
        return;
    struct alc_dns_frame h = *f;
    h.len = htole16((uint16_t)n);
    memcpy(out, &h, FRAME_HDR);
    /* all or nothing: a part would break the framing; a full buffer drops it, as UDP would */
    ssize_t w = send(p->fd, out, FRAME_HDR + n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w > 0 && (size_t)w != FRAME_HDR + n) {
        if (!vs->dns_warned)
            alc_log(ALC_LOG_WARN, "dns: a short write to the guest's stream: closed");
        vs->dns_warned = true;
        shutdown(p->fd, SHUT_RDWR);
    }
}

void dns_event(struct vsock *vs, struct dns_peer *p)
{
    for (;;) {
        ssize_t n = read(p->fd, p->buf + p->have, sizeof(p->buf) - p->have);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            peer_free(vs, p); /* the guest's stream ended */
            return;
        }
        p->have += (size_t)n;
        size_t off = 0;
        while (p->have - off >= FRAME_HDR) {
            struct alc_dns_frame f;
            memcpy(&f, p->buf + off, FRAME_HDR);
            size_t len = le16toh(f.len);
            if (len > ALC_DNS_FRAME_MAX) {
                if (!vs->dns_warned) /* once: a guest could repeat it forever */
                    alc_log(ALC_LOG_WARN, "dns: a frame of %zu bytes from the guest: closed", len);
                vs->dns_warned = true;
                peer_free(vs, p);
                return;
            }
            if (p->have - off < FRAME_HDR + len)
                break;
            answer(vs, p, &f, p->buf + off + FRAME_HDR, len);
            off += FRAME_HDR + len;
        }
        memmove(p->buf, p->buf + off, p->have - off);
        p->have -= off;
    }
}
