/* control.c: `state`, `kill`, `pause`, `resume`, `delete`, `list` and `ps`.
 *
 * Signals (monitor/host_signal.c): a signal reaches the enclave's first process when that
 * process handles it (or ignores or blocks it); otherwise the monitor applies the default
 * action itself: TERM, INT, HUP, QUIT, USR1... end the enclave as that signal would (the monitor
 * tears it down and exits 128 + N), WINCH, CHLD, CONT and URG are dropped. TERM, INT, HUP and
 * QUIT are sent to the monitor as themselves; every other signal, KILL included, rides on
 * MONITOR_SIGNAL_CARRIER with its number as the value, since the monitor uses USR1 and USR2
 * itself and would stop on a real STOP. KILL always ends the enclave with status 137 (the
 * teardown still runs; a monitor that has not ended 5 s later gets a real SIGKILL). The stop
 * signals are refused (pause stops a container). Signal 0 only checks that the container lives.
 * A created container's monitor has not started the enclave: it gets the signal itself. A
 * paused container keeps a signal pending until resume, as a frozen runc container does; only
 * KILL lets it go on (to end).
 *
 * kill holds the container's lock, and signals through a pidfd opened while the monitor's start
 * time was still the one recorded: a pid that was reused meanwhile is never signalled.
 *
 * Pause stops the monitor with SIGSTOP: all of its threads, the vCPUs' included, so the guest
 * runs no instruction until resume sends SIGCONT (as the freezer cgroup stops runc's
 * container). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/enclaves.h"
#include "common/errors.h"
#include "monitor/monitor.h"
#include "oci/lifecycle.h"
#include "oci/log.h"
#include "oci/state.h"

#define KILL_GRACE_MS 5000

static void print_json(cJSON *o)
{
    char *s = cJSON_Print(o);
    if (s)
        printf("%s\n", s);
    cJSON_free(s);
    cJSON_Delete(o);
}

/* Reads a container's state through its directory's descriptor dir (opened, or locked with
 * lock set), or reports that it does not exist. 0 or -1; on 0 the caller closes st->dir. */
static void unload(struct oci_state *st)
{
    oci_state_free(st);
    oci_state_unlock(st->dir);
    st->dir = -1;
}

int oci_cmd_state(int argc, char **argv)
{
    if (argc != 2) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci state ID");
        return 1;
    }
    struct oci_state st;
    if (oci_state_load(argv[1], &st, 0))
        return 1;
    print_json(oci_state_json(&st));
    unload(&st);
    return 0;
}

/* "TERM", "SIGTERM" or "15": the signal number, or -1. */
static int parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
        {"USR1", SIGUSR1}, {"USR2", SIGUSR2},   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
        {"TERM", SIGTERM}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT}, {"STOP", SIGSTOP},
        {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH},
    };
    if (*s >= '0' && *s <= '9') {
        char *end;
        long n = strtol(s, &end, 10);
        return *end || n < 0 || n > 64 ? -1 : (int)n;
    }
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].sig;
    return -1;
}

/* The monitor, named for good: a pidfd opened while its start time was the recorded one (a
 * reused pid's process has another), or, without pidfds (before Linux 5.3), its pid checked
 * just before each use. */
struct monitor_ref {
    int pidfd;
    const struct oci_state *st;
};

/* 0, or -1 when the monitor is gone. */
static int monitor_open(const struct oci_state *st, struct monitor_ref *m)
{
    m->st = st;
    m->pidfd = st->pid > 0 ? (int)syscall(SYS_pidfd_open, st->pid, 0) : -1;
    /* only ESRCH says it is gone; another error (ENOSYS, or EPERM from an engine's seccomp
     * profile, EMFILE) falls back to the pid, checked against its start time before each use */
    int gone = m->pidfd < 0 && errno == ESRCH;
    if (!oci_state_alive(st) || gone) {
        if (m->pidfd >= 0)
            close(m->pidfd);
        m->pidfd = -1;
        return -1;
    }
    return 0;
}

static void monitor_close(struct monitor_ref *m)
{
    if (m->pidfd >= 0)
        close(m->pidfd);
    m->pidfd = -1;
}

static int monitor_signal(const struct monitor_ref *m, int sig)
{
    if (m->pidfd >= 0)
        return (int)syscall(SYS_pidfd_send_signal, m->pidfd, sig, NULL, 0);
    if (!oci_state_alive(m->st)) {
        errno = ESRCH;
        return -1;
    }
    return kill(m->st->pid, sig);
}

/* sig for the enclave, carried to the running monitor as MONITOR_SIGNAL_CARRIER's value */
static int monitor_carry(const struct monitor_ref *m, int sig)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_signo = MONITOR_SIGNAL_CARRIER;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = sig;
    if (m->pidfd >= 0)
        return (int)syscall(SYS_pidfd_send_signal, m->pidfd, MONITOR_SIGNAL_CARRIER, &si, 0);
    if (!oci_state_alive(m->st)) {
        errno = ESRCH;
        return -1;
    }
    return sigqueue(m->st->pid, MONITOR_SIGNAL_CARRIER, si.si_value);
}

/* Waits up to ms for the monitor to end. 1 when it did. */
static int monitor_wait(const struct monitor_ref *m, int ms)
{
    if (m->pidfd >= 0) {
        struct pollfd p = {.fd = m->pidfd, .events = POLLIN};
        int r;
        while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
            ;
        return r == 1;
    }
    for (int t = 0; t < ms; t += 10) {
        if (!oci_state_alive(m->st))
            return 1;
        usleep(10000);
    }
    return !oci_state_alive(m->st);
}

/* Ends or signals the workload (see the rules above); the caller holds the container's lock.
 * 0 or -1 (reported). */
static int signal_container(const struct oci_state *st, int sig)
{
    const char *status = oci_state_status(st);
    struct monitor_ref m;
    if (strcmp(status, "stopped") == 0 || monitor_open(st, &m)) {
        /* runc's words, which containerd's shim maps to "not found" (a kill racing an exit) */
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s: container not running", st->id);
        return -1;
    }
    int r = 0, paused = oci_state_paused(st);
    bool created = strcmp(status, "created") == 0;
    if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU || sig > 31) {
        oci_err(E_INVALID_ARGUMENT,
                "signal %d: alcove-oci does not deliver stop or real-time signals to an enclave "
                "(alcove-oci pause stops a container)",
                sig);
        monitor_close(&m);
        return -1;
    }
    if (sig == 0) {
        r = 0;
    } else if (created || sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
        /* a paused container keeps the signal pending until resume, as a frozen one does */
        r = monitor_signal(&m, sig);
    } else if (sig != SIGKILL) {
        r = monitor_carry(&m, sig);
    } else {
        /* KILL is carried, so that the monitor's teardown runs whatever the program handles;
         * the monitor exits 128 + 9, or says KILL came after a TERM that was already ending
         * the enclave (monitor.h, stopped_by_signal). A paused container is let go so that it
         * ends at once. */
        r = monitor_carry(&m, SIGKILL);
        if (r == 0 && paused)
            r = monitor_signal(&m, SIGCONT);
        if (r == 0 && !monitor_wait(&m, KILL_GRACE_MS)) {
            oci_info("container %s: the monitor did not end in %d ms; SIGKILL", st->id,
                     KILL_GRACE_MS);
            r = monitor_signal(&m, SIGKILL);
        }
    }
    if (r && errno != ESRCH) /* ESRCH: it ended meanwhile, which is what was asked */
        oci_err(E_INVALID_ARGUMENT, "container %s: signal %d: %s", st->id, sig, strerror(errno));
    else
        r = 0;
    monitor_close(&m);
    return r ? -1 : 0;
}

/* Ends a container's monitor for delete: KILL as above, then waits for it. */
static void end_container(const struct oci_state *st)
{
    struct monitor_ref m;
    if (monitor_open(st, &m))
        return;
    signal_container(st, SIGKILL);
    if (!monitor_wait(&m, KILL_GRACE_MS))
        oci_info("container %s: monitor %d still there after SIGKILL", st->id, (int)st->pid);
    monitor_close(&m);
}

int oci_cmd_kill(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
        if (c != 'a') {
            oci_err(E_INVALID_ARGUMENT, "kill: unknown option '%s'", argv[optind - 1]);
            return 1;
        }
    }
    if (optind >= argc || argc - optind > 2) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci kill [--all] ID [SIGNAL]");
        return 1;
    }
    const char *id = argv[optind];
    int sig = argc - optind == 2 ? parse_signal(argv[optind + 1]) : SIGTERM;
    if (sig < 0) {
        oci_err(E_INVALID_ARGUMENT, "kill: unknown signal '%s'", argv[optind + 1]);
        return 1;
    }
    struct oci_state st;
    if (oci_state_load(id, &st, 1))
        return 1;
    int rc = signal_container(&st, sig) ? 1 : 0;
    unload(&st);
    return rc;
}

/* Waits up to ms for the monitor's stopped state to become want (or for its end). */
static int wait_stopped_state(const struct oci_state *st, int want, int ms)
{
    for (int t = 0;; t += 5) {
        if (!oci_state_alive(st) || oci_state_paused(st) == want)
            return 0;
        if (t >= ms)
            return -1;
        usleep(5000);
    }
}

/* pause (stop 1) or resume (stop 0) ID: 0, or 1 (reported). */
static int pause_or_resume(int argc, char **argv, int stop)
{
    const char *cmd = stop ? "pause" : "resume";
    if (argc != 2 || argv[1][0] == '-') {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci %s ID", cmd);
        return 1;
    }
    struct oci_state st;
    if (oci_state_load(argv[1], &st, 1))
        return 1;
    const char *status = oci_state_status(&st), *want = stop ? "running" : "paused";
    struct monitor_ref m;
    int rc = 1;
    if (strcmp(status, want) != 0) {
        /* runc's words for each */
        oci_err(E_INVALID_ARGUMENT, "container %s: container not %s", st.id, want);
    } else if (monitor_open(&st, &m)) {
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s: container not running", st.id);
    } else {
        if (monitor_signal(&m, stop ? SIGSTOP : SIGCONT))
            oci_err(E_INVALID_ARGUMENT, "container %s: %s: %s", st.id, cmd, strerror(errno));
        else if (wait_stopped_state(&st, stop, KILL_GRACE_MS))
            oci_err(E_INVALID_ARGUMENT, "container %s: %s: the monitor is still %s after %d ms",
                    st.id, cmd, status, KILL_GRACE_MS);
        else
            rc = 0;
        monitor_close(&m);
    }
    unload(&st);
    return rc;
}

int oci_cmd_pause(int argc, char **argv)
{
    return pause_or_resume(argc, argv, 1);
}

int oci_cmd_resume(int argc, char **argv)
{
    return pause_or_resume(argc, argv, 0);
}

int oci_cmd_delete(int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
    optind = 1;
    opterr = 0;
    int c, force = 0;
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (c != 'f') {
            oci_err(E_INVALID_ARGUMENT, "delete: unknown option '%s'", argv[optind - 1]);
            return 1;
        }
        force = 1;
    }
    if (optind != argc - 1) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci delete [--force] ID");
        return 1;
    }
    const char *id = argv[optind];
    int lock = oci_state_lock(id);
    if (lock == -EPERM || lock == -EINVAL)
        return 1; /* the root, reported */
    if ((lock == -ENOTDIR || lock == -ELOOP) && force) {
        /* not a directory: a link or a file that a damaged state left under the id */
        int r = oci_state_remove_other(id);
        if (r) {
            oci_err(E_FILE_OPERATION, "%s/%s: %s", oci_state_root(), id, strerror(-r));
            return 1;
        }
        return 0;
    }
    if (lock == -ENOENT && force)
        return 0; /* as runc: nothing to delete is done */
    if (lock < 0) {
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s does not exist%s", id,
                lock == -ENOENT ? "" : " (its state is damaged: delete --force removes it)");
        return 1;
    }
    /* a state that cannot be read (damaged, or left by a create that died) has no monitor
     * this could name: it is removed as a stopped container's is */
    struct oci_state st;
    int r = oci_state_read(lock, id, &st);
    if (r == -EMEDIUMTYPE) { /* left alone, --force or not */
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s is another runtime's, not alcove-oci's", id);
        oci_state_free(&st);
        oci_state_unlock(lock);
        return 1;
    }
    const char *status = r ? "stopped" : oci_state_status(&st);
    if (r)
        oci_info("container %s: its state: %s; removed as it is", id, strerror(-r));
    if ((strcmp(status, "running") == 0 || strcmp(status, "paused") == 0) && !force) {
        oci_err(E_INVALID_ARGUMENT, "container %s is %s: stop it or delete --force", id, status);
        oci_state_free(&st);
        oci_state_unlock(lock);
        return 1;
    }
    if (strcmp(status, "stopped") != 0)
        end_container(&st);
    /* a monitor that ended without its teardown (SIGKILL) left its runtime-directory files:
     * listing the enclaves removes those of dead monitors */
    struct enclave_rec *recs;
    size_t n;
    if (enclaves_list(&recs, &n) == 0)
        enclaves_free(recs, n);
    oci_state_free(&st);
    r = oci_state_remove(lock, id);
    oci_state_unlock(lock);
    if (r) {
        oci_err(E_FILE_OPERATION, "%s/%s: %s", oci_state_root(), id, strerror(-r));
        return 1;
    }
    return 0;
}

struct list_ctx {
    int json, quiet;
    cJSON *arr;
};

static int list_one(const char *id, void *arg)
{
    struct list_ctx *c = arg;
    struct oci_state st;
    int dir = oci_state_open(id);
    if (dir < 0)
        return 0;
    if (oci_state_read(dir, id, &st)) {
        oci_state_free(&st);
        close(dir);
        return 0;
    }
    if (c->json) {
        cJSON_AddItemToArray(c->arr, oci_state_json(&st));
    } else if (c->quiet) {
        printf("%s\n", id);
    } else {
        const char *status = oci_state_status(&st);
        printf("%-12s %-10d %-10s %-40s %-30s %s\n", id,
               strcmp(status, "stopped") == 0 ? 0 : (int)st.pid, status, st.bundle, st.created,
               "root");
    }
    unload(&st);
    return 0;
}

int oci_cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {0}};
    struct list_ctx c = {0};
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "f:q", opts, NULL)) != -1) {
        if (o == 'q') {
            c.quiet = 1;
        } else if (o == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0)) {
            c.json = strcmp(optarg, "json") == 0;
        } else {
            oci_err(E_INVALID_ARGUMENT, "list: expected --format table|json or --quiet");
            return 1;
        }
    }
    if (c.json)
        c.arr = cJSON_CreateArray();
    else if (!c.quiet)
        printf("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
    int r = oci_state_each(list_one, &c);
    if (c.json)
        print_json(c.arr);
    if (r) {
        oci_err(E_READ_FROM_DISK, "%s: %s", oci_state_root(), strerror(-r));
        return 1;
    }
    return 0;
}

/* ps: the container's host processes, which is its monitor alone (the workload's processes
 * live in the enclave kernel). */
int oci_cmd_ps(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
    int json = 0, o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
        if (o == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0)) {
            json = strcmp(optarg, "json") == 0;
        } else {
            oci_err(E_INVALID_ARGUMENT, "ps: expected --format table|json");
            return 1;
        }
    }
    if (optind >= argc) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci ps [--format table|json] ID");
        return 1;
    }
    struct oci_state st;
    if (oci_state_load(argv[optind], &st, 0))
        return 1;
    int alive = strcmp(oci_state_status(&st), "stopped") != 0;
    if (json) {
        cJSON *a = cJSON_CreateArray();
        if (alive)
            cJSON_AddItemToArray(a, cJSON_CreateNumber(st.pid));
        print_json(a);
    } else {
        printf("PID\n");
        if (alive)
            printf("%d\n", (int)st.pid);
    }
    unload(&st);
    return 0;
}
