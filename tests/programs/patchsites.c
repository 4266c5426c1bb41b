/* patchsites.c: syscall sites the enclave kernel's patcher must leave correct. Each is run many
 * times (the first run of a site traps and may patch it) and its result checked. PASS/FAIL only,
 * so the native and enclave runs must agree. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "show.h"

/* Two paths into one syscall instruction: the fall-through sets eax with the patchable
 * `mov $imm32, %eax`, the other jumps straight to the syscall with another number. */
static long two_paths(int second)
{
    long ret;
    __asm__ volatile("test %1, %1\n\t"
                     "jz 1f\n\t"
                     "mov $%c2, %%eax\n\t"
                     "jmp 2f\n"
                     "1:\n\t"
                     "mov $%c3, %%eax\n"
                     "2:\n\t"
                     "syscall"
                     : "=a"(ret)
                     : "r"(second), "i"(SYS_getpid), "i"(SYS_getppid)
                     : "rcx", "r11", "memory");
    return ret;
}

/* `mov $39, %r8d` ends with the same bytes as `mov $39, %eax` (b8 27 00 00 00) after a REX
 * prefix: the patcher must not take it for the syscall number's mov. */
static long rex_lookalike(long *r8_after)
{
    long ret, r8;
    __asm__ volatile("mov $%c2, %%eax\n\t"
                     "mov $%c2, %%r8d\n\t"
                     "syscall\n\t"
                     "mov %%r8, %1"
                     : "=a"(ret), "=r"(r8)
                     : "i"(SYS_getpid)
                     : "rcx", "r11", "r8", "memory");
    *r8_after = r8;
    return ret;
}

/* rcx and r11 after a syscall hold the return address and the flags, as on Linux. */
static int rcx_r11_linux_values(void)
{
    unsigned long rcx, r11, rip;
    __asm__ volatile("mov $%c3, %%eax\n\t"
                     "syscall\n"
                     "3:\n\t"
                     "mov %%rcx, %0\n\t"
                     "mov %%r11, %1\n\t"
                     "lea 3b(%%rip), %2"
                     : "=r"(rcx), "=r"(r11), "=r"(rip)
                     : "i"(SYS_getpid)
                     : "rax", "rcx", "r11", "memory");
    return rcx == rip && (r11 & 0x2) != 0;
}

int main(void)
{
    long pid = getpid(), ppid = getppid();
    int ok_a = 1, ok_b = 1, ok_rex = 1, ok_regs = 1;
    for (int i = 0; i < 50; i++) {
        /* alternate which path runs first and in which order */
        int order = i % 3;
        ok_a &= two_paths(order == 0) == (order == 0 ? pid : ppid);
        ok_b &= two_paths(order != 0) == (order != 0 ? pid : ppid);
        long r8;
        ok_rex &= rex_lookalike(&r8) == pid && r8 == SYS_getpid;
        ok_regs &= rcx_r11_linux_values();
    }
    check(ok_a && ok_b, "a syscall reached by two paths with different numbers");
    check(ok_rex, "mov to r8d that looks like mov to eax stays a mov to r8d");
    check(ok_regs, "rcx and r11 hold the return address and the flags");
    return failures;
}
