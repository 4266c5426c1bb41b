/* exec.c: `exec`, runc's interface (docs/oci.md "Exec"): a process in a running container's
 * enclave, through the exec service (src/execd) that a container created with the annotation
 * alcove.exec runs as its first process. One connection to the enclave's exec port (through the
 * monitor's vsock socket, as `alcove exec` connects: cli/exec_client.c relays), the program's
 * stdio relayed, INT/TERM/HUP/QUIT passed on, and its status as ours. --tty: a pty's master
 * goes to the engine over --console-socket, its slave (raw) is the relay's terminal, and the
 * program gets a pty of its own inside whose size follows the engine's resizes. --detach: a relay
 * process of our own does that, and we return once the service has started the program (its pid in
 * --pid-file: conmon and containerd's shim reap it as subreaper for the status). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/enclaves.h"
#include "cli/exec_client.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "execproto/exec_proto.h"
#include "oci/bundle.h"
#include "oci/console.h"
#include "oci/lifecycle.h"
#include "oci/log.h"
#include "oci/state.h"

#define EXEC_CONNECT_TRIES 300 /* 30 s */
#define DEFAULT_PATH       "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What to run: from --process (runtime-spec's Process object), else the command line. */
struct exec_proc {
    char **argv, **env; /* NULL-terminated, owned */
    int argc, envc;
    char *cwd;
    int terminal;
    unsigned rows, cols;
};

static void proc_free(struct exec_proc *p)
{
    for (int i = 0; i < p->argc; i++)
        free(p->argv[i]);
    for (int i = 0; i < p->envc; i++)
        free(p->env[i]);
    free(p->argv);
    free(p->env);
    free(p->cwd);
}

static int push(char ***v, int *n, const char *s)
{
    char **g = realloc(*v, (size_t)(*n + 2) * sizeof(char *));
    if (!g)
        return -1;
    *v = g;
    if (!(g[*n] = strdup(s)))
        return -1;
    g[++*n] = NULL;
    return 0;
}

/* --process FILE: args, env, cwd, terminal, consoleSize. 0 or -1 (reported). */
static int load_process(const char *path, struct exec_proc *p)
{
    size_t size = 0;
    char *text = (char *)read_file(path, &size);
    cJSON *j = text ? cJSON_ParseWithLength(text, size) : NULL;
    free(text);
    if (!cJSON_IsObject(j)) {
        oci_err(E_SERDE, "--process %s: %s", path, j ? "not a JSON object" : strerror(errno));
        cJSON_Delete(j);
        return -1;
    }
    int bad = oci_json_strv(cJSON_GetObjectItem(j, "args"), &p->argv, &p->argc) ||
              oci_json_strv(cJSON_GetObjectItem(j, "env"), &p->env, &p->envc);
    const cJSON *cwd = cJSON_GetObjectItem(j, "cwd");
    if (cJSON_IsString(cwd) && !(p->cwd = strdup(cwd->valuestring)))
        bad = 1;
    p->terminal = cJSON_IsTrue(cJSON_GetObjectItem(j, "terminal"));
    oci_console_size(j, &p->rows, &p->cols);
    cJSON_Delete(j);
    if (bad || p->argc == 0) {
        oci_err(E_INVALID_ARGUMENT,
                "--process %s: expected args (a non-empty array of strings) "
                "and env (strings)",
                path);
        return -1;
    }
    return 0;
}

/* A comma-separated annotation's items (blanks around each dropped), as create took them. */
static int in_list(const char *list, const char *name, size_t n)
{
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, ","), end = len;
        while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        if (end == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (p[len] ? 1 : 0);
    }
    return 0;
}

static const char *annotation(const struct oci_state *st, const char *key)
{
    const cJSON *a = cJSON_GetObjectItem(st->annotations, key);
    return cJSON_IsString(a) ? a->valuestring : NULL;
}

/* A program named without a '/' is looked up as the enclave would look it up, in PATH, in the
 * container's root file system on the host (the enclave checks the result against its entry
 * points; the lookup only names a path). The path in the enclave, malloc'd, or NULL. */
static char *resolve(const char *prog, const char *rootfs, char *const *env)
{
    if (strchr(prog, '/'))
        return prog[0] == '/' ? strdup(prog) : NULL;
    const char *path = DEFAULT_PATH;
    for (int i = 0; env && env[i]; i++)
        if (strncmp(env[i], "PATH=", 5) == 0)
            path = env[i] + 5;
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        char in[PATH_MAX], host[PATH_MAX * 2];
        /* the entry without repeated or trailing slashes ("/usr/bin/" is "/usr/bin"): the
         * enclave refuses a path that is not clean (exec_path_ok) */
        size_t dl = 0;
        for (size_t i = 0; i < len && dl < sizeof(in) - 1; i++)
            if (p[i] != '/' || !dl || in[dl - 1] != '/')
                in[dl++] = p[i];
        if (dl && in[dl - 1] == '/')
            dl--;
        snprintf(in + dl, sizeof(in) - dl, "/%s", prog);
        snprintf(host, sizeof(host), "%s%s", rootfs, in);
        struct stat sb;
        if (len && p[0] == '/' && lstat(host, &sb) == 0 && !S_ISDIR(sb.st_mode))
            return strdup(in);
        p += len + (p[len] ? 1 : 0);
    }
    return NULL;
}

/* The container's enclave (its monitor's description in the runtime directory): a connection
 * to its exec port, or -1 (reported). */
static int connect_enclave(const struct oci_state *st)
{
    struct enclave_rec *r = NULL;
    size_t n = 0;
    if (enclaves_runtime_check() || enclaves_list(&r, &n)) {
        oci_err(E_FILE_OPERATION, "container %s: the enclaves cannot be listed", st->id);
        return -1;
    }
    const struct enclave_rec *e = NULL;
    for (size_t i = 0; i < n && !e; i++) {
        const cJSON *pid = cJSON_GetObjectItem(r[i].desc, "ProcessID");
        if (r[i].running && r[i].owner == geteuid() && cJSON_IsNumber(pid) &&
            (pid_t)pid->valuedouble == st->pid &&
            strcmp(enclave_field(&r[i], "EnclaveName"), st->id) == 0)
            e = &r[i];
    }
    int sock = -1;
    /* an enclave that was just started may not listen yet (its service starts first, before
     * the main program, but after the boot): refused connections are tried again a while */
    for (int tries = 0; e && tries < EXEC_CONNECT_TRIES; tries++) {
        sock = enclave_vsock_connect(e->cid, e->owner, EXEC_PORT, 10000);
        if (sock >= 0 || errno != ECONNREFUSED || oci_pid_start(st->pid) != st->pid_start)
            break;
        usleep(100000);
    }
    if (!e) {
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s: its enclave is not running (yet)", st->id);
    } else if (sock < 0) {
        oci_err(E_EXEC_SERVICE, "container %s (enclave CID %u): its exec service: %s", st->id,
                e->cid, errno == EPERM ? enclave_socket_why() : strerror(errno));
    }
    enclaves_free(r, n);
    return sock;
}

/* The relay's terminal: the pty's slave becomes our controlling terminal, with our group in
 * the foreground (the engine's resize of the master, TIOCSWINSZ, sends us SIGWINCH: the new
 * size goes on to the program's pty inside) and our stdio. Where it cannot be our controlling
 * terminal (an engine that started us as a group leader in a session with a terminal of its
 * own), the relay looks at its size every EXEC_WINSIZE_POLL_MS instead. */
static void take_terminal(int tty, struct exec_client *io)
{
    if (tty < 0)
        return;
    setsid();
    io->winsize_poll = ioctl(tty, TIOCSCTTY, 0) != 0;
    io->winsize_fd = 0;
    dup2(tty, 0);
    dup2(tty, 1);
    dup2(tty, 2);
    if (tty > 2)
        close(tty);
}

/* Without process.consoleSize the engine sizes the pty's master after it receives it (podman
 * exec does): the size the host pty tty has once the engine has set it, waiting up to 2 s (0x0
 * if it never does: the relay sends any later size). A program that asks its terminal's size at
 * once then gets the engine's, as under runc. */
static void engine_size(int tty, struct exec_winsize *ws)
{
    for (int i = 0; i < 200; i++) {
        struct exec_winsize now;
        if (exec_client_winsize(tty, &now) == 0 && now.rows && now.cols) {
            *ws = now;
            return;
        }
        usleep(10000);
    }
}

static int write_pid(const char *path, pid_t pid)
{
    if (!path)
        return 0;
    int r = oci_write_pid_file(path, pid);
    if (r)
        oci_err(E_FILE_OPERATION, "--pid-file %s: %s", path, strerror(-r));
    return r;
}

struct exec_opts {
    const char *process, *pid_file, *console_socket, *cwd, *id;
    int detach, tty;
    char **env; /* -e K=V */
    int envc;
};

static int parse(int argc, char **argv, struct exec_opts *o)
{
    static const struct option opts[] = {
        {"process", required_argument, NULL, 'p'},
        {"detach", no_argument, NULL, 'd'},
        {"pid-file", required_argument, NULL, 'P'},
        {"tty", no_argument, NULL, 't'},
        {"console-socket", required_argument, NULL, 'c'},
        {"cwd", required_argument, NULL, 'w'},
        {"env", required_argument, NULL, 'e'},
        {"preserve-fds", required_argument, NULL, 'f'},
        /* runc's, with no meaning in an enclave (the program runs as its root) */
        {"user", required_argument, NULL, 'i'},
        {"additional-gids", required_argument, NULL, 'i'},
        {"cap", required_argument, NULL, 'i'},
        {"process-label", required_argument, NULL, 'i'},
        {"apparmor", required_argument, NULL, 'i'},
        {"cgroup", required_argument, NULL, 'i'},
        {"no-new-privs", no_argument, NULL, 'n'},
        {"ignore-paused", no_argument, NULL, 'n'},
        {0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+p:dte:u:g:c:", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->process = optarg;
            break;
        case 'd':
            o->detach = 1;
            break;
        case 'P':
            o->pid_file = optarg;
            break;
        case 't':
            o->tty = 1;
            break;
        case 'c':
            o->console_socket = optarg;
            break;
        case 'w':
            if (optarg[0] != '/') {
                oci_err(E_INVALID_ARGUMENT, "exec --cwd %s: expected an absolute path", optarg);
                return -1;
            }
            o->cwd = optarg;
            break;
        case 'e':
            if (!strchr(optarg, '=') || push(&o->env, &o->envc, optarg)) {
                oci_err(E_INVALID_ARGUMENT, "exec --env %s: expected NAME=VALUE", optarg);
                return -1;
            }
            break;
        case 'f':
            if (strcmp(optarg, "0") != 0) {
                oci_err(E_INVALID_ARGUMENT,
                        "exec --preserve-fds %s: host descriptors cannot be passed into an "
                        "enclave (only stdin, stdout and stderr reach its process)",
                        optarg);
                return -1;
            }
            break;
        case 'u':
        case 'g':
        case 'i':
            oci_info("exec: %s ignored: the program runs as root of its own enclave",
                     argv[optind - 1]);
            break;
        case 'n':
            break;
        default:
            oci_err(E_INVALID_ARGUMENT, "exec: unknown option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (optind >= argc) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci exec [--process F] [--detach] [--pid-file "
                                    "F] [--tty] [--console-socket S] [--cwd D] [--env K=V] ID "
                                    "[ARGS...]");
        return -1;
    }
    o->id = argv[optind++];
    return 0;
}

int oci_cmd_exec(int argc, char **argv)
{
    struct exec_opts o = {0};
    struct exec_proc p = {0};
    struct oci_state st;
    struct exec_client io = {0};
    /* our own failures: 125, as the program's statuses cannot be (docs/oci.md "Exec") */
    int rc = EXEC_STATUS_FAILED, sock = -1, tty = -1, have_state = 0;
    if (parse(argc, argv, &o))
        goto out;
    if (o.process ? load_process(o.process, &p) : 0)
        goto out;
    for (int i = o.process ? argc : optind; i < argc; i++)
        if (push(&p.argv, &p.argc, argv[i]))
            goto oom;
    if (p.argc == 0) {
        oci_err(E_MISSING_ARGUMENT, "exec %s: which program? (ARGS or --process)", o.id);
        goto out;
    }
    if (oci_state_load(o.id, &st, 0)) /* exec changes nothing of the state: no lock */
        goto out;
    have_state = 1;
    const char *status = oci_state_status(&st);
    if (strcmp(status, "running") != 0) {
        oci_err(E_INVALID_ARGUMENT, "cannot exec in a %s container%s", status,
                strcmp(status, "created") == 0 ? " (start it first)" : "");
        goto out;
    }
    const char *entries = annotation(&st, "alcove.exec");
    if (!entries) {
        oci_err(E_EXEC_SERVICE,
                "container %s has no exec service: it was created without the annotation "
                "alcove.exec (the entry points exec may run, measured into its PCRs; see "
                "docs/oci.md \"Exec\")",
                o.id);
        goto out;
    }
    char *prog = resolve(p.argv[0], st.rootfs, p.env);
    if (!prog) {
        /* podman maps these words (its getOCIRuntimeError) to exec's status 127 */
        oci_err(E_EXECUTABLE_NOT_FOUND,
                "exec %s: %s: executable file not found in $PATH (the container's)", o.id,
                p.argv[0]);
        rc = 127;
        goto out;
    }
    free(p.argv[0]);
    p.argv[0] = prog;
    /* the variables: process.json's (the engines add their own: HOSTNAME, TERM, HOME ...)
     * only under alcove.exec-env names, the others left out (the program has the container's
     * process.env from the measured rules); --env's all sent, for the enclave to refuse the
     * ones its rules do not list */
    const char *names = annotation(&st, "alcove.exec-env");
    char **env = NULL;
    int envc = 0;
    for (int i = 0; i < p.envc; i++) {
        size_t n = strcspn(p.env[i], "=");
        if (!p.env[i][n])
            continue;
        if (in_list(names, p.env[i], n)) {
            if (push(&env, &envc, p.env[i]))
                goto oom;
        } else {
            oci_debug("exec %s: %.*s left out: not an alcove.exec-env name", o.id, (int)n,
                      p.env[i]);
        }
    }
    for (int i = 0; i < o.envc; i++)
        if (push(&env, &envc, o.env[i]))
            goto oom;
    for (int i = 0; i < p.envc; i++)
        free(p.env[i]);
    free(p.env);
    p.env = env;
    p.envc = envc;
    const char *cwd = o.cwd ? o.cwd : p.cwd;
    int terminal = o.tty || p.terminal;
    if (terminal && !o.console_socket) {
        oci_err(E_MISSING_ARGUMENT, "exec --tty: the pty's master needs --console-socket");
        goto out;
    }
    if ((sock = connect_enclave(&st)) < 0)
        goto out;
    /* raw: the line discipline is the one inside */
    if (terminal && (tty = oci_console_make(o.console_socket, p.rows, p.cols, 1)) < 0)
        goto out;
    /* a terminal: the program's is a pty inside, first sized as process.consoleSize says, else
     * as the engine sizes the master it was sent (later changes follow in the relay) */
    struct exec_winsize ws = {(uint16_t)p.rows, (uint16_t)p.cols};
    if (terminal && (!p.rows || !p.cols) && !o.detach) /* detached: no engine follows the size */
        engine_size(tty, &ws);
    if (exec_client_init(&io, sock, 0, 1, 2, p.argv, p.argc, p.env, p.envc, cwd,
                         terminal ? &ws : NULL, oci_err))
        goto out;
    if (exec_client_catch_signals(oci_err))
        goto out;
    if (!o.detach) {
        if (write_pid(o.pid_file, getpid()))
            goto out;
        take_terminal(tty, &io);
        tty = -1;
        exec_client_relay(&io, 0);
        rc = io.status;
        goto out;
    }
    /* --detach: the service's answer first (a refusal is ours), then a relay of our own */
    if (exec_client_relay(&io, 1) || io.done) {
        rc = io.status;
        goto out;
    }
    fflush(NULL);
    pid_t relay = fork();
    if (relay < 0) {
        oci_err(E_FILE_OPERATION, "fork: %s", strerror(errno));
        goto out;
    }
    if (relay == 0) {
        close(st.dir);
        take_terminal(tty, &io);
        exec_client_relay(&io, 0);
        _exit(io.status);
    }
    rc = write_pid(o.pid_file, relay) ? EXEC_STATUS_FAILED : 0;
    goto out;
oom:
    oci_err(E_UNSPECIFIED, "out of memory");
out:
    if (tty >= 0)
        close(tty);
    if (sock >= 0)
        close(sock);
    exec_client_free(&io);
    if (have_state) {
        close(st.dir);
        oci_state_free(&st);
    }
    proc_free(&p);
    for (int i = 0; i < o.envc; i++)
        free(o.env[i]);
    free(o.env);
    return rc;
}
