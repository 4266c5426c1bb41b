/* sched.c: the monitor's part in the enclave's threads: waking a vCPU that idles in
 * ALC_HC_WAIT (ALC_HC_WAKE), and preemption (ALC_HC_SCHED): a timer thread that stops a vCPU
 * whose thread has had its slice while another is ready, and sends it to the kernel's
 * entry_preempt (the protocol is in alcove_abi.h, "Preemption").
 *
 * The guest has no timer interrupt (a tick through the IDT would be emulated CPL0 code on our
 * KVM), so the monitor reads the guest's scheduling words from shared memory every slice and
 * acts only when something needs the vCPU: an enclave with one thread, or with every thread
 * busy and none waiting, is never interrupted. */
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/log.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

#define APP_HALF_END 0x0000800000000000ull /* the application's (lower) half of addresses */
#define MIN_SLICE_NS 1000000ull            /* 1 ms */
#define MAX_SLICE_NS 100000000ull          /* 100 ms */

void sched_wake_cpu(struct vm *vm, unsigned index)
{
    atomic_store(&vm->vcpus[index].wake, true);
    vm_wake_waiters(vm);
}

/* The guest's view of time, for shared.wake_at: its CLOCK_MONOTONIC is the host's (boot info
 * anchors the TSC to it). */
static bool sleeper_due(struct vm *vm, int64_t now)
{
    int64_t at = __atomic_load_n(&vm->shared->wake_at, __ATOMIC_ACQUIRE);
    return at > 0 && at <= now;
}

/* Has vCPU v enter the guest's kernel: at once when it runs the application (entry_preempt),
 * on its way out when it is in the kernel. */
static void preempt(struct vm *vm, struct vcpu *v)
{
    v->area->need_resched = 1;
    if (__atomic_load_n(&v->area->in_kernel, __ATOMIC_ACQUIRE))
        return; /* it looks at need_resched on its way out */
    atomic_store(&v->preempt, true);
    v->run->immediate_exit = 1;
    pthread_kill(v->thread, SIGUSR1);
    atomic_fetch_add(&vm->preemptions, 1);
}

void sched_kick_running(struct vm *vm)
{
    for (unsigned i = 0; i < vm->ncpu; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (v->thread_started && !atomic_load(&v->in_wait))
            preempt(vm, v);
    }
}

static void *tick_thread(void *arg)
{
    struct vm *vm = arg;
    sandbox_thread_class(SANDBOX_VCPU);
    /* parked until the guest first asks for preemption (sched_start sets the slice, then bumps
     * tick_word) */
    while (!atomic_load(&vm->stopping) && !atomic_load(&vm->slice_ns)) {
        unsigned seq = atomic_load(&vm->tick_word);
        if (atomic_load(&vm->stopping) || atomic_load(&vm->slice_ns))
            break;
        syscall(SYS_futex, &vm->tick_word, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
    }
    uint64_t last[ALC_MAX_CPUS];
    unsigned start = 0;
    uint32_t kicked = 0;
    memset(last, 0xff, sizeof(last));
    while (!atomic_load(&vm->stopping)) {
        uint64_t slice = atomic_load(&vm->slice_ns);
        struct timespec ts = {(time_t)(slice / 1000000000ull), (long)(slice % 1000000000ull)};
        unsigned seq = atomic_load(&vm->tick_word);
        syscall(SYS_futex, &vm->tick_word, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
        if (atomic_load(&vm->stopping))
            break;
        /* how many vCPUs are wanted: one per ready thread, one for a due sleeper or event */
        const struct alc_shared *sh = vm->shared;
        unsigned want = __atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE);
        if (sleeper_due(vm, clock_ns(CLOCK_MONOTONIC)) ||
            (__atomic_load_n(&sh->events, __ATOMIC_ACQUIRE) &
             __atomic_load_n(&sh->wait_events, __ATOMIC_ACQUIRE)))
            want++;
        /* the guest asked for every vCPU running the application to enter its kernel */
        uint32_t kick = __atomic_load_n(&sh->kick, __ATOMIC_ACQUIRE);
        bool kick_all = kick != kicked;
        kicked = kick;
        /* the vCPU looked at first turns, so that no thread keeps its vCPU for good */
        start = (start + 1) % vm->ncpu;
        for (unsigned k = 0; k < vm->ncpu; k++) {
            unsigned i = (start + k) % vm->ncpu;
            struct vcpu *v = &vm->vcpus[i];
            if (!v->thread_started)
                continue;
            uint64_t sw = __atomic_load_n(&v->area->switches, __ATOMIC_ACQUIRE);
            bool idle = atomic_load(&v->in_wait);
            bool slice_over = want && !idle && sw == last[i];
            if (slice_over || (kick_all && !idle)) {
                want -= slice_over;
                last[i] = sw + 1; /* the switch this asks for: a slice from then on */
                preempt(vm, v);
                continue;
            }
            last[i] = sw;
        }
    }
    return NULL;
}

int sched_prepare(struct vm *vm)
{
    int err = pthread_create(&vm->tick_thread, NULL, tick_thread, vm);
    if (err) {
        alc_err_report(E_THREAD, "cannot start the preemption timer thread: %s", strerror(err));
        return E_THREAD;
    }
    vm->tick_started = true;
    return 0;
}

int sched_start(struct vm *vm, uint64_t slice_ns)
{
    if (!slice_ns)
        return 0;
    if (slice_ns < MIN_SLICE_NS)
        slice_ns = MIN_SLICE_NS;
    if (slice_ns > MAX_SLICE_NS)
        slice_ns = MAX_SLICE_NS;
    uint64_t old = atomic_exchange(&vm->slice_ns, slice_ns);
    if (old == slice_ns)
        return 0; /* asked again (our kernel asks once): nothing to wake the timer for */
    atomic_fetch_add(&vm->tick_word, 1);
    syscall(SYS_futex, &vm->tick_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    if (!old)
        alc_log(ALC_LOG_DEBUG, "preemption: a %" PRIu64 " us slice", slice_ns / 1000);
    return 0;
}

void sched_stop(struct vm *vm)
{
    if (!vm->tick_started)
        return;
    vm->tick_started = false;
    atomic_fetch_add(&vm->tick_word, 1);
    syscall(SYS_futex, &vm->tick_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_join(vm->tick_thread, NULL);
    if (vm->preemptions)
        alc_log(ALC_LOG_DEBUG, "preemption: %u vCPU interruptions",
                (unsigned)atomic_load(&vm->preemptions));
}

void sched_preempt(struct vcpu *v)
{
    if (!atomic_exchange(&v->preempt, false))
        return;
    struct kvm_regs r;
    if (ioctl(v->fd, KVM_GET_REGS, &r))
        return;
    if (r.rip >= APP_HALF_END)
        return; /* in the kernel (or a trampoline): it looks at need_resched on its way out */
    struct alc_cpu_area *a = v->area;
    a->preempt_rip = r.rip;
    a->preempt_rsp = r.rsp;
    a->preempt_rflags = r.rflags;
    r.rip = v->vm->kernel.hdr.entry_preempt;
    r.rsp = a->kstack_top;
    r.rflags = 0x2;
    if (ioctl(v->fd, KVM_SET_REGS, &r))
        vm_end(v->vm, VM_END_HOST, 125, "KVM_SET_REGS on vCPU %u: %s", v->index, strerror(errno));
}
