/* ca.h: the per-host attestation CA. One self-signed ECDSA P-384 root per host (subject
 * "CN=<hostname>.alcove-enclaves, O=alcove", 30 years, critical CA:TRUE with pathlen 0, critical
 * keyUsage keyCertSign+cRLSign) kept in a directory (mode 0700) as ca.pem (0644) and ca.key
 * (0600, PKCS#8, unencrypted). For each enclave the monitor issues a leaf: a fresh P-384 key,
 * "CN=<module_id>, O=alcove", critical CA:FALSE, critical keyUsage digitalSignature, valid from
 * 60 s before issue to 3 hours after, a random 159-bit serial. The CA key lives only in the
 * monitor's heap and in ca.key; it is never put into guest memory: the enclave asks the monitor's
 * NSM to sign, and the monitor signs with the leaf key, which also stays on the host.
 */
#ifndef ALCOVE_ATTEST_CA_H
#define ALCOVE_ATTEST_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "attest/document.h"

#define CA_DEFAULT_DIR      "/etc/alcove/ca" /* for root; others: $HOME/.config/alcove/ca */
#define CA_DIR_ENV          "ALCOVE_CA_DIR"
#define CA_CERT_FILE        "ca.pem"
#define CA_KEY_FILE         "ca.key"
#define CA_VALIDITY_DAYS    (30 * 365 + 7)
#define CA_LEAF_BACKDATE_S  60
#define CA_LEAF_LIFETIME_S  (3 * 3600)
#define CA_FINGERPRINT_SIZE (32 * 3) /* "AB:CD:...:EF" and a NUL */

struct attest_ca; /* the CA's certificate and private key */

/* The CA directory: flag_dir if given, else $ALCOVE_CA_DIR, else CA_DEFAULT_DIR for root and
 * $HOME/.config/alcove/ca for others. 0, or -1 (no HOME, or too long). */
int ca_resolve_dir(const char *flag_dir, char *out, size_t size);

/* A new CA in memory, subject CN=<cn> (NULL: "<hostname>.alcove-enclaves"), valid from now.
 * NULL with a reason in why. */
struct attest_ca *ca_generate(const char *cn, time_t now, char *why, size_t why_size);
/* Writes the CA to dir (created 0700 if missing, with its parents 0755). Refuses when ca.pem or
 * ca.key exists there, unless force. 0, or -1 with a reason (EEXIST in *err_no when it exists). */
int ca_save(const struct attest_ca *ca, const char *dir, bool force, int *err_no, char *why,
            size_t why_size);
/* Loads the CA from dir: ca.key must be a regular file of this user, not readable by others, and
 * match ca.pem. NULL with a reason in why. */
struct attest_ca *ca_load(const char *dir, char *why, size_t why_size);
void ca_free(struct attest_ca *ca);

/* Issues a leaf for one enclave and fills a signer with it (its key, its DER, cabundle = [root]).
 * 0, or -1 with a reason. */
int ca_issue_signer(const struct attest_ca *ca, const char *module_id, time_t now,
                    struct attest_signer *out, char *why, size_t why_size);

/* The CA certificate, DER (malloc'd *der) or PEM (malloc'd, NUL-terminated). */
int ca_cert_der(const struct attest_ca *ca, uint8_t **der, size_t *len);
char *ca_cert_pem(const struct attest_ca *ca);
/* SHA-256 of the DER certificate as uppercase hex pairs joined by ':'. */
void ca_fingerprint(const struct attest_ca *ca, char out[CA_FINGERPRINT_SIZE]);

#endif
