/* test_control.c: a detached enclave's control socket (src/monitor/control.c) is a bounded
 * resource that idle or excess clients cannot take from TERMINATE: every slot held by a client
 * that sends nothing, a new client is still answered; an idle client is dropped after its time;
 * out of descriptors, the control thread does not spin and serves again once one is free. The
 * monitor around it is a stub: vm_end records the call. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/control.h"
#include "monitor/vm.h"

static int g_ended;

void vm_end(struct vm *vm, enum vm_end how, int status, const char *fmt, ...)
{
    (void)vm;
    (void)how;
    (void)status;
    (void)fmt;
    __atomic_store_n(&g_ended, 1, __ATOMIC_SEQ_CST);
}

static char *describe(struct vm *vm)
{
    (void)vm;
    return strdup("{\"State\": \"RUNNING\"}");
}

static char g_dir[] = "/tmp/test_control.XXXXXX";
static struct vm g_vm;

static int client(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/rt/77.ctl", g_dir);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends line and reads the answer to its end (at most 10 s): its length, or -1. */
static ssize_t ask(const char *line, char *buf, size_t size)
{
    int fd = client();
    if (fd < 0)
        return -1;
    if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t n;
    while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    close(fd);
    return (ssize_t)got;
}

static double seconds(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The descriptor limit that leaves exactly n descriptors free. */
static int limit_leaving(int n)
{
    int fd = 0;
    for (; n > 0; fd++)
        if (fcntl(fd, F_GETFD) < 0)
            n--;
    return fd;
}

static struct control *start(void)
{
    int console = -1;
    struct control *c = control_start(&g_vm, false, describe, &console);
    assert_non_null(c);
    close(console);
    return c;
}

/* 64 clients that say nothing hold every slot: a 65th still gets its answer. */
static void idle_clients_do_not_block(void **state)
{
    (void)state;
    struct control *c = start();
    int idle[80];
    for (int i = 0; i < 80; i++) {
        idle[i] = client();
        assert_true(idle[i] >= 0);
    }
    char buf[256];
    assert_true(ask("DESCRIBE\n", buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "RUNNING"));
    /* TERMINATE too, and its client stays connected (the monitor exits to close it) */
    int t = client();
    assert_true(t >= 0);
    assert_int_equal(send(t, "TERMINATE\n", 10, MSG_NOSIGNAL), 10);
    for (int i = 0; i < 200 && !__atomic_load_n(&g_ended, __ATOMIC_SEQ_CST); i++)
        usleep(10000);
    assert_int_equal(__atomic_load_n(&g_ended, __ATOMIC_SEQ_CST), 1);
    control_stop(c);
    for (int i = 0; i < 80; i++)
        close(idle[i]);
    close(t);
}

/* 64 console readers hold every slot: a newcomer still gets its answer (the oldest reader gives
 * way), so readers cannot keep terminate-enclave out. */
static void console_readers_do_not_block(void **state)
{
    (void)state;
    int console = -1;
    struct control *c = control_start(&g_vm, true, describe, &console);
    assert_non_null(c);
    int readers[70];
    for (int i = 0; i < 70; i++) {
        readers[i] = client();
        assert_true(readers[i] >= 0);
        char ok[3];
        assert_int_equal(send(readers[i], "CONSOLE\n", 8, MSG_NOSIGNAL), 8);
        if (i < 64)
            assert_int_equal(read(readers[i], ok, 3), 3); /* "OK\n" */
    }
    char buf[256];
    assert_true(ask("DESCRIBE\n", buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "RUNNING"));
    control_stop(c);
    close(console);
    for (int i = 0; i < 70; i++)
        close(readers[i]);
}

/* A client that sends no whole line is dropped after a few seconds. */
static void idle_client_times_out(void **state)
{
    (void)state;
    struct control *c = start();
    int fd = client();
    assert_true(fd >= 0);
    assert_int_equal(send(fd, "DESCR", 5, MSG_NOSIGNAL), 5);
    double t0 = seconds(CLOCK_MONOTONIC);
    char b;
    ssize_t n = read(fd, &b, 1); /* SO_RCVTIMEO 10 s: -1 if it was never dropped */
    double waited = seconds(CLOCK_MONOTONIC) - t0;
    assert_int_equal(n, 0);
    assert_true(waited > 2.0 && waited < 9.0);
    close(fd);
    control_stop(c);
}

/* Out of descriptors, with clients waiting: the control thread does not spin on its listening
 * socket, and answers once descriptors are free again. */
static void out_of_descriptors_no_spin(void **state)
{
    (void)state;
    struct control *c = start();
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)limit_leaving(40);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    /* sockets made while there is room, connected once there is none: they wait in the
     * backlog while the control thread cannot accept them */
    int late[4];
    for (int i = 0; i < 4; i++) {
        late[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(late[i] >= 0);
    }
    /* every descriptor left taken by clients and the control thread's ends of them */
    int fds[64], n = 0;
    while (n < 64) {
        int fd = client();
        if (fd < 0)
            break;
        fds[n++] = fd;
    }
    print_message("limit %d, %d clients\n", (int)low.rlim_cur, n);
    assert_true(n > 0 && n < 64);
    usleep(200000);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/rt/77.ctl", g_dir);
    for (int i = 0; i < 4; i++)
        assert_int_equal(connect(late[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
    usleep(200000);
    double cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID), wall0 = seconds(CLOCK_MONOTONIC);
    usleep(1000000);
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    double wall = seconds(CLOCK_MONOTONIC) - wall0;
    print_message("control thread: %.3f s of CPU in %.3f s out of descriptors\n", cpu, wall);
    assert_true(cpu < 0.25 * wall);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    for (int i = 0; i < 4; i++)
        close(late[i]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    char buf[256];
    assert_true(ask("DESCRIBE\n", buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "RUNNING"));
    control_stop(c);
}

int main(void)
{
    if (!mkdtemp(g_dir))
        return 1;
    char rt[256];
    snprintf(rt, sizeof(rt), "%s/rt", g_dir);
    setenv("ALCOVE_RUNTIME_DIR", rt, 1);
    g_vm.claim.cid = 77;
    g_vm.claim.fd = -1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idle_clients_do_not_block),
        cmocka_unit_test(console_readers_do_not_block),
        cmocka_unit_test(idle_client_times_out),
        cmocka_unit_test(out_of_descriptors_no_spin),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
    if (system(cmd) != 0)
        return 1;
    return r;
}
