/* execd.c: alcove's exec service, the first process of an enclave that `alcove start` launches
 * (docs/workflow.md, "start, exec, stop"). A static program built for the enclave (musl) and
 * measured into every image `alcove build` makes, as /.alcove/execd.
 *
 * It reads the image's rules (/.alcove/exec.rules: the entry points and env.untrusted names),
 * listens on vsock port EXEC_PORT and, for each connection, forks a session: the session reads
 * one request (lib/execproto: every byte is the host's, untrusted here), checks the program
 * against the entry points and the variables against env.untrusted, runs the program in a
 * process group of its own with stdin, stdout and stderr on pipes (or, when the request asks for
 * a terminal, in a session of its own on a pty made here: exec_pty.c), relays them as frames,
 * passes SIGNAL frames to the group and WINSIZE frames to the terminal, and sends the exit
 * status last. At most MAX_SESSIONS sessions
 * run at once (another connection gets a FAIL frame), and a connection that sends no request
 * within REQUEST_WAIT_S is closed. As PID 1 it reaps its sessions and every orphan the enclave's
 * processes leave.
 *
 * With --main PROG [ARGS] (an alcove-oci container that asked for exec, docs/oci.md "Exec") it
 * also starts the container's own program as its child, on the enclave's stdin, stdout and
 * stderr, passes it the signals a container's init would get, and when it ends ends too, with
 * its status (128 + N for signal N): the enclave, and the exec sessions with it, end then, as a
 * container's exec processes die with the container. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "execproto/exec_proto.h"
#include "execproto/exec_rules.h"
#include "exec_pty.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define VMADDR_CID_ANY 0xffffffffu

struct vm_addr { /* struct sockaddr_vm, declared here: musl's headers lack it */
    sa_family_t svm_family;
    unsigned short svm_reserved1;
    unsigned int svm_port;
    unsigned int svm_cid;
    unsigned char svm_flags;
    unsigned char svm_zero[3];
};

extern char **environ;

#define MAX_SESSIONS   64 /* connections served at once (programs, and requests awaited) */
#define REQUEST_WAIT_S 30 /* for a connection's first frame */

static struct exec_rules rules;
static volatile pid_t sessions[MAX_SESSIONS]; /* 0: a free slot */
static int chld_pipe[2] = {-1, -1};           /* the session's SIGCHLD, as a byte */

/* --main: the container's program */
static volatile pid_t main_pid;
static volatile sig_atomic_t main_done;
/* a session's program (its process group), killed when the session is told to end */
static volatile pid_t session_prog;

/* What a container's init is sent and passes on to the container's program (docs/oci.md) */
static const int forwarded[] = {SIGINT,  SIGTERM, SIGHUP,   SIGQUIT,
                                SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

static void say(const char *fmt, const char *a)
{
    fprintf(stderr, "alcove-execd: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
}

static int write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_frame(int sock, uint8_t type, const void *payload, uint32_t len)
{
    uint8_t hdr[EXEC_FRAME_HDR];
    exec_frame_header(hdr, type, len);
    return write_all(sock, hdr, sizeof(hdr)) || (len && write_all(sock, payload, len)) ? -1 : 0;
}

static void send_fail(int sock, enum exec_fail why, const char *text)
{
    uint8_t buf[1 + EXEC_FAIL_TEXT];
    size_t n = strlen(text);
    if (n > EXEC_FAIL_TEXT)
        n = EXEC_FAIL_TEXT;
    buf[0] = (uint8_t)why;
    memcpy(buf + 1, text, n);
    send_frame(sock, EXEC_F_FAIL, buf, (uint32_t)(1 + n));
}

static int load_rules(const char *path)
{
    static char text[EXEC_RULES_TEXT_MAX];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        say("%s: cannot open it: this image was not built by alcove build", path);
        return -1;
    }
    ssize_t n = read(fd, text, sizeof(text));
    close(fd);
    size_t line;
    if (n < 0 || (size_t)n == sizeof(text) || exec_rules_parse(text, (size_t)n, &rules, &line)) {
        say("%s: not valid rules", path);
        return -1;
    }
    return 0;
}

/* The program's environment: env.default (the rules' defaults, measured), the variables alcove
 * start gave the service under env.untrusted names, then the request's (exec_env_compose). */
static char **child_env(const struct exec_request *r)
{
    size_t n = 0;
    while (environ[n])
        n++;
    const char **env = calloc(rules.ndefault + n + (size_t)r->envc + 1, sizeof(char *));
    if (env)
        exec_env_compose(&rules, environ, r->envp, r->envc, env);
    return (char **)env;
}

static void on_chld(int sig)
{
    (void)sig;
    int saved = errno;
    if (chld_pipe[1] >= 0)
        (void)!write(chld_pipe[1], "c", 1);
    errno = saved;
}

/* Starts the program. Its pid, or -1 after a FAIL frame. fds: where its stdin goes, where its
 * stdout and stderr come from; with a terminal the pty's master (fds[0] and fds[1], one
 * descriptor each) and no stderr (fds[2] -1). */
static pid_t spawn(int sock, const struct exec_request *r, int fds[3])
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, st[2], master = -1;
    char slave[64];
    if (r->tty) {
        if ((master = exec_pty_open(&r->ws, slave, sizeof(slave))) < 0) {
            char msg[EXEC_FAIL_TEXT];
            snprintf(msg, sizeof(msg), "the service could not make a terminal: %s",
                     strerror(errno));
            send_fail(sock, EXEC_FAIL_SERVICE, msg);
            return -1;
        }
        in[1] = master;
        out[0] = fcntl(master, F_DUPFD_CLOEXEC, 3);
    }
    if ((!r->tty && (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))) ||
        (r->tty && out[0] < 0) || pipe2(st, O_CLOEXEC)) {
        send_fail(sock, EXEC_FAIL_SERVICE, "the service could not make pipes");
        return -1;
    }
    char **env = child_env(r);
    pid_t pid = env ? fork() : -1;
    if (pid == 0) {
        int what[2] = {0, 0};
        if (r->tty) {
            /* a session of its own (so also a group: SIGNAL frames reach it as without one),
             * the pty's slave its controlling terminal, its group the foreground one */
            if (exec_pty_take(slave)) {
                what[0] = 'T';
                what[1] = errno;
            }
        } else {
            setpgid(0, 0);
            dup2(in[0], 0);
            dup2(out[1], 1);
            dup2(err[1], 2);
        }
        signal(SIGPIPE, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (what[0]) {
            /* the terminal failed: said below */
        } else if (r->cwd && chdir(r->cwd)) {
            what[0] = 'W';
            what[1] = errno;
        } else {
            execve(r->argv[0], r->argv, env);
            what[0] = 'X';
            what[1] = errno;
        }
        (void)!write(st[1], what, sizeof(what));
        _exit(127);
    }
    free(env);
    if (!r->tty) {
        close(in[0]);
        close(out[1]);
        close(err[1]);
    }
    close(st[1]);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        if (err[0] >= 0)
            close(err[0]);
        close(st[0]);
        send_fail(sock, EXEC_FAIL_SERVICE, "the service could not fork");
        return -1;
    }
    int what[2];
    ssize_t got;
    do
        got = read(st[0], what, sizeof(what)); /* 0: the exec closed it, the program runs */
    while (got < 0 && errno == EINTR);
    close(st[0]);
    if (got == (ssize_t)sizeof(what)) {
        waitpid(pid, NULL, 0);
        close(in[1]);
        close(out[0]);
        if (err[0] >= 0)
            close(err[0]);
        char msg[EXEC_FAIL_TEXT];
        snprintf(msg, sizeof(msg), "%.400s: %s",
                 what[0] == 'W'   ? r->cwd
                 : what[0] == 'T' ? "the program's terminal"
                                  : r->argv[0],
                 strerror(what[1]));
        send_fail(sock,
                  what[0] == 'T'       ? EXEC_FAIL_SERVICE
                  : what[0] == 'W'     ? EXEC_FAIL_CWD
                  : what[1] == ENOENT  ? EXEC_FAIL_NOT_FOUND
                  : what[1] == ENOTDIR ? EXEC_FAIL_NOT_FOUND
                                       : EXEC_FAIL_CANNOT,
                  msg);
        return -1;
    }
    session_prog = pid;
    fds[0] = in[1];
    fds[1] = out[0];
    fds[2] = err[0];
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            fcntl(fds[i], F_SETFL, O_NONBLOCK);
    return pid;
}

/* Reads what a pipe holds now and sends it as one frame. 1 data sent, 0 end of file or nothing,
 * -1 the host is gone. */
static int pump(int fd, uint8_t type, int sock, int *eof)
{
    static uint8_t buf[EXEC_FRAME_MAX];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0)
        return send_frame(sock, type, buf, (uint32_t)n) ? -1 : 1;
    if (n == 0 || (errno != EAGAIN && errno != EINTR))
        *eof = 1;
    return 0;
}

#define RX_CAP (1u << 20) /* what is read from the host ahead of the program's stdin */

/* Takes the frames received so far: a SIGNAL or WINSIZE acts at once, wherever it is (also
 * ahead of stdin that the program has not read yet, so that Ctrl-C reaches a program that does
 * not read); STDIN frames go to the program in order, one held in pending at a time, the rest
 * kept in rx. tty: the terminal's master, or -1. 0, or -1 when the host broke the protocol. */
static int take_frames(uint8_t *rx, size_t *rxlen, pid_t pid, int tty, int *in_fd, uint8_t *pending,
                       size_t *plen)
{
    size_t off = 0, keep = 0;
    while (off < *rxlen) {
        struct exec_frame f;
        long used = exec_frame_next(rx + off, *rxlen - off, EXEC_TO_ENCLAVE, &f);
        if (used == 0)
            break;
        if (used < 0 || f.type == EXEC_F_REQUEST || f.type == EXEC_F_PING)
            return -1;
        if (f.type == EXEC_F_SIGNAL) {
            if (f.payload[0] >= 1 && f.payload[0] <= 64)
                kill(-pid, f.payload[0]);
        } else if (f.type == EXEC_F_WINSIZE) {
            struct exec_winsize ws;
            exec_winsize_decode(f.payload, &ws);
            if (tty >= 0)
                exec_pty_resize(tty, &ws);
        } else if (keep == 0 && *plen == 0) { /* the next stdin in order */
            if (f.len == 0 && tty >= 0 && *in_fd >= 0) {
                /* typed after what is pending (a full terminal takes it later, as the rest);
                 * the master stays: it is the program's output too */
                pending[0] = exec_pty_eof_char(tty);
                *plen = 1;
            } else if (f.len == 0 && *in_fd >= 0) {
                close(*in_fd);
                *in_fd = -1;
            } else if (*in_fd >= 0) {
                memcpy(pending, f.payload, f.len);
                *plen = f.len;
            }    /* else the program closed its stdin: dropped */
        } else { /* a later stdin: it waits */
            memmove(rx + keep, rx + off, (size_t)used);
            keep += (size_t)used;
        }
        off += (size_t)used;
    }
    memmove(rx + keep, rx + off, *rxlen - off); /* and a frame not whole yet */
    *rxlen = keep + (*rxlen - off);
    return 0;
}

#define HANGUP_GRACE_MS 2000 /* from the HUP to the KILL of a program whose host went */

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

#define TTY_DRAIN_MS 200 /* a terminal's output after its program ended: what comes this soon */

/* After the program ended: what it wrote to its terminal that is not readable on the master
 * yet (a pty passes bytes on asynchronously), until the last slave is closed (EIO) or nothing
 * comes for TTY_DRAIN_MS (a child of the program that keeps the terminal is not waited for). */
static void drain_tty(int master, int sock, int *eof)
{
    long long end = now_ms() + 10 * TTY_DRAIN_MS; /* and in all no longer than this */
    while (!*eof && now_ms() < end) {
        struct pollfd p = {.fd = master, .events = POLLIN};
        if (poll(&p, 1, TTY_DRAIN_MS) <= 0 || pump(master, EXEC_F_STDOUT, sock, eof) < 0)
            break;
    }
}

/* Relays between the host and the program until it ends; sends EXIT. tty: the terminal's
 * master (fds[0] and fds[1] are it), or -1. */
static void relay(int sock, pid_t pid, int fds[3], int tty, uint8_t *rx, size_t rxlen)
{
    static uint8_t pending[EXEC_FRAME_MAX]; /* stdin bytes the program has not taken yet */
    size_t plen = 0, poff = 0;
    int out_eof = 0, err_eof = fds[2] < 0, host_gone = 0, status = 0, done = 0;
    long long kill_at = 0; /* 0: not hung up; > 0: when to KILL; -1: killed */
    size_t cap = RX_CAP;
    while (!done) {
        if (!host_gone) {
            size_t before = plen;
            if (take_frames(rx, &rxlen, pid, tty, &fds[0], pending, &plen))
                host_gone = 1; /* a host that breaks the protocol is treated as gone */
            if (plen && !before)
                poff = 0;
        }
        struct pollfd p[5] = {{.fd = -1}, {.fd = -1}, {.fd = -1}, {.fd = -1}, {.fd = -1}};
        if (!host_gone && rxlen < cap)
            p[0] = (struct pollfd){.fd = sock, .events = POLLIN};
        if (plen && fds[0] >= 0)
            p[1] = (struct pollfd){.fd = fds[0], .events = POLLOUT};
        if (!out_eof)
            p[2] = (struct pollfd){.fd = fds[1], .events = POLLIN};
        if (!err_eof)
            p[3] = (struct pollfd){.fd = fds[2], .events = POLLIN};
        p[4] = (struct pollfd){.fd = chld_pipe[0], .events = POLLIN};
        if (host_gone && !kill_at) {
            /* the host went before the program: hang up on it, as a terminal; one that
             * outlives the grace is killed with its group, as an engine that kills runc's exec
             * pid (the program itself) ends it */
            kill(-pid, SIGHUP);
            kill_at = now_ms() + HANGUP_GRACE_MS;
        }
        int wait_ms = -1;
        if (kill_at > 0) {
            long long left = kill_at - now_ms();
            if (left <= 0) {
                kill(-pid, SIGKILL);
                kill_at = -1; /* done: now only its end is waited for */
            } else {
                wait_ms = (int)left;
            }
        }
        if (poll(p, 5, wait_ms) < 0 && errno != EINTR)
            break;
        if (p[0].revents) {
            ssize_t n = read(sock, rx + rxlen, cap - rxlen);
            if (n > 0) {
                rxlen += (size_t)n;
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                host_gone = 1; /* alcove exec went away */
            }
        }
        if (p[1].revents) {
            ssize_t n = write(fds[0], pending + poff, plen);
            if (n > 0) {
                poff += (size_t)n;
                plen -= (size_t)n;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                plen = 0; /* the program closed its stdin: drop what it will never read */
                close(fds[0]);
                fds[0] = -1;
            }
        }
        if (p[2].revents && pump(fds[1], EXEC_F_STDOUT, sock, &out_eof) < 0)
            host_gone = 1;
        if (p[3].revents && pump(fds[2], EXEC_F_STDERR, sock, &err_eof) < 0)
            host_gone = 1;
        if (p[4].revents) {
            char b[64];
            (void)!read(chld_pipe[0], b, sizeof(b));
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid) {
                /* what it wrote before it ended is in the pipes: send it, then the status
                 * (what its own children write later is not waited for) */
                while (!out_eof && !host_gone)
                    if (pump(fds[1], EXEC_F_STDOUT, sock, &out_eof) <= 0)
                        break;
                if (tty >= 0 && !host_gone)
                    drain_tty(fds[1], sock, &out_eof);
                while (!err_eof && !host_gone)
                    if (pump(fds[2], EXEC_F_STDERR, sock, &err_eof) <= 0)
                        break;
                done = 1;
            }
        }
    }
    if (done && !host_gone) {
        uint8_t x[2];
        x[0] = WIFSIGNALED(status) ? EXEC_EXIT_SIGNAL : EXEC_EXIT_CODE;
        x[1] = (uint8_t)(WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        send_frame(sock, EXEC_F_EXIT, x, 2);
    }
}

/* One connection: one request (or a ping). */
static void session(int sock)
{
    static uint8_t rx[RX_CAP];
    static char req_buf[EXEC_FRAME_MAX + 1];
    static struct exec_request req;
    size_t rxlen = 0;
    struct exec_frame f;
    long used;
    struct timeval wait = {REQUEST_WAIT_S, 0};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    while ((used = exec_frame_next(rx, rxlen, EXEC_TO_ENCLAVE, &f)) == 0) {
        ssize_t n = read(sock, rx + rxlen, sizeof(rx) - rxlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* gone before its request, or silent for REQUEST_WAIT_S */
        rxlen += (size_t)n;
    }
    wait.tv_sec = 0; /* a program may be silent as long as it likes */
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    if (used < 0 || (f.type != EXEC_F_REQUEST && f.type != EXEC_F_PING)) {
        send_fail(sock, EXEC_FAIL_REQUEST, "the first frame is not a request");
        return;
    }
    if (f.type == EXEC_F_PING) {
        send_frame(sock, EXEC_F_PING, NULL, 0);
        return;
    }
    memcpy(req_buf, f.payload, f.len);
    memmove(rx, rx + used, rxlen - (size_t)used);
    rxlen -= (size_t)used;
    const char *why = "";
    char msg[EXEC_FAIL_TEXT];
    if (exec_request_parse(req_buf, f.len, &req, &why)) {
        snprintf(msg, sizeof(msg), "a malformed request: %s", why);
        send_fail(sock, EXEC_FAIL_REQUEST, msg);
        return;
    }
    if (!exec_rules_entry_allowed(&rules, req.argv[0])) {
        snprintf(msg, sizeof(msg), "%.400s: not one of the image's entry points", req.argv[0]);
        send_fail(sock, EXEC_FAIL_ENTRY, msg);
        return;
    }
    for (int i = 0; i < req.envc; i++) {
        size_t n = strcspn(req.envp[i], "=");
        if (!exec_rules_env_allowed(&rules, req.envp[i], n)) {
            snprintf(msg, sizeof(msg),
                     "--env %.*s: the image's env.untrusted does not list it, so the host may "
                     "not set it",
                     (int)(n > 200 ? 200 : n), req.envp[i]);
            send_fail(sock, EXEC_FAIL_ENV, msg);
            return;
        }
    }
    if (pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK)) {
        send_fail(sock, EXEC_FAIL_SERVICE, "the service could not make a pipe");
        return;
    }
    struct sigaction sa = {.sa_handler = on_chld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    int fds[3];
    pid_t pid = spawn(sock, &req, fds);
    if (pid < 0)
        return;
    send_frame(sock, EXEC_F_STARTED, NULL, 0); /* before any output: the relay sends that */
    relay(sock, pid, fds, req.tty ? fds[1] : -1, rx, rxlen);
}

/* --main: the program ended: the sessions end with it (in an enclave the end of PID 1 ends
 * them; natively, for the tests, they are told to) and so does the service, with the program's
 * status. In the SIGCHLD handler: async-signal-safe calls only. */
static void end_with_main(int status)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i] > 0)
            kill(sessions[i], SIGTERM);
    _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

static void reap(int sig)
{
    (void)sig;
    int saved = errno, status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < MAX_SESSIONS; i++)
            if (sessions[i] == pid)
                sessions[i] = 0;
        if (pid == main_pid && main_pid > 0) {
            main_done = 1;
            end_with_main(status);
        }
    }
    errno = saved;
}

/* --main: a signal for the container goes to its program */
static void forward(int sig)
{
    int saved = errno;
    if (main_pid > 0 && !main_done)
        kill(main_pid, sig);
    errno = saved;
}

/* A session told to end (its container's program ended): its program's group goes too. */
static void session_end(int sig)
{
    (void)sig;
    if (session_prog > 0)
        kill(-session_prog, SIGKILL);
    _exit(0);
}

/* --main: starts the container's program (found through PATH, as the enclave kernel finds a
 * launch's program) on our stdin, stdout and stderr, with our environment. Its pid, or -1. */
static pid_t start_main(char **argv)
{
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old); /* main_pid is set before its SIGCHLD is taken */
    /* looked at before the fork: our setpgid of the child may come before the child looks */
    int fg = isatty(0) && tcgetpgrp(0) == getpgrp();
    pid_t pid = fork();
    if (pid == 0) {
        /* a group of its own: a host terminal's signal goes to our group (include/abi
         * alcove_abi.h, "Host signals"), and forward() is what passes it on, once */
        setpgid(0, 0);
        if (fg) {
            /* the console is a terminal (alcove run -t, process.terminal): the program's
             * group takes the foreground from ours, or its reads would stop it (SIGTTIN);
             * SIGTTOU blocked, as a shell does it, lets the change through */
            sigset_t ttou;
            sigemptyset(&ttou);
            sigaddset(&ttou, SIGTTOU);
            sigprocmask(SIG_BLOCK, &ttou, NULL);
            tcsetpgrp(0, getpid());
        }
        for (size_t i = 0; i < NFORWARDED; i++)
            signal(forwarded[i], SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], argv);
        int e = errno;
        fprintf(stderr, "alcove-execd: %s: %s\n", argv[0], strerror(e));
        _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
    }
    if (pid > 0) {
        main_pid = pid;
        setpgid(pid, 0); /* also here: no group signal may come between fork and the child's */
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return pid;
}

/* A free session slot, or -1 (SIGCHLD blocked by the caller). */
static int free_slot(void)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (!sessions[i])
            return i;
    return -1;
}

/* The listening socket: vsock port EXEC_PORT, or (--unix PATH, for the tests on a host without
 * an enclave) a Unix socket. */
static int listen_on(const char *unix_path)
{
    int ls;
    if (unix_path) {
        struct sockaddr_un u = {.sun_family = AF_UNIX};
        if (strlen(unix_path) >= sizeof(u.sun_path))
            return -1;
        strcpy(u.sun_path, unix_path);
        ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (ls < 0 || bind(ls, (struct sockaddr *)&u, sizeof(u)) || listen(ls, 64))
            return -1;
        return ls;
    }
    ls = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct vm_addr a = {.svm_family = AF_VSOCK, .svm_port = EXEC_PORT, .svm_cid = VMADDR_CID_ANY};
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 64))
        return -1;
    return ls;
}

#define STATUS_SERVICE_FAILED 125 /* --main: the service could not start the program */

/* alcove start runs it without arguments, alcove-oci with --main and the container's
 * process.args. --rules FILE and --unix PATH serve the tests (the command line is measured into
 * the launch as any, docs/workflow.md). */
int main(int argc, char **argv)
{
    const char *rules_path = EXEC_RULES_PATH, *unix_path = NULL;
    char **main_argv = NULL;
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--main") == 0 && i + 1 < argc) {
            main_argv = argv + i + 1;
            break;
        } else if (i + 1 >= argc) {
            say("usage: %s [--rules FILE] [--unix PATH] [--main PROGRAM [ARGS...]]", argv[0]);
            return 2;
        } else if (strcmp(argv[i], "--rules") == 0) {
            rules_path = argv[i + 1];
        } else if (strcmp(argv[i], "--unix") == 0) {
            unix_path = argv[i + 1];
        } else {
            say("unknown option %s", argv[i]);
            return 2;
        }
    }
    int failed = main_argv ? STATUS_SERVICE_FAILED : 1;
    if (load_rules(rules_path))
        return failed;
    /* what no program gets: said once, on the console (under --main the environment is the
     * container's, measured, not the host's input) */
    for (char **e = main_argv ? NULL : environ; e && *e; e++) {
        size_t n = strcspn(*e, "=");
        int is_default = 0;
        for (size_t i = 0; i < rules.ndefault && !is_default; i++)
            is_default = strcmp(rules.defaults[i], *e) == 0;
        if (!is_default && !exec_rules_env_allowed(&rules, *e, n))
            fprintf(stderr, "alcove-execd: %.*s: not an env.untrusted name: no program gets it\n",
                    (int)(n > 200 ? 200 : n), *e);
    }
    signal(SIGPIPE, SIG_IGN);
    /* PID 1: sessions, and every orphan of the enclave, are reaped as they end */
    struct sigaction sa = {.sa_handler = reap, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    int ls = listen_on(unix_path);
    if (ls < 0) {
        say("cannot listen: %s", strerror(errno));
        return failed;
    }
    if (main_argv) {
        /* orphans come to us natively too (in an enclave, PID 1 gets them anyway) */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        struct sigaction fa = {.sa_handler = forward, .sa_flags = SA_RESTART};
        sigemptyset(&fa.sa_mask);
        for (size_t i = 0; i < NFORWARDED; i++)
            sigaction(forwarded[i], &fa, NULL);
        if (start_main(main_argv) < 0) {
            say("cannot start the program: %s", strerror(errno));
            return failed;
        }
    }
    for (;;) {
        int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno != EINTR && errno != ECONNABORTED)
                usleep(10000); /* out of descriptors or memory: try again shortly */
            continue;
        }
        sigset_t chld, old;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, &old);
        int slot = free_slot();
        pid_t pid = slot < 0 ? -1 : fork();
        if (pid == 0) {
            /* out of our group, as its program is: a session gets the host's signals only as
             * its SIGNAL frames, never a Ctrl-C meant for the container's terminal */
            setpgid(0, 0);
            for (size_t i = 0; i < NFORWARDED; i++)
                signal(forwarded[i], SIG_DFL);
            signal(SIGTERM, session_end);
            sigprocmask(SIG_SETMASK, &old, NULL);
            close(ls);
            signal(SIGCHLD, SIG_DFL);
            session(c);
            close(c);
            _exit(0);
        }
        if (pid > 0) {
            sessions[slot] = pid;
            setpgid(pid, 0);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (pid < 0) { /* refused with a reason, rather than left waiting */
            struct timeval tv = {1, 0};
            setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
            send_fail(c, EXEC_FAIL_SERVICE,
                      slot < 0 ? "too many sessions: 64 programs run at once (or connections "
                                 "wait to send their request); try again when one has ended"
                               : "the service could not fork");
        }
        close(c);
    }
}
