/* inet_udp.c: UDP sockets (see inet.h): connect and its AF_UNSPEC undoing, sendto and
 * recvfrom with Linux's checks in Linux's order, the receive queue (bounded by SO_RCVBUF as
 * Linux bounds it: a datagram that finds the queue over it is dropped), and readiness (Linux's
 * udp_poll). A datagram to a port nobody has is answered as Linux's ICMP port unreachable is on
 * loopback: a connected sender gets ECONNREFUSED on its next call, others hear nothing.
 */
#include "inet.h"

#include "klib.h"
#include "poll.h"
#include "vsock.h"
#include "wait.h"

#define DGRAM_OVERHEAD 768 /* a datagram's cost beyond its bytes (Linux's skb truesize) */

/* ---- connect ---- */

int udp_disconnect(struct isock *s)
{
    s->has_remote = false;
    s->rport = 0;
    memset(s->raddr, 0, 16);
    s->state = TCP_CLOSE;
    if (!s->addr_locked)
        inet_set_laddr(s, NULL);
    if (!s->port_locked)
        inet_unhash(s);
    inet_notify(s, 0);
    return 0;
}

/* A destination as Linux's __ip4_datagram_connect / udp_sendmsg take it (v4 form). */
static int dst4(const uint8_t *a, int len, struct inet_name *n, bool sending)
{
    uint16_t fam, be_port;
    uint32_t be;
    if (len < SIN_LEN)
        return -EINVAL;
    memcpy(&fam, a, 2);
    if (fam != AF_INET && (!sending || fam != AF_UNSPEC))
        return -EAFNOSUPPORT;
    memcpy(&be_port, a + 2, 2);
    memcpy(&be, a + 4, 4);
    n->port = __builtin_bswap16(be_port);
    inet_set_v4(n->addr, be);
    n->v4 = true;
    return 0;
}

/* Linux's __ip6_datagram_connect address checks: 0, 1 (no address: AF_UNSPEC when sending),
 * or -errno. */
static int dst6(const struct isock *s, const uint8_t *a, int len, struct inet_name *n, bool sending)
{
    uint16_t fam;
    if (len < 2)
        return -EINVAL;
    memcpy(&fam, a, 2);
    if (fam == AF_INET) {
        if (s->v6only)
            return sending ? -ENETUNREACH : -EAFNOSUPPORT;
        return dst4(a, len, n, sending);
    }
    if (sending && fam == AF_UNSPEC)
        return 1;
    if (sending && fam != AF_INET6)
        return -EINVAL;
    if (len < SIN6_LEN_RFC2133)
        return -EINVAL;
    if (fam != AF_INET6)
        return -EAFNOSUPPORT;
    uint16_t be_port;
    memcpy(&be_port, a + 2, 2);
    n->port = __builtin_bswap16(be_port);
    memcpy(n->addr, a + 8, 16);
    if (inet_is_any(n->addr, false) && inet_is_mapped(s->laddr))
        inet_set_v4(n->addr, __builtin_bswap32(0x7f000001u));
    n->v4 = inet_is_mapped(n->addr);
    if (n->v4 && s->v6only)
        return -ENETUNREACH;
    return 0;
}

/* Linux's inet_dgram_connect and ip4/ip6_datagram_connect. */
int udp_connect(struct isock *s, const uint8_t *addr, int len)
{
    if (len < 2)
        return -EINVAL;
    uint16_t fam;
    memcpy(&fam, addr, 2);
    if (fam == AF_UNSPEC)
        return udp_disconnect(s);
    if (!s->lport && inet_autobind(s))
        return -EAGAIN;
    struct inet_name n;
    int err = s->family == AF_INET ? dst4(addr, len, &n, false) : dst6(s, addr, len, &n, false);
    if (err)
        return err;
    uint8_t src[16];
    err = inet_route(s, &n, src);
    if (err == -ENETUNREACH && n.port == 53 && vsock_present()) {
        /* a name server outside: its datagrams go through the parent (inet_dns.c) */
        memset(src, 0, 16);
        if (n.v4)
            inet_set_v4(src, 0x0100007f);
        else
            src[15] = 1;
        err = 0;
    }
    if (err)
        return err;
    if (!s->addr_locked)
        inet_set_laddr(s, src);
    memcpy(s->raddr, n.addr, 16);
    s->rport = n.port;
    s->has_remote = true;
    s->state = TCP_ESTABLISHED;
    inet_notify(s, 0);
    return 0;
}

/* ---- sending ---- */

long udp_sendmsg(struct isock *s, struct sock_msg *m, int flags)
{
    if (!s->lport && inet_autobind(s))
        return -EAGAIN; /* inet_sendmsg binds first */
    struct inet_name n;
    bool named = false;
    if (s->family == AF_INET6) {
        /* Linux's udpv6_sendmsg: a v4 destination goes on as udp_sendmsg's */
        if (m->namelen) {
            int r = dst6(s, m->name, m->namelen, &n, true);
            if (r < 0)
                return r;
            named = r == 0;
        }
    } else {
        if (m->len > 0xffff)
            return -EMSGSIZE;
        if (flags & MSG_OOB)
            return -EOPNOTSUPP;
        if (m->namelen) {
            int r = dst4(m->name, m->namelen, &n, true);
            if (r)
                return r;
            named = true;
        }
    }
    if (!named) {
        if (!s->has_remote)
            return -EDESTADDRREQ;
        memcpy(n.addr, s->raddr, 16);
        n.port = s->rport;
        n.v4 = s->family == AF_INET || inet_is_mapped(s->raddr);
    }
    if (n.v4 && m->len > 0xffff)
        return -EMSGSIZE;
    if (named && !n.port)
        return -EINVAL;
    uint8_t src[16];
    int err = inet_route(s, &n, src);
    /* a name server outside the enclave: through the parent (inet_dns.c) */
    bool dns = err == -ENETUNREACH && n.port == 53 && vsock_present();
    if (err && !dns)
        return err;
    if (m->len > (n.v4 ? UDP_MAX_V4 : UDP_MAX_V6))
        return -EMSGSIZE;
    if (s->err)
        return -inet_take_error(s); /* sock_alloc_send_skb reports a pending error */
    if (s->shut & SEND_SHUT)
        return -EPIPE; /* ... and a shut down sending side, without SIGPIPE */
    if (dns)
        return inet_dns_send(s, &n, m);
    struct isock *t = inet_lookup(SOCK_DGRAM, &n, src, s->lport);
    if (!t) {
        /* the ICMP port unreachable: only a socket connected there hears it */
        if (s->has_remote && s->rport == n.port && !memcmp(s->raddr, n.addr, 16)) {
            s->err = ECONNREFUSED;
            inet_notify(s, POLLERR);
        }
        return (long)m->len;
    }
    if (t->dq_charge > (uint64_t)t->o.rcvbuf)
        return (long)m->len; /* the receiver's queue is full: dropped, as on Linux */
    struct idgram *d = kmalloc(sizeof(*d) + m->len);
    if (!d)
        return -ENOBUFS;
    *d = (struct idgram){.len = (uint32_t)m->len, .charge = (uint32_t)m->len + DGRAM_OVERHEAD};
    if (sock_io_copy(&m->io, d->data, m->len, false)) {
        kfree(d);
        return -EFAULT;
    }
    memcpy(d->from, src, 16);
    d->from_port = s->lport;
    if (t->dq_tail)
        t->dq_tail->next = d;
    else
        t->dq_head = d;
    t->dq_tail = d;
    t->dq_charge += d->charge;
    inet_notify(t, POLLIN | POLLRDNORM);
    return (long)m->len;
}

/* ---- receiving ---- */

static bool recv_ready(void *arg)
{
    struct isock *s = arg;
    wait_on_file(s->file);
    inet_dns_pull(s);
    return s->dq_head || s->err || (s->shut & RCV_SHUT);
}

long udp_recvmsg(struct isock *s, struct sock_msg *m, int flags)
{
    int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : s->o.rcvtimeo_ns;
    struct idgram *d;
    for (;;) {
        inet_dns_pull(s);
        if (s->err)
            return -inet_take_error(s);
        d = s->dq_head;
        if (d)
            break;
        if (s->shut & RCV_SHUT)
            return timeo ? 0 : -EAGAIN;
        if (!timeo)
            return -EAGAIN;
        long err = inet_wait(recv_ready, s, timeo);
        if (err)
            return err;
    }
    size_t size = m->len;
    if (size > d->len)
        size = d->len;
    else if (size < d->len)
        m->flags_out |= MSG_TRUNC;
    if (sock_io_copy(&m->io, d->data, size, true))
        return -EFAULT; /* the datagram stays, as Linux's skb_copy_datagram_msg leaves it */
    if (m->name) {
        uint8_t from[16];
        memcpy(from, d->from, 16);
        m->namelen = inet_put_name(s->family, from, d->from_port, m->name);
    }
    long ret = (flags & MSG_TRUNC) ? (long)d->len : (long)size;
    if (!(flags & MSG_PEEK)) {
        s->dq_head = d->next;
        if (!s->dq_head)
            s->dq_tail = NULL;
        s->dq_charge -= d->charge;
        kfree(d);
    }
    return ret;
}

/* Linux's udp_poll (datagram_poll). */
uint32_t udp_poll(struct isock *s)
{
    inet_dns_pull(s);
    uint32_t m = POLLOUT | POLLWRNORM | POLLWRBAND; /* datagrams leave at once */
    if (s->err)
        m |= POLLERR;
    if (s->shut & RCV_SHUT)
        m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (s->shut == SHUT_MASK)
        m |= POLLHUP;
    if (s->dq_head)
        m |= POLLIN | POLLRDNORM;
    return m;
}

void udp_release(struct isock *s)
{
    inet_dns_release(s);
    while (s->dq_head) {
        struct idgram *d = s->dq_head;
        s->dq_head = d->next;
        kfree(d);
    }
    s->dq_tail = NULL;
    s->dq_charge = 0;
}

uint64_t udp_inq(struct isock *s)
{
    inet_dns_pull(s);
    return s->dq_head ? s->dq_head->len : 0;
}
