/* inet_opt.c: the options of AF_INET and AF_INET6 sockets beyond SOL_SOCKET (see inet.h):
 * IPPROTO_IP (IP_TOS, IP_TTL), IPPROTO_IPV6 (IPV6_V6ONLY, IPV6_UNICAST_HOPS) and IPPROTO_TCP
 * (TCP_NODELAY, TCP_CORK, TCP_QUICKACK, TCP_MAXSEG, the keepalive times, TCP_INFO), with
 * Linux's ranges and errnos. They are kept and reported; on loopback nothing depends on them.
 */
#include "inet.h"

#include "klib.h"
#include "syscall.h"

#define IP_TOS            1
#define IP_TTL            2
#define IPV6_UNICAST_HOPS 16
#define IPV6_V6ONLY       26
#define TCP_NODELAY       1
#define TCP_MAXSEG        2
#define TCP_CORK          3
#define TCP_KEEPIDLE      4
#define TCP_KEEPINTVL     5
#define TCP_KEEPCNT       6
#define TCP_INFO          11
#define TCP_QUICKACK      12
#define TCP_MIN_MSS       88
#define TCP_MSS_DEFAULT   536
#define TCP_MSS_LOOPBACK  32741 /* what Linux reports on a connected loopback socket */
#define MAX_TCP_WINDOW    32767
#define MAX_TCP_KEEPIDLE  32767
#define MAX_TCP_KEEPCNT   127
#define TCP_INFO_LEN      232 /* Linux 6.x's struct tcp_info */
#define DEFAULT_TTL       64

/* An option's int: a whole int, or (IPPROTO_IP's small options) one byte, as Linux takes. */
static long opt_int(uint64_t uval, int len, bool byte_ok, int *out)
{
    if (len >= (int)sizeof(int)) {
        return copy_from_user(out, uval, sizeof(int)) ? -EFAULT : 0;
    }
    if (byte_ok && len >= 1) {
        uint8_t b;
        if (copy_from_user(&b, uval, 1))
            return -EFAULT;
        *out = b;
        return 0;
    }
    return -EINVAL;
}

static int set_ip(struct isock *s, int name, uint64_t uval, int len)
{
    int val;
    long err;
    switch (name) {
    case IP_TOS:
        if ((err = opt_int(uval, len, true, &val)))
            return (int)err;
        if (s->type == SOCK_STREAM)
            val &= ~3; /* the ECN bits are TCP's own */
        s->tos = val & 0xff;
        return 0;
    case IP_TTL:
        if ((err = opt_int(uval, len, true, &val)))
            return (int)err;
        if (val != -1 && (val < 1 || val > 255))
            return -EINVAL;
        s->ttl = val;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int set_ipv6(struct isock *s, int name, uint64_t uval, int len)
{
    int val;
    long err;
    switch (name) {
    case IPV6_V6ONLY:
        if (len < (int)sizeof(int))
            return -EINVAL;
        if ((err = opt_int(uval, len, false, &val)))
            return (int)err;
        if (s->lport)
            return -EINVAL;
        s->v6only = val != 0;
        return 0;
    case IPV6_UNICAST_HOPS:
        if ((err = opt_int(uval, len, false, &val)))
            return (int)err;
        if (val > 255 || val < -1)
            return -EINVAL;
        s->ttl = val;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int set_tcp(struct isock *s, int name, uint64_t uval, int len)
{
    int val;
    if (len < (int)sizeof(int))
        return -EINVAL;
    if (copy_from_user(&val, uval, sizeof(val)))
        return -EFAULT;
    switch (name) {
    case TCP_NODELAY:
        s->nodelay = val != 0;
        return 0;
    case TCP_CORK:
        s->cork = val != 0; /* loopback sends at once either way (docs/networking.md) */
        return 0;
    case TCP_QUICKACK:
        return 0;
    case TCP_MAXSEG:
        if (val && (val < TCP_MIN_MSS || val > MAX_TCP_WINDOW))
            return -EINVAL;
        s->maxseg = val;
        return 0;
    case TCP_KEEPIDLE:
        if (val < 1 || val > MAX_TCP_KEEPIDLE)
            return -EINVAL;
        s->keepidle = val;
        return 0;
    case TCP_KEEPINTVL:
        if (val < 1 || val > MAX_TCP_KEEPIDLE)
            return -EINVAL;
        s->keepintvl = val;
        return 0;
    case TCP_KEEPCNT:
        if (val < 1 || val > MAX_TCP_KEEPCNT)
            return -EINVAL;
        s->keepcnt = val;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int inet_setsockopt(struct file *f, int level, int name, uint64_t uval, int len)
{
    struct isock *s = f->priv;
    if (level == IPPROTO_IP)
        return set_ip(s, name, uval, len);
    if (level == IPPROTO_IPV6 && s->family == AF_INET6)
        return set_ipv6(s, name, uval, len);
    if (level == IPPROTO_TCP && s->type == SOCK_STREAM)
        return set_tcp(s, name, uval, len);
    return -ENOPROTOOPT;
}

static int tcp_info_out(struct isock *s, uint64_t uval, uint64_t ulen, int len)
{
    uint8_t info[TCP_INFO_LEN];
    memset(info, 0, sizeof(info));
    info[0] = (uint8_t)tcp_info_state(s);
    len = MIN(len, (int)sizeof(info));
    return (int)sock_opt_out(info, len, len, uval, ulen);
}

int inet_getsockopt(struct file *f, int level, int name, uint64_t uval, uint64_t ulen)
{
    struct isock *s = f->priv;
    int len, v;
    if (copy_from_user(&len, ulen, sizeof(len)))
        return -EFAULT;
    if (len < 0)
        return -EINVAL;
    if (level == IPPROTO_IP) {
        if (name == IP_TOS)
            v = s->tos;
        else if (name == IP_TTL)
            v = s->ttl < 0 ? DEFAULT_TTL : s->ttl;
        else
            return -ENOPROTOOPT;
        if (len < (int)sizeof(int) && len >= 1 && v < 256) {
            uint8_t b = (uint8_t)v; /* Linux answers a short buffer with one byte */
            return (int)sock_opt_out(&b, 1, 1, uval, ulen);
        }
    } else if (level == IPPROTO_IPV6 && s->family == AF_INET6) {
        if (name == IPV6_V6ONLY)
            v = s->v6only;
        else if (name == IPV6_UNICAST_HOPS)
            v = s->ttl < 0 ? DEFAULT_TTL : s->ttl;
        else
            return -ENOPROTOOPT;
        if (len < (int)sizeof(int))
            return -EINVAL;
    } else if (level == IPPROTO_TCP && s->type == SOCK_STREAM) {
        switch (name) {
        case TCP_NODELAY:
            v = s->nodelay;
            break;
        case TCP_CORK:
            v = s->cork;
            break;
        case TCP_QUICKACK:
            v = 1;
            break;
        case TCP_MAXSEG:
            if (s->maxseg && (s->state == TCP_CLOSE || s->state == TCP_LISTEN))
                v = s->maxseg;
            else if (s->state == TCP_CLOSE || s->state == TCP_LISTEN || s->state == TCP_SYN_SENT)
                v = TCP_MSS_DEFAULT;
            else
                v = s->maxseg ? MIN(s->maxseg, TCP_MSS_LOOPBACK) : TCP_MSS_LOOPBACK;
            break;
        case TCP_KEEPIDLE:
            v = s->keepidle;
            break;
        case TCP_KEEPINTVL:
            v = s->keepintvl;
            break;
        case TCP_KEEPCNT:
            v = s->keepcnt;
            break;
        case TCP_INFO:
            return tcp_info_out(s, uval, ulen, len);
        default:
            return -ENOPROTOOPT;
        }
        if (len < (int)sizeof(int))
            return -EINVAL;
    } else {
        /* ip_getsockopt answers the other levels of a v4 socket, ipv6_getsockopt a v6 one's */
        return s->family == AF_INET ? -EOPNOTSUPP : -ENOPROTOOPT;
    }
    return (int)sock_opt_out(&v, sizeof(v), len, uval, ulen);
}
