/* x86_cover.h: which syscall sites of an ELF file's code may be rewritten together with the
 * instruction before them, for the enclave kernel's syscall-site patcher (kernel/patch.c, way 3).
 *
 * Way 3 takes an instruction of 3 to 7 bytes that can run anywhere (x86_cover_movable: no memory
 * access, nothing relative to rip, no branch; `mov %r8d, %eax` or glibc's `xor $0x80, %sil`
 * before a futex call) and the `syscall` right after it, and writes one 5-byte `jmp rel32` over
 * their first five bytes. That is safe only where nothing ever jumps to the `syscall` or inside
 * the instruction (it would land inside the jmp) and where those bytes really are that
 * instruction and not the tail of a longer one. The bytes alone cannot say; the file can, once,
 * with its unwind tables: .eh_frame lists every function that has unwind information, with its
 * bounds. Decoding each such function from its first byte (lib/x86's length decoder) gives the
 * instruction boundaries and every direct jump and call target. A candidate is accepted when
 *   - one function holds both instructions, decodes from its start with boundaries at the
 *     instruction and at the syscall, and has no indirect jump (jmp through a register or any
 *     memory operand, rip-relative included: a jump table or a pointer could name the syscall);
 *   - no decoding of any function sees other boundaries in its bytes (functions that overlap,
 *     or data decoded as code), and neither a function nor a symbol of .symtab or .dynsym
 *     begins inside them (a function's first byte, or an entry point such as a global label of
 *     hand-written assembly, may be called or jumped to through a pointer or from another file);
 *   - no address that a relocation writes into data (R_X86_64_RELATIVE, DT_RELR: a table of
 *     pointers to code in a position-independent file) names a byte inside it after its first;
 *   - no direct jump, conditional jump, call or xbegin (its abort address) anywhere in the
 *     file's functions targets a byte inside it after its first (a compiler's cold part of a
 *     function jumps back into the hot part from another FDE's range: that is why every
 *     function is decoded, not only its own), and no rip-relative operand names one (an
 *     address taken, lea 1f(%rip), may be jumped to later through a pointer);
 *   - every function decoded completely (an instruction the decoder does not know could hide a
 *     jump), none lies partly outside the code's file bytes, and the sweeps together decode at
 *     most twice the code (functions listed over and over): otherwise no candidate of the file
 *     is accepted.
 * Code with no unwind information (hand-written assembly without CFI) is not decoded; a jump
 * from there to a candidate is the one case this cannot see (documented in docs/dynamic.md).
 *
 * The whole file is in memory (the enclave's image files are). Every field is checked against
 * the file's size before it is used; the file is untrusted. Needs no C library. */
#ifndef ALCOVE_X86_COVER_H
#define ALCOVE_X86_COVER_H

#include <stddef.h>
#include <stdint.h>

#define X86_COVER_MAX     1024 /* candidates x86_cover_check takes at once */
#define X86_COVER_LEN_MIN 3    /* the instruction's length: with the syscall, the jmp's 5 */
#define X86_COVER_LEN_MAX 7    /* (the stub that runs it has room for 7) */

struct x86_cover {
    uint64_t off; /* the file offset of the instruction (the syscall is at off + len) */
    uint64_t va;  /* its virtual address (x86_cover_check's) */
    uint8_t len;  /* its length, X86_COVER_LEN_MIN to X86_COVER_LEN_MAX */
    uint8_t ok;   /* set by x86_cover_check: 1 when the pair may be covered */
};

/* The candidates in the file's executable PT_LOAD segments, segment by segment (file-offset
 * order in any file a linker wrote): every run of bytes that x86_cover_movable takes, followed
 * by `0f 05` (syscall). Writes at most max, returns how many there are (more than max: the
 * first max are written), or 0 for a file that is not a 64-bit x86 ELF file with well-formed
 * headers. */
size_t x86_cover_find(const uint8_t *file, size_t size, struct x86_cover *out, size_t max);

/* Sets ok for each of the n (at most X86_COVER_MAX) candidates that x86_cover_find gave, as the
 * top of this file says. Returns 0, or -1 (every ok 0) when the file has no usable unwind table,
 * some function does not decode, or the candidates are not in strictly increasing order of both
 * file offset and address (segments that overlap or go backwards). */
int x86_cover_check(const uint8_t *file, size_t size, struct x86_cover *c, size_t n);

/* The length of the instruction at p (avail bytes readable) when it is one that a stub may run
 * in its place (X86_COVER_LEN_MIN to X86_COVER_LEN_MAX bytes; register and immediate operands
 * only, or lea without rip: it reads and writes no memory, so it cannot fault, and does not
 * depend on its address; not a branch; no prefix but 66 and REX), or 0. A list of known
 * opcodes: mov, movzx/movsx/movsxd, lea, the ALU group (add ... cmp, test), shifts and
 * rotates, inc, dec, not, neg, mul, imul, cmovcc, setcc, xchg. */
unsigned x86_cover_movable(const uint8_t *p, size_t avail);

#endif
