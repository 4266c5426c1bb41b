/* vsock_preload.c: libalcove-preload.so, an LD_PRELOAD shim that lets an unmodified host
 * program use AF_VSOCK to reach alcove enclaves. socket(AF_VSOCK, SOCK_STREAM, 0) makes an
 * AF_UNIX stream socket (same SOCK_CLOEXEC/SOCK_NONBLOCK) that the shim remembers as vsock;
 * connect() to a sockaddr_vm does the hybrid vsock handshake with the enclave of that CID
 * (synchronously, even on a non-blocking socket: it returns 0 or an error, never EINPROGRESS);
 * bind() to (VMADDR_CID_ANY, 2 or 3, port P) and listen() listen at "<cid>.vsock_P" for the
 * enclave whose CID is in the environment variable ALCOVE_ENCLAVE_CID, and close() (in the
 * process that bound it) removes that socket file again. getsockname, getpeername and accept
 * report sockaddr_vm; setsockopt at level AF_VSOCK takes SO_VM_SOCKETS_CONNECT_TIMEOUT (default
 * 10 s) and ignores the buffer sizes. Everything else, and every call on other sockets or with
 * other address families, goes to the next definition (dlsym RTLD_NEXT). Descriptors made by
 * dup() are not remembered: they work, but report AF_UNIX addresses. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "alcove/vsock.h"
#include "common/runtime.h"
#include "sdk/vsock_internal.h"

#define EXPORT                     __attribute__((visibility("default")))
#define DEFAULT_CONNECT_TIMEOUT_MS 10000

/* What the shim knows about one vsock socket. */
struct vsock_fd {
    int fd;
    bool listener;  /* bound by us: close() removes the socket file */
    pid_t owner;    /* the process that bound it */
    bool connected; /* connected or accepted: the peer below is valid */
    struct sockaddr_vm self;
    struct sockaddr_vm peer;
    int connect_timeout_ms;
    ino_t ino; /* the socket's inode: a descriptor closed behind our back (close_range, a
                * raw syscall) and reused for something else is then not taken for ours */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vsock_fd *g_fds;
static size_t g_nfds, g_capfds;
static size_t g_count; /* read without the lock as a fast path (atomic) */

/* The next definition of a function, looked up once. */
#define REAL(name)                                                                                 \
    static __typeof__(name) *real_ptr;                                                             \
    __typeof__(name) *real = __atomic_load_n(&real_ptr, __ATOMIC_ACQUIRE);                         \
    if (!real) {                                                                                   \
        real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);                                        \
        __atomic_store_n(&real_ptr, real, __ATOMIC_RELEASE);                                       \
    }

/* Copies the entry for fd into *out; false when fd is not a vsock socket. */
static bool lookup(int fd, struct vsock_fd *out)
{
    if (fd < 0 || __atomic_load_n(&g_count, __ATOMIC_ACQUIRE) == 0)
        return false;
    bool found = false;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_nfds; i++)
        if (g_fds[i].fd == fd) {
            *out = g_fds[i];
            found = true;
            break;
        }
    pthread_mutex_unlock(&g_lock);
    struct stat st;
    int err = errno;
    if (found && (fstat(fd, &st) != 0 || st.st_ino != out->ino)) {
        pthread_mutex_lock(&g_lock); /* stale: drop it (if nobody replaced it meanwhile) */
        for (size_t i = 0; i < g_nfds; i++)
            if (g_fds[i].fd == fd && g_fds[i].ino == out->ino) {
                g_fds[i] = g_fds[--g_nfds];
                __atomic_store_n(&g_count, g_nfds, __ATOMIC_RELEASE);
                break;
            }
        pthread_mutex_unlock(&g_lock);
        found = false;
    }
    errno = err;
    return found;
}

/* The inode of socket fd (0 when fstat fails). */
static ino_t inode_of(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* Adds or replaces the entry for e->fd. -1 (ENOMEM) when it cannot. */
static int remember(const struct vsock_fd *e)
{
    int rc = 0;
    pthread_mutex_lock(&g_lock);
    size_t i = 0;
    while (i < g_nfds && g_fds[i].fd != e->fd)
        i++;
    if (i == g_nfds) {
        if (g_nfds == g_capfds) {
            size_t cap = g_capfds ? g_capfds * 2 : 16;
            struct vsock_fd *grown = realloc(g_fds, cap * sizeof(*grown));
            if (!grown) {
                rc = -1;
                goto out;
            }
            g_fds = grown;
            g_capfds = cap;
        }
        g_nfds++;
        __atomic_store_n(&g_count, g_nfds, __ATOMIC_RELEASE);
    }
    g_fds[i] = *e;
out:
    pthread_mutex_unlock(&g_lock);
    if (rc)
        errno = ENOMEM;
    return rc;
}

/* Removes fd's entry; true (and *out) when there was one. */
static bool forget(int fd, struct vsock_fd *out)
{
    if (fd < 0 || __atomic_load_n(&g_count, __ATOMIC_ACQUIRE) == 0)
        return false;
    bool found = false;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_nfds; i++)
        if (g_fds[i].fd == fd) {
            *out = g_fds[i];
            g_fds[i] = g_fds[--g_nfds];
            __atomic_store_n(&g_count, g_nfds, __ATOMIC_RELEASE);
            found = true;
            break;
        }
    pthread_mutex_unlock(&g_lock);
    return found;
}

static struct sockaddr_vm vm_addr(uint32_t cid, uint32_t port)
{
    struct sockaddr_vm a;
    memset(&a, 0, sizeof(a));
    a.svm_family = AF_VSOCK;
    a.svm_cid = cid;
    a.svm_port = port;
    return a;
}

/* Copies a sockaddr_vm out as the socket calls do (truncating, reporting the full length). */
static void give_addr(const struct sockaddr_vm *a, struct sockaddr *addr, socklen_t *len)
{
    if (!addr || !len)
        return;
    size_t n = *len < sizeof(*a) ? *len : sizeof(*a);
    memcpy(addr, a, n);
    *len = sizeof(*a);
}

/* The enclave that bind() listens for: ALCOVE_ENCLAVE_CID. 0 when unset or invalid. */
static uint32_t enclave_cid_from_env(void)
{
    const char *s = getenv("ALCOVE_ENCLAVE_CID");
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < RUNTIME_CID_MIN || v > UINT32_MAX - 1)
        return 0;
    return (uint32_t)v;
}

EXPORT int socket(int domain, int type, int protocol)
{
    REAL(socket);
    int base = type & ~(SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (domain != AF_VSOCK || base != SOCK_STREAM)
        return real(domain, type, protocol);
    int fd = real(AF_UNIX, type, 0);
    if (fd < 0)
        return fd;
    struct vsock_fd e = {.fd = fd, .connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS};
    e.ino = inode_of(fd);
    e.self = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
    e.peer = e.self;
    if (remember(&e) != 0) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    return fd;
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    REAL(connect);
    struct vsock_fd e;
    if (!addr || len < sizeof(sa_family_t) || addr->sa_family != AF_VSOCK || !lookup(fd, &e))
        return real(fd, addr, len);
    if (len < sizeof(struct sockaddr_vm)) {
        errno = EINVAL;
        return -1;
    }
    const struct sockaddr_vm *vm = (const struct sockaddr_vm *)addr;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (vm->svm_cid < RUNTIME_CID_MIN || vm->svm_cid == VMADDR_CID_ANY) {
        errno = EHOSTUNREACH; /* only enclaves are reachable this way */
        return -1;
    }
    if (alcove_vsock_uds_path(vm->svm_cid, path, sizeof(path)) != 0)
        return -1;
    uint32_t host_port = 0;
    if (vsock_connect_fd(fd, path, vm->svm_port, e.connect_timeout_ms, &host_port) != 0)
        return -1;
    e.connected = true;
    e.peer = vm_addr(vm->svm_cid, vm->svm_port);
    e.self = vm_addr(ALCOVE_VSOCK_CID_PARENT, host_port);
    remember(&e);
    return 0;
}

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    REAL(bind);
    struct vsock_fd e;
    if (!addr || len < sizeof(sa_family_t) || addr->sa_family != AF_VSOCK || !lookup(fd, &e))
        return real(fd, addr, len);
    if (len < sizeof(struct sockaddr_vm)) {
        errno = EINVAL;
        return -1;
    }
    const struct sockaddr_vm *vm = (const struct sockaddr_vm *)addr;
    uint32_t cid = enclave_cid_from_env();
    if (vm->svm_port == VMADDR_PORT_ANY || !cid ||
        (vm->svm_cid != VMADDR_CID_ANY && vm->svm_cid != VMADDR_CID_HOST &&
         vm->svm_cid != ALCOVE_VSOCK_CID_PARENT)) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    char uds[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char path[sizeof(uds)];
    if (alcove_vsock_uds_path(cid, uds, sizeof(uds)) != 0 ||
        vsock_port_path(path, sizeof(path), uds, vm->svm_port) != 0)
        return -1;
    /* listen(2) comes later, but a bound Unix socket already owns its file: listening now
     * lets the stale-socket check see it as alive */
    if (vsock_bind_listen_fd(fd, path) != 0)
        return -1;
    e.listener = true;
    e.owner = getpid();
    e.self = vm_addr(ALCOVE_VSOCK_CID_PARENT, vm->svm_port);
    e.peer = vm_addr(cid, VMADDR_PORT_ANY);
    remember(&e);
    return 0;
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    REAL(accept4);
    struct vsock_fd e;
    if (!lookup(fd, &e))
        return real(fd, addr, len, flags);
    int c = real(fd, NULL, NULL, flags);
    if (c < 0)
        return c;
    struct vsock_fd ce = {.fd = c, .connected = true, .self = e.self, .peer = e.peer, .owner = 0};
    ce.connect_timeout_ms = e.connect_timeout_ms;
    ce.ino = inode_of(c);
    remember(&ce); /* on ENOMEM the connection still works, with AF_UNIX addresses */
    give_addr(&ce.peer, addr, len);
    return c;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return accept4(fd, addr, len, 0);
}

EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
    REAL(getsockname);
    struct vsock_fd e;
    if (!lookup(fd, &e))
        return real(fd, addr, len);
    if (!addr || !len) {
        errno = EFAULT;
        return -1;
    }
    give_addr(&e.self, addr, len);
    return 0;
}

EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
    REAL(getpeername);
    struct vsock_fd e;
    if (!lookup(fd, &e))
        return real(fd, addr, len);
    if (!e.connected || e.listener) {
        errno = ENOTCONN;
        return -1;
    }
    if (!addr || !len) {
        errno = EFAULT;
        return -1;
    }
    give_addr(&e.peer, addr, len);
    return 0;
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    REAL(setsockopt);
    struct vsock_fd e;
    if (level != AF_VSOCK || !lookup(fd, &e))
        return real(fd, level, name, val, len);
    switch (name) {
    case SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD:
    case SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW: {
        long long sec, usec;
        if (name == SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD && len >= sizeof(struct timeval)) {
            const struct timeval *tv = val;
            sec = tv->tv_sec, usec = tv->tv_usec;
        } else if (len >= 2 * sizeof(long long)) {
            const long long *tv = val; /* struct __kernel_sock_timeval */
            sec = tv[0], usec = tv[1];
        } else {
            errno = EINVAL;
            return -1;
        }
        if (sec < 0 || usec < 0 || usec >= 1000000) {
            errno = EDOM;
            return -1;
        }
        long long ms = sec * 1000 + usec / 1000;
        e.connect_timeout_ms = ms > INT32_MAX ? 0 : (ms == 0 ? 1 : (int)ms);
        return remember(&e);
    }
    case SO_VM_SOCKETS_BUFFER_SIZE:
    case SO_VM_SOCKETS_BUFFER_MIN_SIZE:
    case SO_VM_SOCKETS_BUFFER_MAX_SIZE:
        return 0; /* the monitor's credit decides */
    default:
        errno = ENOPROTOOPT;
        return -1;
    }
}

EXPORT int close(int fd)
{
    REAL(close);
    struct vsock_fd e;
    /* only the process that bound it removes the file: a forked child closing its copy of
     * the listener must not take the parent's socket away */
    if (forget(fd, &e) && e.listener && e.owner == getpid()) {
        struct sockaddr_un sa;
        socklen_t len = sizeof(sa);
        memset(&sa, 0, sizeof(sa));
        int err = errno;
        /* fd is forgotten, so this is the real getsockname */
        if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
            sa.sun_path[0] != 0) {
            sa.sun_path[sizeof(sa.sun_path) - 1] = 0;
            unlink(sa.sun_path);
        }
        errno = err;
    }
    return real(fd);
}
