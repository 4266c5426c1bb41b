/* vsock_client.c: libalcove's host → enclave connections. A connection is a Unix stream socket
 * to the enclave's hybrid vsock socket ("<runtime dir>/<cid>.vsock") on which we send
 * "CONNECT <port>\n" and read the monitor's "OK <host_port>\n"; from then on the socket is the
 * stream (docs/vsock.md). The answer is read without consuming a byte past its '\n' (peek, then
 * take exactly the line), because the enclave may write right after accepting. A socket closed
 * with no answer means nothing listens on the port. The whole connect has one deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alcove/vsock.h"
#include "common/runtime.h"
#include "sdk/vsock_internal.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: none), at least 0. */
static int remaining_ms(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

size_t vsock_connect_line(char *buf, uint32_t port)
{
    return (size_t)snprintf(buf, VSOCK_LINE_MAX, "CONNECT %u\n", port);
}

int vsock_parse_ok(const char *line, size_t len, uint32_t *host_port)
{
    if (len < 4 || len > 13 || memcmp(line, "OK ", 3) != 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 3; i < len; i++) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(line[i] - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *host_port = (uint32_t)v;
    return 0;
}

/* connect(2) to the Unix socket, bounded by the deadline through SO_SNDTIMEO (which a Unix
 * stream connect waits with when the listener's backlog is full). */
static int unix_connect(int fd, const struct sockaddr_un *sa, socklen_t salen, int64_t deadline)
{
    struct timeval old, tv = {0, 0};
    socklen_t oldlen = sizeof(old);
    bool timed = deadline >= 0;
    if (timed) {
        int left = remaining_ms(deadline);
        if (left == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        tv.tv_sec = left / 1000;
        tv.tv_usec = (left % 1000) * 1000;
        if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &old, &oldlen) ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
            return -1;
    }
    int rc;
    do
        rc = connect(fd, (const struct sockaddr *)sa, salen);
    while (rc != 0 && errno == EINTR);
    int err = errno;
    if (timed)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &old, sizeof(old));
    if (rc == 0)
        return 0;
    if (err == EAGAIN || err == EINPROGRESS)
        err = ETIMEDOUT;
    else if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR)
        err = EHOSTUNREACH; /* no enclave there, or a stale socket its monitor left */
    errno = err;
    return -1;
}

/* Reads the answer line, consuming nothing after its '\n'. */
static int read_answer(int fd, int64_t deadline, uint32_t *host_port)
{
    char line[VSOCK_LINE_MAX];
    size_t len = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, remaining_ms(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        ssize_t got = recv(fd, line + len, sizeof(line) - len, MSG_PEEK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (got <= 0) {
            /* closed (or reset) without an answer: nothing listens on that port */
            if (got == 0 || errno == ECONNRESET || errno == EPIPE)
                errno = ECONNREFUSED;
            return -1;
        }
        const char *nl = memchr(line + len, '\n', (size_t)got);
        size_t take = nl ? (size_t)(nl - (line + len)) + 1 : (size_t)got;
        ssize_t took;
        do
            took = recv(fd, line + len, take, MSG_WAITALL);
        while (took < 0 && errno == EINTR);
        if (took != (ssize_t)take) {
            if (took >= 0)
                errno = ECONNREFUSED;
            return -1;
        }
        len += take;
        if (nl) {
            if (vsock_parse_ok(line, len - 1, host_port) != 0) {
                errno = EPROTO;
                return -1;
            }
            return 0;
        }
        if (len == sizeof(line)) {
            errno = EPROTO;
            return -1;
        }
    }
}

int vsock_connect_fd(int fd, const char *path, uint32_t port, int timeout_ms, uint32_t *host_port)
{
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t plen = strlen(path);
    if (plen == 0 || plen >= sizeof(sa.sun_path)) {
        errno = plen ? ENAMETOOLONG : EINVAL;
        return -1;
    }
    memcpy(sa.sun_path, path, plen + 1);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    if ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
        return -1;

    int rc = -1;
    uint32_t hp = 0;
    char req[VSOCK_LINE_MAX];
    size_t reqlen = vsock_connect_line(req, port);
    if (unix_connect(fd, &sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1),
                     deadline) == 0) {
        ssize_t sent;
        do
            sent = send(fd, req, reqlen, MSG_NOSIGNAL);
        while (sent < 0 && errno == EINTR);
        if (sent == (ssize_t)reqlen)
            rc = read_answer(fd, deadline, &hp);
        else if (sent >= 0 || errno == EPIPE || errno == ECONNRESET)
            errno = ECONNREFUSED;
    }
    int err = errno;
    if (flags & O_NONBLOCK)
        fcntl(fd, F_SETFL, flags);
    if (rc == 0 && host_port)
        *host_port = hp;
    errno = err;
    return rc;
}

int alcove_vsock_connect_uds(const char *uds_path, uint32_t port, int timeout_ms)
{
    if (!uds_path) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (vsock_connect_fd(fd, uds_path, port, timeout_ms, NULL) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int alcove_vsock_uds_path(uint32_t cid, char *buf, size_t size)
{
    return runtime_path(buf, size, cid, "vsock");
}

int alcove_vsock_connect(uint32_t cid, uint32_t port, int timeout_ms)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (alcove_vsock_uds_path(cid, path, sizeof(path)) != 0)
        return -1;
    return alcove_vsock_connect_uds(path, port, timeout_ms);
}

uint32_t alcove_enclave_cid(const char *name)
{
    uint32_t cid = name ? runtime_find_name(name) : 0;
    if (!cid)
        errno = ENOENT;
    return cid;
}
