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
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/errors.h"
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

/* A claimed CID with its description, two sockets' files and a lease file, then the keeper. */
static struct fixture *start(int detached)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->vm.claim.fd = -1;
    f->vm.pid = getpid();
    f->cfg.cpu_count = 1;
    f->cfg.memory_mib = 64;
    f->cfg.detached = detached;
    assert_int_equal(pipe2(f->ready, O_CLOEXEC), 0);
    f->cfg.ready_fd = f->ready[1];
    assert_int_equal(registry_enter(&f->vm, &f->cfg), 0);
    for (const char *ext = "vsock"; ext; ext = strcmp(ext, "vsock") == 0 ? "ctl" : NULL)
        close(open(file_of(f, ext), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    snprintf(f->vm.lease.path, sizeof(f->vm.lease.path), "%s/lease.%u", g_dir, f->vm.claim.cid);
    f->vm.lease.fd = open(f->vm.lease.path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    assert_true(f->vm.lease.fd >= 0);
    assert_int_equal(keeper_start(&f->vm, &f->cfg, &f->k), 0);
    assert_true(f->k.pid > 0);
    assert_int_equal(f->vm.claim.fd, -1); /* the monitor's copy of the claim is closed */
    close(f->vm.lease.fd);                /* as monitor_run does before its record */
    f->vm.lease.fd = -1;
    return f;
}

/* Nothing of f's enclave is left but what keep names ("json": the description). */
static void assert_removed(struct fixture *f, const char *keep)
{
    assert_false(exists(file_of(f, "vsock")));
    assert_false(exists(file_of(f, "ctl")));
    assert_false(exists(f->vm.lease.path));
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
    assert_int_equal(f->k.pid, -1); /* reaped */
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
    free(f);
}

static void test_failed_launch_is_reported_after_the_clean_up(void **state)
{
    (void)state;
    struct fixture *f = start(1);
    finish(f, E_ENCLAVE_BOOT_FAILURE, 0, 0, 0, "");
    assert_removed(f, NULL);
    assert_int_equal(reported_code(f), E_ENCLAVE_BOOT_FAILURE);
    free(f);
}

static void test_a_monitor_that_dies_is_cleaned_up_after(void **state)
{
    (void)state;
    struct fixture *f = start(1);
    close(f->k.fd); /* as the kernel does for a monitor killed with -9 */
    int st;
    assert_int_equal(waitpid(f->k.pid, &st, 0), f->k.pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_removed(f, NULL);
    assert_int_equal(reported_code(f), E_MONITOR_FAILURE);
    free(f);
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
    if (!mkdtemp(g_dir))
        return 1;
    snprintf(g_rt, sizeof(g_rt), "%s/rt", g_dir);
    setenv("ALCOVE_RUNTIME_DIR", g_rt, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_passes_the_listeners_descriptor),
        cmocka_unit_test(test_end_describes_the_exit_and_removes_the_rest),
        cmocka_unit_test(test_failed_launch_is_reported_after_the_clean_up),
        cmocka_unit_test(test_a_monitor_that_dies_is_cleaned_up_after),
        cmocka_unit_test(test_hostile_records_change_nothing),
        cmocka_unit_test(test_signals_do_not_end_the_keeper_its_end_is_noticed),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(g_rt);
    rmdir(g_dir);
    return r;
}
