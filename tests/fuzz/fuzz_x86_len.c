/* fuzz_x86_len.c: the x86-64 length decoder on arbitrary bytes. It must never read beyond
 * `avail` (each input is decoded from an exact-size copy, so ASan sees any over-read), and what
 * it returns must be consistent: a length within 1..15 and avail, the same result with exactly
 * that many bytes, and offsets of the ModRM byte and the displacement inside the instruction. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "x86/x86_len.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *code, size_t avail)
{
    uint8_t *exact = malloc(avail ? avail : 1);
    if (!exact)
        abort();
    memcpy(exact, code, avail);
    struct x86_insn d;
    unsigned len = x86_decode(exact, avail, &d);
    if (len) {
        if (len > 15 || len > avail || d.len != len)
            abort();
        if (d.modrm_at >= (int)len || (d.rel_at >= 0 && d.rel_at + d.rel_size > (int)len))
            abort();
        if (d.rel_at >= 0 && d.rel_size != 1 && d.rel_size != 4)
            abort();
        struct x86_insn again;
        if (x86_decode(exact, len, &again) != len || memcmp(&again, &d, sizeof(d)) != 0)
            abort(); /* the bytes after the instruction must not matter */
        enum x86_kind kind;
        if (x86_insn_len(exact, avail, &kind) != len || kind != (enum x86_kind)d.kind)
            abort();
    }
    free(exact);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the whole input, then a linear sweep over it as a patcher would decode a run of code */
    check(data, size);
    size_t at = 0;
    while (at < size) {
        enum x86_kind kind;
        unsigned len = x86_insn_len(data + at, size - at, &kind);
        check(data + at, size - at);
        at += len ? len : 1;
    }
    return 0;
}
