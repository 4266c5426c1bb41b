/* scheduler.h: threads and the scheduler (kernel/sched.c), the big kernel lock, and blocking.
 *
 * The application is one process with any number of threads; the enclave has cpu_count vCPUs.
 * Each thread has its own kernel stack, so a thread that blocks inside a syscall keeps its
 * kernel context while others run. One global run queue (FIFO, honouring affinity) feeds every
 * vCPU; a vCPU with nothing to run spins briefly, then idles in the monitor (ALC_HC_WAIT), and
 * a thread made ready while a vCPU sleeps wakes it (ALC_HC_WAKE).
 *
 * All kernel state is guarded by one lock, taken on every entry from the application (syscall,
 * exception, preemption) and released on the way back; a thread that blocks gives it up while
 * it waits. The application's own code runs on every vCPU in parallel; only kernel work is
 * serialized. (A finer design pays only where syscalls dominate; measure before splitting.)
 *
 * Preemption comes from the monitor (alcove_abi.h, "Preemption"): when a thread is ready and a
 * vCPU has run one thread for a whole slice, the monitor sets need_resched and, if the vCPU
 * was in the application, sends it to alc_entry_preempt.
 */
#ifndef ALCOVE_SCHEDULER_H
#define ALCOVE_SCHEDULER_H

#include "kernel.h"
#include "process.h"

#define SCHED_SLICE_NS    (4 * 1000 * 1000) /* the monitor's preemption slice */
#define THREAD_KSTACK     (32 * 1024)       /* each thread's kernel stack */
#define THREAD_TID_FIRST  1                 /* the main thread: tid == pid */
#define THREAD_HELD_FILES 16                /* files a syscall keeps alive (fs/fdtable.c) */
#define THREAD_WAIT_FILES 16                /* queues a wait is on (kernel/wait.c) */

enum thread_state { T_READY = 1, T_RUNNING, T_BLOCKED, T_DEAD };

/* A thread waiting on an object: one link of its wait queue (wait.h, kernel/wait.c). */
struct waitq;
struct wq_entry {
    struct thread *t;
    struct waitq *q; /* NULL once unlinked */
    struct wq_entry *next, **pprev;
};

struct sigthread; /* kernel/signal.c: the thread's mask, queue and alternate stack */
struct file;
struct process;

struct thread {
    int tid;
    struct process *proc; /* the process it belongs to (process.h) */
    enum thread_state state;
    bool idle;    /* a vCPU's idle context (never on the run queue) */
    int cpu;      /* the vCPU it runs on, or last ran on */
    uint64_t ksp; /* saved kernel stack pointer while switched out */
    void *kstack; /* THREAD_KSTACK bytes (NULL for an idle context: the CPU window's stack) */
    uint64_t kstack_top;
    uint64_t fs_base, gs_base;
    uint8_t *fpu; /* the extended state while switched out (XSAVE area, 64-byte aligned) */
    void *fpu_mem;
    struct regs *regs; /* the frame of the syscall or exception being handled */
    uint64_t affinity; /* vCPUs it may run on (bit i: vCPU i) */
    struct sigthread *sig;
    /* blocking (sched_block) */
    struct thread *next;      /* run queue or a wait queue */
    struct thread *all_next;  /* every live thread */
    struct thread *proc_next; /* its process's live threads */
    int64_t deadline;         /* CLOCK_MONOTONIC ns, or WAIT_FOREVER */
    uint32_t wait_events;     /* ALC_EV_* that wake it */
    bool interruptible;       /* a signal for it wakes it */
    bool waiting;             /* on the blocked list */
    int wake_reason;          /* what ended sched_block */
    /* the wait queues its wait_until is on (kernel/wait.c) */
    struct wq_entry wq[THREAD_WAIT_FILES];
    unsigned nwq;
    bool wq_collecting; /* a ready function is being asked: wait_on queues */
    bool wq_broad;      /* it depends on something without a queue: wake it after every syscall */
    bool wq_quiet;      /* it depends on nothing another syscall changes (wait_quiet) */
    /* futexes (sys/futex.c) */
    uint64_t futex_addr;
    uint64_t futex_key; /* the word's frame when it is MAP_SHARED memory, else 0 (sys/futex.c) */
    uint32_t futex_bitset;
    struct thread *futex_next;
    bool on_futex;
    /* thread life (sys/thread.c) */
    uint64_t clear_child_tid;
    uint64_t robust_list, robust_len;
    int exit_code;
    char comm[16];
    /* files the current syscall keeps alive (fs/fdtable.c) */
    struct file *held[THREAD_HELD_FILES];
    unsigned nheld;
    /* accounting */
    uint64_t cpu_ns, run_start_ns;
    uint64_t nvcsw, nivcsw;
};

/* The thread running on this vCPU. */
struct thread *current(void);

/* ---- the big kernel lock ---- */
void kernel_lock(void);
void kernel_unlock(void);
/* Entries from the application take the lock with kernel_enter and give it back with
 * kernel_leave, which also tell the monitor whether this vCPU runs the kernel (in_kernel: it
 * is then not stopped for preemption, see alcove_abi.h). */
void mmu_tlb_check(void); /* mmu.h */
/* Entries into the kernel, per vCPU (only that vCPU writes its own): when a vCPU's count has
 * moved, whatever application code it ran before has been left for the kernel
 * (kernel/patch.c waits for that before it rewrites code other vCPUs may be running). */
extern uint32_t g_kernel_entries[ALC_MAX_CPUS];
static inline void kernel_enter(void)
{
    __atomic_store_n(&this_cpu->area.in_kernel, 1, __ATOMIC_RELAXED);
    uint32_t *n = &g_kernel_entries[this_cpu->area.cpu_index];
    __atomic_store_n(n, *n + 1, __ATOMIC_RELEASE);
    kernel_lock();
    mmu_tlb_check();
}
static inline void kernel_leave(void)
{
    kernel_unlock();
    __atomic_store_n(&this_cpu->area.in_kernel, 0, __ATOMIC_RELEASE);
}

/* ---- life ---- */
/* The scheduler's state and this vCPU's idle context (the bootstrap vCPU, at boot). */
void sched_init(void);
/* Makes a thread of process p with its kernel stack, extended state and signal state; NULL when
 * memory runs out (the caller's EAGAIN). r is the frame it starts from (copied to its stack). */
struct thread *thread_create(struct process *p, const struct regs *r);
/* Frees a thread made by thread_create that never ran. */
void thread_discard(struct thread *t);
/* Puts a new thread on the run queue. */
void thread_start(struct thread *t);
/* The calling thread ends (its resources are freed once another context runs). */
NORETURN void thread_exit_current(void);
/* An application processor: waits for the first wake-up, then runs sched_idle_loop. */
NORETURN void sched_ap_start(void);
/* Runs the scheduler on this vCPU forever: the idle context (kernel_main, kernel_ap_main). */
NORETURN void sched_idle_loop(void);
/* The enclave's vCPUs as an affinity mask (bit i: vCPU i). */
uint64_t sched_online_mask(void);
/* The thread with this tid (in any process), or NULL. */
struct thread *thread_find(int tid);
/* Live threads of the current process. */
unsigned thread_count(void);
/* Visits every live thread of process p. */
#define for_each_thread_of(p, t) for (struct thread *t = (p)->threads; t; t = t->proc_next)
/* Visits every live thread of the current process. */
#define for_each_thread(t) for_each_thread_of(current_process(), t)

/* ---- blocking ---- */
enum { WAKE_NONE = 0, WAKE_WOKEN, WAKE_TIMEOUT, WAKE_EVENT, WAKE_SIGNAL };
/* Blocks the current thread (the lock held; it is released while waiting) until sched_wake,
 * the CLOCK_MONOTONIC deadline (WAIT_FOREVER: none), one of the monitor events, or, when
 * interruptible, a signal sent to it (signal_wake). Returns the WAKE_* reason. */
int sched_block(uint32_t events, int64_t deadline, bool interruptible);
/* Makes a blocked thread ready (no effect on one that is not blocked). */
void sched_wake(struct thread *t);
/* Wakes the blocked threads that wait for any of the monitor events in events, as if their
 * bits had been seen set: for a thread that consumed an event (cleared its bit and did the
 * work) on behalf of the others (virtio_event_consumed). */
void sched_wake_events(uint32_t events);
/* Wakes t if it is blocked interruptibly (a signal arrived for it), or makes it enter the
 * kernel if it runs the application on another vCPU (sched_kick). */
void sched_signal_wake(struct thread *t);
/* t runs on another vCPU: the monitor preempts that vCPU at its next slice (alcove_abi.h,
 * shared.kick), so t enters the kernel and sees what changed for it (a signal, its process
 * stopping or ending). Nothing for a thread that is not running. */
void sched_kick(const struct thread *t);
/* Gives the vCPU to another ready thread, if any (sched_yield). */
void sched_yield_current(void);
/* Moves the caller to another vCPU its affinity allows (it may no longer run here). */
void sched_move_current(void);
/* On the way back to the application: runs when the monitor asked (need_resched). */
void sched_return_check(void);
/* Back to the application after an exception or a preemption the kernel handled (a first touch
 * of a page, the patcher's int3, the monitor's slice): another thread may run first, pending
 * signals are delivered, a thread at a covered syscall moves into its stub, and the kernel is
 * left. Runs on the thread's kernel stack, with the kernel entered. */
void sched_resume(struct regs *r);
/* An interval timer was armed (sys/time.c): from now on the monitor preempts a vCPU that keeps
 * computing past the next timer's expiry, so that its signal comes to a program that makes no
 * syscalls, as Linux's timer interrupt brings it. */
void sched_timers_changed(void);

/* Logs the scheduler's counters (--log-level debug; at the process's end). */
void sched_log_stats(void);

/* ---- CPU time ---- */
/* CPU time of the current process (all its threads, ended ones too) and of thread t, ns. */
int64_t sched_process_cpu_ns(void);
int64_t sched_thread_cpu_ns(const struct thread *t);
/* Voluntary context switches of the current process (getrusage). */
uint64_t sched_voluntary_switches(void);

/* True when rip is in the patched syscall sites' stubs (kernel/patch.c). */
bool patch_stub_contains(uint64_t rip);
/* On the way back to the application (every kernel entry calls it last): a rip that is the
 * address of a syscall the patcher covers with the instruction before it (kernel/patch.c, way
 * 3) moves into that site's stub, past its copy of the instruction. A restart, rt_sigreturn or
 * a preemption may have left it there. */
void patch_fix_resume(struct regs *r);
/* A breakpoint (#BP) at r->rip - 1: true when it is the int3 the patcher put at a way-3 site
 * while it waits for the other vCPUs (r->rip is then that site's stub), false for the
 * program's own. */
bool patch_breakpoint(struct regs *r);

#include "fpu.h" /* the extended (FPU/SSE/AVX) state */

#endif
