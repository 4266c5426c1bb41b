/* vsock_flood.c (hostile guest): opens many AF_VSOCK connections to a host listener and holds
 * them, to show that the monitor bounds what a guest can make the host hold (docs/vsock.md).
 *
 *   vsock_flood [-C CID] [-w BYTES] PORT COUNT
 *
 * Connects COUNT times to CID:PORT (CID 3, the parent, by default), one after another, keeping
 * every connection that succeeds open; with -w, sends up to BYTES on each (non-blocking: as much
 * as the connection takes). Then prints one line,
 *   "flood: opened N refused R failed F sent S"
 * (refused: ECONNREFUSED or ECONNRESET; failed: any other error, the first one's name after it),
 * and holds everything until it is killed. Exit status 2 on bad arguments. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock_common.h"

int main(int argc, char **argv)
{
    unsigned cid = CID_PARENT;
    unsigned long wbytes = 0;
    int opt;
    while ((opt = getopt(argc, argv, "C:w:")) != -1) {
        if (opt == 'C')
            cid = (unsigned)strtoul(optarg, NULL, 0);
        else if (opt == 'w')
            wbytes = strtoul(optarg, NULL, 0);
        else {
            fprintf(stderr, "usage: vsock_flood [-C CID] [-w BYTES] PORT COUNT\n");
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: vsock_flood [-C CID] [-w BYTES] PORT COUNT\n");
        return 2;
    }
    unsigned port = (unsigned)strtoul(argv[optind], NULL, 0);
    long count = strtol(argv[optind + 1], NULL, 0);
    static char chunk[65536];
    memset(chunk, 0xA5, sizeof(chunk));
    long opened = 0, refused = 0, failed = 0;
    unsigned long long sent = 0;
    int first_err = 0;
    for (long i = 0; i < count; i++) {
        int s = socket(AF_VSOCK, SOCK_STREAM, 0);
        if (s < 0) {
            if (!first_err)
                first_err = errno;
            failed++;
            continue;
        }
        struct vm_addr a = vm_addr(cid, port);
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
            int e = errno;
            close(s);
            if (e == ECONNREFUSED || e == ECONNRESET) {
                refused++;
            } else {
                if (!first_err)
                    first_err = e;
                failed++;
            }
            continue;
        }
        opened++;
        if (wbytes) {
            fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
            unsigned long left = wbytes;
            while (left) {
                size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
                ssize_t w = send(s, chunk, n, MSG_NOSIGNAL);
                if (w <= 0)
                    break;
                sent += (unsigned long long)w;
                left -= (unsigned long)w;
            }
        }
    }
    printf("flood: opened %ld refused %ld failed %ld sent %llu%s%s\n", opened, refused, failed,
           sent, first_err ? " " : "", first_err ? errno_name(first_err) : "");
    fflush(stdout);
    for (;;)
        pause();
}
