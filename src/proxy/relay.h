/* relay.h: the copy engine of vsock-proxy: accepts connections on a listening socket and joins
 * each to a new connection it dials (TCP to an address of a cache, or an enclave's vsock port
 * through its hybrid vsock socket), copying both ways until both sides have finished. */
#ifndef ALCOVE_PROXY_RELAY_H
#define ALCOVE_PROXY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "proxy/resolve.h"

enum relay_dest_kind {
    RELAY_TO_TCP,   /* the addresses of an addr_cache, tried in order */
    RELAY_TO_VSOCK, /* a port in an enclave, through its hybrid vsock socket */
};

struct relay_config {
    int listen_fd; /* a listening stream socket (made non-blocking by relay_run) */
    enum relay_dest_kind kind;
    struct addr_cache *tcp; /* RELAY_TO_TCP */
    const char *vsock_uds;  /* RELAY_TO_VSOCK: "<runtime dir>/<cid>.vsock" */
    uint32_t vsock_port;    /* RELAY_TO_VSOCK */
    uid_t vsock_owner;      /* RELAY_TO_VSOCK: the socket's server must run as this user (the
                               enclave's owner: SO_PEERCRED), else the client is dropped */
    int workers;            /* threads, each with its own epoll; >= 1 */
    size_t buf_size;        /* bytes buffered per connection and direction */
    int dial_timeout_ms;    /* a dial (and handshake) not done by then is given up */
    size_t max_conns;       /* per worker; more clients wait in the listen backlog */
};

/* Runs until stop_fd (an eventfd or a pipe's read end) becomes readable, then closes every
 * connection and returns 0; -errno when the workers cannot be started. */
int relay_run(const struct relay_config *cfg, int stop_fd);

#endif
