/* cmd_sign_eif.c: `alcove sign-eif`: signs an existing enclave image (or re-signs it), keeping
 * its header's offsets and sizes and its CRC right, and prints the measurements with PCR8. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/json_out.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "image/eif.h"
#include "image/eif_file.h"
#include "image/measure.h"
#include "image/signing.h"

static int run_sign_eif(int argc, char **argv)
{
    static const struct option opts[] = {
        {"eif-path", required_argument, NULL, 'e'},
        {"signing-certificate", required_argument, NULL, 'C'},
        {"private-key", required_argument, NULL, 'K'},
        {"output-file", required_argument, NULL, 'o'},
        {0},
    };
    const char *path = NULL, *cert_path = NULL, *key_path = NULL, *output = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            path = optarg;
            break;
        case 'C':
            cert_path = optarg;
            break;
        case 'K':
            key_path = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        default:
            return args_getopt_error(c, argv, "sign-eif");
        }
    }
    if (!path || !cert_path || !key_path) {
        return args_usage_error(E_MISSING_ARGUMENT,
                                "--eif-path, --signing-certificate and --private-key are required");
    }
    size_t size = 0, cert_len, key_len;
    uint8_t *buf = NULL;
    char *cert = NULL, *key = NULL;
    int code = 0;
    uint8_t *signed_eif = NULL;
    size_t signed_size = 0;
    char why[512] = "";
    int r = eif_read_file(path, &buf, &size);
    if (r > 0) {
        code = E_EIF_PARSING;
        alc_err_report(code, "%s: %s", path, eif_strerror((enum eif_error)r));
        goto out;
    }
    errno = -r;
    cert = buf ? (char *)read_file(cert_path, &cert_len) : NULL;
    key = cert ? (char *)read_file(key_path, &key_len) : NULL;
    if (!key) {
        code = E_FILE_OPERATION;
        alc_err_report(code, "%s: %s",
                       !buf    ? path
                       : !cert ? cert_path
                               : key_path,
                       fileio_strerror(errno));
        goto out;
    }
    if (eif_sign_image(buf, size, cert, cert_len, key, key_len, &signed_eif, &signed_size, why,
                       sizeof(why))) {
        code = E_EIF_SIGNING;
        alc_err_report(code, "%s: %s", path, why);
        goto out;
    }
    struct eif_image img;
    struct eif_pcrs pcrs;
    if (eif_parse(signed_eif, signed_size, &img) != EIF_OK || eif_measure(&img, &pcrs)) {
        code = E_EIF_SIGNING;
        alc_err_report(code, "the signed image does not read back (an alcove bug)");
        goto out;
    }
    int err = write_file_atomic(output ? output : path, signed_eif, signed_size, 0644);
    if (err) {
        code = E_FILE_OPERATION;
        alc_err_report(code, "%s: %s", output ? output : path, fileio_strerror(-err));
        goto out;
    }
    cJSON *json = cJSON_CreateObject();
    cJSON_AddItemToObject(json, "Measurements", json_measurements(&pcrs));
    json_print(stdout, json);
    cJSON_Delete(json);
    fprintf(stderr, "Enclave Image successfully signed.\n");
out:
    free(buf);
    free(cert);
    free(key);
    free(signed_eif);
    return code;
}

const struct command cmd_sign_eif = {
    .name = "sign-eif",
    .run = run_sign_eif,
    .summary = "sign (or re-sign) an enclave image",
    .usage =
        "Usage: alcove sign-eif --eif-path IMAGE.eif --signing-certificate CERT.pem\n"
        "                       --private-key KEY.pem [--output-file OUT.eif]\n\n"
        "Adds a signature section (or replaces the one there) made with the ECDSA P-384\n"
        "key, fixes the header and the CRC, writes the image back (or to OUT.eif), and prints\n"
        "the measurements with PCR8.\n",
};
