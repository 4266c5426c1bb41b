/* signal.c: pending signals, delivery to handlers through Linux's rt_sigframe, rt_sigreturn, and
 * hardware faults as signals (see signal.h).
 *
 * The frame is Linux x86-64's, byte for byte, because the C libraries' ucontext_t and
 * unwinders read it: at the handler's rsp the return address (sa_restorer), then struct
 * ucontext (uc_flags, uc_link, uc_stack, uc_mcontext = struct sigcontext, uc_sigmask), then
 * siginfo; above them, 64-byte aligned, the extended state as XSAVE writes it (standard
 * format, with the software bytes and the trailing magic Linux puts there) or as FXSAVE does
 * (kernel/fpu.c). The kernel is built -mgeneral-regs-only, so the application's SSE/AVX
 * registers are still live when it gets here: they are saved with xsave into the frame, the
 * handler starts with the initial FPU state as on Linux, and rt_sigreturn restores them.
 */
#include "klib.h"
#include "mm.h"
#include "scheduler.h"
#include "signal.h"
#include "syscall.h"

#define NOVECTOR 32 /* alc_fatal.vector for a death that no exception caused */

#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define SYNC_MASK                                                                                  \
    (SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) | SIGBIT(SIGFPE) |        \
     SIGBIT(SIGSYS))
#define DEFAULT_IGNORE (SIGBIT(SIGCHLD) | SIGBIT(SIGURG) | SIGBIT(SIGWINCH) | SIGBIT(SIGCONT))
/* the stop signals: their default action stops the process until SIGCONT (kernel/jobctl.c) */
#define DEFAULT_STOP (SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU) | SIGBIT(SIGSTOP))

#define EFLAGS_CF 0x1ull
#define EFLAGS_PF 0x4ull
#define EFLAGS_AF 0x10ull
#define EFLAGS_ZF 0x40ull
#define EFLAGS_SF 0x80ull
#define EFLAGS_TF 0x100ull
#define EFLAGS_DF 0x400ull
#define EFLAGS_OF 0x800ull
#define EFLAGS_RF 0x10000ull
#define EFLAGS_AC 0x40000ull
/* what rt_sigreturn may change (Linux's FIX_EFLAGS less TF: a trap flag would fire inside the
 * kernel's CPL3 return path) */
#define FIX_EFLAGS                                                                                 \
    (EFLAGS_AC | EFLAGS_OF | EFLAGS_DF | EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | EFLAGS_CF)

/* ---- the frame (Linux x86-64 uapi) ---- */
struct sigcontext64 {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;
    uint64_t reserved1[8];
};
_Static_assert(sizeof(struct sigcontext64) == 256, "struct sigcontext");

struct kucontext {
    uint64_t uc_flags;
    uint64_t uc_link;
    struct linux_stack_t uc_stack;
    struct sigcontext64 uc_mcontext;
    uint64_t uc_sigmask;
};
_Static_assert(sizeof(struct kucontext) == 304, "struct ucontext");
_Static_assert(__builtin_offsetof(struct kucontext, uc_mcontext) == 40, "uc_mcontext");

struct rt_sigframe {
    uint64_t pretcode;
    struct kucontext uc;
    struct linux_siginfo info;
};
_Static_assert(sizeof(struct rt_sigframe) == 440, "struct rt_sigframe");
_Static_assert(__builtin_offsetof(struct rt_sigframe, info) == 312, "rt_sigframe.info");

#define UC_FP_XSTATE         0x1
#define UC_SIGCONTEXT_SS     0x2
#define UC_STRICT_RESTORE_SS 0x4
/* ---- state ----
 * The dispositions and the process's queue are shared by every thread; the mask, the thread's
 * own queue, the alternate stack and the last fault's details are each thread's. */
struct sigthread {
    uint64_t blocked;
    uint64_t saved_mask;   /* the mask to restore after a temporary one (rt_sigsuspend) */
    uint64_t real_blocked; /* the mask before rt_sigtimedwait unblocked what it waits for */
    bool restore_mask;     /* a temporary mask is in force */
    uint64_t set;          /* signals pending in the thread's own queue */
    struct linux_siginfo std_info[SIGRTMIN_KERNEL];
    struct linux_stack_t altstack;
    uint64_t trapno, err, cr2; /* what the last fault left, for the sigcontext */
};

/* A process's signal state (process.h: struct process.sig): the dispositions and its queue. */
#define RTQ_MAX 128
struct sigproc {
    struct linux_sigaction actions[NSIG + 1];
    /* Two queues, as Linux has: the thread's own (tkill, tgkill, raise, faults, SIGPIPE) and
     * the process's (kill, sigqueue, timers). A standard signal is pending at most once in
     * each. */
    struct {
        uint64_t set;
        struct linux_siginfo std_info[SIGRTMIN_KERNEL];
    } queue;
    struct {
        int sig;
        struct thread *owner; /* NULL: the process's queue */
        struct linux_siginfo info;
    } rtq[RTQ_MAX]; /* real-time signals of every queue, in the order they were sent */
    int rtq_len;
    /* The thread each pending process-directed signal was sent to (pick_thread), 0 for any:
     * the one woken for it takes it, not another that happens to enter the kernel first. */
    int owner[NSIG + 1];
};

static struct sigthread *me(void)
{
    return current()->sig;
}

static struct sigproc *sp(void)
{
    return current_process()->sig;
}

void signal_process_init(struct process *p)
{
    p->sig = kzalloc(sizeof(*p->sig));
    if (!p->sig)
        kpanic("out of kernel memory for the signal state");
}

int signal_process_fork(const struct process *parent, struct process *child)
{
    child->sig = kzalloc(sizeof(*child->sig));
    if (!child->sig)
        return -ENOMEM;
    /* the dispositions; nothing pending */
    memcpy(child->sig->actions, parent->sig->actions, sizeof(child->sig->actions));
    return 0;
}

void signal_process_free(struct process *p)
{
    kfree(p->sig);
    p->sig = NULL;
}

void signal_reset_handlers(struct process *p)
{
    /* handlers go back to the default; what is ignored stays ignored */
    struct linux_sigaction *a = p->sig->actions;
    for (int sig = 1; sig <= NSIG; sig++) {
        if (a[sig].handler != SIG_IGN)
            a[sig].handler = SIG_DFL;
        a[sig].flags = 0;
        a[sig].restorer = 0;
        a[sig].mask = 0;
    }
}

void signal_exec(void)
{
    signal_reset_handlers(current_process()); /* their code is gone */
    me()->altstack.flags = SS_DISABLE;
    me()->altstack.sp = 0;
    me()->altstack.size = 0;
    host_signal_changed(current_process());
}

bool signal_has_handler(struct process *p, int sig)
{
    return p->sig->actions[sig].handler > SIG_IGN;
}

void signal_fork_thread(struct thread *child)
{
    child->sig->altstack = me()->altstack; /* fork keeps the alternate stack, as Linux */
}

bool signal_child_stop_quiet(const struct process *p)
{
    return p->sig->actions[SIGCHLD].flags & SA_NOCLDSTOP;
}

bool signal_child_ignored(const struct process *p)
{
    const struct linux_sigaction *a = &p->sig->actions[SIGCHLD];
    return a->handler == SIG_IGN || (a->flags & SA_NOCLDWAIT);
}

int signal_thread_init(struct thread *t)
{
    t->sig = kzalloc(sizeof(*t->sig));
    if (!t->sig)
        return -ENOMEM;
    t->sig->altstack.flags = SS_DISABLE;
    struct thread *cur = current();
    if (cur && !cur->idle && cur->sig)
        t->sig->blocked = cur->sig->blocked; /* a new thread inherits the mask */
    return 0;
}

void signal_thread_free(struct thread *t)
{
    /* its real-time signals go with it */
    struct sigproc *ps = t->proc->sig;
    int w = 0;
    for (int i = 0; i < ps->rtq_len; i++)
        if (ps->rtq[i].owner != t)
            ps->rtq[w++] = ps->rtq[i];
    ps->rtq_len = w;
    kfree(t->sig);
    t->sig = NULL;
    host_signal_changed(t->proc);
}

/* ---- pending signals ---- */
static bool valid_sig(int sig)
{
    return sig >= 1 && sig <= NSIG;
}

static uint64_t handler_of(struct process *p, int sig)
{
    return p->sig->actions[sig].handler;
}

static bool ignored(struct process *p, int sig)
{
    uint64_t h = handler_of(p, sig);
    return h == SIG_IGN || (h == SIG_DFL && (SIGBIT(sig) & DEFAULT_IGNORE));
}

static uint64_t *queue_set(struct process *p, struct thread *owner)
{
    return owner ? &owner->sig->set : &p->sig->queue.set;
}

static struct linux_siginfo *queue_info(struct process *p, struct thread *owner, int sig)
{
    return owner ? &owner->sig->std_info[sig] : &p->sig->queue.std_info[sig];
}

/* Queues sig for process p: on thread owner's queue (one of p's), or p's own (NULL). */
static bool enqueue(struct process *p, struct thread *owner, int sig,
                    const struct linux_siginfo *info)
{
    struct sigproc *ps = p->sig;
    uint64_t *set = queue_set(p, owner);
    if (sig < SIGRTMIN_KERNEL) {
        if (!(*set & SIGBIT(sig))) /* standard signals do not queue */
            *queue_info(p, owner, sig) = *info;
    } else {
        if (ps->rtq_len == RTQ_MAX)
            return false;
        ps->rtq[ps->rtq_len].sig = sig;
        ps->rtq[ps->rtq_len].owner = owner;
        ps->rtq[ps->rtq_len].info = *info;
        ps->rtq_len++;
    }
    *set |= SIGBIT(sig);
    return true;
}

/* Takes sig off the current process's queues. */
static void dequeue(struct thread *owner, int sig, struct linux_siginfo *out)
{
    struct process *p = current_process();
    uint64_t *set = queue_set(p, owner);
    if (sig < SIGRTMIN_KERNEL) {
        if (out)
            *out = *queue_info(p, owner, sig);
        *set &= ~SIGBIT(sig);
        return;
    }
    bool more = false, taken = false;
    int w = 0;
    for (int i = 0; i < sp()->rtq_len; i++) {
        bool match = sp()->rtq[i].sig == sig && sp()->rtq[i].owner == owner;
        if (match && !taken) {
            if (out)
                *out = sp()->rtq[i].info;
            taken = true;
            continue;
        }
        if (match)
            more = true;
        if (w != i)
            sp()->rtq[w] = sp()->rtq[i];
        w++;
    }
    sp()->rtq_len = w;
    if (!more)
        *set &= ~SIGBIT(sig);
}

static void flush(int sig)
{
    while (sp()->queue.set & SIGBIT(sig))
        dequeue(NULL, sig, NULL);
    for_each_thread(t) while (t->sig->set & SIGBIT(sig)) dequeue(t, sig, NULL);
}

/* Takes the signal to deliver first among set off its queue: as Linux, the thread's queue
 * first (faults, then the lowest number), then the process's (the lowest number). */

/* Process-pending signals that another live thread, not blocking them, was picked for. */
static uint64_t claimed_by_others(void)
{
    uint64_t m = 0, set = sp()->queue.set;
    int me_tid = current()->tid;
    while (set) {
        int sig = __builtin_ctzll(set) + 1;
        set &= set - 1;
        int owner = sp()->owner[sig];
        if (!owner || owner == me_tid)
            continue;
        struct thread *t = thread_find(owner);
        if (t && !(t->sig->blocked & SIGBIT(sig)))
            m |= SIGBIT(sig);
    }
    return m;
}

static int take(uint64_t set, struct linux_siginfo *out)
{
    struct thread *cur = current();
    uint64_t t = cur->sig->set & set, p = sp()->queue.set & set & ~claimed_by_others();
    if (t) {
        uint64_t sync = t & SYNC_MASK;
        int sig = __builtin_ctzll(sync ? sync : t) + 1;
        dequeue(cur, sig, out);
        return sig;
    }
    if (p) {
        int sig = __builtin_ctzll(p) + 1;
        dequeue(NULL, sig, out);
        return sig;
    }
    return 0;
}

bool signal_process_pending(void)
{
    return sp()->queue.set != 0;
}

uint64_t signal_pending_set(void)
{
    return me()->set | sp()->queue.set;
}

uint64_t signal_takeable_set(void)
{
    return me()->set | (sp()->queue.set & ~claimed_by_others());
}

bool signal_pending(void)
{
    if (process_thread_must_leave())
        return true; /* the process is ending, or execs in another thread: every wait ends */
    return ((me()->set | (sp()->queue.set & ~claimed_by_others())) & ~me()->blocked) != 0;
}

bool signal_work(long ret)
{
    struct sigthread *s = me();
    return process_thread_must_leave() || current_process()->stop_sig ||
           ((s->set | (sp()->queue.set & ~claimed_by_others())) & ~s->blocked) || timers_armed() ||
           s->restore_mask || is_restart_code(ret);
}

uint64_t signal_blocked(void)
{
    return me()->blocked;
}

void signal_set_blocked(uint64_t mask)
{
    me()->blocked = mask & ~UNBLOCKABLE;
    host_signal_changed(current_process());
}

void signal_set_temporary_mask(uint64_t mask)
{
    struct sigthread *s = me();
    if (!s->restore_mask) {
        s->saved_mask = s->blocked;
        s->restore_mask = true;
    }
    signal_set_blocked(mask);
}

void signal_wait_begin(uint64_t set)
{
    me()->real_blocked = me()->blocked;
    signal_set_blocked(me()->blocked & ~set);
}

void signal_wait_end(void)
{
    signal_set_blocked(me()->real_blocked);
    me()->real_blocked = 0;
}

int signal_dequeue(uint64_t set, struct linux_siginfo *info)
{
    return take(set, info);
}

static NORETURN void die(int sig, const struct regs *r, const char *what)
{
    process_kill(sig, r, NOVECTOR, 0, 0, what);
}

/* The thread that should see a process-directed sig: as Linux, the main thread if it does not
 * block it, else the current one, else any that does not (woken if it waits), else none (it
 * stays pending for whoever unblocks it first). */
static struct thread *pick_thread(struct process *p, int sig)
{
    struct thread *main_thread = thread_find(p->pid), *cur = current();
    if (main_thread && main_thread->proc == p && !(main_thread->sig->blocked & SIGBIT(sig)))
        return main_thread;
    if (cur && !cur->idle && cur->proc == p && !(cur->sig->blocked & SIGBIT(sig)))
        return cur;
    for_each_thread_of(p, t) if (!(t->sig->blocked & SIGBIT(sig))) return t;
    return NULL;
}

/* Drops the standard signals in mask pending anywhere in p. */
static void discard_pending(struct process *p, uint64_t mask)
{
    p->sig->queue.set &= ~mask;
    for_each_thread_of(p, t) t->sig->set &= ~mask;
}

/* Blocked by thread t for the rule that a blocked signal is never ignored: blocked now, or
 * before a sigtimedwait that waits for it (Linux's real_blocked). */
static bool held_by(const struct thread *t, int sig)
{
    return ((t->sig->blocked | t->sig->real_blocked) & SIGBIT(sig)) != 0;
}

static bool blocked_everywhere(struct process *p, int sig)
{
    for_each_thread_of(p, t) if (!held_by(t, sig)) return false;
    return true;
}

uint64_t signal_wanted_set(struct process *p)
{
    uint64_t held = ~0ull, handled = 0;
    /* a thread being freed has no signal state left: it holds nothing */
    for_each_thread_of(p, t) if (t->sig) held &= t->sig->blocked | t->sig->real_blocked;
    for (int sig = 1; sig <= NSIG; sig++)
        if (handler_of(p, sig) != SIG_DFL)
            handled |= SIGBIT(sig);
    return handled | held;
}

int signal_send_proc(struct process *p, int sig, const struct linux_siginfo *info,
                     struct thread *target)
{
    if (p->exiting)
        return 0; /* it is ending: nothing more reaches it */
    if (sig == SIGKILL) {
        if (p == current_process())
            die(SIGKILL, current()->regs, "SIGKILL sent by the program to itself");
        process_end(p, SIGKILL); /* its threads go at their next return to the application */
        return 0;
    }
    /* as Linux, when sent: a stop signal cancels a pending SIGCONT, and SIGCONT cancels the
     * pending stop signals and continues a stopped process, whatever its disposition */
    if (SIGBIT(sig) & DEFAULT_STOP)
        discard_pending(p, SIGBIT(SIGCONT));
    if (sig == SIGCONT) {
        discard_pending(p, DEFAULT_STOP);
        jobctl_continue(p);
    }
    bool blocked = target ? held_by(target, sig) : blocked_everywhere(p, sig);
    if (!blocked && ignored(p, sig))
        return 0; /* discarded, as Linux does with an ignored signal nobody blocks */
    if (!enqueue(p, target, sig, info))
        return -EAGAIN;
    struct thread *t = target ? target : pick_thread(p, sig);
    if (!target)
        p->sig->owner[sig] = t ? t->tid : 0;
    if (t && t != current() && !(t->sig->blocked & SIGBIT(sig)))
        sched_signal_wake(t);
    return 0;
}

int signal_send_to(int sig, const struct linux_siginfo *info, struct thread *target)
{
    return signal_send_proc(target ? target->proc : current_process(), sig, info, target);
}

int signal_send(int sig, const struct linux_siginfo *info, bool to_thread)
{
    return signal_send_to(sig, info, to_thread ? current() : NULL);
}

static void raise_kernel(int sig, bool to_thread)
{
    struct linux_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = sig;
    info.si_code = SI_KERNEL;
    signal_send(sig, &info, to_thread);
}

void signal_raise(int sig)
{
    raise_kernel(sig, true);
}

void signal_raise_process(int sig)
{
    raise_kernel(sig, false);
}

int signal_action(int sig, const struct linux_sigaction *act, struct linux_sigaction *old)
{
    if (!valid_sig(sig) || (act && (sig == SIGKILL || sig == SIGSTOP)))
        return -EINVAL;
    if (old)
        *old = sp()->actions[sig];
    if (act) {
        sp()->actions[sig] = *act;
        sp()->actions[sig].mask &= ~UNBLOCKABLE;
        /* setting a disposition to ignore discards what is pending, blocked or not */
        if (ignored(current_process(), sig))
            flush(sig);
        host_signal_changed(current_process());
    }
    return 0;
}

/* ---- the alternate stack ---- */
static bool on_sig_stack(uint64_t sp)
{
    if (me()->altstack.flags & SS_AUTODISARM)
        return false;
    return sp > me()->altstack.sp && sp - me()->altstack.sp <= me()->altstack.size;
}

/* what sigaltstack reports as ss_flags for a stack pointer */
static int32_t sas_ss_flags(uint64_t sp)
{
    if (!me()->altstack.size)
        return SS_DISABLE;
    return on_sig_stack(sp) ? SS_ONSTACK : 0;
}

int signal_altstack(const struct linux_stack_t *ss, struct linux_stack_t *old, uint64_t sp)
{
    if (old) {
        old->sp = me()->altstack.sp;
        old->size = me()->altstack.size;
        old->flags = sas_ss_flags(sp) | (me()->altstack.flags & SS_AUTODISARM);
        old->pad = 0;
    }
    if (ss) {
        if (on_sig_stack(sp))
            return -EPERM;
        int32_t mode = ss->flags & ~SS_AUTODISARM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
            return -EINVAL;
        if (mode == SS_DISABLE) {
            me()->altstack = (struct linux_stack_t){.flags = ss->flags};
        } else {
            if (ss->size < MINSIGSTKSZ)
                return -ENOMEM;
            me()->altstack =
                (struct linux_stack_t){.sp = ss->sp, .flags = ss->flags, .size = ss->size};
        }
    }
    return 0;
}

/* ---- frames ---- */
uint64_t signal_frame_max(void)
{
    /* setup_frame: the extended state 64-byte aligned, the frame 16-byte aligned, less 8 */
    return fpu_frame_size() + 64 + sizeof(struct rt_sigframe) + 16;
}

static bool setup_frame(int sig, const struct linux_siginfo *info, const struct linux_sigaction *ka,
                        struct regs *r, uint64_t oldmask)
{
    if (!(ka->flags & SA_RESTORER))
        return false;           /* x86-64 Linux has no default return path either */
    uint64_t sp = r->rsp - 128; /* the red zone */
    bool nested = on_sig_stack(r->rsp), entering = false;
    if ((ka->flags & SA_ONSTACK) && sas_ss_flags(sp) == 0) {
        sp = me()->altstack.sp + me()->altstack.size;
        entering = true;
    }
    uint64_t fp = (sp - fpu_frame_size()) & ~63ull;
    sp = ((fp - sizeof(struct rt_sigframe)) & ~15ull) - 8;
    if ((nested || entering) &&
        !(sp > me()->altstack.sp && sp - me()->altstack.sp <= me()->altstack.size &&
          fp > me()->altstack.sp))
        return false;
    if (!user_range_ok(sp, fp + fpu_frame_size() - sp, PROT_READ | PROT_WRITE))
        return false;

    fpu_save_to_user(fp);
    struct rt_sigframe *f = (struct rt_sigframe *)sp;
    memset(f, 0, sizeof(*f));
    f->pretcode = ka->restorer;
    f->uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (fpu_xsave() ? UC_FP_XSTATE : 0);
    f->uc.uc_stack.sp = me()->altstack.sp;
    f->uc.uc_stack.flags = me()->altstack.flags;
    f->uc.uc_stack.size = me()->altstack.size;
    struct sigcontext64 *sc = &f->uc.uc_mcontext;
    sc->r8 = r->r8;
    sc->r9 = r->r9;
    sc->r10 = r->r10;
    sc->r11 = r->r11;
    sc->r12 = r->r12;
    sc->r13 = r->r13;
    sc->r14 = r->r14;
    sc->r15 = r->r15;
    sc->rdi = r->rdi;
    sc->rsi = r->rsi;
    sc->rbp = r->rbp;
    sc->rbx = r->rbx;
    sc->rdx = r->rdx;
    sc->rax = r->rax;
    sc->rcx = r->rcx;
    sc->rsp = r->rsp;
    sc->rip = r->rip;
    sc->eflags = r->rflags;
    sc->cs = ALC_SEL_UCODE;
    sc->ss = ALC_SEL_UDATA;
    sc->err = me()->err;
    sc->trapno = me()->trapno;
    sc->oldmask = oldmask;
    sc->cr2 = me()->cr2;
    sc->fpstate = fp;
    f->uc.uc_sigmask = oldmask;
    f->info = *info;
    if (me()->altstack.flags & SS_AUTODISARM)
        me()->altstack = (struct linux_stack_t){.flags = SS_DISABLE};

    r->rdi = (uint64_t)sig;
    r->rsi = sp + __builtin_offsetof(struct rt_sigframe, info);
    r->rdx = sp + __builtin_offsetof(struct rt_sigframe, uc);
    r->rax = 0;
    r->rsp = sp;
    r->rip = ka->handler;
    r->rflags &= ~(EFLAGS_DF | EFLAGS_RF | EFLAGS_TF);
    fpu_reset(); /* the handler starts with a clean FPU, as on Linux */
    return true;
}

long signal_return(struct regs *r)
{
    uint64_t sp = r->rsp - 8; /* the handler's ret popped pretcode */
    struct rt_sigframe f;
    if (copy_from_user(&f, sp, sizeof(f))) {
        die(SIGSEGV, r, "rt_sigreturn with no signal frame on the stack");
    }
    const struct sigcontext64 *sc = &f.uc.uc_mcontext;
    signal_set_blocked(f.uc.uc_sigmask);
    me()->restore_mask = false;
    r->r8 = sc->r8;
    r->r9 = sc->r9;
    r->r10 = sc->r10;
    r->r11 = sc->r11;
    r->r12 = sc->r12;
    r->r13 = sc->r13;
    r->r14 = sc->r14;
    r->r15 = sc->r15;
    r->rdi = sc->rdi;
    r->rsi = sc->rsi;
    r->rbp = sc->rbp;
    r->rbx = sc->rbx;
    r->rdx = sc->rdx;
    r->rax = sc->rax;
    r->rcx = sc->rcx;
    r->rsp = sc->rsp;
    r->rip = sc->rip;
    r->rflags = (r->rflags & ~FIX_EFLAGS) | (sc->eflags & FIX_EFLAGS);
    r->orig_rax = (uint64_t)-1; /* not a syscall any more: no restart */
    if (!fpu_restore_from_user(sc->fpstate))
        die(SIGSEGV, r, "rt_sigreturn with a bad FPU state pointer");
    /* the alternate stack as it was (refused, as on Linux, while still running on it) */
    struct linux_stack_t ss = f.uc.uc_stack;
    (void)signal_altstack(&ss, NULL, r->rsp);
    return (long)r->rax;
}

/* ---- delivery ---- */
static void restart(struct regs *r)
{
    /* as Linux: the same number in rax, back to the 2-byte syscall instruction. On a site
     * kernel/patch.c rewrote that is its 2-byte jmp to the stub (which takes the number from
     * rax), or the syscall after the mov that became a jmp (a trap, or a jmp once patched). */
    r->rax = r->orig_rax;
    r->rip -= 2;
}

void signal_deliver(struct regs *r)
{
    if (process_thread_must_leave())
        process_thread_leave(); /* exit_group, a fatal signal, execve: every other thread goes */
    jobctl_wait_stopped();      /* its process is stopped: until SIGCONT (or its end) */
    if (process_thread_must_leave())
        process_thread_leave();
    timer_run_due();
    bool syscall = (int64_t)r->orig_rax >= 0;
    for (;;) {
        struct linux_siginfo info;
        int sig = take(~me()->blocked, &info);
        if (!sig)
            break;
        struct linux_sigaction *ka = &sp()->actions[sig];
        if (ka->handler == SIG_IGN)
            continue;
        if (ka->handler == SIG_DFL) {
            if (SIGBIT(sig) & DEFAULT_STOP)
                jobctl_stop(sig); /* returns once continued */
            if (process_thread_must_leave())
                process_thread_leave(); /* SIGKILL while stopped */
            if (SIGBIT(sig) & (DEFAULT_IGNORE | DEFAULT_STOP))
                continue;
            char what[64];
            ksnprintf(what, sizeof(what), "signal %d (si_code %d), default action", sig,
                      info.si_code);
            process_kill_info(&info, r, NOVECTOR, 0, 0, what);
        }
        if (syscall) {
            long ret = (long)r->rax;
            if (ret == -ERESTARTNOHAND || ret == -ERESTART_RESTARTBLOCK)
                r->rax = (uint64_t)-EINTR;
            else if (ret == -ERESTARTSYS && (ka->flags & SA_RESTART))
                restart(r);
            else if (ret == -ERESTARTSYS)
                r->rax = (uint64_t)-EINTR;
            else if (ret == -ERESTARTNOINTR)
                restart(r);
            syscall = false;
        }
        uint64_t oldmask = me()->restore_mask ? me()->saved_mask : me()->blocked;
        struct linux_sigaction act = *ka;
        if (!setup_frame(sig, &info, &act, r, oldmask)) {
            /* Linux's force_sigsegv: SIGSEGV's own handler, if it can run, else death */
            if (sig == SIGSEGV || handler_of(current_process(), SIGSEGV) <= SIG_IGN ||
                (me()->blocked & SIGBIT(SIGSEGV)))
                die(SIGSEGV, r, "the signal frame does not fit on the stack");
            sp()->actions[SIGSEGV].handler = SIG_DFL;
            signal_raise(SIGSEGV);
            continue;
        }
        me()->restore_mask = false;
        uint64_t blocked = me()->blocked | act.mask;
        if (!(act.flags & SA_NODEFER))
            blocked |= SIGBIT(sig);
        signal_set_blocked(blocked);
        if (act.flags & SA_RESETHAND)
            ka->handler = SIG_DFL;
    }
    if (syscall && is_restart_code((long)r->rax))
        restart(r); /* no handler ran */
    if (me()->restore_mask) {
        me()->restore_mask = false;
        signal_set_blocked(me()->saved_mask);
    }
}

void signal_fault(struct regs *r, const struct linux_siginfo *info, uint32_t vector, uint64_t err,
                  uint64_t cr2, const char *what)
{
    int sig = info->si_signo;
    struct sigthread *st = me();
    st->trapno = vector;
    st->err = err;
    st->cr2 = cr2;
    if ((me()->blocked & SIGBIT(sig)) || handler_of(current_process(), sig) <= SIG_IGN) {
        /* blocked or ignored: Linux resets it to the default action, which ends the process */
        process_kill_info(info, r, vector, err, vector == 14 ? cr2 : 0, what);
    }
    st->std_info[sig] = *info; /* this fault's siginfo, even if one was pending */
    st->set |= SIGBIT(sig);
    signal_deliver(r);
}
