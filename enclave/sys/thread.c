/* thread.c: the application's threads: clone and clone3 (a new process goes to sys/fork.c),
 * the ends of a thread and of the process, thread ids, the tid address that
 * pthread_join waits on, robust futex lists, affinity and yielding. The scheduler is
 * kernel/sched.c; futexes are sys/futex.c. */
#include "futex.h"
#include "klib.h"
#include "mm.h"
#include "scheduler.h"
#include "signal.h"
#include "syscall.h"
#include "wait.h"

/* what a thread may ask for; the namespaces and the rest are refused */
#define THREAD_FLAGS                                                                               \
    (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |            \
     CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED |                  \
     CLONE_CHILD_SETTID | CLONE_IO | CLONE_PTRACE | CLONE_UNTRACED)

static long do_clone(const struct clone_req *c, int exit_signal)
{
    uint64_t f = c->flags;
    /* Linux's own rules first: a thread shares the handlers, which share the memory */
    if (((f & CLONE_THREAD) && !(f & CLONE_SIGHAND)) || ((f & CLONE_SIGHAND) && !(f & CLONE_VM)))
        return -EINVAL;
    if (!(f & CLONE_THREAD)) /* a new process: fork, vfork, posix_spawn */
        return process_clone(c, exit_signal);
    if (!(f & CLONE_VM))
        return -EINVAL;
    if (f & ~(THREAD_FLAGS | CSIGNAL))
        return -EINVAL; /* an exit signal in clone's flags is ignored for a thread, as on Linux */
    if ((f & CLONE_SETTLS) && c->tls >= 0x0000800000000000ull)
        return -EPERM;
    if (mm_memory_low())
        return -EAGAIN; /* the threads there keep room for their pages */
    struct thread *parent = current();
    struct regs r = *parent->regs;
    r.rax = 0; /* the child's return value */
    if (c->stack)
        r.rsp = c->stack;
    struct thread *t = thread_create(parent->proc, &r);
    if (!t)
        return -EAGAIN; /* the enclave's memory (--memory) is the limit on threads */
    /* the rest of the parent's user state: TLS base unless replaced, extended state */
    __asm__ volatile("rdfsbase %0" : "=r"(t->fs_base));
    __asm__ volatile("rdgsbase %0" : "=r"(t->gs_base));
    if (f & CLONE_SETTLS)
        t->fs_base = c->tls;
    fpu_save(t->fpu);
    t->affinity = parent->affinity;
    memcpy(t->comm, parent->comm, sizeof(t->comm));
    if (f & CLONE_CHILD_CLEARTID)
        t->clear_child_tid = c->child_tid;
    int tid = t->tid;
    if (((f & CLONE_PARENT_SETTID) && copy_to_user(c->parent_tid, &tid, sizeof(tid))) ||
        ((f & CLONE_CHILD_SETTID) && copy_to_user(c->child_tid, &tid, sizeof(tid)))) {
        /* Linux checks these before the child exists; undo it rather than run it */
        thread_discard(t);
        return -EFAULT;
    }
    thread_start(t);
    return tid;
}

SYSCALL_DEFINE5(clone, uint64_t, flags, uint64_t, stack, uint64_t, parent_tid, uint64_t, child_tid,
                uint64_t, tls)
{
    /* clone's flags are the low 32 bits (Linux ignores the rest: CLONE_CLEAR_SIGHAND and the
     * later flags are clone3's); its CLONE_PIDFD puts the descriptor where the parent's tid
     * would go */
    uint64_t f = flags & 0xffffffffull & ~(uint64_t)CSIGNAL;
    struct clone_req c = {f, stack, parent_tid, child_tid, tls, parent_tid};
    return do_clone(&c, (int)(flags & CSIGNAL));
}

struct clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0 64

SYSCALL_DEFINE2(clone3, uint64_t, uargs, uint64_t, size)
{
    struct clone_args a;
    memset(&a, 0, sizeof(a));
    if (size > 4096)
        return -E2BIG; /* Linux: more than a page */
    if (size < CLONE_ARGS_SIZE_VER0)
        return -EINVAL;
    if (copy_from_user(&a, uargs, MIN(size, sizeof(a))))
        return -EFAULT;
    /* a larger structure from a newer libc: what we do not know must be zero */
    for (uint64_t off = sizeof(a); off < size; off += 8) {
        uint64_t v = 0;
        if (copy_from_user(&v, uargs + off, MIN(8, size - off)))
            return -EFAULT;
        if (v)
            return -E2BIG;
    }
    /* CLONE_DETACHED and the exit signal's bits of clone's flags are not clone3's (Linux keeps
     * them for later) */
    if (a.set_tid || a.set_tid_size || a.cgroup || (a.exit_signal & ~CSIGNAL) ||
        (a.flags & (CSIGNAL | CLONE_DETACHED)))
        return -EINVAL;
    if ((a.stack == 0) != (a.stack_size == 0))
        return -EINVAL;
    if ((a.flags & CLONE_THREAD && a.exit_signal) || a.exit_signal > NSIG)
        return -EINVAL;
    struct clone_req c = {
        a.flags, a.stack ? a.stack + a.stack_size : 0, a.parent_tid, a.child_tid, a.tls, a.pidfd};
    return do_clone(&c, (int)a.exit_signal);
}

/* ---- the end of a thread ---- */
#define FUTEX_OWNER_DIED  0x40000000u
#define FUTEX_WAITERS     0x80000000u
#define FUTEX_TID_MASK    0x3fffffffu
#define ROBUST_LIST_LIMIT 2048

/* One entry of a dying thread's robust list: a lock it still holds gets FUTEX_OWNER_DIED and a
 * waiter is woken, so the next owner's pthread_mutex_lock returns EOWNERDEAD (glibc). */
static bool futex_owner_died(uint64_t uaddr, int tid)
{
    uint32_t v;
    if ((uaddr & 3) || copy_from_user(&v, uaddr, 4))
        return false;
    if ((v & FUTEX_TID_MASK) != (uint32_t)tid)
        return true;
    uint32_t nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
    if (copy_to_user(uaddr, &nv, 4))
        return false;
    if (v & FUTEX_WAITERS)
        futex_wake_addr(uaddr, 1, FUTEX_BITSET_ANY);
    return true;
}

/* Walks the robust list (struct robust_list_head: next, futex_offset, list_op_pending). */
static void exit_robust_list(struct thread *t)
{
    if (!t->robust_list)
        return;
    uint64_t head[3];
    if (copy_from_user(head, t->robust_list, sizeof(head)))
        return;
    int64_t off = (int64_t)head[1];
    uint64_t entry = head[0], pending = head[2];
    for (int n = 0; entry != t->robust_list && n < ROBUST_LIST_LIMIT; n++) {
        uint64_t next;
        if (copy_from_user(&next, entry & ~1ull, 8))
            return;
        if (entry != pending && !futex_owner_died((entry & ~1ull) + (uint64_t)off, t->tid))
            return;
        entry = next;
    }
    if (pending)
        futex_owner_died((pending & ~1ull) + (uint64_t)off, t->tid);
}

SYSCALL_DEFINE1(exit, int, status)
{
    struct thread *t = current();
    if (thread_count() == 1)
        process_exit(status); /* the last thread: the process ends with its status */
    exit_robust_list(t);
    if (t->clear_child_tid) {
        /* what pthread_join waits for: the tid word cleared, then a wake-up */
        uint32_t zero = 0;
        if (!copy_to_user(t->clear_child_tid, &zero, 4))
            futex_wake_addr(t->clear_child_tid, 1, FUTEX_BITSET_ANY);
    }
    t->exit_code = status & 0xff;
    wait_wake_everyone(); /* a signal it was picked for goes to another (kernel/wait.c) */
    thread_exit_current();
}

SYSCALL_DEFINE1(exit_group, int, status)
{
    process_exit(status); /* every thread: the monitor stops every vCPU */
}

/* ---- identity ---- */
SYSCALL_DEFINE0(gettid)
{
    return current()->tid;
}

SYSCALL_DEFINE1(set_tid_address, uint64_t, tidptr)
{
    current()->clear_child_tid = tidptr;
    return current()->tid;
}

SYSCALL_DEFINE2(set_robust_list, uint64_t, head, uint64_t, len)
{
    if (len != 24) /* sizeof(struct robust_list_head) */
        return -EINVAL;
    current()->robust_list = head;
    current()->robust_len = len;
    return 0;
}

/* pid 0: the caller; else a thread's id */
static struct thread *thread_of(int pid)
{
    return pid == 0 ? current() : thread_find(pid);
}

SYSCALL_DEFINE3(get_robust_list, int, pid, uint64_t, head_ptr, uint64_t, len_ptr)
{
    struct thread *t = thread_of(pid);
    if (!t)
        return -ESRCH;
    if (copy_to_user(head_ptr, &t->robust_list, 8) || copy_to_user(len_ptr, &t->robust_len, 8))
        return -EFAULT;
    return 0;
}

/* ---- scheduling ---- */
SYSCALL_DEFINE0(sched_yield)
{
    sched_yield_current();
    return 0;
}

/* Every thread runs under SCHED_OTHER at priority 0: the enclave's scheduler has no other
 * policy. The queries answer that; setting SCHED_OTHER at priority 0 is taken (it changes
 * nothing), any other policy is EPERM (as for a process that may not raise its policy). */
#define SCHED_OTHER 0
#define SCHED_FIFO  1
#define SCHED_RR    2
#define SCHED_BATCH 3
#define SCHED_IDLE  5

static long policy_target(int pid)
{
    if (pid < 0)
        return -EINVAL;
    return thread_of(pid) ? 0 : -ESRCH;
}

SYSCALL_DEFINE1(sched_getscheduler, int, pid)
{
    long err = policy_target(pid);
    return err ? err : SCHED_OTHER;
}

SYSCALL_DEFINE2(sched_getparam, int, pid, uint64_t, uparam)
{
    if (!uparam)
        return -EINVAL;
    long err = policy_target(pid);
    if (err)
        return err;
    int prio = 0;
    return copy_to_user(uparam, &prio, sizeof(prio));
}

/* sched_setscheduler and sched_setparam: policy -1 keeps the thread's (SCHED_OTHER) */
static long set_policy(int pid, int policy, uint64_t uparam)
{
    if (pid < 0 || !uparam || policy < -1)
        return -EINVAL;
    int prio;
    if (copy_from_user(&prio, uparam, sizeof(prio)))
        return -EFAULT;
    if (!thread_of(pid))
        return -ESRCH;
    switch (policy) {
    case -1:
    case SCHED_OTHER:
        return prio == 0 ? 0 : -EINVAL;
    case SCHED_BATCH:
    case SCHED_IDLE:
        return prio == 0 ? -EPERM : -EINVAL;
    case SCHED_FIFO:
    case SCHED_RR:
        return prio >= 1 && prio <= 99 ? -EPERM : -EINVAL;
    default:
        return -EINVAL;
    }
}

SYSCALL_DEFINE3(sched_setscheduler, int, pid, int, policy, uint64_t, uparam)
{
    return set_policy(pid, policy & ~0x40000000, uparam); /* SCHED_RESET_ON_FORK: no matter */
}

SYSCALL_DEFINE2(sched_setparam, int, pid, uint64_t, uparam)
{
    return set_policy(pid, -1, uparam);
}

/* Linux's ranges: 1-99 for the real-time policies, 0 for the others */
static long priority_bound(int policy, int rt)
{
    switch (policy) {
    case SCHED_FIFO:
    case SCHED_RR:
        return rt;
    case SCHED_OTHER:
    case SCHED_BATCH:
    case SCHED_IDLE:
        return 0;
    default:
        return -EINVAL;
    }
}

SYSCALL_DEFINE1(sched_get_priority_max, int, policy)
{
    return priority_bound(policy, 99);
}

SYSCALL_DEFINE1(sched_get_priority_min, int, policy)
{
    return priority_bound(policy, 1);
}

/* The slice after which the monitor may preempt a thread when another is ready */
SYSCALL_DEFINE2(sched_rr_get_interval, int, pid, uint64_t, uts)
{
    long err = policy_target(pid);
    if (err)
        return err;
    struct linux_timespec ts = {0, (long)SCHED_SLICE_NS};
    return copy_to_user(uts, &ts, sizeof(ts));
}

SYSCALL_DEFINE3(sched_getaffinity, int, pid, uint64_t, size, uint64_t, umask)
{
    struct thread *t = thread_of(pid);
    if (!t)
        return -ESRCH;
    /* the kernel's cpumask is 8 bytes here; Linux wants room for it and a multiple of 8 */
    if (size < 8 || (size & 7))
        return -EINVAL;
    if (copy_to_user(umask, &t->affinity, 8))
        return -EFAULT;
    return 8;
}

SYSCALL_DEFINE3(sched_setaffinity, int, pid, uint64_t, size, uint64_t, umask)
{
    struct thread *t = thread_of(pid);
    if (!t)
        return -ESRCH;
    uint64_t mask = 0;
    if (copy_from_user(&mask, umask, MIN(size, 8)))
        return -EFAULT;
    if (size < 8)
        mask &= (1ull << (size * 8)) - 1;
    mask &= sched_online_mask();
    if (!mask)
        return -EINVAL; /* no vCPU of this enclave in the set */
    t->affinity = mask;
    /* the caller moves at once if it may no longer run here */
    if (t == current() && !(mask & (1ull << this_cpu->area.cpu_index)))
        sched_move_current();
    return 0;
}

SYSCALL_DEFINE3(getcpu, uint64_t, ucpu, uint64_t, unode, uint64_t, cache)
{
    (void)cache;
    uint32_t cpu = (uint32_t)this_cpu->area.cpu_index, node = 0;
    if ((ucpu && copy_to_user(ucpu, &cpu, 4)) || (unode && copy_to_user(unode, &node, 4)))
        return -EFAULT;
    return 0;
}
