/* cmd_describe_eif.c: `alcove describe-eif --eif-path F`, nitro-cli's JSON about an image: its
 * version, measurements, signature and certificate, CRC check, name, version and metadata. */
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
#include "image/metadata.h"
#include "image/signing.h"

static int run_describe_eif(int argc, char **argv)
{
    static const struct option opts[] = {{"eif-path", required_argument, NULL, 'e'}, {0}};
    const char *path = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
        if (c != 'e') {
            return args_getopt_error(c, argv, "describe-eif");
        }
        path = optarg;
    }
    if (!path) {
        return args_usage_error(E_MISSING_ARGUMENT, "--eif-path is required");
    }
    size_t size;
    uint8_t *buf;
    int r = eif_read_file(path, &buf, &size);
    if (r < 0) {
        alc_err_report(E_FILE_OPERATION, "%s: %s", path, fileio_strerror(-r));
        return E_FILE_OPERATION;
    }
    if (r > 0) {
        alc_err_report(E_EIF_PARSING, "%s: %s", path, eif_strerror((enum eif_error)r));
        return E_EIF_PARSING;
    }
    struct eif_image img;
    enum eif_error e = eif_parse(buf, size, &img);
    /* a wrong CRC or a Linux kernel is something to describe, not a reason to refuse */
    if (e != EIF_OK && e != EIF_ERR_CRC && e != EIF_ERR_LINUX_KERNEL) {
        free(buf);
        alc_err_report(E_EIF_PARSING, "%s: %s", path, eif_strerror(e));
        return E_EIF_PARSING;
    }
    struct eif_pcrs pcrs;
    if (eif_measure(&img, &pcrs)) {
        free(buf);
        alc_err_report(E_EIF_PARSING, "%s: its signature section is unreadable", path);
        return E_EIF_PARSING;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "EifVersion", img.version);
    cJSON_AddItemToObject(out, "Measurements", json_measurements(&pcrs));
    cJSON_AddBoolToObject(out, "IsSigned", img.signature >= 0);
    int status = 0;
    if (img.signature >= 0) {
        struct eif_signature_info info;
        memset(&info, 0, sizeof(info));
        enum eif_sig_error se = eif_signature_verify(&img, pcrs.pcr0, 0, &info);
        if (se != EIF_SIG_OK && se != EIF_SIG_PCR0) {
            /* as nitro-cli: a signature that does not verify is an error, not a false */
            alc_err_report(E_EIF_PARSING, "%s: %s", path, eif_sig_strerror(se));
            status = E_EIF_PARSING;
            goto done;
        }
        cJSON *cert = cJSON_CreateObject();
        cJSON *issuer = cJSON_CreateObject();
        /* every attribute of the name, as nitro-cli prints it (a map sorted by key) */
        for (unsigned i = 0; i < info.nissuer; i++)
            cJSON_AddStringToObject(issuer, info.issuer[i].key, info.issuer[i].value);
        cJSON_AddItemToObject(cert, "IssuerName", issuer);
        cJSON_AddStringToObject(cert, "Algorithm", info.algorithm);
        cJSON_AddStringToObject(cert, "NotBefore", info.not_before);
        cJSON_AddStringToObject(cert, "NotAfter", info.not_after);
        cJSON_AddStringToObject(cert, "Signature", info.signature_hex);
        cJSON_AddItemToObject(out, "SigningCertificate", cert);
        cJSON_AddBoolToObject(out, "CheckCRC", img.crc_stored == img.crc_computed);
        cJSON_AddBoolToObject(out, "SignatureCheck", info.payload_matches);
    } else {
        cJSON_AddBoolToObject(out, "CheckCRC", img.crc_stored == img.crc_computed);
    }
    if (img.metadata >= 0) {
        if (json_add_image_metadata(out, &img)) {
            alc_err_report(E_EIF_PARSING, "%s: the metadata section is not nitro-cli's JSON", path);
            status = E_EIF_PARSING;
            goto done;
        }
    }
    json_print(stdout, out);
done:
    cJSON_Delete(out);
    free(buf);
    return status;
}

const struct command cmd_describe_eif = {
    .name = "describe-eif",
    .run = run_describe_eif,
    .summary = "describe an enclave image (EIF)",
    .usage = "Usage: alcove describe-eif --eif-path IMAGE.eif\n\n"
             "Prints nitro-cli's JSON about the image: EifVersion, Measurements (PCR0, PCR1,\n"
             "PCR2, and PCR8 when signed), IsSigned, the signing certificate, CheckCRC,\n"
             "SignatureCheck, ImageName, ImageVersion and Metadata.\n",
};
