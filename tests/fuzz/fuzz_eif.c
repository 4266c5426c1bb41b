/* fuzz_eif.c: the EIF parser, the checks readers run before the body (header, then section
 * headers), measurement, signature check and sign-eif on arbitrary bytes: no out-of-bounds
 * access, the early checks agree with a walk of the format written here, and what is accepted
 * must be internally consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/eif.h"
#include "image/measure.h"
#include "image/metadata.h"
#include "image/signing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* specs/eif.md's V5 test key and certificate (tests/data/eif/), to re-sign what parses. */
static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDAb7NDbhsLnFzF+izKu\n"
                              "eOQYlgPHYNBORCkK+SX1lvWvBjEo1aCGaR1Jj4741CQInNGhZANiAAQpS8E0NgbI\n"
                              "uIiSEIviMuL59nEC0KKWMPOBbhPQAJpJ/GP2TI2sLewUD2BBDNd2gkfsr7d0ZY2s\n"
                              "yHEBfUzMa4/oH5iVMGTrzRe9hCmE7Lrif6dIU48Scld+kuam/2av77c=\n"
                              "-----END PRIVATE KEY-----\n";
static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBWTCB4KADAgECAgEBMAoGCCqGSM49BAMDMBgxFjAUBgNVBAMMDWVpZi1zcGVj\n"
                               "LXRlc3QwHhcNMjQwMTAxMDAwMDAwWhcNMzQwMTAxMDAwMDAwWjAYMRYwFAYDVQQD\n"
                               "DA1laWYtc3BlYy10ZXN0MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEKUvBNDYGyLiI\n"
                               "khCL4jLi+fZxAtCiljDzgW4T0ACaSfxj9kyNrC3sFA9gQQzXdoJH7K+3dGWNrMhx\n"
                               "AX1MzGuP6B+YlTBk680XvYQphOy64n+nSFOPEnJXfpLmpv9mr++3MAoGCCqGSM49\n"
                               "BAMDA2gAMGUCMQDkIwHPe2I18uTvslnvSsO92+j8yyfI/mxIsLPKHtx6qM+y7mhz\n"
                               "b9VR4qIVCH6ZztgCME+S9oOueEcWYBFdEXgEoIwUHeJtj25uYluB0wxXDeen1CT0\n"
                               "QVvMehryeIHgMJfyrw==\n"
                               "-----END CERTIFICATE-----\n";

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static bool accepted(enum eif_error err)
{
    return err == EIF_OK || err == EIF_ERR_LINUX_KERNEL;
}

/* ---- an independent reading of the format (specs/eif.md), written here from the layout and
 * not from eif.c, for the checks that readers run before they read the body ---- */
static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* What the header and its table say of a file of size bytes (head: its first bytes), in the
 * order the format's checks are documented; *n gets the section count when they pass. */
static enum eif_error walk_header(const uint8_t *head, uint64_t size, unsigned *n)
{
    if (size < 548)
        return EIF_ERR_TRUNCATED;
    if (memcmp(head, ".eif", 4) != 0)
        return EIF_ERR_MAGIC;
    if (be(head + 4, 2) != 4)
        return EIF_ERR_VERSION;
    if (be(head + 6, 2) != 0)
        return EIF_ERR_FLAGS;
    *n = (unsigned)be(head + 26, 2);
    if (*n < 1 || *n > 32)
        return EIF_ERR_NSECTIONS;
    uint64_t end = 548; /* where the next section header must start */
    for (unsigned i = 0; i < *n; i++) {
        uint64_t off = be(head + 28 + 8 * i, 8), len = be(head + 284 + 8 * i, 8);
        if (off != end)
            return EIF_ERR_TABLE;
        if (end + 12 > size)
            return EIF_ERR_TRUNCATED;
        if (len > size - end - 12)
            return EIF_ERR_BOUNDS;
        end += 12 + len;
    }
    for (unsigned i = *n; i < 32; i++)
        if (be(head + 28 + 8 * i, 8) || be(head + 284 + 8 * i, 8))
            return EIF_ERR_TABLE;
    return end == size ? EIF_OK : EIF_ERR_TRAILING;
}

/* Then the section headers where the table puts them (the file is whole in data). */
static enum eif_error walk_sections(const uint8_t *data, unsigned n)
{
    unsigned count[6] = {0};
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *sh = data + be(data + 28 + 8 * i, 8);
        uint64_t type = be(sh, 2);
        if (type < 1 || type > 5)
            return EIF_ERR_SECTION_TYPE;
        if (be(sh + 2, 2) != 0)
            return EIF_ERR_SECTION_FLAGS;
        if (be(sh + 4, 8) != be(data + 284 + 8 * i, 8))
            return EIF_ERR_TABLE;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t type = be(data + be(data + 28 + 8 * i, 8), 2);
        if (++count[type] > 1 && type != 3 /* ramdisks may repeat */)
            return EIF_ERR_DUPLICATE;
    }
    return count[1] && count[2] && count[3] ? EIF_OK : EIF_ERR_MISSING;
}

/* The readers' checks (eif_check_header, then eif_check_sections on section headers read alone)
 * against the walk, and eif_parse against both: the walk's verdict is eif_parse's, and only the
 * CRC and the kernel's contents are left for after the body is read. */
static void check_prefix_checks(const uint8_t *data, size_t size, enum eif_error parsed)
{
    unsigned n = 0;
    enum eif_error want = walk_header(data, size, &n);
    CHECK(eif_check_header(data, size) == want);
    if (want == EIF_OK) {
        uint64_t offsets[EIF_MAX_SECTIONS];
        uint8_t sh[EIF_MAX_SECTIONS][EIF_SECTION_HEADER_SIZE];
        CHECK(eif_section_offsets(data, offsets) == n);
        for (unsigned i = 0; i < n; i++) {
            CHECK(offsets[i] + EIF_SECTION_HEADER_SIZE <= size);
            memcpy(sh[i], data + offsets[i], EIF_SECTION_HEADER_SIZE);
        }
        want = walk_sections(data, n);
        CHECK(eif_check_sections(data, (const uint8_t(*)[EIF_SECTION_HEADER_SIZE])sh) == want);
    }
    if (want != EIF_OK)
        CHECK(parsed == want);
    else
        CHECK(parsed == EIF_OK || parsed == EIF_ERR_CRC || parsed == EIF_ERR_LINUX_KERNEL);
}

/* Everything eif_parse promises about an image it accepted. */
static void check_image(const struct eif_image *img, const uint8_t *buf, size_t size)
{
    CHECK(img->version == EIF_VERSION && img->flags == 0);
    CHECK(img->nsections >= 1 && img->nsections <= EIF_MAX_SECTIONS);
    CHECK(img->crc_stored == img->crc_computed);
    uint64_t pos = EIF_HEADER_SIZE;
    unsigned nramdisks = 0;
    for (unsigned i = 0; i < img->nsections; i++) {
        const struct eif_section *s = &img->sections[i];
        CHECK(s->offset == pos);
        CHECK(s->size <= size && pos + EIF_SECTION_HEADER_SIZE + s->size <= size);
        CHECK(s->data == buf + pos + EIF_SECTION_HEADER_SIZE);
        CHECK(s->type >= EIF_SEC_KERNEL && s->type <= EIF_SEC_METADATA && s->flags == 0);
        if (s->type == EIF_SEC_RAMDISK)
            CHECK(img->ramdisks[nramdisks++] == (int)i);
        pos += EIF_SECTION_HEADER_SIZE + s->size;
    }
    CHECK(pos == size);
    CHECK(nramdisks == img->nramdisks && nramdisks >= 1);
    CHECK(img->kernel >= 0 && img->sections[img->kernel].type == EIF_SEC_KERNEL);
    CHECK(img->cmdline >= 0 && img->sections[img->cmdline].type == EIF_SEC_CMDLINE);
    CHECK(img->metadata < 0 || img->sections[img->metadata].type == EIF_SEC_METADATA);
    CHECK(img->signature < 0 || img->sections[img->signature].type == EIF_SEC_SIGNATURE);
}

/* Rewrites the image canonically: it must parse again, with the same measurements. */
static void check_rewrite(const struct eif_image *img, const struct eif_pcrs *pcrs)
{
    struct eif_blob rds[EIF_MAX_SECTIONS];
    for (unsigned i = 0; i < img->nramdisks; i++) {
        const struct eif_section *s = &img->sections[img->ramdisks[i]];
        rds[i] = (struct eif_blob){.data = s->data, .size = (size_t)s->size};
    }
    const struct eif_section *k = &img->sections[img->kernel], *c = &img->sections[img->cmdline];
    struct eif_contents contents = {
        .kernel = {.data = k->data, .size = (size_t)k->size},
        .cmdline = {.data = c->data, .size = (size_t)c->size},
        .ramdisks = rds,
        .nramdisks = img->nramdisks,
    };
    if (img->metadata >= 0) {
        const struct eif_section *m = &img->sections[img->metadata];
        contents.metadata = (struct eif_blob){.data = m->data, .size = (size_t)m->size};
    }
    uint8_t *out = NULL;
    size_t out_size = 0;
    CHECK(eif_write(&contents, &out, &out_size) == 0);
    struct eif_image again;
    struct eif_pcrs p;
    CHECK(accepted(eif_parse(out, out_size, &again)));
    CHECK(again.signature < 0 && again.nramdisks == img->nramdisks);
    CHECK(eif_measure(&again, &p) == 0);
    CHECK(memcmp(p.pcr0, pcrs->pcr0, PCR_SIZE) == 0 && memcmp(p.pcr1, pcrs->pcr1, PCR_SIZE) == 0 &&
          memcmp(p.pcr2, pcrs->pcr2, PCR_SIZE) == 0);
    free(out);
}

/* sign-eif on the image: the result parses, keeps the PCRs and verifies. */
static void check_sign(const uint8_t *buf, size_t size, const struct eif_image *img,
                       const struct eif_pcrs *pcrs)
{
    uint8_t *out = NULL;
    size_t out_size = 0;
    char why[256];
    if (eif_sign_image(buf, size, cert_pem, sizeof(cert_pem) - 1, key_pem, sizeof(key_pem) - 1,
                       &out, &out_size, why, sizeof(why)) != 0) {
        /* The only reason a valid image cannot be signed: no room for another section. */
        CHECK(img->signature < 0 && img->nsections == EIF_MAX_SECTIONS);
        return;
    }
    struct eif_image signed_img;
    struct eif_pcrs p;
    CHECK(accepted(eif_parse(out, out_size, &signed_img)));
    check_image(&signed_img, out, out_size);
    CHECK(signed_img.nsections == img->nsections + (img->signature < 0));
    CHECK(eif_measure(&signed_img, &p) == 0 && p.has_pcr8);
    CHECK(memcmp(p.pcr0, pcrs->pcr0, PCR_SIZE) == 0);
    CHECK(eif_signature_verify(&signed_img, p.pcr0, 0, NULL) == EIF_SIG_OK);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eif_image img;
    uint8_t *fixed = NULL;
    enum eif_error err = eif_parse(data, size, &img);
    CHECK(eif_strerror(err) != NULL);
    check_prefix_checks(data, size, err);
    if (err == EIF_ERR_CRC) {
        /* Random bytes rarely carry a right CRC: fix it to reach the later checks. */
        fixed = malloc(size);
        CHECK(fixed != NULL);
        memcpy(fixed, data, size);
        eif_update_crc(fixed, size);
        data = fixed;
        err = eif_parse(data, size, &img);
        CHECK(err != EIF_ERR_CRC);
    }
    if (!accepted(err))
        goto out;
    check_image(&img, data, size);

    struct eif_pcrs pcrs;
    int measured = eif_measure(&img, &pcrs);
    CHECK(measured == 0 || img.signature >= 0);
    CHECK(measured != 0 || pcrs.has_pcr8 == (img.signature >= 0));
    if (img.signature >= 0) {
        struct eif_signature_info info;
        enum eif_sig_error serr = eif_signature_verify(&img, pcrs.pcr0, 0, &info);
        CHECK(eif_sig_strerror(serr) != NULL);
        CHECK(serr != EIF_SIG_OK || info.payload_matches);
        CHECK(serr != EIF_SIG_OK || measured == 0);
        CHECK(memchr(info.issuer_cn, 0, sizeof(info.issuer_cn)) != NULL);
        CHECK(memchr(info.signature_hex, 0, sizeof(info.signature_hex)) != NULL);
    }
    if (img.metadata >= 0) {
        struct eif_metadata m;
        const struct eif_section *s = &img.sections[img.metadata];
        if (eif_metadata_parse(s->data, (size_t)s->size, &m) == 0) {
            char *json = eif_metadata_to_json(&m);
            CHECK(json != NULL);
            free(json);
            eif_metadata_free(&m);
        }
    }
    /* PCR0-2 do not depend on the signature section, readable or not. */
    struct eif_image unsigned_img = img;
    unsigned_img.signature = -1;
    CHECK(eif_measure(&unsigned_img, &pcrs) == 0);
    check_rewrite(&img, &pcrs);
    check_sign(data, size, &img, &pcrs);
out:
    free(fixed);
    return 0;
}
