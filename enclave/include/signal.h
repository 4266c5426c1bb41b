/* signal.h: signals within the one process (the syscalls in sys/signal.c, pending sets, frames and
 * delivery in kernel/signal.c), and the interval timers (sys/time.c).
 *
 * The dispositions and the process's pending queue are shared by the threads; each thread has
 * its own mask, pending queue and alternate stack. A signal becomes pending with
 * signal_raise/signal_send and is delivered on the next return to the application: at the end of
 * every syscall (trap path and patched fast path alike, sys/dispatch.c) and after a hardware
 * exception (kernel/exception.c). Delivery builds a Linux x86-64 rt_sigframe on the application's
 * stack (or its sigaltstack): the return address (the libc's SA_RESTORER), a ucontext (flags, link,
 * stack, the general registers as struct sigcontext, the saved signal mask) and the siginfo, with
 * the FPU/SSE/AVX state (XSAVE standard format, or FXSAVE) 64-byte aligned above it; rt_sigreturn
 * restores all of it, every general register included.
 *
 * A process-directed signal goes to a thread that does not block it (woken if it waits); a
 * thread computing without syscalls sees a signal at its next syscall, exception or preemption
 * (the monitor preempts only when another thread is ready or a sleeper is due).
 *
 * ---- How a syscall interrupted by a signal says whether it restarts ----
 * A handler that blocks calls wait_until (wait.h), which returns -EINTR when a signal the
 * application has not blocked is pending. The handler then returns one of:
 *   -EINTR                  never restart (nanosleep, clock_nanosleep, sigtimedwait, ...)
 *   -ERESTARTSYS            restart when the signal's handler has SA_RESTART, else EINTR; also
 *                           restart when no handler runs (the signal was ignored): read/write
 *                           of pipes and terminals, wait4, blocking open, flock, ...
 *   -ERESTARTNOINTR         always restart (the application never sees EINTR)
 *   -ERESTARTNOHAND         EINTR when a handler runs, restart otherwise: pause, rt_sigsuspend,
 *                           poll, select, epoll_wait (as Linux, never restarted after a handler)
 *   -ERESTART_RESTARTBLOCK  treated as -ERESTARTNOHAND
 * signal_deliver turns these into -EINTR or into a restart (the same syscall, same arguments,
 * executed again from the same instruction), so the application never sees the codes. A
 * syscall that restarts must be able to run again from the start with the same arguments: for a
 * timeout relative to "now" that means the whole timeout again (poll on Linux does the same
 * unless it uses a restart block).
 */
#ifndef ALCOVE_SIGNAL_H
#define ALCOVE_SIGNAL_H

#include "kernel.h"

struct process;

#ifndef ERESTARTNOINTR
#define ERESTARTNOINTR 513
#endif
#ifndef ERESTARTNOHAND
#define ERESTARTNOHAND 514
#endif
#ifndef ERESTART_RESTARTBLOCK
#define ERESTART_RESTARTBLOCK 516
#endif
/* true for the kernel-internal restart codes above (and ERESTARTSYS) */
static inline bool is_restart_code(long ret)
{
    return ret <= -ERESTARTSYS && ret >= -ERESTART_RESTARTBLOCK;
}

/* Signal numbers linux_abi.h does not have (Linux x86-64 values). */
#ifndef SIGUSR1
#define SIGUSR1 10
#endif
#ifndef SIGUSR2
#define SIGUSR2 12
#endif
#ifndef SIGSTKFLT
#define SIGSTKFLT 16
#endif
#ifndef SIGCHLD
#define SIGCHLD 17
#endif
#ifndef SIGCONT
#define SIGCONT 18
#endif
#ifndef SIGTSTP
#define SIGTSTP 20
#endif
#ifndef SIGTTIN
#define SIGTTIN 21
#endif
#ifndef SIGTTOU
#define SIGTTOU 22
#endif
#ifndef SIGURG
#define SIGURG 23
#endif
#ifndef SIGXCPU
#define SIGXCPU 24
#endif
#ifndef SIGXFSZ
#define SIGXFSZ 25
#endif
#ifndef SIGVTALRM
#define SIGVTALRM 26
#endif
#ifndef SIGPROF
#define SIGPROF 27
#endif
#ifndef SIGWINCH
#define SIGWINCH 28
#endif
#ifndef SIGIO
#define SIGIO 29
#endif
#ifndef SIGPWR
#define SIGPWR 30
#endif
#define SIGRTMIN_KERNEL 32 /* the first real-time signal (libcs keep 32..34 for themselves) */

#define SIGBIT(sig) (1ull << ((sig)-1))

/* sigaction */
#define SIG_DFL           0ull
#define SIG_IGN           1ull
#define SA_NOCLDSTOP      0x00000001ull
#define SA_NOCLDWAIT      0x00000002ull
#define SA_SIGINFO        0x00000004ull
#define SA_UNSUPPORTED    0x00000400ull
#define SA_EXPOSE_TAGBITS 0x00000800ull
#define SA_RESTORER       0x04000000ull
#define SA_ONSTACK        0x08000000ull
#define SA_RESTART        0x10000000ull
#define SA_NODEFER        0x40000000ull
#define SA_RESETHAND      0x80000000ull
#define SS_AUTODISARM     ((int32_t)0x80000000)

/* siginfo codes */
#define SI_USER       0
#define SI_KERNEL     0x80
#define SI_QUEUE      (-1)
#define SI_TIMER      (-2)
#define SI_TKILL      (-6)
#define ILL_ILLOPN    2
#define FPE_INTDIV    1
#define FPE_INTOVF    2
#define FPE_FLTDIV    3
#define FPE_FLTOVF    4
#define FPE_FLTUND    5
#define FPE_FLTRES    6
#define FPE_FLTINV    7
#define SEGV_MAPERR   1
#define SEGV_ACCERR   2
#define BUS_ADRALN    1
#define BUS_ADRERR    2 /* past the end of a mapped file */
#define TRAP_BRKPT    1
#define TRAP_TRACE    2
#define CLD_EXITED    1
#define CLD_KILLED    2
#define CLD_DUMPED    3
#define CLD_STOPPED   5
#define CLD_CONTINUED 6

/* Linux's siginfo_t (128 bytes); the union starts at offset 16. */
struct linux_siginfo {
    int32_t si_signo, si_errno, si_code, pad0;
    union {
        struct {
            int32_t pid;
            uint32_t uid;
            uint64_t value; /* sigval, for SI_QUEUE */
        } kill;
        struct {
            int32_t tid, overrun;
            uint64_t value;
        } timer;
        struct {
            uint64_t addr;
        } fault;
        struct {
            int32_t pid;
            uint32_t uid;
            int32_t status, pad;
            int64_t utime, stime; /* clock ticks */
        } child;
        uint8_t raw[112];
    };
};
_Static_assert(sizeof(struct linux_siginfo) == 128, "siginfo_t");

/* ---- sending ---- */
/* Makes sig pending for the calling thread, from the kernel (si_code SI_KERNEL), as Linux sends
 * SIGPIPE for a pipe with no reader or SIGXFSZ. */
void signal_raise(int sig);
/* The same for the whole process (timers: SIGALRM, SIGVTALRM, SIGPROF). */
void signal_raise_process(int sig);
/* Makes sig pending with this siginfo (kill and sigqueue: to_thread false; tkill, tgkill,
 * rt_tgsigqueueinfo: true). As on Linux the thread's and the process's pending sets are
 * separate (a standard signal may be pending once in each), and a signal the process ignores
 * is discarded unless blocked; SIGKILL ends the process at once. 0, or -EAGAIN when the queue
 * of real-time signals is full. */
int signal_send(int sig, const struct linux_siginfo *info, bool to_thread);
/* The same to a given thread (tgkill), or to the process (target NULL). */
struct thread;
int signal_send_to(int sig, const struct linux_siginfo *info, struct thread *target);
/* The same to process p (kill to another process), on thread target's queue or p's (NULL).
 * SIGKILL ends p (process_end). */
int signal_send_proc(struct process *p, int sig, const struct linux_siginfo *info,
                     struct thread *target);
/* A thread's signal state: made with the creator's mask, freed at its end. 0 or -ENOMEM. */
int signal_thread_init(struct thread *t);
/* Gives process p its signal state: default dispositions, nothing pending. */
void signal_process_init(struct process *p);
/* A child's (fork): the parent's dispositions, nothing pending. 0 or -ENOMEM. */
int signal_process_fork(const struct process *parent, struct process *child);
void signal_process_free(struct process *p);
/* Handlers back to the default, ignored signals stay ignored (CLONE_CLEAR_SIGHAND). */
void signal_reset_handlers(struct process *p);
/* execve: handlers back to the default (ignored signals stay ignored), no alternate stack. */
void signal_exec(void);
/* True when p has a handler for sig (not the default action, not ignored). */
bool signal_has_handler(struct process *p, int sig);
/* The signals (SIGBIT) p does not leave to their default action (a handler, or ignored) or
 * that every one of its threads holds blocked (sigwait, signalfd): what the host forwards
 * (host_signal.c). One pass over p's threads. */
uint64_t signal_wanted_set(struct process *p);
/* A fork's child thread gets the calling thread's alternate signal stack. */
void signal_fork_thread(struct thread *child);
/* True when p asked not to hear of its children stopping and continuing (SA_NOCLDSTOP). */
bool signal_child_stop_quiet(const struct process *p);
/* True when p's children are reaped as they end (SIGCHLD ignored, or SA_NOCLDWAIT). */
bool signal_child_ignored(const struct process *p);
void signal_thread_free(struct thread *t);

/* ---- the host's signals (kernel/host_signal.c; alcove_abi.h, "Host signals") ---- */
/* Republishes shared.caught when p is the first process: its dispositions or masks changed. */
void host_signal_changed(struct process *p);
/* Sends pid 1 the signals the monitor forwarded (sched_poll, on ALC_EV_SIGNAL). */
void host_signal_take(void);
/* True when a signal is pending that the application has not blocked: blocking syscalls stop
 * (see the restart codes above). */
bool signal_pending(void);

/* ---- delivery ---- */
/* Runs on every return to the application (sys/dispatch.c, kernel/exception.c): raises due
 * timers, resolves a syscall's restart code, delivers pending unblocked signals by building
 * their frames on the user stack, or ends the process with the default action. */
void signal_deliver(struct regs *r);
/* True when signal_deliver has work to do after a syscall that returned ret (cheap). */
bool signal_work(long ret);
/* A hardware exception in the application (kernel/exception.c): delivers sig with this siginfo
 * to its handler when one is installed and the signal is neither blocked nor ignored (like
 * Linux's force_sig: otherwise the default action, which ends the process with the report
 * vector/error/addr/what). trapno, err and cr2 go into the frame's sigcontext. Returns only when
 * a handler will run. */
void signal_fault(struct regs *r, const struct linux_siginfo *info, uint32_t vector, uint64_t err,
                  uint64_t cr2, const char *what);
/* rt_sigreturn: restores the registers, the mask, the FPU state and the alternate stack from
 * the frame at r->rsp - 8; returns the restored rax. A bad frame ends the process (SIGSEGV). */
long signal_return(struct regs *r);

/* ---- state for the syscalls (sys/signal.c) ---- */
/* rt_sigaction without the user copies: sig is checked here (-EINVAL). */
int signal_action(int sig, const struct linux_sigaction *act, struct linux_sigaction *old);
uint64_t signal_blocked(void);
/* Sets the mask (SIGKILL and SIGSTOP stay unblocked). */
void signal_set_blocked(uint64_t mask);
/* Sets mask until the next delivery (rt_sigsuspend): the frame of the handler that runs then
 * saves the old mask, or the old mask comes back at once when no handler runs. */
void signal_set_temporary_mask(uint64_t mask);
/* rt_sigtimedwait: the signals of set are unblocked while the thread waits for them, and until
 * signal_wait_end restores the mask they still count as blocked for the rule that a blocked
 * signal is never discarded as ignored (Linux's real_blocked): a SIGCHLD waited for arrives. */
void signal_wait_begin(uint64_t set);
void signal_wait_end(void);
uint64_t signal_pending_set(void);
/* The same less the process signals another thread was picked for (it takes them, not this one). */
uint64_t signal_takeable_set(void);
/* True when a process-directed signal is pending (some thread will take it). */
bool signal_process_pending(void);
/* Takes the first pending signal in set off its queue (0 if none), in delivery order. */
int signal_dequeue(uint64_t set, struct linux_siginfo *info);
/* sigaltstack: ss NULL to query; sp is the application's stack pointer. 0 or -errno. */
int signal_altstack(const struct linux_stack_t *ss, struct linux_stack_t *old, uint64_t sp);

/* The most stack a signal's delivery takes on an alternate stack (AT_MINSIGSTKSZ): the frame,
 * the extended state and their alignment. */
uint64_t signal_frame_max(void);

/* ---- timers (alarm, setitimer; sys/time.c) ---- */
/* The CLOCK_MONOTONIC time of the next real-time timer expiry (ITIMER_REAL: what an idle vCPU
 * waits for), or WAIT_FOREVER. */
int64_t timer_next_deadline(void);
/* The soonest a CPU-time timer (ITIMER_VIRTUAL, ITIMER_PROF) of a process running now could
 * expire, on CLOCK_MONOTONIC, or WAIT_FOREVER: only the vCPU running it can raise its signal,
 * so this is for the monitor's preemption (shared.wake_at), never an idle vCPU's deadline. */
int64_t timer_next_cpu_deadline(void);
/* The same for process p alone (its thread starts running on a vCPU: kernel/sched.c). */
struct process;
int64_t timer_cpu_deadline(struct process *p);
/* Raises the signals of timers that have expired (and rearms interval timers). */
void timer_run_due(void);
/* The process's CPU time in ns: time since boot less the time its vCPU idled (wait.c). */
int64_t time_cpu_ns(void);

bool timers_armed(void); /* sys/time.c: the current process has a timer armed */

#endif
