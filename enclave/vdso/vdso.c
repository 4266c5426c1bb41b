/* vdso.c: the enclave's vDSO (see enclave/include/vdso.h). Built with the host compiler as a
 * position-independent shared object (enclave/vdso/vdso.lds, vdso.map): no libc, no relocations,
 * nothing but these functions and the data the kernel fills. It runs in the application, at
 * CPL3, on the application's stack. */
#define ALCOVE_VDSO_USER
#include <stdint.h>

#include "abi/alcove_abi.h"
#include "percpu_asm.h"
#include "vdso.h"

#define NSEC       1000000000ll
#define COARSE_RES 4000000 /* as sys/time.c: the tick of Linux with HZ=250 */

/* Linux's clock ids and system call numbers (x86-64) */
enum {
    CLOCK_REALTIME = 0,
    CLOCK_MONOTONIC = 1,
    CLOCK_MONOTONIC_RAW = 4,
    CLOCK_REALTIME_COARSE = 5,
    CLOCK_MONOTONIC_COARSE = 6,
    CLOCK_BOOTTIME = 7,
    CLOCK_TAI = 11,
};
#define NR_CLOCK_GETTIME 228
#define NR_CLOCK_GETRES  229

struct vdso_timespec {
    int64_t tv_sec, tv_nsec;
};
struct vdso_timeval {
    int64_t tv_sec, tv_usec;
};

/* filled by the kernel at boot (kernel/vdso.c); read-only for the application */
static volatile struct alc_vdso_data alc_vdso_data __attribute__((section(".alc_data"), used));

/* long alc_vdso_syscall2(long a1, long a2, long nr): enters the kernel as a patched syscall
 * site's stub does (kernel/patch.c, make_stub): the return address and the stack pointer into
 * this vCPU's window (absolute addresses in the top 2 MiB), the thread's kernel stack, a jump to
 * alc_entry_fast; the kernel comes back to the `ret` with rax, rcx and r11 set as a syscall sets
 * them, every other register as it was. Two arguments (rdi, rsi), the number in rdx. */
#define STR_(x) #x
#define STR(x)  STR_(x)
#define VBASE   "-0x200000"
_Static_assert(ALC_CPU_VBASE == (uint64_t)-0x200000ll, "the CPU window's base");
_Static_assert(__builtin_offsetof(struct alc_vdso_data, fast_entry) == 32, "fast_entry");
__asm__(
    ".pushsection .alc_enter, \"ax\", @progbits\n"
    ".type alc_vdso_syscall2, @function\n"
    "alc_vdso_syscall2:\n\t"
    "movq %rdx, %rax\n\t"
    "leaq 1f(%rip), %r11\n\t"
    "movq %r11, " VBASE "+" STR(
        PERCPU_FAST_RIP) "\n\t"
                         "movq %rsp, " VBASE "+" STR(
                             ALC_CPU_USER_RSP) "\n\t"
                                               "movq " VBASE "+" STR(
                                                   ALC_CPU_KSTACK) ", %rsp\n\t"
                                                                   "jmpq *alc_vdso_data+32(%rip)\n"
                                                                   "1:\n\t"
                                                                   "ret\n"
                                                                   ".size alc_vdso_syscall2, . - "
                                                                   "alc_vdso_syscall2\n"
                                                                   ".popsection");
long alc_vdso_syscall2(long a1, long a2, long nr) __attribute__((visibility("hidden")));

static uint64_t since_boot_ns(void)
{
    int64_t delta = (int64_t)(__builtin_ia32_rdtsc() - alc_vdso_data.boot_tsc);
    if (delta < 0)
        return 0;
    return (uint64_t)(((unsigned __int128)(uint64_t)delta * alc_vdso_data.tsc_mult) >> 32);
}

/* The clock's time as kernel/time.c computes it: 1, or 0 when the kernel must answer. */
static int now_ns(int clk, int64_t *ns)
{
    switch (clk) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_TAI:
        *ns = alc_vdso_data.boot_realtime_ns + (int64_t)since_boot_ns();
        return 1;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        *ns = alc_vdso_data.boot_monotonic_ns + (int64_t)since_boot_ns();
        return 1;
    default:
        return 0;
    }
}

int __vdso_clock_gettime(int clk, struct vdso_timespec *ts)
{
    int64_t ns;
    if (!now_ns(clk, &ns))
        return (int)alc_vdso_syscall2(clk, (long)ts, NR_CLOCK_GETTIME);
    ts->tv_sec = ns / NSEC;
    ts->tv_nsec = ns % NSEC;
    return 0;
}

int __vdso_gettimeofday(struct vdso_timeval *tv, int32_t *tz)
{
    int64_t ns;
    now_ns(CLOCK_REALTIME, &ns);
    if (tv) {
        tv->tv_sec = ns / NSEC;
        tv->tv_usec = (ns % NSEC) / 1000;
    }
    if (tz) /* struct timezone: minutes west and DST, 0 as the kernel says */
        tz[0] = tz[1] = 0;
    return 0;
}

int64_t __vdso_time(int64_t *t)
{
    int64_t ns;
    now_ns(CLOCK_REALTIME, &ns);
    if (t)
        *t = ns / NSEC;
    return ns / NSEC;
}

int __vdso_clock_getres(int clk, struct vdso_timespec *res)
{
    int64_t ns;
    if (!now_ns(clk, &ns))
        return (int)alc_vdso_syscall2(clk, (long)res, NR_CLOCK_GETRES);
    if (res) {
        res->tv_sec = 0;
        res->tv_nsec =
            clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE ? COARSE_RES : 1;
    }
    return 0;
}

int clock_gettime(int, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval *, int32_t *)
    __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(int, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
