/* vsock_line.h: the one line of Firecracker's hybrid vsock handshake that a host client sends,
 * "CONNECT <port>\n" (keyword case-insensitive, at most VSOCK_LINE_MAX bytes with the newline).
 * A pure function over untrusted bytes, fuzzed by tests/fuzz/fuzz_vsock_line.c. */
#ifndef ALCOVE_VSOCK_LINE_H
#define ALCOVE_VSOCK_LINE_H

#include <stddef.h>
#include <stdint.h>

#define VSOCK_LINE_MAX 32

enum vsock_line {
    VSOCK_LINE_MORE = 0,    /* no newline yet, and what there is could still be valid */
    VSOCK_LINE_OK = 1,      /* *port holds the port; the line (with its newline) is *used bytes */
    VSOCK_LINE_INVALID = -1 /* malformed or too long: close the connection */
};

enum vsock_line vsock_line_parse(const char *buf, size_t len, uint32_t *port, size_t *used);

#endif
