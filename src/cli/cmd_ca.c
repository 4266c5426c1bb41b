/* cmd_ca.c: `alcove ca init [--dir D] [--force]` creates the host's attestation CA (src/attest/
 * ca.h) and prints where it is and its SHA-256 fingerprint; `alcove ca show [--dir D]` prints its
 * certificate (PEM), the one file a verifier needs. The directory defaults to $ALCOVE_CA_DIR, then
 * /etc/alcove/ca for root and ~/.config/alcove/ca for others. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "attest/ca.h"
#include "cli/commands.h"
#include "cli/json_out.h"
#include "common/errors.h"

static int ca_init(const char *dir, bool force)
{
    char why[512];
    int err_no = 0;
    char fp[CA_FINGERPRINT_SIZE], path[PATH_MAX + 16];
    struct attest_ca *ca = ca_generate(NULL, time(NULL), why, sizeof(why));
    if (ca == NULL) {
        alc_err_report(E_ATTESTATION_CA, "%s", why);
        return E_ATTESTATION_CA;
    }
    if (ca_save(ca, dir, force, &err_no, why, sizeof(why))) {
        ca_free(ca);
        alc_err_report(E_ATTESTATION_CA, "%s", why);
        return E_ATTESTATION_CA;
    }
    ca_fingerprint(ca, fp);
    ca_free(ca);
    snprintf(path, sizeof(path), "%s/" CA_CERT_FILE, dir);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "Directory", dir);
    cJSON_AddStringToObject(out, "Certificate", path);
    cJSON_AddStringToObject(out, "SHA256Fingerprint", fp);
    json_print(stdout, out);
    cJSON_Delete(out);
    fprintf(stderr, "Created the attestation CA in %s; give %s to verifiers.\n", dir, path);
    return 0;
}

static int ca_show(const char *dir)
{
    char why[512];
    struct attest_ca *ca = ca_load(dir, why, sizeof(why));
    if (ca == NULL) {
        alc_err_report(E_ATTESTATION_CA, "%s", why);
        return E_ATTESTATION_CA;
    }
    char *pem = ca_cert_pem(ca);
    ca_free(ca);
    if (pem == NULL) {
        alc_err_report(E_ATTESTATION_CA, "cannot encode the CA certificate");
        return E_ATTESTATION_CA;
    }
    fputs(pem, stdout);
    free(pem);
    return 0;
}

static int run_ca(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'}, {"force", no_argument, NULL, 'f'}, {0}};
    const char *flag_dir = NULL;
    bool force = false;
    char dir[PATH_MAX];
    int c;

    if (argc < 2) {
        return args_usage_error(E_MISSING_ARGUMENT, "give a subcommand: init or show");
    }
    const char *sub = argv[1];
    if (strcmp(sub, "init") != 0 && strcmp(sub, "show") != 0) {
        return args_usage_error(E_INVALID_ARGUMENT, "unknown subcommand '%s' (init or show)", sub);
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "+:", opts, NULL)) != -1) {
        if (c == 'd')
            flag_dir = optarg;
        else if (c == 'f' && strcmp(sub, "init") == 0)
            force = true;
        else {
            return args_getopt_error(c, argv + 1, "ca");
        }
    }
    if (optind < argc - 1) {
        return args_usage_error(E_INVALID_ARGUMENT, "unexpected argument '%s'", argv[optind + 1]);
    }
    if (ca_resolve_dir(flag_dir, dir, sizeof(dir))) {
        return args_usage_error(E_MISSING_ARGUMENT,
                                "no CA directory: give --dir or set " CA_DIR_ENV);
    }
    return strcmp(sub, "init") == 0 ? ca_init(dir, force) : ca_show(dir);
}

const struct command cmd_ca = {
    .name = "ca",
    .run = run_ca,
    .summary = "create or show the host's attestation CA",
    .usage = "Usage: alcove ca init [--dir DIR] [--force]\n"
             "       alcove ca show [--dir DIR]\n\n"
             "init creates the per-host attestation CA (ECDSA P-384, self-signed, 30 years) that\n"
             "signs the certificates of enclaves' attestation documents, in DIR (made 0700):\n"
             "ca.pem (0644) and ca.key (0600). It refuses to replace an existing CA unless\n"
             "--force is given (documents signed under the old one then no longer verify).\n"
             "It prints the directory, the certificate's path and its SHA-256 fingerprint.\n"
             "show prints the CA certificate (PEM): what verifiers pin.\n\n"
             "DIR defaults to $" CA_DIR_ENV ", then " CA_DEFAULT_DIR " for root and\n"
             "~/.config/alcove/ca for other users.\n",
};
