/* kernel_image.c: reading the enclave kernel image (see kernel_image.h). */
#include "monitor/kernel_image.h"

#include <stdio.h>
#include <string.h>

extern const uint8_t alcove_kernel_image[];
extern const uint8_t alcove_kernel_image_end[];

const uint8_t *kernel_image_builtin(size_t *size)
{
    *size = (size_t)(alcove_kernel_image_end - alcove_kernel_image);
    return alcove_kernel_image;
}

static int find_header(const uint8_t *file, const struct elfp_image *e, struct alc_kernel_header *h)
{
    uint64_t off = e->note_offset, end = e->note_offset + e->note_size;
    while (off + 12 <= end) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, file + off, 4);
        memcpy(&descsz, file + off + 4, 4);
        memcpy(&type, file + off + 8, 4);
        uint64_t name_off = off + 12;
        uint64_t desc_off = name_off + ((namesz + 3ull) & ~3ull);
        uint64_t next = desc_off + ((descsz + 3ull) & ~3ull);
        if (next > end || next <= off)
            return -1;
        if (type == ALC_NOTE_KERNEL && namesz == sizeof(ALC_NOTE_NAME) &&
            memcmp(file + name_off, ALC_NOTE_NAME, namesz) == 0 && descsz == sizeof(*h)) {
            memcpy(h, file + desc_off, sizeof(*h));
            return 0;
        }
        off = next;
    }
    return -1;
}

static int in_text(const struct kernel_image *k, uint64_t va)
{
    for (uint32_t i = 0; i < k->elf.nload; i++) {
        const struct elfp_segment *s = &k->elf.load[i];
        if ((s->flags & ELFP_X) && va >= s->vaddr && va < s->vaddr + s->memsz)
            return 1;
    }
    return 0;
}

int kernel_image_parse(const uint8_t *file, size_t size, struct kernel_image *k, char *why,
                       size_t why_size)
{
    memset(k, 0, sizeof(*k));
    k->file = file;
    k->size = size;
    enum elfp_error err = elfp_parse_opts(file, size, &k->elf, ELFP_ALLOW_KERNEL);
    if (err != ELFP_OK) {
        snprintf(why, why_size, "%s", elfp_strerror(err));
        return -1;
    }
    if (k->elf.type != ELFP_EXEC || k->elf.span_start != ALC_KERNEL_VBASE ||
        k->elf.span_end - k->elf.span_start > (1ull << 30)) {
        snprintf(why, why_size, "not linked at the enclave kernel's address");
        return -1;
    }
    for (uint32_t i = 0; i < k->elf.nload; i++) {
        if ((k->elf.load[i].flags & ELFP_W) && (k->elf.load[i].flags & ELFP_X)) {
            snprintf(why, why_size, "a segment is both writable and executable");
            return -1;
        }
    }
    if (find_header(file, &k->elf, &k->hdr)) {
        snprintf(why, why_size, "no ALCOVE kernel note");
        return -1;
    }
    if (k->hdr.magic != ALC_KERNEL_MAGIC || k->hdr.abi_version != ALC_ABI_VERSION) {
        snprintf(why, why_size, "built for ABI %u, this monitor speaks ABI %u", k->hdr.abi_version,
                 ALC_ABI_VERSION);
        return -1;
    }
    if (k->hdr.unused || k->hdr.reserved[0] || k->hdr.reserved[1]) {
        snprintf(why, why_size, "its header's unused and reserved words are not 0");
        return -1;
    }
    uint64_t entries[] = {k->hdr.entry_boot,      k->hdr.entry_ap,      k->hdr.entry_syscall,
                          k->hdr.entry_exception, k->hdr.tramp_syscall, k->hdr.tramp_exceptions,
                          k->hdr.entry_preempt};
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        if (!in_text(k, entries[i])) {
            snprintf(why, why_size, "an entry point lies outside the kernel's code");
            return -1;
        }
    }
    k->span = k->elf.span_end - ALC_KERNEL_VBASE;
    return 0;
}
