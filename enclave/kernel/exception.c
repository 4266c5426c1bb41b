/* exception.c: hardware exceptions, as the exception trampoline hands them over.
 *
 * A fault in the application ends it the way Linux's default action would (SIGSEGV for a page
 * or protection fault, SIGILL for an invalid opcode, SIGFPE for a divide error, ...), with a
 * report to the monitor that names the vector, the instruction and the address. A fault in the
 * enclave kernel itself is a kernel panic.
 */
#include "kernel.h"
#include "klib.h"

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
    case 17:
        return SIGBUS;
    case 7:
    case 18:
        return SIGKILL;
    default:
        return SIGSEGV; /* page fault, general protection, stack fault, bound, overflow */
    }
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
    if (r->rip >= ALC_KERNEL_VBASE)
        kpanic("%s (vector %lu, error %#lx) in the enclave kernel at rip %#lx, address %#lx", name,
               vector, err, r->rip, cr2);

    char what[160];
    if (vector == 14)
        describe_page_fault(what, sizeof(what), err, cr2);
    else if (vector == 13 && err)
        ksnprintf(what, sizeof(what), "%s (selector error %#lx)", name, err);
    else
        ksnprintf(what, sizeof(what), "%s", name);
    process_kill(signal_of(vector), r, (uint32_t)vector, err, vector == 14 ? cr2 : 0, what);
}
