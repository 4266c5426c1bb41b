/* fuzz_virtqueue.c: the device-side walk of a split virtqueue over guest memory the fuzzer
 * writes: every segment vq_pop returns must lie inside guest memory, chains must respect the
 * segment limit, and a broken ring must be reported, never followed. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "devices/virtqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 16)
        return 0;
    static int quiet;
    if (!quiet) {
        log_set_level(-1);
        quiet = 1;
    }
    uint8_t *ram = aligned_alloc(4096, MEM);
    memset(ram, 0, MEM);
    memcpy(ram, data + 16, size - 16 < MEM ? size - 16 : MEM);
    struct guest_mem mem = {.host = ram, .size = MEM};
    struct vq q = {0};
    uint16_t num;
    uint32_t d, a, u;
    memcpy(&num, data, 2);
    memcpy(&d, data + 2, 4);
    memcpy(&a, data + 6, 4);
    memcpy(&u, data + 10, 4);
    q.num = num;
    q.desc_gpa = d % (MEM + 4096);
    q.avail_gpa = a % (MEM + 4096);
    q.used_gpa = u % (MEM + 4096);
    char why[160];
    if (vq_start(&q, &mem, why, sizeof(why)) == 0) {
        for (int i = 0; i < 256; i++) {
            struct vq_chain c;
            int r = vq_pop(&q, &c, why, sizeof(why));
            if (r <= 0)
                break;
            if (c.nout + c.nin > VQ_MAX_SEGS)
                abort();
            for (unsigned s = 0; s < c.nout + c.nin; s++) {
                const struct vq_seg *g = s < c.nout ? &c.out[s] : &c.in[s - c.nout];
                if (g->len && (g->p < ram || g->p + g->len > ram + MEM))
                    abort();
            }
            uint8_t hdr[44];
            vq_chain_read(&c, 0, hdr, sizeof(hdr));
            vq_push(&q, c.head, (uint32_t)c.in_len);
        }
    }
    free(ram);
    return 0;
}
