/* signal.c: the signal syscalls. The state, the frames and delivery are in kernel/signal.c (see
 * signal.h); the process is pid 1 and its one thread tid 1, as getpid and gettid say. */
#include "klib.h"
#include "pidfd.h"
#include "scheduler.h"
#include "signal.h"
#include "syscall.h"
#include "wait.h"

#define UAPI_SA_FLAGS                                                                              \
    (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER |             \
     SA_RESETHAND | SA_EXPOSE_TAGBITS | SA_RESTORER)
#define NSEC 1000000000ll

SYSCALL_DEFINE4(rt_sigaction, int, sig, uint64_t, uact, uint64_t, uold, uint64_t, sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    struct linux_sigaction act, old;
    if (uact && copy_from_user(&act, uact, sizeof(act)))
        return -EFAULT;
    if (uact)
        act.flags &= UAPI_SA_FLAGS; /* unknown flags read back as clear, as on Linux */
    int err = signal_action(sig, uact ? &act : NULL, &old);
    if (err)
        return err;
    old.flags &= UAPI_SA_FLAGS;
    if (uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE4(rt_sigprocmask, int, how, uint64_t, uset, uint64_t, uold, uint64_t, sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    uint64_t set, old = signal_blocked();
    if (uset) {
        if (copy_from_user(&set, uset, 8))
            return -EFAULT;
        switch (how) {
        case SIG_BLOCK:
            signal_set_blocked(old | set);
            break;
        case SIG_UNBLOCK:
            signal_set_blocked(old & ~set);
            break;
        case SIG_SETMASK:
            signal_set_blocked(set);
            break;
        default:
            return -EINVAL;
        }
    }
    if (uold && copy_to_user(uold, &old, 8))
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE2(rt_sigpending, uint64_t, uset, uint64_t, sigsetsize)
{
    if (sigsetsize > 8)
        return -EINVAL;
    uint64_t set = signal_pending_set() & signal_blocked();
    return copy_to_user(uset, &set, sigsetsize);
}

SYSCALL_DEFINE2(rt_sigsuspend, uint64_t, umask, uint64_t, sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    uint64_t mask;
    if (copy_from_user(&mask, umask, 8))
        return -EFAULT;
    signal_set_temporary_mask(mask);
    wait_until(wait_never, NULL, 0, WAIT_FOREVER);
    return -ERESTARTNOHAND;
}

SYSCALL_DEFINE0(pause)
{
    wait_until(wait_never, NULL, 0, WAIT_FOREVER);
    return -ERESTARTNOHAND;
}

SYSCALL_DEFINE0(rt_sigreturn)
{
    return signal_return(current()->regs);
}

static bool pending_in(void *arg)
{
    wait_quiet(); /* a signal in the set is unblocked while waiting: its sending wakes this */
    /* not a process signal another thread was picked for: this one could not take it */
    return (signal_takeable_set() & *(uint64_t *)arg) != 0;
}

SYSCALL_DEFINE4(rt_sigtimedwait, uint64_t, uset, uint64_t, uinfo, uint64_t, uts, uint64_t,
                sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    uint64_t set;
    if (copy_from_user(&set, uset, 8))
        return -EFAULT;
    set &= ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
    int64_t deadline = WAIT_FOREVER;
    if (uts) {
        struct linux_timespec ts;
        if (copy_from_user(&ts, uts, sizeof(ts)))
            return -EFAULT;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC)
            return -EINVAL;
        int64_t ns =
            ts.tv_sec > INT64_MAX / NSEC - 1 ? INT64_MAX / 2 : ts.tv_sec * NSEC + ts.tv_nsec;
        deadline = time_monotonic_ns() + ns;
    }
    struct linux_siginfo info;
    int sig = signal_dequeue(set, &info);
    if (!sig) {
        /* the awaited signals are unblocked while waiting, as on Linux */
        signal_wait_begin(set);
        int err = wait_until(pending_in, &set, 0, deadline);
        signal_wait_end();
        sig = signal_dequeue(set, &info);
        if (!sig)
            return err == -ETIMEDOUT ? -EAGAIN : -EINTR;
    }
    if (uinfo && copy_to_user(uinfo, &info, sizeof(info)))
        return -EFAULT;
    return sig;
}

SYSCALL_DEFINE2(sigaltstack, uint64_t, uss, uint64_t, uold)
{
    struct linux_stack_t ss, old;
    if (uss && copy_from_user(&ss, uss, sizeof(ss)))
        return -EFAULT;
    int err = signal_altstack(uss ? &ss : NULL, &old, current()->regs->rsp);
    if (err)
        return err;
    if (uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

/* ---- sending ---- */
/* To process p (its own queue, target NULL) or to its thread target. */
static long send(struct process *p, int sig, int code, struct thread *target)
{
    if (sig < 0 || sig > NSIG)
        return -EINVAL;
    if (!cred_may_signal(p) && !(sig == SIGCONT && p->sid == current_process()->sid))
        return -EPERM;
    if (sig == 0)
        return 0; /* the target exists and may be signalled */
    /* the first process is the enclave's init: from the others, as in a PID namespace, only
     * the signals it has a handler for reach it (SIGKILL never) */
    if (p == process_first() && p != current_process() && !signal_has_handler(p, sig))
        return 0;
    struct linux_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = sig;
    info.si_code = code;
    info.kill.pid = current_process()->pid;
    info.kill.uid = current_process()->cred.uid[ID_REAL];
    return signal_send_proc(p, sig, &info, target);
}

/* kill(2)'s targets: a process (pid > 0), the caller's group (0), a group (< -1), or every
 * process but the first and the caller (-1). ESRCH when none is there; zombies count, as on
 * Linux, and take nothing. */
SYSCALL_DEFINE2(kill, int, pid, int, sig)
{
    bool bad = sig < 0 || sig > NSIG; /* EINVAL, but only once a target exists (Linux's order) */
    if (pid == INT32_MIN)
        return -ESRCH;
    struct process *me = current_process();
    if (pid > 0) {
        struct process *p = process_find(pid);
        if (!p)
            return -ESRCH;
        if (bad)
            return -EINVAL;
        return p->zombie ? 0 : send(p, sig, SI_USER, NULL);
    }
    int pgid = pid == 0 ? me->pgid : -pid;
    bool found = false, sent = false;
    long err = 0;
    /* the caller last: a signal that ends it must not stop the others getting theirs */
    for (int pass = 0; pass < 2; pass++) {
        for (struct process *p = process_list(); p; p = p->all_next) {
            bool in = pid == -1 ? (p != process_first() && p != me) : p->pgid == pgid;
            if (!in || (p == me) != (pass == 1))
                continue;
            found = true;
            if (bad)
                return -EINVAL;
            if (!p->zombie) {
                long e = send(p, sig, SI_USER, NULL);
                if (e)
                    err = e;
                else
                    sent = true;
            }
        }
    }
    /* a group signal succeeds when one of its members got it (Linux) */
    return !found ? -ESRCH : sent ? 0 : err;
}

/* The live thread tid, of process tgid when tgid > 0. */
static struct thread *find_thread(int tgid, int tid)
{
    struct thread *t = thread_find(tid);
    if (!t || (tgid > 0 && t->proc->pid != tgid) || t->proc->exiting)
        return NULL;
    return t;
}

SYSCALL_DEFINE3(tgkill, int, tgid, int, tid, int, sig)
{
    if (tgid <= 0 || tid <= 0)
        return -EINVAL;
    struct thread *t = find_thread(tgid, tid);
    if (!t)
        return -ESRCH;
    return send(t->proc, sig, SI_TKILL, t);
}

SYSCALL_DEFINE2(tkill, int, tid, int, sig)
{
    if (tid <= 0)
        return -EINVAL;
    struct thread *t = find_thread(0, tid);
    if (!t)
        return -ESRCH;
    return send(t->proc, sig, SI_TKILL, t);
}

/* pid: the process (to_thread false) or a thread's id */
static long queue_info(int tgid, int pid, int sig, uint64_t uinfo, bool to_thread)
{
    struct linux_siginfo info;
    if (copy_from_user(&info, uinfo, sizeof(info)))
        return -EFAULT;
    struct thread *t = to_thread ? find_thread(tgid, pid) : NULL;
    struct process *p = to_thread ? (t ? t->proc : NULL) : process_find(pid);
    if (!p || p->zombie)
        return -ESRCH;
    if (sig < 0 || sig > NSIG)
        return -EINVAL;
    /* a process may not pass itself off as the kernel or kill() to another (Linux's rule) */
    if ((info.si_code >= 0 || info.si_code == SI_TKILL) && p != current_process())
        return -EPERM;
    if (!cred_may_signal(p) && !(sig == SIGCONT && p->sid == current_process()->sid))
        return -EPERM;
    if (sig == 0)
        return 0;
    if (p == process_first() && p != current_process() && !signal_has_handler(p, sig))
        return 0; /* the enclave's init, as in send() */
    info.si_signo = sig;
    return signal_send_proc(p, sig, &info, t);
}

/* pidfd_send_signal(pidfd, sig, info, flags): kill or rt_sigqueueinfo to the process of a pidfd
 * (sys/pidfd.c). flags must be 0 (Linux 6.9's PIDFD_SIGNAL_* scopes are not taken); a
 * descriptor that is not a pidfd is EBADF; a reaped process is ESRCH; an ended one not yet
 * reaped takes nothing, and the call succeeds (as kill). */
SYSCALL_DEFINE4(pidfd_send_signal, int, pidfd, int, sig, uint64_t, uinfo, uint32_t, flags)
{
    if (flags)
        return -EINVAL;
    struct file *f = fd_get(pidfd);
    if (!f)
        return -EBADF;
    struct process *p = pidfd_process(f);
    if (!p)
        return -EBADF;
    if (sig < 0 || sig > NSIG)
        return -EINVAL;
    if (!pidfd_alive(p))
        return -ESRCH;
    if (uinfo) {
        struct linux_siginfo info;
        if (copy_from_user(&info, uinfo, sizeof(info)))
            return -EFAULT;
        if (info.si_signo != sig)
            return -EINVAL;
        if (p->zombie)
            return 0;
        return queue_info(0, p->pid, sig, uinfo, false);
    }
    return p->zombie ? 0 : send(p, sig, SI_USER, NULL);
}

SYSCALL_DEFINE3(rt_sigqueueinfo, int, pid, int, sig, uint64_t, uinfo)
{
    return queue_info(0, pid, sig, uinfo, false);
}

SYSCALL_DEFINE4(rt_tgsigqueueinfo, int, tgid, int, tid, int, sig, uint64_t, uinfo)
{
    if (tgid <= 0 || tid <= 0)
        return -EINVAL;
    return queue_info(tgid, tid, sig, uinfo, true);
}
