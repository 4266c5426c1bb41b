/* ring.c: output-ring record parsing (see ring.h). */
#include "devices/ring.h"

#include <string.h>

#include "abi/alcove_abi.h"

/* [pos, pos + len) of the ring as one or two iovecs */
static int ring_span(uint8_t *data, uint64_t size, uint64_t pos, uint64_t len, struct iovec *iov)
{
    uint64_t off = pos & (size - 1);
    uint64_t first = len < size - off ? len : size - off;
    iov[0] = (struct iovec){data + off, first};
    if (first == len)
        return 1;
    iov[1] = (struct iovec){data, len - first};
    return 2;
}

enum ring_status ring_next_record(uint8_t *data, uint64_t size, uint64_t head, uint64_t tail,
                                  struct ring_record *rec)
{
    uint64_t used = head - tail;
    if (used == 0)
        return RING_EMPTY;
    if (used > size || used < 4 || size == 0 || (size & (size - 1)))
        return RING_CORRUPT;
    struct iovec h[2];
    int hc = ring_span(data, size, tail, 4, h);
    uint32_t hdr;
    memcpy(&hdr, h[0].iov_base, h[0].iov_len);
    if (hc == 2)
        memcpy((uint8_t *)&hdr + h[0].iov_len, h[1].iov_base, h[1].iov_len);
    rec->stream = hdr >> 24;
    rec->len = hdr & ALC_REC_MAX_LEN;
    if (rec->len > used - 4 || rec->stream < ALC_STREAM_STDOUT || rec->stream > ALC_STREAM_LOG)
        return RING_CORRUPT;
    rec->iovcnt = ring_span(data, size, tail + 4, rec->len, rec->iov);
    rec->next_tail = tail + 4 + rec->len;
    return RING_RECORD;
}
