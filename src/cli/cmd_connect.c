/* cmd_connect.c: `alcove connect`: joins stdin and stdout to a vsock port in an enclave, like
 * `socat - VSOCK-CONNECT:cid:port`. One thread and poll(2): stdin's bytes go to the enclave, the
 * enclave's to stdout, each through its own 256 KiB buffer, so a slow stdout stalls only the
 * enclave → stdout direction. stdin and stdout are used as they are (their file status flags
 * are shared with other processes, so they stay blocking: we read stdin only after poll says it
 * is readable, and a write to stdout may wait for its reader). When stdin ends, the socket's
 * writing side is shut (a vsock SHUTDOWN: the enclave reads EOF) and we keep copying the
 * enclave's bytes until it closes; then the status is 0. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "alcove/vsock.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "cli/vsock_args.h"
#include "common/errors.h"

#define BUF_SIZE           (256 * 1024)
#define DEFAULT_TIMEOUT_MS 10000

/* One direction of the copy. */
struct pipe_dir {
    char *buf;
    size_t head, len;
    bool eof;
};

/* Reports a failed connect; returns the exit status. */
static int connect_error(int err, uint32_t cid, uint32_t port, int timeout_ms)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)] = "?";
    alcove_vsock_uds_path(cid, path, sizeof(path));
    switch (err) {
    case EHOSTUNREACH:
    case ENOENT:
        alc_err_report(E_ENCLAVE_NOT_FOUND, "no running enclave has the CID %u (%s: no one there)",
                       cid, path);
        return E_ENCLAVE_NOT_FOUND;
    case EACCES:
        alc_err_report(E_ENCLAVE_PROCESS_CONNECTION,
                       "the enclave with CID %u is another user's (%s): only the user who "
                       "started it and root may connect to it",
                       cid, path);
        return E_ENCLAVE_PROCESS_CONNECTION;
    case ECONNREFUSED:
        alc_err_report(E_VSOCK_REFUSED, "nothing in the enclave with CID %u listens on port %u",
                       cid, port);
        return E_VSOCK_REFUSED;
    case ETIMEDOUT:
        alc_err_report(E_SOCKET_CONNECT_TIMEOUT,
                       "the enclave with CID %u did not answer on port %u within %d ms", cid, port,
                       timeout_ms);
        return E_SOCKET_CONNECT_TIMEOUT;
    case EPROTO:
        alc_err_report(E_SOCKET, "%s: the answer to CONNECT %u was not 'OK <port>'", path, port);
        return E_SOCKET;
    default:
        alc_err_report(E_SOCKET, "%s: %s", path, strerror(err));
        return E_SOCKET;
    }
}

/* Writes what the buffer holds to fd (one call). 0, or -1 with errno. */
static int flush_some(int fd, struct pipe_dir *d, bool sock)
{
    ssize_t n = sock ? send(fd, d->buf + d->head, d->len, MSG_NOSIGNAL)
                     : write(fd, d->buf + d->head, d->len);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    d->head += (size_t)n;
    d->len -= (size_t)n;
    if (!d->len)
        d->head = 0;
    return 0;
}

/* Copies until the enclave closes. Returns the exit status. */
static int copy_loop(int sock)
{
    struct pipe_dir up = {0}, down = {0}; /* up: stdin → enclave; down: enclave → stdout */
    up.buf = malloc(BUF_SIZE);
    down.buf = malloc(BUF_SIZE);
    if (!up.buf || !down.buf) {
        free(up.buf);
        free(down.buf);
        alc_err_report(E_UNSPECIFIED, "out of memory");
        return E_UNSPECIFIED;
    }
    int status = 0;
    bool shut = false;
    for (;;) {
        if (up.eof && !up.len && !shut) {
            shutdown(sock, SHUT_WR);
            shut = true;
        }
        if (down.eof && !down.len)
            break; /* the enclave closed and stdout has it all */
        struct pollfd p[3] = {{.fd = -1}, {.fd = -1}, {.fd = -1}};
        if (!up.eof && !up.len)
            p[0] = (struct pollfd){.fd = 0, .events = POLLIN};
        bool can_read = !down.eof && down.len < BUF_SIZE;
        p[1].events = (short)((can_read ? POLLIN : 0) | (up.len ? POLLOUT : 0));
        p[1].fd = p[1].events ? sock : -1; /* else its POLLHUP would wake us for nothing */
        if (down.len)
            p[2] = (struct pollfd){.fd = 1, .events = POLLOUT};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            alc_err_report(E_SOCKET, "poll: %s", strerror(errno));
            status = E_SOCKET;
            break;
        }
        if (p[0].revents) { /* stdin: data, EOF, or an error or closed descriptor (as EOF) */
            ssize_t n = read(0, up.buf, BUF_SIZE);
            if (n > 0)
                up.len = (size_t)n;
            else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                up.eof = true;
        }
        if (can_read && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (down.head + down.len == BUF_SIZE) {
                memmove(down.buf, down.buf + down.head, down.len);
                down.head = 0;
            }
            ssize_t n = recv(sock, down.buf + down.head + down.len, BUF_SIZE - down.head - down.len,
                             MSG_DONTWAIT);
            if (n > 0) {
                down.len += (size_t)n;
            } else if (n == 0) {
                down.eof = true;
            } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                alc_err_report(E_SOCKET, "the connection to the enclave failed: %s",
                               strerror(errno));
                status = E_SOCKET;
                break;
            }
        }
        if (up.len && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            if (flush_some(sock, &up, true) != 0) {
                /* the enclave no longer reads (EPIPE): drop stdin, read what it still sends */
                up.len = 0;
                up.eof = true;
                shut = true;
            }
        }
        if (down.len && p[2].revents) {
            if (flush_some(1, &down, false) != 0) {
                if (errno != EPIPE) {
                    alc_err_report(E_FILE_OPERATION, "stdout: %s", strerror(errno));
                    status = E_FILE_OPERATION;
                }
                break; /* stdout's reader has gone: nothing more to do */
            }
        }
    }
    free(up.buf);
    free(down.buf);
    return status;
}

static int run_connect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"enclave-cid", required_argument, NULL, 'c'},
        {"enclave-name", required_argument, NULL, 'n'},
        {"enclave-id", required_argument, NULL, 'i'},
        {"port", required_argument, NULL, 'p'},
        {"connect-timeout", required_argument, NULL, 't'},
        {0},
    };
    const char *cid_s = NULL, *name = NULL, *id = NULL, *port_s = NULL;
    int timeout_ms = DEFAULT_TIMEOUT_MS, rc, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            cid_s = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'i':
            id = optarg;
            break;
        case 'p':
            port_s = optarg;
            break;
        case 't':
            if ((rc = vsock_arg_seconds("--connect-timeout", optarg, &timeout_ms)))
                return rc;
            break;
        default:
            return args_getopt_error(c, argv, "connect");
        }
    }
    if (optind < argc) {
        return args_usage_error(E_INVALID_ARGUMENT, "unexpected argument '%s'", argv[optind]);
    }
    if (!port_s) {
        return args_usage_error(E_MISSING_ARGUMENT, "which vsock port? (--port P)");
    }
    uint32_t cid, port;
    uid_t owner;
    if ((rc = vsock_arg_u32("--port", port_s, 0, UINT32_MAX - 1, &port)) ||
        (rc = vsock_arg_enclave(cid_s, name, id, &cid, &owner)))
        return rc;

    /* only the socket of the user who started the enclave, served by its monitor */
    int sock = enclave_vsock_connect(cid, owner, port, timeout_ms);
    if (sock < 0 && errno == EPERM) {
        alc_err_report(E_ENCLAVE_PROCESS_CONNECTION, "the enclave with CID %u: %s", cid,
                       enclave_socket_why());
        return E_ENCLAVE_PROCESS_CONNECTION;
    }
    if (sock < 0)
        return connect_error(errno, cid, port, timeout_ms);
    signal(SIGPIPE, SIG_IGN); /* a gone stdout reader is an EPIPE, handled */
    int status = copy_loop(sock);
    close(sock);
    return status;
}

const struct command cmd_connect = {
    .name = "connect",
    .run = run_connect,
    .summary = "join stdin and stdout to a vsock port in an enclave",
    .usage =
        "Usage: alcove connect (--enclave-cid CID | --enclave-name NAME | --enclave-id ID)\n"
        "                      --port PORT [--connect-timeout SECONDS]\n\n"
        "Connects to vsock port PORT of a running enclave (through its hybrid vsock socket in\n"
        "the runtime directory) and copies stdin to it and what it sends to stdout, like\n"
        "`socat - VSOCK-CONNECT:CID:PORT`. When stdin ends, the connection is half-closed (the\n"
        "enclave reads EOF) and the output goes on until the enclave closes; the status is\n"
        "then 0.\n\n"
        "Options:\n"
        "  --enclave-cid CID         the enclave's vsock CID (4 and up)\n"
        "  --enclave-name NAME       the enclave's name\n"
        "  --enclave-id ID           the enclave's ID\n"
        "  --port PORT               the vsock port a program in the enclave listens on\n"
        "  --connect-timeout SECONDS how long to wait for the enclave to accept (default 10)\n\n"
        "Errors: [ E90 ] no enclave has the CID or ID, [ E58 ] none has the name, [ E91 ]\n"
        "nothing listens on the port, [ E10 ] no answer in time, [ E11 ] a socket error; the\n"
        "status is the error's number.\n",
};
