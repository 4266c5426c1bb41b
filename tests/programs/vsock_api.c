/* vsock_api.c: AF_VSOCK socket API edge cases that need no peer. Each line is
 * "ok NAME" or "FAIL NAME: got X, want Y"; the exit status is the number of failures.
 *
 * The expected results are Linux's (net/socket.c and net/vmw_vsock/af_vsock.c) for a guest
 * whose only transport is virtio (no vsock_loopback), hard-coded because AF_VSOCK may not exist
 * where the tests run natively. Where the enclave chooses differently on purpose (docs/vsock.md)
 * the case says so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "vsock_common.h"

#define SOL_VSOCK                         AF_VSOCK
#define SO_VM_SOCKETS_BUFFER_SIZE         0
#define SO_VM_SOCKETS_BUFFER_MIN_SIZE     1
#define SO_VM_SOCKETS_BUFFER_MAX_SIZE     2
#define SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD 6
#define IOCTL_VM_SOCKETS_GET_LOCAL_CID    0x7b9

static int g_fail;

static void check(const char *name, long got, long want)
{
    if (got == want) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: got %ld, want %ld\n", name, got, want);
        g_fail++;
    }
}

/* a call's result as 0 or the errno, named */
static void check_err(const char *name, long ret, int want_errno)
{
    int got = ret < 0 ? errno : 0;
    if (got == want_errno) {
        printf("ok %s (%s)\n", name, errno_name(got));
    } else {
        printf("FAIL %s: got %s, want %s\n", name, errno_name(got), errno_name(want_errno));
        g_fail++;
    }
}

static int vsock(void)
{
    return socket(AF_VSOCK, SOCK_STREAM, 0);
}

static long bind_to(int s, unsigned cid, unsigned port)
{
    struct vm_addr a = vm_addr(cid, port);
    return bind(s, (struct sockaddr *)&a, sizeof(a));
}

static int getint(int s, int level, int name)
{
    int v = -12345;
    socklen_t len = sizeof(v);
    if (getsockopt(s, level, name, &v, &len) != 0)
        return -errno;
    return v;
}

static long long get64(int s, int name)
{
    uint64_t v = 0;
    socklen_t len = sizeof(v);
    if (getsockopt(s, SOL_VSOCK, name, &v, &len) != 0)
        return -errno;
    return (long long)v;
}

static long set64(int s, int name, uint64_t v)
{
    return setsockopt(s, SOL_VSOCK, name, &v, sizeof(v));
}

int main(void)
{
    /* ---- socket() ---- */
    int s = vsock();
    check_err("socket stream", s, 0);
    check_err("socket raw", socket(AF_VSOCK, SOCK_RAW, 0), ESOCKTNOSUPPORT);
    check_err("socket dgram (no datagram transport)", socket(AF_VSOCK, SOCK_DGRAM, 0), ENODEV);
    check_err("socket protocol 1", socket(AF_VSOCK, SOCK_STREAM, 1), EPROTONOSUPPORT);
    check_err("socket protocol PF_VSOCK", socket(AF_VSOCK, SOCK_STREAM, AF_VSOCK), 0);
    check_err("socket bad type flag", socket(AF_VSOCK, SOCK_STREAM | 0x1000, 0), EINVAL);
    check_err("socket type 11", socket(AF_VSOCK, 11, 0), EINVAL);
    check_err("socket family 200", socket(200, SOCK_STREAM, 0), EAFNOSUPPORT);
    check_err("socketpair vsock", socketpair(AF_VSOCK, SOCK_STREAM, 0, (int[2]){0}), EOPNOTSUPP);

    /* ---- fresh socket ---- */
    struct vm_addr a;
    socklen_t alen = sizeof(a);
    memset(&a, 0xaa, sizeof(a));
    check_err("getsockname unbound", getsockname(s, (struct sockaddr *)&a, &alen), 0);
    check("getsockname unbound len", alen, 16);
    check("getsockname unbound family", a.svm_family, AF_VSOCK);
    check("getsockname unbound cid", (long)a.svm_cid, (long)VMADDR_CID_ANY);
    check("getsockname unbound port", (long)a.svm_port, (long)VMADDR_PORT_ANY);
    check_err("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &alen), ENOTCONN);
    check_err("shutdown unconnected", shutdown(s, SHUT_RDWR), ENOTCONN);
    check_err("shutdown how 3", shutdown(s, 3), EINVAL);
    check_err("listen unbound", listen(s, 5), EINVAL);
    check_err("accept unbound", accept(s, NULL, NULL), EINVAL);
    check_err("accept4 bad flags", accept4(s, NULL, NULL, 0x1), EINVAL);
    char c = 'x';
    check_err("send unconnected", send(s, &c, 1, 0), ENOTCONN);
    check_err("send unconnected, bad buffer", send(s, (void *)8, 1, 0), ENOTCONN);
    check_err("write unconnected", write(s, &c, 1), ENOTCONN);
    check_err("recv unconnected", recv(s, &c, 1, 0), ENOTCONN);
    check_err("send MSG_OOB", send(s, &c, 1, MSG_OOB), EOPNOTSUPP);
    struct vm_addr to = vm_addr(CID_PARENT, 1234);
    check_err("sendto with address, unconnected",
              sendto(s, &c, 1, 0, (struct sockaddr *)&to, sizeof(to)), EOPNOTSUPP);
    struct pollfd p = {.fd = s, .events = POLLIN | POLLOUT};
    check("poll fresh socket", poll(&p, 1, 0), 1);
    check("poll fresh socket revents", p.revents, POLLOUT);
    struct stat st;
    check_err("fstat", fstat(s, &st), 0);
    check("fstat is a socket", S_ISSOCK(st.st_mode), 1);

    /* ---- options ---- */
    check("SO_TYPE", getint(s, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    check("SO_DOMAIN", getint(s, SOL_SOCKET, SO_DOMAIN), AF_VSOCK);
    check("SO_PROTOCOL", getint(s, SOL_SOCKET, SO_PROTOCOL), 0);
    check("SO_ERROR", getint(s, SOL_SOCKET, SO_ERROR), 0);
    check("SO_ACCEPTCONN", getint(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
    check("SO_RCVLOWAT", getint(s, SOL_SOCKET, SO_RCVLOWAT), 1);
    check("getsockopt unknown", getint(s, SOL_SOCKET, 9999), -ENOPROTOOPT);
    check("getsockopt level 99", getint(s, 99, 1), -ENOPROTOOPT);
    int one = 1, v = 65536;
    check_err("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    check("SO_REUSEADDR read", getint(s, SOL_SOCKET, SO_REUSEADDR), 1);
    check_err("SO_KEEPALIVE", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
    check("SO_KEEPALIVE read", getint(s, SOL_SOCKET, SO_KEEPALIVE), 1);
    check_err("SO_RCVBUF", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
    check("SO_RCVBUF read (doubled)", getint(s, SOL_SOCKET, SO_RCVBUF), 2 * 65536);
    check_err("SO_RCVBUF short", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, 2), EINVAL);
    check_err("setsockopt level 99", setsockopt(s, 99, 1, &v, sizeof(v)), ENOPROTOOPT);
    struct timeval tv = {1, 500000}, tv2 = {0, 0};
    socklen_t tlen = sizeof(tv2);
    check_err("SO_RCVTIMEO", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    check_err("SO_RCVTIMEO read", getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv2, &tlen), 0);
    check("SO_RCVTIMEO value", tv2.tv_sec * 1000000 + tv2.tv_usec, 1500000);
    tv.tv_usec = 2000000;
    check_err("SO_RCVTIMEO bad usec", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
              EDOM);
    check("BUFFER_SIZE", get64(s, SO_VM_SOCKETS_BUFFER_SIZE), 262144);
    check("BUFFER_MIN_SIZE", get64(s, SO_VM_SOCKETS_BUFFER_MIN_SIZE), 128);
    check("BUFFER_MAX_SIZE", get64(s, SO_VM_SOCKETS_BUFFER_MAX_SIZE), 262144);
    check_err("BUFFER_SIZE 1 MiB", set64(s, SO_VM_SOCKETS_BUFFER_SIZE, 1 << 20), 0);
    check("BUFFER_SIZE clamped to max", get64(s, SO_VM_SOCKETS_BUFFER_SIZE), 262144);
    check_err("BUFFER_MAX_SIZE 1 MiB", set64(s, SO_VM_SOCKETS_BUFFER_MAX_SIZE, 1 << 20), 0);
    check_err("BUFFER_SIZE 1 MiB again", set64(s, SO_VM_SOCKETS_BUFFER_SIZE, 1 << 20), 0);
    check("BUFFER_SIZE 1 MiB read", get64(s, SO_VM_SOCKETS_BUFFER_SIZE), 1 << 20);
    check_err("BUFFER_SIZE 16", set64(s, SO_VM_SOCKETS_BUFFER_SIZE, 16), 0);
    check("BUFFER_SIZE clamped to min", get64(s, SO_VM_SOCKETS_BUFFER_SIZE), 128);
    uint32_t small = 1;
    check_err("BUFFER_SIZE optlen 4",
              setsockopt(s, SOL_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &small, sizeof(small)), EINVAL);
    socklen_t l4 = 4;
    check_err("BUFFER_SIZE read optlen 4",
              getsockopt(s, SOL_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &small, &l4), EINVAL);
    check("vsock option 99", get64(s, 99), -ENOPROTOOPT);
    tlen = sizeof(tv2);
    check_err("CONNECT_TIMEOUT read",
              getsockopt(s, SOL_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD, &tv2, &tlen), 0);
    check("CONNECT_TIMEOUT default", tv2.tv_sec * 1000000 + tv2.tv_usec, 2000000);

    /* ---- bind ---- */
    int s2 = vsock(), s3 = vsock();
    struct vm_addr bad = vm_addr(VMADDR_CID_ANY, 5000);
    bad.svm_family = 2;
    check_err("bind wrong family", bind(s2, (struct sockaddr *)&bad, sizeof(bad)), EINVAL);
    struct vm_addr ok = vm_addr(VMADDR_CID_ANY, 5000);
    check_err("bind short length", bind(s2, (struct sockaddr *)&ok, 8), EINVAL);
    check_err("bind length 200", bind(s2, (struct sockaddr *)&ok, 200), EINVAL);
    check_err("bind length -1", bind(s2, (struct sockaddr *)&ok, (socklen_t)-1), EINVAL);
    check_err("bind bad pointer", bind(s2, (struct sockaddr *)8, sizeof(ok)), EFAULT);
    check_err("bind CID 1", bind_to(s2, 1, 5000), EADDRNOTAVAIL);
    check_err("bind CID 3 (the parent's)", bind_to(s2, CID_PARENT, 5000), EADDRNOTAVAIL);
    check_err("bind stdin", bind_to(0, VMADDR_CID_ANY, 5000), ENOTSOCK);
    check_err("bind fd 999", bind_to(999, VMADDR_CID_ANY, 5000), EBADF);
    check_err("bind port 5000", bind_to(s2, VMADDR_CID_ANY, 5000), 0);
    check_err("bind twice", bind_to(s2, VMADDR_CID_ANY, 5001), EINVAL);
    check_err("bind port in use", bind_to(s3, VMADDR_CID_ANY, 5000), EADDRINUSE);
    alen = sizeof(a);
    getsockname(s2, (struct sockaddr *)&a, &alen);
    check("getsockname bound port", (long)a.svm_port, 5000);
    check("getsockname bound cid", (long)a.svm_cid, (long)VMADDR_CID_ANY);
    check_err("bind any port", bind_to(s3, VMADDR_CID_ANY, VMADDR_PORT_ANY), 0);
    alen = sizeof(a);
    getsockname(s3, (struct sockaddr *)&a, &alen);
    check("ephemeral port above 1023", a.svm_port > 1023 && a.svm_port != VMADDR_PORT_ANY, 1);

    int dev = open("/dev/vsock", O_RDONLY);
    check_err("open /dev/vsock", dev, 0);
    uint32_t cid = 0;
    check_err("GET_LOCAL_CID", ioctl(dev, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid), 0);
    check("local CID above 3", cid > 3 && cid != VMADDR_CID_ANY, 1);
    int s4 = vsock();
    check_err("bind own CID", bind_to(s4, cid, 5002), 0);
    alen = sizeof(a);
    getsockname(s4, (struct sockaddr *)&a, &alen);
    check("getsockname own cid", (long)a.svm_cid, (long)cid);

    /* ---- listen, accept ---- */
    check_err("accept bound, not listening", accept(s2, NULL, NULL), EINVAL);
    check_err("listen", listen(s2, 5), 0);
    check_err("listen again", listen(s2, 10), 0);
    check("SO_ACCEPTCONN listening", getint(s2, SOL_SOCKET, SO_ACCEPTCONN), 1);
    fcntl(s2, F_SETFL, O_NONBLOCK);
    check_err("accept nothing pending (non-blocking)", accept(s2, NULL, NULL), EAGAIN);
    tv = (struct timeval){0, 100000};
    fcntl(s2, F_SETFL, 0);
    setsockopt(s2, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    check_err("accept SO_RCVTIMEO", accept(s2, NULL, NULL), EAGAIN);
    p = (struct pollfd){.fd = s2, .events = POLLIN | POLLOUT};
    check("poll listening socket", poll(&p, 1, 0), 0);
    struct vm_addr dst = vm_addr(CID_PARENT, 1234);
    check_err("connect listening socket", connect(s2, (struct sockaddr *)&dst, sizeof(dst)),
              EINVAL);
    check_err("shutdown listening socket", shutdown(s2, SHUT_RDWR), ENOTCONN);
    check_err("send listening socket", send(s2, &c, 1, 0), ENOTCONN);
    int n = -1;
    check_err("FIONREAD listening socket", ioctl(s2, FIONREAD, &n), EINVAL);

    /* ---- connect argument checks ---- */
    int s5 = vsock();
    check_err("connect wrong family", connect(s5, (struct sockaddr *)&bad, sizeof(bad)), EINVAL);
    check_err("connect short", connect(s5, (struct sockaddr *)&dst, 4), EINVAL);
    check_err("connect length 200", connect(s5, (struct sockaddr *)&dst, 200), EINVAL);
    struct vm_addr local = vm_addr(1, 1234);
    /* no loopback transport in the enclave, as on a guest without vsock_loopback */
    check_err("connect CID 1", connect(s5, (struct sockaddr *)&local, sizeof(local)), ENODEV);

    /* ---- /proc/self/fd ---- */
    char path[64], target[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", s);
    ssize_t tl = readlink(path, target, sizeof(target) - 1);
    target[tl > 0 ? tl : 0] = 0;
    check("readlink names a socket", strncmp(target, "socket:[", 8) == 0, 1);

    close(s);
    close(s2);
    close(s3);
    close(s4);
    close(s5);
    /* the port is free again once its socket is closed */
    int s6 = vsock();
    check_err("bind port 5000 after close", bind_to(s6, VMADDR_CID_ANY, 5000), 0);
    close(s6);
    printf("%d failures\n", g_fail);
    return g_fail;
}
