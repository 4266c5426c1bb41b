/* unix_sock.c: AF_UNIX sockets as Linux has them, between threads and between processes:
 * socket types and their options, names (paths, abstract names, autobind) and their address
 * lengths, stream connections (listen, backlog, accept4, shutdown, EPIPE and SIGPIPE,
 * ECONNRESET), datagrams and seqpackets (boundaries, MSG_TRUNC, the queue limit), MSG_PEEK,
 * MSG_DONTWAIT and MSG_WAITALL, SCM_RIGHTS and SCM_CREDENTIALS (MSG_CTRUNC,
 * MSG_CMSG_CLOEXEC, sockets in flight, cycles), SO_PEERCRED, buffer limits, readiness for
 * poll and epoll, connect's permission check, and errnos for the errors. It prints facts, never
 * addresses, pids or buffer sizes that differ between kernels, so that its output natively and
 * in an enclave is the same. It works in a fresh directory under /tmp. "unix_sock more" checks
 * waits instead: blocked connects, senders and writers that a thread releases, timeouts,
 * signals, select. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

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

static int *volatile bad_ptr = (int *)8; /* nothing is mapped there */
static volatile int g_sigpipes;
static void on_sigpipe(int sig)
{
    (void)sig;
    g_sigpipes++;
}

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
}

/* an abstract name: a NUL, then name (its length counts, no NUL at the end) */
static socklen_t abs_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static int getopt_int(int fd, int name)
{
    int v = -1;
    socklen_t l = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, name, &v, &l) < 0)
        return -errno;
    return v;
}

static void print_name(const char *what, int fd, int peer)
{
    struct sockaddr_un a;
    memset(&a, 0x55, sizeof(a));
    socklen_t l = sizeof(a);
    int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l)
                 : getsockname(fd, (struct sockaddr *)&a, &l);
    if (r < 0) {
        printf("%s: errno %d\n", what, errno);
        return;
    }
    if (l <= offsetof(struct sockaddr_un, sun_path))
        printf("%s: len %u family %d (unnamed)\n", what, (unsigned)l, a.sun_family);
    else if (a.sun_path[0])
        printf("%s: len %u path '%s'\n", what, (unsigned)l, a.sun_path);
    else
        printf("%s: len %u abstract '%.*s'\n", what, (unsigned)l,
               (int)(l - offsetof(struct sockaddr_un, sun_path) - 1), a.sun_path + 1);
}

static short revents(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

/* ---- types and options ---- */

static void types(void)
{
    int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW};
    for (int i = 0; i < 4; i++) {
        int fd = socket(AF_UNIX, types[i], 0);
        printf("type %d: SO_TYPE %d SO_DOMAIN %d SO_PROTOCOL %d SO_ACCEPTCONN %d SO_ERROR %d\n",
               types[i], getopt_int(fd, SO_TYPE), getopt_int(fd, SO_DOMAIN),
               getopt_int(fd, SO_PROTOCOL), getopt_int(fd, SO_ACCEPTCONN),
               getopt_int(fd, SO_ERROR));
        close(fd);
    }
    SHOW(socket(AF_UNIX, 4, 0));
    SHOW(socket(AF_UNIX, SOCK_STREAM, 2));
    int fd = SHOWFD(socket(AF_UNIX, SOCK_STREAM, PF_UNIX));
    close(fd);
    SHOW(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0));
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, bad_ptr));
    int sv[2];
    SHOW(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
    printf("pair nonblock %s cloexec %s\n", YES(fcntl(sv[0], F_GETFL) & O_NONBLOCK),
           YES(fcntl(sv[1], F_GETFD) & FD_CLOEXEC));
    struct stat st;
    fstat(sv[0], &st);
    printf("fstat S_ISSOCK %s\n", YES(S_ISSOCK(st.st_mode)));
    printf("default SO_SNDBUF %d SO_RCVBUF %d SO_PASSCRED %d\n", getopt_int(sv[0], SO_SNDBUF),
           getopt_int(sv[0], SO_RCVBUF), getopt_int(sv[0], SO_PASSCRED));
    int v = 10000;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    v = 1;
    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v));
    printf("set SO_SNDBUF %d SO_RCVBUF %d SO_PASSCRED %d\n", getopt_int(sv[0], SO_SNDBUF),
           getopt_int(sv[0], SO_RCVBUF), getopt_int(sv[0], SO_PASSCRED));
    struct ucred c;
    socklen_t l = sizeof(c);
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &c, &l));
    printf("pair SO_PEERCRED len %u pid is mine %s uid %s gid %s\n", (unsigned)l,
           YES(c.pid == getpid()), YES(c.uid == geteuid()), YES(c.gid == getegid()));
    SHOW(getsockopt(sv[0], 0 /* SOL_IP */, 1, &v, &l));
    SHOW(setsockopt(sv[0], 0 /* SOL_IP */, 1, &v, sizeof(v)));
    SHOW(getsockopt(sv[0], SOL_SOCKET, 9999, &v, &l));
    print_name("pair getsockname", sv[0], 0);
    print_name("pair getpeername", sv[0], 1);
    close(sv[0]);
    close(sv[1]);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    print_name("unconnected getpeername", fd, 1);
    printf("unconnected stream poll %#x\n", revents(fd, POLLIN | POLLOUT));
    char b[4];
    SHOW(recv(fd, b, 4, MSG_DONTWAIT));
    SHOW(send(fd, b, 4, 0));
    SHOW(read(fd, b, 0));
    SHOW(shutdown(fd, SHUT_RDWR));
    SHOW(shutdown(fd, 7));
    SHOW(accept(fd, NULL, NULL));
    SHOW(listen(fd, 5)); /* unbound */
    close(fd);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(listen(fd, 5));
    SHOW(accept(fd, NULL, NULL));
    SHOW(send(fd, b, 4, 0));
    SHOW(recv(fd, b, 4, MSG_DONTWAIT));
    close(fd);
}

/* ---- names ---- */

static void names(void)
{
    struct sockaddr_un a;
    struct stat st;
    int s1 = socket(AF_UNIX, SOCK_STREAM, 0);
    socklen_t l = path_addr(&a, "s1");
    SHOW(bind(s1, (struct sockaddr *)&a, l));
    print_name("path getsockname", s1, 0);
    SHOW(stat("s1", &st));
    printf("s1: S_ISSOCK %s mode %o\n", YES(S_ISSOCK(st.st_mode)), st.st_mode & 07777);
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(bind(s2, (struct sockaddr *)&a, l)); /* the name exists */
    l = path_addr(&a, "s1b");
    SHOW(bind(s1, (struct sockaddr *)&a, l)); /* already bound */
    printf("s1b exists %s\n", YES(access("s1b", F_OK) == 0));
    l = path_addr(&a, "nodir/s");
    SHOW(bind(s2, (struct sockaddr *)&a, l));
    l = path_addr(&a, "s2");
    SHOW(bind(s2, (struct sockaddr *)&a, 1));
    SHOW(bind(s2, (struct sockaddr *)&a, sizeof(a) + 1));
    a.sun_family = AF_INET;
    SHOW(bind(s2, (struct sockaddr *)&a, l));
    /* a full-length path without its NUL: Linux ends it itself */
    l = path_addr(&a, "s2");
    SHOW(bind(s2, (struct sockaddr *)&a, sizeof(a)));
    print_name("full-length getsockname", s2, 0);
    close(s2);

    int d1 = socket(AF_UNIX, SOCK_DGRAM, 0);
    l = abs_addr(&a, "alcove-test-abs");
    SHOW(bind(d1, (struct sockaddr *)&a, l));
    print_name("abstract getsockname", d1, 0);
    int d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(bind(d2, (struct sockaddr *)&a, l));
    int st1 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(bind(st1, (struct sockaddr *)&a, l)); /* another type: another name space */
    close(st1);
    close(d1);
    SHOW(bind(d2, (struct sockaddr *)&a, l)); /* free again */
    close(d2);

    int ab = socket(AF_UNIX, SOCK_DGRAM, 0);
    sa_family_t fam = AF_UNIX;
    SHOW(bind(ab, (struct sockaddr *)&fam, sizeof(fam)));
    struct sockaddr_un got;
    socklen_t gl = sizeof(got);
    getsockname(ab, (struct sockaddr *)&got, &gl);
    int hex = gl == 8 && got.sun_path[0] == 0;
    for (int i = 1; hex && i < 6; i++)
        hex = strchr("0123456789abcdef", got.sun_path[i]) != NULL;
    printf("autobind: len %u, a NUL and 5 hex digits: %s\n", (unsigned)gl, YES(hex));
    SHOW(bind(ab, (struct sockaddr *)&fam, sizeof(fam))); /* autobind again: nothing to do */
    close(ab);

    /* connect's errors */
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    l = path_addr(&a, "missing");
    SHOW(connect(c, (struct sockaddr *)&a, l));
    close(open("regular", O_CREAT | O_WRONLY, 0644));
    l = path_addr(&a, "regular");
    SHOW(connect(c, (struct sockaddr *)&a, l));
    l = path_addr(&a, "s1"); /* bound, not listening */
    SHOW(connect(c, (struct sockaddr *)&a, l));
    l = abs_addr(&a, "alcove-nobody");
    SHOW(connect(c, (struct sockaddr *)&a, l));
    SHOW(connect(c, (struct sockaddr *)&a, 2));
    int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
    l = path_addr(&a, "dg");
    bind(dg, (struct sockaddr *)&a, l);
    SHOW(connect(c, (struct sockaddr *)&a, l)); /* a datagram socket's name */
    close(dg);
    SHOW(connect(c, (struct sockaddr *)&a, l)); /* its name stays, nobody behind it */
    SHOW(stat("dg", &st));
    SHOW(unlink("dg"));
    close(c);
    SHOW(open("s1", O_RDWR)); /* a socket's name does not open */
    close(s1);
    SHOW(unlink("s1"));
    SHOW(unlink("s2"));
}

/* ---- streams ---- */

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

static void *big_writer(void *arg)
{
    int fd = *(int *)arg;
    static char b[65536];
    unsigned sum = 0;
    for (int i = 0; i < 32; i++) {
        for (size_t j = 0; j < sizeof(b); j++)
            b[j] = (char)(i * 31 + j * 7);
        for (size_t j = 0; j < sizeof(b); j++)
            sum += (unsigned char)b[j];
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

static void streams(void)
{
    struct sockaddr_un a;
    socklen_t l = path_addr(&a, "srv");
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(bind(ls, (struct sockaddr *)&a, l));
    SHOW(listen(ls, 1));
    printf("listener SO_ACCEPTCONN %d poll %#x\n", getopt_int(ls, SO_ACCEPTCONN),
           revents(ls, POLLIN | POLLOUT));
    fcntl(ls, F_SETFL, O_NONBLOCK);
    SHOW(accept(ls, NULL, NULL)); /* nothing pending */
    fcntl(ls, F_SETFL, 0);
    int c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int c3 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SHOW(connect(c1, (struct sockaddr *)&a, l));
    SHOW(connect(c2, (struct sockaddr *)&a, l));
    SHOW(connect(c3, (struct sockaddr *)&a, l)); /* backlog 1: two wait, the third is refused */
    SHOW(connect(c1, (struct sockaddr *)&a, l)); /* connected already */
    SHOW(listen(c1, 5));
    printf("listener poll with connections waiting %#x\n", revents(ls, POLLIN | POLLOUT));
    SHOW(send(c1, "early", 5, 0)); /* before accept */
    print_name("client getpeername", c1, 1);
    print_name("client getsockname", c1, 0);
    struct sockaddr_un pa;
    socklen_t pl = sizeof(pa);
    int a1 = SHOWFD(accept4(ls, (struct sockaddr *)&pa, &pl, SOCK_CLOEXEC));
    printf("accept4 address length %u, cloexec %s\n", (unsigned)pl,
           YES(fcntl(a1, F_GETFD) & FD_CLOEXEC));
    print_name("accepted getsockname", a1, 0);
    print_name("accepted getpeername", a1, 1);
    struct ucred cr;
    socklen_t cl = sizeof(cr);
    getsockopt(a1, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("accepted SO_PEERCRED pid mine %s\n", YES(cr.pid == getpid()));
    cl = sizeof(cr);
    getsockopt(c1, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("client SO_PEERCRED pid mine %s\n", YES(cr.pid == getpid()));
    SHOW(sendto(c1, "x", 1, 0, (struct sockaddr *)&a, l));

    char b[512];
    int n = 0;
    ioctl(a1, FIONREAD, &n);
    printf("FIONREAD %d\n", n);
    SHOW(send(c1, "-more", 5, 0));
    SHOW(recv(a1, b, sizeof(b), MSG_PEEK));
    SHOW(recv(a1, b, 3, 0));
    SHOW(recv(a1, b, sizeof(b), 0));
    printf("got '%.7s'\n", b);
    SHOW(recv(a1, b, sizeof(b), MSG_DONTWAIT));
    printf("accepted poll idle %#x\n", revents(a1, POLLIN | POLLOUT | POLLRDHUP));

    /* MSG_WAITALL collects three writes of a thread */
    pthread_t t;
    pthread_create(&t, NULL, writer_thread, &c1);
    SHOW(recv(a1, b, 300, MSG_WAITALL));
    pthread_join(t, NULL);
    printf("waitall got %c%c%c\n", b[0], b[100], b[299]);

    /* shutdown: the peer reads its end, a send after it is EPIPE */
    SHOW(shutdown(c1, SHUT_WR));
    SHOW(recv(a1, b, sizeof(b), 0));
    printf("after peer SHUT_WR poll %#x\n", revents(a1, POLLIN | POLLOUT | POLLRDHUP));
    SHOW(send(c1, "x", 1, MSG_NOSIGNAL));
    SHOW(send(a1, "back", 4, 0));
    SHOW(recv(c1, b, sizeof(b), 0));

    /* the peer closes: reads see the end, writes EPIPE and SIGPIPE */
    close(c1);
    SHOW(recv(a1, b, sizeof(b), 0));
    printf("after peer close poll %#x\n", revents(a1, POLLIN | POLLOUT | POLLRDHUP));
    g_sigpipes = 0;
    SHOW(send(a1, "x", 1, 0));
    printf("SIGPIPE %d\n", g_sigpipes);
    SHOW(send(a1, "x", 1, MSG_NOSIGNAL));
    SHOW(write(a1, "x", 1));
    printf("SIGPIPE %d\n", g_sigpipes);
    print_name("getpeername after peer close", a1, 1);
    close(a1);

    /* closing with unread data: ECONNRESET for the peer, once */
    int a2 = accept(ls, NULL, NULL);
    SHOW(send(a2, "unread", 6, 0));
    SHOW(send(c2, "unread", 6, 0));
    close(a2);
    SHOW(recv(c2, b, sizeof(b), 0));
    SHOW(recv(c2, b, sizeof(b), 0));
    SHOW(recv(c2, b, sizeof(b), 0));
    close(c2);

    /* a connection never accepted: its client is reset when the listener closes */
    c3 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(connect(c3, (struct sockaddr *)&a, l));
    close(ls);
    SHOW(recv(c3, b, sizeof(b), 0));
    SHOW(recv(c3, b, sizeof(b), 0));
    close(c3);
    c3 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(connect(c3, (struct sockaddr *)&a, l)); /* its name is left, nobody listens */
    close(c3);
    unlink("srv");

    /* buffer limits: a small SO_SNDBUF takes less before EAGAIN */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    long big = fill(sv[0]);
    printf("default buffer took > 100000: %s, < 1000000: %s\n", YES(big > 100000),
           YES(big < 1000000));
    printf("full poll %#x\n", revents(sv[0], POLLOUT));
    while (recv(sv[1], b, sizeof(b), MSG_DONTWAIT) > 0) {
    }
    printf("drained poll %#x\n", revents(sv[0], POLLOUT));
    close(sv[0]);
    close(sv[1]);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int v = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    long small = fill(sv[0]);
    printf("small buffer took > 0: %s, < 20000: %s\n", YES(small > 0), YES(small < 20000));
    close(sv[0]);
    close(sv[1]);

    /* 2 MiB through a blocking stream from a thread, checksummed */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pthread_create(&t, NULL, big_writer, &sv[0]);
    unsigned sum = 0;
    long total = 0;
    static char rb[10000];
    for (;;) {
        ssize_t r = read(sv[1], rb, sizeof(rb));
        if (r <= 0)
            break;
        total += r;
        for (ssize_t j = 0; j < r; j++)
            sum += (unsigned char)rb[j];
    }
    void *ws;
    pthread_join(t, &ws);
    printf("stream from a thread: %ld bytes, checksum matches %s\n", total,
           YES(sum == (unsigned)(uintptr_t)ws));
    close(sv[0]);
    close(sv[1]);
}

/* ---- datagrams and seqpackets ---- */

static void datagrams(void)
{
    struct sockaddr_un a, ra;
    socklen_t l = path_addr(&a, "dsrv");
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(bind(r, (struct sockaddr *)&a, l));
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(sendto(s, "one", 3, 0, (struct sockaddr *)&a, l));
    SHOW(sendto(s, "", 0, 0, (struct sockaddr *)&a, l));
    SHOW(sendto(s, "three33", 7, 0, (struct sockaddr *)&a, l));
    char b[64];
    socklen_t rl = sizeof(ra);
    SHOW(recvfrom(r, b, sizeof(b), 0, (struct sockaddr *)&ra, &rl));
    printf("unbound sender: address length %u\n", (unsigned)rl);
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
    struct sockaddr_un sa;
    socklen_t sl = path_addr(&sa, "dcli");
    bind(s, (struct sockaddr *)&sa, sl);
    SHOW(sendto(s, "named", 5, 0, (struct sockaddr *)&a, l));
    rl = sizeof(ra);
    SHOW(recvfrom(r, b, sizeof(b), 0, (struct sockaddr *)&ra, &rl));
    printf("bound sender: length %u path '%s'\n", (unsigned)rl, ra.sun_path);

    /* errors */
    SHOW(send(s, "x", 1, 0));
    static char huge[300000];
    SHOW(sendto(s, huge, sizeof(huge), 0, (struct sockaddr *)&a, l));
    struct sockaddr_un na;
    socklen_t nl = path_addr(&na, "nobody");
    SHOW(sendto(s, "x", 1, 0, (struct sockaddr *)&na, nl));
    SHOW(sendto(s, "x", 1, MSG_OOB, (struct sockaddr *)&a, l));

    /* the queue of a socket others send to holds 11 messages */
    int k = 0;
    while (k < 50 && sendto(s, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&a, l) == 1)
        k++;
    printf("queued before EAGAIN: %d (errno %d)\n", k, errno);
    printf("receiver poll %#x\n", revents(r, POLLIN | POLLOUT));
    while (recv(r, b, sizeof(b), MSG_DONTWAIT) > 0) {
    }

    /* connected datagrams */
    SHOW(connect(s, (struct sockaddr *)&a, l));
    print_name("dgram getpeername", s, 1);
    SHOW(send(s, "c", 1, 0));
    SHOW(recv(r, b, sizeof(b), 0));
    int other = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(connect(r, (struct sockaddr *)&sa, sl));             /* r and s talk only to each other */
    SHOW(sendto(other, "x", 1, 0, (struct sockaddr *)&a, l)); /* EPERM */
    SHOW(connect(other, (struct sockaddr *)&a, l));
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    SHOW(connect(s, &unspec, sizeof(unspec)));
    print_name("after AF_UNSPEC getpeername", s, 1);
    SHOW(send(s, "x", 1, 0));
    SHOW(connect(s, (struct sockaddr *)&a, l));
    close(r);
    SHOW(send(s, "x", 1, 0)); /* the peer is gone: refused once, then not connected */
    SHOW(send(s, "x", 1, 0));
    close(s);
    close(other);
    unlink("dsrv");
    unlink("dcli");

    /* a datagram pair: boundaries both ways */
    int sv[2];
    SHOW(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    send(sv[0], "ab", 2, 0);
    send(sv[0], "cde", 3, 0);
    SHOW(recv(sv[1], b, sizeof(b), 0));
    SHOW(recv(sv[1], b, sizeof(b), 0));
    SHOW(read(sv[1], b, 0)); /* a read of nothing does not wait */
    /* readv and writev: one datagram for the whole vector */
    struct iovec wv[2] = {{"hello ", 6}, {"world", 5}};
    SHOW(writev(sv[0], wv, 2));
    char r1[4], r2[16];
    struct iovec rv[2] = {{r1, sizeof(r1)}, {r2, sizeof(r2)}};
    SHOW(readv(sv[1], rv, 2));
    printf("readv '%.4s' '%.7s'\n", r1, r2);
    close(sv[0]);
    close(sv[1]);

    /* seqpacket */
    SHOW(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    SHOW(send(sv[0], "packet-1", 8, 0));
    SHOW(send(sv[0], "p2", 2, 0));
    iov.iov_len = 4;
    m.msg_flags = 0;
    SHOW(recvmsg(sv[1], &m, 0));
    printf("seqpacket truncated %s\n", YES(m.msg_flags & MSG_TRUNC));
    SHOW(recv(sv[1], b, sizeof(b), 0));
    SHOW(recv(sv[1], b, sizeof(b), MSG_DONTWAIT));
    close(sv[0]);
    SHOW(recv(sv[1], b, sizeof(b), 0));
    SHOW(send(sv[1], "x", 1, MSG_NOSIGNAL));
    printf("seqpacket after peer close poll %#x\n", revents(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    close(sv[1]);
    int sq = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    SHOW(send(sq, "x", 1, 0));
    SHOW(recv(sq, b, 1, 0));
    l = abs_addr(&a, "alcove-seq");
    SHOW(bind(sq, (struct sockaddr *)&a, l));
    SHOW(listen(sq, 4));
    int sc = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    SHOW(connect(sc, (struct sockaddr *)&a, l));
    int sa1 = SHOWFD(accept(sq, NULL, NULL));
    SHOW(send(sc, "hello", 5, 0));
    SHOW(send(sc, "world!", 6, 0));
    SHOW(recv(sa1, b, sizeof(b), 0));
    SHOW(recv(sa1, b, sizeof(b), 0));
    close(sa1);
    close(sc);
    close(sq);
}

/* ---- control messages ---- */

union cbuf {
    char buf[CMSG_SPACE(sizeof(int) * 4) + CMSG_SPACE(sizeof(struct ucred))];
    struct cmsghdr align;
};

static long send_fds(int sock, const int *fds, int n, const void *data, size_t len)
{
    union cbuf u;
    memset(&u, 0, sizeof(u));
    struct iovec iov = {(void *)data, len};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (n) {
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    }
    return sendmsg(sock, &m, 0);
}

/* Receives up to maxfds descriptors into fds (-1 where none) with room for ctl bytes of control
 * (0: no buffer); prints what came. */
static long recv_ctl(int sock, int *fds, int maxfds, size_t ctl, int flags, struct ucred *cred)
{
    union cbuf u;
    char b[64];
    struct iovec iov = {b, sizeof(b)};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl ? u.buf : NULL;
    m.msg_controllen = ctl;
    for (int i = 0; i < maxfds; i++)
        fds[i] = -1;
    long r = recvmsg(sock, &m, flags);
    if (r < 0) {
        printf("recvmsg: errno %d\n", errno);
        return r;
    }
    int nfd = 0, ncred = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds, CMSG_DATA(c), sizeof(int) * (nfd < maxfds ? nfd : maxfds));
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            ncred++;
            if (cred)
                memcpy(cred, CMSG_DATA(c), sizeof(*cred));
        }
    }
    printf("recvmsg %ld bytes, %d fds, %d creds, CTRUNC %s\n", r, nfd, ncred,
           YES(m.msg_flags & MSG_CTRUNC));
    return r;
}

struct thr_arg {
    int sock, fd;
};

/* A chain of sockets in flight, each carried by the next, all freed by one close: the kernel
 * must not free them by recursion (500 deep ran the enclave kernel's stack out). Also SO_PEERCRED
 * of a socket with no peer, write() of nothing to a datagram socket, and accept at the
 * descriptor limit (the connection stays queued). */
static void chains(void)
{
    int prev[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, prev);
    int n = 0;
    for (int i = 0; i < 500; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
            break;
        if (send_fds(sv[0], &prev[1], 1, "c", 1) != 1)
            break;
        close(prev[0]);
        close(prev[1]);
        prev[0] = sv[0];
        prev[1] = sv[1];
        n++;
    }
    close(prev[0]);
    close(prev[1]);
    printf("a chain of %d sockets in flight, closed: the program goes on\n", n);

    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct ucred c;
    socklen_t cl = sizeof(c);
    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &c, &cl);
    printf("SO_PEERCRED with no peer: pid %d uid %d gid %d\n", c.pid, (int)c.uid, (int)c.gid);
    close(s);

    int dv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, dv);
    SHOW(write(dv[0], "", 0));
    char b[4];
    SHOW(recv(dv[1], b, sizeof(b), MSG_DONTWAIT));
    close(dv[0]);
    close(dv[1]);

    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, "chain.sock");
    bind(l, (struct sockaddr *)&a, sizeof(a));
    listen(l, 4);
    int cfd = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(cfd, (struct sockaddr *)&a, sizeof(a));
    struct rlimit old, lim;
    getrlimit(RLIMIT_NOFILE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)cfd + 1; /* with the holes below cfd filled: no descriptor free */
    int fill[1024], nfill = 0;
    for (int fd = 0; fd < cfd && nfill < 1024; fd++)
        if (fcntl(fd, F_GETFD) < 0)
            fill[nfill++] = dup(l);
    setrlimit(RLIMIT_NOFILE, &lim);
    SHOW(accept(l, NULL, NULL));
    setrlimit(RLIMIT_NOFILE, &old);
    int afd = accept(l, NULL, NULL);
    printf("after the limit was raised, accept gets the connection: %s\n",
           YES(afd >= 0 && write(cfd, "x", 1) == 1 && read(afd, b, 1) == 1));
    for (int i = 0; i < nfill; i++)
        close(fill[i]);
    close(afd);
    close(cfd);
    close(l);
    unlink("chain.sock");
}

static void *pass_thread(void *arg)
{
    struct thr_arg *ta = arg;
    send_fds(ta->sock, &ta->fd, 1, "f", 1);
    return NULL;
}

static void rights(void)
{
    int sv[2], p[2];
    char b[16];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    /* between threads */
    struct thr_arg ta = {sv[0], p[1]};
    pthread_t t;
    pthread_create(&t, NULL, pass_thread, &ta);
    pthread_join(t, NULL);
    int fds[4];
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), 0, NULL);
    printf("received fd is new %s\n", YES(fds[0] != p[1] && fds[0] >= 0));
    SHOW(write(fds[0], "via", 3));
    SHOW(read(p[0], b, sizeof(b)));
    close(fds[0]);

    /* between processes: a child sends its own pipe's end, then the parent reads what it
     * wrote into it */
    pid_t pid = fork();
    if (pid == 0) {
        int q[2];
        pipe(q);
        write(q[1], "from child", 10);
        close(q[1]);
        send_fds(sv[0], &q[0], 1, "c", 1);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), 0, NULL);
    SHOW(read(fds[0], b, sizeof(b)));
    close(fds[0]);

    /* MSG_CTRUNC: room for one of two; no room at all; MSG_CMSG_CLOEXEC */
    int two[2] = {p[0], p[1]};
    SHOW(send_fds(sv[0], two, 2, "2", 1));
    recv_ctl(sv[1], fds, 4, CMSG_SPACE(sizeof(int)), 0, NULL);
    close(fds[0]);
    SHOW(send_fds(sv[0], two, 2, "2", 1));
    recv_ctl(sv[1], fds, 4, 0, 0, NULL);
    SHOW(send_fds(sv[0], two, 1, "1", 1));
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), MSG_CMSG_CLOEXEC, NULL);
    printf("MSG_CMSG_CLOEXEC: FD_CLOEXEC %s\n", YES(fcntl(fds[0], F_GETFD) & FD_CLOEXEC));
    close(fds[0]);
    /* MSG_PEEK gives the descriptors too, and the read after it again */
    SHOW(send_fds(sv[0], two, 1, "p", 1));
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), MSG_PEEK, NULL);
    close(fds[0]);
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), 0, NULL);
    close(fds[0]);

    /* a stream read stops after a piece with descriptors */
    send(sv[0], "ab", 2, 0);
    send_fds(sv[0], two, 1, "cd", 2);
    send(sv[0], "ef", 2, 0);
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), 0, NULL);
    close(fds[0]);
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), 0, NULL);

    /* errors */
    int bad = 999;
    SHOW(send_fds(sv[0], &bad, 1, "x", 1));
    union cbuf u;
    memset(&u, 0, sizeof(u));
    struct iovec iov = {"x", 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = CMSG_SPACE(sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = 99;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    SHOW(sendmsg(sv[0], &m, 0));
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = 1000;
    SHOW(sendmsg(sv[0], &m, 0));
    c->cmsg_level = 0 /* SOL_IP */; /* other levels are skipped */
    c->cmsg_len = CMSG_LEN(sizeof(int));
    SHOW(sendmsg(sv[0], &m, 0));
    SHOW(recv(sv[1], b, sizeof(b), 0));

    /* a socket in flight: one end of a pair travels, is closed here, and works there */
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    send_fds(sv[0], &pair[1], 1, "s", 1);
    close(pair[1]);
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), 0, NULL);
    SHOW(send(pair[0], "through", 7, 0));
    SHOW(recv(fds[0], b, sizeof(b), 0));
    close(fds[0]);
    SHOW(recv(pair[0], b, sizeof(b), 0)); /* its only end is gone now */
    close(pair[0]);

    /* cycles: each end of a pair sent over itself, then both closed; a socket in flight to a
     * receiver that closes without reading */
    socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    send_fds(pair[0], &pair[0], 1, "a", 1);
    send_fds(pair[1], &pair[1], 1, "b", 1);
    close(pair[0]);
    close(pair[1]);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, pair);
    int in_flight = socket(AF_UNIX, SOCK_STREAM, 0);
    send_fds(pair[0], &in_flight, 1, "i", 1);
    close(in_flight);
    close(pair[1]);
    close(pair[0]);
    int after = SHOW(socket(AF_UNIX, SOCK_STREAM, 0) >= 0);
    (void)after;
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);
}

static void credentials(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    int on = 1;
    SHOW(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
    pid_t pid = fork();
    if (pid == 0) {
        send(sv[0], "cred", 4, 0);
        _exit(0);
    }
    int st, fds[4];
    waitpid(pid, &st, 0);
    struct ucred c = {0};
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), 0, &c);
    printf("SCM_CREDENTIALS pid is the child %s, uid %s, gid %s\n", YES(c.pid == pid),
           YES(c.uid == getuid()), YES(c.gid == getgid()));
    /* explicit credentials: one's own */
    union cbuf u;
    memset(&u, 0, sizeof(u));
    struct iovec iov = {"e", 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = CMSG_SPACE(sizeof(struct ucred));
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_CREDENTIALS;
    cm->cmsg_len = CMSG_LEN(sizeof(struct ucred));
    struct ucred mine = {getpid(), getuid(), getgid()};
    memcpy(CMSG_DATA(cm), &mine, sizeof(mine));
    SHOW(sendmsg(sv[0], &m, 0));
    recv_ctl(sv[1], fds, 4, sizeof(union cbuf), 0, &c);
    printf("explicit credentials: pid mine %s\n", YES(c.pid == getpid()));
    cm->cmsg_len = CMSG_LEN(sizeof(struct ucred)) - 1;
    SHOW(sendmsg(sv[0], &m, 0));
    SHOW(send(sv[0], "n", 1, 0));
    recv_ctl(sv[1], fds, 4, 0, 0, NULL); /* creds asked for, no room: MSG_CTRUNC */
    close(sv[0]);
    close(sv[1]);
}

/* ---- processes, readiness, permissions ---- */

static void processes(void)
{
    struct sockaddr_un a;
    socklen_t l = path_addr(&a, "echo");
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(ls, (struct sockaddr *)&a, l);
    SHOW(listen(ls, 8));
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            int c = socket(AF_UNIX, SOCK_STREAM, 0);
            if (connect(c, (struct sockaddr *)&a, l) < 0)
                _exit(10);
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
                } else {
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

    /* connect needs write permission on the socket file */
    chmod("echo", 0755);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(20);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        int r = connect(c, (struct sockaddr *)&a, l);
        _exit(r < 0 ? errno : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("connect without write permission: %d\n", WEXITSTATUS(st));
    chmod("echo", 0777);
    pid = fork();
    if (pid == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(20);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        int r = connect(c, (struct sockaddr *)&a, l);
        _exit(r < 0 ? errno : 0);
    }
    waitpid(pid, &st, 0);
    printf("connect with write permission: %d\n", WEXITSTATUS(st));
    close(ls);
    unlink("echo");

    /* edge-triggered epoll on a pair */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    ep = epoll_create1(0);
    struct epoll_event e2 = {.events = EPOLLIN | EPOLLET, .data.fd = sv[1]};
    epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &e2);
    struct epoll_event out[2];
    SHOW(epoll_wait(ep, out, 2, 0));
    send(sv[0], "1", 1, 0);
    SHOW(epoll_wait(ep, out, 2, 0));
    SHOW(epoll_wait(ep, out, 2, 0)); /* edge: once */
    send(sv[0], "2", 1, 0);
    SHOW(epoll_wait(ep, out, 2, 0));
    close(sv[0]);
    SHOW(epoll_wait(ep, out, 2, 0));
    printf("events after close %#x\n", out[0].events);
    close(ep);
    close(sv[1]);
}

/* ---- blocking, timeouts, signals ("unix_sock more") ---- */

static void *accept_later(void *arg)
{
    int ls = *(int *)arg;
    usleep(50000);
    int c = accept(ls, NULL, NULL);
    return (void *)(intptr_t)(c >= 0);
}

static void *read_later(void *arg)
{
    int fd = *(int *)arg;
    usleep(50000);
    char b[8];
    return (void *)(intptr_t)recv(fd, b, sizeof(b), 0);
}

static void *drain_later(void *arg)
{
    int fd = *(int *)arg;
    usleep(50000);
    static char b[65536];
    long total = 0, r;
    while ((r = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
        total += r;
    return (void *)(intptr_t)(total > 0);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void more(void)
{
    struct sockaddr_un a;
    socklen_t l = abs_addr(&a, "alcove-more");
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(ls, (struct sockaddr *)&a, l);
    listen(ls, 0);
    int c1 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(connect(c1, (struct sockaddr *)&a, l));
    /* the backlog is full: a blocking connect waits until a thread accepts */
    pthread_t t;
    pthread_create(&t, NULL, accept_later, &ls);
    int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(connect(c2, (struct sockaddr *)&a, l));
    void *ok;
    pthread_join(t, &ok);
    printf("accepted by the thread %s\n", YES(ok));
    /* SO_SNDTIMEO on a full backlog */
    int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
    struct timeval tv = {0, 100000};
    setsockopt(c3, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SHOW(connect(c3, (struct sockaddr *)&a, l));
    close(c1);
    close(c2);
    close(c3);
    close(ls);

    /* SO_RCVTIMEO; a signal interrupts a blocking recv (no SA_RESTART) */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char b[64];
    SHOW(recv(sv[1], b, sizeof(b), 0));
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct timeval none = {0, 0};
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
    alarm(1);
    SHOW(recv(sv[1], b, sizeof(b), 0));
    /* shutdown(SHUT_RD): reads see the end at once */
    SHOW(shutdown(sv[1], SHUT_RD));
    SHOW(recv(sv[1], b, sizeof(b), 0));
    printf("after SHUT_RD poll %#x\n", revents(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    SHOW(send(sv[0], "x", 1, MSG_NOSIGNAL));
    close(sv[0]);
    close(sv[1]);

    /* a datagram sender blocked on a full queue goes on when a thread reads */
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    l = abs_addr(&a, "alcove-more-dgram");
    bind(r, (struct sockaddr *)&a, l);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    int k = 0;
    while (k < 50 && sendto(s, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&a, l) == 1)
        k++;
    printf("queued %d\n", k);
    pthread_create(&t, NULL, read_later, &r);
    SHOW(sendto(s, "blocked", 7, 0, (struct sockaddr *)&a, l));
    pthread_join(t, &ok);
    printf("the thread read %ld\n", (long)(intptr_t)ok);
    /* select on the receiver */
    fd_set rf, wf;
    FD_ZERO(&rf);
    FD_ZERO(&wf);
    FD_SET(r, &rf);
    FD_SET(s, &wf);
    struct timeval zero = {0, 0};
    SHOW(select((r > s ? r : s) + 1, &rf, &wf, NULL, &zero));
    printf("select readable %s writable %s\n", YES(FD_ISSET(r, &rf)), YES(FD_ISSET(s, &wf)));
    close(r);
    close(s);

    /* a stream writer blocked on a full buffer goes on when a thread reads */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int v = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    fill(sv[0]);
    pthread_create(&t, NULL, drain_later, &sv[1]);
    SHOW(send(sv[0], "after", 5, 0));
    pthread_join(t, &ok);
    printf("the thread drained it %s\n", YES(ok));
    close(sv[0]);
    close(sv[1]);
    printf("more done\n");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, on_sigpipe);
    umask(022);
    char dir[] = "/tmp/unix_sock.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) < 0 || chmod(dir, 0755) < 0) {
        perror("tmp dir");
        return 1;
    }
    if (argc > 1 && !strcmp(argv[1], "more")) {
        more();
        goto out;
    }
    types();
    names();
    streams();
    datagrams();
    rights();
    chains();
    credentials();
    processes();
    unlink("regular");
out:
    if (chdir("/") < 0 || rmdir(dir) < 0)
        printf("rmdir: errno %d\n", errno);
    printf("done\n");
    return 0;
}
