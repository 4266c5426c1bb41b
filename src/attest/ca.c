/* ca.c: the per-host attestation CA (see ca.h): generating the self-signed P-384 root, storing it
 * with safe permissions (temporary files, then rename; nothing left behind on failure), loading
 * it with ownership and mode checks, and issuing the short-lived leaf certificates that sign an
 * enclave's attestation documents. OpenSSL 3 EVP and X509 APIs only. */
#include "attest/ca.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/cose.h"

struct attest_ca {
    X509 *cert;
    EVP_PKEY *key;
};

#define CN_MAX 64 /* X.520 ub-common-name */

static void set_why(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t size, const char *fmt, ...)
{
    if (why == NULL || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

int ca_resolve_dir(const char *flag_dir, char *out, size_t size)
{
    const char *env = getenv(CA_DIR_ENV);
    int n;
    if (flag_dir && *flag_dir)
        n = snprintf(out, size, "%s", flag_dir);
    else if (env && *env)
        n = snprintf(out, size, "%s", env);
    else if (geteuid() == 0)
        n = snprintf(out, size, "%s", CA_DEFAULT_DIR);
    else {
        const char *home = getenv("HOME");
        if (home == NULL || *home == '\0')
            return -1;
        n = snprintf(out, size, "%s/.config/alcove/ca", home);
    }
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* ---- certificates ---- */

static EVP_PKEY *new_p384_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static int set_random_serial(X509 *cert)
{
    BIGNUM *bn = BN_new();
    int ok = 0;
    /* 159 random bits: positive, at most 20 bytes, as RFC 5280 asks; never zero in practice */
    while (bn && !ok) {
        if (BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1)
            break;
        if (BN_is_zero(bn))
            continue;
        ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
        if (!ok)
            break;
    }
    BN_free(bn);
    return ok ? 0 : -1;
}

static int set_name(X509_NAME *name, const char *cn)
{
    char buf[CN_MAX + 1];
    snprintf(buf, sizeof(buf), "%s", cn);
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)buf, -1, -1,
                                      0) == 1 &&
                   X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                              (const unsigned char *)"alcove", -1, -1, 0) == 1
               ? 0
               : -1;
}

/* A certificate for pub, named cn, issued by issuer (NULL: self-signed) with issuer_key. */
static X509 *make_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *issuer_key,
                       time_t now, long not_before_off, long days, long secs, bool is_ca)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX ctx;
    if (cert == NULL || name == NULL || X509_set_version(cert, 2) != 1 || set_random_serial(cert) ||
        set_name(name, cn) || X509_set_subject_name(cert, name) != 1 ||
        X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) != 1 ||
        X509_time_adj_ex(X509_getm_notBefore(cert), 0, not_before_off, &now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, secs, &now) == NULL ||
        X509_set_pubkey(cert, pub) != 1)
        goto fail;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    if (is_ca) {
        if (add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
            add_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"))
            goto fail;
    } else {
        if (add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
            add_ext(cert, &ctx, NID_key_usage, "critical,digitalSignature"))
            goto fail;
    }
    if (add_ext(cert, &ctx, NID_subject_key_identifier, "hash") ||
        add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always") ||
        X509_sign(cert, issuer_key, EVP_sha384()) <= 0)
        goto fail;
    X509_NAME_free(name);
    return cert;
fail:
    X509_NAME_free(name);
    X509_free(cert);
    return NULL;
}

static void default_cn(char *out, size_t size)
{
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    for (char *p = host; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.';
        if (!ok)
            *p = '-';
    }
    const char *suffix = ".alcove-enclaves";
    int keep = CN_MAX - (int)strlen(suffix);
    snprintf(out, size, "%.*s%s", keep, host, suffix);
}

struct attest_ca *ca_generate(const char *cn, time_t now, char *why, size_t why_size)
{
    char name[CN_MAX + 1];
    struct attest_ca *ca = calloc(1, sizeof(*ca));
    if (cn == NULL) {
        default_cn(name, sizeof(name));
        cn = name;
    }
    if (ca == NULL || (ca->key = new_p384_key()) == NULL ||
        (ca->cert = make_cert(cn, ca->key, NULL, ca->key, now, -CA_LEAF_BACKDATE_S,
                              CA_VALIDITY_DAYS, 0, true)) == NULL) {
        set_why(why, why_size, "cannot generate the CA key and certificate (OpenSSL)");
        ca_free(ca);
        ERR_clear_error();
        return NULL;
    }
    return ca;
}

void ca_free(struct attest_ca *ca)
{
    if (ca == NULL)
        return;
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    free(ca);
}

int ca_cert_der(const struct attest_ca *ca, uint8_t **der, size_t *len)
{
    unsigned char *p = NULL;
    int n = i2d_X509(ca->cert, &p);
    if (n <= 0)
        return -1;
    *der = malloc((size_t)n);
    if (*der == NULL) {
        OPENSSL_free(p);
        return -1;
    }
    memcpy(*der, p, (size_t)n);
    OPENSSL_free(p);
    *len = (size_t)n;
    return 0;
}

/* The contents of a memory BIO as a malloc'd NUL-terminated string. */
static char *bio_string(BIO *bio, size_t *len_out)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
        if (len_out)
            *len_out = (size_t)n;
    }
    return s;
}

char *ca_cert_pem(const struct attest_ca *ca)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (bio && PEM_write_bio_X509(bio, ca->cert) == 1)
        s = bio_string(bio, NULL);
    BIO_free(bio);
    return s;
}

static char *key_pem(const struct attest_ca *ca, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (bio && PEM_write_bio_PrivateKey(bio, ca->key, NULL, NULL, 0, NULL, NULL) == 1)
        s = bio_string(bio, len);
    BIO_free(bio);
    return s;
}

void ca_fingerprint(const struct attest_ca *ca, char out[CA_FINGERPRINT_SIZE])
{
    static const char digits[] = "0123456789ABCDEF";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (X509_digest(ca->cert, EVP_sha256(), md, &n) != 1 || n != 32)
        return;
    for (unsigned i = 0; i < n; i++) {
        out[3 * i] = digits[md[i] >> 4];
        out[3 * i + 1] = digits[md[i] & 0xf];
        out[3 * i + 2] = i + 1 < n ? ':' : '\0';
    }
}

/* ---- the directory ---- */

static int mkdir_parents(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/* Writes data to dir/name through a temporary file; the caller renames it into place. */
static int write_tmp(const char *tmp, const char *data, size_t len, mode_t mode)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        done += (size_t)n;
    }
    /* the umask may have narrowed the mode; the certificate must be world-readable */
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
        goto fail;
    return close(fd);
fail:
    close(fd);
    unlink(tmp);
    return -1;
}

int ca_save(const struct attest_ca *ca, const char *dir, bool force, int *err_no, char *why,
            size_t why_size)
{
    char cert_path[PATH_MAX], key_path[PATH_MAX], cert_tmp[PATH_MAX + 32], key_tmp[PATH_MAX + 32];
    struct stat st;
    char *cert = NULL, *key = NULL;
    size_t key_len = 0;
    int ret = -1;
    *err_no = 0;

    if (snprintf(cert_path, sizeof(cert_path), "%s/" CA_CERT_FILE, dir) >= PATH_MAX - 16 ||
        snprintf(key_path, sizeof(key_path), "%s/" CA_KEY_FILE, dir) >= PATH_MAX - 16) {
        set_why(why, why_size, "%s: path too long", dir);
        *err_no = ENAMETOOLONG;
        return -1;
    }
    snprintf(cert_tmp, sizeof(cert_tmp), "%s.tmp%d", cert_path, (int)getpid());
    snprintf(key_tmp, sizeof(key_tmp), "%s.tmp%d", key_path, (int)getpid());
    if (mkdir_parents(dir) || (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
        *err_no = errno;
        set_why(why, why_size, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        *err_no = ENOTDIR;
        set_why(why, why_size, "%s is not a directory", dir);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        *err_no = EPERM;
        set_why(why, why_size, "%s belongs to another user", dir);
        return -1;
    }
    if (chmod(dir, 0700) != 0) {
        *err_no = errno;
        set_why(why, why_size, "cannot make %s private: %s", dir, strerror(errno));
        return -1;
    }
    if (!force && (lstat(cert_path, &st) == 0 || lstat(key_path, &st) == 0)) {
        *err_no = EEXIST;
        set_why(why, why_size, "a CA already exists in %s (use --force to replace it)", dir);
        return -1;
    }
    cert = ca_cert_pem(ca);
    key = key_pem(ca, &key_len);
    if (cert == NULL || key == NULL) {
        *err_no = ENOMEM;
        set_why(why, why_size, "cannot encode the CA (OpenSSL)");
        goto out;
    }
    unlink(key_tmp);
    unlink(cert_tmp);
    if (write_tmp(key_tmp, key, key_len, 0600) || write_tmp(cert_tmp, cert, strlen(cert), 0644)) {
        *err_no = errno;
        set_why(why, why_size, "cannot write in %s: %s", dir, strerror(errno));
        goto out;
    }
    if (rename(key_tmp, key_path) != 0) {
        *err_no = errno;
        set_why(why, why_size, "cannot write %s: %s", key_path, strerror(errno));
        goto out;
    }
    if (rename(cert_tmp, cert_path) != 0) {
        *err_no = errno;
        set_why(why, why_size, "cannot write %s: %s", cert_path, strerror(errno));
        unlink(key_path); /* a key without its certificate is useless */
        goto out;
    }
    ret = 0;
out:
    unlink(key_tmp);
    unlink(cert_tmp);
    if (key) {
        OPENSSL_cleanse(key, key_len);
        free(key);
    }
    free(cert);
    ERR_clear_error();
    return ret;
}

/* Reads a whole small file opened without following links. NULL with errno. */
static char *read_small(const char *path, struct stat *st, size_t *len)
{
    /* O_NONBLOCK: a FIFO opens at once and is refused below instead of blocking */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    char *buf = NULL;
    if (fd < 0)
        return NULL;
    if (fstat(fd, st) != 0)
        goto fail;
    if (!S_ISREG(st->st_mode) || st->st_size > 65536) {
        errno = EINVAL;
        goto fail;
    }
    buf = malloc((size_t)st->st_size + 1);
    if (buf == NULL)
        goto fail;
    size_t done = 0;
    while (done < (size_t)st->st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st->st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        done += (size_t)n;
    }
    buf[done] = '\0';
    *len = done;
    close(fd);
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

struct attest_ca *ca_load(const char *dir, char *why, size_t why_size)
{
    char cert_path[PATH_MAX], key_path[PATH_MAX];
    struct stat st;
    size_t cert_len = 0, key_len = 0;
    char *cert = NULL, *key = NULL;
    struct attest_ca *ca = NULL;
    BIO *bio = NULL;

    snprintf(cert_path, sizeof(cert_path), "%s/" CA_CERT_FILE, dir);
    snprintf(key_path, sizeof(key_path), "%s/" CA_KEY_FILE, dir);
    if ((cert = read_small(cert_path, &st, &cert_len)) == NULL) {
        set_why(why, why_size, "%s: %s", cert_path, strerror(errno));
        goto fail;
    }
    if ((key = read_small(key_path, &st, &key_len)) == NULL) {
        set_why(why, why_size, "%s: %s", key_path, strerror(errno));
        goto fail;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        set_why(why, why_size,
                "%s must belong to this user and not be readable by others "
                "(chmod 600)",
                key_path);
        goto fail;
    }
    if ((ca = calloc(1, sizeof(*ca))) == NULL)
        goto fail;
    bio = BIO_new_mem_buf(cert, (int)cert_len);
    ca->cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    bio = BIO_new_mem_buf(key, (int)key_len);
    ca->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (ca->cert == NULL || ca->key == NULL) {
        set_why(why, why_size, "%s: cannot read the CA certificate or key (PEM)", dir);
        goto fail;
    }
    if (!es384_key_ok(ca->key) || EVP_PKEY_eq(X509_get0_pubkey(ca->cert), ca->key) != 1) {
        set_why(why, why_size, "%s: the key is not P-384 or does not match the certificate", dir);
        goto fail;
    }
    OPENSSL_cleanse(key, key_len);
    free(key);
    free(cert);
    return ca;
fail:
    if (key)
        OPENSSL_cleanse(key, key_len);
    free(key);
    free(cert);
    ca_free(ca);
    ERR_clear_error();
    return NULL;
}

/* ---- leaves ---- */

static int der_of(X509 *cert, uint8_t **out, size_t *len)
{
    unsigned char *p = NULL;
    int n = i2d_X509(cert, &p);
    if (n <= 0)
        return -1;
    *out = malloc((size_t)n);
    if (*out)
        memcpy(*out, p, (size_t)n);
    OPENSSL_free(p);
    *len = (size_t)n;
    return *out ? 0 : -1;
}

int ca_issue_signer(const struct attest_ca *ca, const char *module_id, time_t now,
                    struct attest_signer *out, char *why, size_t why_size)
{
    X509 *leaf = NULL;
    memset(out, 0, sizeof(*out));
    if (module_id == NULL || *module_id == '\0') {
        set_why(why, why_size, "empty module id");
        return -1;
    }
    out->key = new_p384_key();
    if (out->key)
        leaf = make_cert(module_id, out->key, ca->cert, ca->key, now, -CA_LEAF_BACKDATE_S, 0,
                         CA_LEAF_LIFETIME_S, false);
    if (leaf == NULL || der_of(leaf, &out->cert_der, &out->cert_len) ||
        der_of(ca->cert, &out->cabundle[0], &out->cabundle_len[0])) {
        set_why(why, why_size, "cannot issue the enclave's signing certificate (OpenSSL)");
        X509_free(leaf);
        attest_signer_free(out);
        ERR_clear_error();
        return -1;
    }
    out->cabundle_n = 1;
    out->not_before = now - CA_LEAF_BACKDATE_S;
    out->not_after = now + CA_LEAF_LIFETIME_S;
    X509_free(leaf);
    return 0;
}
