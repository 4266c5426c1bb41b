/* fpu.c: the application's extended state (x87, SSE, AVX, AVX-512): its size and format on
 * this CPU, a thread's copy while it is switched out, and the copy in a signal frame, in
 * Linux's format (XSAVE standard format with the software bytes and the trailing magic, or
 * FXSAVE). The kernel is built -mgeneral-regs-only, so the registers stay the application's
 * while the kernel runs. */
#include "fpu.h"

#include "klib.h"
#include "syscall.h"

#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define FXSAVE_SIZE      512
#define XSAVE_HDR        512 /* the 64-byte XSAVE header follows the legacy area */
#define FPBUF_MAX        8192
#define XSTATE_USER_MASK 0xffull /* x87, SSE, AVX, MPX, AVX-512 */

/* the software bytes Linux keeps in the unused tail of the FXSAVE area (offset 464) */
struct fpx_sw_bytes {
    uint32_t magic1, extended_size;
    uint64_t xfeatures;
    uint32_t xstate_size, padding[7];
};
_Static_assert(sizeof(struct fpx_sw_bytes) == 48, "struct _fpx_sw_bytes");
#define FPX_SW_OFFSET 464

static struct {
    bool ready, xsave;
    uint64_t xcr0;
    uint32_t size;       /* bytes XSAVE writes (or 512) */
    uint32_t frame_size; /* bytes the frame reserves: size + the trailing magic */
    uint32_t mxcsr_mask;
} g_fp;
static uint8_t g_fp_init[FPBUF_MAX] __attribute__((aligned(64)));

static void fp_setup(void)
{
    if (g_fp.ready)
        return;
    uint32_t id[4];
    cpuid(1, 0, id);
    uint8_t tmp[FXSAVE_SIZE] __attribute__((aligned(64)));
    memset(tmp, 0, sizeof(tmp));
    __asm__ volatile("fxsave64 %0" : "=m"(tmp));
    memcpy(&g_fp.mxcsr_mask, tmp + 28, 4);
    if (!g_fp.mxcsr_mask)
        g_fp.mxcsr_mask = 0xffbf;
    g_fp.size = FXSAVE_SIZE;
    if (id[2] & (1u << 27)) { /* OSXSAVE */
        /* The components are the user-state ones XGETBV reports, x87 to AVX-512 (bits 0-7).
         * On our KVM (PVM) XGETBV returns the host's XCR0, which may have more than the XCR0
         * the monitor set and CPUID describes: PKRU (bit 9) above all. Saving and restoring it
         * would let a signal frame or a stale buffer set the protection keys of the very
         * memory the kernel runs on, so it is left out: nothing in the enclave changes it. */
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        g_fp.xcr0 = ((uint64_t)hi << 32 | lo) & XSTATE_USER_MASK;
        /* the area's size: the end of the furthest component saved (CPUID may describe fewer
         * than XGETBV enables; MPX's two sit inside the AVX-512 layout's end anyway) */
        cpuid(0xd, 0, id);
        uint32_t size = id[1];
        for (unsigned c = 2; c < 8; c++) {
            if (!(g_fp.xcr0 & (1ull << c)))
                continue;
            cpuid(0xd, c, id);
            size = MAX(size, id[0] + id[1]);
        }
        if ((g_fp.xcr0 & 0x18) && size < 1088)
            size = 1088; /* MPX BNDREGS and BNDCSR end at 1088 */
        if (size >= FXSAVE_SIZE + 64 && size + 4 <= FPBUF_MAX) {
            g_fp.xsave = true;
            g_fp.size = size;
        }
    }
    g_fp.frame_size = g_fp.xsave ? g_fp.size + 4 : FXSAVE_SIZE;
    /* the initial state: x87 control word 0x37f, MXCSR 0x1f80, every component in its init
     * state (XSTATE_BV 0) */
    uint16_t fcw = 0x37f;
    uint32_t mxcsr = 0x1f80;
    memcpy(g_fp_init, &fcw, 2);
    memcpy(g_fp_init + 24, &mxcsr, 4);
    g_fp.ready = true;
}

static void fp_restore_buf(const void *buf)
{
    if (g_fp.xsave)
        __asm__ volatile("xrstor64 (%0)"
                         :
                         : "r"(buf), "a"((uint32_t)g_fp.xcr0), "d"((uint32_t)(g_fp.xcr0 >> 32))
                         : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" : : "r"(buf) : "memory");
}

/* ---- a thread's extended state while it is switched out (kernel/sched.c) ---- */
uint32_t fpu_area_size(void)
{
    fp_setup();
    return g_fp.size;
}

void fpu_init_area(void *area)
{
    fp_setup();
    memcpy(area, g_fp_init, g_fp.size);
}

void fpu_save(void *area)
{
    if (g_fp.xsave)
        __asm__ volatile("xsave64 (%0)"
                         :
                         : "r"(area), "a"((uint32_t)g_fp.xcr0), "d"((uint32_t)(g_fp.xcr0 >> 32))
                         : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(const void *area)
{
    fp_restore_buf(area);
}

/* ---- in signal frames (kernel/signal.c) ---- */
void fpu_save_to_user(uint64_t fp)
{
    uint8_t *p = (uint8_t *)fp;
    if (!g_fp.xsave) {
        __asm__ volatile("fxsave64 (%0)" : : "r"(p) : "memory");
        return;
    }
    memset(p + XSAVE_HDR, 0, 64); /* XSAVE leaves the header's reserved bytes as they were */
    __asm__ volatile("xsave64 (%0)"
                     :
                     : "r"(p), "a"((uint32_t)g_fp.xcr0), "d"((uint32_t)(g_fp.xcr0 >> 32))
                     : "memory");
    struct fpx_sw_bytes sw = {
        .magic1 = FP_XSTATE_MAGIC1,
        .extended_size = g_fp.size + 4,
        .xfeatures = g_fp.xcr0,
        .xstate_size = g_fp.size,
    };
    memcpy(p + FPX_SW_OFFSET, &sw, sizeof(sw));
    uint32_t magic2 = FP_XSTATE_MAGIC2;
    memcpy(p + g_fp.size, &magic2, 4);
}

bool fpu_restore_from_user(uint64_t fp)
{
    if (!fp) {
        fp_restore_buf(g_fp_init);
        return true;
    }
    uint8_t buf[FPBUF_MAX] __attribute__((aligned(64)));
    if (copy_from_user(buf, fp, FXSAVE_SIZE))
        return false;
    uint32_t mxcsr;
    memcpy(&mxcsr, buf + 24, 4);
    mxcsr &= g_fp.mxcsr_mask;
    memcpy(buf + 24, &mxcsr, 4);
    if (!g_fp.xsave) {
        fp_restore_buf(buf);
        return true;
    }
    struct fpx_sw_bytes sw;
    memcpy(&sw, buf + FPX_SW_OFFSET, sizeof(sw));
    uint64_t features = 0x3; /* a frame of FXSAVE layout only: x87 and SSE */
    if (sw.magic1 == FP_XSTATE_MAGIC1 && sw.xstate_size == g_fp.size &&
        sw.extended_size == g_fp.size + 4) {
        uint32_t magic2 = 0;
        if (copy_from_user(buf + FXSAVE_SIZE, fp + FXSAVE_SIZE, g_fp.size - FXSAVE_SIZE) ||
            copy_from_user(&magic2, fp + g_fp.size, 4))
            return false;
        if (magic2 == FP_XSTATE_MAGIC2)
            features = sw.xfeatures;
    }
    uint64_t xstate_bv;
    if (features == 0x3) {
        memset(buf + XSAVE_HDR, 0, g_fp.size - XSAVE_HDR);
        xstate_bv = 0x3;
    } else {
        memcpy(&xstate_bv, buf + XSAVE_HDR, 8);
    }
    xstate_bv &= features & g_fp.xcr0;
    memset(buf + XSAVE_HDR, 0, 64); /* XCOMP_BV and the reserved bytes must be zero */
    memcpy(buf + XSAVE_HDR, &xstate_bv, 8);
    fp_restore_buf(buf);
    return true;
}

uint32_t fpu_frame_size(void)
{
    fp_setup();
    return g_fp.frame_size;
}

bool fpu_xsave(void)
{
    fp_setup();
    return g_fp.xsave;
}

void fpu_reset(void)
{
    fp_setup();
    fp_restore_buf(g_fp_init);
}
