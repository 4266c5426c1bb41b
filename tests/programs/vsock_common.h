/* vsock_common.h: what the vsock test programs share: the AF_VSOCK address (declared here, so
 * that the programs build with libcs whose headers lack <linux/vm_sockets.h>), errno names that
 * do not depend on the libc's strerror, the deterministic test pattern and its checksum. */
#ifndef VSOCK_COMMON_H
#define VSOCK_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define VMADDR_CID_ANY  0xffffffffu
#define VMADDR_PORT_ANY 0xffffffffu
#define VMADDR_CID_HOST 2u
#define CID_PARENT      3u

struct vm_addr {
    sa_family_t svm_family;
    unsigned short svm_reserved1;
    unsigned int svm_port;
    unsigned int svm_cid;
    unsigned char svm_flags;
    unsigned char svm_zero[3];
};

static inline struct vm_addr vm_addr(unsigned cid, unsigned port)
{
    struct vm_addr a = {0};
    a.svm_family = AF_VSOCK;
    a.svm_cid = cid;
    a.svm_port = port;
    return a;
}

static inline const char *errno_name(int e)
{
    switch (e) {
    case 0:
        return "OK";
    case EPERM:
        return "EPERM";
    case ENOENT:
        return "ENOENT";
    case EINTR:
        return "EINTR";
    case EBADF:
        return "EBADF";
    case EAGAIN:
        return "EAGAIN";
    case ENOMEM:
        return "ENOMEM";
    case EFAULT:
        return "EFAULT";
    case ENODEV:
        return "ENODEV";
    case EINVAL:
        return "EINVAL";
    case EPIPE:
        return "EPIPE";
    case EDOM:
        return "EDOM";
    case ERANGE:
        return "ERANGE";
    case ENOTTY:
        return "ENOTTY";
    case ENOSYS:
        return "ENOSYS";
    case EPROTO:
        return "EPROTO";
    case ENOTSOCK:
        return "ENOTSOCK";
    case EMSGSIZE:
        return "EMSGSIZE";
    case ENOPROTOOPT:
        return "ENOPROTOOPT";
    case EPROTONOSUPPORT:
        return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT:
        return "ESOCKTNOSUPPORT";
    case EOPNOTSUPP:
        return "EOPNOTSUPP";
    case EAFNOSUPPORT:
        return "EAFNOSUPPORT";
    case EADDRINUSE:
        return "EADDRINUSE";
    case EADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    case ENETUNREACH:
        return "ENETUNREACH";
    case ECONNABORTED:
        return "ECONNABORTED";
    case ECONNRESET:
        return "ECONNRESET";
    case EISCONN:
        return "EISCONN";
    case ENOTCONN:
        return "ENOTCONN";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case EALREADY:
        return "EALREADY";
    case EINPROGRESS:
        return "EINPROGRESS";
    default:
        return "E?";
    }
}

/* byte i of the test stream */
static inline uint8_t pattern_byte(uint64_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13) ^ (uint8_t)i;
}

/* FNV-1a, 64 bits, over a stream given in pieces */
#define CHECKSUM_INIT 0xcbf29ce484222325ull
static inline uint64_t checksum_add(uint64_t h, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#endif
