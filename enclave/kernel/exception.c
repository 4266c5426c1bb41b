/* exception.c: hardware exceptions, as the exception trampoline hands them over.
 *
 * A fault in the application becomes the signal Linux would send (SIGSEGV for a page or
 * protection fault, SIGILL for an invalid opcode, SIGFPE for a divide error, ...), with Linux's
 * si_code and si_addr. It goes to the program's handler when one is installed and the signal is
 * neither blocked nor ignored; otherwise (and for a fault inside a handler that blocks it) it
 * ends the program as Linux's default action would, with a report to the monitor that names the
 * vector, the instruction and the address. A fault in the enclave kernel itself is a kernel
 * panic.
 */
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "scheduler.h"
#include "signal.h"

static const char *const g_names[32] = {
    [0] = "divide error",
    [1] = "debug",
    [2] = "NMI",
    [3] = "breakpoint",
    [4] = "overflow",
    [5] = "bound range exceeded",
    [6] = "invalid opcode",
    [7] = "device not available",
    [8] = "double fault",
    [10] = "invalid TSS",
    [11] = "segment not present",
    [12] = "stack-segment fault",
    [13] = "general protection",
    [14] = "page fault",
    [16] = "x87 floating-point",
    [17] = "alignment check",
    [18] = "machine check",
    [19] = "SIMD floating-point",
    [21] = "control protection",
};

static int signal_of(uint64_t vector)
{
    switch (vector) {
    case 0:
    case 16:
    case 19:
        return SIGFPE;
    case 1:
    case 3:
        return SIGTRAP;
    case 6:
        return SIGILL;
    case 11: /* segment not present */
    case 12: /* stack-segment fault (a non-canonical stack address) */
    case 17:
        return SIGBUS;
    case 7:
    case 18:
        return SIGKILL;
    default:
        return SIGSEGV; /* page fault, general protection, invalid TSS, bound, overflow */
    }
}

/* Linux's si_code for a floating-point exception, from the unmasked status bits */
static int fpe_code(uint32_t status)
{
    if (status & 0x01)
        return FPE_FLTINV;
    if (status & 0x04)
        return FPE_FLTDIV;
    if (status & 0x08)
        return FPE_FLTOVF;
    if (status & 0x12)
        return FPE_FLTUND;
    if (status & 0x20)
        return FPE_FLTRES;
    return 0;
}

/* si_code and si_addr of the signal for this exception, as Linux's trap handlers set them */
static void fault_info(struct linux_siginfo *si, uint64_t vector, uint64_t err, uint64_t cr2,
                       uint64_t rip)
{
    si->si_code = SI_KERNEL;
    switch (vector) {
    case 0:
        si->si_code = FPE_INTDIV;
        si->fault.addr = rip;
        break;
    case 16: {
        uint16_t sw, cw;
        __asm__ volatile("fnstsw %0; fnstcw %1" : "=m"(sw), "=m"(cw));
        si->si_code = fpe_code((uint32_t)(sw & ~cw & 0x3f));
        si->fault.addr = rip;
        break;
    }
    case 19: {
        uint32_t mxcsr;
        __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
        si->si_code = fpe_code(mxcsr & ~(mxcsr >> 7) & 0x3f);
        si->fault.addr = rip;
        break;
    }
    case 1:
        si->si_code = TRAP_TRACE;
        si->fault.addr = rip;
        break;
    case 6:
        si->si_code = ILL_ILLOPN;
        si->fault.addr = rip;
        break;
    case 14:
        /* mapped but not allowed, or not mapped at all, as the address space says */
        si->si_code = (err & 1) || vms_lookup(mm_space(), cr2) ? SEGV_ACCERR : SEGV_MAPERR;
        si->fault.addr = cr2;
        break;
    case 17:
        si->si_code = BUS_ADRALN;
        break;
    default:
        break; /* int3, general protection, segment faults: SI_KERNEL, no address */
    }
}

/* True when r was running on this vCPU's exception stack: the handler of another exception,
 * whose frames a nested one would overwrite. */
static bool on_exception_stack(const struct regs *r)
{
    return r->rsp <= ALC_CPU_EXC_STACK_TOP && r->rsp > ALC_CPU_EXC_STACK_TOP - 8 * ALC_PAGE_SIZE;
}

static void describe_page_fault(char *buf, size_t size, uint64_t err, uint64_t addr)
{
    const char *access = (err & 0x10)  ? "instruction fetch at"
                         : (err & 0x2) ? "write to"
                                       : "read of";
    const char *why = (err & 0x1) ? ((err & 0x8) ? "reserved bit set" : "protection violation")
                                  : "address not mapped";
    ksnprintf(buf, size, "page fault: %s %#lx (%s)", access, addr, why);
}

void exception_dispatch(struct regs *r)
{
    const struct alc_exc_frame *f = (const struct alc_exc_frame *)ALC_CPU_EXC_FRAME_ADDR;
    uint64_t vector = f->vector, err = f->error_code, cr2 = this_cpu->area.exc_cr2;
    const char *name = vector < 32 && g_names[vector] ? g_names[vector] : "exception";

    if ((f->cs & 3) != 3)
        kpanic("%s (vector %lu, error %#lx) in a CPL0 trampoline at rip %#lx, address %#lx", name,
               vector, err, f->rip, cr2);
    if (r->rip >= ALC_KERNEL_VBASE && vector == 14 && cr2 < MM_USER_END && !on_exception_stack(r)) {
        /* the kernel touched the application's memory in a syscall: it holds the kernel lock
         * already, and runs on the thread's stack. A page with no frame yet gets one; memory
         * the program unmapped or protected while the syscall waited (another thread did)
         * ends the process, as a fault of its own would (Linux would return EFAULT) */
        int e = mm_fault(cr2, err);
        if (e == 0)
            return;
        char what[160];
        describe_page_fault(what, sizeof(what), err, cr2);
        process_kill(e == -ENOMEM  ? SIGKILL
                     : e == -ENXIO ? SIGBUS
                                   : SIGSEGV,
                     r, (uint32_t)vector, err, cr2, what);
    }
    if (r->rip >= ALC_KERNEL_VBASE)
        kpanic("%s (vector %lu, error %#lx) in the enclave kernel at rip %#lx, address %#lx", name,
               vector, err, r->rip, cr2);

    kernel_enter(); /* not before: a fault in the kernel may hold it (kpanic above) */
    if (vector == 3 && patch_breakpoint(r)) {
        sched_resume(
            r); /* the syscall patcher's int3, not the program's: on into the site's stub */
        return;
    }
    bool past_eof = false;
    if (vector == 14) {
        /* a first touch (the page gets its frame), or a fault the program gets as a signal */
        int e = mm_fault(cr2, err);
        past_eof = e == -ENXIO;
        if (e == 0) {
            sched_resume(r);
            return;
        }
        if (e == -ENOMEM) {
            klog(ALC_LOG_ERROR,
                 "out of memory: the enclave has no free page for %#lx; the "
                 "process is killed",
                 cr2);
            process_kill(SIGKILL, r, (uint32_t)vector, err, cr2, "out of memory");
        }
    }
    char what[160];
    if (vector == 14)
        describe_page_fault(what, sizeof(what), err, cr2);
    else if (vector == 13 && err)
        ksnprintf(what, sizeof(what), "%s (selector error %#lx)", name, err);
    else
        ksnprintf(what, sizeof(what), "%s", name);
    int sig = past_eof ? SIGBUS : signal_of(vector);
    if (sig == SIGKILL) /* machine check, device not available: nothing to hand to a program */
        process_kill(sig, r, (uint32_t)vector, err, 0, what);
    struct linux_siginfo si;
    memset(&si, 0, sizeof(si));
    si.si_signo = sig;
    fault_info(&si, vector, err, cr2, r->rip);
    if (past_eof)
        si.si_code = BUS_ADRERR; /* si_addr stays the address */
    current()->regs = r;
    signal_fault(r, &si, (uint32_t)vector, err, cr2, what);
    patch_fix_resume(r);
    kernel_leave();
}
