/* eif_build.c: writing an image to a file while it is measured (see eif_build.h).
 *
 * The PCRs need two SHA-384 passes over the ramdisks (PCR0 covers what PCR1 and PCR2 cover) and
 * the file needs a CRC pass and the write itself. Here they overlap: one thread measures (itself
 * with PCR0 on a second thread), while this one writes every section but the signature after a
 * gap for the header, computing the CRC as it goes. Then the signature section, made from PCR0,
 * is appended, and the header, whose CRC combines the header's own with the body's, goes into
 * the gap. Nothing is copied: the bytes are read from the caller's buffers. */
#include "image/eif_build.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/signing.h"

struct measure_job {
    const struct eif_contents *c;
    struct eif_pcrs pcrs;
    int err;
};

static void *measure_thread(void *arg)
{
    struct measure_job *j = arg;
    j->err = eif_measure_contents(j->c, &j->pcrs);
    return NULL;
}

static int pwrite_all(int fd, const void *p, size_t len, off_t off)
{
    const uint8_t *b = p;
    while (len > 0) {
        ssize_t w = pwrite(fd, b, len, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        b += w;
        off += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Appends a section (header and data) at *off, extending the body's CRC. */
static int put_section(int fd, uint16_t type, const struct eif_blob *b, off_t *off, uint32_t *crc)
{
    uint8_t sh[EIF_SECTION_HEADER_SIZE];
    eif_section_header(type, b->size, sh);
    int err = pwrite_all(fd, sh, sizeof(sh), *off);
    *crc = eif_crc32(*crc, sh, sizeof(sh));
    *off += (off_t)sizeof(sh);
    int n = b->iov ? b->iovcnt : 1;
    for (int i = 0; !err && i < n; i++) {
        const void *p = b->iov ? b->iov[i].iov_base : b->data;
        size_t len = b->iov ? b->iov[i].iov_len : b->size;
        err = pwrite_all(fd, p, len, *off);
        *crc = eif_crc32(*crc, p, len);
        *off += (off_t)len;
    }
    return err;
}

int eif_write_measured(const struct eif_contents *in, const struct eif_sign_request *sign, int fd,
                       struct eif_pcrs *pcrs, uint64_t *size, char *why, size_t why_size)
{
    struct eif_contents c = *in;
    c.signature = (struct eif_blob){.data = NULL};
    struct measure_job job = {.c = &c, .err = -1};
    pthread_t thread;
    bool threaded = pthread_create(&thread, NULL, measure_thread, &job) == 0;
    if (!threaded)
        measure_thread(&job);

    /* the body, in nitro-cli's order, after room for the header */
    off_t off = EIF_HEADER_SIZE;
    uint32_t crc = 0;
    int err = put_section(fd, EIF_SEC_KERNEL, &c.kernel, &off, &crc);
    if (!err)
        err = put_section(fd, EIF_SEC_CMDLINE, &c.cmdline, &off, &crc);
    if (!err && c.metadata.size)
        err = put_section(fd, EIF_SEC_METADATA, &c.metadata, &off, &crc);
    for (unsigned i = 0; !err && i < c.nramdisks; i++)
        err = put_section(fd, EIF_SEC_RAMDISK, &c.ramdisks[i], &off, &crc);
    if (threaded)
        pthread_join(thread, NULL);
    if (err) {
        snprintf(why, why_size, "%s", strerror(-err));
        return -1;
    }
    if (job.err) {
        snprintf(why, why_size, "cannot measure the image");
        return -1;
    }
    *pcrs = job.pcrs;

    uint8_t *sig = NULL;
    size_t sig_size = 0;
    if (sign) {
        if (eif_signature_build(pcrs->pcr0, sign->cert_pem, sign->cert_len, sign->key_pem,
                                sign->key_len, &sig, &sig_size, why, why_size))
            return -1;
        c.signature = (struct eif_blob){.data = sig, .size = sig_size};
        err = put_section(fd, EIF_SEC_SIGNATURE, &c.signature, &off, &crc);
        if (!err && pcr_of_certificate_pem(sign->cert_pem, sign->cert_len, pcrs->pcr8)) {
            snprintf(why, why_size, "the signing certificate does not read back");
            free(sig);
            return -1;
        }
        pcrs->has_pcr8 = true;
    }
    uint8_t header[EIF_HEADER_SIZE];
    uint64_t total = 0;
    if (!err)
        err = eif_header(&c, crc, header, &total);
    if (!err)
        err = pwrite_all(fd, header, sizeof(header), 0);
    free(sig);
    if (err) {
        snprintf(why, why_size, "%s", strerror(-err));
        return -1;
    }
    if ((uint64_t)off != total) {
        snprintf(why, why_size,
                 "the image is %llu bytes where its header says %llu (an alcove bug)",
                 (unsigned long long)off, (unsigned long long)total);
        return -1;
    }
    *size = total;
    return 0;
}
