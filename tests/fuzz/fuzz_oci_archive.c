/* fuzz_oci_archive.c: the OCI image layout and `docker save` readers (src/image/oci.c) on
 * arbitrary bytes as the archive file: the outer tar in any compression, index.json, the
 * manifests, digests, docker's manifest.json. Whatever the input, they fail with a reason or
 * return a clean tree (oci_fuzz_common.h). fuzz_oci_layer goes deeper into the layers, behind
 * digests this target rarely gets right. */
#include <stddef.h>
#include <stdint.h>

#include "oci_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], why[512];
    int fd = fuzz_file(data, size, path, sizeof(path));
    if (fd < 0)
        return 0;
    for (int docker = 0; docker < 2; docker++) {
        struct rootfs fs;
        rootfs_init(&fs);
        why[0] = '\0';
        int rc = docker ? rootfs_from_docker_archive(&fs, path, NULL, why, sizeof(why))
                        : rootfs_from_oci_archive(&fs, path, NULL, why, sizeof(why));
        if (rc == 0)
            fuzz_check_rootfs(&fs);
        else
            FUZZ_CHECK(why[0] != '\0'); /* every refusal says why */
        rootfs_free(&fs);
    }
    close(fd);
    return 0;
}
