/* eif.c: strict EIF v4 reader, canonical writer and the IEEE CRC-32 that covers the file. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image/eif.h"

/* Offsets of the header fields (specs/eif.md 1.2). */
#define H_VERSION   0x04
#define H_FLAGS     0x06
#define H_MEM       0x08
#define H_CPUS      0x10
#define H_NSECTIONS 0x1a
#define H_OFFSETS   0x1c
#define H_SIZES     0x11c

/* Where a Linux bzImage keeps its "HdrS" boot-protocol signature. */
#define BZIMAGE_MAGIC_OFFSET 0x202

/* CRC-32 table for the reflected polynomial 0xEDB88320. */
static const uint32_t crc_table[256] = {
    0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
    0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988, 0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
    0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
    0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
    0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172, 0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
    0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
    0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
    0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924, 0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
    0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
    0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
    0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e, 0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
    0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
    0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
    0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0, 0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
    0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
    0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
    0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a, 0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
    0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
    0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
    0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc, 0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
    0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
    0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
    0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236, 0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
    0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
    0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
    0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38, 0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
    0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
    0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
    0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2, 0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
    0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
    0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
    0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94, 0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

uint32_t eif_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* The CRC of a gap-free file whose sections end at end: header up to the CRC field, then every
 * section header and its data in file order, which is the bytes [548, end). */
static uint32_t file_crc(const uint8_t *buf, size_t end)
{
    uint32_t crc = eif_crc32(0, buf, EIF_CRC_OFFSET);
    return eif_crc32(crc, buf + EIF_HEADER_SIZE, end - EIF_HEADER_SIZE);
}

const char *eif_strerror(enum eif_error err)
{
    switch (err) {
    case EIF_OK:
        return "valid";
    case EIF_ERR_TRUNCATED:
        return "truncated: the file ends inside the header or a section header";
    case EIF_ERR_MAGIC:
        return "not an EIF (bad magic)";
    case EIF_ERR_VERSION:
        return "unsupported EIF version (only 4 is supported)";
    case EIF_ERR_FLAGS:
        return "unsupported header flags (only x86-64, flags 0, is supported)";
    case EIF_ERR_NSECTIONS:
        return "invalid number of sections (must be 1 to 32)";
    case EIF_ERR_TABLE:
        return "the section offset/size table does not match the sections";
    case EIF_ERR_BOUNDS:
        return "a section runs past the end of the file";
    case EIF_ERR_SECTION_TYPE:
        return "invalid section type";
    case EIF_ERR_SECTION_FLAGS:
        return "a section header has non-zero flags";
    case EIF_ERR_DUPLICATE:
        return "duplicate kernel, cmdline, metadata or signature section";
    case EIF_ERR_MISSING:
        return "missing kernel, cmdline or ramdisk section";
    case EIF_ERR_TRAILING:
        return "trailing bytes after the last section";
    case EIF_ERR_CRC:
        return "CRC-32 mismatch";
    case EIF_ERR_LINUX_KERNEL:
        return "the kernel section is a Linux bzImage, not alcove's enclave kernel";
    }
    return "unknown EIF error";
}

/* Walks the sections back to back from the header, checking each against the table. */
static enum eif_error parse_sections(const uint8_t *buf, size_t size, struct eif_image *img,
                                     size_t *end)
{
    size_t pos = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < img->nsections; i++) {
        uint64_t table_off = get64(buf + H_OFFSETS + 8 * i);
        uint64_t table_size = get64(buf + H_SIZES + 8 * i);
        if (table_off != pos)
            return EIF_ERR_TABLE;
        if (size - pos < EIF_SECTION_HEADER_SIZE)
            return EIF_ERR_TRUNCATED;
        const uint8_t *sh = buf + pos;
        struct eif_section *s = &img->sections[i];
        s->type = get16(sh);
        s->flags = get16(sh + 2);
        s->size = get64(sh + 4);
        s->offset = pos;
        if (s->type == EIF_SEC_INVALID || s->type > EIF_SEC_METADATA)
            return EIF_ERR_SECTION_TYPE;
        if (s->flags != 0)
            return EIF_ERR_SECTION_FLAGS;
        if (s->size != table_size)
            return EIF_ERR_TABLE;
        pos += EIF_SECTION_HEADER_SIZE;
        if (s->size > size - pos)
            return EIF_ERR_BOUNDS;
        s->data = buf + pos;
        pos += (size_t)s->size;
    }
    for (unsigned i = img->nsections; i < EIF_MAX_SECTIONS; i++)
        if (get64(buf + H_OFFSETS + 8 * i) != 0 || get64(buf + H_SIZES + 8 * i) != 0)
            return EIF_ERR_TABLE;
    *end = pos;
    return EIF_OK;
}

/* Records where the kernel, cmdline, metadata, signature and ramdisks are. */
static enum eif_error index_sections(struct eif_image *img)
{
    for (unsigned i = 0; i < img->nsections; i++) {
        int *slot = NULL;
        switch (img->sections[i].type) {
        case EIF_SEC_KERNEL:
            slot = &img->kernel;
            break;
        case EIF_SEC_CMDLINE:
            slot = &img->cmdline;
            break;
        case EIF_SEC_METADATA:
            slot = &img->metadata;
            break;
        case EIF_SEC_SIGNATURE:
            slot = &img->signature;
            break;
        default:
            img->ramdisks[img->nramdisks++] = (int)i;
            continue;
        }
        if (*slot >= 0)
            return EIF_ERR_DUPLICATE;
        *slot = (int)i;
    }
    if (img->kernel < 0 || img->cmdline < 0 || img->nramdisks == 0)
        return EIF_ERR_MISSING;
    return EIF_OK;
}

static bool is_bzimage(const struct eif_section *k)
{
    return k->size >= BZIMAGE_MAGIC_OFFSET + 4 &&
           memcmp(k->data + BZIMAGE_MAGIC_OFFSET, "HdrS", 4) == 0;
}

enum eif_error eif_parse(const uint8_t *buf, size_t size, struct eif_image *img)
{
    memset(img, 0, sizeof(*img));
    img->kernel = img->cmdline = img->metadata = img->signature = -1;
    if (size < EIF_HEADER_SIZE)
        return EIF_ERR_TRUNCATED;
    if (memcmp(buf, EIF_MAGIC, 4) != 0)
        return EIF_ERR_MAGIC;
    img->version = get16(buf + H_VERSION);
    img->flags = get16(buf + H_FLAGS);
    img->default_mem = get64(buf + H_MEM);
    img->default_cpus = get64(buf + H_CPUS);
    img->crc_stored = get32(buf + EIF_CRC_OFFSET);
    if (img->version != EIF_VERSION)
        return EIF_ERR_VERSION;
    if (img->flags != 0)
        return EIF_ERR_FLAGS;
    uint16_t n = get16(buf + H_NSECTIONS);
    if (n == 0 || n > EIF_MAX_SECTIONS)
        return EIF_ERR_NSECTIONS;
    img->nsections = n;

    size_t end = 0;
    enum eif_error err = parse_sections(buf, size, img, &end);
    if (err != EIF_OK)
        return err;
    if (end != size)
        return EIF_ERR_TRAILING;
    err = index_sections(img);
    if (err != EIF_OK)
        return err;
    img->crc_computed = file_crc(buf, end);
    if (img->crc_computed != img->crc_stored)
        return EIF_ERR_CRC;
    if (is_bzimage(&img->sections[img->kernel]))
        return EIF_ERR_LINUX_KERNEL;
    return EIF_OK;
}

int eif_write(const struct eif_contents *c, uint8_t **out, size_t *out_size)
{
    struct eif_blob secs[EIF_MAX_SECTIONS];
    uint16_t types[EIF_MAX_SECTIONS];
    unsigned n = 0;

    *out = NULL;
    *out_size = 0;
    unsigned max_ramdisks =
        EIF_MAX_SECTIONS - 2u - (c->metadata.size != 0) - (c->signature.size != 0);
    if (c->nramdisks == 0 || c->ramdisks == NULL || c->nramdisks > max_ramdisks)
        return -EINVAL;
    types[n] = EIF_SEC_KERNEL, secs[n++] = c->kernel;
    types[n] = EIF_SEC_CMDLINE, secs[n++] = c->cmdline;
    if (c->metadata.size)
        types[n] = EIF_SEC_METADATA, secs[n++] = c->metadata;
    for (unsigned i = 0; i < c->nramdisks; i++)
        types[n] = EIF_SEC_RAMDISK, secs[n++] = c->ramdisks[i];
    if (c->signature.size)
        types[n] = EIF_SEC_SIGNATURE, secs[n++] = c->signature;

    size_t total = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < n; i++) {
        if ((secs[i].size && secs[i].data == NULL) ||
            secs[i].size > SIZE_MAX - total - EIF_SECTION_HEADER_SIZE)
            return -EINVAL;
        total += EIF_SECTION_HEADER_SIZE + secs[i].size;
    }
    uint8_t *buf = calloc(1, total);
    if (buf == NULL)
        return -ENOMEM;

    memcpy(buf, EIF_MAGIC, 4);
    put16(buf + H_VERSION, EIF_VERSION);
    put16(buf + H_FLAGS, c->flags);
    put64(buf + H_MEM, EIF_DEFAULT_MEM);
    put64(buf + H_CPUS, EIF_DEFAULT_CPUS);
    put16(buf + H_NSECTIONS, (uint16_t)n);
    size_t pos = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < n; i++) {
        put64(buf + H_OFFSETS + 8 * i, pos);
        put64(buf + H_SIZES + 8 * i, secs[i].size);
        put16(buf + pos, types[i]);
        put64(buf + pos + 4, secs[i].size);
        pos += EIF_SECTION_HEADER_SIZE;
        if (secs[i].size)
            memcpy(buf + pos, secs[i].data, secs[i].size);
        pos += secs[i].size;
    }
    put32(buf + EIF_CRC_OFFSET, file_crc(buf, total));
    *out = buf;
    *out_size = total;
    return 0;
}

void eif_update_crc(uint8_t *buf, size_t size)
{
    if (size < EIF_HEADER_SIZE)
        return;
    put32(buf + EIF_CRC_OFFSET, file_crc(buf, size));
}
