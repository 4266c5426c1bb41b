/* vsock_line.c: parsing "CONNECT <port>\n" (see vsock_line.h). Strict: one space, a decimal
 * port of at most 10 digits that fits 32 bits, no sign, nothing else on the line. */
#include "devices/vsock_line.h"

#include <strings.h>

enum vsock_line vsock_line_parse(const char *buf, size_t len, uint32_t *port, size_t *used)
{
    static const char kw[] = "CONNECT ";
    const size_t kwlen = sizeof(kw) - 1;
    size_t n = len < VSOCK_LINE_MAX ? len : VSOCK_LINE_MAX;
    /* the keyword, as far as we have it */
    size_t k = n < kwlen ? n : kwlen;
    if (strncasecmp(buf, kw, k) != 0)
        return VSOCK_LINE_INVALID;
    if (n < kwlen)
        return VSOCK_LINE_MORE;
    uint64_t v = 0;
    size_t digits = 0, i = kwlen;
    for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
        if (++digits > 10)
            return VSOCK_LINE_INVALID;
        v = v * 10 + (uint64_t)(buf[i] - '0');
    }
    if (i == n)
        return len >= VSOCK_LINE_MAX ? VSOCK_LINE_INVALID : VSOCK_LINE_MORE;
    if (buf[i] != '\n' || digits == 0 || v > UINT32_MAX)
        return VSOCK_LINE_INVALID;
    *port = (uint32_t)v;
    *used = i + 1;
    return VSOCK_LINE_OK;
}
