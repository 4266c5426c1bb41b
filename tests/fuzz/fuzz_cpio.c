/* fuzz_cpio.c: the cpio reader on arbitrary bytes: entries it returns lie inside the buffer and
 * the position only moves forward. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cpio/cpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    struct cpio_entry e;
    for (int n = 0; n < 10000; n++) {
        size_t before = pos;
        enum cpio_status st = cpio_next(data, size, &pos, &e);
        if (st == CPIO_MALFORMED)
            break;
        if ((const uint8_t *)e.name < data || (const uint8_t *)e.name + e.name_len > data + size ||
            e.data < data || e.data + e.size > data + size || pos <= before || pos > size)
            abort();
        if (st == CPIO_END)
            break;
    }
    return 0;
}
