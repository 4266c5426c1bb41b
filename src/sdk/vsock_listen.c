/* vsock_listen.c: libalcove's listeners for enclave → host connections. When a program in the
 * enclave connects to CID 3 port P, the monitor connects to the Unix socket
 * "<runtime dir>/<cid>.vsock_P"; a host program listens there. Unix socket files outlive their
 * listeners, so a listener that died leaves a stale file that makes bind(2) fail: we replace a
 * file that is a socket nobody listens on (not listed as listening in /proc/net/unix, and
 * connect(2) is refused), never a live one or a non-socket. The probe and the replacement, and
 * our own bind and listen, are made under an exclusive flock of the directory, so two alcove
 * listeners never both decide a socket is stale, nor take a socket bound but not yet listening
 * for a stale one. Nobody waits for that lock more than 10 s (a member of a shared directory's
 * group can hold it): then the bind goes on without it, replacing nothing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alcove/vsock.h"
#include "common/runtime.h"
#include "sdk/vsock_internal.h"

int vsock_port_path(char *buf, size_t size, const char *uds_path, uint32_t port)
{
    int n = snprintf(buf, size, "%s_%u", uds_path, port);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Opens and locks the directory holding path: the fd, or -1 when it cannot be opened or
 * another process holds the lock longer than LOCK_WAIT_MS. In a runtime directory a group
 * shares, any member may lock it (flock needs only a descriptor) and hold it for ever: then
 * the caller goes on without the lock, and replaces no socket (see vsock_bind_listen_fd). */
#define LOCK_WAIT_MS 10000
static int lock_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (int waited = 0;; waited += 20) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= LOCK_WAIT_MS)
            break;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return -1;
}

/* Whether /proc/net/unix lists a listening stream socket bound to path: 1 yes, 0 no, -1 cannot
 * tell. (Looking, rather than connecting, spares a live listener a connection it would accept.)
 * Lines: "Num RefCount Protocol Flags Type St Inode Path"; Flags has __SO_ACCEPTCON (0x10000)
 * when the socket listens. */
static int listed_as_listening(const char *path)
{
    FILE *f = fopen("/proc/net/unix", "re");
    if (!f)
        return -1;
    char line[PATH_MAX + 128];
    size_t plen = strlen(path);
    int found = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        unsigned long flags, type, inode;
        int at = 0;
        if (sscanf(line, "%*s %*s %*s %lx %lx %*s %lu %n", &flags, &type, &inode, &at) != 3 || !at)
            continue;
        const char *p = line + at;
        found = (flags & 0x10000) && type == SOCK_STREAM && strncmp(p, path, plen) == 0 &&
                (p[plen] == '\n' || p[plen] == 0);
    }
    fclose(f);
    return found;
}

/* Whether the socket file at sa is stale: nobody accepts on it. A listener that /proc/net/unix
 * shows is alive; else a connect(2) that is refused confirms it (a socket bound by a relative
 * path is listed under that path, so the listing alone could miss it). */
static int is_stale(const struct sockaddr_un *sa, socklen_t salen)
{
    if (listed_as_listening(sa->sun_path) == 1)
        return 0;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return 0;
    int rc = connect(s, (const struct sockaddr *)sa, salen);
    int stale = rc != 0 && errno == ECONNREFUSED; /* EAGAIN: alive, its backlog is full */
    close(s);
    return stale;
}

int vsock_bind_listen_fd(int fd, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t plen = strlen(path);
    if (plen == 0 || plen >= sizeof(sa.sun_path)) {
        errno = plen ? ENAMETOOLONG : EINVAL;
        return -1;
    }
    memcpy(sa.sun_path, path, plen + 1);
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);

    int dirfd = lock_dir(path);
    /* runtime_listen: the socket's mode is 0600 whatever the umask, so only this user (and
     * root's monitor) can connect to it */
    int rc = runtime_listen(fd, path, SOMAXCONN);
    struct stat ost;
    if (rc != 0 && errno == EADDRINUSE && geteuid() == 0 && runtime_dir_shared(NULL) &&
        lstat(path, &ost) == 0 && S_ISSOCK(ost.st_mode) && ost.st_uid != 0) {
        /* root, in a directory shared with a group: a member's socket at the path root listens
         * on is taken away, live or not (a member must not keep root's listeners out; the
         * monitors of root's enclaves never connect to it anyway) */
        unlink(path);
        rc = runtime_listen(fd, path, SOMAXCONN);
    }
    /* a stale socket is replaced only under the lock: without it (held by another process for
     * too long), a socket another listener bound but does not listen on yet could look stale */
    if (rc != 0 && errno == EADDRINUSE && dirfd >= 0) {
        struct stat st;
        if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
            errno = EEXIST;
        } else if (is_stale(&sa, salen)) {
            unlink(path);
            rc = runtime_listen(fd, path, SOMAXCONN);
        } else {
            errno = EADDRINUSE;
        }
    }
    int err = errno;
    if (dirfd >= 0)
        close(dirfd); /* drops the lock */
    errno = err;
    return rc;
}

int alcove_vsock_listen_uds(const char *uds_path, uint32_t port)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (!uds_path) {
        errno = EINVAL;
        return -1;
    }
    if (vsock_port_path(path, sizeof(path), uds_path, port) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (vsock_bind_listen_fd(fd, path) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int alcove_vsock_listen(uint32_t cid, uint32_t port)
{
    char uds[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (runtime_path(uds, sizeof(uds), cid, "vsock") != 0)
        return -1;
    return alcove_vsock_listen_uds(uds, port);
}

int alcove_vsock_unlisten(int listen_fd)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    int rc = 0;
    if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) != 0) {
        rc = -1;
    } else if (sa.sun_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path) &&
               sa.sun_path[0] != 0) {
        sa.sun_path[sizeof(sa.sun_path) - 1] = 0;
        if (unlink(sa.sun_path) != 0 && errno != ENOENT)
            rc = -1;
    }
    int err = errno;
    if (close(listen_fd) != 0 && rc == 0)
        return -1;
    if (rc != 0)
        errno = err;
    return rc;
}
