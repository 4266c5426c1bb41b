/* core_elf.c: the ELF core file's headers and notes (see core_elf.h). */
#include "core_elf.h"

#include "klib.h"

#define ET_CORE   4
#define EM_X86_64 62
#define PT_LOAD   1
#define PT_NOTE   4

struct ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
_Static_assert(sizeof(struct ehdr) == CORE_EHDR_SIZE, "Elf64_Ehdr");

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
_Static_assert(sizeof(struct phdr) == CORE_PHDR_SIZE, "Elf64_Phdr");

struct nhdr {
    uint32_t namesz, descsz, type;
};

static const char g_name[] = "CORE"; /* namesz counts the NUL */

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

size_t core_note_size(size_t descsz)
{
    return sizeof(struct nhdr) + pad4(sizeof(g_name)) + pad4(descsz);
}

size_t core_note_put(void *buf, uint32_t type, const void *desc, size_t descsz)
{
    uint8_t *p = buf;
    struct nhdr h = {sizeof(g_name), (uint32_t)descsz, type};
    size_t size = core_note_size(descsz);
    memset(p, 0, size);
    memcpy(p, &h, sizeof(h));
    p += sizeof(h);
    memcpy(p, g_name, sizeof(g_name));
    p += pad4(sizeof(g_name));
    memcpy(p, desc, descsz);
    return size;
}

size_t core_headers_size(unsigned nseg)
{
    return CORE_EHDR_SIZE + (size_t)(nseg + 1) * CORE_PHDR_SIZE;
}

uint64_t core_data_offset(unsigned nseg, uint64_t notes_size)
{
    uint64_t end = core_headers_size(nseg) + notes_size;
    return (end + CORE_PAGE - 1) & ~(uint64_t)(CORE_PAGE - 1);
}

void core_headers_put(void *buf, const struct core_segment *seg, unsigned nseg, uint64_t notes_size)
{
    struct ehdr e;
    memset(&e, 0, sizeof(e));
    e.ident[0] = 0x7f;
    e.ident[1] = 'E';
    e.ident[2] = 'L';
    e.ident[3] = 'F';
    e.ident[4] = 2; /* ELFCLASS64 */
    e.ident[5] = 1; /* ELFDATA2LSB */
    e.ident[6] = 1; /* EV_CURRENT; EI_OSABI stays ELFOSABI_NONE, as Linux's */
    e.type = ET_CORE;
    e.machine = EM_X86_64;
    e.version = 1;
    e.phoff = CORE_EHDR_SIZE;
    e.ehsize = CORE_EHDR_SIZE;
    e.phentsize = CORE_PHDR_SIZE;
    e.phnum = (uint16_t)(nseg + 1);
    uint8_t *out = buf;
    memcpy(out, &e, sizeof(e));
    out += sizeof(e);

    struct phdr note = {
        .type = PT_NOTE,
        .offset = core_headers_size(nseg),
        .filesz = notes_size,
        .align = 4,
    };
    memcpy(out, &note, sizeof(note));
    out += sizeof(note);

    uint64_t off = core_data_offset(nseg, notes_size);
    for (unsigned i = 0; i < nseg; i++) {
        struct phdr p = {
            .type = PT_LOAD,
            .flags = seg[i].flags,
            .offset = off,
            .vaddr = seg[i].vaddr,
            .filesz = seg[i].filesz,
            .memsz = seg[i].memsz,
            .align = CORE_PAGE,
        };
        memcpy(out, &p, sizeof(p));
        out += sizeof(p);
        off += seg[i].filesz;
    }
}

void core_psargs(char out[CORE_PRARGSZ], const char *args, size_t len)
{
    memset(out, 0, CORE_PRARGSZ);
    if (len > CORE_PRARGSZ - 1)
        len = CORE_PRARGSZ - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = args[i] ? args[i] : ' '; /* the last argument's NUL too, as Linux */
}

struct core_timeval core_timeval(uint64_t ns)
{
    return (struct core_timeval){(int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u / 1000)};
}
