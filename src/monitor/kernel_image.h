/* kernel_image.h: the enclave kernel image (an ELF linked at ALC_KERNEL_VBASE) as the monitor
 * needs it: its segments and the entry points its ALCOVE note announces. */
#ifndef ALCOVE_KERNEL_IMAGE_H
#define ALCOVE_KERNEL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "abi/alcove_abi.h"
#include "elf/elf_parse.h"

struct kernel_image {
    const uint8_t *file;
    size_t size;
    struct elfp_image elf;
    struct alc_kernel_header hdr;
    uint64_t span; /* bytes from ALC_KERNEL_VBASE to the end of the last segment */
};

/* The image built into this alcove binary. */
const uint8_t *kernel_image_builtin(size_t *size);

/* Parses and checks an enclave kernel image. 0, or -1 with a reason in why. */
int kernel_image_parse(const uint8_t *file, size_t size, struct kernel_image *k, char *why,
                       size_t why_size);

#endif
