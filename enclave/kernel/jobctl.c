/* jobctl.c: job control. A stop signal (SIGSTOP; SIGTSTP, SIGTTIN, SIGTTOU unless handled)
 * stops every thread of its process until SIGCONT, and the parent hears of both: SIGCHLD with
 * CLD_STOPPED or CLD_CONTINUED (unless its SIGCHLD action has SA_NOCLDSTOP), and wait4's
 * WUNTRACED and WCONTINUED, waitid's WSTOPPED and WCONTINUED (sys/fork.c reads p->stop_sig and
 * p->jobctl_report).
 *
 * A stopped process's threads wait in jobctl_wait_stopped on their way back to the application
 * (signal_deliver, which signal_work sends them to): one that is running stops at its next entry
 * to the kernel (a syscall, a preemption tick); one blocked in a syscall stays there and stops
 * when the syscall returns. SIGKILL ends a stopped process (their waits end when it begins to
 * exit); SIGCONT resumes it when it is sent, blocked, ignored or handled (kernel/signal.c). */
#include "klib.h"
#include "process.h"
#include "scheduler.h"
#include "signal.h"
#include "wait.h"

/* Linux's rule for SIGTSTP, SIGTTIN and SIGTTOU: discarded in an orphaned process group, one
 * where no member has a parent in another group of the same session (nobody to continue it). */
static bool orphaned_group(const struct process *p)
{
    for (const struct process *q = process_list(); q; q = q->all_next) {
        if (q->pgid != p->pgid || q->zombie || !q->parent)
            continue;
        if (q->parent->pgid != p->pgid && q->parent->sid == p->sid)
            return false;
    }
    return true;
}

static void tell_parent(struct process *p, int code, int status)
{
    struct process *parent = p->parent;
    if (parent)
        waitq_wake(&parent->child_wq); /* its parent's wait looks again */
    if (!parent || signal_child_stop_quiet(parent))
        return;
    struct linux_siginfo si;
    memset(&si, 0, sizeof(si));
    si.si_signo = SIGCHLD;
    si.si_code = code;
    si.child.pid = p->pid;
    si.child.uid = p->cred.uid[ID_REAL];
    si.child.status = status;
    signal_send_proc(parent, SIGCHLD, &si, NULL);
}

static bool resumed(void *arg)
{
    (void)arg;
    return !current_process()->stop_sig || process_thread_must_leave();
}

void jobctl_wait_stopped(void)
{
    if (current_process()->stop_sig)
        wait_until_uninterruptible(resumed, NULL);
}

bool jobctl_orphaned(const struct process *p)
{
    return orphaned_group(p);
}

void jobctl_stop(int sig)
{
    struct process *p = current_process();
    if (p == process_first())
        return; /* the enclave's init does not stop (Linux's init ignores it, from itself too) */
    if (sig != SIGSTOP && orphaned_group(p))
        return;
    if (!p->stop_sig && !p->exiting) {
        p->stop_sig = sig;
        p->jobctl_report = JOBCTL_STOPPED;
        for_each_thread_of(p, t) sched_kick(t); /* one running elsewhere stops there */
        tell_parent(p, CLD_STOPPED, sig);
    }
    jobctl_wait_stopped();
}

void jobctl_continue(struct process *p)
{
    if (!p->stop_sig)
        return;
    p->stop_sig = 0;
    p->jobctl_report = JOBCTL_CONTINUED;
    tell_parent(p, CLD_CONTINUED, SIGCONT);
    wait_wake_everyone(); /* its stopped threads look again (jobctl_wait_stopped) */
}
