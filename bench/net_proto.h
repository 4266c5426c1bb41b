/* net_proto.h: the protocol of bench/vsock.sh, shared by bench/net_server.c (natively on TCP,
 * in an enclave on AF_VSOCK) and bench/net_client.c (which also serves it to a forked process
 * over a socket pair). Each connection starts with one command byte:
 *   's' sink: read until EOF, then write the byte count as 8 bytes (little-endian);
 *   'g' source: read an 8-byte count and a 4-byte write size, write that many bytes;
 *   'p' ping-pong: echo every read, one read and one write at a time, until EOF;
 *   'c' nothing (connection set-up cost). */
#ifndef ALCOVE_NET_PROTO_H
#define ALCOVE_NET_PROTO_H

#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char g_buf[1 << 20];

static int read_full(int fd, void *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, (char *)p + done, n - done);
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = write(fd, (const char *)p + done, n - done);
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* Serves one connection's command. */
static void net_serve(int c)
{
    char cmd;
    if (read_full(c, &cmd, 1))
        return;
    if (cmd == 's') {
        uint64_t total = 0;
        ssize_t r;
        while ((r = read(c, g_buf, sizeof(g_buf))) > 0)
            total += (uint64_t)r;
        write_full(c, &total, 8);
    } else if (cmd == 'g') {
        uint64_t total;
        uint32_t chunk;
        if (read_full(c, &total, 8) || read_full(c, &chunk, 4) || chunk == 0 ||
            chunk > sizeof(g_buf))
            return;
        memset(g_buf, 'x', chunk);
        while (total) {
            size_t n = total < chunk ? total : chunk;
            if (write_full(c, g_buf, n))
                return;
            total -= n;
        }
    } else if (cmd == 'p') {
        char b[64];
        ssize_t r;
        while ((r = read(c, b, sizeof(b))) > 0)
            if (write_full(c, b, (size_t)r))
                return;
    }
}

#endif
