/* patch.c: syscall sites rewritten so the application enters the kernel without a trap.
 *
 * On our KVM a `syscall` costs two traps to the hypervisor (into the CPL0 trampoline, and the
 * iretq back to the kernel at CPL3), 50-85 µs. The kernel and the application share CPL3 and one
 * address space, so a plain jump would do. The first time a site traps, the kernel looks at it;
 * if it is `mov $nr, %eax; syscall` (what glibc emits for almost every wrapper) with nr the number
 * that trapped, it replaces the 5-byte mov with a `jmp` to a stub that does the mov, saves the
 * return address and the user stack pointer in the vCPU window, switches to the kernel stack and
 * jumps to alc_entry_fast. The `syscall` instruction itself stays in place, so code that jumps
 * straight to it still works (through the trap). Only the executable's own code is patched, and
 * only when the bytes before the mov cannot be a prefix that would change its meaning.
 * --no-syscall-patch turns this off.
 */
#include "kernel.h"
#include "klib.h"
#include "mm.h"

#define STUB_SIZE 48
#define STUB_AREA (64 * 1024)
#define TWO_GIB   0x80000000ull

extern char alc_entry_fast[];
/* the stubs jump through this (a 32-bit absolute address in the kernel image) */
static const uint64_t g_fast_entry = (uint64_t)alc_entry_fast;

static uint64_t g_stub_next, g_stub_end;
static bool g_enabled;
static uint64_t g_patched;

/* Reserves the stub area within a rel32 jump of the executable's code [lo, hi). */
void patch_init(uint64_t lo, uint64_t hi)
{
    if (g_boot->flags & ALC_BOOT_NO_SYSCALL_PATCH)
        return;
    if (hi > TWO_GIB)
        return; /* stubs encode return addresses as sign-extended 32-bit immediates */
    uint64_t at = PAGE_DOWN(lo) - STUB_AREA;
    if (PAGE_DOWN(lo) < STUB_AREA || mm_map_at(at, STUB_AREA, PROT_READ | PROT_EXEC, VMA_EXE)) {
        if (mm_map_anywhere(STUB_AREA, PAGE_SIZE, 0, PROT_READ | PROT_EXEC, VMA_EXE, &at))
            return;
        if (at + STUB_AREA > TWO_GIB) {
            vms_remove(mm_space(), at, at + STUB_AREA);
            return;
        }
    }
    g_stub_next = at;
    g_stub_end = at + STUB_AREA;
    g_enabled = true;
}

static bool is_prefix(uint8_t b)
{
    return (b >= 0x40 && b <= 0x4f) || b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 ||
           b == 0xf3 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

static uint8_t *emit(uint8_t *p, const void *bytes, size_t n)
{
    memcpy(p, bytes, n);
    return p + n;
}

static uint8_t *emit32(uint8_t *p, uint64_t v)
{
    uint32_t w = (uint32_t)v;
    return emit(p, &w, 4);
}

void patch_syscall_site(const struct regs *r)
{
    if (!g_enabled || r->rip < 8 || r->rip > TWO_GIB)
        return;
    uint64_t x = r->rip - 2; /* the syscall instruction */
    const struct vma *v = vms_lookup(mm_space(), x - 5);
    if (!v || v->kind != VMA_EXE || !(v->prot & PROT_EXEC) || x + 2 > v->end)
        return;
    uint8_t *site = (uint8_t *)(x - 5);
    uint32_t imm;
    memcpy(&imm, site + 1, 4);
    if (site[0] != 0xb8 || imm != r->orig_rax || site[5] != 0x0f || site[6] != 0x05)
        return;
    if (x - 6 >= v->start && is_prefix(site[-1]))
        return;
    if (g_stub_next + STUB_SIZE > g_stub_end)
        return;

    uint8_t *stub = (uint8_t *)g_stub_next;
    uint8_t *p = stub;
    p = emit(p, "\xb8", 1); /* mov $nr, %eax */
    p = emit32(p, imm);
    p = emit(p, "\x48\xc7\x04\x25", 4); /* movq $ret, fast_rip */
    p = emit32(p, ALC_CPU_VBASE + PERCPU_FAST_RIP);
    p = emit32(p, x + 2);
    p = emit(p, "\x48\x89\x24\x25", 4); /* mov %rsp, user_rsp */
    p = emit32(p, ALC_CPU_VBASE + ALC_CPU_USER_RSP);
    p = emit(p, "\x48\xc7\xc4", 3); /* mov $kstack_top, %rsp */
    p = emit32(p, ALC_CPU_KSTACK_TOP);
    p = emit(p, "\xff\x24\x25", 3); /* jmp *g_fast_entry */
    p = emit32(p, (uint64_t)&g_fast_entry);
    KASSERT(p <= stub + STUB_SIZE);
    g_stub_next += STUB_SIZE;

    /* the jump replaces the mov: displacement first, then the opcode */
    int32_t rel = (int32_t)((uint64_t)stub - x);
    memcpy(site + 1, &rel, 4);
    __atomic_store_n(site, (uint8_t)0xe9, __ATOMIC_RELEASE);
    g_patched++;
    klog(ALC_LOG_DEBUG, "syscall site %#lx (syscall %u) now enters without a trap", x, imm);
}
