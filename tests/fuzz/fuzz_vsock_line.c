/* fuzz_vsock_line.c: the hybrid vsock "CONNECT <port>\n" parser with arbitrary bytes: a line it
 * accepts must be exactly "connect " (any case), decimal digits and a newline, within the limit,
 * and must print back to the same port. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devices/vsock_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t port = 0;
    size_t used = 0;
    enum vsock_line r = vsock_line_parse((const char *)data, size, &port, &used);
    if (r == VSOCK_LINE_OK) {
        if (used > size || used > VSOCK_LINE_MAX || data[used - 1] != '\n' ||
            strncasecmp((const char *)data, "CONNECT ", 8) != 0)
            abort();
        char back[32];
        int n = snprintf(back, sizeof(back), "%u\n", port);
        /* leading zeros are allowed, so compare the value */
        unsigned long long v = strtoull((const char *)data + 8, NULL, 10);
        if (v != port || n <= 0)
            abort();
    } else if (r == VSOCK_LINE_MORE && size >= VSOCK_LINE_MAX) {
        abort();
    }
    return 0;
}
