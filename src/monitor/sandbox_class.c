/* sandbox_class.c: the filters of the monitor's thread classes (see sandbox.h), stacked over
 * the common one.
 *
 * The common filter (sandbox.c) is every thread's. Each thread class then gets a filter of its
 * own, stacked over it by the thread itself: the kernel runs every filter a thread has and the
 * strictest answer wins, so a class's filter only has to refuse what the common one allows and
 * that class never calls. The filters are compiled here, by the main thread, before the common
 * one is loaded (libseccomp is never called under a filter), and a thread installs its class's
 * with one seccomp(2) call, which the common filter allows for that purpose only (no TSYNC, no
 * listener): a further filter can only take rights away.
 *
 * Each class, what it may NOT call of what the common filter allows, and why it never needs it
 * (docs/security.md has the same table):
 *
 * vCPU threads (and the preemption timer thread, which a vCPU thread starts and which inherits
 * its filters): they run KVM_RUN and handle the guest's exits: MMIO of the virtio devices (a
 * vsock notification is a write to an eventfd; an NSM request reads the CA's files), the
 * hypercalls (futex waits and wakes, signals to other vCPU threads), console output (write).
 *   socket socketpair connect accept accept4 shutdown   sockets are the vsock and control
 *                                                       threads' (a guest's connection is made
 *                                                       by the vsock thread)
 *   unlink unlinkat rename renameat renameat2          the runtime directory's files are
 *   ftruncate fchmod flock                              changed by the main thread only
 *
 * The control thread (a detached enclave's control socket): accepts clients, reads a request,
 * writes a description or the console, and ends the enclave (a signal to the main thread).
 *   ioctl KVM_RUN KVM_GET_REGS KVM_SET_REGS KVM_GET_SREGS   no vCPU is run or changed from it
 *   socket socketpair connect                           it only accepts on a socket made before
 *   clone (EPERM, see add_refusals)                     it starts no thread
 *   unlink unlinkat rename renameat renameat2          the main thread's, as above
 *   ftruncate fchmod flock
 *
 * Device threads (vsock, stdio): guest virtqueues against host sockets and stdio, connections
 * to the host's listeners and allowed TCP destinations, name-lookup answers.
 *   ioctl KVM_RUN KVM_GET_REGS KVM_SET_REGS KVM_GET_SREGS   no vCPU is run or changed from them
 *   clone (EPERM)                                       they start no thread
 *   unlink unlinkat rename renameat renameat2          the main thread's, as above
 *   ftruncate fchmod flock
 *
 * The main thread (set-up, waiting for the end, tear-down) and the populate thread keep the
 * common filter only: the main thread removes the runtime directory's files at the end. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kvm.h>
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

/* The system calls a class refuses (names as in <sys/syscall.h>). */
static const char *const g_refused[SANDBOX_NCLASSES] = {
    [SANDBOX_VCPU] = "socket socketpair connect accept accept4 shutdown unlink unlinkat rename "
                     "renameat renameat2 ftruncate fchmod flock",
    [SANDBOX_CONTROL] = "socket socketpair connect clone unlink unlinkat rename renameat "
                        "renameat2 ftruncate fchmod flock",
    [SANDBOX_DEVICE] = "clone unlink unlinkat rename renameat renameat2 ftruncate fchmod flock",
};

/* The KVM ioctls of a running vCPU, refused to the classes that run none. */
static const unsigned long g_vcpu_ioctls[] = {KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS};

static const char *const g_names[SANDBOX_NCLASSES] = {"vCPU", "control", "device"};
static const char *const g_faults[SANDBOX_NCLASSES] = {"sandbox-vcpu", "sandbox-control",
                                                       "sandbox-device"};

static struct sock_fprog g_prog[SANDBOX_NCLASSES];
static atomic_bool g_ready;       /* the common filter is loaded: classes may stack theirs */
static int g_probe = -1;          /* ALCOVE_FAULT=sandbox-<class>: that class's probe */
static __thread bool t_installed; /* this thread has its class's filter */

static int add_refusals(scmp_filter_ctx ctx, enum sandbox_class c)
{
    int r = 0;
    for (const char *p = g_refused[c]; !r && *p;) {
        size_t n = strcspn(p, " ");
        char name[32];
        if (n >= sizeof(name))
            return -EINVAL;
        memcpy(name, p, n);
        name[n] = 0;
        int nr = seccomp_syscall_resolve_name(name);
        /* clone is refused inside pthread_create, which blocks every signal around it: a trap
         * there could not print its message (the kernel would end the process silently), so
         * it fails with EPERM and the caller reports that it could not start a thread */
        uint32_t act = nr == SCMP_SYS(clone) ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_TRAP;
        r = nr == __NR_SCMP_ERROR ? -EINVAL : seccomp_rule_add(ctx, act, nr, 0);
        p += n + (p[n] == ' ');
    }
    if (c != SANDBOX_VCPU)
        for (size_t i = 0; !r && i < sizeof(g_vcpu_ioctls) / sizeof(g_vcpu_ioctls[0]); i++)
            r = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(ioctl), 1,
                                 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, g_vcpu_ioctls[i]));
    return r;
}

/* Compiles class c's filter into g_prog[c] (through a memfd: libseccomp exports to a
 * descriptor). 0 or -errno. */
static int compile(enum sandbox_class c)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return -ENOMEM;
    /* no_new_privs is set already (sandbox_drop_privileges): libseccomp must not set it again,
     * which the common filter would refuse */
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (!r)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (!r)
        r = add_refusals(ctx, c);
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
        if (fault && strcmp(fault, g_faults[c]) == 0)
            g_probe = c;
    }
    return 0;
}

void sandbox_classes_ready(void)
{
    atomic_store(&g_ready, true);
}

/* A probe for the tests: a call the common filter allows and this class refuses (the class's
 * filter must end the process with its message). */
static void probe(enum sandbox_class c)
{
    if (c == SANDBOX_VCPU)
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
