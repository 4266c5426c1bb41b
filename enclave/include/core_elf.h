/* core_elf.h: the layout of an ELF core file as x86-64 Linux writes one, which readelf and gdb
 * read: the file header, a PT_NOTE with the notes, then one PT_LOAD per mapping whose bytes
 * follow from a page-aligned offset in mapping order.
 *
 * Pure layout: no kernel state, so it is unit tested on the host (tests/unit/test_core_elf.c).
 * kernel/coredump.c fills the structures from a process and writes the file.
 */
#ifndef ALCOVE_CORE_ELF_H
#define ALCOVE_CORE_ELF_H

#include <stddef.h>
#include <stdint.h>

/* note types (Linux's uapi elf.h), all under the note name "CORE" */
#define CORE_NT_PRSTATUS 1
#define CORE_NT_PRPSINFO 3
#define CORE_NT_AUXV     6
#define CORE_NT_SIGINFO  0x53494749u

/* p_flags */
#define CORE_PF_X 1u
#define CORE_PF_W 2u
#define CORE_PF_R 4u

#define CORE_PAGE      4096u
#define CORE_EHDR_SIZE 64u
#define CORE_PHDR_SIZE 56u

/* Linux's struct user_regs_struct (elf_gregset_t): the general registers in ptrace's order. */
struct core_gregs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
    uint64_t fs_base, gs_base, ds, es, fs, gs;
};
_Static_assert(sizeof(struct core_gregs) == 27 * 8, "elf_gregset_t");

struct core_timeval {
    int64_t sec, usec;
};

/* Linux's struct elf_prstatus on x86-64 (NT_PRSTATUS): one per thread. */
struct core_prstatus {
    int32_t si_signo, si_code, si_errno; /* pr_info */
    int16_t cursig;
    uint16_t pad0;
    uint64_t sigpend, sighold;
    int32_t pid, ppid, pgrp, sid;
    struct core_timeval utime, stime, cutime, cstime;
    struct core_gregs reg;
    int32_t fpvalid;
    int32_t pad1;
};
_Static_assert(sizeof(struct core_prstatus) == 336, "struct elf_prstatus");
_Static_assert(__builtin_offsetof(struct core_prstatus, reg) == 112, "elf_prstatus.pr_reg");

/* Linux's struct elf_prpsinfo on x86-64 (NT_PRPSINFO): the process. */
#define CORE_PRARGSZ 80
struct core_prpsinfo {
    char state, sname, zomb, nice;
    uint32_t pad0;
    uint64_t flag;
    uint32_t uid, gid;
    int32_t pid, ppid, pgrp, sid;
    char fname[16];
    char psargs[CORE_PRARGSZ];
};
_Static_assert(sizeof(struct core_prpsinfo) == 136, "struct elf_prpsinfo");

/* A mapping as the core shows it: where it lies, how much of it the file holds (0 or memsz:
 * the bytes past p_filesz read as zeros), and PF_* flags. */
struct core_segment {
    uint64_t vaddr, memsz, filesz;
    uint32_t flags;
};

/* Bytes a "CORE" note with a descriptor of descsz bytes takes (name and descriptor padded to 4
 * bytes, as Linux's notes are). */
size_t core_note_size(size_t descsz);
/* Writes that note at buf (core_note_size(descsz) bytes); returns the bytes written. */
size_t core_note_put(void *buf, uint32_t type, const void *desc, size_t descsz);

/* Bytes of the file header and of the program headers for nseg mappings (and the PT_NOTE). */
size_t core_headers_size(unsigned nseg);
/* Where the memory starts in the file: after the headers and notes_size bytes of notes, on a
 * page boundary. */
uint64_t core_data_offset(unsigned nseg, uint64_t notes_size);
/* Writes the file header (ET_CORE, x86-64) and the program headers into buf
 * (core_headers_size(nseg) bytes): the PT_NOTE right after the headers, then a PT_LOAD per
 * segment with file offsets that follow each other from core_data_offset. */
void core_headers_put(void *buf, const struct core_segment *seg, unsigned nseg,
                      uint64_t notes_size);

/* pr_psargs from the command line's bytes (its arguments, each NUL-terminated), as Linux makes
 * it: at most CORE_PRARGSZ - 1 bytes, every NUL among them a space. */
void core_psargs(char out[CORE_PRARGSZ], const char *args, size_t len);
/* A time in nanoseconds as a timeval. */
struct core_timeval core_timeval(uint64_t ns);

#endif
