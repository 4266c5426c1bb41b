/* sig_fault.c: hardware exceptions delivered to handlers: SIGSEGV (page fault, general
 * protection), SIGILL, SIGFPE (integer and SSE), SIGTRAP, SIGBUS (stack segment), with Linux's
 * si_code and si_addr; handlers that resume by editing the context (rip, rsp, MXCSR in the FPU
 * state) or leave with siglongjmp; a handler on the alternate stack; sigaltstack's rules. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int g_sig, g_code, g_count, g_onstack, g_ss_flags;
static volatile uintptr_t g_addr, g_rip;
static volatile uintptr_t g_resume; /* where the handler continues, 0: siglongjmp */
static volatile uintptr_t g_resume_rsp;
static volatile int g_fix_mxcsr, g_try_change;
static char *g_alt;
static size_t g_alt_size = 1 << 16;
static sigjmp_buf g_jb;
static volatile int *volatile g_bad = (volatile int *)0x18;

extern char segv_at[], segv_after[], gp_at[], gp_after[], ud_at[], ud_after[], div_at[],
    div_after[], int3_after[], xm_at[], xm_after[], ss_at[], ss_after[], ud2_after[], ud3_after[];

static void handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    g_sig = sig;
    g_code = si->si_code;
    g_addr = (uintptr_t)si->si_addr;
    g_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    g_count++;
    char here;
    g_onstack = g_alt && &here >= g_alt && &here < g_alt + g_alt_size;
    stack_t cur;
    sigaltstack(NULL, &cur);
    g_ss_flags = cur.ss_flags;
    if (g_try_change) {
        stack_t ss = {.ss_sp = g_alt, .ss_size = g_alt_size, .ss_flags = 0};
        g_try_change = sigaltstack(&ss, NULL) ? errno : 0;
    }
    if (g_fix_mxcsr) {
        unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
        unsigned m = 0x1f80;
        memcpy(fp + 24, &m, 4);
    }
    if (!g_resume)
        siglongjmp(g_jb, 1);
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)g_resume;
    if (g_resume_rsp)
        uc->uc_mcontext.gregs[REG_RSP] = (greg_t)g_resume_rsp;
}

static void install(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void report(const char *what, int sig, int code, uintptr_t addr, uintptr_t rip)
{
    printf("%-28s sig %d (want %d) code %d (want %d) addr %s rip %s count %d\n", what, g_sig, sig,
           g_code, code, g_addr == addr ? "ok" : "WRONG", g_rip == rip ? "ok" : "WRONG", g_count);
    g_sig = g_code = 0;
    g_addr = g_rip = 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    install(SIGSEGV, 0);
    install(SIGILL, 0);
    install(SIGFPE, 0);
    install(SIGTRAP, 0);
    install(SIGBUS, SA_ONSTACK);

    /* a write to an unmapped page: SEGV_MAPERR, si_addr the address; resume after it */
    g_resume = (uintptr_t)segv_after;
    __asm__ volatile("mov $0x10, %%rax\n"
                     ".globl segv_at\nsegv_at: movl $1, (%%rax)\n"
                     ".globl segv_after\nsegv_after:\n" ::
                         : "rax", "memory");
    report("page fault", SIGSEGV, 1, 0x10, (uintptr_t)segv_at);

    /* a non-canonical address: general protection, SI_KERNEL, no address */
    g_resume = (uintptr_t)gp_after;
    __asm__ volatile("movabs $0x8000000000001000, %%rax\n"
                     ".globl gp_at\ngp_at: movq (%%rax), %%rax\n"
                     ".globl gp_after\ngp_after:\n" ::
                         : "rax", "memory");
    report("general protection", SIGSEGV, 0x80, 0, (uintptr_t)gp_at);

    /* ud2: ILL_ILLOPN at the instruction */
    g_resume = (uintptr_t)ud_after;
    __asm__ volatile(".globl ud_at\nud_at: ud2\n.globl ud_after\nud_after:\n");
    report("invalid opcode", SIGILL, 2, (uintptr_t)ud_at, (uintptr_t)ud_at);

    /* integer division by zero: FPE_INTDIV at the instruction */
    g_resume = (uintptr_t)div_after;
    __asm__ volatile("xor %%ecx, %%ecx\nmov $7, %%eax\ncltd\n"
                     ".globl div_at\ndiv_at: idivl %%ecx\n"
                     ".globl div_after\ndiv_after:\n" ::
                         : "rax", "rcx", "rdx");
    report("divide error", SIGFPE, 1, (uintptr_t)div_at, (uintptr_t)div_at);

    /* int3: SIGTRAP, SI_KERNEL, rip after the int3 */
    g_resume = (uintptr_t)int3_after;
    __asm__ volatile("int3\n.globl int3_after\nint3_after:\n");
    report("breakpoint", SIGTRAP, 0x80, 0, (uintptr_t)int3_after);

    /* SSE division by zero with the exception unmasked: FPE_FLTDIV; the handler masks it in
     * the saved MXCSR, which rt_sigreturn loads */
    g_resume = (uintptr_t)xm_after;
    g_fix_mxcsr = 1;
    unsigned mx = 0x1f80 & ~0x200, after;
    double one = 1.0, zero = 0.0;
    __asm__ volatile("ldmxcsr %1\n"
                     "movsd %2, %%xmm1\n"
                     ".globl xm_at\nxm_at: divsd %3, %%xmm1\n"
                     ".globl xm_after\nxm_after:\n"
                     "stmxcsr %0\n"
                     : "=m"(after)
                     : "m"(mx), "m"(one), "m"(zero)
                     : "xmm1");
    g_fix_mxcsr = 0;
    report("SIMD floating point", SIGFPE, 3, (uintptr_t)xm_at, (uintptr_t)xm_at);
    printf("MXCSR after the handler fixed it: %#x\n", after);

    /* leave a handler with siglongjmp, twice: the mask comes back each time */
    g_resume = 0;
    for (int i = 0; i < 2; i++) {
        if (!sigsetjmp(g_jb, 1))
            *g_bad = 1;
        report("siglongjmp", SIGSEGV, 1, 0x18, g_rip);
    }

    /* the alternate stack */
    stack_t ss, old;
    sigaltstack(NULL, &old);
    printf("altstack at start: flags %d size %zu\n", old.ss_flags, old.ss_size);
    ss.ss_sp = malloc(1000);
    ss.ss_size = 1000;
    ss.ss_flags = 0;
    printf("altstack of 1000 bytes: %s\n", sigaltstack(&ss, NULL) ? strerror(errno) : "ok");
    ss.ss_flags = 0x10;
    ss.ss_size = 1 << 16;
    printf("altstack with flags 0x10: %s\n", sigaltstack(&ss, NULL) ? strerror(errno) : "ok");
    g_alt = malloc(g_alt_size);
    ss.ss_sp = g_alt;
    ss.ss_size = g_alt_size;
    ss.ss_flags = 0;
    printf("altstack set: %s\n", sigaltstack(&ss, NULL) ? strerror(errno) : "ok");
    sigaltstack(NULL, &old);
    printf("altstack now: flags %d size ok %d sp ok %d\n", old.ss_flags, old.ss_size == g_alt_size,
           old.ss_sp == g_alt);

    /* a stack-segment fault (push with a non-canonical rsp): SIGBUS, on the alternate stack */
    g_resume = (uintptr_t)ss_after;
    g_try_change = 1;
    uintptr_t saved_rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(saved_rsp));
    g_resume_rsp = saved_rsp;
    __asm__ volatile("mov %%rsp, %%rbx\n"
                     "movabs $0x8000000000010000, %%rsp\n"
                     ".globl ss_at\nss_at: push %%rax\n"
                     ".globl ss_after\nss_after:\n"
                     "mov %%rbx, %%rsp\n" ::
                         : "rbx", "memory");
    g_resume_rsp = 0;
    printf("stack fault: sig %d code %d on the alternate stack %d ss_flags %d change: %s\n", g_sig,
           g_code, g_onstack, g_ss_flags, g_try_change ? strerror(g_try_change) : "ok");
    g_try_change = 0;

    /* a handler without SA_ONSTACK stays on the main stack */
    g_resume = (uintptr_t)ud2_after;
    __asm__ volatile("ud2\n.globl ud2_after\nud2_after:\n" ::: "memory");
    printf("without SA_ONSTACK: on the alternate stack %d ss_flags %d\n", g_onstack, g_ss_flags);

    /* SS_AUTODISARM: disarmed while the handler runs, back afterwards */
    ss.ss_flags = (int)(1u << 31);
    printf("altstack with SS_AUTODISARM: %s\n", sigaltstack(&ss, NULL) ? strerror(errno) : "ok");
    install(SIGILL, SA_ONSTACK);
    g_resume = (uintptr_t)ud3_after;
    __asm__ volatile("ud2\n.globl ud3_after\nud3_after:\n" ::: "memory");
    sigaltstack(NULL, &old);
    printf("autodisarm: on the alternate stack %d ss_flags in handler %#x after %#x\n", g_onstack,
           (unsigned)g_ss_flags, (unsigned)old.ss_flags);

    ss.ss_flags = SS_DISABLE;
    printf("altstack disabled: %s\n", sigaltstack(&ss, NULL) ? strerror(errno) : "ok");
    sigaltstack(NULL, &old);
    printf("altstack now: flags %d size %zu\n", old.ss_flags, old.ss_size);
    printf("done\n");
    return 0;
}
