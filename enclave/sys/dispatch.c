/* dispatch.c: the syscall table built from syscalls.def, and the dispatcher every syscall
 * goes through. */
#include "file.h"
#include "kernel.h"
#include "klib.h"
#include "scheduler.h"
#include "signal.h"
#include "wait.h"
#include "syscall.h"

#define NR_SYSCALLS 512

struct syscall_desc {
    syscall_fn fn;
    const char *name;
    int nargs;
};

static const struct syscall_desc g_table[NR_SYSCALLS] = {
#define SYSCALL(nr, name, n) [nr] = {sys_##name, #name, n},
#include "syscalls.def"
#undef SYSCALL
};

static uint64_t g_warned[(NR_SYSCALLS + 63) / 64 + 1];

static long unknown_syscall(uint64_t nr)
{
    uint64_t slot = nr < NR_SYSCALLS ? nr : NR_SYSCALLS;
    uint64_t bit = 1ull << (slot % 64);
    if (!(g_warned[slot / 64] & bit)) {
        g_warned[slot / 64] |= bit;
        klog(ALC_LOG_WARN, "syscall %lu is not implemented; returning ENOSYS", nr);
    }
    return -ENOSYS;
}

static void trace(const struct syscall_desc *d, uint64_t nr, const struct regs *r, long ret)
{
    uint64_t a[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
    char args[160];
    size_t len = 0;
    args[0] = 0;
    for (int i = 0; d && i < d->nargs; i++)
        len += (size_t)ksnprintf(args + len, sizeof(args) - len, "%s%#lx", i ? ", " : "", a[i]);
    klog(ALC_LOG_TRACE, "%s(%s) = %ld", d ? d->name : "?", args, ret);
    (void)nr;
}

void patch_syscall_site(const struct regs *r);
void syscall_dispatch_fast(struct regs *r);
uint64_t g_fast_syscalls; /* syscalls that came through a patched site (kernel/patch.c logs it) */
void syscall_dispatch(struct regs *r);
static void syscall_dispatch_locked(struct regs *r);

/* Entered through the CPL0 trampoline (a trap): a site to patch, perhaps. */
void syscall_dispatch(struct regs *r)
{
    kernel_enter();
    patch_syscall_site(r);
    syscall_dispatch_locked(r);
    kernel_leave();
}

/* Entered from a patched site's stub (no trap), or from syscall_dispatch with the lock. On the way
 * out, pending signals are delivered (their frames built on the user stack, r pointed at the
 * handler) and restart codes resolved; entry.S then returns through alc_return_to_user, which
 * restores every register from r, so either entry path returns to a handler, to a restarted
 * syscall or to a context rt_sigreturn restored (rcx and r11 included). */
void syscall_dispatch_fast(struct regs *r)
{
    kernel_enter();
    g_fast_syscalls++; /* under the kernel lock */
    syscall_dispatch_locked(r);
    kernel_leave();
}

/* Syscalls after which no blocked thread's condition can have changed: they do not wake the
 * threads waiting in wait_until (futexes wake their own waiters). */
static bool changes_nothing(uint64_t nr)
{
    switch (nr) {
    case 24:  /* sched_yield */
    case 35:  /* nanosleep */
    case 39:  /* getpid */
    case 186: /* gettid */
    case 202: /* futex */
    case 228: /* clock_gettime */
    case 230: /* clock_nanosleep */
        return true;
    default:
        return false;
    }
}

static void syscall_dispatch_locked(struct regs *r)
{
    uint64_t nr = r->orig_rax;
    const struct syscall_desc *d = nr < NR_SYSCALLS && g_table[nr].fn ? &g_table[nr] : NULL;
    current()->regs = r;
    long ret;
    if (d)
        ret =
            d->fn((long)r->rdi, (long)r->rsi, (long)r->rdx, (long)r->r10, (long)r->r8, (long)r->r9);
    else
        ret = unknown_syscall(nr);
    if (g_boot->log_level >= ALC_LOG_TRACE)
        trace(d, nr, r, ret);
    r->rax = (uint64_t)ret;
    fd_release_held(); /* first: a close's last reference ends the file before waiters look */
    if (!changes_nothing(nr)) {
        if (signal_process_pending())
            wait_wake_everyone(); /* the thread it was meant for may have blocked it */
        else
            wait_wake_all();
    }
    sched_return_check();
    if (signal_work(ret))
        signal_deliver(r);
    patch_fix_resume(r);
}
