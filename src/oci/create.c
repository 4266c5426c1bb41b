/* create.c: `create`, `start` and `run`. create checks the bundle, builds the enclave's
 * image from root.path (as `alcove run --rootfs` does: image/boot_image.c), and forks the
 * monitor, the process the pid file names: it waits on the container's exec.fifo until
 * `start` reads it, then runs the enclave (monitor_run) with the stdio create was given, and
 * exits with the workload's status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
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
};

static int parse_create(int argc, char **argv, struct create_opts *o, const char *cmd)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"pid-file", required_argument, NULL, 'p'},
        {"console-socket", required_argument, NULL, 'c'},
        {"no-pivot", no_argument, NULL, 'n'},
        {"no-new-keyring", no_argument, NULL, 'n'},
        {"preserve-fds", required_argument, NULL, 'n'},
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
        case 'n':
        case 'd':
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

static int write_pid_file(const char *path, pid_t pid)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%d", (int)pid);
    return write_file_atomic(path, text, (size_t)n, 0644);
}

/* The monitor: held until start, then the enclave; never returns. */
static void monitor_main(const char *id, struct oci_bundle *b, struct boot_image *bi, int tty)
{
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
    char fifo[PATH_MAX], killed[PATH_MAX];
    if (oci_state_path(fifo, sizeof(fifo), id, "exec.fifo") ||
        oci_state_path(killed, sizeof(killed), id, "killed"))
        _exit(STATUS_ALCOVE_FAILED);
    int fd = open(fifo, O_WRONLY | O_CLOEXEC);
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
    int r = monitor_run(&cfg);
    int status = r < 0 ? STATUS_ALCOVE_FAILED : r;
    /* kill KILL ends the enclave through SIGTERM (its teardown runs) and says so here: the
     * status is the one SIGKILL gives */
    if (access(killed, F_OK) == 0)
        status = 128 + SIGKILL;
    _exit(status);
}

/* Makes the container; on success *pid is its monitor. The exit status for a failure. */
static int do_create(const struct create_opts *o, pid_t *pid)
{
    int lock = oci_state_make(o->id);
    if (lock == -EEXIST) {
        oci_err(E_NAME_IN_USE, "container %s exists (under %s)", o->id, oci_state_root());
        return 1;
    }
    if (lock < 0) {
        oci_err(E_FILE_OPERATION, "%s/%s: %s", oci_state_root(), o->id, strerror(-lock));
        return 1;
    }
    struct oci_bundle b;
    struct boot_image bi;
    memset(&bi, 0, sizeof(bi));
    int tty = -1;
    int err = oci_bundle_load(o->bundle, &b);
    if (err) {
        oci_state_remove(o->id);
        oci_state_unlock(lock);
        return 1;
    }
    char why[512] = "";
    err = boot_image_from_dir(&bi, b.rootfs, b.args, 1, why, sizeof(why));
    if (err) {
        oci_err(err, "root.path %s: %s", b.rootfs, why);
        goto fail;
    }
    if (b.terminal && !o->console_socket) {
        err = E_MISSING_ARGUMENT;
        oci_err(err, "process.terminal is true: the pty's master needs --console-socket");
        goto fail;
    }
    if (!b.terminal && o->console_socket)
        oci_info("--console-socket %s unused: process.terminal is false", o->console_socket);
    if (b.terminal && (tty = oci_console_make(o->console_socket, b.rows, b.cols)) < 0) {
        err = E_FILE_OPERATION;
        goto fail;
    }
    char fifo[PATH_MAX];
    if (oci_state_path(fifo, sizeof(fifo), o->id, "exec.fifo") || mkfifo(fifo, 0600)) {
        err = E_FILE_OPERATION;
        oci_err(err, "%s: %s", fifo, strerror(errno));
        goto fail;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        err = E_FILE_OPERATION;
        oci_err(err, "fork: %s", strerror(errno));
        goto fail;
    }
    if (child == 0) {
        close(lock);
        monitor_main(o->id, &b, &bi, tty);
    }
    if (tty >= 0)
        close(tty);
    tty = -1;
    struct oci_state st;
    memset(&st, 0, sizeof(st));
    snprintf(st.id, sizeof(st.id), "%s", o->id);
    st.pid = child;
    st.pid_start = oci_pid_start(child);
    snprintf(st.bundle, sizeof(st.bundle), "%s", b.dir);
    snprintf(st.rootfs, sizeof(st.rootfs), "%s", b.rootfs);
    now_rfc3339(st.created, sizeof(st.created));
    st.annotations = b.annotations;
    int r = oci_state_write(&st);
    if (!r && o->pid_file)
        r = write_pid_file(o->pid_file, child);
    if (r) {
        err = E_FILE_OPERATION;
        oci_err(err, "the container's state or pid file: %s", strerror(-r));
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        goto fail;
    }
    oci_debug("created %s: monitor %d, image %zu bytes", o->id, (int)child, bi.rootfs_size);
    boot_image_free(&bi);
    oci_bundle_free(&b);
    oci_state_unlock(lock);
    *pid = child;
    return 0;
fail:
    if (tty >= 0)
        close(tty);
    boot_image_free(&bi);
    oci_bundle_free(&b);
    oci_state_remove(o->id);
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

int oci_release_monitor(const char *id, pid_t pid, unsigned long long pid_start)
{
    char fifo[PATH_MAX];
    if (oci_state_path(fifo, sizeof(fifo), id, "exec.fifo"))
        return E_FILE_OPERATION;
    int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        oci_err(E_FILE_OPERATION, "%s: %s", fifo, strerror(errno));
        return E_FILE_OPERATION;
    }
    /* the monitor may not have opened its end yet: a read finds no writer (0) until it does */
    for (int tries = 0; tries < 3000; tries++) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n == 1) {
            close(fd);
            unlink(fifo);
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
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s does not exist", id);
        return 1;
    }
    struct oci_state st;
    int r = oci_state_read(id, &st);
    if (r) {
        oci_state_unlock(lock);
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s: its state: %s", id, strerror(-r));
        return 1;
    }
    const char *status = oci_state_status(&st);
    int rc = 0;
    if (strcmp(status, "created") != 0) {
        oci_err(E_INVALID_ARGUMENT, "container %s is %s: only a created container starts", id,
                status);
        rc = 1;
    } else if (oci_release_monitor(id, st.pid, st.pid_start)) {
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

static pid_t g_run_child;

static void forward_signal(int sig)
{
    if (g_run_child > 0)
        kill(g_run_child, sig);
}

/* run: create, start, wait for the workload, delete; exits with the workload's status.
 * (--detach: create and start only.) */
int oci_cmd_run(int argc, char **argv)
{
    struct create_opts o;
    if (parse_create(argc, argv, &o, "run"))
        return 1;
    int detach = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--detach") == 0 || strcmp(argv[i], "-d") == 0)
            detach = 1;
    pid_t pid;
    int rc = do_create(&o, &pid);
    if (rc)
        return rc;
    g_run_child = pid;
    struct sigaction sa = {.sa_handler = forward_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    if (start_one(o.id)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        oci_state_remove(o.id);
        return 1;
    }
    if (detach)
        return 0;
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    int lock = oci_state_lock(o.id);
    oci_state_remove(o.id);
    oci_state_unlock(lock);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}
