/* vsock_internal.h: the pieces of libalcove that its own tools share (the LD_PRELOAD shim, the
 * CLI, vsock-proxy) and that are not public API: the hybrid vsock handshake on a socket the
 * caller made, and binding a listener on a path that may hold a stale socket. */
#ifndef ALCOVE_VSOCK_INTERNAL_H
#define ALCOVE_VSOCK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The longest line either side of the handshake sends ("CONNECT 4294967295\n" is 19 bytes;
 * the monitor, like Firecracker, accepts at most 32). */
#define VSOCK_LINE_MAX 32

/* Formats "CONNECT <port>\n" into buf (at least VSOCK_LINE_MAX bytes); returns its length. */
size_t vsock_connect_line(char *buf, uint32_t port);

/* Parses the monitor's answer, the bytes before the '\n': "OK <host_port>". 0 and *host_port,
 * or -1 when it is anything else. */
int vsock_parse_ok(const char *line, size_t len, uint32_t *host_port);

/* Connects the AF_UNIX stream socket fd (blocking or not: it is made blocking for the call and
 * restored) to the hybrid vsock socket at path, then does the CONNECT/OK handshake for port,
 * all within timeout_ms (<= 0: no limit). Reads nothing past the answer's '\n'. 0 and
 * *host_port (may be NULL), or -1 with errno as alcove_vsock_connect(). */
int vsock_connect_fd(int fd, const char *path, uint32_t port, int timeout_ms, uint32_t *host_port);

/* Binds the AF_UNIX stream socket fd to path and listens, replacing a stale socket there (see
 * alcove_vsock_listen). 0, or -1 with errno. */
int vsock_bind_listen_fd(int fd, const char *path);

/* Writes "<uds_path>_<port>" into buf. 0, or -1 (ENAMETOOLONG). */
int vsock_port_path(char *buf, size_t size, const char *uds_path, uint32_t port);

#endif
