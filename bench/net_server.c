/* net_server.c: the server side of bench/vsock.sh, one static program that runs natively on
 * TCP loopback or in an enclave on AF_VSOCK, so both sides do the same work.
 *   net_server tcp PORT | vsock PORT
 * Each connection starts with one command byte:
 *   's' sink: read until EOF, then write the byte count as 8 bytes (little-endian) and close;
 *   'g' source: read an 8-byte count and a 4-byte write size, write that many bytes, close;
 *   'p' ping-pong: echo every byte read, one read and one write at a time, until EOF;
 *   'c' close at once (connection set-up cost).
 * Connections are served one after another; the server runs until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
struct sockaddr_vm_ {
    unsigned short svm_family;
    unsigned short svm_reserved1;
    unsigned int svm_port;
    unsigned int svm_cid;
    unsigned char svm_zero[4];
};

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

static void serve(int c)
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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: net_server tcp|vsock PORT\n");
        return 2;
    }
    int port = atoi(argv[2]), s, one = 1;
    if (strcmp(argv[1], "tcp") == 0) {
        s = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(s, (struct sockaddr *)&a, sizeof(a))) {
            perror("bind");
            return 1;
        }
    } else {
        s = socket(AF_VSOCK, SOCK_STREAM, 0);
        struct sockaddr_vm_ a = {
            .svm_family = AF_VSOCK, .svm_port = (unsigned)port, .svm_cid = 0xffffffffu};
        if (bind(s, (struct sockaddr *)&a, sizeof(a))) {
            perror("bind");
            return 1;
        }
    }
    if (listen(s, 64)) {
        perror("listen");
        return 1;
    }
    printf("listening\n");
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            perror("accept");
            return 1;
        }
        if (strcmp(argv[1], "tcp") == 0)
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        serve(c);
        close(c);
    }
}
