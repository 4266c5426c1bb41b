/* elf_parse.h: strict parser for x86-64 ELF executables, shared by the host and the enclave.
 *
 * The same code decides on the host whether a file can run in an enclave (and why not) and,
 * inside the enclave kernel, what to load where. It needs no C library: only <stdint.h> and
 * <stddef.h>, and it never trusts a field of the file before checking it against the file size.
 */
#ifndef ALCOVE_ELF_PARSE_H
#define ALCOVE_ELF_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define ELFP_MAX_LOAD 16u /* PT_LOAD segments we accept */

enum elfp_type {
    ELFP_EXEC = 1, /* fixed-address executable (ET_EXEC) */
    ELFP_PIE = 2,  /* static position-independent executable (ET_DYN without PT_INTERP) */
};

/* Why a file was refused. The host maps these to exit statuses and messages. */
enum elfp_error {
    ELFP_OK = 0,
    ELFP_ERR_NOT_ELF,   /* no ELF magic: not an executable at all */
    ELFP_ERR_CLASS,     /* not 64-bit little-endian */
    ELFP_ERR_MACHINE,   /* not x86-64 */
    ELFP_ERR_TYPE,      /* relocatable object, core file, ... */
    ELFP_ERR_DYNAMIC,   /* has PT_INTERP: needs a dynamic loader */
    ELFP_ERR_MALFORMED, /* headers inconsistent with the file or with each other */
    ELFP_ERR_NO_LOAD,   /* nothing to load */
    ELFP_ERR_TOO_MANY,  /* more PT_LOAD segments than ELFP_MAX_LOAD */
};

struct elfp_segment {
    uint64_t vaddr; /* link-time virtual address (add the load bias for PIE) */
    uint64_t memsz;
    uint64_t offset; /* file offset of the first byte */
    uint64_t filesz;
    uint32_t flags; /* ELFP_R | ELFP_W | ELFP_X */
};
#define ELFP_X 1u
#define ELFP_W 2u
#define ELFP_R 4u

struct elfp_image {
    enum elfp_type type;
    uint64_t entry;      /* link-time entry point */
    uint64_t phdr_vaddr; /* link-time address of the program headers, 0 if not loaded */
    uint32_t phnum;
    uint32_t phentsize;
    uint64_t span_start; /* lowest page-aligned vaddr of any PT_LOAD */
    uint64_t span_end;   /* highest page-aligned end of any PT_LOAD */
    uint64_t max_align;  /* largest PT_LOAD p_align (>= 4096) */
    uint32_t nload;
    struct elfp_segment load[ELFP_MAX_LOAD];
    uint64_t stack_flags_exec; /* PT_GNU_STACK asks for an executable stack */
    uint64_t note_offset;      /* file range of the first PT_NOTE (0, 0 if none) */
    uint64_t note_size;
    /* with ELFP_ALLOW_INTERP: the file range of PT_INTERP's path (0, 0 if none), checked to lie
     * in the file and to be 2 to ELFP_INTERP_MAX bytes; its bytes are not read here (the
     * caller checks that they end with the only NUL) */
    uint64_t interp_offset;
    uint64_t interp_size;
};
#define ELFP_INTERP_MAX 4096u

/* Options for elfp_parse_opts. */
#define ELFP_ALLOW_KERNEL 1u /* accept segments in the upper (kernel) half */
#define ELFP_ALLOW_INTERP 2u /* accept PT_INTERP (a dynamically linked program) */

/* Parses and validates the ELF image in [file, file + size). On success fills *img and returns
 * ELFP_OK; otherwise returns the reason. Never reads outside the buffer. */
enum elfp_error elfp_parse(const void *file, size_t size, struct elfp_image *img);
enum elfp_error elfp_parse_opts(const void *file, size_t size, struct elfp_image *img,
                                unsigned opts);

/* The same checks for a reader that has not read the file: elfp_check_header checks the ELF
 * header (head: the file's first min(file_size, 64) bytes) against the file's size and says where
 * the program header table lies (*phsize at most 512 * 56 bytes, inside the file); given that
 * table, elfp_parse_headers then answers as elfp_parse would for the whole file, since elfp_parse
 * reads nothing else. So a file that cannot run costs two small reads, whatever its size. */
enum elfp_error elfp_check_header(const void *head, uint64_t file_size, uint64_t *phoff,
                                  uint64_t *phsize);
enum elfp_error elfp_parse_headers(const void *head, const void *phdrs, uint64_t file_size,
                                   struct elfp_image *img);

/* A short English description of an error ("dynamically linked (has an interpreter)"). */
const char *elfp_strerror(enum elfp_error err);

#endif
