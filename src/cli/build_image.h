/* build_image.h: the image builder behind `alcove build-enclave` (cmd_build.c), shared with
 * `alcove build` (cmd_wf_build.c), which gives it a directory and its alcove.json. */
#ifndef ALCOVE_BUILD_IMAGE_H
#define ALCOVE_BUILD_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "image/measure.h"

/* a file added to the tree (alcove build's exec service and its rules) */
struct build_file {
    const char *path; /* relative */
    uint32_t mode;
    const void *data;
    size_t size;
};

struct build_opts {
    const char *output, *binary, *rootfs, *oci, *docker, *cmd, *name, *version, *cert, *key;
    char **env;
    int envc;
    char **tmpfs;
    int ntmpfs;
    const char *workflow_json; /* measured as the ramdisk's alcove.json when set */
    const struct build_file *files;
    int nfiles;
};

/* Builds o->output (atomically) and sets *pcrs. Returns 0 or an error code (reported). */
int build_enclave_image(const struct build_opts *o, struct eif_pcrs *pcrs);

#endif
