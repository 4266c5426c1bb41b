/* eif_build.h: writing an enclave image to a file while measuring it, for build-enclave. */
#ifndef ALCOVE_EIF_BUILD_H
#define ALCOVE_EIF_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "image/eif.h"
#include "image/measure.h"

/* A signing key and its certificate (PEM), for a signed image. */
struct eif_sign_request {
    const char *cert_pem, *key_pem;
    size_t cert_len, key_len;
};

/* Writes the image of c (whose signature, if any, is ignored: with sign, one is made from the
 * PCR0 measured here) to fd, an empty regular file, and measures it on the way: the same bytes
 * and PCRs as eif_write and eif_measure, with the hashing on two threads beside the writing and
 * no copy of the contents. *pcrs (PCR8 too when signed) and *size; 0, or -1 with a reason. */
int eif_write_measured(const struct eif_contents *c, const struct eif_sign_request *sign, int fd,
                       struct eif_pcrs *pcrs, uint64_t *size, char *why, size_t why_size);

#endif
