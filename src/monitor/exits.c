/* exits.c: what the monitor does when a vCPU stops: the hypercalls of alcove_abi.h, arriving as
 * MMIO stores to the hypercall page. Everything the guest hands over is checked here: a guest
 * that breaks the protocol ends the enclave with a precise message (VM_END_VIOLATION). */
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "devices/stdio.h"
#include "devices/virtio_mmio.h"
#include "monitor/deadline.h"
#include "monitor/populate.h"
#include "monitor/vm.h"

static const char *const g_signames[] = {
    [1] = "SIGHUP",   [2] = "SIGINT",   [3] = "SIGQUIT",  [4] = "SIGILL",
    [5] = "SIGTRAP",  [6] = "SIGABRT",  [7] = "SIGBUS",   [8] = "SIGFPE",
    [9] = "SIGKILL",  [10] = "SIGUSR1", [11] = "SIGSEGV", [12] = "SIGUSR2",
    [13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM", [31] = "SIGSYS",
};

static const char *signame(uint32_t sig)
{
    if (sig < sizeof(g_signames) / sizeof(g_signames[0]) && g_signames[sig])
        return g_signames[sig];
    return "signal";
}

/* Blocks until (events & mask), an ALC_HC_WAKE for this vCPU, the timeout or the end of the
 * enclave. Every wake-up bumps vm->wait_word (vm_wake_waiters), so reading it before looking
 * loses none. */
static int hc_wait(struct vcpu *v, uint64_t gpa)
{
    struct vm *vm = v->vm;
    struct alc_wait *w = GPA_PTR(&vm->mem, gpa, sizeof(*w));
    if (!w) {
        vm_end(vm, VM_END_VIOLATION, 137, "ALC_HC_WAIT with a bad argument address %#" PRIx64, gpa);
        return -1;
    }
    uint32_t mask = w->mask | ALC_EV_STOP;
    uint64_t timeout = w->timeout_ns;
    uint64_t deadline = wait_deadline((uint64_t)clock_ns(CLOCK_MONOTONIC), timeout);
    atomic_store(&v->in_wait, true);
    for (;;) {
        unsigned seq = atomic_load(&vm->wait_word);
        uint32_t ev = __atomic_load_n(&vm->shared->events, __ATOMIC_ACQUIRE);
        if ((ev & mask) || atomic_exchange(&v->wake, false) || atomic_load(&vm->stopping))
            break;
        struct timespec ts, *tsp = NULL;
        if (deadline) {
            uint64_t now = (uint64_t)clock_ns(CLOCK_MONOTONIC);
            if (now >= deadline)
                break;
            uint64_t left = deadline - now;
            ts.tv_sec = (time_t)(left / 1000000000ull);
            ts.tv_nsec = (long)(left % 1000000000ull);
            tsp = &ts;
        }
        syscall(SYS_futex, &vm->wait_word, FUTEX_WAIT_PRIVATE, seq, tsp, NULL, 0);
    }
    atomic_store(&v->in_wait, false);
    return 0;
}

static int hc_populate(struct vcpu *v, uint64_t gpa)
{
    struct vm *vm = v->vm;
    struct alc_populate *p = GPA_PTR(&vm->mem, gpa, sizeof(*p));
    if (!p) {
        vm_end(vm, VM_END_VIOLATION, 137, "ALC_HC_POPULATE with a bad argument address %#" PRIx64,
               gpa);
        return -1;
    }
    uint64_t start = p->gpa, len = p->len;
    int err = populate_range(vm, start, len);
    if (err == -EINVAL) {
        vm_end(vm, VM_END_VIOLATION, 137,
               "ALC_HC_POPULATE of [%#" PRIx64 ", +%#" PRIx64 "): not 2 MiB chunks of guest RAM",
               start, len);
        return -1;
    }
    p->result = err;
    return 0;
}

static int hc_fatal(struct vcpu *v, uint64_t gpa)
{
    struct vm *vm = v->vm;
    const struct alc_fatal *f = GPA_PTR(&vm->mem, gpa, sizeof(*f));
    if (!f) {
        vm_end(vm, VM_END_VIOLATION, 137, "ALC_HC_FATAL with a bad argument address %#" PRIx64,
               gpa);
        return -1;
    }
    struct alc_fatal r = *f; /* one read: the guest may still change its copy */
    r.message[sizeof(r.message) - 1] = 0;
    for (char *c = r.message; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    if (r.kind == ALC_FATAL_SIGNAL && r.signo >= 1 && r.signo <= 64) {
        char vec[64] = "";
        if (r.vector < 32)
            snprintf(vec, sizeof(vec), " (vector %u, error %#" PRIx64 ")", r.vector, r.error_code);
        vm_end(vm, VM_END_SIGNAL, 128 + (int)r.signo,
               "the program was killed by %s: %s%s at rip %#" PRIx64 ", rsp %#" PRIx64,
               signame(r.signo), r.message, vec, r.rip, r.rsp);
    } else if (r.kind == ALC_FATAL_KERNEL) {
        vm_end(vm, VM_END_KERNEL, 137, "the enclave kernel failed: %s", r.message);
    } else {
        vm_end(vm, VM_END_VIOLATION, 137, "ALC_HC_FATAL with kind %u signal %u", r.kind, r.signo);
    }
    return -1;
}

int exits_handle_mmio(struct vcpu *v)
{
    struct vm *vm = v->vm;
    struct kvm_run *run = v->run;
    uint64_t addr = run->mmio.phys_addr;
    if (addr >= ALC_VIRTIO_GPA(0) && addr < ALC_VIRTIO_GPA(ALC_VIRTIO_SLOTS) && run->mmio.len <= 8)
        return virtio_mmio_access(vm, addr, run->mmio.data, run->mmio.len, run->mmio.is_write);
    if (addr < ALC_MMIO_GPA || addr >= ALC_MMIO_GPA + 8 * ALC_HC_COUNT || (addr & 7) ||
        !run->mmio.is_write || run->mmio.len != 8) {
        vm_end(vm, VM_END_VIOLATION, 137,
               "%s of %u bytes at guest-physical %#" PRIx64 " (not RAM, not a hypercall)",
               run->mmio.is_write ? "write" : "read", run->mmio.len, addr);
        return -1;
    }
    uint64_t arg;
    memcpy(&arg, run->mmio.data, 8);
    switch ((addr - ALC_MMIO_GPA) / 8) {
    case ALC_HC_EXIT:
        if (arg & 0x100)
            vm_end(vm, VM_END_KERNEL, (int)(arg & 0xff),
                   "the enclave kernel stopped before it could report why");
        else
            vm_end(vm, VM_END_EXIT, (int)(arg & 0xff), "%s", "");
        return -1;
    case ALC_HC_FATAL:
        return hc_fatal(v, arg);
    case ALC_HC_WAIT:
        return hc_wait(v, arg);
    case ALC_HC_POPULATE:
        return hc_populate(v, arg);
    case ALC_HC_WAKE:
        if (arg >= vm->ncpu) {
            vm_end(vm, VM_END_VIOLATION, 137, "ALC_HC_WAKE of vCPU %" PRIu64 " (it has %u)", arg,
                   vm->ncpu);
            return -1;
        }
        sched_wake_cpu(vm, (unsigned)arg);
        return 0;
    case ALC_HC_SCHED:
        return sched_start(vm, arg);
    case ALC_HC_KICK_CONSOLE:
    case ALC_HC_KICK_STDIN:
        stdio_doorbell(vm, (unsigned)((addr - ALC_MMIO_GPA) / 8));
        return 0;
    default:
        vm_end(vm, VM_END_VIOLATION, 137, "unknown hypercall %" PRIu64,
               (uint64_t)((addr - ALC_MMIO_GPA) / 8));
        return -1;
    }
}
