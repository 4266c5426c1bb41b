/* test_sandbox.c: the monitor's sandbox (src/monitor/sandbox.c), applied in a forked child as
 * the monitor applies it: what the running monitor does still works (threads, sockets, files,
 * memory, signals to itself, randomness), and what it never does ends the process with status
 * 125 and a message naming the call: exec, fork, a signal to another process, a KVM ioctl of
 * set-up, an identity change, a limit of another process, bind; a thread that existed before
 * the filter is filtered too; no capability is left, no_new_privs is set, it is not dumpable;
 * the NSM's lazy CA load, leaf issue and signing work under the filter. */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/landlock.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "attest/ca.h"
#include "attest/nsm.h"
#include "monitor/sandbox.h"

/* The directory the sandboxed children may write in (their runtime directory). */
static char g_wdir[] = "/tmp/alcove-sandbox-wdir-XXXXXX";

static bool g_landlock; /* the kernel has it (asked before any filter) */

/* Run in the child before it is sandboxed, as the monitor's set-up (NULL: nothing). */
static void (*g_pre)(void);

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
        if (g_pre)
            g_pre();
        if (sandbox_drop_privileges(g_wdir) || sandbox_enter())
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
    if (!WIFEXITED(st))
        fail_msg("killed by signal %d (%s)", WTERMSIG(st), err);
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
    if (pipe2(sv, O_CLOEXEC) || write(sv[1], &c, 1) != 1 || read(sv[0], &c, 1) != 1 || c != 'x')
        _exit(2);
    /* the families it uses; others are answered EAFNOSUPPORT rather than ending it */
    int s4 = socket(AF_INET, SOCK_STREAM, 0), su = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s4 < 0 || su < 0 || close(s4) || close(su))
        _exit(8);
    if (socket(AF_NETLINK, SOCK_RAW, 0) != -1 || errno != EAFNOSUPPORT)
        _exit(9);
    int pair[2]; /* a DNS stream's pair (devices/vsock_dns.c) */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) ||
        close(pair[0]) || close(pair[1]))
        _exit(14);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) || prlimit(getpid(), RLIMIT_NOFILE, NULL, &rl))
        _exit(10);
    struct sched_param sp = {0};
    if (sched_setscheduler(0, SCHED_IDLE, &sp))
        _exit(11);
    char path[128];
    snprintf(path, sizeof(path), "%s/record-XXXXXX", g_wdir);
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, "ok", 2) != 2 || fsync(fd) || close(fd) || unlink(path))
        _exit(3);
    /* nowhere else: not /tmp beside it (where the kernel has Landlock) */
    if (g_landlock) {
        char other[] = "/tmp/alcove-sandbox-other-XXXXXX";
        if (mkstemp(other) != -1 || errno != EACCES)
            _exit(12);
    }
    fd = open("/dev/null", O_RDWR | O_CLOEXEC); /* devices: /dev/kvm and /dev/null */
    if (fd < 0 || write(fd, "x", 1) != 1 || close(fd))
        _exit(13);
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

/* The NSM's first attestation loads the host CA, issues a leaf and signs a document under the
 * filter (OpenSSL's key generation and signing, reading the CA's files). */
static char g_ca_dir[64];

static void ca_body(void)
{
    char why[256];
    struct attest_ca *ca = ca_load(g_ca_dir, why, sizeof(why));
    if (!ca) {
        fprintf(stderr, "ca_load: %s\n", why);
        _exit(1);
    }
    struct attest_signer s = {0};
    if (ca_issue_signer(ca, "i-0123456789abcdef-enc0123456789abcdef", time(NULL), &s, why,
                        sizeof(why))) {
        fprintf(stderr, "ca_issue_signer: %s\n", why);
        _exit(2);
    }
    static const uint8_t pcrs[ATTEST_MAX_PCRS][ATTEST_PCR_SIZE];
    struct attest_doc_fields f = {
        .module_id = "i-0123456789abcdef-enc0123456789abcdef",
        .timestamp_ms = 1,
        .pcrs = pcrs,
        .pcr_mask = 0xffff,
        .nonce = {(const uint8_t *)"nonce", 5},
    };
    uint8_t *doc = NULL;
    size_t len = 0;
    if (attest_document_build(&s, &f, &doc, &len) || len == 0)
        _exit(3);
    free(doc);
    attest_signer_free(&s);
    ca_free(ca);
}

/* The same in a vCPU thread, under its class's filter: NSM requests are answered there, with
 * the CA read at set-up (devices/nsm_dev.c): the vCPU class opens and reads no file. */
static struct attest_ca *g_ca;

static void ca_preload(void)
{
    char why[256];
    g_ca = ca_load(g_ca_dir, why, sizeof(why));
    if (!g_ca) {
        fprintf(stderr, "ca_load: %s\n", why);
        _exit(1);
    }
}

static void *ca_vcpu_thread(void *arg)
{
    sandbox_thread_class(SANDBOX_VCPU);
    char why[256];
    struct attest_signer s = {0};
    if (ca_issue_signer(g_ca, "i-0123456789abcdef-enc0123456789abcdef", time(NULL), &s, why,
                        sizeof(why))) {
        fprintf(stderr, "ca_issue_signer: %s\n", why);
        _exit(2);
    }
    static const uint8_t pcrs[ATTEST_MAX_PCRS][ATTEST_PCR_SIZE];
    struct attest_doc_fields f = {
        .module_id = "i-0123456789abcdef-enc0123456789abcdef",
        .timestamp_ms = 1,
        .pcrs = pcrs,
        .pcr_mask = 0xffff,
        .nonce = {(const uint8_t *)"nonce", 5},
    };
    uint8_t *doc = NULL;
    size_t len = 0;
    if (attest_document_build(&s, &f, &doc, &len) || len == 0)
        _exit(3);
    free(doc);
    attest_signer_free(&s);
    return arg;
}

static void ca_vcpu_body(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, ca_vcpu_thread, NULL) || pthread_join(t, NULL))
        _exit(4);
}

/* The vCPU case in a fresh process (this program run again with --ca-vcpu): what OpenSSL and
 * glibc do at their first use (a configuration file, the time zone) happens there as in a
 * monitor, where the main thread's set-up (nsm_crypto_prepare, ca_load) must have done it
 * before the vCPU thread runs. */
static int run_fresh_ca_vcpu(char *err, size_t errlen)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 2);
        execl("/proc/self/exe", "test_sandbox", "--ca-vcpu", g_ca_dir, g_wdir, (char *)NULL);
        _exit(98);
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
    if (!WIFEXITED(st))
        fail_msg("killed by signal %d (%s)", WTERMSIG(st), err);
    return WEXITSTATUS(st);
}

static void test_ca(void **state)
{
    (void)state;
    char why[256];
    snprintf(g_ca_dir, sizeof(g_ca_dir), "/tmp/alcove-sandbox-ca-%d", (int)getpid());
    struct attest_ca *ca = ca_generate("sandbox-test", time(NULL), why, sizeof(why));
    assert_non_null(ca);
    int e = 0;
    assert_int_equal(ca_save(ca, g_ca_dir, false, &e, why, sizeof(why)), 0);
    ca_free(ca);
    char err[512];
    int st = run_sandboxed(ca_body, err, sizeof(err));
    if (st == 0)
        st = run_fresh_ca_vcpu(err, sizeof(err));
    char path[128];
    snprintf(path, sizeof(path), "%s/ca.pem", g_ca_dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/ca.key", g_ca_dir);
    unlink(path);
    rmdir(g_ca_dir);
    if (st != 0)
        fprintf(stderr, "%s", err);
    assert_int_equal(st, 0);
}

static void test_status(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(run_sandboxed(status_body, err, sizeof(err)), 0);
}

/* Not dumpable once privileges are dropped: no process of the same uid (another enclave's
 * monitor) opens its /proc/PID/mem or ptraces it. */
static void test_dumpable(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(sandbox_drop_privileges(g_wdir) == 0 && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0
                                                                                              : 1);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
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

static void prlimit_other_body(void)
{
    struct rlimit rl = {1, 1};
    prlimit(getppid(), RLIMIT_CPU, &rl, NULL);
}

static void bind_body(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
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
    check_refused(prlimit_other_body, "call 302;");        /* a limit of another process */
    check_refused(bind_body, "call 49;");                  /* bind: listening is done before */
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
        if (sandbox_drop_privileges(g_wdir) || sandbox_enter())
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

/* ---- thread classes (sandbox_class.c): each class's allowlist stacked over the common one ---- */

static enum sandbox_class g_class;
static void (*g_class_call)(void);

/* Made before the filter, as the monitor's set-up makes them: a kick eventfd, an epoll set, a
 * pipe with bytes in it (the console), a listening Unix socket and a client of it that has
 * sent a line (the control socket, a host listener). */
static int g_efd = -1, g_ep = -1, g_pipe[2] = {-1, -1}, g_listen = -1, g_client = -1;
static char g_sock[96];
static void *g_guest; /* memory to populate, as guest RAM */

static void class_pre(void)
{
    g_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_efd < 0 || g_ep < 0 || pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) ||
        write(g_pipe[1], "console", 7) != 7)
        _exit(90);
    snprintf(g_sock, sizeof(g_sock), "%s/ctl", g_wdir);
    unlink(g_sock); /* the previous child's */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g_sock);
    g_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    g_client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g_listen < 0 || g_client < 0 || bind(g_listen, (struct sockaddr *)&sa, sizeof(sa)) ||
        listen(g_listen, 8) || connect(g_client, (struct sockaddr *)&sa, sizeof(sa)) ||
        write(g_client, "DESCRIBE\n", 9) != 9)
        _exit(91);
    g_guest = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_guest == MAP_FAILED)
        _exit(92);
    /* the monitor's launch-time lookup: glibc's NSS modules and gai.conf are loaded before the
     * filter, as the resolver thread's lookups need */
    struct addrinfo *res = NULL;
    if (getaddrinfo("localhost", NULL, NULL, &res) == 0)
        freeaddrinfo(res);
}

/* The resolver thread's lookups: a name of /etc/hosts with several results (the address sort
 * probes each), and one that goes to the host's name server, whatever it answers. */
static void resolver_work(void)
{
    struct addrinfo *res = NULL;
    if (getaddrinfo("localhost", NULL, NULL, &res))
        _exit(70);
    freeaddrinfo(res);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    if (getaddrinfo("alcove-sandbox-test.invalid", NULL, &hints, &res) == 0)
        freeaddrinfo(res);
}

/* What every class does: memory (malloc in its own arena), a mutex and a condition (futex),
 * the time through the system call, a signal to a thread of its own process, a log line. */
static void every_work(void)
{
    void *big = malloc(1 << 20), *small = malloc(100);
    if (!big || !small)
        _exit(21);
    memset(big, 1, 1 << 20);
    free(big);
    free(small);
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    struct timespec ts;
    if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts))
        _exit(22);
    /* a wait of 1 ms (a futex with a timeout): each class's check runs this, and a second each
     * made the whole test outgrow meson's 30 s */
    ts.tv_nsec += 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_nsec -= 1000000000;
        ts.tv_sec += 1;
    }
    pthread_mutex_lock(&m);
    pthread_cond_timedwait(&cv, &m, &ts);
    pthread_mutex_unlock(&m);
    if (syscall(SYS_tgkill, getpid(), gettid(), 0) || pthread_kill(pthread_self(), 0))
        _exit(24);
    if (write(2, "", 0) != 0)
        _exit(25);
}

static void *noop_thread(void *arg)
{
    return arg;
}

/* Threads that allocate at once, each in a malloc arena of its own, as many vCPU threads do: glibc
 * makes new arenas (and, past a few, decides whether to share them) under the filter. */
static pthread_barrier_t g_arenas;

static void *arena_thread(void *arg)
{
    sandbox_thread_class(SANDBOX_VCPU); /* as vCPU threads take their class at their start */
    void *p = malloc(1000);
    pthread_barrier_wait(&g_arenas);
    free(p);
    return arg;
}

/* made by the main thread under the common filter, as the monitor makes its vCPU threads */
static void arenas_body(void)
{
    enum { NARENA = 16 };
    pthread_t th[NARENA];
    pthread_barrier_init(&g_arenas, NULL, NARENA);
    for (int i = 0; i < NARENA; i++)
        if (pthread_create(&th[i], NULL, arena_thread, NULL))
            _exit(44);
    for (int i = 0; i < NARENA; i++)
        pthread_join(th[i], NULL);
}

static void vcpu_work(void)
{
    /* a kick of the vsock or stdio thread */
    uint64_t one = 1;
    if (write(g_efd, &one, sizeof(one)) != sizeof(one))
        _exit(40);
    /* guest RAM populated (ALC_HC_POPULATE); EINVAL before Linux 5.14 */
    if (madvise(g_guest, 2 << 20, 23 /* MADV_POPULATE_WRITE */) && errno != EINVAL)
        _exit(42);
    uint8_t rnd[16]; /* the NSM's nonces */
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        _exit(43);
}

static void control_work(void)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = g_listen}, out[4];
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, g_listen, &ev) || epoll_wait(g_ep, out, 4, 1000) != 1)
        _exit(50);
    int fd = accept4(g_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct ucred cr;
    socklen_t len = sizeof(cr);
    char line[32];
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || cr.uid != getuid())
        _exit(51);
    if (recv(fd, line, sizeof(line), MSG_DONTWAIT) != 9 ||
        send(fd, "{}\n", 3, MSG_NOSIGNAL | MSG_DONTWAIT) != 3 || close(fd))
        _exit(52);
    if (read(g_pipe[0], line, sizeof(line)) != 7) /* console bytes */
        _exit(53);
}

static void device_work(void)
{
    /* a host listener: whose it is, then a connection to it, and who listens */
    struct stat st;
    if (lstat(g_sock, &st) || st.st_uid != geteuid())
        _exit(60);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g_sock);
    struct ucred cr;
    socklen_t len = sizeof(cr);
    int sz = 65536;
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) ||
        getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) ||
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)))
        _exit(61);
    /* a client of the vsock socket, guest data both ways */
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = g_listen}, out[4];
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, g_listen, &ev) || epoll_wait(g_ep, out, 4, 1000) < 1)
        _exit(62);
    int a = accept4(g_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int b = accept4(g_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    char buf[16];
    struct iovec iov = {buf, 2};
    if (a < 0 || b < 0 || recv(a, buf, 9, MSG_PEEK) != 9 || recv(a, buf, 9, 0) != 9 ||
        writev(s, &iov, 1) != 2 || readv(b, &iov, 1) != 2 || shutdown(s, SHUT_WR))
        _exit(63);
    struct pollfd p = {.fd = g_efd, .events = POLLIN};
    uint64_t one = 1;
    if (write(g_efd, &one, 8) != 8 || poll(&p, 1, 0) != 1 || read(g_efd, &one, 8) != 8)
        _exit(64);
    /* a name-lookup stream's pair; an outbound TCP socket; other families are EAFNOSUPPORT */
    int sv[2];
    int t = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) ||
        send(sv[0], "q", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1 || t < 0)
        _exit(65);
    if (socket(AF_NETLINK, SOCK_RAW, 0) != -1 || errno != EAFNOSUPPORT)
        _exit(66);
    sched_yield();
    if (close(sv[0]) || close(sv[1]) || close(t) || close(s) || close(a) || close(b))
        _exit(67);
}

/* The populate thread: idle priority (set before its class's filter, as populate.c does), a
 * wait for the heartbeat, then guest RAM backed chunk by chunk (MADV_POPULATE_WRITE, EINVAL
 * before Linux 5.14, where it touches the pages itself). */
static void populate_work(void)
{
    struct timespec nap = {0, 500000};
    if (nanosleep(&nap, NULL))
        _exit(70);
    if (madvise((char *)g_guest + (2 << 20), 2 << 20, 23 /* MADV_POPULATE_WRITE */) &&
        errno != EINVAL)
        _exit(71);
    for (size_t off = 0; off < (2 << 20); off += 4096)
        __atomic_fetch_add((char *)g_guest + off, 0, __ATOMIC_RELAXED);
}

static void *class_thread(void *arg)
{
    (void)arg;
    if (g_class == SANDBOX_POPULATE) { /* populate.c: idle first, then its class */
        struct sched_param sp = {0};
        if (sched_setscheduler(0, SCHED_IDLE, &sp))
            _exit(72);
    }
    sandbox_thread_class(g_class);
    sandbox_thread_class(g_class); /* once is enough: the second does nothing */
    every_work();
    if (g_class_call)
        g_class_call();
    return NULL;
}

/* Runs g_class's thread in a sandboxed child (then g_class_call in it); the main thread, which
 * has only the common filter, still makes a socket afterwards. */
static void class_body(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, class_thread, NULL) || pthread_join(t, NULL))
        _exit(30);
    int su = socket(AF_UNIX, SOCK_STREAM, 0);
    if (su < 0 || close(su))
        _exit(31);
}

static void call_socket(void)
{
    socket(AF_UNIX, SOCK_STREAM, 0);
}

static void call_kvm_run(void)
{
    ioctl(-1, KVM_RUN, 0);
}

/* a class that starts no thread: pthread_create fails (clone is EPERM there, not a trap) */
static void call_thread(void)
{
    pthread_t t;
    _exit(pthread_create(&t, NULL, noop_thread, NULL) ? 51 : 50);
}

static void call_unlink(void)
{
    unlink("/nonexistent-alcove-test");
}

/* The resolver's list answers what it lacks with ENOSYS (its code is the host's NSS modules):
 * KVM_RUN, an unlink, an open for writing fail, and the thread goes on; what the common filter
 * refuses (a process) still ends the monitor. */
static void resolver_refusals(void)
{
    errno = 0;
    if (ioctl(-1, KVM_RUN, 0) != -1 || errno != ENOSYS)
        _exit(52);
    errno = 0;
    if (unlink("/nonexistent-alcove-test") != -1 || errno != ENOSYS)
        _exit(53);
    errno = 0;
    if (open("/tmp/alcove-test-resolver", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) != -1 ||
        errno != ENOSYS)
        _exit(54);
    int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || close(fd))
        _exit(55);
}

static void call_fork(void)
{
    syscall(SYS_fork);
}

/* The common filter allows these; a class's allowlist that does not name them refuses them. */
static void call_open(void)
{
    open("/proc/self/status", O_RDONLY | O_CLOEXEC);
}

static void call_read(void)
{
    char c;
    read(g_pipe[0], &c, 1);
}

static void call_fsync(void)
{
    fsync(g_pipe[1]);
}

static void check_class(enum sandbox_class c, void (*call)(void), int want, const char *what)
{
    g_class = c;
    g_class_call = call;
    g_pre = class_pre;
    char err[512];
    int st = run_sandboxed(class_body, err, sizeof(err));
    g_pre = NULL;
    if (st != want)
        fail_msg("class %d: status %d, want %d (%s)", (int)c, st, want, err);
    if (what) {
        assert_non_null(strstr(err, "[ E73 ] the monitor's sandbox refused system call "));
        assert_non_null(strstr(err, what));
    }
}

static void test_classes(void **state)
{
    (void)state;
    /* what each class does passes */
    check_class(SANDBOX_VCPU, vcpu_work, 0, NULL);
    char err[512];
    int st = run_sandboxed(arenas_body, err, sizeof(err));
    if (st)
        fail_msg("vCPU threads allocating at once: status %d (%s)", st, err);
    check_class(SANDBOX_CONTROL, control_work, 0, NULL);
    check_class(SANDBOX_DEVICE, device_work, 0, NULL);
    check_class(SANDBOX_POPULATE, populate_work, 0, NULL);
    check_class(SANDBOX_RESOLVER, resolver_work, 0, NULL);
    check_class(SANDBOX_RESOLVER, resolver_refusals, 0, NULL);
    check_class(SANDBOX_RESOLVER, call_fork, 125, "call 57;");
    check_class(SANDBOX_RESOLVER, call_thread, 51, NULL);
    /* what the old lists of refusals refused */
    check_class(SANDBOX_VCPU, call_socket, 125, "call 41;"); /* socket */
    check_class(SANDBOX_VCPU, call_unlink, 125, "call 87;"); /* unlink */
    check_class(SANDBOX_VCPU, call_thread, 51, NULL);        /* the timer thread is made before */
    check_class(SANDBOX_CONTROL, call_kvm_run, 125, "(ioctl 0xae80)"); /* KVM_RUN */
    check_class(SANDBOX_CONTROL, call_socket, 125, "call 41;");
    check_class(SANDBOX_CONTROL, call_thread, 51, NULL); /* clone: EPERM */
    check_class(SANDBOX_DEVICE, call_kvm_run, 125, "(ioctl 0xae80)");
    check_class(SANDBOX_DEVICE, call_thread, 51, NULL);
    check_class(SANDBOX_DEVICE, call_unlink, 125, "call 87;");
    /* allowlists: what the common filter allows and a class does not name ends the process */
    check_class(SANDBOX_VCPU, call_open, 125, "call 257;"); /* openat: no CA file on a vCPU */
    check_class(SANDBOX_VCPU, call_read, 125, "call 0;");   /* read */
    check_class(SANDBOX_CONTROL, call_open, 125, "call 257;");
    check_class(SANDBOX_CONTROL, call_fsync, 125, "call 74;"); /* fsync */
    check_class(SANDBOX_DEVICE, call_open, 125, "call 257;");
    check_class(SANDBOX_DEVICE, call_fsync, 125, "call 74;");
    /* the populate thread: memory and a sleep, nothing else the common filter allows */
    check_class(SANDBOX_POPULATE, call_socket, 125, "call 41;");
    check_class(SANDBOX_POPULATE, call_open, 125, "call 257;");
    check_class(SANDBOX_POPULATE, call_read, 125, "call 0;");
    check_class(SANDBOX_POPULATE, call_kvm_run, 125, "(ioctl 0xae80)");
    check_class(SANDBOX_POPULATE, call_unlink, 125, "call 87;");
    check_class(SANDBOX_POPULATE, call_thread, 51, NULL);
}

/* ALCOVE_FAULT=sandbox-<class>[-open]: the class's thread makes a call its list refuses. */
static void test_class_probe(void **state)
{
    (void)state;
    static const struct {
        const char *fault;
        enum sandbox_class c;
        const char *what;
    } probes[] = {
        {"sandbox-vcpu", SANDBOX_VCPU, "call 41;"},
        {"sandbox-control", SANDBOX_CONTROL, "(ioctl 0xae80)"},
        {"sandbox-device", SANDBOX_DEVICE, "(ioctl 0xae80)"},
        {"sandbox-vcpu-open", SANDBOX_VCPU, "call 257;"},
        {"sandbox-control-open", SANDBOX_CONTROL, "call 257;"},
        {"sandbox-device-open", SANDBOX_DEVICE, "call 257;"},
        {"sandbox-populate", SANDBOX_POPULATE, "call 41;"},
        {"sandbox-populate-open", SANDBOX_POPULATE, "call 257;"},
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        setenv("ALCOVE_FAULT", probes[i].fault, 1);
        check_class(probes[i].c, NULL, 125, probes[i].what);
        /* another class's probe is not this one's */
        check_class(probes[i].c == SANDBOX_VCPU ? SANDBOX_DEVICE : SANDBOX_VCPU, NULL, 0, NULL);
    }
    unsetenv("ALCOVE_FAULT");
}

/* Outside a sandboxed process (no sandbox_enter), a class's call does nothing. */
static void test_class_unsandboxed(void **state)
{
    (void)state;
    sandbox_thread_class(SANDBOX_VCPU);
    int su = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(su >= 0);
    close(su);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--ca-vcpu") == 0) { /* run_fresh_ca_vcpu's process */
        snprintf(g_ca_dir, sizeof(g_ca_dir), "%s", argv[2]);
        snprintf(g_wdir, sizeof(g_wdir), "%s", argv[3]);
        nsm_crypto_prepare(); /* the monitor's set-up (devices/nsm_dev.c) */
        ca_preload();
        if (sandbox_drop_privileges(g_wdir) || sandbox_enter())
            return 99;
        ca_vcpu_body();
        return 0;
    }
    if (!mkdtemp(g_wdir))
        return 1;
    g_landlock =
        syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) >= 1;
    if (!g_landlock)
        fprintf(stderr, "test_sandbox: no Landlock in this kernel: where the monitor writes is "
                        "not checked\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed),           cmocka_unit_test(test_status),
        cmocka_unit_test(test_dumpable),          cmocka_unit_test(test_ca),
        cmocka_unit_test(test_refused),           cmocka_unit_test(test_early_thread),
        cmocka_unit_test(test_classes),           cmocka_unit_test(test_class_probe),
        cmocka_unit_test(test_class_unsandboxed),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    snprintf(g_sock, sizeof(g_sock), "%s/ctl", g_wdir);
    unlink(g_sock);
    rmdir(g_wdir);
    return r;
}
