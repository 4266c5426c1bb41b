/* patch_generic.c: syscall sites whose number is not an immediate right before the `syscall`
 * (glibc's read, musl's and glibc's generic paths, syscall(2)): the enclave kernel patches them
 * with a jmp to dead padding after the function (kernel/patch.c). Each site runs many times (the
 * first run traps and may patch it) and its result is checked; PASS/FAIL only, so the native and
 * enclave runs must agree. The sites are written in assembly so that their layout is known: each
 * function starts at a 16-byte boundary and ends with a ret and alignment padding, except
 * pg_far_padding, whose padding is out of a rel8 jump's reach (it stays on the trap path). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "show.h"

long pg_reg(long nr, long a1);                /* mov %rdi,%rax; syscall */
long pg_xor_read(long fd, void *buf, long n); /* xor %eax,%eax; syscall (glibc's read) */
long pg_loop(long nr, long count);            /* a loop whose branch goes to the syscall */
long pg_branch_after(long nr, long skip);     /* a branch to the instruction after it */
long pg_two(long nr1, long nr2);              /* two sites before one padding */
long pg_rcx(long nr, unsigned long *rcx_r11); /* rcx and r11 after a patched site */
long pg_far_padding(long nr);                 /* no padding within reach */
long pg_mem(const long *nr);                  /* mov (%rdi),%eax; syscall */
long pg_last;                                 /* written rip-relative after a syscall */

__asm__(".text\n"
        ".p2align 4\n"
        ".globl pg_reg\n"
        "pg_reg:\n\t"
        "mov %rdi, %rax\n\t"
        "mov %rsi, %rdi\n\t"
        "syscall\n\t"
        "ret\n\t"
        ".p2align 4\n"

        ".globl pg_xor_read\n"
        "pg_xor_read:\n\t"
        "xor %eax, %eax\n\t"
        "syscall\n\t"
        "cmp $-4096, %rax\n\t"
        "ja 1f\n\t"
        "ret\n"
        "1:\n\t"
        "ret\n\t"
        ".p2align 4\n"

        /* the loop jumps back to the syscall instruction itself */
        ".globl pg_loop\n"
        "pg_loop:\n\t"
        "mov %rsi, %r8\n\t"
        "xor %r9d, %r9d\n\t"
        "mov %rdi, %rax\n"
        "2:\n\t"
        "syscall\n\t"
        "add %rax, %r9\n\t"
        "mov %rdi, %rax\n\t"
        "dec %r8\n\t"
        "jnz 2b\n\t"
        "mov %r9, %rax\n\t"
        "ret\n\t"
        ".p2align 4\n"

        /* skip != 0 jumps over the syscall to the rip-relative store right after it */
        ".globl pg_branch_after\n"
        "pg_branch_after:\n\t"
        "mov %rdi, %rax\n\t"
        "test %rsi, %rsi\n\t"
        "jnz 3f\n\t"
        "syscall\n"
        "3:\n\t"
        "mov %rax, pg_last(%rip)\n\t"
        "ret\n\t"
        ".p2align 4\n"

        ".globl pg_two\n"
        "pg_two:\n\t"
        "mov %rdi, %rax\n\t"
        "syscall\n\t"
        "mov %rax, %r8\n\t"
        "mov %rsi, %rax\n\t"
        "syscall\n\t"
        "add %r8, %rax\n\t"
        "ret\n\t"
        ".p2align 4\n"

        ".globl pg_rcx\n"
        "pg_rcx:\n\t"
        "mov %rdi, %rax\n\t"
        "syscall\n"
        "4:\n\t"
        "mov %rcx, (%rsi)\n\t"
        "mov %r11, 8(%rsi)\n\t"
        "lea 4b(%rip), %rcx\n\t"
        "mov %rcx, 16(%rsi)\n\t"
        "ret\n\t"
        ".p2align 4\n"

        ".globl pg_far_padding\n"
        "pg_far_padding:\n\t"
        "mov %rdi, %rax\n\t"
        "syscall\n\t"
        ".rept 50\n\t"
        "mov %rax, %rax\n\t"
        ".endr\n\t"
        "ret\n\t"
        ".p2align 4\n"

        ".globl pg_mem\n"
        "pg_mem:\n\t"
        "mov (%rdi), %eax\n\t"
        "syscall\n\t"
        "ret\n\t"
        ".p2align 4\n");

int main(int argc, char **argv)
{
    long pid = getpid(), ppid = getppid();
    int iters = argc > 1 ? atoi(argv[1]) : 50;
    int ok_reg = 1, ok_read = 1, ok_loop = 1, ok_after = 1, ok_two = 1, ok_rcx = 1, ok_far = 1,
        ok_mem = 1;
    char buf[16];
    for (int i = 0; i < iters; i++) {
        ok_reg &= pg_reg(SYS_getpid, 0) == pid && pg_reg(SYS_getppid, 0) == ppid;
        ok_reg &= pg_reg(SYS_close, -1) == -9; /* EBADF */
        ok_read &= pg_xor_read(0, buf, sizeof(buf)) == 0 && pg_xor_read(-1, buf, 1) == -9;
        ok_loop &= pg_loop(SYS_getppid, 10) == 10 * ppid;
        pg_last = 0;
        /* in both orders: patched first by the syscall path or by the branch */
        if (i % 2) {
            ok_after &= pg_branch_after(12345, 1) == 12345 && pg_last == 12345;
            ok_after &= pg_branch_after(SYS_getpid, 0) == pid && pg_last == pid;
        } else {
            ok_after &= pg_branch_after(SYS_getpid, 0) == pid && pg_last == pid;
            ok_after &= pg_branch_after(777, 1) == 777 && pg_last == 777;
        }
        ok_two &= pg_two(SYS_getpid, SYS_getppid) == pid + ppid;
        unsigned long regs[3];
        ok_rcx &= pg_rcx(SYS_getpid, regs) == pid && regs[0] == regs[2] && (regs[1] & 2);
        ok_far &= pg_far_padding(SYS_getppid) == ppid;
        long nr = i % 2 ? SYS_getpid : SYS_getppid;
        ok_mem &= pg_mem(&nr) == (i % 2 ? pid : ppid);
    }
    check(ok_reg, "the number from a register, three syscalls through one site");
    check(ok_read, "xor %eax,%eax; syscall: read at end of file and on a bad descriptor");
    check(ok_loop, "a loop that jumps back to the syscall instruction");
    check(ok_after, "a branch to the rip-relative instruction right after the syscall");
    check(ok_two, "two sites that share one padding");
    check(ok_rcx, "rcx and r11 after a site that takes the number from rax");
    check(ok_far, "a site with no padding in reach (the trap path)");
    check(ok_mem, "the number loaded from memory");
    return failures;
}
