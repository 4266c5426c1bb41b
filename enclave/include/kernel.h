/* kernel.h: common declarations of the enclave kernel (alcove's LibOS).
 *
 * The enclave kernel is freestanding C that runs at CPL3 next to the application, in the
 * same address space. It owns the upper half (its image, the physmap, the CPU window) and
 * implements the Linux x86-64 syscall ABI for the application in the lower half.
 */
#ifndef ALCOVE_KERNEL_H
#define ALCOVE_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/alcove_abi.h"
#include "linux_abi.h"
#include "percpu_asm.h"

#define PAGE_SIZE         4096ul
#define PAGE_DOWN(x)      ((uint64_t)(x) & ~(PAGE_SIZE - 1))
#define PAGE_UP(x)        (((uint64_t)(x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define ARRAY_SIZE(a)     (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)         ((a) < (b) ? (a) : (b))
#define MAX(a, b)         ((a) > (b) ? (a) : (b))
#define NORETURN          __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* The register frame every kernel entry builds (see entry/entry.S for the order). */
struct regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi, orig_rax;
    uint64_t rip, rflags, rsp, pad;
};
_Static_assert(sizeof(struct regs) == 160, "struct regs matches entry.S");
_Static_assert(__builtin_offsetof(struct regs, rip) == 128, "entry.S offsets");
_Static_assert(__builtin_offsetof(struct regs, rflags) == 136, "entry.S offsets");
_Static_assert(__builtin_offsetof(struct regs, rsp) == 144, "entry.S offsets");

/* Per-vCPU data: the monitor-defined area, then the kernel's own fields, in the CPU window. */
struct thread;
struct percpu {
    struct alc_cpu_area area;
    struct thread *cur; /* the thread running on this vCPU (kernel/sched.c) */
    uint64_t fast_rip;  /* a patched syscall site's return address (kernel/patch.c) */
};
_Static_assert(__builtin_offsetof(struct percpu, cur) == PERCPU_CUR, "percpu_asm.h");
_Static_assert(__builtin_offsetof(struct percpu, fast_rip) == PERCPU_FAST_RIP, "percpu_asm.h");
_Static_assert(sizeof(struct percpu) <= ALC_PAGE_SIZE, "percpu fits the first window page");
#define this_cpu ((struct percpu *)ALC_CPU_VBASE)

extern const struct alc_boot_info *g_boot;

/* Guest-physical to kernel virtual (through the physmap). */
static inline void *phys_to_virt(uint64_t gpa)
{
    return (void *)(ALC_PHYSMAP_VBASE + gpa);
}

/* ---- hypercalls (kernel/hypercall.c) ---- */
static inline void hypercall(unsigned nr, uint64_t arg)
{
    *(volatile uint64_t *)(ALC_MMIO_VBASE + 8ul * nr) = arg;
}
uint64_t virt_to_phys(const void *kva);
/* The monitor's event bits now (ALC_EV_*), without stopping the vCPU. */
uint32_t shared_events(void);
/* Blocks the vCPU until (events & mask) or timeout_ns (0: none) passes. Returns the events. */
uint32_t hc_wait(uint32_t mask, uint64_t timeout_ns);
NORETURN void hc_exit(int status);
/* Asks the monitor to back [gpa, gpa + len) (2 MiB chunks) with host memory. 0 or -ENOMEM. */
int hc_populate(uint64_t gpa, uint64_t len);
/* Ends the enclave with the report in *f (copied into hypercall memory first). */
NORETURN void hc_fatal(const struct alc_fatal *f);

/* ---- diagnostics (kernel/panic.c) ---- */
void klog(int level, const char *fmt, ...) PRINTF_LIKE(2, 3);
NORETURN void kpanic(const char *fmt, ...) PRINTF_LIKE(1, 2);
#define KASSERT(c)                                                                                 \
    do {                                                                                           \
        if (!(c))                                                                                  \
            kpanic("assertion failed: %s (%s:%d)", #c, __FILE_NAME__, __LINE__);                   \
    } while (0)

/* ---- time (kernel/time.c) ---- */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
uint64_t time_since_boot_ns(void);
int64_t time_realtime_ns(void);
int64_t time_monotonic_ns(void);

/* ---- kernel memory (mm/kheap.c) ---- */
void kheap_init(uint64_t gpa, uint64_t size);
/* Zeroed memory that is never freed (the kernel's long-lived tables). NULL when exhausted. */
void *kalloc_zeroed(size_t size);
/* Memory for objects that come and go; NULL when exhausted. kzalloc zeroes it. */
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *ptr);
/* A zeroed, page-aligned 4 KiB page (a page table), NULL when exhausted; and its return. */
void *kpage_alloc(void);
void kpage_free(void *page);
/* Bytes in the kernel heap's free lists (what it can hand out again without growing). */
uint64_t kheap_free_bytes(void);
/* From now on the heap may grow into the application region (mm is ready). */
void kheap_enable_growth(void);

/* ---- entry (entry/entry.S) ---- */
NORETURN void alc_return_to_user(struct regs *r);

/* ---- the application's exit (sys/proc.c) ---- */
/* The enclave ends: with an exit status, or as killed by signo (a report to the monitor). */
NORETURN void enclave_exit(int status);
NORETURN void enclave_fatal(int signo, const struct regs *r, uint32_t vector, uint64_t error,
                            uint64_t addr, const char *what);
/* The current process ends with an exit status, or killed by signo (logged with the vector, the
 * registers and the address): the first process's end is the enclave's (enclave_exit,
 * enclave_fatal), another's leaves a zombie for its parent (process.h, process_end). */
NORETURN void process_exit(int status);
NORETURN void process_kill(int signo, const struct regs *r, uint32_t vector, uint64_t error,
                           uint64_t addr, const char *what);
/* The same with the signal's siginfo (a fault's, or the one a signal was sent with): a signal
 * whose default action is "core" leaves a core file when the limits allow (coredump.h). */
struct linux_siginfo;
NORETURN void process_kill_info(const struct linux_siginfo *info, const struct regs *r,
                                uint32_t vector, uint64_t error, uint64_t addr, const char *what);

/* ---- CPU features ---- */
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
                     : "a"(leaf), "c"(sub));
}

#endif
