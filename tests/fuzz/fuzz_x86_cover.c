/* fuzz_x86_cover.c: the syscall-site coverer (lib/x86/x86_cover.c) on arbitrary files: its ELF
 * headers, unwind records and code are all untrusted. Each input is an exact-size copy, so ASan
 * sees any read past its end; every candidate it reports must be inside the file and really be
 * an instruction a stub may run, then a syscall; a check that succeeds had them in strictly
 * increasing order, and the pairs it accepts do not overlap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "x86/x86_cover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *file = malloc(size ? size : 1);
    if (!file)
        abort();
    memcpy(file, data, size);
    struct x86_cover c[64];
    size_t n = x86_cover_find(file, size, c, 64);
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++)
        if (c[i].off > size || size - c[i].off < c[i].len + 2u ||
            x86_cover_movable(file + c[i].off, c[i].len) != c[i].len ||
            file[c[i].off + c[i].len] != 0x0f || file[c[i].off + c[i].len + 1] != 0x05)
            abort();
    int r = x86_cover_check(file, size, c, n);
    uint64_t end = 0; /* of the last accepted pair */
    for (size_t i = 0; i < n; i++) {
        if (c[i].ok > 1 || (r && c[i].ok) || (!r && i && c[i].off <= c[i - 1].off))
            abort(); /* accepted: offsets sorted (the kernel looks them up by bisection) */
        if (!c[i].ok)
            continue;
        /* no two accepted pairs share a byte: one decoding saw each, and it cannot see both
         * (the kernel keeps them sorted by their syscall's offset, and one jmp would cut the
         * other) */
        if (c[i].off < end)
            abort();
        end = c[i].off + c[i].len + 2u;
    }
    free(file);
    return 0;
}
