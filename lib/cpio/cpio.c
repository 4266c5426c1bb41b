/* cpio.c: strict newc cpio reader (see cpio.h). */
#include "cpio/cpio.h"

#define HDR_SIZE 110

static int hex8(const uint8_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        uint8_t c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static size_t align4(size_t x)
{
    return (x + 3) & ~(size_t)3;
}

enum cpio_status cpio_next(const uint8_t *buf, size_t size, size_t *pos, struct cpio_entry *e)
{
    size_t p = *pos;
    if (p > size || size - p < HDR_SIZE)
        return CPIO_MALFORMED;
    const uint8_t *h = buf + p;
    static const char magic[6] = {'0', '7', '0', '7', '0', '1'};
    for (int i = 0; i < 6; i++)
        if (h[i] != (uint8_t)magic[i])
            return CPIO_MALFORMED;
    uint32_t f[13];
    for (int i = 0; i < 13; i++)
        if (hex8(h + 6 + 8 * i, &f[i]))
            return CPIO_MALFORMED;
    /* f: ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize
     * check */
    uint32_t namesize = f[11];
    if (namesize == 0 || namesize > size - p - HDR_SIZE)
        return CPIO_MALFORMED;
    const uint8_t *name = h + HDR_SIZE;
    if (name[namesize - 1] != 0)
        return CPIO_MALFORMED;
    size_t data_off = align4(p + HDR_SIZE + namesize);
    if (data_off > size || f[6] > size - data_off)
        return CPIO_MALFORMED;
    e->name = (const char *)name;
    e->name_len = namesize - 1;
    e->mode = f[1];
    e->uid = f[2];
    e->gid = f[3];
    e->nlink = f[4];
    e->mtime = f[5];
    e->data = buf + data_off;
    e->size = f[6];
    *pos = align4(data_off + f[6]);
    if (*pos > size)
        *pos = size; /* the last entry's padding may be missing */
    static const char trailer[] = "TRAILER!!!";
    if (e->name_len == sizeof(trailer) - 1) {
        int is_trailer = 1;
        for (size_t i = 0; i < e->name_len; i++)
            is_trailer &= e->name[i] == trailer[i];
        if (is_trailer)
            return CPIO_END;
    }
    return CPIO_ENTRY;
}
