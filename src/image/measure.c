/* measure.c: Nitro PCRs of an EIF (one zero-register extend of a streamed SHA-384) and PCR8. */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "image/measure.h"
#include "image/signing.h"

/* out = SHA384(48 zero bytes || digest of everything fed to ctx). 0 or -1. */
static int pcr_finish(EVP_MD_CTX *ctx, uint8_t out[PCR_SIZE])
{
    uint8_t reg[2 * PCR_SIZE] = {0};
    unsigned len = 0;
    if (EVP_DigestFinal_ex(ctx, reg + PCR_SIZE, &len) != 1 || len != PCR_SIZE)
        return -1;
    return EVP_Digest(reg, sizeof(reg), out, &len, EVP_sha384(), NULL) == 1 ? 0 : -1;
}

static int pcr_init(EVP_MD_CTX *ctx)
{
    return EVP_DigestInit_ex(ctx, EVP_sha384(), NULL) == 1 ? 0 : -1;
}

static int feed(EVP_MD_CTX *ctx, const struct eif_blob *b)
{
    if (!b->iov)
        return EVP_DigestUpdate(ctx, b->data, b->size) == 1 ? 0 : -1;
    for (int i = 0; i < b->iovcnt; i++)
        if (EVP_DigestUpdate(ctx, b->iov[i].iov_base, b->iov[i].iov_len) != 1)
            return -1;
    return 0;
}

void pcr_of_bytes(const void *data, size_t len, uint8_t out[PCR_SIZE])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || pcr_init(ctx) || EVP_DigestUpdate(ctx, data, len) != 1 ||
        pcr_finish(ctx, out))
        memset(out, 0, PCR_SIZE); /* only on allocation failure inside OpenSSL */
    EVP_MD_CTX_free(ctx);
}

int pcr_of_certificate_pem(const void *pem, size_t len, uint8_t out[PCR_SIZE])
{
    int ret = -1;
    unsigned char *der = NULL;
    X509 *cert = NULL;
    if (len > INT_MAX)
        return -1;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return -1;
    cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (cert == NULL)
        goto out;
    int der_len = i2d_X509(cert, &der);
    if (der_len <= 0)
        goto out;
    pcr_of_bytes(der, (size_t)der_len, out);
    ret = 0;
out:
    OPENSSL_free(der);
    X509_free(cert);
    BIO_free(bio);
    return ret;
}

static int feed_strings(EVP_MD_CTX *ctx, const char *const *v, int n)
{
    uint8_t le[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    if (EVP_DigestUpdate(ctx, le, sizeof(le)) != 1)
        return -1;
    for (int i = 0; i < n; i++)
        if (EVP_DigestUpdate(ctx, v[i], strlen(v[i]) + 1) != 1)
            return -1;
    return 0;
}

static int extend(uint8_t pcr[PCR_SIZE], const uint8_t data[PCR_SIZE])
{
    uint8_t both[2 * PCR_SIZE];
    unsigned len = 0;
    memcpy(both, pcr, PCR_SIZE);
    memcpy(both + PCR_SIZE, data, PCR_SIZE);
    return EVP_Digest(both, sizeof(both), pcr, &len, EVP_sha384(), NULL) == 1 ? 0 : -1;
}

int pcr_measure_launch(struct eif_pcrs *p, char *const *argv, int argc, char *const *envp, int envc,
                       const char *const *opts, int nopts)
{
    if (argc <= 0 && envc <= 0 && nopts <= 0)
        return 0;
    uint8_t l[PCR_SIZE];
    unsigned len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int err = !ctx || EVP_DigestInit_ex(ctx, EVP_sha384(), NULL) != 1 ||
              feed_strings(ctx, (const char *const *)argv, argc > 0 ? argc : 0) ||
              feed_strings(ctx, (const char *const *)envp, envc > 0 ? envc : 0) ||
              (nopts > 0 && feed_strings(ctx, opts, nopts)) ||
              EVP_DigestFinal_ex(ctx, l, &len) != 1 || len != PCR_SIZE;
    EVP_MD_CTX_free(ctx);
    if (err || extend(p->pcr0, l) || extend(p->pcr2, l))
        return -1;
    return 0;
}

void pcr_to_hex(const uint8_t pcr[PCR_SIZE], char out[PCR_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < PCR_SIZE; i++) {
        out[2 * i] = digits[pcr[i] >> 4];
        out[2 * i + 1] = digits[pcr[i] & 0xf];
    }
    out[2 * PCR_SIZE] = '\0';
}

/* What the PCRs cover, in order: the kernel, the command line, the ramdisks (the first is the
 * boot ramdisk), and the signature section (PCR8 is its certificate). */
struct measured {
    struct eif_blob kernel, cmdline, ramdisks[EIF_MAX_SECTIONS], signature;
    unsigned nramdisks;
};

/* PCR0 covers everything PCR1 and PCR2 cover, so the images' bytes are hashed twice: PCR0 on a
 * thread of its own and PCR1 and PCR2 here, which halves the time on two cores. */
struct pcr0_job {
    const struct measured *m;
    uint8_t pcr[PCR_SIZE];
    int err;
};

static void *pcr0_thread(void *arg)
{
    struct pcr0_job *j = arg;
    const struct measured *m = j->m;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    j->err = ctx == NULL || pcr_init(ctx) || feed(ctx, &m->kernel) || feed(ctx, &m->cmdline);
    for (unsigned r = 0; !j->err && r < m->nramdisks; r++)
        j->err = feed(ctx, &m->ramdisks[r]);
    if (!j->err)
        j->err = pcr_finish(ctx, j->pcr);
    EVP_MD_CTX_free(ctx);
    return NULL;
}

static int measure(const struct measured *m, struct eif_pcrs *out)
{
    int ret = -1;
    EVP_MD_CTX *ctx1 = EVP_MD_CTX_new(), *ctx2 = EVP_MD_CTX_new();
    struct pcr0_job job = {.m = m, .err = 1};
    pthread_t thread;
    bool threaded = false;

    memset(out, 0, sizeof(*out));
    if (ctx1 == NULL || ctx2 == NULL || pcr_init(ctx1) || pcr_init(ctx2))
        goto out;
    threaded = pthread_create(&thread, NULL, pcr0_thread, &job) == 0;
    if (!threaded)
        pcr0_thread(&job); /* no thread: one after the other */
    /* PCR1: kernel, cmdline, then ramdisk 0; PCR2: the other ramdisks. */
    if (feed(ctx1, &m->kernel) || feed(ctx1, &m->cmdline))
        goto out;
    for (unsigned r = 0; r < m->nramdisks; r++)
        if (feed(r == 0 ? ctx1 : ctx2, &m->ramdisks[r]))
            goto out;
    if (pcr_finish(ctx1, out->pcr1) || pcr_finish(ctx2, out->pcr2))
        goto out;
    if (threaded) {
        pthread_join(thread, NULL);
        threaded = false;
    }
    if (job.err)
        goto out;
    memcpy(out->pcr0, job.pcr, PCR_SIZE);

    if (m->signature.size) {
        uint8_t *pem = NULL;
        size_t pem_len = 0;
        if (eif_signature_certificate(m->signature.data, m->signature.size, &pem, &pem_len))
            goto out;
        int r = pcr_of_certificate_pem(pem, pem_len, out->pcr8);
        free(pem);
        if (r)
            goto out;
        out->has_pcr8 = true;
    }
    ret = 0;
out:
    if (threaded)
        pthread_join(thread, NULL);
    EVP_MD_CTX_free(ctx1);
    EVP_MD_CTX_free(ctx2);
    return ret;
}

static struct eif_blob blob_of(const struct eif_section *s)
{
    return (struct eif_blob){.data = s->data, .size = (size_t)s->size};
}

int eif_measure(const struct eif_image *img, struct eif_pcrs *out)
{
    struct measured m = {.nramdisks = img->nramdisks};
    memset(out, 0, sizeof(*out));
    if (img->kernel < 0 || img->cmdline < 0 || img->nramdisks > EIF_MAX_SECTIONS)
        return -1;
    m.kernel = blob_of(&img->sections[img->kernel]);
    m.cmdline = blob_of(&img->sections[img->cmdline]);
    for (unsigned r = 0; r < img->nramdisks; r++)
        m.ramdisks[r] = blob_of(&img->sections[img->ramdisks[r]]);
    if (img->signature >= 0)
        m.signature = blob_of(&img->sections[img->signature]);
    return measure(&m, out);
}

int eif_measure_contents(const struct eif_contents *c, struct eif_pcrs *out)
{
    struct measured m = {.kernel = c->kernel,
                         .cmdline = c->cmdline,
                         .nramdisks = c->nramdisks,
                         .signature = c->signature};
    memset(out, 0, sizeof(*out));
    if (c->nramdisks > EIF_MAX_SECTIONS)
        return -1;
    for (unsigned r = 0; r < c->nramdisks; r++)
        m.ramdisks[r] = c->ramdisks[r];
    return measure(&m, out);
}
