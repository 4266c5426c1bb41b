/* vsock_client.c: an AF_VSOCK client for the vsock tests.
 *
 *   vsock_client [-C CID] [-t] PORT NBYTES   send NBYTES of the test pattern, half-close, read
 *                                            everything back until EOF, and print
 *                                            "sent N received M checksum X match|MISMATCH"
 *                                            (-t: also the time and the throughput)
 *   vsock_client [-C CID] -e PORT            connect only; print "connect: OK" or
 *                                            "connect: <errno name>"
 *   vsock_client [-C CID] -n PORT            the same with a non-blocking connect, poll and
 *                                            SO_ERROR
 *
 * CID defaults to 3, the parent. Sending and receiving interleave (poll, non-blocking), so an
 * echo peer with bounded buffers never deadlocks us. Exit status 0 on success, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vsock_common.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_only(unsigned cid, unsigned port, int nonblock)
{
    int s = socket(AF_VSOCK, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (s < 0) {
        printf("socket: %s\n", errno_name(errno));
        return 1;
    }
    struct vm_addr a = vm_addr(cid, port);
    int r = connect(s, (struct sockaddr *)&a, sizeof(a));
    int err = r ? errno : 0;
    if (nonblock && err == EINPROGRESS) {
        struct pollfd p = {.fd = s, .events = POLLOUT};
        if (poll(&p, 1, 10000) != 1) {
            printf("connect: poll timed out\n");
            return 1;
        }
        socklen_t len = sizeof(err);
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
    }
    printf("connect: %s\n", errno_name(err));
    close(s);
    return err != 0;
}

int main(int argc, char **argv)
{
    unsigned cid = CID_PARENT;
    int mode = 0, timing = 0, opt;
    while ((opt = getopt(argc, argv, "C:ent")) != -1) {
        switch (opt) {
        case 'C':
            cid = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case 'e':
        case 'n':
            mode = opt;
            break;
        case 't':
            timing = 1;
            break;
        default:
            fprintf(stderr, "usage: vsock_client [-C CID] [-e|-n|-t] PORT [NBYTES]\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: vsock_client [-C CID] [-e|-n|-t] PORT [NBYTES]\n");
        return 2;
    }
    unsigned port = (unsigned)strtoul(argv[optind], NULL, 0);
    if (mode)
        return connect_only(cid, port, mode == 'n');
    unsigned long long total = optind + 1 < argc ? strtoull(argv[optind + 1], NULL, 0) : 0;

    double t0 = now_s();
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (s < 0) {
        printf("socket: %s\n", errno_name(errno));
        return 1;
    }
    struct vm_addr a = vm_addr(cid, port);
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        printf("connect: %s\n", errno_name(errno));
        return 1;
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
    static uint8_t out[64 * 1024], in[64 * 1024];
    unsigned long long sent = 0, received = 0;
    uint64_t sum_sent = CHECKSUM_INIT, sum_recv = CHECKSUM_INIT;
    int shut = 0;
    for (;;) {
        if (sent == total && !shut) {
            if (shutdown(s, SHUT_WR) != 0) {
                printf("shutdown: %s\n", errno_name(errno));
                return 1;
            }
            shut = 1;
        }
        struct pollfd p = {.fd = s, .events = POLLIN | (shut ? 0 : POLLOUT)};
        if (poll(&p, 1, 30000) <= 0) {
            printf("poll: timed out after sent %llu received %llu\n", sent, received);
            return 1;
        }
        if ((p.revents & POLLOUT) && sent < total) {
            size_t n = sizeof(out);
            if (n > total - sent)
                n = (size_t)(total - sent);
            for (size_t i = 0; i < n; i++)
                out[i] = pattern_byte(sent + i);
            ssize_t w = send(s, out, n, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN) {
                printf("send: %s\n", errno_name(errno));
                return 1;
            }
            if (w > 0) {
                sum_sent = checksum_add(sum_sent, out, (size_t)w);
                sent += (unsigned long long)w;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(s, in, sizeof(in));
            if (r < 0 && errno != EAGAIN) {
                printf("read: %s\n", errno_name(errno));
                return 1;
            }
            if (r == 0)
                break;
            if (r > 0) {
                sum_recv = checksum_add(sum_recv, in, (size_t)r);
                received += (unsigned long long)r;
            }
        }
    }
    close(s);
    double dt = now_s() - t0;
    int ok = sent == received && sum_sent == sum_recv;
    printf("sent %llu received %llu checksum %016llx %s\n", sent, received,
           (unsigned long long)sum_recv, ok ? "match" : "MISMATCH");
    if (timing)
        printf("time %.3f s, %.1f MB/s each way\n", dt, dt > 0 ? (double)sent / dt / 1e6 : 0.0);
    return !ok;
}
