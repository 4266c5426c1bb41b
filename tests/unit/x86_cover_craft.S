/* x86_cover_craft.S: tiny static programs (never run) whose .eh_frame is written here by hand,
 * for the cases of lib/x86/x86_cover.c that an assembler's .cfi directives cannot make:
 * functions that overlap, or that run past the code. CASE (1-3) picks the unwind table;
 * tests/unit/test_x86_cover.c says what each must give. */
    .text
    .globl _start
_start:
    mov $60, %eax
    xor %edi, %edi
    syscall
    .byte 0xb0 /* mov $imm8, %al when decoded from here: its immediate is f's first byte */
f:
    mov %r8d, %eax
.Lf_sys:
    syscall
    ret
f_end:
g:
    jmp .Lf_sys
g_end:
h:
    mov %r9d, %eax
    syscall
    ret
h_end:

    .section .eh_frame, "a", @progbits
cie:
    .long cie_end - cie_id
cie_id:
    .long 0      /* a CIE */
    .byte 1      /* version */
    .asciz "zR"
    .uleb128 1   /* code alignment */
    .sleb128 -8  /* data alignment */
    .byte 16     /* return address: rip */
    .uleb128 1   /* augmentation data: */
    .byte 0x1b   /* FDE pointers pcrel sdata4 */
    .byte 0x0c, 7, 8 /* the CFA is rsp + 8 */
    .byte 0x90, 1    /* rip at CFA - 8 */
    .balign 4, 0
cie_end:

/* an FDE for [start, start + len) */
.macro FDE start, len
    .long 2f - 1f
1:  .long 1b - cie
    .long \start - .
    .long \len
    .uleb128 0
    .balign 4, 0
2:
.endm

    FDE h, (h_end-h) /* h alone: accepted in case 1 */
#if CASE == 1
    /* f, and a function one byte before it whose decoding runs through f's pair with other
     * boundaries (mov $0x44, %al; mov %eax, %eax; syscall): f refused */
    FDE f, (f_end-f)
    FDE (f-1), (f_end-f+1)
#elif CASE == 2
    /* f, and g (which jumps to f's syscall) in an FDE that runs past the end of the code: the
     * file refused (g's jump was not seen when such an FDE was skipped) */
    FDE f, (f_end-f)
    FDE g, 0x100000
#elif CASE == 3
    /* one function listed over and over (the sweep would be quadratic): the file refused */
    FDE _start, (h_end-_start)
    FDE _start, (h_end-_start)
    FDE _start, (h_end-_start)
#endif
    .long 0 /* the end */
