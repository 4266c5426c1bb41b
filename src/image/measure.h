/* measure.h: PCR measurements of an EIF, exactly as Nitro computes them (specs/eif.md section 2):
 * pcr(parts) = SHA384(48 zero bytes || SHA384(concatenation of parts)).
 *   PCR0 = pcr(kernel, cmdline, every ramdisk)   PCR1 = pcr(kernel, cmdline, ramdisk 0)
 *   PCR2 = pcr(ramdisks 1..n)                     PCR8 = pcr(DER of the signing certificate)
 */
#ifndef ALCOVE_MEASURE_H
#define ALCOVE_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/eif.h"

#define PCR_SIZE     48
#define PCR_HEX_SIZE (2 * PCR_SIZE + 1)

struct eif_pcrs {
    uint8_t pcr0[PCR_SIZE], pcr1[PCR_SIZE], pcr2[PCR_SIZE], pcr8[PCR_SIZE];
    bool has_pcr8; /* the image is signed */
};

/* Measures a parsed image. PCR8 comes from the signature section's first certificate. 0, or -1
 * when the signature section or its certificate cannot be read. */
int eif_measure(const struct eif_image *img, struct eif_pcrs *out);
/* The same PCRs from the pieces an image is about to be written from (eif.h). */
int eif_measure_contents(const struct eif_contents *c, struct eif_pcrs *out);

/* A launch that gives a command line (argc > 0) or environment (envc > 0) of its own, rather
 * than the image's, or options that change what the enclave kernel does or tells the host
 * (nopts > 0: "log-level=debug", "no-syscall-patch"...), is measured into PCR0 and PCR2
 * (issue 14; docs/attestation.md):
 *   L = SHA384(u32le(argc) || each arg NUL-terminated || u32le(envc) || each "K=V"
 *              NUL-terminated [|| u32le(nopts) || each option NUL-terminated, when nopts > 0])
 *   PCR0 = SHA384(PCR0 || L), PCR2 = SHA384(PCR2 || L)   (Nitro's extend)
 * so a verifier pinned to the image's own PCRs refuses an enclave started with another command.
 * Nothing changes when all three counts are 0. 0, or -1 (out of memory). */
int pcr_measure_launch(struct eif_pcrs *p, char *const *argv, int argc, char *const *envp, int envc,
                       const char *const *opts, int nopts);

/* pcr() of one byte string (nitro-cli pcr --input). */
void pcr_of_bytes(const void *data, size_t len, uint8_t out[PCR_SIZE]);
/* PCR8 of a PEM certificate (nitro-cli pcr --signing-certificate). 0 or -1 (not a PEM cert). */
int pcr_of_certificate_pem(const void *pem, size_t len, uint8_t out[PCR_SIZE]);

/* Lowercase hex, NUL-terminated. */
void pcr_to_hex(const uint8_t pcr[PCR_SIZE], char out[PCR_HEX_SIZE]);

#endif
