/* test_keeper.c: the keeper (src/monitor/keeper.c), the child that keeps an enclave's records,
 * against a monitor played by the test: a connection asked for comes back as a descriptor of
 * the listener at the keeper's own CID's path; the end record makes it describe the end, give
 * the lease back and remove the files before it answers; a monitor that dies without a record
 * is cleaned up after; a record with out-of-range values and messages of unknown kinds change
 * nothing; the keeper ignores signals; a keeper that dies is noticed. The vsock device and the
 * allocator are stand-ins (their own tests and the VM suites cover them): the listener's
 * connect is a plain Unix connect to "<uds>_<port>", and the lease's release removes its file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "common/errors.h"
#include "common/fdpass.h"
#include "common/runtime.h"
#include "devices/vsock.h"
#include "monitor/keeper.h"
#include "monitor/monitor.h"
#include "monitor/registry.h"
#include "monitor/vm.h"

/* ---- stand-ins ---- */

int vsock_listener_connect(const char *uds, uint32_t port, int *fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", uds, port) >=
        (int)sizeof(sa.sun_path)) {
        *fd = -1;
        errno = ENAMETOOLONG;
        return -1;
    }
    *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd >= 0 && connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return 0;
    int e = errno;
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
    errno = e;
    return -1;
}

void vsock_forget_published(struct vm *vm)
{
    (void)vm;
}

void pool_lease_release(struct pool_lease *l)
{
    unlink(l->path);
    close(l->fd);
    l->fd = -1;
}

/* ---- the monitor's side ---- */

static char g_dir[] = "/tmp/test_keeper.XXXXXX";
static char g_rt[64]; /* short: a socket's path is at most 107 bytes */

struct fixture {
    struct vm vm;
    struct enclave_config cfg;
    struct keeper k;
    pid_t keeper; /* k.pid, kept */
    int ready[2]; /* the launch's report pipe */
    char path[PATH_MAX];
};

static const char *file_of(struct fixture *f, const char *ext)
{
    snprintf(f->path, sizeof(f->path), "%s/%u.%s", g_rt, f->vm.claim.cid, ext);
    return f->path;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* In a monitor played by a child process, a check that fails ends it with the line as status
 * (cmocka's assertions belong to the test process). */
static bool g_in_monitor_child;
#define NEED(c)                                                                                    \
    do {                                                                                           \
        bool need_ok_ = (c); /* once: c may be a call */                                           \
        if (g_in_monitor_child && !need_ok_)                                                       \
            _exit(__LINE__ % 200 + 50);                                                            \
        assert_true(need_ok_);                                                                     \
    } while (0)

/* A claimed CID with its description, two sockets' files and a lease file, then the keeper.
 * ready_w: the launch's report pipe's write end, or -1 for a new pipe (f->ready). */
static struct fixture *start_with(int detached, int ready_w)
{
    struct fixture *f = calloc(1, sizeof(*f));
    NEED(f != NULL);
    f->vm.claim.fd = -1;
    f->vm.pid = getpid();
    f->cfg.cpu_count = 1;
    f->cfg.memory_mib = 64;
    f->cfg.detached = detached;
    f->ready[0] = f->ready[1] = ready_w;
    if (ready_w < 0)
        NEED(pipe2(f->ready, O_CLOEXEC) == 0);
    f->cfg.ready_fd = f->ready[1];
    NEED(registry_enter(&f->vm, &f->cfg) == 0);
    for (const char *ext = "vsock"; ext; ext = strcmp(ext, "vsock") == 0 ? "ctl" : NULL)
        close(open(file_of(f, ext), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    snprintf(f->vm.lease.path, sizeof(f->vm.lease.path), "%s/lease.%u", g_dir, f->vm.claim.cid);
    f->vm.lease.fd = open(f->vm.lease.path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    NEED(f->vm.lease.fd >= 0);
    keeper_prepare(&f->k);
    NEED(keeper_start(&f->vm, &f->cfg, &f->k) == 0);
    NEED(f->k.pid > 0);
    f->keeper = f->k.pid;
    NEED(f->vm.claim.fd == -1); /* the monitor's copy of the claim is closed */
    close(f->vm.lease.fd);      /* as monitor_run does before its record */
    f->vm.lease.fd = -1;
    return f;
}

static struct fixture *start(int detached)
{
    return start_with(detached, -1);
}

/* The files of CID cid, for a monitor played by a child. */
static struct fixture g_other;
static struct fixture *files_of(uint32_t cid)
{
    memset(&g_other, 0, sizeof(g_other));
    g_other.vm.claim.cid = cid;
    g_other.vm.pid = 0; /* a child's: its lease must be gone */
    snprintf(g_other.vm.lease.path, sizeof(g_other.vm.lease.path), "%s/lease.%u", g_dir, cid);
    return &g_other;
}

static bool g_no_pidfd; /* the next monitor child and its keeper get ENOSYS for pidfd_open */

/* Plays a monitor in a child process: start_with (detached, its report pipe ready_w), its CID
 * written to the pipe info_w, then act(f), then the child's end (as a kill -9: no record unless
 * act sent one). The keeper becomes this process's child (a subreaper). The monitor's pid. */
static pid_t monitor_child(int ready_w, int info_w, int (*act)(struct fixture *f))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        g_in_monitor_child = true;
        if (g_no_pidfd) { /* inherited by its keeper */
            scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
            if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(pidfd_open), 0) ||
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || seccomp_load(ctx))
                _exit(8);
            seccomp_release(ctx);
        }
        struct fixture *f = start_with(1, ready_w);
        uint32_t cid = f->vm.claim.cid;
        if (write(info_w, &cid, sizeof(cid)) != sizeof(cid))
            _exit(2);
        _exit(act(f));
    }
    return pid;
}

/* Waits (10 s at most) for the monitor child and then for every other child (the keeper,
 * reparented here) to end; the monitor's exit status. */
static int reap_all(pid_t monitor)
{
    int mst = -1, st;
    for (int i = 0; i < 1000; i++) {
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p == monitor)
            mst = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (p < 0 && errno == ECHILD)
            return mst;
        if (p <= 0) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    fail_msg("a keeper did not end within 10 s of its monitor");
    return -1;
}

/* Nothing of f's enclave is left but what keep names ("json": the description). */
static void assert_removed(struct fixture *f, const char *keep)
{
    assert_false(exists(file_of(f, "vsock")));
    assert_false(exists(file_of(f, "ctl")));
    /* the lease goes once the monitor has ended: this test process, for the cases it plays
     * itself (keeper_done then ends their keeper) */
    assert_int_equal(exists(f->vm.lease.path), f->vm.pid == getpid());
    assert_int_equal(exists(file_of(f, "json")), keep != NULL);
    /* and the claim's lock is free */
    int fd = open(file_of(f, "json"), O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
        close(fd);
    }
}

/* What the keeper reported on the launch's pipe: its code, or -1 when nothing came. */
static int reported_code(struct fixture *f)
{
    close(f->ready[1]);
    /* written before the keeper's answer, if at all: the keeper may still hold the pipe */
    fcntl(f->ready[0], F_SETFL, O_NONBLOCK);
    int32_t msg[2] = {-1, -1};
    ssize_t n = read(f->ready[0], msg, sizeof(msg));
    close(f->ready[0]);
    return n == (ssize_t)sizeof(msg) ? msg[0] : -1;
}

static void finish(struct fixture *f, int32_t err, int32_t reported, int32_t fin, int32_t status,
                   const char *why)
{
    struct keeper_record rec = {
        .kind = KEEPER_END, .err = err, .reported = reported, .finish = fin, .status = status};
    snprintf(rec.why, sizeof(rec.why), "%s", why);
    keeper_finish(&f->k, &rec);
}

/* The end of a case this process played: its keeper still holds the lease (this process has not
 * ended) and is ended here. */
static void keeper_done(struct fixture *f)
{
    assert_int_equal(waitpid(f->keeper, NULL, WNOHANG), 0); /* still waiting for our end */
    kill(f->keeper, SIGKILL);
    waitpid(f->keeper, NULL, 0);
    unlink(f->vm.lease.path);
}

static char *slurp(const char *path)
{
    static char buf[16384];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n > 0);
    buf[n] = 0;
    return buf;
}

static void test_connect_passes_the_listeners_descriptor(void **state)
{
    (void)state;
    struct fixture *f = start(1);
    /* a listener at the keeper's own CID's path, port 6000 */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%u.vsock_6000", g_rt, f->vm.claim.cid);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l, 4), 0);
    for (int i = 0; i < 3; i++) {
        int fd = -1;
        assert_int_equal(keeper_connect(&f->k, 6000, &fd), 0);
        assert_true(fd >= 0);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        int a = accept(l, NULL, NULL);
        assert_true(a >= 0);
        assert_int_equal(write(fd, "hi", 2), 2);
        char buf[2];
        assert_int_equal(read(a, buf, 2), 2);
        assert_memory_equal(buf, "hi", 2);
        close(a);
        close(fd);
    }
    /* nothing listens on another port: the keeper's errno, no descriptor */
    int fd = 7;
    assert_int_equal(keeper_connect(&f->k, 6001, &fd), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(fd, -1);
    close(l);
    unlink(sa.sun_path);
    assert_false(keeper_gone(&f->k));
    finish(f, 0, 1, 0, 0, "");
    assert_removed(f, NULL);
    assert_int_equal(reported_code(f), -1); /* the launch was reported by the monitor */
    keeper_done(f);
    free(f);
}

static void test_end_describes_the_exit_and_removes_the_rest(void **state)
{
    (void)state;
    struct fixture *f = start(1);
    finish(f, 0, 1, 1, 7, "the application exited with status 7");
    assert_removed(f, "json");
    const char *d = slurp(file_of(f, "json"));
    assert_non_null(strstr(d, "\"State\":\t\"EMPTY\""));
    assert_non_null(strstr(d, "\"ExitStatus\":\t7"));
    assert_non_null(strstr(d, "\"ExitReason\":\t\"the application exited with status 7\""));
    char pid[64];
    snprintf(pid, sizeof(pid), "\"ProcessID\":\t%d,", (int)getpid()); /* the monitor's */
    assert_non_null(strstr(d, pid));
    unlink(file_of(f, "json"));
    assert_int_equal(reported_code(f), -1);
    keeper_done(f);
    free(f);
}

static void test_failed_launch_is_reported_after_the_clean_up(void **state)
{
    (void)state;
    struct fixture *f = start(1);
    finish(f, E_ENCLAVE_BOOT_FAILURE, 0, 0, 0, "");
    assert_removed(f, NULL);
    assert_int_equal(reported_code(f), E_ENCLAVE_BOOT_FAILURE);
    keeper_done(f);
    free(f);
}

/* Sends descriptor fd through sock in a message of an unknown kind (99). 0 or -1. */
static int pass_fd(int sock, int fd, int flags)
{
    int32_t kind = 99;
    return fd_send(sock, &kind, sizeof(kind), fd, flags) == (ssize_t)sizeof(kind) ? 0 : -1;
}

static int act_nothing(struct fixture *f)
{
    (void)f;
    return 0;
}

/* A monitor that closes its end of the pair and runs on a while (300 ms): its records stay
 * until it has ended. */
static int act_close_and_linger(struct fixture *f)
{
    close(f->k.fd);
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (!exists(file_of(f, "json")))
        return 5; /* the records went while the monitor ran */
    return exists(f->vm.lease.path) ? 0 : 6;
}

static void *sleeper(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

/* A monitor that reports its end while a second thread still runs: the records go at once,
 * the lease only when the process has ended. */
static int act_end_with_a_thread(struct fixture *f)
{
    pthread_t t;
    if (pthread_create(&t, NULL, sleeper, NULL))
        return 3;
    struct keeper_record rec = {.kind = KEEPER_END, .reported = 1};
    keeper_finish(&f->k, &rec);
    if (exists(file_of(f, "json")))
        return 5;                            /* the records stayed */
    return exists(f->vm.lease.path) ? 0 : 6; /* the lease went while a thread ran */
}

/* A hostile monitor: hundreds of requests whose answers it never reads, then its own end of
 * the pair passed to the keeper inside a message, then its end: the keeper must neither block
 * on an answer nor keep the pair alive, and cleans up. */
static int act_flood_and_pass_its_end(struct fixture *f)
{
    struct {
        int32_t kind;
        uint32_t port;
    } req = {KEEPER_CONNECT, 6000};
    for (int i = 0; i < 2000; i++)
        if (send(f->k.fd, &req, sizeof(req), MSG_DONTWAIT) < 0 && errno != EAGAIN)
            return 4;
    for (int i = 0; i < 50 && pass_fd(f->k.fd, f->k.fd, MSG_DONTWAIT) < 0; i++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Runs act in a monitor child; checks what its keeper left: nothing, and report code want on
 * the launch's pipe (-1: none). */
static void monitor_case(int (*act)(struct fixture *f), int want)
{
    int ready[2], info[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    assert_int_equal(pipe2(info, O_CLOEXEC), 0);
    pid_t m = monitor_child(ready[1], info[1], act);
    close(ready[1]);
    close(info[1]);
    uint32_t cid = 0;
    assert_int_equal(read(info[0], &cid, sizeof(cid)), (ssize_t)sizeof(cid));
    close(info[0]);
    assert_int_equal(reap_all(m), 0);
    assert_removed(files_of(cid), NULL);
    int32_t msg[2] = {-1, -1};
    ssize_t n = read(ready[0], msg, sizeof(msg));
    close(ready[0]);
    assert_int_equal(n == (ssize_t)sizeof(msg) ? msg[0] : -1, want);
}

/* The pair's other end that a monitor hides (test_without_pidfd_...): a socket pair whose
 * reader never reads, held by this process. */
static int g_hide[2] = {-1, -1};

/* Without pidfd_open (Linux before 5.3, or a seccomp profile that refuses it): a monitor that
 * passes its own end of the pair into a socket nobody reads, then ends. */
static int act_hide_its_end_without_pidfd(struct fixture *f)
{
    return pass_fd(g_hide[1], f->k.fd, 0) == 0 ? 0 : 7;
}

static void test_a_monitor_that_dies_is_cleaned_up_after(void **state)
{
    (void)state;
    monitor_case(act_nothing, E_MONITOR_FAILURE);
}

static void test_without_pidfd_a_monitor_that_hid_its_end_is_noticed(void **state)
{
    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, g_hide), 0);
    g_no_pidfd = true;
    monitor_case(act_hide_its_end_without_pidfd, E_MONITOR_FAILURE);
    g_no_pidfd = false;
    close(g_hide[0]);
    close(g_hide[1]);
}

static void test_a_closed_pair_is_not_the_monitors_end(void **state)
{
    (void)state;
    monitor_case(act_close_and_linger, E_MONITOR_FAILURE);
}

static void test_the_lease_waits_for_a_monitor_that_still_runs_threads(void **state)
{
    (void)state;
    monitor_case(act_end_with_a_thread, -1); /* reported: no failure */
}

static void test_a_flooding_monitor_cannot_block_its_keeper(void **state)
{
    (void)state;
    monitor_case(act_flood_and_pass_its_end, E_MONITOR_FAILURE);
}

static void test_hostile_records_change_nothing(void **state)
{
    (void)state;
    struct fixture *f = start(0);
    /* unknown kinds and sizes are ignored */
    int32_t junk[3] = {99, 1, 2};
    assert_int_equal(send(f->k.fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
    struct keeper_record big = {.kind = KEEPER_END};
    assert_int_equal(send(f->k.fd, &big, sizeof(big) - 1, 0), (ssize_t)sizeof(big) - 1);
    /* an error code out of range, "describe the end" of an enclave that is not detached, a
     * reason without its terminating zero */
    struct keeper_record rec = {
        .kind = KEEPER_END, .err = 1000, .reported = 0, .finish = 1, .status = 300};
    memset(rec.why, 'x', sizeof(rec.why));
    keeper_finish(&f->k, &rec);
    assert_removed(f, NULL); /* no description kept */
    assert_int_equal(reported_code(f), E_MONITOR_FAILURE);
    keeper_done(f);
    free(f);
}

static void test_signals_do_not_end_the_keeper_its_end_is_noticed(void **state)
{
    (void)state;
    struct fixture *f = start(1);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        assert_int_equal(kill(f->k.pid, sigs[i]), 0);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(waitpid(f->k.pid, NULL, WNOHANG), 0); /* still there */
    assert_false(keeper_gone(&f->k));
    kill(f->k.pid, SIGKILL);
    assert_int_equal(waitpid(f->k.pid, NULL, 0), f->k.pid);
    assert_true(keeper_gone(&f->k));
    /* what monitor_run does next: nothing answers, the records stay for the next command */
    f->k.pid = getpid() + 100000; /* reaped already: keeper_finish's wait fails at once */
    struct keeper_record rec = {.kind = KEEPER_END};
    keeper_finish(&f->k, &rec);
    assert_true(exists(file_of(f, "json")));
    runtime_remove(f->vm.claim.cid);
    assert_false(exists(file_of(f, "json")));
    unlink(f->vm.lease.path);
    close(f->ready[0]);
    close(f->ready[1]);
    free(f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* the keepers of monitors played by children come back here when their monitor ends */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (!mkdtemp(g_dir))
        return 1;
    snprintf(g_rt, sizeof(g_rt), "%s/rt", g_dir);
    setenv("ALCOVE_RUNTIME_DIR", g_rt, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_passes_the_listeners_descriptor),
        cmocka_unit_test(test_end_describes_the_exit_and_removes_the_rest),
        cmocka_unit_test(test_failed_launch_is_reported_after_the_clean_up),
        cmocka_unit_test(test_a_monitor_that_dies_is_cleaned_up_after),
        cmocka_unit_test(test_a_closed_pair_is_not_the_monitors_end),
        cmocka_unit_test(test_without_pidfd_a_monitor_that_hid_its_end_is_noticed),
        cmocka_unit_test(test_the_lease_waits_for_a_monitor_that_still_runs_threads),
        cmocka_unit_test(test_a_flooding_monitor_cannot_block_its_keeper),
        cmocka_unit_test(test_hostile_records_change_nothing),
        cmocka_unit_test(test_signals_do_not_end_the_keeper_its_end_is_noticed),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(g_rt);
    rmdir(g_dir);
    return r;
}
