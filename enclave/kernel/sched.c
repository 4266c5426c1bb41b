/* sched.c: threads on vCPUs (see sched.h): the big kernel lock, the run queue, context
 * switches, blocking and waking, the idle loop, and preemption on the monitor's request. */
#include "scheduler.h"

#include "console.h"
#include "klib.h"
#include "mm.h"
#include "signal.h"
#include "vdso.h"
#include "wait.h"

/* How long an idle vCPU spins, watching the run queue and the monitor's events, before it
 * idles in the monitor. Sleeping costs two exits (~50 us each on our KVM) and waking a sleeping
 * vCPU one more on the waker's side, so a thread that becomes ready within this time (a futex
 * ping-pong, a condition variable hand-off) is picked up without any. */
#define IDLE_SPIN_NS 50000

extern uint64_t alc_switch(uint64_t *save_ksp, uint64_t next_ksp, uint64_t prev);
extern char alc_thread_entry[];

/* ---- the big kernel lock: a ticket lock ---- */
static volatile uint32_t g_lock_next, g_lock_serving;

static int g_next_tid = THREAD_TID_FIRST;

uint32_t g_kernel_entries[ALC_MAX_CPUS];

/* counters for --log-level debug (sched_log_stats) */
static struct {
    uint64_t lock_waits, lock_wait_ticks, wakes_sent, sleeps, spins_won, switches, preempts;
} g_stats;

void kernel_lock(void)
{
    uint32_t me = __atomic_fetch_add(&g_lock_next, 1, __ATOMIC_RELAXED);
    if (__atomic_load_n(&g_lock_serving, __ATOMIC_ACQUIRE) == me)
        return;
    uint64_t t0 = rdtsc();
    while (__atomic_load_n(&g_lock_serving, __ATOMIC_ACQUIRE) != me)
        __asm__ volatile("pause");
    g_stats.lock_waits++;
    g_stats.lock_wait_ticks += rdtsc() - t0; /* converted to us when logged */
}

void sched_log_stats(void)
{
    uint64_t hz = g_boot->tsc_hz ? g_boot->tsc_hz : 1;
    klog(ALC_LOG_DEBUG,
         "scheduler: %lu threads made, %lu switches, %lu preemptions; lock: %lu waits, %lu us "
         "waiting; idle: %lu sleeps in the monitor, %lu spins that found work, %lu wake-ups sent",
         (uint64_t)(g_next_tid - THREAD_TID_FIRST), g_stats.switches, g_stats.preempts,
         g_stats.lock_waits, g_stats.lock_wait_ticks * 1000000 / hz, g_stats.sleeps,
         g_stats.spins_won, g_stats.wakes_sent);
}

/* vCPUs to wake (ALC_HC_WAKE) once the lock is released: a hypercall is an exit of tens of
 * microseconds, and the other vCPUs would spin on the lock all that time */
static uint64_t g_wake_pending;

void kernel_unlock(void)
{
    uint64_t wake = g_wake_pending;
    g_wake_pending = 0;
    __atomic_store_n(&g_lock_serving, g_lock_serving + 1, __ATOMIC_RELEASE);
    while (wake) {
        unsigned cpu = (unsigned)__builtin_ctzll(wake);
        wake &= wake - 1;
        hypercall(ALC_HC_WAKE, cpu);
    }
}

/* ---- state ---- */
enum cpu_state { CPU_OFF = 0, CPU_BUSY, CPU_SPINNING, CPU_SLEEPING };

static struct {
    volatile int state; /* enum cpu_state */
    struct thread *idle;
} g_cpu[ALC_MAX_CPUS];

static struct thread *g_rq_head, *g_rq_tail; /* ready threads, FIFO */
static volatile uint32_t g_nready;
static struct thread *g_waitlist; /* blocked threads with a deadline or events */
static struct thread *g_threads;  /* every live thread */
static unsigned g_nthreads;       /* of every process */
static bool g_preemption_on;
static volatile bool g_sched_ready;
static struct alc_shared *g_shared;

static unsigned my_cpu(void)
{
    return (unsigned)this_cpu->area.cpu_index;
}

struct thread *current(void)
{
    return this_cpu->cur;
}

unsigned thread_count(void)
{
    return current_process()->nthreads;
}

struct thread *thread_find(int tid)
{
    for (struct thread *t = g_threads; t; t = t->all_next)
        if (t->tid == tid)
            return t;
    return NULL;
}

uint64_t sched_online_mask(void)
{
    return g_boot->cpu_count >= 64 ? ~0ull : (1ull << g_boot->cpu_count) - 1;
}

/* ---- the run queue ---- */
static void publish_ready(void)
{
    __atomic_store_n(&g_shared->ready, g_nready, __ATOMIC_RELEASE);
}

/* Wakes a vCPU that can run t, unless one is already looking (spinning). */
static void kick_cpu_for(const struct thread *t)
{
    unsigned me = my_cpu();
    /* an idle vCPU (boot, a timeout, an event) runs the first ready thread itself */
    if (current()->idle && g_nready <= 1 && (t->affinity & (1ull << me)))
        return;
    for (unsigned i = 0; i < g_boot->cpu_count; i++) {
        if (i != me && (t->affinity & (1ull << i)) && g_cpu[i].state == CPU_SPINNING) {
            g_cpu[i].state = CPU_BUSY; /* claimed: the next ready thread needs another vCPU */
            return;
        }
    }
    for (unsigned i = 0; i < g_boot->cpu_count; i++) {
        if (i != me && (t->affinity & (1ull << i)) && g_cpu[i].state == CPU_SLEEPING) {
            g_cpu[i].state = CPU_BUSY; /* one wake-up is enough */
            g_stats.wakes_sent++;
            g_wake_pending |= 1ull << i; /* sent by kernel_unlock */
            return;
        }
    }
}

static void make_ready(struct thread *t)
{
    t->state = T_READY;
    t->next = NULL;
    if (g_rq_tail)
        g_rq_tail->next = t;
    else
        g_rq_head = t;
    g_rq_tail = t;
    __atomic_store_n(&g_nready, g_nready + 1, __ATOMIC_SEQ_CST);
    publish_ready();
    kick_cpu_for(t);
}

/* The first ready thread that may run on this vCPU, taken off the queue. */
static struct thread *rq_take(void)
{
    uint64_t bit = 1ull << my_cpu();
    struct thread *prev = NULL;
    for (struct thread *t = g_rq_head; t; prev = t, t = t->next) {
        if (!(t->affinity & bit))
            continue;
        if (prev)
            prev->next = t->next;
        else
            g_rq_head = t->next;
        if (g_rq_tail == t)
            g_rq_tail = prev;
        t->next = NULL;
        __atomic_store_n(&g_nready, g_nready - 1, __ATOMIC_SEQ_CST);
        publish_ready();
        return t;
    }
    return NULL;
}

static bool rq_has_work(void)
{
    uint64_t bit = 1ull << my_cpu();
    for (struct thread *t = g_rq_head; t; t = t->next)
        if (t->affinity & bit)
            return true;
    return false;
}

/* ---- the wait list (deadlines and monitor events) ---- */
static void waitlist_remove(struct thread *t)
{
    if (!t->waiting)
        return;
    for (struct thread **p = &g_waitlist; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->next = NULL;
    t->waiting = false;
}

static void wake_with(struct thread *t, int reason)
{
    if (t->state != T_BLOCKED)
        return;
    waitlist_remove(t);
    if (t->wake_reason == WAKE_NONE)
        t->wake_reason = reason;
    make_ready(t);
}

/* Wakes the blocked threads whose deadline passed or whose events are set; publishes the
 * earliest deadline and the events still waited for (for the monitor's preemption and for
 * this vCPU's idle wait). */
static void sched_poll(int64_t *until_out, uint32_t *events_out)
{
    timer_run_due();
    int64_t now = time_monotonic_ns();
    uint32_t ev = shared_events();
    if (ev & ALC_EV_SIGNAL) {
        host_signal_take(); /* may wake threads: before the wait list is walked */
        ev &= ~ALC_EV_SIGNAL;
    }
    uint32_t tty = console_tty_events();
    if (ev & tty) {
        console_tty_event(ev & tty); /* the host typed (a ^C too) or resized its terminal */
        ev &= ~tty;
    }
    int64_t until = timer_next_deadline();
    /* an idle vCPU wakes for the host's signals too, and for the console terminal's input */
    uint32_t want = ALC_EV_SIGNAL | tty;
    struct thread *t = g_waitlist;
    while (t) {
        struct thread *n = t->next;
        if (t->deadline != WAIT_FOREVER && t->deadline <= now)
            wake_with(t, WAKE_TIMEOUT);
        else if (t->wait_events & ev)
            wake_with(t, WAKE_EVENT);
        else {
            want |= t->wait_events;
            if (t->deadline != WAIT_FOREVER && (until == WAIT_FOREVER || t->deadline < until))
                until = t->deadline;
        }
        t = n;
    }
    __atomic_store_n(&g_shared->wait_events, want, __ATOMIC_RELEASE);
    /* the monitor preempts for CPU-time timers too; an idle vCPU does not wait for them */
    int64_t at = until, cpu = timer_next_cpu_deadline();
    if (cpu != WAIT_FOREVER && (at == WAIT_FOREVER || cpu < at))
        at = cpu;
    __atomic_store_n(&g_shared->wake_at, at == WAIT_FOREVER ? INT64_MAX : at, __ATOMIC_RELEASE);
    if (until_out)
        *until_out = until;
    if (events_out)
        *events_out = want;
}

/* ---- context switches ---- */
static void account_out(struct thread *t, uint64_t now)
{
    if (!t->idle && t->run_start_ns)
        t->cpu_ns += now - t->run_start_ns;
}

static void free_thread(struct thread *t)
{
    t->proc->dead_cpu_ns += t->cpu_ns;
    t->proc->dead_nvcsw += t->nvcsw;
    kfree(t->kstack);
    kfree(t->fpu_mem);
    signal_thread_free(t);
    process_thread_gone(t->proc);
    kfree(t);
}

/* After a switch, on the new context's stack: what the previous one could not do itself. */
static void finish_switch(struct thread *prev)
{
    if (prev && prev->state == T_DEAD)
        free_thread(prev);
}

/* next runs from now on: if its process has a CPU-time timer armed, the monitor must preempt it
 * when that could expire (sched_poll leaves such timers out while none of its threads runs). */
static void publish_cpu_timer(struct thread *next)
{
    int64_t at = timer_cpu_deadline(next->proc);
    if (at != WAIT_FOREVER && at < __atomic_load_n(&g_shared->wake_at, __ATOMIC_ACQUIRE))
        __atomic_store_n(&g_shared->wake_at, at, __ATOMIC_RELEASE);
}

static void switch_to(struct thread *prev, struct thread *next)
{
    uint64_t now = time_since_boot_ns();
    account_out(prev, now);
    if (!prev->idle && prev->state != T_DEAD) {
        __asm__ volatile("rdfsbase %0" : "=r"(prev->fs_base));
        __asm__ volatile("rdgsbase %0" : "=r"(prev->gs_base));
        fpu_save(prev->fpu);
    }
    next->state = T_RUNNING;
    next->cpu = (int)my_cpu();
    next->run_start_ns = now;
    if (next->idle)
        mmu_idle();
    else {
        if (mmu_activate(&next->proc->mm->mmu))
            kpanic("out of kernel memory for vCPU %u's page tables", my_cpu());
        __asm__ volatile("wrfsbase %0" : : "r"(next->fs_base));
        __asm__ volatile("wrgsbase %0" : : "r"(next->gs_base));
        fpu_restore(next->fpu);
        publish_cpu_timer(next);
        this_cpu->area.kstack_top = next->kstack_top;
        this_cpu->area.syscall_frame[3] = next->kstack_top;
    }
    this_cpu->cur = next;
    this_cpu->area.switches++;
    g_stats.switches++;
    struct thread *was = (struct thread *)alc_switch(&prev->ksp, next->ksp, (uint64_t)prev);
    finish_switch(was);
}

/* Runs the next ready thread, or this vCPU's idle context; the caller has set the current
 * thread's state (and queued it if it stays ready). */
static void schedule(void)
{
    struct thread *cur = current();
    /* threads that hand the vCPU straight to each other never pass through the idle loop: a due
     * sleeper or an awaited event is looked at here too (one clock read when nothing is due) */
    if (time_monotonic_ns() >= g_shared->wake_at || (shared_events() & g_shared->wait_events)) {
        sched_poll(NULL, NULL);
        /* what that sent (a timer's signal, the host's) may be for this very thread on its way
         * to sleep, which signal_send_proc does not wake (it is the current one) */
        if (cur->state == T_BLOCKED && cur->interruptible && signal_pending())
            wake_with(cur, WAKE_SIGNAL);
    }
    struct thread *next = rq_take();
    if (!next)
        next = g_cpu[my_cpu()].idle;
    if (next == cur) {
        cur->state = T_RUNNING;
        return;
    }
    switch_to(cur, next);
}

/* A new thread's first run: alc_switch "returns" into alc_thread_entry (entry.S), which calls
 * this with the context it switched from and the frame at the top of the new kernel stack. */
NORETURN void thread_first_run(struct thread *prev, struct regs *r)
{
    finish_switch(prev);
    sched_return_check();
    current()->regs = r;
    if (signal_work(0))
        signal_deliver(r); /* killed or stopped before it ever ran */
    kernel_leave();
    alc_return_to_user(r);
}

/* ---- blocking ---- */
int sched_block(uint32_t events, int64_t deadline, bool interruptible)
{
    struct thread *t = current();
    t->wake_reason = WAKE_NONE;
    if (interruptible && signal_pending())
        return WAKE_SIGNAL;
    if (deadline != WAIT_FOREVER && deadline <= time_monotonic_ns())
        return WAKE_TIMEOUT;
    t->state = T_BLOCKED;
    t->deadline = deadline;
    t->wait_events = events;
    t->interruptible = interruptible;
    if (deadline != WAIT_FOREVER || events) {
        t->next = g_waitlist;
        g_waitlist = t;
        t->waiting = true;
        /* what the monitor looks at to preempt a vCPU for it (sched_poll recomputes both) */
        if (deadline != WAIT_FOREVER && deadline < g_shared->wake_at)
            __atomic_store_n(&g_shared->wake_at, deadline, __ATOMIC_RELEASE);
        __atomic_fetch_or(&g_shared->wait_events, events, __ATOMIC_RELEASE);
    }
    t->nvcsw++;
    schedule();
    waitlist_remove(t);
    return t->wake_reason;
}

void sched_wake(struct thread *t)
{
    wake_with(t, WAKE_WOKEN);
}

void sched_wake_events(uint32_t events)
{
    struct thread *t = g_waitlist;
    while (t) {
        struct thread *n = t->next;
        if (t->wait_events & events)
            wake_with(t, WAKE_EVENT);
        t = n;
    }
}

void sched_kick(const struct thread *t)
{
    if (t->state == T_RUNNING && t != current())
        __atomic_fetch_add(&g_shared->kick, 1, __ATOMIC_RELEASE);
}

void sched_signal_wake(struct thread *t)
{
    if (t->state == T_BLOCKED && t->interruptible)
        wake_with(t, WAKE_SIGNAL);
    else
        sched_kick(t);
}

static void yield_to_others(void)
{
    struct thread *cur = current();
    if (!rq_has_work())
        return;
    make_ready(cur);
    schedule();
}

void sched_yield_current(void)
{
    sched_poll(NULL, NULL);
    current()->nvcsw++;
    yield_to_others();
}

void sched_move_current(void)
{
    make_ready(current());
    schedule();
}

void sched_return_check(void)
{
    if (!this_cpu->area.need_resched)
        return;
    this_cpu->area.need_resched = 0;
    sched_poll(NULL, NULL);
    if (rq_has_work()) {
        current()->nivcsw++;
        g_stats.preempts++;
        yield_to_others();
    }
}

/* The monitor preempted the application on this vCPU (entry.S, alc_entry_preempt). */
void preempt_dispatch(struct regs *r)
{
    kernel_enter();
    /* A patched syscall site's stub (kernel/patch.c), or the vDSO's way into the kernel, is
     * half-way into the kernel: its return address is in the CPU window already. Let it finish;
     * it looks at need_resched on its way out. */
    if (!patch_stub_contains(r->rip) && !vdso_enter_contains(r->rip)) {
        sched_resume(r);
        return;
    }
    patch_fix_resume(r);
    kernel_leave();
}

void sched_resume(struct regs *r)
{
    current()->regs = r;
    sched_return_check();
    if (signal_work(0))
        signal_deliver(r);
    patch_fix_resume(r);
    kernel_leave();
}

/* ---- the idle loop ---- */
/* Spins without the lock until a thread is ready, an event is set or the time passes. */
static void idle_spin(uint32_t events, int64_t until)
{
    int64_t end = time_monotonic_ns() + IDLE_SPIN_NS;
    if (until != WAIT_FOREVER && until < end)
        end = until;
    do {
        if (__atomic_load_n(&g_nready, __ATOMIC_SEQ_CST) || (shared_events() & events))
            return;
        __asm__ volatile("pause");
    } while (time_monotonic_ns() < end);
}

NORETURN void sched_idle_loop(void)
{
    unsigned me = my_cpu();
    struct thread *idle = current();
    bool spun = false;
    for (;;) {
        int64_t until;
        uint32_t events;
        sched_poll(&until, &events);
        struct thread *t = rq_take();
        if (t) {
            g_cpu[me].state = CPU_BUSY;
            switch_to(idle, t);
            spun = false;
            continue;
        }
        if (!spun) {
            g_cpu[me].state = CPU_SPINNING;
            kernel_unlock();
            idle_spin(events, until);
            kernel_lock();
            if (g_nready)
                g_stats.spins_won++;
            g_cpu[me].state = CPU_BUSY;
            spun = true;
            continue;
        }
        /* nothing to do: idle in the monitor until an event, the deadline or ALC_HC_WAKE */
        int64_t now = time_monotonic_ns();
        uint64_t timeout = until == WAIT_FOREVER ? 0 : (uint64_t)MAX(until - now, 1);
        g_cpu[me].state = CPU_SLEEPING;
        g_stats.sleeps++;
        kernel_unlock();
        hc_wait(events, timeout);
        kernel_lock();
        g_cpu[me].state = CPU_BUSY;
        spun = false;
    }
}

/* ---- life ---- */
static struct thread *idle_context(void)
{
    struct thread *t = kalloc_zeroed(sizeof(*t));
    if (!t)
        kpanic("no memory for vCPU %u's idle context", my_cpu());
    t->proc = process_first(); /* process.h: idle contexts work on the first process's behalf */
    t->idle = true;
    t->state = T_RUNNING;
    t->affinity = sched_online_mask();
    t->cpu = (int)my_cpu();
    return t;
}

void sched_init(void)
{
    g_shared = phys_to_virt(g_boot->shared_gpa);
    g_shared->wake_at = INT64_MAX;
    for (unsigned i = 1; i < g_boot->cpu_count; i++)
        g_cpu[i].state = CPU_SLEEPING; /* waiting in kernel_ap_main for the first wake-up */
    g_cpu[0].idle = idle_context();
    g_cpu[0].state = CPU_BUSY;
    this_cpu->cur = g_cpu[0].idle;
    __atomic_store_n(&g_sched_ready, true, __ATOMIC_RELEASE);
}

/* Where an application processor goes once the bootstrap vCPU wakes it (kernel_ap_main). */
NORETURN void sched_ap_start(void)
{
    while (!__atomic_load_n(&g_sched_ready, __ATOMIC_ACQUIRE))
        hc_wait(0, 0);
    kernel_enter();
    unsigned me = my_cpu();
    g_cpu[me].idle = idle_context();
    g_cpu[me].state = CPU_BUSY;
    this_cpu->cur = g_cpu[me].idle;
    sched_idle_loop();
}

struct thread *thread_create(struct process *p, const struct regs *r)
{
    struct thread *t = kzalloc(sizeof(*t));
    if (!t)
        return NULL;
    t->kstack = kmalloc(THREAD_KSTACK);
    uint32_t fsize = fpu_area_size();
    t->fpu_mem = kmalloc(fsize + 64);
    if (!t->kstack || !t->fpu_mem || signal_thread_init(t)) {
        kfree(t->kstack);
        kfree(t->fpu_mem);
        kfree(t);
        return NULL;
    }
    t->fpu = (uint8_t *)(((uint64_t)t->fpu_mem + 63) & ~63ull);
    fpu_init_area(t->fpu);
    t->kstack_top = ((uint64_t)t->kstack + THREAD_KSTACK) & ~15ull;
    /* the stack alc_switch will "return" on: callee-saved registers, then alc_thread_entry,
     * then the frame alc_return_to_user restores */
    uint64_t *sp = (uint64_t *)(t->kstack_top - sizeof(struct regs));
    memcpy(sp, r, sizeof(*r));
    *--sp = (uint64_t)alc_thread_entry;
    for (int i = 0; i < 6; i++)
        *--sp = 0;
    t->ksp = (uint64_t)sp;
    t->regs = (struct regs *)(t->kstack_top - sizeof(struct regs));
    t->affinity = sched_online_mask();
    t->deadline = WAIT_FOREVER;
    t->tid = g_next_tid++;
    strlcpy(t->comm, "main", sizeof(t->comm));
    t->proc = p;
    t->all_next = g_threads;
    g_threads = t;
    g_nthreads++;
    t->proc_next = p->threads;
    p->threads = t;
    p->nthreads++;
    p->refs++;
    return t;
}

static void unlink_thread(struct thread *t)
{
    for (struct thread **p = &g_threads; *p; p = &(*p)->all_next) {
        if (*p == t) {
            *p = t->all_next;
            break;
        }
    }
    g_nthreads--;
    for (struct thread **p = &t->proc->threads; *p; p = &(*p)->proc_next) {
        if (*p == t) {
            *p = t->proc_next;
            break;
        }
    }
    t->proc->nthreads--;
}

void thread_discard(struct thread *t)
{
    unlink_thread(t);
    free_thread(t);
}

/* The monitor preempts from now on (a second thread, or a timer armed). */
static void preemption_on(void)
{
    if (!g_preemption_on) {
        g_preemption_on = true;
        hypercall(ALC_HC_SCHED, SCHED_SLICE_NS);
    }
}

void thread_start(struct thread *t)
{
    if (g_nthreads > 1)
        preemption_on();
    make_ready(t);
}

void sched_timers_changed(void)
{
    preemption_on();
    /* the monitor reads wake_at as a sleeper's deadline */
    int64_t next = timer_next_deadline(), cpu = timer_next_cpu_deadline();
    if (cpu != WAIT_FOREVER && (next == WAIT_FOREVER || cpu < next))
        next = cpu;
    if (next != WAIT_FOREVER && next < __atomic_load_n(&g_shared->wake_at, __ATOMIC_ACQUIRE))
        __atomic_store_n(&g_shared->wake_at, next, __ATOMIC_RELEASE);
}

NORETURN void thread_exit_current(void)
{
    struct thread *t = current();
    unlink_thread(t);
    t->state = T_DEAD;
    schedule();
    kpanic("a dead thread ran again");
}

/* ---- CPU time ---- */
int64_t sched_thread_cpu_ns(const struct thread *t)
{
    uint64_t ns = t->cpu_ns;
    if (t->state == T_RUNNING && t->run_start_ns)
        ns += time_since_boot_ns() - t->run_start_ns;
    return (int64_t)ns;
}

int64_t sched_process_cpu_ns(void)
{
    struct process *p = current_process();
    int64_t ns = (int64_t)p->dead_cpu_ns;
    for_each_thread_of(p, t) ns += sched_thread_cpu_ns(t);
    return ns;
}

uint64_t sched_voluntary_switches(void)
{
    struct process *p = current_process();
    uint64_t n = p->dead_nvcsw;
    for_each_thread_of(p, t) n += t->nvcsw;
    return n;
}
