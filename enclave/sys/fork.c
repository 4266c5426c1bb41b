/* fork.c: new processes (fork, vfork, clone and clone3 without CLONE_THREAD), waiting for them
 * (wait4, waitid), and process groups and sessions. The process object and its end are
 * kernel/process.c; execve is loader/exec.c.
 *
 * fork copies: the child gets its own address space with a copy of every page the parent has
 * (mm_copy; written into tables no vCPU has loaded yet, so the copy traps nothing), its own
 * descriptor table pointing at the same open files, the signal dispositions, the working
 * directory, limits and identity. vfork, and clone with CLONE_VM | CLONE_VFORK (what musl's
 * and glibc's posix_spawn use), shares the parent's address space instead, and the parent's
 * thread waits until the child calls execve or ends. CLONE_VM alone makes a process that runs
 * in its parent's address space beside it (a thread of another process, as far as memory goes:
 * mm.c counts the users of a space and every vCPU that has it loaded hears of its changes).
 */
#include "file.h"
#include "klib.h"
#include "mm.h"
#include "pidfd.h"
#include "process.h"
#include "scheduler.h"
#include "signal.h"
#include "syscall.h"
#include "tty.h"
#include "wait.h"

/* what a new process may ask for: sharing the descriptor table, the file system view or the
 * handlers between processes is not there */
#define PROCESS_FLAGS                                                                              \
    (CLONE_VM | CLONE_VFORK | CLONE_PARENT | CLONE_SETTLS | CLONE_PARENT_SETTID |                  \
     CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_SYSVSEM | CLONE_DETACHED | CLONE_UNTRACED | \
     CLONE_PTRACE | CLONE_IO | CLONE_CLEAR_SIGHAND | CLONE_PIDFD | CSIGNAL)

/* ---- fork ---- */

static bool vfork_done(void *arg)
{
    struct process *child = arg;
    wait_on(&child->vfork_wq); /* process_vfork_done wakes it; the parent's end wakes everyone */
    /* another thread's execve makes this one leave, as Linux's de_thread kills it */
    return child->vforker == NULL || current_process()->exiting || process_thread_must_leave();
}

long process_clone(const struct clone_req *c, int exit_signal)
{
    uint64_t f = c->flags, tls = c->tls;
    if (f & ~PROCESS_FLAGS)
        return (f & (CLONE_FS | CLONE_FILES | CLONE_SIGHAND)) ? -ENOSYS : -EINVAL;
    /* Linux's rules: the pidfd and the parent's tid cannot go to one place (always so for
     * clone, whose pidfd goes where the tid would) */
    if ((f & CLONE_PIDFD) &&
        ((f & CLONE_DETACHED) || ((f & CLONE_PARENT_SETTID) && c->pidfd == c->parent_tid)))
        return -EINVAL;
    if ((f & CLONE_SETTLS) && tls >= MM_USER_END)
        return -EPERM;
    if (mm_memory_low())
        return -EAGAIN; /* the processes there keep room for their pages */
    struct thread *me = current();
    struct process *parent = me->proc;
    if ((f & CLONE_PARENT) && parent == process_first())
        return -EINVAL; /* Linux: init has no parent to give its children */
    struct process *child = process_fork(parent);
    if (!child)
        return -EAGAIN;
    if (f & CLONE_VM) {
        child->mm = parent->mm;
        mm_get(child->mm);
    } else if (!(child->mm = mm_copy(parent->mm))) {
        process_discard(child);
        return -ENOMEM;
    }
    /* the parent's descriptor for the child (the child's table is a copy made before: it has
     * none), written where asked before the child runs; failing that, no child */
    int pidfd = -1;
    if (f & CLONE_PIDFD) {
        pidfd = pidfd_install(child, 0);
        if (pidfd >= 0 && copy_to_user(c->pidfd, &pidfd, sizeof(pidfd))) {
            fd_close(pidfd);
            pidfd = -EFAULT;
        }
        if (pidfd < 0) {
            process_discard(child);
            return pidfd;
        }
    }
    struct regs r = *me->regs;
    r.rax = 0; /* the child's return value */
    if (c->stack)
        r.rsp = c->stack;
    struct thread *t = thread_create(child, &r);
    if (!t) {
        if (pidfd >= 0)
            fd_close(pidfd);
        process_discard(child);
        return -EAGAIN;
    }
    child->pid = t->tid; /* its main thread's id, as on Linux */
    child->exit_signal = exit_signal;
    if (f & CLONE_PARENT) {
        /* a sibling of the caller: its parent's child, which gets the caller's exit signal */
        process_reparent(child, parent->parent);
        child->exit_signal = parent->exit_signal;
    }
    if (f & CLONE_CLEAR_SIGHAND)
        signal_reset_handlers(child);
    __asm__ volatile("rdfsbase %0" : "=r"(t->fs_base));
    __asm__ volatile("rdgsbase %0" : "=r"(t->gs_base));
    if (f & CLONE_SETTLS)
        t->fs_base = tls;
    fpu_save(t->fpu);
    t->affinity = me->affinity;
    memcpy(t->comm, me->comm, sizeof(t->comm));
    if (f & CLONE_CHILD_CLEARTID)
        t->clear_child_tid = c->child_tid;
    signal_fork_thread(t);
    int pid = child->pid;
    /* as on Linux, an address that cannot be written is not an error of the clone */
    if (f & CLONE_PARENT_SETTID)
        copy_to_user(c->parent_tid, &pid, sizeof(pid));
    /* only where the child may write: mm_write_in ignores protections, and a read-only page
     * of a shared file mapping is the file's own */
    if ((f & CLONE_CHILD_SETTID) &&
        vms_accessible(&child->mm->space, c->child_tid, sizeof(pid), PROT_WRITE))
        mm_write_in(child->mm, c->child_tid, &pid, sizeof(pid));
    if (f & CLONE_VFORK)
        child->vforker = me;
    thread_start(t);
    if (f & CLONE_VFORK) {
        /* until the child calls execve or ends: not interrupted by signals (they wait) */
        child->refs++;
        wait_until_uninterruptible(vfork_done, child);
        process_thread_gone(child); /* the reference this wait held */
    }
    return pid;
}

SYSCALL_DEFINE0(fork)
{
    const struct clone_req c = {0};
    return process_clone(&c, SIGCHLD);
}

SYSCALL_DEFINE0(vfork)
{
    const struct clone_req c = {.flags = CLONE_VM | CLONE_VFORK};
    return process_clone(&c, SIGCHLD);
}

/* ---- waiting ---- */
#define WNOHANG     0x00000001
#define WUNTRACED   0x00000002
#define WSTOPPED    WUNTRACED
#define WEXITED     0x00000004
#define WCONTINUED  0x00000008
#define WNOWAIT     0x01000000
#define __WNOTHREAD 0x20000000
#define __WALL      0x40000000
#define __WCLONE    0x80000000
#define P_ALL       0
#define P_PID       1
#define P_PGID      2
#define P_PIDFD     3
/* not Linux's: waitid's own mark for a PIDFD_NONBLOCK pidfd (no WNOHANG asked, EAGAIN) */
#define WNOHANG_EAGAIN 0x00000100

struct wait_req {
    int idtype, id;
    uint32_t options;      /* WEXITED, WSTOPPED, WCONTINUED: what it waits for */
    struct process *found; /* a matching child with something to report */
    bool any;              /* some child matches */
};

static bool matches(const struct process *c, const struct wait_req *w)
{
    if (w->idtype == P_PID && c->pid != w->id)
        return false;
    if (w->idtype == P_PGID && c->pgid != w->id)
        return false;
    /* __WCLONE: only children that do not signal SIGCHLD; __WALL: any */
    return (w->options & __WALL) || ((c->exit_signal != SIGCHLD) == !!(w->options & __WCLONE));
}

/* Whether c has news for a waiter with these options: it ended, or stopped, or was continued
 * (kernel/jobctl.c) since its parent last heard. */
static bool has_news(const struct process *c, uint32_t options)
{
    if (c->zombie)
        return options & WEXITED;
    if (c->exiting)
        return false; /* killed while stopped: its end is the news, once its threads are gone */
    if (c->jobctl_report == JOBCTL_STOPPED && c->stop_sig)
        return options & WSTOPPED;
    return c->jobctl_report == JOBCTL_CONTINUED && (options & WCONTINUED);
}

static bool child_ready(void *arg)
{
    struct wait_req *w = arg;
    w->found = NULL;
    w->any = false;
    for (struct process *c = current_process()->children; c; c = c->sibling) {
        if (!matches(c, w))
            continue;
        w->any = true;
        if (has_news(c, w->options)) {
            w->found = c;
            return true;
        }
    }
    if (!w->any)
        return true;                       /* ECHILD */
    wait_on(&current_process()->child_wq); /* a child's news wakes it (kernel/process.c) */
    return false;
}

/* Finds a child with news, waiting unless WNOHANG: 0 and w->found (NULL: none yet, WNOHANG),
 * or -ECHILD, or -ERESTARTSYS. */
static long find_child(struct wait_req *w)
{
    if (child_ready(w) || (w->options & WNOHANG))
        return w->any ? 0 : -ECHILD;
    if (wait_until(child_ready, w, 0, WAIT_FOREVER))
        return -ERESTARTSYS;
    return w->any ? 0 : -ECHILD;
}

static void fill_rusage(struct linux_rusage *ru, const struct process *c)
{
    memset(ru, 0, sizeof(*ru));
    uint64_t ns = c->dead_cpu_ns + c->children_cpu_ns;
    ru->utime.tv_sec = (int64_t)(ns / 1000000000ull);
    ru->utime.tv_usec = (int64_t)(ns % 1000000000ull / 1000);
}

SYSCALL_DEFINE4(wait4, int, pid, uint64_t, ustatus, uint32_t, options, uint64_t, urusage)
{
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return -EINVAL;
    if (pid == INT32_MIN)
        return -ESRCH; /* Linux: -pid would overflow */
    struct wait_req w = {P_ALL, 0, options | WEXITED, NULL, false};
    if (pid > 0)
        w.idtype = P_PID, w.id = pid;
    else if (pid == 0)
        w.idtype = P_PGID, w.id = current_process()->pgid;
    else if (pid < -1)
        w.idtype = P_PGID, w.id = -pid;
    long err = find_child(&w);
    if (err || !w.found)
        return err;
    struct process *c = w.found;
    int status = c->zombie                              ? c->wstatus
                 : c->jobctl_report == JOBCTL_CONTINUED ? 0xffff
                                                        : (c->stop_sig << 8) | 0x7f,
        cpid = c->pid;
    if (ustatus && copy_to_user(ustatus, &status, sizeof(status)))
        return -EFAULT;
    if (urusage) {
        struct linux_rusage ru;
        fill_rusage(&ru, c);
        if (copy_to_user(urusage, &ru, sizeof(ru)))
            return -EFAULT;
    }
    if (c->zombie)
        process_reap(c);
    else
        c->jobctl_report = 0; /* heard */
    return cpid;
}

SYSCALL_DEFINE5(waitid, int, idtype, int, id, uint64_t, uinfo, uint32_t, options, uint64_t, urusage)
{
    if (options &
        ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return -EINVAL;
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
        return -EINVAL;
    switch (idtype) {
    case P_ALL:
        break;
    case P_PID:
    case P_PGID:
        if (id < 0 || (idtype == P_PID && id == 0))
            return -EINVAL;
        if (idtype == P_PGID && id == 0)
            id = current_process()->pgid;
        break;
    case P_PIDFD: {
        /* the pidfd's process (sys/pidfd.c), which must be a child not yet reaped; a
         * PIDFD_NONBLOCK one does not wait, and says EAGAIN where WNOHANG would say 0 */
        if (id < 0)
            return -EINVAL;
        struct file *f = fd_get(id);
        if (!f)
            return -EBADF;
        struct process *p = pidfd_process(f);
        if (!p)
            return -EBADF;
        if (!pidfd_alive(p) || p->parent != current_process())
            return -ECHILD;
        idtype = P_PID;
        id = p->pid;
        if ((f->flags & O_NONBLOCK) && !(options & WNOHANG))
            options |= WNOHANG | WNOHANG_EAGAIN;
        break;
    }
    default:
        return -EINVAL;
    }
    struct wait_req w = {idtype, id, options & ~WNOHANG_EAGAIN, NULL, false};
    long err = find_child(&w);
    if (err)
        return err;
    if (!w.found && (options & WNOHANG_EAGAIN))
        return -EAGAIN;
    struct linux_siginfo si;
    memset(&si, 0, sizeof(si));
    struct process *c = w.found;
    if (c) {
        si.si_signo = SIGCHLD;
        si.si_code = process_end_code(c, &si.child.status);
        si.child.pid = c->pid;
        si.child.uid = c->cred.uid[ID_REAL];
        if (!c->zombie) {
            bool stopped = c->jobctl_report == JOBCTL_STOPPED;
            si.si_code = stopped ? CLD_STOPPED : CLD_CONTINUED;
            si.child.status = stopped ? c->stop_sig : SIGCONT;
        }
    }
    if (uinfo && copy_to_user(uinfo, &si, sizeof(si)))
        return -EFAULT;
    if (c && urusage) {
        struct linux_rusage ru;
        fill_rusage(&ru, c);
        if (copy_to_user(urusage, &ru, sizeof(ru)))
            return -EFAULT;
    }
    if (c && !(options & WNOWAIT)) {
        if (c->zombie)
            process_reap(c);
        else
            c->jobctl_report = 0; /* heard */
    }
    return 0;
}

/* ---- the family, groups and sessions ---- */

SYSCALL_DEFINE0(getppid)
{
    struct process *p = current_process();
    return p->parent ? p->parent->pid : 0; /* the first: like a container's init */
}

/* The process pid names for these calls: the caller for 0. */
static struct process *target(int pid)
{
    if (pid < 0)
        return NULL;
    return pid == 0 ? current_process() : process_find(pid);
}

SYSCALL_DEFINE0(getpgrp)
{
    return current_process()->pgid;
}

SYSCALL_DEFINE1(getpgid, int, pid)
{
    struct process *p = target(pid);
    return p ? p->pgid : -ESRCH;
}

SYSCALL_DEFINE1(getsid, int, pid)
{
    struct process *p = target(pid);
    return p ? p->sid : -ESRCH;
}

SYSCALL_DEFINE2(setpgid, int, pid, int, pgid)
{
    struct process *me = current_process();
    if (pgid < 0)
        return -EINVAL;
    struct process *p = target(pid);
    if (!p || (p != me && p->parent != me))
        return -ESRCH;
    if (p != me && p->execed)
        return -EACCES; /* a child that has run execve is on its own */
    if (p->sid != me->sid || p->pid == p->sid)
        return -EPERM; /* another session's, or a session leader */
    if (pgid == 0)
        pgid = p->pid;
    if (pgid != p->pid) {
        /* joining a group: it must exist in the caller's session */
        bool ok = false;
        for (struct process *q = process_list(); q && !ok; q = q->all_next)
            ok = q->pgid == pgid && q->sid == me->sid && !q->zombie;
        if (!ok)
            return -EPERM;
    }
    p->pgid = pgid;
    return 0;
}

SYSCALL_DEFINE0(setsid)
{
    struct process *me = current_process();
    for (struct process *q = process_list(); q; q = q->all_next)
        if (q->pgid == me->pid)
            return -EPERM; /* it leads a group already (or one has its number) */
    me->sid = me->pgid = me->pid;
    tty_setsid(me);
    return me->sid;
}
