/* cmd_pcr.c: `alcove pcr --input FILE` and `alcove pcr --signing-certificate CERT.pem`, as
 * nitro-cli pcr: the PCR value of a file's bytes, or PCR8 of a signing certificate. */
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
#include "image/measure.h"

static int run_pcr(int argc, char **argv)
{
    static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
                                         {"signing-certificate", required_argument, NULL, 'c'},
                                         {0}};
    const char *input = NULL, *cert = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
        if (c == 'i')
            input = optarg;
        else if (c == 'c')
            cert = optarg;
        else {
            return args_getopt_error(c, argv, "pcr");
        }
    }
    if (!!input == !!cert) {
        return args_usage_error(input ? E_CONFLICTING_ARGUMENT : E_MISSING_ARGUMENT,
                                "give exactly one of --input and --signing-certificate");
    }
    size_t size;
    uint8_t *bytes = read_file(input ? input : cert, &size);
    if (!bytes) {
        alc_err_report(E_FILE_OPERATION, "%s: %s", input ? input : cert, fileio_strerror(errno));
        return E_FILE_OPERATION;
    }
    uint8_t pcr[PCR_SIZE];
    char hex[PCR_HEX_SIZE];
    if (input) {
        pcr_of_bytes(bytes, size, pcr);
    } else if (pcr_of_certificate_pem(bytes, size, pcr)) {
        free(bytes);
        alc_err_report(E_HASHER, "%s: not a PEM certificate", cert);
        return E_HASHER;
    }
    free(bytes);
    pcr_to_hex(pcr, hex);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, input ? "PCR" : "PCR8", hex);
    json_print(stdout, out);
    cJSON_Delete(out);
    return 0;
}

const struct command cmd_pcr = {
    .name = "pcr",
    .run = run_pcr,
    .summary = "the PCR of a file, or PCR8 of a signing certificate",
    .usage = "Usage: alcove pcr --input FILE\n"
             "       alcove pcr --signing-certificate CERT.pem\n\n"
             "Prints {\"PCR\": hex} for a file (SHA-384 of zeros and the file's SHA-384), or\n"
             "{\"PCR8\": hex} for a PEM certificate (the same over its DER), as nitro-cli pcr.\n",
};
