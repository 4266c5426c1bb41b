/* exec_client.c: one connection to an enclave's exec service, the host's side (exec_client.h).
 * Moved here from cmd_wf_exec.c so that `alcove exec` and `alcove-oci exec` share it. */
#include "cli/exec_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errors.h"
#include "execproto/exec_proto.h"

#define TX_CAP (4 * (EXEC_FRAME_HDR + EXEC_FRAME_MAX))
#define RX_CAP (EXEC_FRAME_HDR + EXEC_FRAME_MAX + 65536)

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    (void)!write(sig_pipe[1], &b, 1);
    errno = saved;
}

int exec_client_catch_signals(exec_report_fn report)
{
    if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) {
        report(E_FILE_OPERATION, "pipe: %s", strerror(errno));
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    static const int passed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
    for (size_t k = 0; k < sizeof(passed) / sizeof(passed[0]); k++)
        sigaction(passed[k], &sa, NULL);
    return 0;
}

static int tx_frame(struct exec_client *io, uint8_t type, const void *payload, uint32_t len)
{
    if (TX_CAP - io->txlen < EXEC_FRAME_HDR + len)
        return -1;
    exec_frame_header(io->tx + io->txlen, type, len);
    if (len)
        memcpy(io->tx + io->txlen + EXEC_FRAME_HDR, payload, len);
    io->txlen += EXEC_FRAME_HDR + len;
    return 0;
}

int exec_client_winsize(int fd, struct exec_winsize *ws)
{
    struct winsize w;
    if (fd < 0 || ioctl(fd, TIOCGWINSZ, &w))
        return -1;
    ws->rows = w.ws_row;
    ws->cols = w.ws_col;
    return 0;
}

/* A terminal's size changed (or, at the start, may have since the request): sent when it
 * differs from what the service has. */
static void follow_size(struct exec_client *io)
{
    struct exec_winsize now;
    if (!io->tty || exec_client_winsize(io->winsize_fd, &now) ||
        (now.rows == io->ws.rows && now.cols == io->ws.cols))
        return;
    uint8_t p[EXEC_WINSIZE_LEN];
    exec_winsize_encode(p, &now);
    if (tx_frame(io, EXEC_F_WINSIZE, p, sizeof(p)) == 0)
        io->ws = now;
}

int exec_client_init(struct exec_client *c, int sock, int in, int out, int err, char *const *argv,
                     int argc, char *const *env, int envc, const char *cwd,
                     const struct exec_winsize *tty, exec_report_fn report)
{
    *c = (struct exec_client){.sock = sock,
                              .in_fd = in,
                              .out_fd = out,
                              .err_fd = err,
                              .report = report,
                              .status = EXEC_STATUS_FAILED,
                              .winsize_fd = -1,
                              .tty = tty != NULL};
    if (tty)
        c->ws = *tty;
    c->tx = malloc(TX_CAP);
    c->rx = malloc(RX_CAP);
    if (!c->tx || !c->rx) {
        report(E_UNSPECIFIED, "out of memory");
        exec_client_free(c);
        return -1;
    }
    size_t n = exec_request_encode(c->tx + EXEC_FRAME_HDR, EXEC_FRAME_MAX, argv, argc, env, envc,
                                   cwd, tty);
    if (!n) {
        report(E_INVALID_ARGUMENT,
               "the arguments and variables are over the limits (%d arguments, %d variables, "
               "64 KiB in all)",
               EXEC_MAX_ARGS, EXEC_MAX_ENV);
        exec_client_free(c);
        return -1;
    }
    exec_frame_header(c->tx, EXEC_F_REQUEST, (uint32_t)n);
    c->txlen = EXEC_FRAME_HDR + n;
    return 0;
}

void exec_client_free(struct exec_client *c)
{
    free(c->tx);
    free(c->rx);
    c->tx = c->rx = NULL;
}

static void out_all(int fd, const uint8_t *p, size_t n, int *gone)
{
    while (n && !*gone) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            *gone = 1; /* our stdout or stderr has no reader: the rest is dropped */
            break;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* The status for a FAIL frame (reported). */
static int failed(const struct exec_client *c, const struct exec_frame *f)
{
    const char *text = (const char *)f->payload + 1;
    int n = (int)f->len - 1;
    switch (f->payload[0]) {
    case EXEC_FAIL_ENTRY:
        /* the words podman maps (getOCIRuntimeError) to exec's status 126 */
        c->report(E_ENTRY_POINT_REFUSED, "%.*s: permission denied", n, text);
        return 126;
    case EXEC_FAIL_ENV:
        c->report(E_ENV_REFUSED, "%.*s", n, text);
        return EXEC_STATUS_FAILED;
    case EXEC_FAIL_NOT_FOUND:
        c->report(E_EXECUTABLE_NOT_FOUND, "%.*s", n, text);
        return 127;
    case EXEC_FAIL_CANNOT:
        c->report(E_EXECUTABLE_FORMAT, "%.*s", n, text);
        return 126;
    default:
        c->report(E_EXEC_SERVICE, "the exec service: %.*s", n, text);
        return EXEC_STATUS_FAILED;
    }
}

/* Handles the frames received (up to STARTED when until_started). -1 on a protocol error
 * (reported). */
static int take_frames(struct exec_client *io, int until_started)
{
    size_t off = 0;
    while (!io->done && !(until_started && io->started)) {
        struct exec_frame f;
        long used = exec_frame_next(io->rx + off, io->rxlen - off, EXEC_TO_HOST, &f);
        if (used == 0)
            break;
        if (used < 0 || f.type == EXEC_F_PING) {
            io->report(E_EXEC_SERVICE, "the exec service sent a malformed frame");
            return -1;
        }
        off += (size_t)used;
        if (f.type == EXEC_F_STARTED)
            io->started = 1;
        else if (f.type == EXEC_F_STDOUT)
            out_all(io->out_fd, f.payload, f.len, &io->out_gone);
        else if (f.type == EXEC_F_STDERR)
            out_all(io->err_fd, f.payload, f.len, &io->err_gone);
        else if (f.type == EXEC_F_EXIT) {
            io->status = f.payload[0] == EXEC_EXIT_SIGNAL ? 128 + f.payload[1] : f.payload[1];
            io->done = 1;
        } else if (f.type == EXEC_F_FAIL) {
            io->status = failed(io, &f);
            io->done = 1;
        }
    }
    memmove(io->rx, io->rx + off, io->rxlen - off);
    io->rxlen -= off;
    return 0;
}

int exec_client_relay(struct exec_client *io, int until_started)
{
    static uint8_t inbuf[EXEC_FRAME_MAX];
    if (take_frames(io, until_started)) /* what an earlier call received and left */
        return -1;
    if (!until_started)
        follow_size(io); /* a resize between the request and now (the engine's, at the start) */
    while (!io->done && !(until_started && io->started)) {
        struct pollfd p[3] = {{.fd = -1}, {.fd = -1}, {.fd = sig_pipe[0], .events = POLLIN}};
        if (!io->in_eof && !until_started &&
            TX_CAP - io->txlen >= 2 * (EXEC_FRAME_HDR + EXEC_FRAME_MAX))
            p[0] = (struct pollfd){.fd = io->in_fd, .events = POLLIN};
        p[1] = (struct pollfd){
            .fd = io->sock,
            .events = (short)((io->rxlen < RX_CAP ? POLLIN : 0) | (io->txlen ? POLLOUT : 0))};
        int wait_ms = io->tty && io->winsize_poll && !until_started ? EXEC_WINSIZE_POLL_MS : -1;
        int ready = poll(p, 3, wait_ms);
        if (wait_ms >= 0)
            follow_size(io);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            io->report(E_SOCKET, "poll: %s", strerror(errno));
            return -1;
        }
        if (p[2].revents) {
            unsigned char sigs[16];
            ssize_t n = read(sig_pipe[0], sigs, sizeof(sigs));
            for (ssize_t k = 0; k < n; k++) {
                if (sigs[k] == SIGWINCH)
                    follow_size(io);
                else
                    tx_frame(io, EXEC_F_SIGNAL, &sigs[k], 1); /* dropped only when tx is full */
            }
        }
        if (p[0].revents) {
            ssize_t n = read(io->in_fd, inbuf, sizeof(inbuf));
            if (n > 0) {
                tx_frame(io, EXEC_F_STDIN, inbuf, (uint32_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                io->in_eof = 1; /* end of file, or a stdin that cannot be read: as /dev/null */
                tx_frame(io, EXEC_F_STDIN, NULL, 0);
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(io->sock, io->rx + io->rxlen, RX_CAP - io->rxlen, MSG_DONTWAIT);
            if (n > 0) {
                io->rxlen += (size_t)n;
                if (take_frames(io, until_started))
                    return -1;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (take_frames(io, until_started))
                    return -1;
                if (!io->done && !(until_started && io->started)) {
                    io->report(E_EXEC_SERVICE, "the connection ended before the program's exit "
                                               "status came (was the enclave stopped?)");
                    io->status = EXEC_STATUS_FAILED;
                    return -1;
                }
            }
        }
        if (io->txlen && (p[1].revents & POLLOUT)) {
            ssize_t n = send(io->sock, io->tx, io->txlen, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                memmove(io->tx, io->tx + n, io->txlen - (size_t)n);
                io->txlen -= (size_t)n;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                io->txlen = 0; /* the service stopped reading: its answer tells why */
                io->in_eof = 1;
            }
        }
    }
    return 0;
}
