/* sandbox.c: the monitor's capabilities and system-call filter (see sandbox.h). */
#include "monitor/sandbox.h"

#include <cap-ng.h>
#include <errno.h>
#include <linux/kvm.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/errors.h"

int sandbox_drop_privileges(void)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
        alc_err_report(E_MONITOR_FAILURE, "cannot set no_new_privs: %s", strerror(errno));
        return -1;
    }
    if (capng_get_caps_process() != 0) {
        alc_err_report(E_MONITOR_FAILURE, "cannot read the monitor's capabilities");
        return -1;
    }
    if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE &&
        capng_have_capabilities(CAPNG_SELECT_BOUNDS) == CAPNG_NONE)
        return 0;
    /* the bounding set can be emptied only while CAP_SETPCAP is held: a process that has
     * capabilities but not that one keeps its bounding set, which no_new_privs makes moot */
    capng_select_t what =
        capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS;
    capng_clear(what);
    if (capng_apply(what) != 0) {
        alc_err_report(E_MONITOR_FAILURE, "cannot drop the monitor's capabilities");
        return -1;
    }
    return 0;
}

/* Async-signal-safe decimal and hexadecimal for the refusal message. */
static size_t put_num(char *p, unsigned long v, unsigned base)
{
    char tmp[24];
    size_t n = 0, len = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n)
        p[len++] = tmp[--n];
    return len;
}

static size_t put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return n;
}

/* A refused system call: the message, then the whole process ends (status 125, an alcove
 * failure). Nothing else is safe here: the thread that made the call holds whatever it held. */
static void on_refused(int sig, siginfo_t *si, void *uc_arg)
{
    (void)sig;
    char msg[256];
    size_t n = put_str(msg, "[ E73 ] the monitor's sandbox refused system call ");
    n += put_num(msg + n, (unsigned long)si->si_syscall, 10);
    if (si->si_syscall == SYS_ioctl) {
        const ucontext_t *uc = uc_arg;
        n += put_str(msg + n, " (ioctl 0x");
        n += put_num(msg + n, (unsigned long)uc->uc_mcontext.gregs[REG_RSI] & 0xffffffffu, 16);
        n += put_str(msg + n, ")");
    }
    n += put_str(msg + n, "; this is a bug in alcove, the enclave is ended\n");
    ssize_t w = write(2, msg, n);
    (void)w;
    syscall(SYS_exit_group, 125);
}

/* What the running monitor does, by system call (names as in <sys/syscall.h>). Anything else
 * traps (on_refused). */
static const char *const allowed[] = {
    /* descriptors and files: the runtime directory's sockets and records, the pool's leases */
    "read write readv writev pread64 pwrite64 lseek close fcntl dup dup2 dup3 openat open "
    "newfstatat fstat stat lstat statx access faccessat faccessat2 unlink unlinkat rename "
    "renameat renameat2 link linkat mkdir mkdirat chmod fchmod fchmodat ftruncate fsync "
    "fdatasync flock getdents64 readlink readlinkat pipe2 eventfd2 sendfile splice",
    /* waiting */
    "poll ppoll select pselect6 epoll_create1 epoll_ctl epoll_wait epoll_pwait timerfd_create "
    "timerfd_settime timerfd_gettime",
    /* sockets: vsock's host side (AF_UNIX), published ports and outbound TCP, name lookups */
    "socket socketpair connect accept accept4 bind listen shutdown getsockname getpeername "
    "getsockopt setsockopt sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg",
    /* memory */
    "mmap munmap mprotect madvise mremap brk mincore",
    /* threads (clone is checked below), and the end of the process */
    "futex set_robust_list get_robust_list rseq sched_yield sched_getaffinity sched_setaffinity "
    "sched_getparam sched_getscheduler sched_setscheduler getcpu membarrier exit exit_group "
    "restart_syscall",
    /* signals (to this process only: kill and tgkill are checked below) */
    "rt_sigaction rt_sigprocmask rt_sigreturn rt_sigtimedwait rt_sigpending sigaltstack",
    /* time, identity, limits, randomness (the NSM's nonces and signatures) */
    "clock_gettime clock_getres clock_nanosleep nanosleep gettimeofday time getpid gettid "
    "getppid getuid geteuid getgid getegid uname sysinfo getrlimit prlimit64 getrusage getrandom",
};

/* The ioctls after set-up: a vCPU runs, its registers are read for a crash report or changed
 * by the scheduler's tick (monitor/sched.c), and stdio asks its descriptors about themselves. */
static const unsigned long allowed_ioctls[] = {
    KVM_RUN,  KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, FIONBIO,
    FIONREAD, FIOCLEX,      TCGETS,       TIOCGWINSZ,
};

static int add_rules(scmp_filter_ctx ctx)
{
    int r = 0;
    for (size_t i = 0; !r && i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        for (const char *p = allowed[i]; !r && *p;) {
            size_t n = strcspn(p, " ");
            char name[32];
            if (n >= sizeof(name))
                return -EINVAL;
            memcpy(name, p, n);
            name[n] = 0;
            int nr = seccomp_syscall_resolve_name(name);
            r = nr == __NR_SCMP_ERROR ? -EINVAL : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
            p += n + (p[n] == ' ');
        }
    }
    for (size_t i = 0; !r && i < sizeof(allowed_ioctls) / sizeof(allowed_ioctls[0]); i++)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, allowed_ioctls[i]));
    /* threads only: a new process could leave the filter's reach through exec's caller */
    if (!r)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    /* clone3's flags are in memory where a filter cannot look: glibc then falls back to clone */
    if (!r)
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* signals to this process's own threads: vm_end's SIGUSR2, a vCPU's kick */
    pid_t self = getpid();
    if (!r)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                             SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
    if (!r)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
                             SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
    /* thread names */
    if (!r)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                             SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
    if (!r)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                             SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
    return r;
}

int sandbox_enter(void)
{
    struct sigaction sa = {.sa_sigaction = on_refused, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL)) {
        alc_err_report(E_MONITOR_FAILURE, "cannot catch SIGSYS: %s", strerror(errno));
        return -1;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx) {
        alc_err_report(E_MONITOR_FAILURE, "cannot make the monitor's system-call filter");
        return -1;
    }
    /* every thread at once: the control and device threads exist already */
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (!r)
        r = add_rules(ctx);
    if (!r)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r) {
        alc_err_report(E_MONITOR_FAILURE, "cannot load the monitor's system-call filter: %s",
                       strerror(-r));
        return -1;
    }
    return 0;
}

void sandbox_fault_probe(void)
{
    const char *fault = getenv("ALCOVE_FAULT");
    if (fault && strcmp(fault, "sandbox-exec") == 0) {
        char name[] = "true";
        char *const argv[] = {name, NULL};
        execv("/bin/true", argv);
    }
}
