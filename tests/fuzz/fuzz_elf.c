/* fuzz_elf.c: the ELF parser on arbitrary bytes: it must never read out of bounds, and what it
 * accepts must be internally consistent (segments inside the file, spans ordered, the
 * interpreter's path inside the file), with every combination of options. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "elf/elf_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elfp_image img;
    for (unsigned opts = 0; opts < 4; opts++) {
        if (elfp_parse_opts(data, size, &img, opts) != ELFP_OK)
            continue;
        if (img.nload == 0 || img.nload > ELFP_MAX_LOAD || img.span_start > img.span_end)
            abort();
        if (img.interp_size &&
            (!(opts & ELFP_ALLOW_INTERP) || img.interp_size < 2 ||
             img.interp_size > ELFP_INTERP_MAX || img.interp_offset + img.interp_size > size ||
             img.interp_offset + img.interp_size < img.interp_offset))
            abort();
        if (img.interp_size) {
            volatile uint8_t last = data[img.interp_offset + img.interp_size - 1];
            (void)last; /* in bounds: the sanitizer would say otherwise */
        }
        for (uint32_t i = 0; i < img.nload; i++) {
            const struct elfp_segment *s = &img.load[i];
            if (s->filesz > s->memsz || s->offset + s->filesz > size ||
                s->offset + s->filesz < s->offset)
                abort();
            if (s->vaddr < img.span_start || s->vaddr + s->memsz > img.span_end)
                abort();
        }
    }
    return 0;
}
