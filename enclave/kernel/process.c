/* process.c: processes: the tree, their ends, zombies and reaping (see process.h). */
#include "process.h"

#include "coredump.h"
#include "file.h"
#include "futex.h"
#include "klib.h"
#include "mm.h"
#include "pidfd.h"
#include "scheduler.h"
#include "signal.h"
#include "tty.h"
#include "wait.h"

static struct process *g_first;
static struct process *g_all; /* every process, live or zombie */

struct process *process_first(void)
{
    return g_first;
}

struct process *current_process(void)
{
    struct thread *t = current();
    return t ? t->proc : g_first; /* before the scheduler exists: boot works for the first */
}

struct process *process_list(void)
{
    return g_all;
}

struct process *process_find(int pid)
{
    for (struct process *p = g_all; p; p = p->all_next)
        if (p->pid == pid)
            return p;
    return NULL;
}

struct process *process_init(void)
{
    struct process *p = kzalloc(sizeof(*p));
    if (!p)
        kpanic("out of kernel memory for the first process");
    p->pid = p->pgid = p->sid = 1;
    p->umask = 022;
    p->refs = 1; /* never reaped: its end is the enclave's */
    g_first = g_all = p;
    return p;
}

struct process *process_fork(struct process *parent)
{
    struct process *p = kzalloc(sizeof(*p));
    if (!p)
        return NULL;
    p->files = fdtable_copy(parent->files);
    if (!p->files || signal_process_fork(parent, p)) {
        if (p->files)
            fdtable_free(p->files, p);
        kfree(p);
        return NULL;
    }
    p->pgid = parent->pgid;
    p->sid = parent->sid;
    p->tty = parent->tty;
    p->cwd = parent->cwd;
    if (p->cwd)
        vfs_get(p->cwd);
    p->umask = parent->umask;
    memcpy(p->rlimits, parent->rlimits, sizeof(p->rlimits));
    p->nice = parent->nice;
    p->cred = parent->cred;
    p->undumpable = parent->undumpable;
    p->start_ns = time_since_boot_ns();
    memcpy(p->exe_path, parent->exe_path, sizeof(p->exe_path));
    p->arg_start = parent->arg_start;
    p->arg_end = parent->arg_end;
    memcpy(p->auxv, parent->auxv, sizeof(p->auxv));
    p->auxv_bytes = parent->auxv_bytes;
    p->exit_signal = SIGCHLD;
    p->refs = 1;
    p->parent = parent;
    p->sibling = parent->children;
    parent->children = p;
    p->all_next = g_all;
    g_all = p;
    return p;
}

static void unlink_process(struct process *p)
{
    for (struct process **pp = &p->parent->children; *pp; pp = &(*pp)->sibling) {
        if (*pp == p) {
            *pp = p->sibling;
            break;
        }
    }
    for (struct process **pp = &g_all; *pp; pp = &(*pp)->all_next) {
        if (*pp == p) {
            *pp = p->all_next;
            break;
        }
    }
}

void process_reparent(struct process *p, struct process *parent)
{
    for (struct process **pp = &p->parent->children; *pp; pp = &(*pp)->sibling) {
        if (*pp == p) {
            *pp = p->sibling;
            break;
        }
    }
    p->parent = parent;
    p->sibling = parent->children;
    parent->children = p;
}

static void put_process(struct process *p)
{
    if (--p->refs > 0)
        return;
    signal_process_free(p);
    kfree(p);
}

void process_get(struct process *p)
{
    p->refs++;
}

void process_put(struct process *p)
{
    put_process(p);
}

void process_discard(struct process *p)
{
    procfs_forget(p);
    unlink_process(p);
    fdtable_free(p->files, p);
    if (p->cwd)
        vfs_put(p->cwd);
    if (p->mm)
        mm_put(p->mm);
    put_process(p);
}

void process_thread_gone(struct process *p)
{
    put_process(p);
}

void process_vfork_done(struct process *p)
{
    if (p->vforker) {
        p->vforker = NULL;
        waitq_wake(&p->vfork_wq);
    }
}

void process_reap(struct process *p)
{
    struct process *parent = p->parent;
    parent->children_cpu_ns += p->dead_cpu_ns + p->children_cpu_ns;
    procfs_forget(p);
    unlink_process(p);
    pidfd_process_ended(p); /* its pidfds hang up now (POLLHUP) */
    put_process(p);
    waitq_wake(&parent->child_wq); /* another waiter for it may have no child left (ECHILD) */
}

/* The first process's end is the enclave's: nothing is left behind. */
static NORETURN void first_ends(int wstatus)
{
    if ((wstatus & 0x7f) == 0)
        enclave_exit((wstatus >> 8) & 0xff);
    enclave_fatal(wstatus & 0x7f, NULL, 32, 0, 0, "killed by another process of the enclave");
}

/* p is marked as ending (the first status given wins) and its threads are woken to leave. */
static void begin_end(struct process *p, int wstatus)
{
    if (!p->exiting) {
        p->exiting = true;
        p->wstatus = wstatus;
        for_each_thread_of(p, t) if (t != current()) sched_signal_wake(t);
        wait_wake_everyone();
    }
}

void process_end(struct process *p, int wstatus)
{
    if (p == g_first)
        first_ends(wstatus);
    begin_end(p, wstatus);
    if (current_process() == p)
        process_thread_exit();
}

static bool alone(void *arg)
{
    return ((struct process *)arg)->nthreads == 1;
}

/* Waits until ready(p): a thread computing on another vCPU enters the kernel when the monitor
 * preempts it, which it does when a sleeper is due (alcove_abi.h, Preemption): wake up every
 * millisecond. */
static void wait_for_threads(struct process *p, bool (*ready)(void *arg))
{
    while (!ready(p))
        wait_until_nosignal(ready, p, time_monotonic_ns() + 1000000);
}

void process_end_others(struct process *p, int wstatus)
{
    begin_end(p, wstatus);
    wait_for_threads(p, alone);
}

int process_end_code(const struct process *p, int *status)
{
    int sig = p->wstatus & 0x7f;
    if (!sig) {
        *status = (p->wstatus >> 8) & 0xff;
        return CLD_EXITED;
    }
    *status = sig;
    return (p->wstatus & WCOREFLAG) ? CLD_DUMPED : CLD_KILLED;
}

/* What the parent's SIGCHLD says about how p ended. */
static void notify_parent(struct process *p)
{
    struct process *parent = p->parent;
    if (p->exit_signal == SIGCHLD && signal_child_ignored(parent)) {
        process_reap(p); /* nobody will wait for it */
        return;
    }
    if (p->exit_signal > 0 && p->exit_signal <= NSIG) { /* clone may name any number */
        struct linux_siginfo si;
        memset(&si, 0, sizeof(si));
        si.si_signo = p->exit_signal;
        si.si_code = process_end_code(p, &si.child.status);
        si.child.pid = p->pid;
        si.child.utime = (int64_t)(p->dead_cpu_ns / 10000000);
        signal_send_proc(parent, p->exit_signal, &si, NULL);
    }
    waitq_wake(&parent->child_wq); /* its parent's wait4 looks again */
}

/* The last thread of p leaves: what p held goes, and it waits for its parent as a zombie. */
static void finish(struct process *p)
{
    fd_release_held();
    fdtable_free(p->files, p);
    p->files = NULL;
    tty_exit(p); /* after its descriptors, as Linux's do_exit */
    if (p->cwd)
        vfs_put(p->cwd);
    p->cwd = NULL;
    process_vfork_done(p);
    sem_exit(p);
    mm_put(p->mm); /* this vCPU keeps its page table root until it loads another */
    p->mm = NULL;
    /* its children go to the first process, as orphans go to init; it hears of those that
     * have ended already */
    while (p->children) {
        struct process *c = p->children;
        process_reparent(c, g_first);
        if (c->zombie)
            notify_parent(c);
    }
    p->zombie = true;
    pidfd_process_ended(p); /* before the parent hears: it may reap p at once */
    notify_parent(p);
}

bool process_thread_must_leave(void)
{
    struct process *p = current_process();
    return p->exiting || (p->exec_thread && p->exec_thread != current());
}

NORETURN void process_thread_leave(void)
{
    if (current_process()->exiting)
        process_thread_exit();
    /* another thread runs execve: this one goes without a trace (no exit code, no robust
     * futexes, no clear_child_tid: the address space they live in is about to go) */
    wait_wake_everyone(); /* the execve looks again */
    thread_exit_current();
}

static bool one_thread_left(void *arg)
{
    struct process *p = arg;
    return p->nthreads == 1 || p->exiting;
}

int process_unshare(struct process *p)
{
    if (p->exec_thread || p->exiting)
        return -EINTR; /* another thread runs execve or the process ends: this one leaves */
    struct thread *me = current();
    p->exec_thread = me;
    for_each_thread_of(p, t) if (t != me) sched_signal_wake(t);
    wait_wake_everyone(); /* one stopped (kernel/jobctl.c) waits uninterruptibly: it leaves too */
    wait_for_threads(p, one_thread_left);
    p->exec_thread = NULL;
    if (p->exiting)
        return -EINTR;
    me->tid = p->pid; /* the leader's id, which has left (Linux's de_thread) */
    return 0;
}

NORETURN void process_thread_exit(void)
{
    struct thread *t = current();
    struct process *p = t->proc;
    if (p->core)
        coredump_thread_leaves(p); /* another thread of it is writing its core */
    t->exit_code = (p->wstatus >> 8) & 0xff;
    if (t->clear_child_tid && p->mm && p->mm->users > 1) {
        /* another process runs in this space (clone CLONE_VM): it may wait on the word, as
         * Linux's mm_release has it */
        uint32_t zero = 0;
        if (!mm_write_in(p->mm, t->clear_child_tid, &zero, 4))
            futex_wake_addr(t->clear_child_tid, 1, FUTEX_BITSET_ANY);
    }
    if (p->nthreads == 1)
        finish(p);
    thread_exit_current();
}
