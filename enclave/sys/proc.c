/* proc.c: the process: its identity, limits, exit and death. Its threads are sys/thread.c's. */
#include "coredump.h"
#include "exe.h"
#include "file.h"
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "process.h"
#include "scheduler.h"
#include "signal.h"
#include "syscall.h"
#include "vsock.h"

void proc_init(void)
{
    struct linux_rlimit *rl = current_process()->rlimits;
    for (int i = 0; i < RLIM_NLIMITS; i++)
        rl[i] = (struct linux_rlimit){RLIM_INFINITY, RLIM_INFINITY};
    uint64_t stack = mm_stack_top() - mm_stack_bottom();
    rl[RLIMIT_STACK] = (struct linux_rlimit){stack, stack};
    rl[RLIMIT_NOFILE] = (struct linux_rlimit){FD_MAX, FD_MAX}; /* the descriptor table */
    rl[RLIMIT_CORE] = (struct linux_rlimit){0, RLIM_INFINITY};
    rl[RLIMIT_NPROC] = (struct linux_rlimit){1, 1};
    rl[RLIMIT_MEMLOCK] = (struct linux_rlimit){8u << 20, 8u << 20};
}

void enclave_exit(int status)
{
    klog(ALC_LOG_DEBUG, "exit(%d)", status);
    if (g_boot->log_level >= ALC_LOG_DEBUG) {
        sched_log_stats();
        mm_log_stats();
    }
    vsock_exit_flush(); /* the packets the program sent reach the device before the end */
    hc_exit(status);
}

void enclave_fatal(int signo, const struct regs *r, uint32_t vector, uint64_t error, uint64_t addr,
                   const char *what)
{
    struct alc_fatal f = {
        .kind = ALC_FATAL_SIGNAL,
        .signo = (uint32_t)signo,
        .vector = vector,
        .error_code = error,
        .rip = r ? r->rip : 0,
        .rsp = r ? r->rsp : 0,
        .addr = addr,
    };
    strlcpy(f.message, what, sizeof(f.message));
    hc_fatal(&f);
}

void process_exit(int status)
{
    struct process *p = current_process();
    if (p != process_first())
        process_end(p, (status & 0xff) << 8); /* its parent learns it from wait */
    enclave_exit(status);
}

void process_kill_info(const struct linux_siginfo *info, const struct regs *r, uint32_t vector,
                       uint64_t error, uint64_t addr, const char *what)
{
    struct process *p = current_process();
    int signo = info->si_signo;
    if (p != process_first()) {
        /* another process of the enclave: it ends, its parent learns how from wait */
        klog(ALC_LOG_INFO, "process %d (%s) killed by signal %d: %s at rip %#lx, address %#lx",
             p->pid, p->exe_path, signo, what, r ? r->rip : 0, addr);
        /* no core when ending already (exit_group, another fatal signal), when another thread
         * runs execve (its kill wins, as Linux's de_thread), or for a fault of the kernel's own
         * in a syscall (r's rip in the upper half): that runs on the vCPU's exception stack,
         * shared by every thread there, where dumping (which waits for the other threads)
         * must not block */
        bool kernel_fault = r && r->rip >= ALC_KERNEL_VBASE;
        if (coredump_signal(signo) && !process_thread_must_leave() && !kernel_fault)
            coredump(info, r);
        process_end(p, signo & 0x7f);
    }
    /* The first process's end is the enclave's, and the enclave's file system (tmpfs, in its
     * memory) ends with it: a core file would be gone before anything could read it, so none
     * is written; the monitor reports the signal, the instruction and the address instead. */
    enclave_fatal(signo, r, vector, error, addr, what);
}

void process_kill(int signo, const struct regs *r, uint32_t vector, uint64_t error, uint64_t addr,
                  const char *what)
{
    struct linux_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = signo;
    info.si_code = SI_KERNEL;
    info.fault.addr = addr;
    process_kill_info(&info, r, vector, error, addr, what);
}

SYSCALL_DEFINE0(getpid)
{
    return current_process()->pid;
}

#define ALC_STR_(x) #x
#define ALC_STR(x)  ALC_STR_(x)

SYSCALL_DEFINE1(uname, uint64_t, ubuf)
{
    struct linux_utsname u;
    memset(&u, 0, sizeof(u));
    strlcpy(u.sysname, "Linux", sizeof(u.sysname));
    strlcpy(u.nodename, "alcove", sizeof(u.nodename));
    /* a Linux-shaped version first (C libraries parse it), then who really answers */
    strlcpy(u.release, "6.1.0-alcove", sizeof(u.release));
    strlcpy(u.version, "#1 alcove enclave kernel (LibOS), ABI " ALC_STR(ALC_ABI_VERSION),
            sizeof(u.version));
    strlcpy(u.machine, "x86_64", sizeof(u.machine));
    strlcpy(u.domainname, "(none)", sizeof(u.domainname));
    return copy_to_user(ubuf, &u, sizeof(u));
}

SYSCALL_DEFINE2(arch_prctl, int, code, uint64_t, addr)
{
    uint64_t v;
    switch (code) {
    case ARCH_SET_FS:
        if (addr >= 0x0000800000000000ull)
            return -EPERM;
        __asm__ volatile("wrfsbase %0" : : "r"(addr));
        return 0;
    case ARCH_SET_GS:
        if (addr >= 0x0000800000000000ull)
            return -EPERM;
        __asm__ volatile("wrgsbase %0" : : "r"(addr));
        return 0;
    case ARCH_GET_FS:
        __asm__ volatile("rdfsbase %0" : "=r"(v));
        return copy_to_user(addr, &v, sizeof(v));
    case ARCH_GET_GS:
        __asm__ volatile("rdgsbase %0" : "=r"(v));
        return copy_to_user(addr, &v, sizeof(v));
    default:
        return -EINVAL;
    }
}

SYSCALL_DEFINE4(rseq, uint64_t, rseq, uint32_t, len, int, flags, uint32_t, sig)
{
    (void)rseq;
    (void)len;
    (void)flags;
    (void)sig;
    return -ENOSYS; /* restartable sequences are optional; C libraries fall back */
}

/* Limits are remembered and read back. A privileged process may raise hard limits (Linux's
 * CAP_SYS_RESOURCE), except RLIMIT_NOFILE beyond the descriptor table (Linux's nr_open); another
 * may only lower them. Another process's limits are the caller's to change or read when its
 * real, effective and saved ids all are the caller's real ones (Linux's prlimit rule). Only the
 * limits the enclave has (the stack, the address space, descriptors) start at real values;
 * raising them does not add memory or descriptors. */
static bool may_prlimit(const struct process *p)
{
    const struct cred *me = &current_process()->cred, *t = &p->cred;
    if (p == current_process() || cred_privileged())
        return true;
    for (int i = ID_REAL; i <= ID_SAVED; i++)
        if (t->uid[i] != me->uid[ID_REAL] || t->gid[i] != me->gid[ID_REAL])
            return false;
    return true;
}

static long do_prlimit(int pid, unsigned resource, uint64_t unew, uint64_t uold)
{
    struct linux_rlimit nl;
    if (unew && copy_from_user(&nl, unew, sizeof(nl)))
        return -EFAULT;
    struct process *p = pid == 0 ? current_process() : process_find(pid);
    if (!p || p->zombie || pid < 0)
        return -ESRCH;
    if (resource >= RLIM_NLIMITS)
        return -EINVAL;
    if (!may_prlimit(p))
        return -EPERM;
    struct linux_rlimit *rl = p->rlimits;
    struct linux_rlimit old = rl[resource];
    if (unew) {
        if (nl.cur > nl.max)
            return -EINVAL;
        if ((resource == RLIMIT_NOFILE && nl.max > FD_MAX) ||
            (nl.max > old.max && !cred_privileged()))
            return -EPERM;
        rl[resource] = nl;
    }
    if (uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE4(prlimit64, int, pid, unsigned, resource, uint64_t, unew, uint64_t, uold)
{
    return do_prlimit(pid, resource, unew, uold);
}

SYSCALL_DEFINE2(getrlimit, unsigned, resource, uint64_t, uold)
{
    return do_prlimit(0, resource, 0, uold);
}

SYSCALL_DEFINE2(setrlimit, unsigned, resource, uint64_t, unew)
{
    return do_prlimit(0, resource, unew, 0);
}

SYSCALL_DEFINE1(sysinfo, uint64_t, ubuf)
{
    struct linux_sysinfo si;
    memset(&si, 0, sizeof(si));
    uint64_t up = time_since_boot_ns();
    si.uptime = (int64_t)((up + 999999999ull) / 1000000000ull); /* rounded up, as Linux */
    si.totalram = mm_total_bytes();
    si.freeram = mm_total_bytes() - mm_used_bytes();
    for (struct process *p = process_list(); p; p = p->all_next)
        si.procs++; /* Linux counts threads here; processes are what an enclave has to show */
    si.mem_unit = 1;
    return copy_to_user(ubuf, &si, sizeof(si));
}

/* ---- scheduling priority: remembered, nothing else runs to compete with ---- */
#define PRIO_PROCESS 0
#define PRIO_PGRP    1
#define PRIO_USER    2

static long prio_target(int which, int who)
{
    switch (which) {
    case PRIO_PROCESS:
    case PRIO_PGRP:
        return who == 0 || process_find(who) ? 0 : -ESRCH;
    case PRIO_USER: /* some process of that user (0: the caller's own user) */
        for (const struct process *p = process_list(); p; p = p->all_next)
            if (p->cred.uid[ID_REAL] ==
                (uint32_t)(who ? who : (int)current_process()->cred.uid[ID_REAL]))
                return 0;
        return -ESRCH;
    default:
        return -EINVAL;
    }
}

SYSCALL_DEFINE2(getpriority, int, which, int, who)
{
    long err = prio_target(which, who);
    return err ? err : 20 - current_process()->nice; /* the raw syscall returns 20 - nice, 1..40 */
}

SYSCALL_DEFINE3(setpriority, int, which, int, who, int, nice)
{
    long err = prio_target(which, who);
    if (err)
        return err;
    current_process()->nice = nice < -20 ? -20 : nice > 19 ? 19 : nice; /* root may lower it too */
    return 0;
}

#define PR_GET_DUMPABLE 3
#define PR_SET_DUMPABLE 4
#define PR_SET_NAME     15
#define PR_GET_NAME     16

SYSCALL_DEFINE5(prctl, int, option, uint64_t, arg2, uint64_t, arg3, uint64_t, arg4, uint64_t, arg5)
{
    (void)arg3;
    (void)arg4;
    (void)arg5;
    switch (option) {
    case PR_GET_DUMPABLE:
        return !current_process()->undumpable;
    case PR_SET_DUMPABLE: /* 0 or 1 (Linux's SUID_DUMP_USER); 2 is for the kernel's setting */
        if (arg2 > 1)
            return -EINVAL;
        current_process()->undumpable = arg2 == 0;
        return 0;
    case PR_SET_NAME: {
        char name[16];
        long n = strncpy_from_user(name, arg2, sizeof(name));
        if (n == -EFAULT)
            return -EFAULT;
        memcpy(current()->comm, name, sizeof(name));
        current()->comm[15] = 0;
        return 0;
    }
    case PR_GET_NAME:
        return copy_to_user(arg2, current()->comm, sizeof(current()->comm));
    default:
        return -EINVAL; /* other process controls do not apply in an enclave */
    }
}
