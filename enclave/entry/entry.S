/* entry.S: the enclave kernel's CPL3 entry points and the one path back to the application.
 *
 * Every way into the kernel builds a struct regs (include/kernel.h) on a kernel stack; every
 * way out goes through alc_return_to_user, which restores all general registers, the flags,
 * the stack and the instruction pointer without touching the application's stack.
 */
#include "abi/alcove_abi.h"
#include "percpu_asm.h"

    .section .text
    .globl alc_entry_boot
alc_entry_boot:
    /* rdi = boot info GPA; rsp = the CPU window's kernel stack (set by the monitor) */
    xorl %ebp, %ebp
    call kernel_main
    ud2

    .globl alc_entry_ap
alc_entry_ap:
    xorl %ebp, %ebp
    call kernel_ap_main
    ud2

/* Push the general registers in struct regs order (the tail, rip..rsp, is already pushed). */
.macro PUSH_GPRS rax_src
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %rcx
    pushq \rax_src
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

    .globl alc_entry_syscall
alc_entry_syscall:
    /* From alc_tramp_syscall: rsp = kernel stack, rcx = user rip, r11 = user rflags,
     * rax = syscall number, rdi rsi rdx r10 r8 r9 = arguments. */
    pushq $0                                    /* pad (struct regs is 160 bytes) */
    pushq ALC_CPU_VBASE + ALC_CPU_USER_RSP      /* rsp */
    pushq %r11                                  /* rflags */
    pushq %rcx                                  /* rip */
    pushq %rax                                  /* orig_rax */
    PUSH_GPRS %rax
    movq %rsp, %rdi
    cld
    call syscall_dispatch
    movq %rsp, %rdi
    jmp alc_return_to_user

        .globl alc_entry_fast
alc_entry_fast:
    /* From a patched syscall site's stub (kernel/patch.c), at CPL3 with no trap: rsp = the kernel
     * stack, the user rsp and the return address in this vCPU's window, rax = syscall number,
     * arguments in rdi rsi rdx r10 r8 r9, rflags as the application left them. rcx and r11 are
     * free (a syscall clobbers them) and get Linux's values: the return address and rflags. */
    pushq $0                                    /* pad */
    pushq ALC_CPU_VBASE + ALC_CPU_USER_RSP      /* rsp */
    pushfq                                      /* rflags */
    pushq ALC_CPU_VBASE + PERCPU_FAST_RIP       /* rip */
    pushq %rax                                  /* orig_rax */
    movq 8(%rsp), %rcx
    movq 16(%rsp), %r11
    PUSH_GPRS %rax
    pushq $0x2                                  /* a clean rflags for the kernel (DF, AC, TF off) */
    popfq
    movq %rsp, %rdi
    call syscall_dispatch_fast
    movq %rsp, %rdi
    jmp alc_return_to_user

    .globl alc_entry_exception
alc_entry_exception:
    /* From alc_tramp_exc_common: rsp = exception stack, rax saved in the CPU window, the CPL0
     * frame (struct alc_exc_frame) at ALC_CPU_EXC_FRAME_ADDR. A fault of the application is
     * handled on its thread's kernel stack (unused while the thread runs the application), as a
     * syscall is, so that handling it may block or switch threads (a stopped process, a
     * preemption due): this vCPU's exception stack is shared by every thread that runs on it.
     * The kernel's own faults (rip in the upper half) stay on the exception stack. */
    movq ALC_CPU_EXC_FRAME_ADDR + 16, %rax      /* the faulting rip */
    testq %rax, %rax
    js 1f
    movq ALC_CPU_VBASE + ALC_CPU_KSTACK, %rsp
1:
    pushq $0
    pushq ALC_CPU_EXC_FRAME_ADDR + 40           /* rsp */
    pushq ALC_CPU_EXC_FRAME_ADDR + 32           /* rflags */
    pushq ALC_CPU_EXC_FRAME_ADDR + 16           /* rip */
    pushq $-1                                   /* orig_rax: not a syscall */
    PUSH_GPRS ALC_CPU_VBASE + ALC_CPU_EXC_RAX
    movq %rsp, %rdi
    cld
    call exception_dispatch
    movq %rsp, %rdi
    jmp alc_return_to_user

    .globl alc_entry_preempt
alc_entry_preempt:
    /* From the monitor's preemption (alcove_abi.h, "Preemption"): rsp = this thread's kernel
     * stack top, the application's rip, rsp and rflags in the CPU window, every other register
     * as the application left it. */
    pushq $0                                    /* pad */
    pushq ALC_CPU_VBASE + ALC_CPU_PREEMPT_RSP   /* rsp */
    pushq ALC_CPU_VBASE + ALC_CPU_PREEMPT_FLAGS /* rflags */
    pushq ALC_CPU_VBASE + ALC_CPU_PREEMPT_RIP   /* rip */
    pushq $-1                                   /* orig_rax: not a syscall */
    PUSH_GPRS %rax
    movq %rsp, %rdi
    cld
    call preempt_dispatch
    movq %rsp, %rdi
    jmp alc_return_to_user

/* uint64_t alc_switch(uint64_t *save_ksp, uint64_t next_ksp, uint64_t prev): saves the
 * callee-saved registers on this kernel stack and its pointer in *save_ksp, continues on
 * next_ksp where that context called alc_switch (or at alc_thread_entry for a new thread), and
 * returns prev there: the context that switched to it. */
    .globl alc_switch
alc_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    movq %rdx, %rax
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* A new thread's first instructions: rax = the context that switched to it, rsp = the frame
 * thread_create put at the top of its kernel stack. */
    .globl alc_thread_entry
alc_thread_entry:
    movq %rax, %rdi
    movq %rsp, %rsi
    call thread_first_run
    ud2

/* void alc_return_to_user(struct regs *r): never returns. Restores every register from *r and
 * continues at r->rip with r->rsp, at CPL3, with no privilege switch. The flags are restored
 * by popfq (CPL3 cannot change IF or IOPL; they stay as the monitor set them). */
    .globl alc_return_to_user
alc_return_to_user:
    movq %rdi, %rsp
    movq 128(%rsp), %rax                        /* rip */
    movq %rax, ALC_CPU_VBASE + ALC_CPU_RET_RIP
    movq 144(%rsp), %rax                        /* rsp */
    movq %rax, ALC_CPU_VBASE + ALC_CPU_RET_RSP
    pushq 136(%rsp)                             /* rflags */
    popfq
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rax
    popq %rcx
    popq %rdx
    popq %rsi
    popq %rdi
    movq ALC_CPU_VBASE + ALC_CPU_RET_RSP, %rsp
    jmpq *ALC_CPU_VBASE + ALC_CPU_RET_RIP

/* The two paging instructions (mm/mmu.c), which need CPL0: `ud2` at these two addresses is
 * what tramp.S's #UD stub turns into `mov %rax, %cr3` or `invlpg (%rax)`, continuing after the
 * ud2. void alc_load_cr3(uint64_t root), void alc_invlpg(uint64_t va). */
    .globl alc_load_cr3, alc_ud_load_cr3
alc_load_cr3:
    movq %rdi, %rax
alc_ud_load_cr3:
    ud2
    ret

    .globl alc_invlpg, alc_ud_invlpg
alc_invlpg:
    movq %rdi, %rax
alc_ud_invlpg:
    ud2
    ret
