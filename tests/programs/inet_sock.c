/* inet_sock.c: AF_INET and AF_INET6 sockets over loopback as Linux has them, between threads
 * and between processes: socket types and options, bind (EADDRINUSE, SO_REUSEADDR and
 * SO_REUSEPORT, dual stack, ports below 1024), names and their lengths, TCP connections
 * (listen, backlog, accept4, blocking and non-blocking connect, ECONNREFUSED, shutdown, resets,
 * EPIPE and SIGPIPE, MSG_PEEK, MSG_WAITALL, MSG_TRUNC, FIONREAD, SIOCOUTQ), UDP (boundaries,
 * MSG_TRUNC, the size limit, connected sockets, ECONNREFUSED from the ICMP error, AF_UNSPEC),
 * sendmmsg and recvmmsg, readiness for poll, select and epoll, timeouts, and errnos for the
 * errors. It prints facts, never descriptors, ports or buffer sizes that differ between
 * kernels, so that its output natively and in an enclave is the same. "inet_sock more" checks
 * waits a thread ends, timeouts and signals. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SIOCOUTQ
#define SIOCOUTQ 0x5411
#endif

static long show(const char *what, long ret)
{
    if (ret < 0)
        printf("%s = -1 errno %d\n", what, errno);
    else
        printf("%s = %ld\n", what, ret);
    fflush(stdout);
    return ret;
}
#define SHOW(expr) show(#expr, (long)(expr))

/* descriptors are printed as "fd": natively a program may inherit more than 0, 1 and 2 */
static int showfd(const char *what, int fd)
{
    if (fd < 0)
        printf("%s = -1 errno %d\n", what, errno);
    else
        printf("%s = fd\n", what);
    fflush(stdout);
    return fd;
}
#define SHOWFD(expr) showfd(#expr, (expr))
#define YES(c)       ((c) ? "yes" : "no")

static volatile int g_sigpipes;
static void on_sigpipe(int sig)
{
    (void)sig;
    g_sigpipes++;
}

static struct sockaddr_in sin4(uint32_t addr, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(addr);
    return a;
}

static struct sockaddr_in6 sin6(const char *addr, uint16_t port)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, addr, &a.sin6_addr);
    return a;
}

#define LO    0x7f000001u
#define ANY4  0u
#define SA(a) ((struct sockaddr *)&(a))

static int getopt_int(int fd, int level, int name)
{
    int v = -1;
    socklen_t l = sizeof(v);
    if (getsockopt(fd, level, name, &v, &l) < 0)
        return -errno;
    return v;
}

static int setopt_int(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof(v));
}

static int in_range(int port)
{
    return port >= 32768 && port <= 60999;
}

/* the port of fd's name (peer: the peer's), or -errno */
static int port_of(int fd, int peer)
{
    struct sockaddr_in6 a;
    socklen_t l = sizeof(a);
    int r = peer ? getpeername(fd, SA(a), &l) : getsockname(fd, SA(a), &l);
    if (r < 0)
        return -errno;
    return ntohs(a.sin6_port); /* sin_port and sin6_port are at the same place */
}

/* the name of fd (peer: its peer's): length, family, address; the port as a fact */
static void print_name(const char *what, int fd, int peer)
{
    struct sockaddr_in6 a;
    memset(&a, 0x55, sizeof(a));
    socklen_t l = sizeof(a);
    int r = peer ? getpeername(fd, SA(a), &l) : getsockname(fd, SA(a), &l);
    if (r < 0) {
        printf("%s: errno %d\n", what, errno);
        return;
    }
    char buf[64] = "?";
    int port = ntohs(a.sin6_port);
    if (a.sin6_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&a)->sin_addr, buf, sizeof(buf));
    else if (a.sin6_family == AF_INET6)
        inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof(buf));
    const char *p = port == 0 ? "0" : in_range(port) ? "ephemeral" : "fixed";
    if (a.sin6_family == AF_INET6)
        printf("%s: len %u family %d addr %s port %s flowinfo %u scope %u\n", what, (unsigned)l,
               a.sin6_family, buf, p, a.sin6_flowinfo, a.sin6_scope_id);
    else
        printf("%s: len %u family %d addr %s port %s\n", what, (unsigned)l, a.sin6_family, buf, p);
}

static short revents(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

/* waits up to a second for any of events, then gives every bit that is set */
static short revents_wait(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    if (poll(&p, 1, 1000) < 0)
        return -1;
    return p.revents;
}

#define ALL (POLLIN | POLLOUT | POLLRDHUP | POLLPRI)

/* A port nobody uses now (below the ephemeral range, so that no connection takes it). */
static int free_port(int type)
{
    static int next = 20000 + 137;
    for (;;) {
        int p = next++;
        int s4 = socket(AF_INET6, type, 0);
        struct sockaddr_in6 a = sin6("::", (uint16_t)p);
        int ok = bind(s4, SA(a), sizeof(a)) == 0;
        close(s4);
        int other = socket(AF_INET6, type == SOCK_STREAM ? SOCK_DGRAM : SOCK_STREAM, 0);
        ok = ok && bind(other, SA(a), sizeof(a)) == 0;
        close(other);
        if (ok)
            return p;
    }
}

/* a listener on 127.0.0.1 (v4) or ::1 (v6) at an ephemeral port: its port in *port */
static int listener(int family, int backlog, int *port)
{
    int s = socket(family, SOCK_STREAM, 0);
    if (family == AF_INET) {
        struct sockaddr_in a = sin4(LO, 0);
        bind(s, SA(a), sizeof(a));
    } else {
        struct sockaddr_in6 a = sin6("::1", 0);
        bind(s, SA(a), sizeof(a));
    }
    listen(s, backlog);
    *port = port_of(s, 0);
    return s;
}

static int connect_to(int family, int port, int flags)
{
    int c = socket(family, SOCK_STREAM | flags, 0);
    int r;
    if (family == AF_INET) {
        struct sockaddr_in a = sin4(LO, (uint16_t)port);
        r = connect(c, SA(a), sizeof(a));
    } else {
        struct sockaddr_in6 a = sin6("::1", (uint16_t)port);
        r = connect(c, SA(a), sizeof(a));
    }
    if (r < 0 && errno != EINPROGRESS) {
        close(c);
        return -1;
    }
    return c;
}

/* ---- types and options ---- */

static void types(void)
{
    int fams[] = {AF_INET, AF_INET6};
    int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            int fd = socket(fams[i], types[j], 0);
            printf("family %d type %d: SO_TYPE %d SO_DOMAIN %d SO_PROTOCOL %d SO_ACCEPTCONN %d "
                   "SO_ERROR %d\n",
                   fams[i], types[j], getopt_int(fd, SOL_SOCKET, SO_TYPE),
                   getopt_int(fd, SOL_SOCKET, SO_DOMAIN), getopt_int(fd, SOL_SOCKET, SO_PROTOCOL),
                   getopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), getopt_int(fd, SOL_SOCKET, SO_ERROR));
            print_name("  unbound getsockname", fd, 0);
            print_name("  unbound getpeername", fd, 1);
            printf("  unbound poll %#x\n", revents(fd, ALL));
            close(fd);
        }
    }
    SHOW(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    SHOW(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    SHOW(socket(AF_INET6, SOCK_SEQPACKET, 0));
    SHOW(socket(AF_INET, SOCK_STREAM, 300));
    SHOW(socket(AF_INET, SOCK_STREAM, -1));
    int fd = SHOWFD(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    printf("nonblock %s cloexec %s\n", YES(fcntl(fd, F_GETFL) & O_NONBLOCK),
           YES(fcntl(fd, F_GETFD) & FD_CLOEXEC));
    struct stat st;
    fstat(fd, &st);
    printf("fstat S_ISSOCK %s\n", YES(S_ISSOCK(st.st_mode)));
    close(fd);
    fd = SHOWFD(socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP));
    close(fd);
    int sv[2];
    SHOW(socketpair(AF_INET, SOCK_STREAM, 0, sv));

    /* SOL_SOCKET */
    int t = socket(AF_INET, SOCK_STREAM, 0);
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    printf("tcp SO_SNDBUF > 0 %s, SO_RCVBUF > SO_SNDBUF %s\n",
           YES(getopt_int(t, SOL_SOCKET, SO_SNDBUF) > 0),
           YES(getopt_int(t, SOL_SOCKET, SO_RCVBUF) > getopt_int(t, SOL_SOCKET, SO_SNDBUF)));
    SHOW(setopt_int(t, SOL_SOCKET, SO_SNDBUF, 10000));
    SHOW(setopt_int(t, SOL_SOCKET, SO_RCVBUF, 10000));
    printf("set: SO_SNDBUF %d SO_RCVBUF %d\n", getopt_int(t, SOL_SOCKET, SO_SNDBUF),
           getopt_int(t, SOL_SOCKET, SO_RCVBUF));
    int opts[] = {SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE};
    for (int i = 0; i < 3; i++) {
        int before = getopt_int(t, SOL_SOCKET, opts[i]);
        setopt_int(t, SOL_SOCKET, opts[i], 1);
        printf("SOL_SOCKET %d: %d then %d\n", opts[i], before, getopt_int(t, SOL_SOCKET, opts[i]));
    }
    struct linger lg = {1, 5}, lg2;
    SHOW(setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
    socklen_t l = sizeof(lg2);
    SHOW(getsockopt(t, SOL_SOCKET, SO_LINGER, &lg2, &l));
    printf("linger %d %d len %u\n", lg2.l_onoff, lg2.l_linger, (unsigned)l);
    /* IPPROTO_TCP */
    printf("TCP_NODELAY %d TCP_CORK %d TCP_KEEPIDLE %d TCP_KEEPINTVL %d TCP_KEEPCNT %d "
           "TCP_MAXSEG %d\n",
           getopt_int(t, IPPROTO_TCP, TCP_NODELAY), getopt_int(t, IPPROTO_TCP, TCP_CORK),
           getopt_int(t, IPPROTO_TCP, TCP_KEEPIDLE), getopt_int(t, IPPROTO_TCP, TCP_KEEPINTVL),
           getopt_int(t, IPPROTO_TCP, TCP_KEEPCNT), getopt_int(t, IPPROTO_TCP, TCP_MAXSEG));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_NODELAY, 1));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_CORK, 1));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_CORK, 0));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_KEEPIDLE, 0));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_KEEPIDLE, 60));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_KEEPINTVL, 10));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_KEEPCNT, 200));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_KEEPCNT, 3));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_MAXSEG, 10));
    SHOW(setopt_int(t, IPPROTO_TCP, TCP_MAXSEG, 1000));
    printf("TCP_NODELAY %d TCP_CORK %d TCP_KEEPIDLE %d TCP_KEEPINTVL %d TCP_KEEPCNT %d "
           "TCP_MAXSEG %d\n",
           getopt_int(t, IPPROTO_TCP, TCP_NODELAY), getopt_int(t, IPPROTO_TCP, TCP_CORK),
           getopt_int(t, IPPROTO_TCP, TCP_KEEPIDLE), getopt_int(t, IPPROTO_TCP, TCP_KEEPINTVL),
           getopt_int(t, IPPROTO_TCP, TCP_KEEPCNT), getopt_int(t, IPPROTO_TCP, TCP_MAXSEG));
    short sh = 1;
    SHOW(setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &sh, sizeof(sh)));
    SHOW(getopt_int(t, IPPROTO_TCP, 9999));
    struct tcp_info ti;
    l = sizeof(ti);
    memset(&ti, 0xff, sizeof(ti));
    SHOW(getsockopt(t, IPPROTO_TCP, TCP_INFO, &ti, &l));
    printf("TCP_INFO len as asked %s, tcpi_state %d\n", YES(l == sizeof(ti)), ti.tcpi_state);
    /* IPPROTO_IP, IPPROTO_IPV6 */
    printf("IP_TOS %d IP_TTL %d\n", getopt_int(t, IPPROTO_IP, IP_TOS),
           getopt_int(t, IPPROTO_IP, IP_TTL));
    SHOW(setopt_int(t, IPPROTO_IP, IP_TOS, 0x13));
    SHOW(setopt_int(t, IPPROTO_IP, IP_TTL, 0));
    SHOW(setopt_int(t, IPPROTO_IP, IP_TTL, 300));
    SHOW(setopt_int(t, IPPROTO_IP, IP_TTL, 9));
    printf("IP_TOS %d IP_TTL %d\n", getopt_int(t, IPPROTO_IP, IP_TOS),
           getopt_int(t, IPPROTO_IP, IP_TTL));
    SHOW(setopt_int(t, IPPROTO_IP, IP_TTL, -1));
    printf("IP_TTL after -1: %d\n", getopt_int(t, IPPROTO_IP, IP_TTL));
    SHOW(setopt_int(u, IPPROTO_IP, IP_TOS, 0x13));
    printf("udp IP_TOS %d\n", getopt_int(u, IPPROTO_IP, IP_TOS));
    SHOW(getopt_int(t, IPPROTO_IPV6, IPV6_V6ONLY));
    SHOW(setopt_int(t, IPPROTO_IPV6, IPV6_V6ONLY, 1));
    SHOW(getopt_int(u, IPPROTO_IPV6, IPV6_V6ONLY));
    SHOW(setopt_int(u, IPPROTO_IPV6, IPV6_V6ONLY, 1));
    SHOW(getopt_int(u, IPPROTO_IPV6, IPV6_V6ONLY));
    SHOW(setopt_int(u, IPPROTO_TCP, TCP_NODELAY, 1));
    SHOW(getopt_int(u, IPPROTO_TCP, TCP_NODELAY));
    SHOW(getopt_int(t, IPPROTO_IP, 9999));
    close(t);
    close(u);
}

/* ---- bind and names ---- */

static void binds(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = sin4(LO, 0);
    SHOW(bind(s, SA(a), 8));
    a.sin_family = AF_INET6;
    SHOW(bind(s, SA(a), sizeof(a)));
    a.sin_family = AF_UNSPEC;
    SHOW(bind(s, SA(a), sizeof(a))); /* AF_UNSPEC only with INADDR_ANY */
    a = sin4(0x0a010203, 0);
    SHOW(bind(s, SA(a), sizeof(a)));
    a = sin4(LO, 0);
    SHOW(bind(s, SA(a), sizeof(a)));
    print_name("v4 bound getsockname", s, 0);
    print_name("v4 bound getpeername", s, 1);
    SHOW(bind(s, SA(a), sizeof(a)));
    /* a short buffer: the name is cut, the length is the whole */
    struct sockaddr_in got;
    socklen_t gl = 4;
    SHOW(getsockname(s, SA(got), &gl));
    printf("short getsockname len %u\n", (unsigned)gl);
    close(s);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    a = sin4(ANY4, 0);
    a.sin_family = AF_UNSPEC;
    SHOW(bind(s, SA(a), sizeof(a)));
    print_name("AF_UNSPEC any bound", s, 0);
    close(s);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    a = sin4(0x7f000005, 0);
    SHOW(bind(s, SA(a), sizeof(a)));
    print_name("127.0.0.5 bound", s, 0);
    close(s);

    int s6 = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 b = sin6("::1", 0);
    SHOW(bind(s6, SA(b), 20));
    SHOW(bind(s6, SA(b), 16));
    b.sin6_family = AF_INET;
    SHOW(bind(s6, SA(b), sizeof(b)));
    b = sin6("2001:db8::1", 0);
    SHOW(bind(s6, SA(b), sizeof(b)));
    b = sin6("::1", 0);
    SHOW(bind(s6, SA(b), 24)); /* RFC 2133's length is enough */
    print_name("v6 bound getsockname", s6, 0);
    close(s6);
    s6 = socket(AF_INET6, SOCK_STREAM, 0);
    b = sin6("::ffff:127.0.0.1", 0);
    SHOW(bind(s6, SA(b), sizeof(b)));
    print_name("v6 bound to a v4-mapped address", s6, 0);
    close(s6);
    s6 = socket(AF_INET6, SOCK_STREAM, 0);
    SHOW(setopt_int(s6, IPPROTO_IPV6, IPV6_V6ONLY, 1));
    SHOW(bind(s6, SA(b), sizeof(b)));
    b = sin6("::ffff:10.1.2.3", 0);
    SHOW(setopt_int(s6, IPPROTO_IPV6, IPV6_V6ONLY, 0));
    SHOW(bind(s6, SA(b), sizeof(b)));
    b = sin6("::", 0);
    SHOW(bind(s6, SA(b), sizeof(b)));
    print_name("v6 any", s6, 0);
    SHOW(setopt_int(s6, IPPROTO_IPV6, IPV6_V6ONLY, 1)); /* bound already */
    close(s6);
}

static int bound(int family, int type, const char *addr, int port, int reuseaddr, int reuseport,
                 int v6only)
{
    int s = socket(family, type, 0);
    if (reuseaddr)
        setopt_int(s, SOL_SOCKET, SO_REUSEADDR, 1);
    if (reuseport)
        setopt_int(s, SOL_SOCKET, SO_REUSEPORT, 1);
    if (v6only)
        setopt_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    int r;
    if (family == AF_INET) {
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &a.sin_addr);
        r = bind(s, SA(a), sizeof(a));
    } else {
        struct sockaddr_in6 a = sin6(addr, (uint16_t)port);
        r = bind(s, SA(a), sizeof(a));
    }
    printf("  bind %s %s%s%s%s = %s\n", addr, type == SOCK_STREAM ? "tcp" : "udp",
           reuseaddr ? " SO_REUSEADDR" : "", reuseport ? " SO_REUSEPORT" : "",
           v6only ? " IPV6_V6ONLY" : "", r < 0 ? strerror(errno) : "ok");
    fflush(stdout);
    if (r < 0) {
        close(s);
        return -1;
    }
    return s;
}

static void closeall(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static void ports(void)
{
    int p = free_port(SOCK_STREAM), f[8];
    printf("tcp: one port, two sockets\n");
    f[0] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 0, 0, 0);
    f[1] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 0, 0, 0);
    f[2] = bound(AF_INET, SOCK_STREAM, "0.0.0.0", p, 0, 0, 0);
    f[3] = bound(AF_INET, SOCK_STREAM, "127.0.0.2", p, 0, 0, 0); /* another address: fine */
    f[4] = bound(AF_INET, SOCK_DGRAM, "127.0.0.1", p, 0, 0, 0);  /* UDP has its own ports */
    closeall(f, 5);
    printf("tcp: SO_REUSEADDR, then a listener\n");
    f[0] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 1, 0, 0);
    f[1] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 1, 0, 0);
    f[2] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 0, 0, 0);
    SHOW(listen(f[0], 5));
    SHOW(listen(f[1], 5));
    f[3] = bound(AF_INET, SOCK_STREAM, "0.0.0.0", p, 1, 0, 0);
    closeall(f, 4);
    printf("tcp: SO_REUSEPORT listeners\n");
    f[0] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 0, 1, 0);
    f[1] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 0, 1, 0);
    SHOW(listen(f[0], 5));
    SHOW(listen(f[1], 5));
    f[2] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 0, 0, 0);
    closeall(f, 3);
    printf("tcp: dual stack\n");
    f[0] = bound(AF_INET6, SOCK_STREAM, "::", p, 0, 0, 0);
    f[1] = bound(AF_INET, SOCK_STREAM, "0.0.0.0", p, 0, 0, 0);
    f[2] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 0, 0, 0);
    f[3] = bound(AF_INET6, SOCK_STREAM, "::1", p, 0, 0, 0);
    closeall(f, 4);
    f[0] = bound(AF_INET6, SOCK_STREAM, "::", p, 0, 0, 1);
    f[1] = bound(AF_INET, SOCK_STREAM, "0.0.0.0", p, 0, 0, 0);
    f[2] = bound(AF_INET6, SOCK_STREAM, "::1", p, 0, 0, 0);
    f[3] = bound(AF_INET6, SOCK_STREAM, "::ffff:127.0.0.1", p, 0, 0, 0);
    closeall(f, 4);
    f[0] = bound(AF_INET, SOCK_STREAM, "0.0.0.0", p, 0, 0, 0);
    f[1] = bound(AF_INET6, SOCK_STREAM, "::", p, 0, 0, 0);
    f[2] = bound(AF_INET6, SOCK_STREAM, "::1", p, 0, 0, 0);
    f[3] = bound(AF_INET6, SOCK_STREAM, "::", p, 0, 0, 1);
    closeall(f, 4);
    f[0] = bound(AF_INET6, SOCK_STREAM, "::1", p, 0, 0, 0);
    f[1] = bound(AF_INET, SOCK_STREAM, "0.0.0.0", p, 0, 0, 0); /* [::1] takes no v4 */
    f[2] = bound(AF_INET, SOCK_STREAM, "127.0.0.2", p, 0, 0, 0);
    closeall(f, 3);
    printf("udp: SO_REUSEADDR shares, SO_REUSEPORT too\n");
    p = free_port(SOCK_DGRAM);
    f[0] = bound(AF_INET, SOCK_DGRAM, "0.0.0.0", p, 0, 0, 0);
    f[1] = bound(AF_INET, SOCK_DGRAM, "127.0.0.1", p, 1, 0, 0);
    closeall(f, 2);
    f[0] = bound(AF_INET, SOCK_DGRAM, "0.0.0.0", p, 1, 0, 0);
    f[1] = bound(AF_INET, SOCK_DGRAM, "127.0.0.1", p, 1, 0, 0);
    f[2] = bound(AF_INET6, SOCK_DGRAM, "::", p, 0, 1, 0);
    closeall(f, 3);
    f[0] = bound(AF_INET6, SOCK_DGRAM, "::", p, 0, 1, 0);
    f[1] = bound(AF_INET6, SOCK_DGRAM, "::", p, 0, 1, 0);
    f[2] = bound(AF_INET, SOCK_DGRAM, "0.0.0.0", p, 0, 0, 0);
    closeall(f, 3);

    /* a connection holds its port: the listener's port is busy while it lives */
    int lp;
    int ls = listener(AF_INET, 5, &lp);
    int c = connect_to(AF_INET, lp, 0);
    int acc = accept(ls, NULL, NULL);
    close(ls);
    printf("with the accepted socket alive:\n");
    f[0] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", lp, 0, 0, 0);
    closeall(f, 1);
    printf("the client's port: ephemeral %s\n", YES(in_range(port_of(c, 0))));
    close(c); /* the client closes first (its end waits in TIME_WAIT on Linux) */
    close(acc);
    /* a listener's port is free again once it is closed, when nothing was connected */
    ls = listener(AF_INET, 5, &lp);
    close(ls);
    f[0] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", lp, 0, 0, 0);
    SHOW(listen(f[0], 1));
    print_name("listening on a port bound by number", f[0], 0);
    closeall(f, 1);

    /* ports below 1024: root may, others not */
    int lowp = 0;
    for (int q = 1000; q > 900 && !lowp; q--) {
        int t = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = sin4(LO, (uint16_t)q);
        if (bind(t, SA(a), sizeof(a)) == 0)
            lowp = q;
        close(t);
    }
    printf("root binds a port below 1024: %s\n", YES(lowp));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(20);
        int t = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = sin4(LO, (uint16_t)lowp);
        int r = bind(t, SA(a), sizeof(a));
        int e1 = r < 0 ? errno : 0;
        int t6 = socket(AF_INET6, SOCK_DGRAM, 0);
        struct sockaddr_in6 b = sin6("2001:db8::1", (uint16_t)lowp);
        r = bind(t6, SA(b), sizeof(b)); /* EACCES comes first for v6 */
        int e2 = r < 0 ? errno : 0;
        a = sin4(0x0a000001, (uint16_t)lowp);
        r = bind(t, SA(a), sizeof(a)); /* EADDRNOTAVAIL first for v4 */
        int e3 = r < 0 ? errno : 0;
        a = sin4(LO, 0);
        r = bind(t, SA(a), sizeof(a));
        printf("user 65534: bind low v4 errno %d, v6 elsewhere errno %d, v4 elsewhere errno %d, "
               "port 0 = %d\n",
               e1, e2, e3, r);
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
}

/* ---- TCP ---- */

static void *writer_thread(void *arg)
{
    int fd = *(int *)arg;
    for (int i = 0; i < 3; i++) {
        usleep(20000);
        char b[100];
        memset(b, 'a' + i, sizeof(b));
        write(fd, b, sizeof(b));
    }
    return NULL;
}

static void tcp_basics(int family)
{
    printf("== tcp basics, family %d\n", family);
    int lp;
    int ls = listener(family, 1, &lp);
    printf("listener SO_ACCEPTCONN %d poll %#x\n", getopt_int(ls, SOL_SOCKET, SO_ACCEPTCONN),
           revents(ls, ALL));
    struct tcp_info ti;
    socklen_t l = sizeof(ti);
    getsockopt(ls, IPPROTO_TCP, TCP_INFO, &ti, &l);
    printf("listener tcpi_state %d\n", ti.tcpi_state);
    fcntl(ls, F_SETFL, O_NONBLOCK);
    SHOW(accept(ls, NULL, NULL));
    fcntl(ls, F_SETFL, 0);
    char b[512];
    SHOW(recv(ls, b, 1, 0));
    SHOW(send(ls, "x", 1, MSG_NOSIGNAL));
    int v = 0;
    SHOW(ioctl(ls, FIONREAD, &v));
    SHOW(ioctl(ls, SIOCOUTQ, &v));

    /* blocking connect */
    int c = SHOWFD(connect_to(family, lp, 0));
    print_name("client getsockname", c, 0);
    print_name("client getpeername", c, 1);
    printf("client poll %#x\n", revents(c, ALL));
    l = sizeof(ti);
    getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &l);
    printf("client tcpi_state %d, TCP_MAXSEG > 1000 %s\n", ti.tcpi_state,
           YES(getopt_int(c, IPPROTO_TCP, TCP_MAXSEG) > 1000));
    /* the connection reaches the accept queue with the handshake's last ACK, which Linux may
     * still be processing on another CPU: wait for it */
    printf("listener poll with a connection waiting %#x\n", revents_wait(ls, POLLIN));
    SHOW(send(c, "early", 5, 0)); /* before accept */
    struct sockaddr_in6 pa;
    socklen_t pl = sizeof(pa);
    int a = SHOWFD(accept4(ls, SA(pa), &pl, SOCK_CLOEXEC | SOCK_NONBLOCK));
    printf("accept4 address length %u, cloexec %s, nonblock %s, peer port is the client's %s\n",
           (unsigned)pl, YES(fcntl(a, F_GETFD) & FD_CLOEXEC), YES(fcntl(a, F_GETFL) & O_NONBLOCK),
           YES(ntohs(pa.sin6_port) == port_of(c, 0)));
    print_name("accepted getsockname", a, 0);
    print_name("accepted getpeername", a, 1);
    printf("accepted SO_ACCEPTCONN %d\n", getopt_int(a, SOL_SOCKET, SO_ACCEPTCONN));
    SHOW(connect_to(family, lp, 0) >= 0); /* backlog 1 holds two; this one is accepted later */

    struct sockaddr_in6 dst;
    socklen_t dl = sizeof(dst);
    getpeername(c, SA(dst), &dl);
    SHOW(connect(c, SA(dst), dl));
    SHOW(listen(c, 5));
    SHOW(connect(ls, SA(dst), dl));
    SHOW(bind(c, SA(dst), dl));

    /* data */
    v = -1;
    SHOW(ioctl(a, FIONREAD, &v));
    printf("FIONREAD %d\n", v);
    SHOW(send(c, "-more", 5, 0));
    usleep(10000);
    SHOW(recv(a, b, sizeof(b), MSG_PEEK));
    SHOW(recv(a, b, 3, 0));
    SHOW(recv(a, NULL, 2, MSG_TRUNC)); /* TCP: the bytes are dropped */
    SHOW(recv(a, b, sizeof(b), 0));
    printf("got '%.5s'\n", b);
    SHOW(recv(a, b, sizeof(b), 0)); /* non-blocking: EAGAIN */
    SHOW(recv(a, b, sizeof(b), MSG_OOB));
    SHOW(read(a, b, 0));
    printf("accepted poll idle %#x\n", revents(a, ALL));
    v = -1;
    SHOW(ioctl(c, SIOCOUTQ, &v));
    printf("SIOCOUTQ %d\n", v);
    l = sizeof(ti);
    getsockopt(a, IPPROTO_TCP, TCP_INFO, &ti, &l);
    printf("accepted tcpi_state %d\n", ti.tcpi_state);
    /* sendto with an address on a connected socket: the address is ignored */
    SHOW(sendto(c, "to", 2, 0, SA(dst), dl));
    SHOW(recv(a, b, 2, MSG_WAITALL));
    /* writev and readv */
    struct iovec iv[2] = {{"ab", 2}, {"cd", 2}};
    SHOW(writev(c, iv, 2));
    char r1[3], r2[3];
    struct iovec rv[2] = {{r1, 1}, {r2, 3}};
    usleep(10000);
    SHOW(readv(a, rv, 2));

    /* MSG_WAITALL collects three writes of a thread */
    fcntl(a, F_SETFL, 0);
    pthread_t t;
    pthread_create(&t, NULL, writer_thread, &c);
    SHOW(recv(a, b, 300, MSG_WAITALL));
    pthread_join(t, NULL);
    printf("waitall got %c%c%c\n", b[0], b[100], b[299]);

    /* shutdown */
    SHOW(shutdown(c, 7));
    SHOW(shutdown(c, SHUT_WR));
    SHOW(recv(a, b, sizeof(b), 0));
    printf("after peer SHUT_WR poll %#x\n", revents(a, ALL));
    printf("after own SHUT_WR poll %#x\n", revents(c, ALL));
    l = sizeof(ti);
    getsockopt(a, IPPROTO_TCP, TCP_INFO, &ti, &l);
    printf("accepted tcpi_state %d\n", ti.tcpi_state);
    g_sigpipes = 0;
    SHOW(send(c, "x", 1, 0));
    printf("SIGPIPE %d\n", g_sigpipes);
    SHOW(send(a, "back", 4, 0));
    SHOW(recv(c, b, sizeof(b), 0));
    SHOW(shutdown(a, SHUT_WR));
    SHOW(recv(c, b, sizeof(b), 0));
    printf("both shut poll %#x %#x\n", revents(a, ALL), revents(c, ALL));
    l = sizeof(ti);
    getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &l);
    printf("client tcpi_state %d\n", ti.tcpi_state);
    print_name("getpeername after both shut", c, 1);
    close(c);
    close(a);

    /* the second connection waited in the backlog; its client closes without reading */
    a = accept(ls, NULL, NULL);
    SHOW(a >= 0);
    close(a);
    close(ls);
}

static void tcp_closing(int family)
{
    printf("== tcp closing, family %d\n", family);
    int lp;
    int ls = listener(family, 8, &lp);
    char b[64];
    struct tcp_info ti;
    socklen_t l;

    /* the peer closes: reads see the end; the first write goes, the reset comes back */
    int c = connect_to(family, lp, 0);
    int a = accept(ls, NULL, NULL);
    close(a);
    printf("after peer close poll %#x\n", revents_wait(c, POLLIN));
    l = sizeof(ti);
    getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &l);
    printf("tcpi_state %d\n", ti.tcpi_state);
    SHOW(recv(c, b, sizeof(b), 0));
    g_sigpipes = 0;
    SHOW(send(c, "x", 1, 0));
    printf("after the write poll %#x\n", revents_wait(c, POLLERR));
    SHOW(send(c, "x", 1, 0));
    printf("SIGPIPE %d\n", g_sigpipes);
    SHOW(send(c, "x", 1, MSG_NOSIGNAL));
    SHOW(write(c, "x", 1));
    printf("SIGPIPE %d\n", g_sigpipes);
    SHOW(recv(c, b, sizeof(b), 0));
    printf("closed poll %#x\n", revents(c, ALL));
    print_name("getpeername after the reset", c, 1);
    SHOW(shutdown(c, SHUT_RD));
    close(c);

    /* closing with unread data resets the peer: ECONNRESET once, then the end */
    c = connect_to(family, lp, 0);
    a = accept(ls, NULL, NULL);
    SHOW(send(c, "unread", 6, 0));
    SHOW(send(a, "for c", 5, 0));
    usleep(10000);
    close(a);
    printf("reset poll %#x\n", revents_wait(c, POLLERR));
    l = sizeof(ti);
    getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &l);
    printf("tcpi_state %d\n", ti.tcpi_state);
    SHOW(recv(c, b, sizeof(b), 0)); /* the data sent before the reset is still there */
    SHOW(recv(c, b, sizeof(b), 0));
    SHOW(recv(c, b, sizeof(b), 0));
    SHOW(send(c, "x", 1, MSG_NOSIGNAL));
    close(c);

    /* the reset taken by send */
    c = connect_to(family, lp, 0);
    a = accept(ls, NULL, NULL);
    SHOW(send(c, "unread", 6, 0));
    usleep(10000);
    close(a);
    revents_wait(c, POLLERR);
    g_sigpipes = 0;
    SHOW(send(c, "x", 1, 0));
    SHOW(send(c, "x", 1, 0));
    printf("SIGPIPE %d\n", g_sigpipes);
    close(c);

    /* SO_LINGER with 0 seconds: close resets */
    c = connect_to(family, lp, 0);
    a = accept(ls, NULL, NULL);
    struct linger lg = {1, 0};
    SHOW(setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
    close(a);
    printf("linger 0 poll %#x\n", revents_wait(c, POLLERR));
    SHOW(recv(c, b, sizeof(b), 0));
    close(c);

    /* AF_UNSPEC disconnects: a reset for the peer, SO_ERROR for itself */
    c = connect_to(family, lp, 0);
    a = accept(ls, NULL, NULL);
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    SHOW(connect(c, &un, sizeof(un)));
    printf("disconnected poll %#x\n", revents(c, ALL));
    printf("SO_ERROR %d\n", getopt_int(c, SOL_SOCKET, SO_ERROR));
    print_name("getpeername after AF_UNSPEC", c, 1);
    printf("peer poll %#x\n", revents_wait(a, POLLERR));
    SHOW(recv(a, b, sizeof(b), 0));
    close(a);
    /* and it may connect again */
    struct sockaddr_in6 dst;
    socklen_t dl;
    if (family == AF_INET) {
        struct sockaddr_in d4 = sin4(LO, (uint16_t)lp);
        memcpy(&dst, &d4, sizeof(d4));
        dl = sizeof(d4);
    } else {
        dst = sin6("::1", (uint16_t)lp);
        dl = sizeof(dst);
    }
    SHOW(connect(c, SA(dst), dl));
    a = accept(ls, NULL, NULL);
    SHOW(send(c, "again", 5, 0));
    SHOW(recv(a, b, sizeof(b), 0));
    close(a);
    close(c);

    /* the client closes before accept: the server still gets the data and the end */
    c = connect_to(family, lp, 0);
    SHOW(send(c, "bye", 3, 0));
    close(c);
    a = accept(ls, NULL, NULL);
    usleep(10000);
    SHOW(recv(a, b, sizeof(b), 0));
    SHOW(recv(a, b, sizeof(b), 0));
    close(a);

    /* a connection never accepted: its client is reset when the listener closes */
    c = connect_to(family, lp, 0);
    usleep(10000);
    close(ls);
    printf("listener gone poll %#x\n", revents_wait(c, POLLERR));
    SHOW(recv(c, b, sizeof(b), 0));
    SHOW(recv(c, b, sizeof(b), 0));
    close(c);
    /* nobody listens there now */
    c = socket(family, SOCK_STREAM, 0);
    SHOW(connect(c, SA(dst), dl));
    printf("refused poll %#x\n", revents(c, ALL));
    SHOW(connect(c, SA(dst), dl));
    close(c);
}

static void tcp_connects(void)
{
    printf("== tcp connect paths\n");
    int p = free_port(SOCK_STREAM);
    struct sockaddr_in a4 = sin4(LO, (uint16_t)p);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    SHOW(connect(c, SA(a4), 8));
    SHOW(connect(c, SA(a4), 1));
    a4.sin_family = AF_INET6;
    SHOW(connect(c, SA(a4), sizeof(a4)));
    a4 = sin4(0xe0000001, (uint16_t)p); /* multicast */
    SHOW(connect(c, SA(a4), sizeof(a4)));
    a4 = sin4(0xffffffff, (uint16_t)p);
    SHOW(connect(c, SA(a4), sizeof(a4)));
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    SHOW(connect(c, &un, sizeof(un)));
    SHOW(send(c, "x", 1, MSG_NOSIGNAL));
    g_sigpipes = 0;
    SHOW(send(c, "x", 1, 0));
    printf("SIGPIPE %d\n", g_sigpipes);
    SHOW(recv(c, &p, 1, MSG_DONTWAIT));
    SHOW(shutdown(c, SHUT_RDWR));
    printf("after shutdown of an unconnected socket poll %#x\n", revents(c, ALL));
    SHOW(recv(c, &p, 1, 0));
    close(c);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = sin6("ff02::1", (uint16_t)p);
    SHOW(connect(c, SA(a6), sizeof(a6)));
    a6 = sin6("::1", (uint16_t)p);
    SHOW(connect(c, SA(a6), 20));
    close(c);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    setopt_int(c, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    a6 = sin6("::ffff:127.0.0.1", (uint16_t)p);
    SHOW(connect(c, SA(a6), sizeof(a6)));
    close(c);

    /* non-blocking: EINPROGRESS, then writable and SO_ERROR 0; a second connect says 0, a
     * third EISCONN */
    int lp;
    int ls = listener(AF_INET, 0, &lp);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    a4 = sin4(LO, (uint16_t)lp);
    SHOW(connect(c, SA(a4), sizeof(a4)));
    printf("in progress poll %#x\n", revents_wait(c, POLLOUT));
    printf("SO_ERROR %d\n", getopt_int(c, SOL_SOCKET, SO_ERROR));
    SHOW(connect(c, SA(a4), sizeof(a4)));
    SHOW(connect(c, SA(a4), sizeof(a4)));
    /* the accept queue is full now (backlog 0 holds one): the next SYN waits */
    int c2 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SHOW(connect(c2, SA(a4), sizeof(a4)));
    printf("waiting poll %#x\n", revents(c2, ALL));
    SHOW(connect(c2, SA(a4), sizeof(a4)));
    SHOW(send(c2, "x", 1, 0));
    print_name("waiting getpeername", c2, 1);
    SHOW(shutdown(c2, SHUT_RDWR));
    close(c2);
    close(c);
    close(ls);

    /* non-blocking, refused: EINPROGRESS, then POLLERR with SO_ERROR ECONNREFUSED */
    c = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    a6 = sin6("::1", (uint16_t)lp);
    SHOW(connect(c, SA(a6), sizeof(a6)));
    printf("refused poll %#x\n", revents_wait(c, POLLOUT));
    printf("SO_ERROR %d\n", getopt_int(c, SOL_SOCKET, SO_ERROR));
    printf("poll after SO_ERROR %#x\n", revents(c, ALL));
    SHOW(connect(c, SA(a6), sizeof(a6)));
    printf("poll after connect %#x\n", revents(c, ALL));
    SHOW(connect(c, SA(a6), sizeof(a6)));
    close(c);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    a4 = sin4(LO, (uint16_t)lp);
    SHOW(connect(c, SA(a4), sizeof(a4)));
    revents_wait(c, POLLOUT);
    SHOW(connect(c, SA(a4), sizeof(a4))); /* the error not taken: the second says it */
    close(c);

    /* 0.0.0.0 and :: mean loopback */
    ls = listener(AF_INET, 4, &lp);
    c = socket(AF_INET, SOCK_STREAM, 0);
    a4 = sin4(ANY4, (uint16_t)lp);
    SHOW(connect(c, SA(a4), sizeof(a4)));
    print_name("connected to 0.0.0.0: peer", c, 1);
    close(c);
    close(ls);
    ls = listener(AF_INET6, 4, &lp);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    a6 = sin6("::", (uint16_t)lp);
    SHOW(connect(c, SA(a6), sizeof(a6)));
    print_name("connected to ::: peer", c, 1);
    close(c);
    close(ls);
}

static void dual_stack(void)
{
    printf("== dual stack\n");
    int p = free_port(SOCK_STREAM);
    int ls = bound(AF_INET6, SOCK_STREAM, "::", p, 0, 0, 0);
    listen(ls, 4);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a4 = sin4(LO, (uint16_t)p);
    SHOW(connect(c, SA(a4), sizeof(a4)));
    struct sockaddr_in6 pa;
    socklen_t pl = sizeof(pa);
    int a = accept(ls, SA(pa), &pl);
    char buf[64];
    inet_ntop(AF_INET6, &pa.sin6_addr, buf, sizeof(buf));
    printf("a v4 client as a v6 listener sees it: len %u family %d %s\n", (unsigned)pl,
           pa.sin6_family, buf);
    print_name("accepted getsockname", a, 0);
    SHOW(send(c, "v4", 2, 0));
    SHOW(recv(a, buf, sizeof(buf), 0));
    close(a);
    close(c);
    /* a v6 client on ::1 */
    c = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = sin6("::1", (uint16_t)p);
    SHOW(connect(c, SA(a6), sizeof(a6)));
    a = accept(ls, NULL, NULL);
    print_name("v6 client, accepted getpeername", a, 1);
    close(a);
    close(c);
    /* a v6 client to a v4-mapped address is v4 traffic */
    c = socket(AF_INET6, SOCK_STREAM, 0);
    a6 = sin6("::ffff:127.0.0.1", (uint16_t)p);
    SHOW(connect(c, SA(a6), sizeof(a6)));
    print_name("v6 client to a mapped address, getsockname", c, 0);
    a = accept(ls, NULL, NULL);
    print_name("  accepted getpeername", a, 1);
    close(a);
    close(c);
    close(ls);
    /* IPV6_V6ONLY listener: v4 is refused (another port: Linux keeps the server's ends of the
     * connections above in TIME_WAIT) */
    p = free_port(SOCK_STREAM);
    a4 = sin4(LO, (uint16_t)p);
    ls = bound(AF_INET6, SOCK_STREAM, "::", p, 0, 0, 1);
    listen(ls, 4);
    c = socket(AF_INET, SOCK_STREAM, 0);
    SHOW(connect(c, SA(a4), sizeof(a4)));
    close(c);
    /* a v4 listener next to it on the same port */
    int l4 = bound(AF_INET, SOCK_STREAM, "127.0.0.1", p, 0, 0, 0);
    listen(l4, 4);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    a6 = sin6("::ffff:127.0.0.1", (uint16_t)p);
    SHOW(connect(c, SA(a6), sizeof(a6)));
    a = accept(l4, SA(pa), &pl);
    printf("the v4 listener took it: %s, address length %u\n", YES(a >= 0), (unsigned)pl);
    close(a);
    close(c);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    a6 = sin6("::1", (uint16_t)p);
    SHOW(connect(c, SA(a6), sizeof(a6)));
    pl = sizeof(pa);
    a = accept(ls, SA(pa), &pl);
    printf("the v6 listener took ::1: %s, address length %u\n", YES(a >= 0), (unsigned)pl);
    close(a);
    close(c);
    close(l4);
    close(ls);
}

/* ---- big streams: threads and processes ---- */

static unsigned fill_pattern(char *b, size_t n, int i)
{
    unsigned sum = 0;
    for (size_t j = 0; j < n; j++) {
        b[j] = (char)(i * 31 + j * 7);
        sum += (unsigned char)b[j];
    }
    return sum;
}

static void *big_writer(void *arg)
{
    int fd = *(int *)arg;
    static char b[65536];
    unsigned sum = 0;
    for (int i = 0; i < 32; i++) {
        sum += fill_pattern(b, sizeof(b), i);
        size_t off = 0;
        while (off < sizeof(b)) {
            ssize_t w = write(fd, b + off, sizeof(b) - off);
            if (w <= 0)
                return NULL;
            off += (size_t)w;
        }
    }
    shutdown(fd, SHUT_WR);
    return (void *)(uintptr_t)sum;
}

static long drain_sum(int fd, unsigned *sum)
{
    static char rb[10000];
    long total = 0;
    *sum = 0;
    for (;;) {
        ssize_t r = read(fd, rb, sizeof(rb));
        if (r <= 0)
            break;
        total += r;
        for (ssize_t j = 0; j < r; j++)
            *sum += (unsigned char)rb[j];
    }
    return total;
}

static long fill(int fd)
{
    static char b[4096];
    long total = 0;
    for (;;) {
        ssize_t w = send(fd, b, sizeof(b), MSG_DONTWAIT);
        if (w < 0)
            return errno == EAGAIN ? total : -errno;
        total += w;
    }
}

static void big_streams(void)
{
    printf("== big streams\n");
    int lp;
    int ls = listener(AF_INET, 4, &lp);
    int c = connect_to(AF_INET, lp, 0);
    int a = accept(ls, NULL, NULL);
    pthread_t t;
    pthread_create(&t, NULL, big_writer, &c);
    unsigned sum;
    long total = drain_sum(a, &sum);
    void *ws;
    pthread_join(t, &ws);
    printf("tcp stream from a thread: %ld bytes, checksum matches %s\n", total,
           YES(sum == (unsigned)(uintptr_t)ws));
    close(a);
    close(c);
    close(ls);

    /* between processes over ::1: the child writes, the parent reads and answers */
    ls = listener(AF_INET6, 4, &lp);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int cc = connect_to(AF_INET6, lp, 0);
        static char b[65536];
        unsigned s = 0;
        for (int i = 0; i < 32; i++) {
            s += fill_pattern(b, sizeof(b), i);
            size_t off = 0;
            while (off < sizeof(b)) {
                ssize_t w = write(cc, b + off, sizeof(b) - off);
                if (w <= 0)
                    _exit(10);
                off += (size_t)w;
            }
        }
        shutdown(cc, SHUT_WR);
        unsigned back;
        if (read(cc, &back, sizeof(back)) != sizeof(back))
            _exit(11);
        _exit(back == s ? 0 : 12);
    }
    a = accept(ls, NULL, NULL);
    total = drain_sum(a, &sum);
    write(a, &sum, sizeof(sum));
    int st;
    waitpid(pid, &st, 0);
    printf("tcp stream from a child over ::1: %ld bytes, child says checksum matches %s\n", total,
           YES(WIFEXITED(st) && WEXITSTATUS(st) == 0));
    close(a);
    close(ls);

    /* buffers: a full send buffer is not writable; draining makes it so */
    ls = listener(AF_INET, 4, &lp);
    c = connect_to(AF_INET, lp, 0);
    a = accept(ls, NULL, NULL);
    long big = fill(c);
    printf("default buffers took > 100000: %s\n", YES(big > 100000));
    printf("full poll %#x\n", revents(c, POLLOUT));
    int v = 0;
    ioctl(a, FIONREAD, &v);
    printf("FIONREAD > 0 %s\n", YES(v > 0));
    static char rb[65536];
    long got = 0;
    while (got < big) {
        ssize_t r = recv(a, rb, sizeof(rb), 0);
        if (r <= 0)
            break;
        got += r;
    }
    printf("read it all back %s\n", YES(got == big));
    printf("drained poll %#x\n", revents_wait(c, POLLOUT));
    close(a);
    close(c);
    /* small buffers take less */
    c = socket(AF_INET, SOCK_STREAM, 0);
    setopt_int(c, SOL_SOCKET, SO_SNDBUF, 4096);
    setopt_int(ls, SOL_SOCKET, SO_RCVBUF, 4096);
    struct sockaddr_in a4 = sin4(LO, (uint16_t)lp);
    connect(c, SA(a4), sizeof(a4));
    a = accept(ls, NULL, NULL);
    long small = fill(c);
    printf("small buffers took > 0: %s, < 100000: %s\n", YES(small > 0), YES(small < 100000));
    close(a);
    close(c);
    close(ls);
}

/* ---- an epoll server with forked clients ---- */

static void epoll_server(void)
{
    printf("== epoll server\n");
    int lp;
    int ls = listener(AF_INET, 8, &lp);
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        fflush(stdout);
        pids[i] = fork();
        if (pids[i] == 0) {
            int c = connect_to(i == 1 ? AF_INET6 : AF_INET, lp, 0);
            if (c < 0) {
                /* the listener is v4: a v6 client goes to the mapped address */
                c = socket(AF_INET6, SOCK_STREAM, 0);
                struct sockaddr_in6 a6 = sin6("::ffff:127.0.0.1", (uint16_t)lp);
                if (connect(c, SA(a6), sizeof(a6)) < 0)
                    _exit(10);
            }
            char b[32];
            int n = snprintf(b, sizeof(b), "child %d", i);
            if (write(c, b, (size_t)n) != n)
                _exit(11);
            char r[32];
            ssize_t got = read(c, r, sizeof(r));
            _exit(got == n && !memcmp(r, b, (size_t)n) ? 0 : 12);
        }
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    int served = 0;
    while (served < 3) {
        struct epoll_event out[4];
        int n = epoll_wait(ep, out, 4, 10000);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++) {
            if (out[i].data.fd == ls) {
                int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
                struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
            } else {
                char b[64];
                ssize_t r = read(out[i].data.fd, b, sizeof(b));
                if (r > 0) {
                    write(out[i].data.fd, b, (size_t)r);
                } else if (r == 0 || errno != EAGAIN) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, out[i].data.fd, NULL);
                    close(out[i].data.fd);
                    served++;
                }
            }
        }
    }
    for (int i = 0; i < 3; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        printf("echo child %d: exit %d\n", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    printf("served %d\n", served);
    close(ep);
    close(ls);

    /* edge-triggered epoll on a connection */
    ls = listener(AF_INET, 8, &lp);
    int c = connect_to(AF_INET, lp, 0);
    int a = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
    ep = epoll_create1(0);
    struct epoll_event e2 = {.events = EPOLLIN | EPOLLET | EPOLLRDHUP, .data.fd = a};
    epoll_ctl(ep, EPOLL_CTL_ADD, a, &e2);
    struct epoll_event out[2];
    SHOW(epoll_wait(ep, out, 2, 0));
    send(c, "1", 1, 0);
    SHOW(epoll_wait(ep, out, 2, 1000));
    SHOW(epoll_wait(ep, out, 2, 0)); /* edge: once */
    send(c, "2", 1, 0);
    SHOW(epoll_wait(ep, out, 2, 1000));
    close(c);
    SHOW(epoll_wait(ep, out, 2, 1000));
    printf("events after close %#x\n", out[0].events);
    close(ep);
    close(a);
    close(ls);
}

/* ---- UDP ---- */

static void udp(void)
{
    printf("== udp\n");
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = sin4(LO, 0);
    SHOW(bind(r, SA(a), sizeof(a)));
    int rp = port_of(r, 0);
    a = sin4(LO, (uint16_t)rp);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    print_name("unbound sender getsockname", s, 0);
    SHOW(sendto(s, "one", 3, 0, SA(a), sizeof(a)));
    print_name("sender after sendto getsockname", s, 0);
    SHOW(sendto(s, "", 0, 0, SA(a), sizeof(a)));
    SHOW(sendto(s, "three33", 7, 0, SA(a), sizeof(a)));
    int v = -1;
    SHOW(ioctl(r, FIONREAD, &v));
    printf("FIONREAD %d\n", v);
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    char b[70000];
    SHOW(recvfrom(r, b, sizeof(b), 0, SA(from), &fl));
    printf("from: len %u family %d is the sender's port %s\n", (unsigned)fl, from.sin_family,
           YES(ntohs(from.sin_port) == port_of(s, 0)));
    SHOW(recv(r, b, sizeof(b), 0));
    struct iovec iov = {b, 2};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    SHOW(recvmsg(r, &m, MSG_PEEK));
    printf("peek flags MSG_TRUNC %s\n", YES(m.msg_flags & MSG_TRUNC));
    SHOW(recvmsg(r, &m, MSG_TRUNC));
    printf("flags MSG_TRUNC %s\n", YES(m.msg_flags & MSG_TRUNC));
    SHOW(recv(r, b, sizeof(b), MSG_DONTWAIT));
    SHOW(ioctl(r, FIONREAD, &v));
    printf("FIONREAD %d\n", v);
    printf("idle poll %#x\n", revents(r, ALL));

    /* sizes */
    SHOW(sendto(s, b, 65507, 0, SA(a), sizeof(a)));
    SHOW(sendto(s, b, 65508, 0, SA(a), sizeof(a)));
    SHOW(sendto(s, b, 70000, 0, SA(a), sizeof(a)));
    SHOW(recv(r, b, sizeof(b), 0));
    /* address errors */
    SHOW(send(s, "x", 1, 0));
    SHOW(sendto(s, "x", 1, 0, SA(a), 8));
    struct sockaddr_in z = sin4(LO, 0);
    SHOW(sendto(s, "x", 1, 0, SA(z), sizeof(z)));
    z.sin_family = AF_INET6;
    SHOW(sendto(s, "x", 1, 0, SA(z), sizeof(z)));
    struct sockaddr_in us = a;
    us.sin_family = AF_UNSPEC;
    SHOW(sendto(s, "u", 1, 0, SA(us), sizeof(us))); /* AF_UNSPEC counts as AF_INET */
    SHOW(recv(r, b, sizeof(b), 0));
    SHOW(listen(s, 1));
    SHOW(accept(s, NULL, NULL));
    SHOW(getpeername(s, SA(z), &fl));
    SHOW(shutdown(s, SHUT_WR)); /* ENOTCONN, and yet sends end */
    g_sigpipes = 0;
    SHOW(sendto(s, "x", 1, 0, SA(a), sizeof(a)));
    printf("SIGPIPE %d\n", g_sigpipes);
    close(s);
    s = socket(AF_INET, SOCK_DGRAM, 0);

    /* connected */
    SHOW(connect(s, SA(a), sizeof(a)));
    print_name("connected getsockname", s, 0);
    print_name("connected getpeername", s, 1);
    SHOW(send(s, "conn", 4, 0));
    SHOW(recv(r, b, sizeof(b), 0));
    /* a connected socket hears only its peer */
    int o = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    getsockname(s, SA(sa), &sl);
    SHOW(sendto(o, "stranger", 8, 0, SA(sa), sizeof(sa)));
    SHOW(sendto(r, "peer", 4, 0, SA(sa), sizeof(sa)));
    usleep(10000);
    SHOW(recv(s, b, sizeof(b), MSG_DONTWAIT));
    SHOW(recv(s, b, sizeof(b), MSG_DONTWAIT));
    close(o);
    /* AF_UNSPEC disconnects and gives back the port it took */
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    SHOW(connect(s, &un, sizeof(un)));
    print_name("disconnected getsockname", s, 0);
    print_name("disconnected getpeername", s, 1);
    SHOW(send(s, "x", 1, 0));
    close(s);

    /* nobody at the destination: a connected sender hears ECONNREFUSED on its next call */
    int p = free_port(SOCK_DGRAM);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in nob = sin4(LO, (uint16_t)p);
    SHOW(connect(s, SA(nob), sizeof(nob)));
    SHOW(send(s, "x", 1, 0));
    printf("poll %#x\n", revents_wait(s, POLLIN));
    SHOW(send(s, "x", 1, 0));
    SHOW(send(s, "x", 1, 0));
    revents_wait(s, POLLIN);
    SHOW(recv(s, b, sizeof(b), MSG_DONTWAIT));
    SHOW(recv(s, b, sizeof(b), MSG_DONTWAIT));
    SHOW(send(s, "x", 1, 0));
    revents_wait(s, POLLIN);
    printf("SO_ERROR %d\n", getopt_int(s, SOL_SOCKET, SO_ERROR));
    printf("poll %#x\n", revents(s, ALL));
    close(s);
    /* an unconnected sender hears nothing */
    s = socket(AF_INET, SOCK_DGRAM, 0);
    SHOW(sendto(s, "x", 1, 0, SA(nob), sizeof(nob)));
    usleep(10000);
    printf("unconnected poll %#x\n", revents(s, ALL));
    close(s);

    /* shutdown(SHUT_RD) of a connected socket: reads end */
    s = socket(AF_INET, SOCK_DGRAM, 0);
    connect(s, SA(a), sizeof(a));
    SHOW(shutdown(s, SHUT_RD));
    SHOW(recv(s, b, sizeof(b), 0));
    SHOW(recv(s, b, sizeof(b), MSG_DONTWAIT));
    printf("shut poll %#x\n", revents(s, ALL));
    close(s);

    /* the receive queue is bounded: what does not fit is dropped */
    s = socket(AF_INET, SOCK_DGRAM, 0);
    int sent = 0;
    for (int i = 0; i < 2000; i++)
        if (sendto(s, b, 1000, MSG_DONTWAIT, SA(a), sizeof(a)) == 1000)
            sent++;
    int queued = 0;
    while (recv(r, b, sizeof(b), MSG_DONTWAIT) == 1000)
        queued++;
    printf("sent all %s, queued > 50 %s, queued fewer than sent %s\n", YES(sent == 2000),
           YES(queued > 50), YES(queued < sent));
    close(s);
    close(r);

    /* v6: a v4 sender seen by a v6 socket; the v6 size limit */
    int r6 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 b6 = sin6("::", 0);
    bind(r6, SA(b6), sizeof(b6));
    int p6 = port_of(r6, 0);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    a = sin4(LO, (uint16_t)p6);
    SHOW(sendto(s, "from v4", 7, 0, SA(a), sizeof(a)));
    struct sockaddr_in6 f6;
    fl = sizeof(f6);
    SHOW(recvfrom(r6, b, sizeof(b), 0, SA(f6), &fl));
    char buf[64];
    inet_ntop(AF_INET6, &f6.sin6_addr, buf, sizeof(buf));
    printf("v6 socket sees a v4 sender: len %u family %d %s\n", (unsigned)fl, f6.sin6_family, buf);
    close(s);
    s = socket(AF_INET6, SOCK_DGRAM, 0);
    b6 = sin6("::1", (uint16_t)p6);
    SHOW(sendto(s, b, 65527, 0, SA(b6), sizeof(b6)));
    SHOW(sendto(s, b, 65528, 0, SA(b6), sizeof(b6)));
    SHOW(recv(r6, b, sizeof(b), 0));
    b6 = sin6("::ffff:127.0.0.1", (uint16_t)p6);
    SHOW(sendto(s, b, 65508, 0, SA(b6), sizeof(b6)));
    SHOW(sendto(s, "m", 1, 0, SA(b6), sizeof(b6)));
    fl = sizeof(f6);
    SHOW(recvfrom(r6, b, sizeof(b), 0, SA(f6), &fl));
    inet_ntop(AF_INET6, &f6.sin6_addr, buf, sizeof(buf));
    printf("  from %s\n", buf);
    a = sin4(LO, (uint16_t)p6);
    SHOW(sendto(s, "4", 1, 0, SA(a), sizeof(a))); /* a sockaddr_in to a v6 socket */
    SHOW(recv(r6, b, sizeof(b), 0));
    b6 = sin6("::1", 0);
    SHOW(sendto(s, "x", 1, 0, SA(b6), sizeof(b6)));
    SHOW(sendto(s, "x", 1, 0, SA(b6), 20));
    b6.sin6_family = 99;
    SHOW(sendto(s, "x", 1, 0, SA(b6), sizeof(b6)));
    SHOW(setopt_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 1)); /* bound by the sends already */
    close(s);
    s = socket(AF_INET6, SOCK_DGRAM, 0);
    setopt_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    b6 = sin6("::ffff:127.0.0.1", (uint16_t)p6);
    SHOW(sendto(s, "x", 1, 0, SA(b6), sizeof(b6)));
    SHOW(connect(s, SA(b6), sizeof(b6)));
    SHOW(connect(s, SA(a), sizeof(a)));
    close(s);
    close(r6);

    /* sendmmsg and recvmmsg */
    r = socket(AF_INET, SOCK_DGRAM, 0);
    a = sin4(LO, 0);
    bind(r, SA(a), sizeof(a));
    a = sin4(LO, (uint16_t)port_of(r, 0));
    s = socket(AF_INET, SOCK_DGRAM, 0);
    connect(s, SA(a), sizeof(a));
    struct mmsghdr mm[3];
    struct iovec mv[3] = {{"a", 1}, {"bb", 2}, {"ccc", 3}};
    memset(mm, 0, sizeof(mm));
    for (int i = 0; i < 3; i++) {
        mm[i].msg_hdr.msg_iov = &mv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    SHOW(sendmmsg(s, mm, 3, 0));
    printf("sent lengths %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
    char rbuf[4][8];
    struct iovec rvv[4];
    struct mmsghdr rm[4];
    memset(rm, 0, sizeof(rm));
    for (int i = 0; i < 4; i++) {
        rvv[i].iov_base = rbuf[i];
        rvv[i].iov_len = 8;
        rm[i].msg_hdr.msg_iov = &rvv[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    SHOW(recvmmsg(r, rm, 4, MSG_WAITFORONE, NULL));
    printf("received lengths %u %u %u\n", rm[0].msg_len, rm[1].msg_len, rm[2].msg_len);
    SHOW(recvmmsg(r, rm, 4, MSG_DONTWAIT, NULL));
    close(s);
    close(r);
}

static void udp_processes(void)
{
    printf("== udp request and response\n");
    int srv = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = sin6("::1", 0);
    bind(srv, SA(a), sizeof(a));
    a = sin6("::1", (uint16_t)port_of(srv, 0));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_INET6, SOCK_DGRAM, 0);
        struct timeval tv = {5, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        for (int i = 0; i < 20; i++) {
            char q[32], rsp[64];
            int n = snprintf(q, sizeof(q), "request %d", i);
            if (sendto(c, q, (size_t)n, 0, SA(a), sizeof(a)) != n)
                _exit(10);
            ssize_t got = recv(c, rsp, sizeof(rsp), 0);
            char want[64];
            int wn = snprintf(want, sizeof(want), "answer to %s", q);
            if (got != wn || memcmp(rsp, want, (size_t)wn))
                _exit(11);
        }
        sendto(c, "end", 3, 0, SA(a), sizeof(a));
        _exit(0);
    }
    int answered = 0;
    for (;;) {
        char q[64], rsp[96];
        struct sockaddr_in6 from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(srv, q, sizeof(q) - 1, 0, SA(from), &fl);
        if (n <= 0)
            break;
        q[n] = 0;
        if (!strcmp(q, "end"))
            break;
        int rn = snprintf(rsp, sizeof(rsp), "answer to %s", q);
        sendto(srv, rsp, (size_t)rn, 0, SA(from), fl);
        answered++;
    }
    int st;
    waitpid(pid, &st, 0);
    printf("answered %d, child exit %d\n", answered, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    close(srv);
}

/* ---- blocking, timeouts, signals ("inet_sock more") ---- */

struct conn_arg {
    int ls;
    int fd;
};

static void *accept_later(void *arg)
{
    struct conn_arg *ca = arg;
    usleep(50000);
    int c = accept(ca->ls, NULL, NULL);
    return (void *)(intptr_t)(c >= 0);
}

/* reads until the writer's last bytes, "after", come */
static void *read_later(void *arg)
{
    int fd = *(int *)arg;
    usleep(50000);
    static char b[1 << 16];
    char tail[5] = {0};
    for (;;) {
        ssize_t r = recv(fd, b, sizeof(b), 0);
        if (r <= 0)
            return NULL;
        for (ssize_t i = 0; i < r; i++) {
            memmove(tail, tail + 1, 4);
            tail[4] = b[i];
        }
        if (!memcmp(tail, "after", 5))
            return (void *)1;
    }
}

static void *send_later(void *arg)
{
    int fd = *(int *)arg;
    usleep(50000);
    return (void *)(intptr_t)send(fd, "late", 4, 0);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void more(void)
{
    /* a blocking accept that a connect from a thread ends */
    int lp;
    int ls = listener(AF_INET, 0, &lp);
    int c1 = connect_to(AF_INET, lp, 0); /* the backlog is full now */
    pthread_t t;
    struct conn_arg ca = {ls, -1};
    pthread_create(&t, NULL, accept_later, &ca);
    int c2 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a4 = sin4(LO, (uint16_t)lp);
    SHOW(connect(c2, SA(a4), sizeof(a4))); /* waits until the thread accepts */
    void *ok;
    pthread_join(t, &ok);
    printf("accepted by the thread %s\n", YES(ok));
    /* SO_SNDTIMEO on a full backlog: EINPROGRESS, the connect goes on */
    int c3 = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {0, 100000};
    setsockopt(c3, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SHOW(connect(c3, SA(a4), sizeof(a4)));
    SHOW(connect(c3, SA(a4), sizeof(a4)));
    close(c1);
    close(c2);
    close(c3);
    close(ls);

    /* SO_RCVTIMEO; a signal interrupts a blocking recv (no SA_RESTART) */
    ls = listener(AF_INET6, 4, &lp);
    int c = connect_to(AF_INET6, lp, 0);
    int a = accept(ls, NULL, NULL);
    setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char b[64];
    SHOW(recv(a, b, sizeof(b), 0));
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct timeval none = {0, 0};
    setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
    alarm(1);
    SHOW(recv(a, b, sizeof(b), 0));
    /* a blocked recv that a thread's send ends */
    pthread_create(&t, NULL, send_later, &c);
    SHOW(recv(a, b, sizeof(b), 0));
    pthread_join(t, &ok);
    /* shutdown(SHUT_RD): reads see the end at once */
    SHOW(shutdown(a, SHUT_RD));
    SHOW(recv(a, b, sizeof(b), 0));
    printf("after SHUT_RD poll %#x\n", revents(a, ALL));
    /* a writer blocked on a full buffer goes on when a thread reads (fixed buffer sizes: no
     * autotuning) */
    close(a);
    close(c);
    c = connect_to(AF_INET6, lp, 0);
    a = accept(ls, NULL, NULL);
    setopt_int(c, SOL_SOCKET, SO_SNDBUF, 4096);
    setopt_int(a, SOL_SOCKET, SO_RCVBUF, 4096);
    fill(c);
    pthread_create(&t, NULL, read_later, &a);
    SHOW(send(c, "after", 5, 0));
    pthread_join(t, &ok);
    printf("the thread drained it %s\n", YES(ok));
    /* SO_SNDTIMEO on a full buffer (filled twice: the acknowledgements of the first fill may
     * still be on their way) */
    fill(c);
    usleep(100000);
    fill(c);
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SHOW(send(c, "x", 1, 0));
    close(a);
    close(c);
    close(ls);

    /* a blocking accept that a thread's connect ends; select */
    ls = listener(AF_INET, 4, &lp);
    c = socket(AF_INET, SOCK_STREAM, 0);
    fd_set rf, wf;
    FD_ZERO(&rf);
    FD_ZERO(&wf);
    FD_SET(ls, &rf);
    FD_SET(c, &wf);
    struct timeval zero = {0, 0};
    SHOW(select((ls > c ? ls : c) + 1, &rf, &wf, NULL, &zero));
    printf("select listener readable %s, unconnected writable %s\n", YES(FD_ISSET(ls, &rf)),
           YES(FD_ISSET(c, &wf)));
    a4 = sin4(LO, (uint16_t)lp);
    connect(c, SA(a4), sizeof(a4));
    FD_ZERO(&rf);
    FD_SET(ls, &rf);
    SHOW(select(ls + 1, &rf, NULL, NULL, &zero));
    close(c);
    close(ls);

    /* a UDP receiver blocked until a thread sends */
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    a4 = sin4(LO, 0);
    bind(r, SA(a4), sizeof(a4));
    a4 = sin4(LO, (uint16_t)port_of(r, 0));
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    connect(s, SA(a4), sizeof(a4));
    pthread_create(&t, NULL, send_later, &s);
    SHOW(recv(r, b, sizeof(b), 0));
    pthread_join(t, &ok);
    setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    SHOW(recv(r, b, sizeof(b), 0));
    close(s);
    close(r);
    printf("more done\n");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, on_sigpipe);
    if (argc > 1 && !strcmp(argv[1], "more")) {
        more();
        return 0;
    }
    types();
    binds();
    ports();
    tcp_basics(AF_INET);
    tcp_basics(AF_INET6);
    tcp_closing(AF_INET);
    tcp_closing(AF_INET6);
    tcp_connects();
    dual_stack();
    big_streams();
    epoll_server();
    udp();
    udp_processes();
    printf("done\n");
    return 0;
}
