/* eif.c: strict EIF v4 reader, canonical writer and the IEEE CRC-32 that covers the file. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

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

/* CRC-32 (IEEE 802.3, reflected, as nitro-cli's crc32fast): zlib's, which is several times
 * faster than a byte table and matters for images of hundreds of MiB. */
uint32_t eif_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
    return (uint32_t)crc32_combine64(crc1, crc2, (z_off64_t)len2);
}

uint32_t eif_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
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

/* The offset/size table alone, against the file's size: the sections must lie back to back from
 * the header to exactly the end of the file, and the unused slots be zero. The errors are those a
 * walk over the sections themselves would meet first (a cut section header, a section past the
 * end), so a file gets the same answer whether its body has been read or not. */
static enum eif_error check_table(const uint8_t *hdr, unsigned nsections, uint64_t size)
{
    uint64_t pos = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < nsections; i++) {
        if (get64(hdr + H_OFFSETS + 8 * i) != pos)
            return EIF_ERR_TABLE;
        if (size - pos < EIF_SECTION_HEADER_SIZE)
            return EIF_ERR_TRUNCATED;
        pos += EIF_SECTION_HEADER_SIZE;
        if (get64(hdr + H_SIZES + 8 * i) > size - pos)
            return EIF_ERR_BOUNDS;
        pos += get64(hdr + H_SIZES + 8 * i);
    }
    for (unsigned i = nsections; i < EIF_MAX_SECTIONS; i++)
        if (get64(hdr + H_OFFSETS + 8 * i) != 0 || get64(hdr + H_SIZES + 8 * i) != 0)
            return EIF_ERR_TABLE;
    return pos == size ? EIF_OK : EIF_ERR_TRAILING;
}

/* The header's fields into img, and the checks of eif_check_header. */
static enum eif_error parse_header(const uint8_t *hdr, uint64_t size, struct eif_image *img)
{
    if (size < EIF_HEADER_SIZE)
        return EIF_ERR_TRUNCATED;
    if (memcmp(hdr, EIF_MAGIC, 4) != 0)
        return EIF_ERR_MAGIC;
    img->version = get16(hdr + H_VERSION);
    img->flags = get16(hdr + H_FLAGS);
    img->default_mem = get64(hdr + H_MEM);
    img->default_cpus = get64(hdr + H_CPUS);
    img->crc_stored = get32(hdr + EIF_CRC_OFFSET);
    if (img->version != EIF_VERSION)
        return EIF_ERR_VERSION;
    if (img->flags != 0)
        return EIF_ERR_FLAGS;
    uint16_t n = get16(hdr + H_NSECTIONS);
    if (n == 0 || n > EIF_MAX_SECTIONS)
        return EIF_ERR_NSECTIONS;
    img->nsections = n;
    return check_table(hdr, n, size);
}

enum eif_error eif_check_header(const uint8_t *head, uint64_t file_size)
{
    struct eif_image img;
    memset(&img, 0, sizeof(img));
    return parse_header(head, file_size, &img);
}

/* One section header's own checks: its type and flags, and its size against the table's. */
static enum eif_error check_section(const uint8_t *sh, uint64_t table_size, struct eif_section *s)
{
    s->type = get16(sh);
    s->flags = get16(sh + 2);
    s->size = get64(sh + 4);
    if (s->type == EIF_SEC_INVALID || s->type > EIF_SEC_METADATA)
        return EIF_ERR_SECTION_TYPE;
    if (s->flags != 0)
        return EIF_ERR_SECTION_FLAGS;
    if (s->size != table_size)
        return EIF_ERR_TABLE;
    return EIF_OK;
}

/* Reads each section header where the (checked) table puts it, and checks it agrees. */
static enum eif_error parse_sections(const uint8_t *buf, struct eif_image *img)
{
    for (unsigned i = 0; i < img->nsections; i++) {
        uint64_t pos = get64(buf + H_OFFSETS + 8 * i);
        const uint8_t *sh = buf + pos;
        struct eif_section *s = &img->sections[i];
        s->offset = pos;
        enum eif_error err = check_section(sh, get64(buf + H_SIZES + 8 * i), s);
        if (err != EIF_OK)
            return err;
        s->data = sh + EIF_SECTION_HEADER_SIZE;
    }
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

unsigned eif_section_offsets(const uint8_t *head, uint64_t offsets[EIF_MAX_SECTIONS])
{
    unsigned n = get16(head + H_NSECTIONS);
    n = n < EIF_MAX_SECTIONS ? n : EIF_MAX_SECTIONS;
    for (unsigned i = 0; i < n; i++)
        offsets[i] = get64(head + H_OFFSETS + 8 * i);
    return n;
}

enum eif_error eif_check_sections(const uint8_t *head, const uint8_t (*sh)[EIF_SECTION_HEADER_SIZE])
{
    struct eif_image img;
    memset(&img, 0, sizeof(img));
    img.kernel = img.cmdline = img.metadata = img.signature = -1;
    uint64_t offsets[EIF_MAX_SECTIONS];
    img.nsections = (uint16_t)eif_section_offsets(head, offsets);
    /* in eif_parse's order, so that the first fault found is the one it would report */
    for (unsigned i = 0; i < img.nsections; i++) {
        img.sections[i].offset = offsets[i];
        enum eif_error err = check_section(sh[i], get64(head + H_SIZES + 8 * i), &img.sections[i]);
        if (err != EIF_OK)
            return err;
    }
    return index_sections(&img);
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
    enum eif_error err = parse_header(buf, size, img);
    if (err == EIF_OK)
        err = parse_sections(buf, img);
    if (err == EIF_OK)
        err = index_sections(img);
    if (err != EIF_OK)
        return err;
    img->crc_computed = file_crc(buf, size);
    if (img->crc_computed != img->crc_stored)
        return EIF_ERR_CRC;
    if (is_bzimage(&img->sections[img->kernel]))
        return EIF_ERR_LINUX_KERNEL;
    return EIF_OK;
}

static uint32_t blob_crc(uint32_t crc, const struct eif_blob *b)
{
    if (!b->iov)
        return eif_crc32(crc, b->data, b->size);
    for (int i = 0; i < b->iovcnt; i++)
        crc = eif_crc32(crc, b->iov[i].iov_base, b->iov[i].iov_len);
    return crc;
}

/* A file as eif_write makes it, before its bytes are put anywhere: the header (CRC included),
 * the section headers, and the sections' data, in file order. */
struct layout {
    uint8_t header[EIF_HEADER_SIZE];
    uint8_t sechdr[EIF_MAX_SECTIONS][EIF_SECTION_HEADER_SIZE];
    struct eif_blob secs[EIF_MAX_SECTIONS];
    unsigned n;
    size_t total;
};

/* The header (CRC field 0) and section headers of c; no pass over the data. */
static int lay_out_headers(const struct eif_contents *c, struct layout *l)
{
    uint16_t types[EIF_MAX_SECTIONS];
    unsigned n = 0;
    memset(l, 0, sizeof(*l));
    unsigned max_ramdisks =
        EIF_MAX_SECTIONS - 2u - (c->metadata.size != 0) - (c->signature.size != 0);
    if (c->nramdisks == 0 || c->ramdisks == NULL || c->nramdisks > max_ramdisks)
        return -EINVAL;
    types[n] = EIF_SEC_KERNEL, l->secs[n++] = c->kernel;
    types[n] = EIF_SEC_CMDLINE, l->secs[n++] = c->cmdline;
    if (c->metadata.size)
        types[n] = EIF_SEC_METADATA, l->secs[n++] = c->metadata;
    for (unsigned i = 0; i < c->nramdisks; i++)
        types[n] = EIF_SEC_RAMDISK, l->secs[n++] = c->ramdisks[i];
    if (c->signature.size)
        types[n] = EIF_SEC_SIGNATURE, l->secs[n++] = c->signature;

    size_t total = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < n; i++) {
        if ((l->secs[i].size && l->secs[i].data == NULL && l->secs[i].iov == NULL) ||
            l->secs[i].size > SIZE_MAX - total - EIF_SECTION_HEADER_SIZE)
            return -EINVAL;
        total += EIF_SECTION_HEADER_SIZE + l->secs[i].size;
    }
    uint8_t *h = l->header;
    memcpy(h, EIF_MAGIC, 4);
    put16(h + H_VERSION, EIF_VERSION);
    put16(h + H_FLAGS, c->flags);
    put64(h + H_MEM, EIF_DEFAULT_MEM);
    put64(h + H_CPUS, EIF_DEFAULT_CPUS);
    put16(h + H_NSECTIONS, (uint16_t)n);
    size_t pos = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < n; i++) {
        put64(h + H_OFFSETS + 8 * i, pos);
        put64(h + H_SIZES + 8 * i, l->secs[i].size);
        put16(l->sechdr[i], types[i]);
        put64(l->sechdr[i] + 4, l->secs[i].size);
        pos += EIF_SECTION_HEADER_SIZE + l->secs[i].size;
    }
    l->n = n;
    l->total = total;
    return 0;
}

/* The whole layout, CRC included (one pass over the data). */
static int lay_out(const struct eif_contents *c, struct layout *l)
{
    int err = lay_out_headers(c, l);
    if (err)
        return err;
    uint32_t crc = 0;
    for (unsigned i = 0; i < l->n; i++) {
        crc = eif_crc32(crc, l->sechdr[i], EIF_SECTION_HEADER_SIZE);
        crc = blob_crc(crc, &l->secs[i]);
    }
    put32(l->header + EIF_CRC_OFFSET, eif_crc32_combine(eif_crc32(0, l->header, EIF_CRC_OFFSET),
                                                        crc, l->total - EIF_HEADER_SIZE));
    return 0;
}

int eif_header(const struct eif_contents *c, uint32_t body_crc, uint8_t header[EIF_HEADER_SIZE],
               uint64_t *total)
{
    struct layout l;
    int err = lay_out_headers(c, &l);
    if (err)
        return err;
    put32(l.header + EIF_CRC_OFFSET, eif_crc32_combine(eif_crc32(0, l.header, EIF_CRC_OFFSET),
                                                       body_crc, l.total - EIF_HEADER_SIZE));
    memcpy(header, l.header, EIF_HEADER_SIZE);
    *total = l.total;
    return 0;
}

int eif_section_header(uint16_t type, uint64_t size, uint8_t out[EIF_SECTION_HEADER_SIZE])
{
    memset(out, 0, EIF_SECTION_HEADER_SIZE);
    put16(out, type);
    put64(out + 4, size);
    return 0;
}

int eif_write(const struct eif_contents *c, uint8_t **out, size_t *out_size)
{
    struct layout l;
    *out = NULL;
    *out_size = 0;
    int err = lay_out(c, &l);
    if (err)
        return err;
    uint8_t *buf = malloc(l.total);
    if (buf == NULL)
        return -ENOMEM;
    memcpy(buf, l.header, EIF_HEADER_SIZE);
    size_t pos = EIF_HEADER_SIZE;
    for (unsigned i = 0; i < l.n; i++) {
        memcpy(buf + pos, l.sechdr[i], EIF_SECTION_HEADER_SIZE);
        pos += EIF_SECTION_HEADER_SIZE;
        const struct eif_blob *b = &l.secs[i];
        if (b->iov) {
            for (int k = 0; k < b->iovcnt; k++) {
                memcpy(buf + pos, b->iov[k].iov_base, b->iov[k].iov_len);
                pos += b->iov[k].iov_len;
            }
        } else {
            if (b->size)
                memcpy(buf + pos, b->data, b->size);
            pos += b->size;
        }
    }
    *out = buf;
    *out_size = l.total;
    return 0;
}

void eif_update_crc(uint8_t *buf, size_t size)
{
    if (size < EIF_HEADER_SIZE)
        return;
    put32(buf + EIF_CRC_OFFSET, file_crc(buf, size));
}
