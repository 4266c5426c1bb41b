/* net_client.c: the host side of bench/vsock.sh. Talks to bench/net_server over TCP loopback,
 * over an enclave's hybrid vsock socket ("CONNECT <port>\n", docs/vsock.md), or to a child
 * process over a Unix socket pair, and prints one number.
 *   net_client TARGET send BYTES WRITE   client -> server throughput, MB/s
 *   net_client TARGET recv BYTES WRITE   server -> client throughput, MB/s
 *   net_client TARGET ping N             1-byte round trips: "median_us p99_us"
 *   net_client TARGET conn N             connections per second (connect, 'c', close)
 * TARGET: tcp:PORT | vsock:UDS_PATH:PORT | pair (a socketpair to a forked server: send/recv/ping)
 *   | lo (a forked server on 127.0.0.1, an ephemeral port: loopback TCP in one program, which
 *   bench/net.sh runs natively and in an enclave; built static as net_client_static)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net_proto.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *g_target;
static int g_lo_port;
static pid_t g_lo_child;

/* "lo": a server on 127.0.0.1 in a forked child, serving connection after connection. */
static int lo_start(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 64) ||
        getsockname(l, (struct sockaddr *)&a, &al))
        return -1;
    g_lo_port = ntohs(a.sin_port);
    g_lo_child = fork();
    if (g_lo_child == 0) {
        for (;;) {
            int c = accept(l, NULL, NULL);
            if (c < 0)
                _exit(1);
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            net_serve(c);
            close(c);
        }
    }
    close(l);
    return g_lo_child > 0 ? 0 : -1;
}

static int dial(void)
{
    int one = 1;
    if (strncmp(g_target, "tcp:", 4) == 0 || strcmp(g_target, "lo") == 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        int port = g_target[0] == 'l' ? g_lo_port : atoi(g_target + 4);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(s, (struct sockaddr *)&a, sizeof(a)))
            return -1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return s;
    }
    if (strncmp(g_target, "vsock:", 6) == 0) {
        char path[256];
        snprintf(path, sizeof(path), "%s", g_target + 6);
        char *colon = strrchr(path, ':');
        if (!colon)
            return -1;
        *colon = 0;
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(a.sun_path))
            return -1;
        memcpy(a.sun_path, path, strlen(path) + 1);
        if (connect(s, (struct sockaddr *)&a, sizeof(a)))
            return -1;
        char line[64];
        int n = snprintf(line, sizeof(line), "CONNECT %s\n", colon + 1);
        if (write_full(s, line, (size_t)n))
            return -1;
        /* "OK <port>\n", byte by byte so no stream byte is eaten */
        for (size_t i = 0; i < sizeof(line); i++) {
            if (read(s, &line[i], 1) != 1)
                return -1;
            if (line[i] == '\n')
                return strncmp(line, "OK ", 3) == 0 ? s : -1;
        }
        return -1;
    }
    return -1;
}

static int open_target(pid_t *child)
{
    *child = 0;
    if (strcmp(g_target, "pair") != 0)
        return dial();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        return -1;
    *child = fork();
    if (*child == 0) {
        close(sv[0]);
        net_serve(sv[1]);
        _exit(0);
    }
    close(sv[1]);
    return sv[0];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: net_client TARGET send|recv BYTES WRITE | ping N | conn N\n");
        return 2;
    }
    g_target = argv[1];
    const char *mode = argv[2];
    pid_t child;
    if (strcmp(g_target, "lo") == 0 && lo_start()) {
        fprintf(stderr, "net_client: no loopback server\n");
        return 1;
    }
    if (strcmp(mode, "conn") == 0) {
        int n = atoi(argv[3]);
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
            int s = dial();
            if (s < 0 || write_full(s, "c", 1)) {
                fprintf(stderr, "connection %d failed\n", i);
                return 1;
            }
            char b;
            while (read(s, &b, 1) > 0)
                ;
            close(s);
        }
        printf("%.0f\n", n / (now_s() - t0));
        if (g_lo_child > 0)
            kill(g_lo_child, SIGKILL);
        return 0;
    }
    int s = open_target(&child);
    if (s < 0) {
        fprintf(stderr, "net_client: cannot connect to %s\n", g_target);
        return 1;
    }
    if (strcmp(mode, "send") == 0 || strcmp(mode, "recv") == 0) {
        uint64_t total = strtoull(argv[3], NULL, 10);
        uint32_t chunk = (uint32_t)atoi(argv[4]);
        memset(g_buf, 'y', chunk);
        double t0 = now_s();
        if (mode[0] == 's') {
            write_full(s, "s", 1);
            for (uint64_t left = total; left;) {
                size_t n = left < chunk ? left : chunk;
                if (write_full(s, g_buf, n))
                    return 1;
                left -= n;
            }
            shutdown(s, SHUT_WR);
            uint64_t got = 0;
            if (read_full(s, &got, 8) || got != total) {
                fprintf(stderr, "net_client: the server counted %llu of %llu bytes\n",
                        (unsigned long long)got, (unsigned long long)total);
                return 1;
            }
        } else {
            char hdr[13] = "g";
            memcpy(hdr + 1, &total, 8);
            memcpy(hdr + 9, &chunk, 4);
            write_full(s, hdr, 13);
            uint64_t got = 0;
            ssize_t r;
            while ((r = read(s, g_buf, sizeof(g_buf))) > 0)
                got += (uint64_t)r;
            if (got != total) {
                fprintf(stderr, "net_client: got %llu of %llu bytes\n", (unsigned long long)got,
                        (unsigned long long)total);
                return 1;
            }
        }
        printf("%.0f\n", (double)total / (now_s() - t0) / 1e6);
    } else if (strcmp(mode, "ping") == 0) {
        int n = atoi(argv[3]);
        double *lat = calloc((size_t)n, sizeof(double));
        write_full(s, "p", 1);
        for (int i = 0; i < n; i++) {
            char b = 'x';
            double t0 = now_s();
            if (write_full(s, &b, 1) || read_full(s, &b, 1))
                return 1;
            lat[i] = (now_s() - t0) * 1e6;
        }
        qsort(lat, (size_t)n, sizeof(double), cmp_double);
        printf("%.1f %.1f\n", lat[n / 2], lat[(int)(n * 0.99)]);
        free(lat);
    }
    close(s);
    if (child)
        waitpid(child, NULL, 0);
    if (g_lo_child > 0) {
        kill(g_lo_child, SIGKILL);
        waitpid(g_lo_child, NULL, 0);
    }
    return 0;
}
