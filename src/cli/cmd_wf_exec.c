/* cmd_wf_exec.c: `alcove exec [DIR] PROGRAM [ARGS]` (docs/workflow.md, "start, exec, stop"):
 * runs a program in the enclave `alcove start` launched for DIR, through its exec service, as
 * `docker exec` does in a container. One connection to the service's vsock port per program
 * (so several run at once); the request, then stdin as frames and the program's stdout and
 * stderr back to ours, until its exit status, which is ours (128 + N when signal N ended it).
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed to the program's process group. With -t the
 * program gets a terminal inside (a pty the service makes), the host terminal is raw meanwhile
 * (the enclave's line discipline is the only one) and its size follows ours. */
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
#include "cli/exec_client.h"
#include "cli/wf_exec.h"
#include "cli/wf_started.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/tty_raw.h"
#include "execproto/exec_proto.h"

#define STATUS_ALCOVE_FAILED EXEC_STATUS_FAILED

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
        {"tty", no_argument, NULL, 't'},
        {0},
    };
    char **env = NULL;
    int envc = 0, c, status = STATUS_ALCOVE_FAILED, sock = -1, tty = 0;
    const char *cwd = NULL;
    struct exec_client io = {0};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:e:w:t", opts, NULL)) != -1) {
        if (c == 't') {
            tty = 1;
            continue;
        }
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
    /* -t: the terminal's size is stdin's, else stdout's (stdin may be a file or a pipe, as
     * docker exec -t allows), else 24x80 */
    struct exec_winsize ws = {24, 80};
    int size_fd = !tty                               ? -1
                  : exec_client_winsize(0, &ws) == 0 ? 0
                  : exec_client_winsize(1, &ws) == 0 ? 1
                                                     : -1;
    if (exec_client_init(&io, -1, 0, 1, 2, argv + i, argc - i, env, envc, cwd, tty ? &ws : NULL,
                         alc_err_report))
        goto out;
    io.winsize_fd = size_fd;
    sock = enclave_vsock_connect(s.cid, geteuid(), EXEC_PORT, 10000);
    if (sock < 0) {
        alc_err_report(E_EXEC_SERVICE, "enclave %s (CID %u): its exec service: %s", s.id, s.cid,
                       errno == EPERM ? enclave_socket_why() : strerror(errno));
        goto out;
    }
    io.sock = sock;
    if (exec_client_catch_signals(alc_err_report))
        goto out;
    /* caught from here on (the handler only writes a byte): none can end us while the terminal
     * is raw, and it is restored on every way out of the relay */
    struct tty_raw raw = {.fd = -1};
    if (tty && tty_raw_enter(&raw, 0) < 0)
        alc_log(ALC_LOG_WARN, "-t: the terminal on stdin cannot be made raw: %s", strerror(errno));
    exec_client_relay(&io, 0);
    tty_raw_leave(&raw);
    status = io.status;
out:
    if (sock >= 0)
        close(sock);
    exec_client_free(&io);
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
        "  -w, --workdir DIR       its working directory (default /)\n"
        "  -t, --tty               a terminal for the program: a pty inside the enclave (its\n"
        "                          stdout and stderr both come to our stdout); our terminal\n"
        "                          is raw meanwhile and its size is the program's (stdin's,\n"
        "                          else stdout's, else 24x80); stdin need not be a terminal\n\n"
        "Exit status: the program's; 125 if alcove or the service failed ([ E84 ] the service,\n"
        "[ E89 ] nothing started for DIR, [ E87 ] a refused --env), 126 if PROGRAM is not an\n"
        "entry point ([ E86 ]) or cannot be executed, 127 if it does not exist.\n",
};
