/* x86_cover_sample.S: a tiny static program whose functions are the cases of lib/x86/x86_cover.c
 * (tests/unit/test_x86_cover.c reads this file; it is never run). Each syscall after an
 * instruction a stub can run (`mov %rNd, %eax`, `xor $0x80, %sil`, ...) is a candidate; the
 * comment says whether it may be covered. */
    .text
    .globl _start
_start:
    .cfi_startproc
    mov $60, %eax
    xor %edi, %edi
    syscall
    .cfi_endproc

/* accepted: a plain pair (89 /r encoding) */
    .globl good_89
good_89:
    .cfi_startproc
    mov $39, %r8d
    mov %r8d, %eax
    syscall
    ret
    .cfi_endproc

/* accepted: the 8b /r encoding of the same mov (41 8b c7: mov %r15d, %eax) */
    .globl good_8b
good_8b:
    .cfi_startproc
    mov $39, %r15d
    .byte 0x41, 0x8b, 0xc7
    syscall
    ret
    .cfi_endproc

/* refused: a conditional jump in the same function lands on the syscall */
    .globl jump_in
jump_in:
    .cfi_startproc
    test %edi, %edi
    jz 1f
    mov %r9d, %eax
1:  syscall
    ret
    .cfi_endproc

/* refused: the function has an indirect jump (a table could name the syscall) */
    .globl indirect
indirect:
    .cfi_startproc
    mov %r10d, %eax
    syscall
    jmp *%rdx
    .cfi_endproc

/* refused: the bytes are inside a movabs's immediate, not instructions */
    .globl in_immediate
in_immediate:
    .cfi_startproc
    movabs $0x0000050fc08944, %rax
    ret
    .cfi_endproc

/* refused: another function (as a compiler's cold part would) jumps to this one's syscall */
    .globl target
target:
    .cfi_startproc
    mov %r11d, %eax
.Ltarget_syscall:
    syscall
    ret
    .cfi_endproc
    .globl other
other:
    .cfi_startproc
    xor %eax, %eax
    jmp .Ltarget_syscall
    .cfi_endproc

/* refused: no unwind information covers it */
    .globl no_cfi
no_cfi:
    mov %r12d, %eax
    syscall
    ret

/* refused: the pair straddles two functions, the syscall is the second one's first byte (its
 * address can be called through a pointer, which no sweep sees) */
    .globl split_a
split_a:
    .cfi_startproc
    mov %r13d, %eax
    .cfi_endproc
    .globl split_b
split_b:
    .cfi_startproc
    syscall
    ret
    .cfi_endproc

/* refused: an indirect jump through a rip-relative pointer (a jmp r/m all the same) */
    .globl rip_indirect
rip_indirect:
    .cfi_startproc
    mov %r14d, %eax
    syscall
    jmp *.Lptr(%rip)
    .cfi_endproc

/* refused: another function's xbegin has the syscall as its abort address (a branch target) */
    .globl xb_target
xb_target:
    .cfi_startproc
    mov %r15d, %eax
.Lxb_syscall:
    syscall
    ret
    .cfi_endproc
    .globl xb_other
xb_other:
    .cfi_startproc
    xbegin .Lxb_syscall
    ret
    .cfi_endproc

    .section .rodata
.Lptr:
    .quad 0

/* refused: a symbol names the syscall (a second entry point, as hand-written assembly has) */
    .text
    .globl sym_entry
sym_entry:
    .cfi_startproc
    mov %r10d, %eax
    .globl sym_entry_syscall
sym_entry_syscall:
    syscall
    ret
    .cfi_endproc

/* accepted: glibc's futex sites, xor $0x80, %sil (4 bytes: the jmp cuts the syscall) */
    .globl good_xor
good_xor:
    .cfi_startproc
    mov $202, %eax
    xor $0x80, %sil
    syscall
    ret
    .cfi_endproc

/* accepted: lea without rip (an address computed, no memory read) */
    .globl good_lea
good_lea:
    .cfi_startproc
    mov $39, %eax
    lea 8(%rdi), %rsi
    syscall
    ret
    .cfi_endproc

/* accepted: 7 bytes (mov $imm32, %rax, c7 /0): the syscall stays after the jmp and int3 */
    .globl good_long
good_long:
    .cfi_startproc
    mov $39, %rax
    syscall
    ret
    .cfi_endproc

/* refused: a jump lands on the syscall after a 4-byte instruction */
    .globl xor_jump_in
xor_jump_in:
    .cfi_startproc
    test %edi, %edi
    jz 1f
    xor $0x81, %sil
1:  syscall
    ret
    .cfi_endproc

/* not candidates: the instruction before reads memory, is relative to rip, divides, has a
 * lock or segment prefix, is a branch */
    .globl not_movable
not_movable:
    .cfi_startproc
    mov 8(%rsp), %edi
    syscall
    lea .Lptr(%rip), %rsi
    syscall
    div %r8d
    syscall
    call 1f
1:  syscall
    mov %fs:0x10, %r8
    syscall
    ret
    .cfi_endproc

/* Spans longer than the jmp: a 7-byte instruction (mov $imm32, %rax, c7 /0) and its syscall
 * span 9 bytes, so a way in at byte 5 to 8 is inside the pair though past the jmp's five. */

/* refused: a conditional jump lands on the syscall after a 7-byte instruction */
    .text
    .globl long_jump_in
long_jump_in:
    .cfi_startproc
    test %edi, %edi
    jz 1f
    mov $40, %rax
1:  syscall
    ret
    .cfi_endproc

/* refused: a symbol names the syscall's last byte, the pair's ninth */
    .globl long_sym
long_sym:
    .cfi_startproc
    mov $41, %rax
    .byte 0x0f
    .globl long_sym_last
long_sym_last:
    .byte 0x05
    ret
    .cfi_endproc

/* refused: another function jumps into the instruction's sixth byte (left as int3 by the
 * kernel, past the jmp) */
    .globl long_tail
long_tail:
    .cfi_startproc
    mov $42, %rax
    syscall
    ret
    .cfi_endproc
    .globl long_tail_other
long_tail_other:
    .cfi_startproc
    jmp long_tail + 5
    .cfi_endproc

/* accepted: a jump lands right after the syscall (the first byte past the pair) */
    .globl long_after
long_after:
    .cfi_startproc
    test %edi, %edi
    jz 1f
    mov $43, %rax
    syscall
1:  ret
    .cfi_endproc

/* accepted: mov $0x050f01e0, %rax (48 c7 c0 e0 01 0f 05), then a syscall; its immediate holds a
 * second pair (shl $1, %al; syscall) and the reading without REX a third (c7 c0 ...): those
 * bytes are not instructions, refused, while the real pair around them is accepted */
    .globl nested
nested:
    .cfi_startproc
    mov $0x050f01e0, %rax
    syscall
    ret
    .cfi_endproc

/* refused: the function takes the syscall's address (lea .L(%rip)): stored as a pointer, it may
 * be jumped to or made a signal frame's rip later, by code no sweep sees as a jump */
    .globl addr_taken
addr_taken:
    .cfi_startproc
    lea .Laddr_sys(%rip), %rcx
    mov %r12d, %eax
.Laddr_sys:
    syscall
    ret
    .cfi_endproc

/* accepted: the address taken is the one after the syscall (its return address, as a marker a
 * seccomp filter compares with), outside the pair */
    .globl addr_after
addr_after:
    .cfi_startproc
    lea .Laddr_after_ret(%rip), %rcx
    mov %r13d, %eax
    syscall
.Laddr_after_ret:
    ret
    .cfi_endproc
