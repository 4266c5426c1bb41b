/* elf_parse.c: strict x86-64 ELF executable parser (see elf_parse.h). */
#include "elf_parse.h"

#define EI_NIDENT    16
#define ET_EXEC      2
#define ET_DYN       3
#define EM_X86_64    62
#define PT_LOAD      1
#define PT_INTERP    3
#define PT_NOTE      4
#define PT_PHDR      6
#define PT_GNU_STACK 0x6474e551u
#define PF_X         1u
#define PF_W         2u
#define PF_R         4u
#define PAGE         4096ull
/* User space ends here on x86-64 with 4-level paging; nothing we load may reach it. */
#define USER_TOP      0x0000800000000000ull
#define KERNEL_BOTTOM 0xffff800000000000ull

struct ehdr {
    unsigned char ident[EI_NIDENT];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

_Static_assert(sizeof(struct ehdr) == 64, "Elf64_Ehdr");
_Static_assert(sizeof(struct phdr) == 56, "Elf64_Phdr");

static void copy_bytes(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
}

static int add_overflows(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

const char *elfp_strerror(enum elfp_error err)
{
    switch (err) {
    case ELFP_OK:
        return "ok";
    case ELFP_ERR_NOT_ELF:
        return "not an ELF executable";
    case ELFP_ERR_CLASS:
        return "not a 64-bit little-endian ELF file";
    case ELFP_ERR_MACHINE:
        return "built for another architecture (alcove runs x86-64)";
    case ELFP_ERR_TYPE:
        return "not an executable (object file, core dump or shared library)";
    case ELFP_ERR_DYNAMIC:
        return "dynamically linked (it has a program interpreter): build it with -static, or run "
               "it "
               "with its libraries from a directory tree (--rootfs)";
    case ELFP_ERR_MALFORMED:
        return "malformed ELF headers";
    case ELFP_ERR_NO_LOAD:
        return "no loadable segments";
    case ELFP_ERR_TOO_MANY:
        return "too many loadable segments";
    }
    return "unknown ELF error";
}

static enum elfp_error check_header(const struct ehdr *eh, uint64_t size)
{
    if (eh->ident[4] != 2 /* ELFCLASS64 */ || eh->ident[5] != 1 /* ELFDATA2LSB */)
        return ELFP_ERR_CLASS;
    if (eh->machine != EM_X86_64)
        return ELFP_ERR_MACHINE;
    if (eh->type != ET_EXEC && eh->type != ET_DYN)
        return ELFP_ERR_TYPE;
    if (eh->ident[6] != 1 || eh->version != 1 || eh->ehsize < sizeof(struct ehdr))
        return ELFP_ERR_MALFORMED;
    if (eh->phentsize != sizeof(struct phdr) || eh->phnum == 0 || eh->phnum > 512)
        return ELFP_ERR_MALFORMED;
    uint64_t ph_end;
    if (add_overflows(eh->phoff, (uint64_t)eh->phnum * sizeof(struct phdr), &ph_end) ||
        ph_end > size)
        return ELFP_ERR_MALFORMED;
    return ELFP_OK;
}

static enum elfp_error add_load(struct elfp_image *img, const struct phdr *ph, uint64_t size,
                                unsigned opts)
{
    uint64_t file_end, mem_end;
    if (ph->filesz > ph->memsz)
        return ELFP_ERR_MALFORMED;
    if (add_overflows(ph->offset, ph->filesz, &file_end) || file_end > size)
        return ELFP_ERR_MALFORMED;
    if (add_overflows(ph->vaddr, ph->memsz, &mem_end))
        return ELFP_ERR_MALFORMED;
    if (opts & ELFP_ALLOW_KERNEL) {
        if (ph->vaddr < KERNEL_BOTTOM && mem_end > USER_TOP)
            return ELFP_ERR_MALFORMED;
    } else if (mem_end > USER_TOP) {
        return ELFP_ERR_MALFORMED;
    }
    /* mmap semantics: offset and address must agree modulo the page size */
    if ((ph->offset % PAGE) != (ph->vaddr % PAGE))
        return ELFP_ERR_MALFORMED;
    if (ph->align > 1 && (ph->align & (ph->align - 1)))
        return ELFP_ERR_MALFORMED;
    if (ph->memsz == 0)
        return ELFP_OK;
    if (img->nload == ELFP_MAX_LOAD)
        return ELFP_ERR_TOO_MANY;

    struct elfp_segment *seg = &img->load[img->nload];
    seg->vaddr = ph->vaddr;
    seg->memsz = ph->memsz;
    seg->offset = ph->offset;
    seg->filesz = ph->filesz;
    seg->flags = (ph->flags & PF_R ? ELFP_R : 0) | (ph->flags & PF_W ? ELFP_W : 0) |
                 (ph->flags & PF_X ? ELFP_X : 0);

    uint64_t start = ph->vaddr & ~(PAGE - 1);
    uint64_t end = (mem_end + PAGE - 1) & ~(PAGE - 1);
    /* segments come in ascending order and do not overlap, though two may share a page */
    if (img->nload > 0) {
        const struct elfp_segment *prev = &img->load[img->nload - 1];
        if (ph->vaddr < prev->vaddr + prev->memsz)
            return ELFP_ERR_MALFORMED;
    }
    if (img->nload == 0)
        img->span_start = start;
    img->span_end = end;
    if (ph->align > img->max_align)
        img->max_align = ph->align;
    img->nload++;
    return ELFP_OK;
}

/* The ELF header from the file's first min(size, 64) bytes, checked against the file's size. */
static enum elfp_error read_header(const unsigned char *bytes, uint64_t size, struct ehdr *eh)
{
    if (size < 4 || bytes[0] != 0x7f || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F')
        return ELFP_ERR_NOT_ELF;
    if (size < sizeof(*eh))
        return ELFP_ERR_MALFORMED;
    copy_bytes(eh, bytes, sizeof(*eh));
    return check_header(eh, size);
}

static enum elfp_error parse_phdrs(const struct ehdr *eh, const unsigned char *phdrs, uint64_t size,
                                   struct elfp_image *img, unsigned opts);

enum elfp_error elfp_parse(const void *file, size_t size, struct elfp_image *img)
{
    return elfp_parse_opts(file, size, img, 0);
}

enum elfp_error elfp_parse_opts(const void *file, size_t size, struct elfp_image *img,
                                unsigned opts)
{
    const unsigned char *bytes = file;
    struct ehdr eh;

    for (size_t i = 0; i < sizeof(*img); i++)
        ((unsigned char *)img)[i] = 0;
    enum elfp_error err = read_header(bytes, size, &eh);
    if (err != ELFP_OK)
        return err;
    return parse_phdrs(&eh, bytes + eh.phoff, size, img, opts);
}

enum elfp_error elfp_check_header(const void *head, uint64_t file_size, uint64_t *phoff,
                                  uint64_t *phsize)
{
    struct ehdr eh;
    enum elfp_error err = read_header(head, file_size, &eh);
    if (err != ELFP_OK)
        return err;
    *phoff = eh.phoff;
    *phsize = (uint64_t)eh.phnum * sizeof(struct phdr);
    return ELFP_OK;
}

enum elfp_error elfp_parse_headers(const void *head, const void *phdrs, uint64_t file_size,
                                   struct elfp_image *img)
{
    struct ehdr eh;

    for (size_t i = 0; i < sizeof(*img); i++)
        ((unsigned char *)img)[i] = 0;
    enum elfp_error err = read_header(head, file_size, &eh);
    if (err != ELFP_OK)
        return err;
    return parse_phdrs(&eh, phdrs, file_size, img, 0);
}

/* The program headers (phdrs: the table at eh->phoff, checked to lie in the file) against the
 * file's size: only the headers are read, never the segments' bytes. */
static enum elfp_error parse_phdrs(const struct ehdr *ehp, const unsigned char *phdrs,
                                   uint64_t size, struct elfp_image *img, unsigned opts)
{
    const struct ehdr eh = *ehp;
    enum elfp_error err;
    img->type = eh.type == ET_EXEC ? ELFP_EXEC : ELFP_PIE;
    img->entry = eh.entry;
    img->phnum = eh.phnum;
    img->phentsize = eh.phentsize;
    img->max_align = PAGE;

    uint64_t phdr_seen = 0;
    for (uint32_t i = 0; i < eh.phnum; i++) {
        struct phdr ph;
        copy_bytes(&ph, phdrs + (uint64_t)i * sizeof(ph), sizeof(ph));
        switch (ph.type) {
        case PT_INTERP: {
            uint64_t end;
            if (!(opts & ELFP_ALLOW_INTERP))
                return ELFP_ERR_DYNAMIC;
            if (img->interp_size || ph.filesz < 2 || ph.filesz > ELFP_INTERP_MAX ||
                add_overflows(ph.offset, ph.filesz, &end) || end > size)
                return ELFP_ERR_MALFORMED;
            img->interp_offset = ph.offset;
            img->interp_size = ph.filesz;
            break;
        }
        case PT_LOAD:
            err = add_load(img, &ph, size, opts);
            if (err != ELFP_OK)
                return err;
            break;
        case PT_PHDR:
            img->phdr_vaddr = ph.vaddr;
            phdr_seen = 1;
            break;
        case PT_NOTE: {
            uint64_t note_end;
            if (add_overflows(ph.offset, ph.filesz, &note_end) || note_end > size)
                return ELFP_ERR_MALFORMED;
            if (img->note_size == 0) {
                img->note_offset = ph.offset;
                img->note_size = ph.filesz;
            }
            break;
        }
        case PT_GNU_STACK:
            img->stack_flags_exec = (ph.flags & PF_X) != 0;
            break;
        default:
            break;
        }
    }
    if (img->nload == 0)
        return ELFP_ERR_NO_LOAD;

    /* Without PT_PHDR, the headers are visible if a PT_LOAD maps their file bytes. */
    if (!phdr_seen) {
        uint64_t ph_size = (uint64_t)eh.phnum * sizeof(struct phdr);
        for (uint32_t i = 0; i < img->nload; i++) {
            const struct elfp_segment *s = &img->load[i];
            if (eh.phoff >= s->offset && eh.phoff + ph_size <= s->offset + s->filesz) {
                img->phdr_vaddr = s->vaddr + (eh.phoff - s->offset);
                break;
            }
        }
    }

    /* the entry point must lie in an executable segment */
    int entry_ok = 0;
    for (uint32_t i = 0; i < img->nload; i++) {
        const struct elfp_segment *s = &img->load[i];
        if ((s->flags & ELFP_X) && eh.entry >= s->vaddr && eh.entry < s->vaddr + s->memsz)
            entry_ok = 1;
    }
    if (!entry_ok)
        return ELFP_ERR_MALFORMED;
    if (img->type == ELFP_EXEC && img->span_start == 0)
        return ELFP_ERR_MALFORMED;
    return ELFP_OK;
}
