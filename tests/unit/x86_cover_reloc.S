/* x86_cover_reloc.S: a tiny shared library (never loaded) whose data holds a pointer to one
 * pair's syscall: the dynamic loader writes it there through a relocation (R_X86_64_RELATIVE,
 * or DT_RELR when linked with -z pack-relative-relocs), and code may jump through it, which no
 * sweep sees. tests/unit/test_x86_cover.c: that pair refused, the other accepted. */
    .text
    .globl pointed
pointed:
    .cfi_startproc
    mov %r8d, %eax
.Lpointed_sys:
    syscall
    ret
    .cfi_endproc

    .globl plain
plain:
    .cfi_startproc
    mov %r9d, %eax
    syscall
    ret
    .cfi_endproc

    .data
    .balign 8
    .quad 0
    .quad .Lpointed_sys
