/* sandbox_class.c: the allowlists of the monitor's thread classes (see sandbox.h), stacked
 * over the common filter.
 *
 * The common filter (sandbox.c) is every thread's outer bound. Each thread class then stacks
 * an allowlist of its own, installed by the thread itself: the kernel runs every filter a
 * thread has and the strictest answer wins, so a class may make a call only where both its own
 * list and the common one allow it, and a call added to the common list reaches no class that
 * does not list it too. What a class's list does not name ends the process with the same
 * [ E73 ] message as the common filter (its trap, sandbox.c's on_refused). The lists are
 * compiled here, by the main thread, before the common filter is loaded (libseccomp is never
 * called under a filter), and a thread installs its class's with one seccomp(2) call, which the
 * common filter allows for that purpose only (no TSYNC, no listener): a further filter can only
 * take rights away.
 *
 * Every class lists (g_every): what glibc itself does in any thread (memory for malloc, futex
 * for locks, the end of the thread, signal return, a restarted call), the time, writing (log
 * lines and the [ E73 ] message of a refusal, which needs write and exit_group), and
 * clone3 answered ENOSYS as the common filter answers it (a trap there would win).
 * Then each class its own (one line per call, with why, in the tables below; docs/security.md
 * has the same). The main thread (set-up, the wait for the end, tear-down) keeps the common
 * filter only. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/log.h"
#include "monitor/sandbox.h"
#include "monitor/sandbox_rules.h"

/* What every thread of a class calls, whatever its class (names as in <sys/syscall.h>). */
static const char *const g_every[] = {
    "write",           /* log lines (alc_log), the [ E73 ] message of a refusal */
    "mmap",            /* malloc's arenas (each thread has its own) */
    "munmap",          /* free, and glibc's trimming of a thread's arena */
    "mprotect",        /* a new arena's heap grows by mprotect */
    "mremap",          /* realloc of a large block */
    "brk",             /* malloc from the main arena */
    "madvise",         /* free's MADV_DONTNEED, a thread's stack released at its end */
    "futex",           /* mutexes and conditions (vm->lock, virtio locks), vm_wake_waiters */
    "clock_gettime",   /* deadlines (where the vDSO falls back to the system call) */
    "gettimeofday",    /* the same, gettimeofday's fallback */
    "exit",            /* the thread's end */
    "exit_group",      /* the end of the process after a refusal (on_refused) */
    "rt_sigreturn",    /* return from a handler: SIGUSR1 kicks, SIGUSR2 */
    "rt_sigprocmask",  /* pthread_kill and pthread_create block signals around their work */
    "restart_syscall", /* a futex wait with a timeout, interrupted by a kick, goes on */
    "getpid",          /* pthread_kill's target is (getpid(), tid): vm_end's wake-up */
    "gettid",          /* pthread_kill of the calling thread itself */
    NULL,
};

/* vCPU threads, and the preemption timer thread (made before the guest runs, it takes this
 * class at its start, sched.c). They run KVM_RUN and handle the guest's exits: hypercalls (waits
 * and wakes are futexes, kicks are signals to vCPU threads), virtio MMIO (a vsock or stdio
 * notification is a write to an eventfd made at set-up; an NSM request is answered here, with
 * the CA loaded at set-up: no file is opened or read), populating guest memory. */
static const char *const g_vcpu[] = {
    "getrandom", /* the NSM's nonces, its leaf's key and its ECDSA signatures */
    "time",      /* the NSM's leaf's validity (time()'s fallback) */
    NULL,
};

/* The control thread (a detached enclave's control socket, made and listening before): accepts
 * clients, reads a request line, answers a description or the console, ends the enclave (vm_end:
 * a signal to the main thread). */
static const char *const g_control[] = {
    "epoll_wait", /* its loop: the listening socket, the console pipe, the clients */
    "epoll_ctl",  /* a client joins or leaves the set; listening paused when descriptors run out */
    "accept4",    /* a client of the control socket */
    "recvfrom",   /* its request line (recv) */
    "sendto",     /* the answer, the console (send) */
    "getsockopt", /* SO_PEERCRED: who may TERMINATE */
    "getuid",     /* the monitor's uid, compared with the client's */
    "read",       /* the console pipe */
    "close",      /* a client that leaves */
    NULL,
};

/* Device threads: vsock (guest virtqueues against host sockets: the host's Unix listeners,
 * clients of the vsock socket and of published TCP ports, outbound TCP to allowed destinations,
 * the name-lookup streams answered from the zone resolved at launch) and stdio (the console
 * ring to the host's stdout and stderr, stdin to the guest). */
static const char *const g_device[] = {
    "read",        /* sockets, stdin, eventfd kicks */
    "readv",       /* a host socket into the guest's rx buffers */
    "writev",      /* guest data to a host socket, console output */
    "recvfrom",    /* a CONNECT line peeked and read, name-lookup frames (recv) */
    "sendto",      /* name-lookup answers, a request to the keeper (send) */
    "recvmsg",     /* a host listener's connection from the keeper (SCM_RIGHTS; keeper.h) */
    "connect",     /* to an allowed TCP destination; a host listener "<uds>_P" without a keeper */
    "accept4",     /* clients of the vsock socket and of published ports */
    "shutdown",    /* a half-close the guest asked for */
    "getsockopt",  /* SO_PEERCRED of a host listener, SO_ERROR of a connect in progress */
    "setsockopt",  /* socket buffers, TCP_NODELAY, SO_LINGER of a reset */
    "geteuid",     /* a host listener must be this uid's or root's */
    "newfstatat",  /* lstat of a host listener's path (whose it is) */
    "lstat",       /* the same, where glibc calls lstat */
    "close",       /* a connection that ends */
    "epoll_wait",  /* the vsock loop */
    "epoll_ctl",   /* connections join and leave its set */
    "poll",        /* the stdio loop; a full stdout waited on */
    "sched_yield", /* the vsock thread's spin before it sleeps */
    NULL,
};

/* The populate thread (populate.c): backs guest RAM in the background at idle priority, which it
 * set before it installs this list. It waits for the heartbeat, then populates chunk by chunk:
 * madvise(MADV_POPULATE_WRITE), or touching the pages (no system call) before Linux 5.14, both
 * in every class's list; it reads flags the other threads set (atomics, no call). */
static const char *const g_populate[] = {
    "clock_nanosleep", /* its wait for the heartbeat (glibc's nanosleep calls this) */
    NULL,
};

/* The resolver thread (devices/out_refresh.c): the host's getaddrinfo of the allowlist's names
 * every period, with `files` and `dns` NSS (the modules loaded at launch, before the filter). */
static const char *const g_resolver[] = {
    "read",        /* the files it opens (read-only: add_checked); a DNS answer over TCP */
    "uname",       /* gethostname: resolv.conf read again with no search line, NSS modules */
    "close",       /* the files, the resolver's sockets */
    "newfstatat",  /* whether resolv.conf and nsswitch.conf changed; fstat of an open file */
    "lseek",       /* /etc/hosts read from its start */
    "connect",     /* the name server (UDP, TCP), and the address sort's probe of each answer */
    "setsockopt",  /* IP_RECVERR on the resolver's UDP socket */
    "getsockname", /* the address sort: which source address reaches each answer */
    "poll",        /* the resolver waits for its socket */
    "sendmmsg",    /* the A and AAAA queries at once */
    "sendto",      /* one query at a time (single-request options) */
    "recvfrom",    /* the answers */
    "writev",      /* a query over TCP (a truncated answer) */
    NULL,
};

static const char *const *const g_lists[SANDBOX_NCLASSES] = {
    [SANDBOX_VCPU] = g_vcpu,         [SANDBOX_CONTROL] = g_control,   [SANDBOX_DEVICE] = g_device,
    [SANDBOX_POPULATE] = g_populate, [SANDBOX_RESOLVER] = g_resolver,
};

static const char *const g_names[SANDBOX_NCLASSES] = {"vCPU", "control", "device", "populate",
                                                      "resolver"};
static const char *const g_faults[SANDBOX_NCLASSES] = {
    "sandbox-vcpu", "sandbox-control", "sandbox-device", "sandbox-populate", "sandbox-resolver"};

static struct sock_fprog g_prog[SANDBOX_NCLASSES];
static atomic_bool g_ready;       /* the common filter is loaded: classes may stack theirs */
static int g_probe = -1;          /* ALCOVE_FAULT=sandbox-<class>[-open]: that class's probe */
static bool g_probe_open;         /* the -open one: a call only the common filter allows */
static __thread bool t_installed; /* this thread has its class's filter */

static int add_names(scmp_filter_ctx ctx, const char *const *names)
{
    int r = 0;
    for (size_t i = 0; !r && names[i]; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        r = nr == __NR_SCMP_ERROR ? -EINVAL : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    return r;
}

/* The KVM ioctls of a running vCPU: KVM_RUN; the registers read for a crash report
 * (report_stop) and read and changed by the preemption timer's detour (sched_preempt). */
static const unsigned long g_vcpu_ioctls[] = {KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS};

/* The calls with arguments checked, by class (the same checks as the common filter's, through
 * the same tables: sandbox_rules.h). */
static int add_checked(scmp_filter_ctx ctx, enum sandbox_class c)
{
    scmp_datum_t self = (scmp_datum_t)getpid();
    const struct sandbox_rule every[] = {
        /* signals to this process's own threads only (vm_end wakes the main thread and kicks
         * the vCPUs; a vCPU kicks another; the timer preempts one) */
        {SCMP_SYS(tgkill), SCMP_ACT_ALLOW, 1, {SCMP_A0(SCMP_CMP_EQ, self)}},
        /* clone3's flags are in memory where a filter cannot look: ENOSYS, as the common
         * filter answers, makes glibc use clone */
        {SCMP_SYS(clone3), SCMP_ACT_ERRNO(ENOSYS), 0, {{0}}},
    };
    /* the resolver's default answer is ENOSYS already (libseccomp refuses a rule that repeats
     * the default) */
    int r =
        sandbox_rules_add(ctx, every, c == SANDBOX_RESOLVER ? 1 : sizeof(every) / sizeof(every[0]));
    if (c == SANDBOX_VCPU && !r)
        r = sandbox_rules_ioctls(ctx, g_vcpu_ioctls,
                                 sizeof(g_vcpu_ioctls) / sizeof(g_vcpu_ioctls[0]));
    /* no thread starts a thread once the guest runs. clone is refused inside pthread_create,
     * which blocks every signal around it: a trap there could not print its message (the kernel
     * would end the process silently), so it fails with EPERM and the caller reports that it
     * could not start a thread */
    const struct sandbox_rule no_thread[] = {
        {SCMP_SYS(clone), SCMP_ACT_ERRNO(EPERM), 0, {{0}}},
    };
    if (!r)
        r = sandbox_rules_add(ctx, no_thread, 1);
    if (c == SANDBOX_RESOLVER) {
        /* openat read-only: /etc/hosts, and resolv.conf or nsswitch.conf when they changed
         * (Landlock lets every thread write beneath the runtime directory: this one may not) */
        const struct sandbox_rule read_only[] = {
            {SCMP_SYS(openat),
             SCMP_ACT_ALLOW,
             1,
             {SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY)}},
        };
        if (!r)
            r = sandbox_rules_add(ctx, read_only, 1);
        /* FIONREAD: the size of a UDP answer; sockets of IPv4 and IPv6 (the name servers, the
         * address sort), others EAFNOSUPPORT as the common filter (netlink: glibc then assumes
         * both families are configured) */
        r = r ? r
              : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, FIONREAD));
        for (int f = 0; !r && f < AF_MAX; f++)
            r = seccomp_rule_add(
                ctx, f == AF_INET || f == AF_INET6 ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EAFNOSUPPORT),
                SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)f));
        return r;
    }
    /* device threads: sockets of the families the vsock device uses (Unix: host listeners;
     * IPv4, IPv6: allowed TCP destinations), others answered EAFNOSUPPORT as the common filter
     * answers them; a name-lookup stream's pair of Unix sockets */
    if (!r && c == SANDBOX_DEVICE)
        r = sandbox_rules_sockets(ctx);
    return r;
}

/* Compiles class c's filter into g_prog[c] (through a memfd: libseccomp exports to a
 * descriptor). 0 or -errno. */
static int compile(enum sandbox_class c)
{
    /* what the class's list does not name traps, as the common filter's default does; but the
     * resolver's code is the host's NSS modules, chosen by its nsswitch.conf: a call its list
     * lacks fails (ENOSYS), so the lookup fails and the names keep their addresses, rather than
     * a host's configuration ending the enclave (what the common filter refuses still traps:
     * the stricter action of the two filters wins) */
    scmp_filter_ctx ctx =
        seccomp_init(c == SANDBOX_RESOLVER ? SCMP_ACT_ERRNO(ENOSYS) : SCMP_ACT_TRAP);
    if (!ctx)
        return -ENOMEM;
    /* no_new_privs is set already (sandbox_drop_privileges): libseccomp must not set it again,
     * which the common filter would refuse */
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (!r)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (!r)
        r = add_names(ctx, g_every);
    if (!r)
        r = add_names(ctx, g_lists[c]);
    if (!r)
        r = add_checked(ctx, c);
    int fd = r ? -1 : (int)syscall(SYS_memfd_create, "alcove-seccomp", MFD_CLOEXEC);
    if (!r && fd < 0)
        r = -errno;
    if (!r)
        r = seccomp_export_bpf(ctx, fd);
    seccomp_release(ctx);
    off_t len = r ? 0 : lseek(fd, 0, SEEK_END);
    if (!r && (len <= 0 || len % (off_t)sizeof(struct sock_filter) ||
               len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS))
        r = -EINVAL;
    struct sock_filter *insns = r ? NULL : malloc((size_t)len);
    if (!r && (!insns || pread(fd, insns, (size_t)len, 0) != len))
        r = insns ? -EIO : -ENOMEM;
    if (fd >= 0)
        close(fd);
    if (r) {
        free(insns);
        return r;
    }
    g_prog[c].len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
    g_prog[c].filter = insns;
    return 0;
}

int sandbox_classes_prepare(void)
{
    const char *fault = getenv("ALCOVE_FAULT");
    for (int c = 0; c < SANDBOX_NCLASSES; c++) {
        if (g_prog[c].filter)
            continue;
        int r = compile((enum sandbox_class)c);
        if (r) {
            alc_err_report(E_MONITOR_FAILURE, "cannot make the %s threads' system-call filter: %s",
                           g_names[c], strerror(-r));
            return -1;
        }
        size_t n = strlen(g_faults[c]);
        if (fault && strncmp(fault, g_faults[c], n) == 0 &&
            (!fault[n] || strcmp(fault + n, "-open") == 0)) {
            g_probe = c;
            g_probe_open = fault[n] != 0;
        }
    }
    return 0;
}

void sandbox_classes_ready(void)
{
    atomic_store(&g_ready, true);
}

/* A probe for the tests: a call this class's list does not allow (the class's filter must end
 * the process with its message). sandbox-<class>: one the old lists of refusals refused too;
 * sandbox-<class>-open: openat, which the common filter allows (the main thread's records, the
 * CA's files at set-up) and no class lists, so only an allowlist refuses it. */
static void probe(enum sandbox_class c)
{
    if (g_probe_open)
        syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
    else if (c == SANDBOX_VCPU || c == SANDBOX_POPULATE)
        syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    else
        syscall(SYS_ioctl, -1, (unsigned long)KVM_RUN, 0);
}

void sandbox_thread_class(enum sandbox_class c)
{
    if (t_installed || !atomic_load_explicit(&g_ready, memory_order_acquire))
        return;
    t_installed = true;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &g_prog[c]) != 0) {
        /* a thread left with more than its class may do is not run on */
        alc_err_report(E_MONITOR_FAILURE, "cannot load the %s thread's system-call filter: %s",
                       g_names[c], strerror(errno));
        syscall(SYS_exit_group, 125);
    }
    if (g_probe == (int)c)
        probe(c);
}
