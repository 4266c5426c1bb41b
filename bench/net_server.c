/* net_server.c: the server side of bench/vsock.sh, one static program that runs natively on
 * TCP loopback or in an enclave on AF_VSOCK, so both sides do the same work.
 *   net_server tcp PORT | tcp-any PORT | vsock PORT
 * tcp listens on 127.0.0.1, tcp-any on 0.0.0.0 (what a published port reaches in an enclave,
 * bench/net.sh).
 * The protocol is net_proto.h's. Connections are served one after another; the server runs until
 * killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_proto.h"

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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: net_server tcp|tcp-any|vsock PORT\n");
        return 2;
    }
    int port = atoi(argv[2]), s, one = 1;
    bool tcp = strncmp(argv[1], "tcp", 3) == 0;
    if (tcp) {
        s = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(strcmp(argv[1], "tcp-any") == 0 ? INADDR_ANY : INADDR_LOOPBACK);
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
        if (tcp)
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        net_serve(c);
        close(c);
    }
}
