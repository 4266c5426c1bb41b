/* test_sandbox.c: the monitor's sandbox (src/monitor/sandbox.c), applied in a forked child as
 * the monitor applies it: what the running monitor does still works (threads, sockets, files,
 * memory, signals to itself, randomness), and what it never does ends the process with status
 * 125 and a message naming the call: exec, fork, a signal to another process, a KVM ioctl of
 * set-up, an identity change; a thread that existed before the filter is filtered too; no
 * capability is left and no_new_privs is set. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/sandbox.h"

/* Runs body in a sandboxed child; its exit status, and what it wrote to stderr in err. */
static int run_sandboxed(void (*body)(void), char *err, size_t errlen)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 2);
        if (sandbox_drop_privileges() || sandbox_enter())
            _exit(99);
        body();
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < errlen && (r = read(p[0], err + n, errlen - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = 0;
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void *thread_body(void *arg)
{
    return arg;
}

static void allowed_body(void)
{
    pthread_t t;
    void *ret = NULL;
    if (pthread_create(&t, NULL, thread_body, (void *)42) || pthread_join(t, &ret) ||
        ret != (void *)42)
        _exit(1);
    int sv[2];
    char c = 'x';
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || write(sv[0], &c, 1) != 1 ||
        read(sv[1], &c, 1) != 1 || c != 'x')
        _exit(2);
    char path[] = "/tmp/alcove-sandbox-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, "ok", 2) != 2 || fsync(fd) || close(fd) || unlink(path))
        _exit(3);
    void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char vec[256];
    if (m == MAP_FAILED || mincore(m, 1 << 20, vec) || mprotect(m, 4096, PROT_NONE) ||
        munmap(m, 1 << 20))
        _exit(4);
    uint8_t rnd[32];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        _exit(5);
    struct timespec now, nap = {0, 1000};
    if (clock_gettime(CLOCK_MONOTONIC, &now) || nanosleep(&nap, NULL) || kill(getpid(), 0))
        _exit(6);
    /* clone3 is answered ENOSYS, which makes glibc use clone (checked above by the thread) */
    int nb = 1;
    if (ioctl(sv[0], FIONBIO, &nb) || read(sv[0], &c, 1) != -1 || errno != EAGAIN)
        _exit(7);
}

static void test_allowed(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(run_sandboxed(allowed_body, err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void status_body(void)
{
    /* the filter and the capabilities as the kernel reports them */
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        _exit(1);
    char line[256];
    int seen = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strcmp(line, "CapEff:\t0000000000000000\n") == 0 ||
            strcmp(line, "CapPrm:\t0000000000000000\n") == 0 ||
            strcmp(line, "CapInh:\t0000000000000000\n") == 0 ||
            strcmp(line, "NoNewPrivs:\t1\n") == 0 || strcmp(line, "Seccomp:\t2\n") == 0)
            seen++;
        /* root (holding CAP_SETPCAP) empties its bounding set too */
        if (geteuid() == 0 && strncmp(line, "CapBnd:", 7) == 0 &&
            strcmp(line, "CapBnd:\t0000000000000000\n") != 0)
            _exit(2);
    }
    fclose(f);
    if (seen != 5)
        _exit(3);
}

static void test_status(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(run_sandboxed(status_body, err, sizeof(err)), 0);
}

static void exec_body(void)
{
    setenv("ALCOVE_FAULT", "sandbox-exec", 1);
    sandbox_fault_probe();
    _exit(0); /* /bin/true ran: the filter let exec through */
}

static void fork_body(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    _exit(p > 0 ? 0 : 1);
}

static void kill_other_body(void)
{
    kill(getppid(), 0);
}

static void kvm_setup_ioctl_body(void)
{
    ioctl(-1, 0xae01 /* KVM_CREATE_VM */, 0);
}

static void setuid_body(void)
{
    if (setuid(getuid()))
        _exit(1);
}

static void check_refused(void (*body)(void), const char *what)
{
    char err[512];
    assert_int_equal(run_sandboxed(body, err, sizeof(err)), 125);
    assert_non_null(strstr(err, "[ E73 ] the monitor's sandbox refused system call "));
    assert_non_null(strstr(err, what));
}

static void test_refused(void **state)
{
    (void)state;
    check_refused(exec_body, "call 59;");                  /* execve */
    check_refused(fork_body, "call 56;");                  /* clone without CLONE_THREAD */
    check_refused(kill_other_body, "call 62;");            /* kill of another process */
    check_refused(kvm_setup_ioctl_body, "(ioctl 0xae01)"); /* a set-up ioctl */
    check_refused(setuid_body, "call 105;");               /* setuid */
}

/* A thread started before the filter (as the control thread is) is filtered as well. */
static int g_go[2];

static void *early_thread(void *arg)
{
    (void)arg;
    char c;
    if (read(g_go[0], &c, 1) == 1) {
        setenv("ALCOVE_FAULT", "sandbox-exec", 1);
        sandbox_fault_probe();
    }
    _exit(0);
}

static void test_early_thread(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(g_go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 2);
        pthread_t t;
        if (pthread_create(&t, NULL, early_thread, NULL))
            _exit(98);
        if (sandbox_drop_privileges() || sandbox_enter())
            _exit(99);
        if (write(g_go[1], "g", 1) != 1)
            _exit(97);
        pthread_join(t, NULL);
        _exit(0);
    }
    close(p[1]);
    char err[512];
    ssize_t n = read(p[0], err, sizeof(err) - 1);
    err[n > 0 ? n : 0] = 0;
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 125);
    assert_non_null(strstr(err, "refused system call 59;"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_early_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
