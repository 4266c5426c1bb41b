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
    .if \vec == 6
    jmp alc_tramp_ud /* #UD may be the kernel asking for a paging instruction (below) */
    .else
    /* vectors 8, 10-14, 17, 21, 29, 30 push an error code; give the others a zero */
    .if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushq $0
    .endif
    pushq $\vec
    jmp alc_tramp_exc_common
    .endif
    .endr

alc_tramp_exc_common:
    movq %rax, ALC_CPU_VBASE + ALC_CPU_EXC_RAX
    movq %cr2, %rax
    movq %rax, ALC_CPU_VBASE + ALC_CPU_EXC_CR2
    movq $(ALC_CPU_VBASE + ALC_CPU_EXC_FRAME), %rsp
    iretq

    /* Paging: the two instructions the kernel cannot execute at CPL3, on rax. The kernel asks
     * for them with `ud2` at alc_ud_load_cr3 or alc_ud_invlpg (enclave/entry/entry.S); the CPU
     * has pushed ss, rsp, rflags, cs, rip (no error code) on IST1, and the kernel continues
     * after its ud2 with every register as it was. Any other #UD is an exception as usual. (On
     * our KVM, `int n` at CPL3 is #UD itself, so a software-interrupt gate cannot do this.) */
alc_tramp_ud:
    cmpq $alc_ud_invlpg, (%rsp) /* the more frequent of the two: first */
    je 2f
    cmpq $alc_ud_load_cr3, (%rsp)
    je 1f
    pushq $0
    pushq $6
    jmp alc_tramp_exc_common
1:  movq %rax, %cr3
    addq $2, (%rsp)
    iretq
2:  invlpg (%rax)
    addq $2, (%rsp)
    iretq
    .globl alc_tramp_end
alc_tramp_end:
