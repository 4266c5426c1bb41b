/* create.c: `create`, `start` and `run`. create checks the bundle, builds the enclave's
 * image from root.path (as `alcove run --rootfs` does: image/boot_image.c), and forks the
 * monitor, the process the pid file names: it waits on the container's exec.fifo until
 * `start` reads it, then runs the enclave (monitor_run) with the stdio create was given, and
 * exits with the workload's status. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/errors.h"
#include "common/fileio.h"
#include "common/log.h"
#include "image/boot_image.h"
#include "monitor/monitor.h"
#include "oci/bundle.h"
#include "oci/console.h"
#include "oci/enclave.h"
#include "oci/lifecycle.h"
#include "oci/log.h"
#include "oci/state.h"

#define STATUS_ALCOVE_FAILED 125

struct create_opts {
    const char *bundle;
    const char *pid_file;
    const char *console_socket;
    const char *id;
    long preserve_fds;
    int detach;
};

static int parse_create(int argc, char **argv, struct create_opts *o, const char *cmd)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"pid-file", required_argument, NULL, 'p'},
        {"console-socket", required_argument, NULL, 'c'},
        {"no-pivot", no_argument, NULL, 'n'},
        {"no-new-keyring", no_argument, NULL, 'n'},
        {"preserve-fds", required_argument, NULL, 'P'},
        {"detach", no_argument, NULL, 'd'},
        {"keep", no_argument, NULL, 'n'},
        {"no-subreaper", no_argument, NULL, 'n'},
        {0},
    };
    memset(o, 0, sizeof(*o));
    o->bundle = ".";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "b:d", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->bundle = optarg;
            break;
        case 'p':
            o->pid_file = optarg;
            break;
        case 'c':
            o->console_socket = optarg;
            break;
        case 'P': {
            char *end;
            errno = 0;
            o->preserve_fds = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || o->preserve_fds < 0) {
                oci_err(E_INVALID_ARGUMENT, "--preserve-fds %s: expected a count", optarg);
                return -1;
            }
            break;
        }
        case 'd':
            o->detach = 1;
            break;
        case 'n':
            break;
        default:
            oci_err(E_INVALID_ARGUMENT, "%s: unknown option '%s'", cmd, argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc - 1) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci %s [--bundle DIR] [--pid-file F] ID", cmd);
        return -1;
    }
    o->id = argv[optind];
    if (!oci_id_valid(o->id)) {
        oci_err(E_INVALID_ARGUMENT, "container id '%s': expected 1 to 255 of A-Z a-z 0-9 _ + . -",
                o->id);
        return -1;
    }
    /* runc hands descriptors 3.. to the container's process; an enclave's process has its own
     * kernel's descriptors, and only stdin, stdout and stderr cross into it */
    if (o->preserve_fds > 0) {
        oci_err(E_INVALID_ARGUMENT,
                "--preserve-fds %ld: host descriptors cannot be passed into an enclave (only "
                "stdin, stdout and stderr reach its process)",
                o->preserve_fds);
        return -1;
    }
    return 0;
}

static void now_rfc3339(char *buf, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

/* Closes every descriptor from 3 up but those in keep (the caller's descriptors are not the
 * monitor's: a pipe it held open would keep an engine waiting for its end). */
static void close_fds_except(const int *keep, int n)
{
    int sorted[8], m = 0;
    for (int i = 0; i < n && m < 8; i++)
        if (keep[i] > 2)
            sorted[m++] = keep[i];
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            int t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    unsigned from = 3;
    for (int i = 0; i <= m; i++) {
        unsigned to = i < m ? (unsigned)sorted[i] - 1 : ~0u;
        if (i < m && (unsigned)sorted[i] < from) /* a duplicate */
            continue;
        if (from <= to && syscall(SYS_close_range, from, to, 0) != 0) {
            /* no close_range (before Linux 5.9): one by one, as /proc lists them */
            DIR *d = opendir("/proc/self/fd");
            int self = d ? dirfd(d) : -1;
            struct dirent *e;
            while (d && (e = readdir(d))) {
                int fd = atoi(e->d_name);
                if (fd != self && (unsigned)fd >= from && (unsigned)fd <= to)
                    close(fd);
            }
            if (d)
                closedir(d);
        }
        if (i < m)
            from = (unsigned)sorted[i] + 1;
    }
}

/* A monitor whose create died before it was done: the container's directory goes, as create
 * would have removed it, so that nothing of a failed create is left. */
static void abandon(int dir, const char *id)
{
    struct stat st;
    if (flock(dir, LOCK_EX) == 0 && fstat(dir, &st) == 0 && st.st_nlink > 0)
        oci_state_remove(dir, id);
}

/* The monitor: held until create is done (sync) and then until start (exec.fifo), then the
 * enclave; never returns. */
static void monitor_main(const char *id, struct oci_bundle *b, struct boot_image *bi, int tty,
                         int dir, int sync)
{
    /* run caught and blocked the signals it forwards: the monitor has the defaults */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    /* a signal carried for the enclave (kill) waits for monitor_run's wait, never ends this
     * process by default between start and then, nor after the enclave's end */
    sigset_t carrier;
    sigemptyset(&carrier);
    sigaddset(&carrier, MONITOR_SIGNAL_CARRIER);
    sigprocmask(SIG_SETMASK, &carrier, NULL);
    setsid(); /* the caller's terminal signals are not the workload's */
    if (tty >= 0) {
        /* the terminal's slave is the workload's console, and the monitor's controlling
         * terminal (the engine's hangup reaches it) */
        ioctl(tty, TIOCSCTTY, 0);
        dup2(tty, 0);
        dup2(tty, 1);
        dup2(tty, 2);
        if (tty > 2)
            close(tty);
    }
    int keep[] = {dir, sync, oci_log_fd(), oci_root_open(0)};
    close_fds_except(keep, sizeof(keep) / sizeof(keep[0]));
    /* create says 'g' once the container is recorded; its end closing first (it failed, or
     * it was killed) means there is no container to wait for */
    char c = 0;
    ssize_t n;
    while ((n = read(sync, &c, 1)) < 0 && errno == EINTR)
        ;
    if (n != 1 || c != 'g') {
        abandon(dir, id);
        _exit(STATUS_ALCOVE_FAILED);
    }
    close(sync);
    oci_root_forget();

    int fd = openat(dir, "exec.fifo", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        _exit(STATUS_ALCOVE_FAILED);
    ssize_t w = write(fd, "0", 1);
    close(fd);
    if (w != 1)
        _exit(STATUS_ALCOVE_FAILED);

    log_set_fd(oci_log_fd());
    log_set_json(oci_log_is_json());
    log_set_level(ALC_LOG_WARN);
    struct enclave_config cfg;
    oci_enclave_config(&cfg, id, b, bi);
    fileio_guard_mapped_inputs(STATUS_ALCOVE_FAILED);
    int stopped_by = 0;
    cfg.stopped_by_signal = &stopped_by;
    int r = monitor_run(&cfg);
    /* monitor_run restored the signal mask: a second TERM (an engine's, then kill KILL's) must
     * not end this process by default before it reports the status below */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int status = r < 0 ? STATUS_ALCOVE_FAILED : r;
    /* `kill ID KILL` carries KILL, which ends a running monitor with 137 itself; one that came
     * while an engine's TERM was already ending the enclave is what the engine asked for last
     * (monitor_run says so: stopped_by), and a workload that exits 143 itself, or dies of its
     * own SIGTERM, keeps its status. (The record in the container's directory cannot be read
     * here: the monitor may run as its own user by now, docs/security.md.) */
    if (stopped_by == SIGKILL && status == 128 + SIGTERM)
        status = 128 + SIGKILL;
    _exit(status);
}

/* Makes the container; on success *pid is its monitor. The exit status for a failure. */
static int do_create(const struct create_opts *o, pid_t *pid)
{
    struct oci_bundle b;
    struct boot_image bi;
    memset(&bi, 0, sizeof(bi));
    int tty = -1, dir = -1, sync[2] = {-1, -1};
    bool pid_written = false;
    pid_t child = -1;
    /* the bundle and its image first: the id's directory, once it has its name, is only ever
     * without a monitor for the few calls up to the fork (a create killed while it built a
     * large image left a directory that kept the id taken) */
    int err = oci_bundle_load(o->bundle, &b);
    if (err)
        return 1;
    err = oci_enclave_image(&bi, &b);
    if (err) {
        boot_image_free(&bi);
        oci_bundle_free(&b);
        return 1;
    }
    int lock = oci_state_make(o->id);
    if (lock < 0) {
        if (lock == -EEXIST)
            oci_err(E_NAME_IN_USE, "container %s exists (under %s)", o->id, oci_state_root());
        else if (lock != -EPERM && lock != -EINVAL) /* those: the root, reported */
            oci_err(E_FILE_OPERATION, "%s/%s: %s", oci_state_root(), o->id, strerror(-lock));
        boot_image_free(&bi);
        oci_bundle_free(&b);
        return 1;
    }
    if (b.terminal && !o->console_socket) {
        err = E_MISSING_ARGUMENT;
        oci_err(err, "process.terminal is true: the pty's master needs --console-socket");
        goto fail;
    }
    if (!b.terminal && o->console_socket)
        oci_info("--console-socket %s unused: process.terminal is false", o->console_socket);
    if (b.terminal && (tty = oci_console_make(o->console_socket, b.rows, b.cols, 1)) < 0) {
        err = E_FILE_OPERATION;
        goto fail;
    }
    if (mkfifoat(lock, "exec.fifo", 0600)) {
        err = E_FILE_OPERATION;
        oci_err(err, "%s/%s/exec.fifo: %s", oci_state_root(), o->id, strerror(errno));
        goto fail;
    }
    /* the monitor's own descriptor of the directory (not the lock's: a lock belongs to its
     * open file, which the monitor would otherwise share) */
    dir = openat(lock, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync)) {
        err = E_FILE_OPERATION;
        oci_err(err, "the monitor's descriptors: %s", strerror(errno));
        goto fail;
    }
    fflush(NULL);
    child = fork();
    if (child < 0) {
        err = E_FILE_OPERATION;
        oci_err(err, "fork: %s", strerror(errno));
        goto fail;
    }
    if (child == 0) {
        close(lock);
        close(sync[0]);
        monitor_main(o->id, &b, &bi, tty, dir, sync[1]);
    }
    close(sync[1]);
    sync[1] = -1;
    close(dir);
    dir = -1;
    if (tty >= 0)
        close(tty);
    tty = -1;
    /* for the tests of a create that dies half way (docs/oci.md) */
    const char *fault = getenv("ALCOVE_FAULT");
    if (fault && strcmp(fault, "oci-create-pause") == 0)
        sleep(10);
    struct oci_state st;
    memset(&st, 0, sizeof(st));
    snprintf(st.id, sizeof(st.id), "%s", o->id);
    st.dir = lock;
    st.pid = child;
    st.pid_start = oci_pid_start(child);
    snprintf(st.bundle, sizeof(st.bundle), "%s", b.dir);
    snprintf(st.rootfs, sizeof(st.rootfs), "%s", b.rootfs);
    now_rfc3339(st.created, sizeof(st.created));
    st.annotations = b.annotations;
    int r = oci_state_write(&st);
    if (!r && o->pid_file) {
        r = oci_write_pid_file(o->pid_file, child);
        pid_written = !r;
    }
    /* MSG_NOSIGNAL: a monitor already gone (OOM, a hangup of its terminal) is EPIPE here, and
     * the clean-up below runs, rather than SIGPIPE ending create with its state left */
    if (!r && send(sync[0], "g", 1, MSG_NOSIGNAL) != 1)
        r = -errno;
    if (r) {
        err = E_FILE_OPERATION;
        oci_err(err, "the container's state, pid file or monitor: %s", strerror(-r));
        goto fail;
    }
    close(sync[0]);
    oci_debug("created %s: monitor %d, image %zu bytes", o->id, (int)child, bi.rootfs_size);
    boot_image_free(&bi);
    oci_bundle_free(&b);
    oci_state_unlock(lock);
    *pid = child;
    return 0;
fail:
    if (sync[0] >= 0)
        close(sync[0]);
    if (sync[1] >= 0)
        close(sync[1]);
    if (child > 0) { /* our own child, not reaped yet: its pid is its own */
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    if (dir >= 0)
        close(dir);
    if (tty >= 0)
        close(tty);
    boot_image_free(&bi);
    oci_bundle_free(&b);
    if (pid_written)
        unlink(o->pid_file); /* written for a container that is not there */
    oci_state_remove(lock, o->id);
    oci_state_unlock(lock);
    return 1;
}

int oci_cmd_create(int argc, char **argv)
{
    struct create_opts o;
    if (parse_create(argc, argv, &o, "create"))
        return 1;
    pid_t pid;
    return do_create(&o, &pid);
}

int oci_release_monitor(int dir, const char *id, pid_t pid, unsigned long long pid_start)
{
    int fd = openat(dir, "exec.fifo", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) || !S_ISFIFO(sb.st_mode)) {
        oci_err(E_FILE_OPERATION, "%s/%s/exec.fifo: %s", oci_state_root(), id,
                fd < 0 ? strerror(errno) : "not a FIFO");
        if (fd >= 0)
            close(fd);
        return E_FILE_OPERATION;
    }
    /* the monitor may not have opened its end yet: a read finds no writer (0) until it does */
    for (int tries = 0; tries < 3000; tries++) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n == 1) {
            close(fd);
            unlinkat(dir, "exec.fifo", 0);
            return 0;
        }
        if (oci_pid_start(pid) != pid_start)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (n < 0 && errno == EAGAIN)
            poll(&p, 1, 10);
        else
            usleep(10000);
    }
    close(fd);
    oci_err(E_ENCLAVE_BOOT_FAILURE, "container %s: its monitor (pid %d) is gone or not waiting", id,
            (int)pid);
    return E_ENCLAVE_BOOT_FAILURE;
}

static int start_one(const char *id)
{
    int lock = oci_state_lock(id);
    if (lock < 0) {
        if (lock != -EPERM)
            oci_err(E_ENCLAVE_NOT_FOUND, "container %s does not exist", id);
        return 1;
    }
    struct oci_state st;
    int r = oci_state_read(lock, id, &st);
    if (r) {
        oci_state_unlock(lock);
        if (r == -EMEDIUMTYPE)
            oci_err(E_ENCLAVE_NOT_FOUND, "container %s is another runtime's, not alcove-oci's", id);
        else
            oci_err(E_ENCLAVE_NOT_FOUND, "container %s: its state: %s", id, strerror(-r));
        return 1;
    }
    const char *status = oci_state_status(&st);
    int rc = 0;
    if (strcmp(status, "created") != 0) {
        oci_err(E_INVALID_ARGUMENT, "container %s is %s: only a created container starts", id,
                status);
        rc = 1;
    } else if (oci_release_monitor(lock, id, st.pid, st.pid_start)) {
        rc = 1;
    }
    oci_state_free(&st);
    oci_state_unlock(lock);
    return rc;
}

int oci_cmd_start(int argc, char **argv)
{
    if (argc != 2) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci start ID");
        return 1;
    }
    return start_one(argv[1]);
}

static volatile sig_atomic_t g_run_child;

static void forward_signal(int sig)
{
    if (g_run_child > 0)
        kill((pid_t)g_run_child, sig);
}

/* Removes the container run made, through the descriptor of its own directory (dir, opened
 * right after create): if another runtime deleted it (delete --force) and made a new container
 * under the same id meanwhile, that one is not touched (remove_entry compares the inode). */
static void run_remove(const char *id, int dir)
{
    struct stat st;
    if (dir >= 0 && flock(dir, LOCK_EX) == 0 && fstat(dir, &st) == 0 && st.st_nlink > 0)
        oci_state_remove(dir, id);
    if (dir >= 0)
        close(dir);
}

/* Ends a container run made but did not start (or could not): its monitor, its directory. */
static void run_abort(const char *id, pid_t pid, int dir)
{
    kill(pid, SIGKILL); /* our child, not reaped yet */
    waitpid(pid, NULL, 0);
    run_remove(id, dir);
}

/* run: create, start, wait for the workload, delete; exits with the workload's status.
 * (--detach: create and start only.) The signals run forwards to the workload are blocked from
 * the start: one that comes before the enclave starts ends run (128 + N) with nothing left,
 * one that comes after goes to the monitor (monitor/host_signal.c: to the workload when it
 * handles it, else the end of the enclave as that signal would). */
int oci_cmd_run(int argc, char **argv)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    sigset_t fwd, old;
    sigemptyset(&fwd);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&fwd, sigs[i]);
    sigprocmask(SIG_BLOCK, &fwd, &old);
    struct sigaction sa = {.sa_handler = forward_signal};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);

    struct create_opts o;
    if (parse_create(argc, argv, &o, "run"))
        return 1;
    pid_t pid;
    int rc = do_create(&o, &pid);
    if (rc)
        return rc;
    int dir = oci_state_open(o.id); /* ours: what run removes at the end */
    sigset_t pending;
    sigpending(&pending);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigismember(&pending, sigs[i])) {
            oci_info("container %s: signal %d before it started: not started", o.id, sigs[i]);
            run_abort(o.id, pid, dir);
            return 128 + sigs[i];
        }
    if (start_one(o.id)) {
        run_abort(o.id, pid, dir);
        return 1;
    }
    g_run_child = pid;
    sigprocmask(SIG_SETMASK, &old, NULL); /* what came meanwhile is forwarded now */
    if (o.detach) {
        if (dir >= 0)
            close(dir);
        return 0;
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    g_run_child = 0;
    run_remove(o.id, dir);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}
