/* enclave.c: a container's enclave configuration and measurements (see enclave.h). */
#include "oci/enclave.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "abi/alcove_abi.h"
#include "cli/json_out.h"
#include "common/errors.h"
#include "devices/nsm_dev.h"
#include "execproto/exec_rules.h"
#include "image/boot_image.h"
#include "image/measure.h"
#include "monitor/monitor.h"
#include "oci/bundle.h"
#include "oci/log.h"

extern const uint8_t alcove_execd_image[], alcove_execd_image_end[];

int oci_enclave_image(struct boot_image *bi, const struct oci_bundle *b)
{
    char why[512] = "";
    int err = 0;
    if (b->exec) {
        /* measured with the tree: a verifier sees the service, and what exec may run */
        const struct boot_image_file files[] = {
            {OCI_EXECD_PATH + 1, 0755, alcove_execd_image,
             (size_t)(alcove_execd_image_end - alcove_execd_image)},
            {EXEC_RULES_PATH + 1, 0644, b->exec_rules, strlen(b->exec_rules)},
        };
        err = boot_image_from_dir_files(bi, b->rootfs, b->launch, 1, files, 2, why, sizeof(why));
    } else {
        err = boot_image_from_dir(bi, b->rootfs, b->args, 1, why, sizeof(why));
    }
    if (err)
        oci_err(err, "root.path %s: %s", b->rootfs, why);
    return err;
}

void oci_enclave_config(struct enclave_config *cfg, const char *id, const struct oci_bundle *b,
                        const struct boot_image *bi)
{
    uint64_t mem = b->memory_mib;
    if (!mem)
        mem = OCI_BASE_MEMORY_MIB + ((uint64_t)bi->rootfs_size >> 20);
    if (mem < MONITOR_MIN_MEMORY_MIB)
        mem = MONITOR_MIN_MEMORY_MIB;
    *cfg = (struct enclave_config){
        .memory_mib = (mem + 1) & ~1ull, /* whole 2 MiB pages */
        .cpu_count = b->cpus ? b->cpus : 1,
        .kernel = bi->kernel,
        .kernel_size = bi->kernel_size,
        .rootfs = bi->rootfs,
        .rootfs_size = bi->rootfs_size,
        .rootfs_iov = bi->rootfs_iov,
        .rootfs_iovcnt = bi->rootfs_iovcnt,
        .rootfs_entries = bi->rootfs_entries,
        .exec_path = bi->exec_path,
        .min_app_bytes = bi->min_app,
        .argv = b->launch,
        .argc = b->nlaunch,
        .envp = b->env,
        .envc = b->envc,
        .log_level = ALC_LOG_WARN,
        .ready_fd = -1,
        .in_fd = 0,
        .out_fd = 1,
        .err_fd = 2,
        .console_tty = b->terminal, /* the pty's slave is stdin then (create.c) */
        .cid = b->cid,
        .name = id,
        .debug_mode = b->debug_mode,
        .allow = b->allow,
        .nallow = b->nallow,
    };
}

/* pcrs [--bundle DIR]: the PCRs the bundle's enclave will report in attestation documents, as
 * describe-eif prints them ({"Measurements": {...}}); all zeros under alcove.debug-mode. */
int oci_cmd_pcrs(int argc, char **argv)
{
    static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'}, {0}};
    const char *bundle = ".";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
        if (c != 'b') {
            oci_err(E_INVALID_ARGUMENT, "pcrs: unknown option '%s'", argv[optind - 1]);
            return 1;
        }
        bundle = optarg;
    }
    struct oci_bundle b;
    if (oci_bundle_load(bundle, &b))
        return 1;
    struct boot_image bi;
    if (oci_enclave_image(&bi, &b)) {
        boot_image_free(&bi);
        oci_bundle_free(&b);
        return 1;
    }
    struct enclave_config cfg;
    oci_enclave_config(&cfg, "pcrs", &b, &bi);
    struct eif_pcrs pcrs;
    nsm_measure_boot(&cfg, &pcrs);
    if (b.debug_mode)
        memset(&pcrs, 0, sizeof(pcrs)); /* what the NSM reports in debug mode */
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "Measurements", json_measurements(&pcrs));
    json_print(stdout, out);
    cJSON_Delete(out);
    boot_image_free(&bi);
    oci_bundle_free(&b);
    return 0;
}
