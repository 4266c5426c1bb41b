/* eif.h: the Nitro Enclave Image Format, version 4, read and written bit for bit as nitro-cli
 * does (../../shared/specs/eif.md sections 1 and 4). Big-endian on disk.
 *
 * An EIF is a 548-byte header, then sections packed back to back, each a 12-byte section header
 * and its data. alcove's EIFs hold alcove's enclave kernel (an ELF) in the kernel section,
 * a boot ramdisk (ramdisk 0) and the application ramdisk (ramdisk 1: rootfs/..., cmd, env).
 */
#ifndef ALCOVE_EIF_H
#define ALCOVE_EIF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define EIF_MAGIC               "\x2e\x65\x69\x66" /* ".eif" */
#define EIF_VERSION             4
#define EIF_HEADER_SIZE         548
#define EIF_SECTION_HEADER_SIZE 12
#define EIF_MAX_SECTIONS        32
#define EIF_FLAG_ARM64          0x1
#define EIF_DEFAULT_MEM         (1ull << 30) /* what nitro-cli writes; unused */
#define EIF_DEFAULT_CPUS        2
#define EIF_CRC_OFFSET          544

enum eif_section_type {
    EIF_SEC_INVALID = 0,
    EIF_SEC_KERNEL = 1,
    EIF_SEC_CMDLINE = 2,
    EIF_SEC_RAMDISK = 3,
    EIF_SEC_SIGNATURE = 4,
    EIF_SEC_METADATA = 5,
};

struct eif_section {
    uint16_t type; /* enum eif_section_type */
    uint16_t flags;
    uint64_t offset;     /* file offset of the section HEADER (as in the table) */
    uint64_t size;       /* data bytes */
    const uint8_t *data; /* points into the parsed buffer */
};

struct eif_image {
    uint16_t version;
    uint16_t flags;
    uint64_t default_mem;
    uint64_t default_cpus;
    uint16_t nsections;
    struct eif_section sections[EIF_MAX_SECTIONS]; /* in file order */
    int kernel, cmdline, metadata, signature;      /* section indexes, -1 when absent */
    int ramdisks[EIF_MAX_SECTIONS];                /* section indexes, in file order */
    unsigned nramdisks;
    uint32_t crc_stored;
    uint32_t crc_computed;
};

/* Why a file is refused: one code per check, so tests and the CLI can tell them apart. */
enum eif_error {
    EIF_OK = 0,
    EIF_ERR_TRUNCATED,     /* shorter than the header, or a section header cut off */
    EIF_ERR_MAGIC,         /* not ".eif" */
    EIF_ERR_VERSION,       /* not version 4 */
    EIF_ERR_FLAGS,         /* header flags other than 0 (x86-64) */
    EIF_ERR_NSECTIONS,     /* num_sections 0 or above 32 */
    EIF_ERR_TABLE,         /* the offset/size table disagrees with the sections (gaps, order,
                              sizes, non-zero unused slots) */
    EIF_ERR_BOUNDS,        /* a section runs past the end of the file */
    EIF_ERR_SECTION_TYPE,  /* type 0 or above 5 */
    EIF_ERR_SECTION_FLAGS, /* a section header's flags are not 0 */
    EIF_ERR_DUPLICATE,     /* a second kernel, cmdline, metadata or signature section */
    EIF_ERR_MISSING,       /* no kernel, no cmdline, or no ramdisk */
    EIF_ERR_TRAILING,      /* bytes after the last section */
    EIF_ERR_CRC,           /* the CRC-32 does not match */
    EIF_ERR_LINUX_KERNEL,  /* the kernel is a Linux bzImage: not alcove's enclave kernel */
};

/* Parses and checks buf (which must stay alive as long as img is used). Checks everything the
 * enum lists; EIF_ERR_LINUX_KERNEL only when the rest is valid. */
enum eif_error eif_parse(const uint8_t *buf, size_t size, struct eif_image *img);
const char *eif_strerror(enum eif_error err);
/* The checks that need only the header (magic, version, flags, section count, and the section
 * table against the file's size), for a reader that has not read the body yet: head holds the
 * file's first min(file_size, EIF_HEADER_SIZE) bytes. eif_parse gives the same answer for a file
 * whose header this refuses. */
enum eif_error eif_check_header(const uint8_t *head, uint64_t file_size);
/* For the same reader, once eif_check_header accepted head: where the section headers lie (the
 * number of sections is returned), then the checks that need only those 12-byte headers (their
 * types, flags and sizes against the table, a kernel, cmdline, metadata or signature section
 * given twice or missing) on the headers read there (sh[i] at offsets[i]). Only the CRC and the
 * kernel's contents are left to eif_parse, which gives the same answer as these checks. */
unsigned eif_section_offsets(const uint8_t *head, uint64_t offsets[EIF_MAX_SECTIONS]);
enum eif_error eif_check_sections(const uint8_t *head,
                                  const uint8_t (*sh)[EIF_SECTION_HEADER_SIZE]);

/* CRC-32 (IEEE, as zlib's crc32) of [data, data + len), continuing from crc (0 to start). */
uint32_t eif_crc32(uint32_t crc, const void *data, size_t len);
/* The CRC of A followed by B from the CRCs of each (B is len2 bytes long). */
uint32_t eif_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

struct eif_blob {
    const uint8_t *data;
    size_t size;
    /* or, when iov is set: the bytes are these pieces, in order (size is their total) */
    const struct iovec *iov;
    int iovcnt;
};

/* What eif_write puts in a file, in nitro-cli's order: kernel, cmdline, metadata, ramdisks,
 * [signature]. */
struct eif_contents {
    struct eif_blob kernel;
    struct eif_blob cmdline;  /* no NUL terminator is written */
    struct eif_blob metadata; /* JSON (metadata.h) */
    const struct eif_blob *ramdisks;
    unsigned nramdisks;        /* 1 or more */
    struct eif_blob signature; /* size 0: unsigned */
    uint16_t flags;            /* 0 for x86-64 */
};

/* Serialises c into a new malloc'd buffer (*out, *out_size). 0 or -ENOMEM / -EINVAL. */
int eif_write(const struct eif_contents *c, uint8_t **out, size_t *out_size);
/* For writers that stream the sections themselves (eif_build.c): the header of the image c
 * makes, given the CRC of everything after the header (section headers and data, in order), and
 * the image's size; and one section header. 0 or -EINVAL. */
int eif_header(const struct eif_contents *c, uint32_t body_crc, uint8_t header[EIF_HEADER_SIZE],
               uint64_t *total);
int eif_section_header(uint16_t type, uint64_t size, uint8_t out[EIF_SECTION_HEADER_SIZE]);

/* Recomputes the CRC of a whole EIF buffer in place (after editing it). */
void eif_update_crc(uint8_t *buf, size_t size);

#endif
