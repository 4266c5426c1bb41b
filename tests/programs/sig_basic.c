/* sig_basic.c: signals sent by the program to itself: handlers (SA_SIGINFO, SA_NODEFER,
 * SA_RESETHAND, sa_mask), the mask, pending and queued signals, sigtimedwait, the siginfo and
 * ucontext a handler sees (registers, mask, FPU state), registers and flags preserved across a
 * delivery from a raw syscall, and the error cases. Prints only facts that are the same on
 * Linux and in an enclave. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define CHECK(c) printf("%-60s %s\n", #c, (c) ? "ok" : "FAILED")

static volatile int g_count[65], g_order[32], g_norder, g_code, g_pid_ok, g_value;
static volatile int g_depth, g_max_depth, g_calls;
static volatile uint64_t g_mask_in_handler, g_uc_mask;

static void rec(int sig, siginfo_t *si)
{
    g_count[sig]++;
    if (g_norder < 32)
        g_order[g_norder++] = sig;
    g_code = si ? si->si_code : -1000;
    g_pid_ok = si ? si->si_pid == getpid() : 0;
    g_value = si ? si->si_value.sival_int : 0;
}

static void h_info(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    rec(sig, si);
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    memcpy((void *)&g_mask_in_handler, &cur, 8);
    memcpy((void *)&g_uc_mask, &uc->uc_sigmask, 8);
}

static void h_plain(int sig)
{
    rec(sig, NULL);
}

static void h_nodefer(int sig)
{
    g_depth++;
    g_calls++;
    if (g_depth > g_max_depth)
        g_max_depth = g_depth;
    if (g_calls < 3)
        raise(sig);
    g_depth--;
}

static void h_raise_other(int sig, siginfo_t *si, void *uc)
{
    h_info(sig, si, uc);
    raise(SIGUSR2); /* blocked by sa_mask: runs after this handler returns */
    if (g_count[SIGUSR2] == 0 && g_norder < 32)
        g_order[g_norder++] = 100 + sig;
}

static void set(int sig, void *h, int flags, int masked)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    if (flags & SA_SIGINFO)
        sa.sa_sigaction = h;
    else
        sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (masked)
        sigaddset(&sa.sa_mask, masked);
    if (sigaction(sig, &sa, NULL))
        printf("sigaction(%d) failed: %s\n", sig, strerror(errno));
}

static void reset_order(void)
{
    g_norder = 0;
    memset((void *)g_count, 0, sizeof(g_count));
}

static void print_order(const char *what)
{
    printf("%s:", what);
    for (int i = 0; i < g_norder; i++)
        printf(" %d", g_order[i]);
    printf("\n");
}

static long sc_err(long r)
{
    return r == -1 ? -errno : r;
}

/* ---- registers across a delivery from a raw syscall ---- */
/* regtest(out, pid, sig, form): loads known values into every register, sends sig with
 * kill(pid, sig) from a `syscall` of the given form (0: mov $62,%eax; 1: mov $62,%rax), with
 * DF set, and stores the registers that follow into out[]. */
uint64_t regtest(uint64_t *out, long pid, long sig, long form);
extern char regtest_ret0[], regtest_ret1[];
__asm__(".text\n"
        ".globl regtest\n"
        "regtest:\n"
        "  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
        "  mov %rdi, %r15\n"
        "  mov %rcx, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  movabs $0x1111111111111111, %rbx\n"
        "  movabs $0x2222222222222222, %rbp\n"
        "  movabs $0x3333333333333333, %r12\n"
        "  movabs $0x4444444444444444, %r13\n"
        "  movabs $0x5555555555555555, %r14\n"
        "  movabs $0x6666666666666666, %rdx\n"
        "  movabs $0x7777777777777777, %r10\n"
        "  movabs $0x8888888888888888, %r8\n"
        "  movabs $0x9999999999999999, %r9\n"
        "  std\n"
        "  test %rax, %rax\n"
        "  jnz 1f\n"
        "  mov $62, %eax\n"
        "  syscall\n"
        ".globl regtest_ret0\n"
        "regtest_ret0:\n"
        "  jmp 2f\n"
        "1:\n"
        "  mov $62, %rax\n"
        "  syscall\n"
        ".globl regtest_ret1\n"
        "regtest_ret1:\n"
        "2:\n"
        "  pushfq\n"
        "  cld\n"
        "  mov %rax, 0(%r15)\n"
        "  mov %rbx, 8(%r15)\n"
        "  mov %rbp, 16(%r15)\n"
        "  mov %r12, 24(%r15)\n"
        "  mov %r13, 32(%r15)\n"
        "  mov %r14, 40(%r15)\n"
        "  mov %rdx, 48(%r15)\n"
        "  mov %r10, 56(%r15)\n"
        "  mov %r8, 64(%r15)\n"
        "  mov %r9, 72(%r15)\n"
        "  mov %rdi, 80(%r15)\n"
        "  mov %rsi, 88(%r15)\n"
        "  mov %rcx, 96(%r15)\n"
        "  mov %r11, 104(%r15)\n"
        "  pop %rax\n"
        "  mov %rax, 112(%r15)\n"
        "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
        "  ret\n"
        "  .p2align 4\n");

static volatile int g_modify, g_uc_ok;

static void h_regs(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    (void)si;
    g_count[sig]++;
    /* what the handler sees of the interrupted context */
    g_uc_ok = g[REG_RBX] == (greg_t)0x1111111111111111ull &&
              g[REG_R13] == (greg_t)0x4444444444444444ull &&
              g[REG_R9] == (greg_t)0x9999999999999999ull && g[REG_RAX] == 0 &&
              (g[REG_RIP] == (greg_t)regtest_ret0 || g[REG_RIP] == (greg_t)regtest_ret1) &&
              g[REG_RCX] == g[REG_RIP] && (g[REG_EFL] & 0x400) && uc->uc_mcontext.fpregs;
    /* clobber what a handler may clobber */
    volatile double d = 1.5;
    for (int i = 0; i < 10; i++)
        d = d * 3.25 + (double)i;
    char buf[256];
    memset(buf, 0x5a, sizeof(buf));
    snprintf(buf, sizeof(buf), "%f %d", d, sig);
    if (g_modify) {
        g[REG_RAX] = 12345;
        g[REG_R12] = 0x5a5a;
    }
}

static void test_registers(void)
{
    set(SIGUSR1, h_regs, SA_SIGINFO, 0);
    for (int form = 0; form < 2; form++) {
        for (int round = 0; round < 3; round++) {
            uint64_t o[16];
            g_modify = round == 2;
            g_uc_ok = 0;
            uint64_t ret = (uint64_t)(form ? regtest_ret1 : regtest_ret0);
            regtest(o, getpid(), SIGUSR1, form);
            int ok = o[0] == (g_modify ? 12345u : 0) && o[1] == 0x1111111111111111ull &&
                     o[2] == 0x2222222222222222ull &&
                     o[3] == (g_modify ? 0x5a5au : 0x3333333333333333ull) &&
                     o[4] == 0x4444444444444444ull && o[5] == 0x5555555555555555ull &&
                     o[6] == 0x6666666666666666ull && o[7] == 0x7777777777777777ull &&
                     o[8] == 0x8888888888888888ull && o[9] == 0x9999999999999999ull &&
                     o[10] == (uint64_t)getpid() && o[11] == SIGUSR1 && o[12] == ret &&
                     (o[13] & 0x8d5) == (o[14] & 0x8d5) && (o[14] & 0x400);
            printf("registers after a delivery, form %d round %d: %s, handler saw them: %s\n", form,
                   round, ok ? "ok" : "FAILED", g_uc_ok ? "ok" : "FAILED");
            if (!ok)
                for (int i = 0; i < 15; i++)
                    printf("  o[%d] = %#llx\n", i, (unsigned long long)o[i]);
        }
    }
}

/* ---- FPU state across a delivery ---- */
static volatile unsigned g_handler_mxcsr, g_frame_mxcsr, g_frame_xmm_ok, g_magic_ok;

static unsigned get_mxcsr(void)
{
    unsigned m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return m;
}

static void set_mxcsr(unsigned m)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(m));
}

static void h_fpu(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)si;
    g_count[sig]++;
    g_handler_mxcsr = get_mxcsr();
    const unsigned char *fp = (const unsigned char *)uc->uc_mcontext.fpregs;
    unsigned mx, x0;
    memcpy(&mx, fp + 24, 4);
    memcpy(&x0, fp + 160, 4); /* xmm0, element 0 */
    g_frame_mxcsr = mx;
    g_frame_xmm_ok = x0 == 0x01020304u;
    unsigned magic1, xsize, magic2;
    memcpy(&magic1, fp + 464, 4);
    memcpy(&xsize, fp + 464 + 16, 4);
    g_magic_ok = 1;
    if (uc->uc_flags & 1) { /* UC_FP_XSTATE */
        memcpy(&magic2, fp + xsize, 4);
        g_magic_ok = magic1 == 0x46505853u && magic2 == 0x46505845u;
    }
    /* clobber the vector registers */
    __asm__ volatile("pcmpeqd %%xmm0, %%xmm0; pcmpeqd %%xmm7, %%xmm7; pcmpeqd %%xmm15, %%xmm15" ::
                         : "xmm0", "xmm7", "xmm15");
    set_mxcsr(0x1f80 | 0x6000);
}

static int have_avx(void)
{
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27)) || !(c & (1u << 28)))
        return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6) == 6;
}

static void test_fpu(void)
{
    set(SIGUSR2, h_fpu, SA_SIGINFO, 0);
    unsigned saved = get_mxcsr();
    set_mxcsr(0x1f80 | 0x6000); /* round toward zero */
    static const unsigned v0[4] = {0x01020304, 5, 6, 7}, v7[4] = {8, 9, 10, 11},
                          v15[4] = {12, 13, 14, 15};
    unsigned r0[4], r7[4], r15[4];
    __asm__ volatile("movdqu %0, %%xmm0; movdqu %1, %%xmm7; movdqu %2, %%xmm15" ::"m"(v0), "m"(v7),
                     "m"(v15)
                     : "xmm0", "xmm7", "xmm15");
    syscall(SYS_kill, getpid(), SIGUSR2);
    __asm__ volatile("movdqu %%xmm0, %0; movdqu %%xmm7, %1; movdqu %%xmm15, %2"
                     : "=m"(r0), "=m"(r7), "=m"(r15));
    unsigned after = get_mxcsr();
    set_mxcsr(saved);
    CHECK(g_handler_mxcsr == 0x1f80);
    CHECK(g_frame_mxcsr == (0x1f80 | 0x6000));
    CHECK(g_frame_xmm_ok);
    CHECK(g_magic_ok);
    CHECK(after == (0x1f80 | 0x6000));
    CHECK(!memcmp(r0, v0, 16) && !memcmp(r7, v7, 16) && !memcmp(r15, v15, 16));
    int ymm_ok = 1;
    if (have_avx()) {
        static const unsigned y[8] = {1, 2, 3, 4, 5, 6, 7, 0x77777777};
        unsigned ry[8];
        __asm__ volatile("vmovdqu %0, %%ymm3" ::"m"(y) : "xmm3");
        syscall(SYS_kill, getpid(), SIGUSR2);
        __asm__ volatile("vmovdqu %%ymm3, %0; vzeroupper" : "=m"(ry));
        ymm_ok = !memcmp(ry, y, 32);
        set_mxcsr(saved);
    }
    CHECK(ymm_ok);
}

/* ---- error cases, through the raw syscalls ---- */
static void test_errors(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    uint64_t k[4] = {(uint64_t)(uintptr_t)SIG_IGN, 0, 0, 0};
    printf("rt_sigaction(0) = %ld\n", sc_err(syscall(SYS_rt_sigaction, 0, k, 0, 8)));
    printf("rt_sigaction(65) = %ld\n", sc_err(syscall(SYS_rt_sigaction, 65, k, 0, 8)));
    printf("rt_sigaction(-1) = %ld\n", sc_err(syscall(SYS_rt_sigaction, -1, k, 0, 8)));
    printf("rt_sigaction(SIGKILL, act) = %ld\n",
           sc_err(syscall(SYS_rt_sigaction, SIGKILL, k, 0, 8)));
    printf("rt_sigaction(SIGSTOP, act) = %ld\n",
           sc_err(syscall(SYS_rt_sigaction, SIGSTOP, k, 0, 8)));
    uint64_t old[4];
    printf("rt_sigaction(SIGKILL, NULL, old) = %ld\n",
           sc_err(syscall(SYS_rt_sigaction, SIGKILL, 0, old, 8)));
    printf("rt_sigaction size 4 = %ld\n", sc_err(syscall(SYS_rt_sigaction, SIGUSR1, k, 0, 4)));
    printf("rt_sigaction bad act = %ld\n",
           sc_err(syscall(SYS_rt_sigaction, SIGUSR1, (void *)8, 0, 8)));
    printf("rt_sigaction bad old = %ld\n",
           sc_err(syscall(SYS_rt_sigaction, SIGUSR1, 0, (void *)8, 8)));
    printf("rt_sigaction bad act, bad sig = %ld\n",
           sc_err(syscall(SYS_rt_sigaction, 99, (void *)8, 0, 8)));
    uint64_t m = 0;
    printf("rt_sigprocmask how 7 = %ld\n", sc_err(syscall(SYS_rt_sigprocmask, 7, &m, 0, 8)));
    printf("rt_sigprocmask how 7, no set = %ld\n",
           sc_err(syscall(SYS_rt_sigprocmask, 7, 0, &m, 8)));
    printf("rt_sigprocmask size 16 = %ld\n",
           sc_err(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &m, 0, 16)));
    printf("rt_sigprocmask bad set = %ld\n",
           sc_err(syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)8, 0, 8)));
    printf("rt_sigprocmask bad old = %ld\n",
           sc_err(syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, (void *)8, 8)));
    printf("rt_sigpending size 16 = %ld\n", sc_err(syscall(SYS_rt_sigpending, &m, 16)));
    printf("rt_sigpending size 4 = %ld\n", sc_err(syscall(SYS_rt_sigpending, &m, 4)));
    printf("rt_sigpending bad = %ld\n", sc_err(syscall(SYS_rt_sigpending, (void *)8, 8)));
    printf("rt_sigsuspend size 4 = %ld\n", sc_err(syscall(SYS_rt_sigsuspend, &m, 4)));
    printf("rt_sigsuspend bad = %ld\n", sc_err(syscall(SYS_rt_sigsuspend, (void *)8, 8)));
    int me = getpid(), tid = (int)syscall(SYS_gettid);
    printf("kill(me, 0) = %ld\n", sc_err(syscall(SYS_kill, me, 0)));
    printf("kill(0, 0) = %ld\n", sc_err(syscall(SYS_kill, 0, 0)));
    /* its own group as kill(0): -getpgrp() is kill(-1), every other process, where the group is
     * 1 (the first process of an enclave is the leader of group 1) */
    printf("kill(own group, 0) = %ld\n", sc_err(syscall(SYS_kill, 0, 0)));
    printf("kill(me, 65) = %ld\n", sc_err(syscall(SYS_kill, me, 65)));
    printf("kill(me, -1) = %ld\n", sc_err(syscall(SYS_kill, me, -1)));
    printf("kill(nobody, 0) = %ld\n", sc_err(syscall(SYS_kill, 0x3ffffff0, 0)));
    printf("kill(nobody, 65) = %ld\n", sc_err(syscall(SYS_kill, 0x3ffffff0, 65)));
    printf("tgkill(me, me, 0) = %ld\n", sc_err(syscall(SYS_tgkill, me, tid, 0)));
    printf("tgkill(0, tid, 0) = %ld\n", sc_err(syscall(SYS_tgkill, 0, tid, 0)));
    printf("tgkill(me, 0, 0) = %ld\n", sc_err(syscall(SYS_tgkill, me, 0, 0)));
    printf("tgkill(me, -5, 0) = %ld\n", sc_err(syscall(SYS_tgkill, me, -5, 0)));
    printf("tgkill(me, nobody, 10) = %ld\n", sc_err(syscall(SYS_tgkill, me, 0x3ffffff0, 10)));
    printf("tgkill(nobody, tid, 10) = %ld\n", sc_err(syscall(SYS_tgkill, 0x3ffffff0, tid, 10)));
    printf("tgkill(me, tid, 99) = %ld\n", sc_err(syscall(SYS_tgkill, me, tid, 99)));
    printf("tkill(0, 0) = %ld\n", sc_err(syscall(SYS_tkill, 0, 0)));
    printf("tkill(tid, 0) = %ld\n", sc_err(syscall(SYS_tkill, tid, 0)));
    printf("tkill(nobody, 0) = %ld\n", sc_err(syscall(SYS_tkill, 0x3ffffff0, 0)));
    printf("tkill(tid, 65) = %ld\n", sc_err(syscall(SYS_tkill, tid, 65)));
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_code = SI_QUEUE;
    printf("rt_sigqueueinfo(me, 0) = %ld\n", sc_err(syscall(SYS_rt_sigqueueinfo, me, 0, &si)));
    printf("rt_sigqueueinfo(me, 70) = %ld\n", sc_err(syscall(SYS_rt_sigqueueinfo, me, 70, &si)));
    printf("rt_sigqueueinfo bad = %ld\n",
           sc_err(syscall(SYS_rt_sigqueueinfo, me, SIGUSR1, (void *)8)));
    struct timespec ts = {0, 0};
    m = 1ull << (SIGUSR1 - 1);
    printf("rt_sigtimedwait size 4 = %ld\n", sc_err(syscall(SYS_rt_sigtimedwait, &m, 0, &ts, 4)));
    printf("rt_sigtimedwait bad set = %ld\n",
           sc_err(syscall(SYS_rt_sigtimedwait, (void *)8, 0, &ts, 8)));
    printf("rt_sigtimedwait bad ts = %ld\n",
           sc_err(syscall(SYS_rt_sigtimedwait, &m, 0, (void *)8, 8)));
    ts.tv_nsec = 1000000000;
    printf("rt_sigtimedwait nsec 1e9 = %ld\n", sc_err(syscall(SYS_rt_sigtimedwait, &m, 0, &ts, 8)));
    ts.tv_nsec = 0;
    printf("rt_sigtimedwait nothing, 0 s = %ld\n",
           sc_err(syscall(SYS_rt_sigtimedwait, &m, 0, &ts, 8)));
    /* libc's view of the same */
    printf("sigaction(0) = %d\n", sigaction(0, &sa, NULL) ? -errno : 0);
    printf("sigaction(SIGKILL) = %d\n", sigaction(SIGKILL, &sa, NULL) ? -errno : 0);
    printf("kill(me, 0) = %d\n", kill(me, 0) ? -errno : 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t s, old;

    /* raise, kill, tgkill, sigqueue: one delivery each, with the sender's siginfo */
    set(SIGUSR1, h_info, SA_SIGINFO, 0);
    raise(SIGUSR1);
    printf("raise: count %d si_code %d pid ok %d\n", g_count[SIGUSR1], g_code, g_pid_ok);
    kill(getpid(), SIGUSR1);
    printf("kill: count %d si_code %d pid ok %d\n", g_count[SIGUSR1], g_code, g_pid_ok);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
    printf("tgkill: count %d si_code %d pid ok %d\n", g_count[SIGUSR1], g_code, g_pid_ok);
    syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR1);
    printf("tkill: count %d si_code %d pid ok %d\n", g_count[SIGUSR1], g_code, g_pid_ok);
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 42});
    printf("sigqueue: count %d si_code %d value %d\n", g_count[SIGUSR1], g_code, g_value);
    printf("mask in handler has SIGUSR1: %d; uc_sigmask has it: %d\n",
           !!(g_mask_in_handler & (1ull << (SIGUSR1 - 1))),
           !!(g_uc_mask & (1ull << (SIGUSR1 - 1))));

    /* blocked signals stay pending; standard ones do not queue */
    reset_order();
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, &old);
    raise(SIGUSR1);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    sigset_t p;
    sigpending(&p);
    printf("blocked: count %d pending %d\n", g_count[SIGUSR1], sigismember(&p, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    sigpending(&p);
    printf("unblocked: count %d pending %d si_code %d\n", g_count[SIGUSR1],
           sigismember(&p, SIGUSR1), g_code);

    /* real-time signals queue, in order, with their values */
    reset_order();
    int rt = SIGRTMIN + 2;
    set(rt, h_info, SA_SIGINFO, 0);
    sigemptyset(&s);
    sigaddset(&s, rt);
    sigprocmask(SIG_BLOCK, &s, &old);
    int vals[3] = {7, 8, 9};
    for (int i = 0; i < 3; i++)
        sigqueue(getpid(), rt, (union sigval){.sival_int = vals[i]});
    printf("rt blocked: count %d\n", g_count[rt]);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("rt unblocked: count %d last value %d\n", g_count[rt], g_value);

    /* several pending signals unblocked at once: Linux builds the frames in signal order, so
     * the handler of the highest number runs first */
    reset_order();
    set(SIGUSR2, h_info, SA_SIGINFO, 0);
    set(SIGHUP, h_info, SA_SIGINFO, 0);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigaddset(&s, SIGHUP);
    sigaddset(&s, rt);
    sigprocmask(SIG_BLOCK, &s, &old);
    raise(SIGUSR2);
    raise(rt);
    raise(SIGUSR1);
    raise(SIGHUP);
    sigprocmask(SIG_SETMASK, &old, NULL);
    print_order("order of delivery");

    /* sa_mask: SIGUSR2 raised inside the SIGUSR1 handler waits for it to return */
    reset_order();
    set(SIGUSR1, h_raise_other, SA_SIGINFO, SIGUSR2);
    raise(SIGUSR1);
    print_order("sa_mask");
    printf("mask in handler has SIGUSR2: %d\n", !!(g_mask_in_handler & (1ull << (SIGUSR2 - 1))));

    /* SA_NODEFER lets the handler interrupt itself; without it the signal waits */
    g_max_depth = g_calls = 0;
    set(SIGUSR1, h_nodefer, SA_NODEFER, 0);
    raise(SIGUSR1);
    printf("SA_NODEFER depth %d calls %d\n", g_max_depth, g_calls);
    g_max_depth = g_calls = 0;
    set(SIGUSR1, h_nodefer, 0, 0);
    raise(SIGUSR1);
    printf("without SA_NODEFER depth %d calls %d\n", g_max_depth, g_calls);

    /* SA_RESETHAND: one delivery, then the default */
    reset_order();
    set(SIGUSR1, h_plain, SA_RESETHAND, 0);
    raise(SIGUSR1);
    struct sigaction q;
    sigaction(SIGUSR1, NULL, &q);
    printf("SA_RESETHAND: count %d handler now default %d\n", g_count[SIGUSR1],
           q.sa_handler == SIG_DFL);

    /* ignored signals are discarded; ignoring a pending one discards it */
    reset_order();
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, &old);
    signal(SIGUSR2, h_plain);
    raise(SIGUSR2);
    sigpending(&p);
    int was = sigismember(&p, SIGUSR2);
    signal(SIGUSR2, SIG_IGN);
    sigpending(&p);
    printf("ignore: pending before %d after %d\n", was, sigismember(&p, SIGUSR2));
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* signals whose default action is to ignore them */
    raise(SIGCHLD);
    raise(SIGURG);
    raise(SIGWINCH);
    raise(SIGCONT);
    printf("default-ignored signals: still running, count %d\n", g_count[SIGUSR2]);

    /* the mask cannot hold SIGKILL or SIGSTOP; unknown sa_flags read back clear */
    sigfillset(&s);
    sigprocmask(SIG_SETMASK, &s, &old);
    sigprocmask(SIG_SETMASK, &old, &s);
    printf("full mask: SIGKILL %d SIGSTOP %d SIGTERM %d\n", sigismember(&s, SIGKILL),
           sigismember(&s, SIGSTOP), sigismember(&s, SIGTERM));
    uint64_t ka[4] = {(uint64_t)(uintptr_t)h_plain, 0x400 | SA_RESTART, 0, ~0ull}, kb[4];
    syscall(SYS_rt_sigaction, SIGUSR2, ka, 0, 8);
    syscall(SYS_rt_sigaction, SIGUSR2, 0, kb, 8);
    printf("sa_flags back %#llx, mask has SIGKILL %d\n", (unsigned long long)kb[1],
           !!(kb[3] & (1ull << (SIGKILL - 1))));

    /* sigtimedwait takes a blocked pending signal without running its handler */
    reset_order();
    set(SIGUSR1, h_plain, 0, 0);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, &old);
    raise(SIGUSR1);
    siginfo_t si;
    struct timespec zero = {0, 0}, t50 = {0, 50000000};
    int got = sigtimedwait(&s, &si, &zero);
    printf("sigtimedwait: %d si_code %d handler count %d\n", got, si.si_code, g_count[SIGUSR1]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    got = sigtimedwait(&s, &si, &t50);
    int e = errno;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("sigtimedwait timeout: %d %s, waited 40..1000 ms: %d\n", got, strerror(e),
           ms >= 40 && ms < 1000);
    sigprocmask(SIG_SETMASK, &old, NULL);

    test_registers();
    test_fpu();
    test_errors();
    printf("done\n");
    return 0;
}
