/* cmd_wf_exec.c: `alcove exec [DIR] PROGRAM [ARGS]` (docs/workflow.md, "start, exec, stop"):
 * runs a program in the enclave `alcove start` launched for DIR, through its exec service, as
 * `docker exec` does in a container. One connection to the service's vsock port per program
 * (so several run at once); the request, then stdin as frames and the program's stdout and
 * stderr back to ours, until its exit status, which is ours (128 + N when signal N ended it).
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed to the program's process group. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alcove/vsock.h"
#include "cli/enclaves.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/wf_exec.h"
#include "cli/wf_started.h"
#include "common/errors.h"
#include "execproto/exec_proto.h"

#define STATUS_ALCOVE_FAILED 125
#define TX_CAP               (4 * (EXEC_FRAME_HDR + EXEC_FRAME_MAX))
#define RX_CAP               (EXEC_FRAME_HDR + EXEC_FRAME_MAX + 65536)

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    (void)!write(sig_pipe[1], &b, 1);
    errno = saved;
}

struct exec_io {
    uint8_t *tx, *rx;
    size_t txlen, rxlen;
    int status, done;
    int out_gone, err_gone; /* our stdout or stderr has no reader: the rest is dropped */
};

static int tx_frame(struct exec_io *io, uint8_t type, const void *payload, uint32_t len)
{
    if (TX_CAP - io->txlen < EXEC_FRAME_HDR + len)
        return -1;
    exec_frame_header(io->tx + io->txlen, type, len);
    if (len)
        memcpy(io->tx + io->txlen + EXEC_FRAME_HDR, payload, len);
    io->txlen += EXEC_FRAME_HDR + len;
    return 0;
}

static void out_all(int fd, const uint8_t *p, size_t n, int *gone)
{
    while (n && !*gone) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            *gone = 1;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* The status for a FAIL frame (reported). */
static int failed(const struct exec_frame *f)
{
    const char *text = (const char *)f->payload + 1;
    int n = (int)f->len - 1;
    switch (f->payload[0]) {
    case EXEC_FAIL_ENTRY:
        alc_err_report(E_ENTRY_POINT_REFUSED, "%.*s", n, text);
        return 126;
    case EXEC_FAIL_ENV:
        alc_err_report(E_ENV_REFUSED, "%.*s", n, text);
        return STATUS_ALCOVE_FAILED;
    case EXEC_FAIL_NOT_FOUND:
        alc_err_report(E_EXECUTABLE_NOT_FOUND, "%.*s", n, text);
        return 127;
    case EXEC_FAIL_CANNOT:
        alc_err_report(E_EXECUTABLE_FORMAT, "%.*s", n, text);
        return 126;
    default:
        alc_err_report(E_EXEC_SERVICE, "the exec service: %.*s", n, text);
        return STATUS_ALCOVE_FAILED;
    }
}

/* Handles the frames received. -1 on a protocol error (reported). */
static int take_frames(struct exec_io *io)
{
    size_t off = 0;
    while (!io->done) {
        struct exec_frame f;
        long used = exec_frame_next(io->rx + off, io->rxlen - off, EXEC_TO_HOST, &f);
        if (used == 0)
            break;
        if (used < 0 || f.type == EXEC_F_PING) {
            alc_err_report(E_EXEC_SERVICE, "the exec service sent a malformed frame");
            return -1;
        }
        off += (size_t)used;
        if (f.type == EXEC_F_STDOUT)
            out_all(1, f.payload, f.len, &io->out_gone);
        else if (f.type == EXEC_F_STDERR)
            out_all(2, f.payload, f.len, &io->err_gone);
        else if (f.type == EXEC_F_EXIT) {
            io->status = f.payload[0] == EXEC_EXIT_SIGNAL ? 128 + f.payload[1] : f.payload[1];
            io->done = 1;
        } else if (f.type == EXEC_F_FAIL) {
            io->status = failed(&f);
            io->done = 1;
        }
    }
    memmove(io->rx, io->rx + off, io->rxlen - off);
    io->rxlen -= off;
    return 0;
}

static int relay(int sock, struct exec_io *io)
{
    static uint8_t inbuf[EXEC_FRAME_MAX];
    int in_eof = 0;
    while (!io->done) {
        struct pollfd p[3] = {{.fd = -1}, {.fd = -1}, {.fd = sig_pipe[0], .events = POLLIN}};
        if (!in_eof && TX_CAP - io->txlen >= 2 * (EXEC_FRAME_HDR + EXEC_FRAME_MAX))
            p[0] = (struct pollfd){.fd = 0, .events = POLLIN};
        p[1] = (struct pollfd){
            .fd = sock,
            .events = (short)((io->rxlen < RX_CAP ? POLLIN : 0) | (io->txlen ? POLLOUT : 0))};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            alc_err_report(E_SOCKET, "poll: %s", strerror(errno));
            return -1;
        }
        if (p[2].revents) {
            unsigned char sigs[16];
            ssize_t n = read(sig_pipe[0], sigs, sizeof(sigs));
            for (ssize_t k = 0; k < n; k++)
                tx_frame(io, EXEC_F_SIGNAL, &sigs[k], 1); /* dropped only when tx is full */
        }
        if (p[0].revents) {
            ssize_t n = read(0, inbuf, sizeof(inbuf));
            if (n > 0) {
                tx_frame(io, EXEC_F_STDIN, inbuf, (uint32_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                in_eof = 1; /* end of file, or a stdin that cannot be read: as /dev/null */
                tx_frame(io, EXEC_F_STDIN, NULL, 0);
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(sock, io->rx + io->rxlen, RX_CAP - io->rxlen, MSG_DONTWAIT);
            if (n > 0) {
                io->rxlen += (size_t)n;
                if (take_frames(io))
                    return -1;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (take_frames(io))
                    return -1;
                if (!io->done) {
                    alc_err_report(E_EXEC_SERVICE, "the connection ended before the program's "
                                                   "exit status came (was the enclave stopped?)");
                    return -1;
                }
            }
        }
        if (io->txlen && (p[1].revents & POLLOUT)) {
            ssize_t n = send(sock, io->tx, io->txlen, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                memmove(io->tx, io->tx + n, io->txlen - (size_t)n);
                io->txlen -= (size_t)n;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                io->txlen = 0; /* the service stopped reading: its answer tells why */
                in_eof = 1;
            }
        }
    }
    return 0;
}

/* Removes DIR's record of an enclave that has ended, under the lock start and stop take, and
 * only when it still says so then; when start or stop holds the lock, they see to it. */
static void forget(const char *dir)
{
    int lock = wf_started_lock(dir, 1);
    if (lock < 0)
        return;
    struct wf_started s;
    if (wf_started_load(dir, &s) == WF_STARTED_GONE && !s.listed)
        wf_started_remove(dir);
    close(lock);
}

static int run_exec(int argc, char **argv)
{
    static const struct option opts[] = {
        {"env", required_argument, NULL, 'e'},
        {"workdir", required_argument, NULL, 'w'},
        {0},
    };
    char **env = NULL;
    int envc = 0, c, status = STATUS_ALCOVE_FAILED, sock = -1;
    const char *cwd = NULL;
    struct exec_io io = {0};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:e:w:", opts, NULL)) != -1) {
        if (c == 'e' && args_add_env(&env, &envc, optarg) == 0)
            continue;
        if (c == 'w' && optarg[0] == '/') {
            cwd = optarg;
            continue;
        }
        if (c == 'w')
            alc_err_report(E_INVALID_ARGUMENT, "--workdir '%s': expected an absolute path", optarg);
        else if (c == 'e')
            alc_err_report(E_UNSPECIFIED, "out of memory");
        else
            args_getopt_error(c, argv, "exec");
        goto out;
    }
    int i = optind;
    const char *dir = wf_exec_dir(argc, argv, &i, "exec", 1);
    if (!dir)
        goto out;
    if (i >= argc) {
        alc_err_report(E_MISSING_ARGUMENT, "which program? (alcove exec [DIR] PROGRAM [ARGS])");
        goto out;
    }
    if (argv[i][0] != '/') {
        alc_err_report(E_ENTRY_POINT_REFUSED,
                       "%s: the program is an absolute path in the enclave (an entry point)",
                       argv[i]);
        status = 126;
        goto out;
    }
    struct wf_started s;
    int state = wf_started_load(dir, &s);
    if (state < 0)
        goto out; /* not known whether it runs (reported) */
    if (state != WF_STARTED_LIVE) {
        if (state == WF_STARTED_GONE)
            forget(dir);
        if (state == WF_STARTED_FOREIGN)
            alc_err_report(E_NOT_STARTED,
                           "%s: no enclave runs for it: its %s is not this directory's (%s%s), "
                           "so it is not used ('alcove start %s' starts one for it)",
                           dir, WF_STARTED_PATH,
                           s.dir[0] ? "it was written for " : "an older alcove's", s.dir, dir);
        else
            alc_err_report(E_NOT_STARTED, "%s: %s ('alcove start %s' first)", dir,
                           state == WF_STARTED_GONE ? "the enclave started for it has ended"
                                                    : "no enclave runs for it",
                           dir);
        goto out;
    }
    io.tx = malloc(TX_CAP);
    io.rx = malloc(RX_CAP);
    if (!io.tx || !io.rx) {
        alc_err_report(E_UNSPECIFIED, "out of memory");
        goto out;
    }
    size_t n = exec_request_encode(io.tx + EXEC_FRAME_HDR, EXEC_FRAME_MAX, argv + i, argc - i, env,
                                   envc, cwd);
    if (!n) {
        alc_err_report(E_INVALID_ARGUMENT,
                       "the arguments and variables are over the limits (%d "
                       "arguments, %d variables, 64 KiB in all)",
                       EXEC_MAX_ARGS, EXEC_MAX_ENV);
        goto out;
    }
    exec_frame_header(io.tx, EXEC_F_REQUEST, (uint32_t)n);
    io.txlen = EXEC_FRAME_HDR + n;
    sock = enclave_vsock_connect(s.cid, geteuid(), EXEC_PORT, 10000);
    if (sock < 0) {
        alc_err_report(E_EXEC_SERVICE, "enclave %s (CID %u): its exec service: %s", s.id, s.cid,
                       errno == EPERM ? enclave_socket_why() : strerror(errno));
        goto out;
    }
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) {
        alc_err_report(E_FILE_OPERATION, "pipe: %s", strerror(errno));
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    static const int passed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t k = 0; k < sizeof(passed) / sizeof(passed[0]); k++)
        sigaction(passed[k], &sa, NULL);
    if (relay(sock, &io) == 0)
        status = io.status;
out:
    if (sock >= 0)
        close(sock);
    free(io.tx);
    free(io.rx);
    for (int k = 0; k < envc; k++)
        free(env[k]);
    free(env);
    return status;
}

const struct command cmd_exec = {
    .name = "exec",
    .run = run_exec,
    .summary = "run a program in the enclave `alcove start` launched (as `docker exec`)",
    .usage =
        "Usage: alcove exec [OPTIONS] [DIR] PROGRAM [ARGS...]\n\n"
        "Runs PROGRAM (an absolute path in the enclave, one of the image's entry_points) in the\n"
        "enclave that 'alcove start DIR' launched (DIR: the current directory by default),\n"
        "through the exec service in it: stdin goes to the program, its stdout and stderr come\n"
        "to ours, and the status is its own (128 + N when signal N ended it). Several execs run\n"
        "at once. SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed to the program's process\n"
        "group; when alcove exec itself goes, the program gets SIGHUP.\n\n"
        "Options:\n"
        "  -e, --env NAME[=VALUE]  a variable for the program (only env.untrusted names; NAME\n"
        "                          alone: its value in alcove's environment, if set)\n"
        "  -w, --workdir DIR       its working directory (default /)\n\n"
        "Exit status: the program's; 125 if alcove or the service failed ([ E84 ] the service,\n"
        "[ E89 ] nothing started for DIR, [ E87 ] a refused --env), 126 if PROGRAM is not an\n"
        "entry point ([ E86 ]) or cannot be executed, 127 if it does not exist.\n",
};
