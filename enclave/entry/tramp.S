/* tramp.S: the enclave's only CPL0 code, a page of trampolines.
 *
 * On our KVM, CPL0 instructions are emulated by the hypervisor and every privilege switch
 * traps, so these stubs do the minimum: note what the hardware gives only at CPL0 (the user
 * stack pointer on syscall, CR2 on a fault) in this vCPU's window, then iretq to the enclave
 * kernel, which runs at CPL3 like the application. See docs/architecture.md.
 */
#include "abi/alcove_abi.h"

    .section .text.tramp, "ax"
    .balign 4096
    .globl alc_tramp_syscall
alc_tramp_syscall:
    /* rcx = user rip, r11 = user rflags, rsp = user rsp; interrupts masked by SFMASK */
    movq %rsp, ALC_CPU_VBASE + ALC_CPU_USER_RSP
    movq $(ALC_CPU_VBASE + ALC_CPU_SYSCALL_FRAME), %rsp
    iretq

    /* Exception stubs: vector v at alc_tramp_exceptions + v * ALC_EXC_STUB_SIZE. The CPU has
     * switched to IST1 (every gate uses it) and pushed ss, rsp, rflags, cs, rip [, error]. */
    .balign ALC_EXC_STUB_SIZE
    .globl alc_tramp_exceptions
alc_tramp_exceptions:
    .irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign ALC_EXC_STUB_SIZE
    /* vectors 8, 10-14, 17, 21, 29, 30 push an error code; give the others a zero */
    .if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushq $0
    .endif
    pushq $\vec
    jmp alc_tramp_exc_common
    .endr

alc_tramp_exc_common:
    movq %rax, ALC_CPU_VBASE + ALC_CPU_EXC_RAX
    movq %cr2, %rax
    movq %rax, ALC_CPU_VBASE + ALC_CPU_EXC_CR2
    movq $(ALC_CPU_VBASE + ALC_CPU_EXC_FRAME), %rsp
    iretq

    /* Paging (`int $ALC_VEC_LOAD_CR3`, `int $ALC_VEC_INVLPG`, DPL3 gates on IST1): the one
     * instruction the kernel cannot execute at CPL3, on rax, then straight back. */
    .balign ALC_EXC_STUB_SIZE
    .globl alc_tramp_mmu
alc_tramp_mmu:
    movq %rax, %cr3
    iretq
    .balign ALC_EXC_STUB_SIZE
    invlpg (%rax)
    iretq
    .globl alc_tramp_end
alc_tramp_end:
