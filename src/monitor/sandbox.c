/* sandbox.c: the monitor's capabilities and system-call filter (see sandbox.h). */
#include "monitor/sandbox.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/kvm.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/log.h"
#include "monitor/sandbox_rules.h"

/* Landlock (the kernel's own sandbox for unprivileged processes) limits where the monitor may
 * write, make or remove files: beneath its runtime directory (its records, sockets, the pool's
 * leases) and device nodes (/dev/kvm and /dev/null are opened for writing). Reading is left
 * open (the CA's files, name lookups' configuration). A kernel without Landlock keeps the
 * monitor as it is, which the debug log says. Landlock binds only the calling thread and the
 * threads it makes afterwards, so this runs before the first. 0, or -1 with errno. */
static int landlock_writes(const char *writable_dir)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        alc_log(ALC_LOG_DEBUG, "no Landlock in this kernel: the monitor may write where its uid "
                               "may");
        return 0;
    }
    uint64_t make = LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                    LANDLOCK_ACCESS_FS_MAKE_SYM;
    uint64_t all = LANDLOCK_ACCESS_FS_WRITE_FILE | make;
    if (abi >= 2)
        all |= LANDLOCK_ACCESS_FS_REFER;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
    if (abi >= 3)
        all |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
    struct landlock_ruleset_attr attr = {.handled_access_fs = all};
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
    if (rs < 0)
        return -1;
    struct rule {
        const char *path;
        uint64_t access;
    } rules[] = {
        {writable_dir, all},
        {"/dev", LANDLOCK_ACCESS_FS_WRITE_FILE},
    };
    int err = 0;
    for (size_t i = 0; !err && i < sizeof(rules) / sizeof(rules[0]); i++) {
        if (!rules[i].path)
            continue;
        int fd = open(rules[i].path, O_PATH | O_CLOEXEC | O_DIRECTORY);
        if (fd < 0) {
            err = -1;
            break;
        }
        struct landlock_path_beneath_attr pb = {.allowed_access = rules[i].access, .parent_fd = fd};
        err = (int)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) ? -1 : 0;
        int saved = errno;
        close(fd);
        errno = saved;
    }
    if (!err)
        err = (int)syscall(SYS_landlock_restrict_self, rs, 0) ? -1 : 0;
    int saved = errno;
    close(rs);
    errno = saved;
    return err;
}

static int drop_privileges(const char *writable_dir, bool keep_setid)
{
    /* not dumpable: another process of this uid (another enclave's monitor) can neither open
     * this one's /proc/PID/mem nor ptrace it; the guest's memory and the leaf key are here */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
        alc_err_report(E_MONITOR_FAILURE, "cannot make the monitor non-dumpable: %s",
                       strerror(errno));
        return -1;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
        alc_err_report(E_MONITOR_FAILURE, "cannot set no_new_privs: %s", strerror(errno));
        return -1;
    }
    if (landlock_writes(writable_dir)) {
        alc_err_report(E_MONITOR_FAILURE, "cannot limit where the monitor writes (Landlock): %s",
                       strerror(errno));
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
    /* the uid change to come (monitor/identity.h) needs these two; it takes them away with
     * root's uid, in every thread */
    if (keep_setid && (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SETUID) ||
                       capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SETGID))) {
        alc_err_report(E_MONITOR_FAILURE, "cannot keep the capabilities for the uid change");
        return -1;
    }
    if (capng_apply(what) != 0) {
        alc_err_report(E_MONITOR_FAILURE, "cannot drop the monitor's capabilities");
        return -1;
    }
    return 0;
}

int sandbox_drop_privileges(const char *writable_dir)
{
    return drop_privileges(writable_dir, false);
}

int sandbox_drop_privileges_keep_setid(const char *writable_dir)
{
    return drop_privileges(writable_dir, true);
}

int sandbox_drop_remaining(void)
{
    if (capng_get_caps_process() != 0) {
        alc_err_report(E_MONITOR_FAILURE, "cannot read the process's capabilities");
        return -1;
    }
    if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
        return 0;
    capng_clear(CAPNG_SELECT_CAPS);
    if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
        alc_err_report(E_MONITOR_FAILURE, "cannot drop the remaining capabilities");
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

static int g_log_fd = -1; /* where alc_log writes, besides stderr (set by sandbox_enter) */

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
    if (g_log_fd >= 0 && g_log_fd != 2) /* --log-file, alcove-oci's log: stderr may be gone */
        w = write(g_log_fd, msg, n);
    (void)w;
    syscall(SYS_exit_group, 125);
}

/* What the running monitor does, by system call (names as in <sys/syscall.h>). Anything else
 * traps (on_refused). */
static const char *const allowed[] = {
    /* descriptors and files: the runtime directory's sockets and records, the pool's leases */
    "read write readv writev pread64 pwrite64 lseek close fcntl dup dup2 dup3 openat open "
    "newfstatat fstat stat lstat statx access faccessat faccessat2 unlink unlinkat rename "
    "renameat renameat2 fchmod ftruncate fsync fdatasync flock getdents64 readlink readlinkat "
    "pipe2 eventfd2",
    /* waiting */
    "poll ppoll select pselect6 epoll_create1 epoll_ctl epoll_wait epoll_pwait timerfd_create "
    "timerfd_settime timerfd_gettime",
    /* sockets (socket itself is checked below): connections to host listeners, accepted
     * clients of the published ports and the control socket (bound and listening before) */
    "connect accept accept4 shutdown getsockname getpeername getsockopt setsockopt sendto "
    "recvfrom sendmsg recvmsg sendmmsg recvmmsg",
    /* memory */
    "mmap munmap mprotect madvise mremap brk mincore",
    /* threads (clone is checked below), and the end of the process */
    "futex set_robust_list get_robust_list rseq sched_yield sched_getaffinity sched_setaffinity "
    "sched_getparam sched_getscheduler getcpu membarrier exit exit_group restart_syscall",
    /* the keeper (monitor/keeper.h), reaped at the end */
    "wait4",
    /* signals (to this process only: kill and tgkill are checked below) */
    "rt_sigaction rt_sigprocmask rt_sigreturn rt_sigtimedwait rt_sigpending sigaltstack",
    /* time, identity, limits, randomness (the NSM's nonces and signatures) */
    "clock_gettime clock_getres clock_nanosleep nanosleep gettimeofday time getpid gettid "
    "getppid getuid geteuid getgid getegid uname sysinfo getrlimit getrusage getrandom",
};

/* The ioctls after set-up: a vCPU runs, its registers are read for a crash report or changed
 * by the scheduler's tick (monitor/sched.c), and stdio asks its descriptors about themselves;
 * TCSETS: `alcove run -t` gives the host terminal its settings back (common/tty_raw.h). */
static const unsigned long allowed_ioctls[] = {
    KVM_RUN,  KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, FIONBIO,
    FIONREAD, FIOCLEX,      TCGETS,       TIOCGWINSZ,    TCSETS,
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
    if (!r)
        r = sandbox_rules_ioctls(ctx, allowed_ioctls,
                                 sizeof(allowed_ioctls) / sizeof(allowed_ioctls[0]));
    scmp_datum_t self = (scmp_datum_t)getpid();
    const struct sandbox_rule checked[] = {
        /* threads only: a new process could leave the filter's reach through exec's caller */
        {SCMP_SYS(clone),
         SCMP_ACT_ALLOW,
         1,
         {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)}},
        /* clone3's flags are in memory where a filter cannot look: glibc then falls back to
         * clone */
        {SCMP_SYS(clone3), SCMP_ACT_ERRNO(ENOSYS), 0, {{0}}},
        /* signals to this process's own threads: vm_end's SIGUSR2, a vCPU's kick */
        {SCMP_SYS(tgkill), SCMP_ACT_ALLOW, 1, {SCMP_A0(SCMP_CMP_EQ, self)}},
        {SCMP_SYS(kill), SCMP_ACT_ALLOW, 1, {SCMP_A0(SCMP_CMP_EQ, self)}},
        /* limits and scheduling of this process only (glibc passes 0; the populate thread
         * makes itself idle with 0). sched_setaffinity stays open: vCPU threads are pinned by
         * thread id from the main thread (allocator/lease_map.c) */
        {SCMP_SYS(prlimit64), SCMP_ACT_ALLOW, 1, {SCMP_A0(SCMP_CMP_EQ, 0)}},
        {SCMP_SYS(prlimit64), SCMP_ACT_ALLOW, 1, {SCMP_A0(SCMP_CMP_EQ, self)}},
        {SCMP_SYS(sched_setscheduler), SCMP_ACT_ALLOW, 1, {SCMP_A0(SCMP_CMP_EQ, 0)}},
        /* a thread class's own filter, stacked by the thread itself (sandbox_class.c): a
         * filter only takes rights away; no TSYNC and no listener (flags 0) */
        {SCMP_SYS(seccomp),
         SCMP_ACT_ALLOW,
         2,
         {SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER), SCMP_A1(SCMP_CMP_EQ, 0)}},
        /* thread names */
        {SCMP_SYS(prctl), SCMP_ACT_ALLOW, 1, {SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)}},
        {SCMP_SYS(prctl), SCMP_ACT_ALLOW, 1, {SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME)}},
    };
    if (!r)
        r = sandbox_rules_add(ctx, checked, sizeof(checked) / sizeof(checked[0]));
    /* sockets of the families the monitor uses: Unix (vsock's host side, a name-lookup
     * stream's pair), IPv4 and IPv6 (outbound connections); others EAFNOSUPPORT */
    if (!r)
        r = sandbox_rules_sockets(ctx);
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
    g_log_fd = log_get_fd();
    /* the classes' filters first: libseccomp is not called under a filter */
    if (sandbox_classes_prepare())
        return -1;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx) {
        alc_err_report(E_MONITOR_FAILURE, "cannot make the monitor's system-call filter");
        return -1;
    }
    /* every thread at once: the control and device threads exist already */
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    /* a 32-bit system call (int 0x80) ends the whole process, not only the calling thread,
     * which could hold a lock the others wait on */
    if (!r)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
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
    sandbox_classes_ready();
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
