/* fuzz_ring.c: output-ring parsing with hostile bytes and indices: every record it returns
 * must lie inside the ring and between tail and head. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 17)
        return 0;
    uint64_t head, tail;
    memcpy(&head, data, 8);
    memcpy(&tail, data + 8, 8);
    unsigned shift = data[16] % 8;
    uint64_t rsize = 8ull << shift; /* 8 .. 1024 */
    uint8_t *ring = calloc(1, rsize);
    memcpy(ring, data + 17, size - 17 < rsize ? size - 17 : rsize);
    struct ring_record rec;
    for (int n = 0; n < 64; n++) {
        enum ring_status st = ring_next_record(ring, rsize, head, tail, &rec);
        if (st != RING_RECORD)
            break;
        uint64_t got = 0;
        for (int i = 0; i < rec.iovcnt; i++) {
            uint8_t *b = rec.iov[i].iov_base;
            if (b < ring || b + rec.iov[i].iov_len > ring + rsize)
                abort();
            got += rec.iov[i].iov_len;
        }
        if (got != rec.len || rec.next_tail - tail > head - tail)
            abort();
        tail = rec.next_tail;
    }
    free(ring);
    return 0;
}
