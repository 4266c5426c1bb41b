/* wf_run.h: what `alcove run` does for the workflow (docs/workflow.md): it takes an
 * `alcove init` directory (its build/enclave.eif) and, for any image that holds an alcove.json
 * (built by `alcove build`, or copied by `alcove package`), enforces what that measured copy
 * says: the program must be an entry point, only env.untrusted names come from the host, and the
 * memory and debug mode follow its resource_limits and metadata. */
#ifndef ALCOVE_WF_RUN_H
#define ALCOVE_WF_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "cli/wf_config.h"

/* For alcove run's first operand arg: when it is a directory with an alcove.json, *eif is its
 * image's path (1); when arg is an absolute path that is no file on the host and the current
 * directory is an alcove init directory with a built image, *eif is that image's and the
 * program is arg itself (2); else 0.
 * -1: a directory without an image (reported). *eif is malloc'd. */
int wf_run_resolve(const char *arg, char **eif);

struct cpio_entry;
/* Finds the regular file name (a path in the archive, without "./") in an application ramdisk
 * (cpio archives one after another, NUL padding between them): 1 (*out is its entry), or 0. */
int wf_ramdisk_file(const uint8_t *ramdisk, size_t size, const char *name, struct cpio_entry *out);

/* Finds and parses the application ramdisk's alcove.json: 1 found (c filled), 0 none, or an
 * error code (reported) for one that is not valid or not byte for byte the canonical form
 * alcove build writes. */
int wf_run_config(const uint8_t *ramdisk, size_t size, struct wf_config *c);

/* Checks the program (argv[0]) against the entry points and the --env names against
 * env.untrusted (the host passes a variable only when --env names it: an image from elsewhere
 * must not pick values out of alcove's own environment). Returns 0, or the exit status for
 * alcove run (reported). */
int wf_run_check(const struct wf_config *c, int argc, char *const *argv, char ***env, int *envc);

/* The enclave's memory in MiB for c: user_space_size plus the image, in whole 2 MiB pages. */
uint64_t wf_run_memory_mib(const struct wf_config *c, size_t image_bytes);

#endif
