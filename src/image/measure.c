/* measure.c: Nitro PCRs of an EIF (one zero-register extend of a streamed SHA-384) and PCR8. */
#include <limits.h>
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

static int feed(EVP_MD_CTX *ctx, const struct eif_section *s)
{
    return EVP_DigestUpdate(ctx, s->data, (size_t)s->size) == 1 ? 0 : -1;
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

void pcr_to_hex(const uint8_t pcr[PCR_SIZE], char out[PCR_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < PCR_SIZE; i++) {
        out[2 * i] = digits[pcr[i] >> 4];
        out[2 * i + 1] = digits[pcr[i] & 0xf];
    }
    out[2 * PCR_SIZE] = '\0';
}

int eif_measure(const struct eif_image *img, struct eif_pcrs *out)
{
    int ret = -1;
    EVP_MD_CTX *ctx[3] = {EVP_MD_CTX_new(), EVP_MD_CTX_new(), EVP_MD_CTX_new()};

    memset(out, 0, sizeof(*out));
    if (ctx[0] == NULL || ctx[1] == NULL || ctx[2] == NULL || img->kernel < 0 || img->cmdline < 0)
        goto out;
    for (int i = 0; i < 3; i++)
        if (pcr_init(ctx[i]))
            goto out;
    /* PCR0 and PCR1: kernel, cmdline, then ramdisk 0; PCR0 and PCR2: the other ramdisks. */
    for (int i = 0; i < 2; i++)
        if (feed(ctx[i], &img->sections[img->kernel]) || feed(ctx[i], &img->sections[img->cmdline]))
            goto out;
    for (unsigned r = 0; r < img->nramdisks; r++) {
        const struct eif_section *s = &img->sections[img->ramdisks[r]];
        if (feed(ctx[0], s) || feed(ctx[r == 0 ? 1 : 2], s))
            goto out;
    }
    if (pcr_finish(ctx[0], out->pcr0) || pcr_finish(ctx[1], out->pcr1) ||
        pcr_finish(ctx[2], out->pcr2))
        goto out;

    if (img->signature >= 0) {
        const struct eif_section *s = &img->sections[img->signature];
        uint8_t *pem = NULL;
        size_t pem_len = 0;
        if (eif_signature_certificate(s->data, (size_t)s->size, &pem, &pem_len))
            goto out;
        int r = pcr_of_certificate_pem(pem, pem_len, out->pcr8);
        free(pem);
        if (r)
            goto out;
        out->has_pcr8 = true;
    }
    ret = 0;
out:
    for (int i = 0; i < 3; i++)
        EVP_MD_CTX_free(ctx[i]);
    return ret;
}
