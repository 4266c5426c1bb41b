/* wf_exec.h: what `alcove build`, `start`, `exec` and `stop` share about the exec service
 * (docs/workflow.md, "start, exec, stop"): the service's binary (built for the enclave, embedded
 * in alcove), the rules file build derives from alcove.json, and the directory operand of
 * start, exec and stop (the record of a started enclave: wf_started.h). */
#ifndef ALCOVE_WF_EXEC_H
#define ALCOVE_WF_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "cli/wf_config.h"

#define WF_EXECD_PATH   "/.alcove/execd" /* in the enclave */
#define WF_RESERVED_DIR ".alcove"        /* under image/: alcove's own */

/* The exec service's static binary, embedded at build time. */
const uint8_t *wf_execd_binary(size_t *size);

/* The rules file (exec_rules.h) for c's entry_points, env.untrusted and env.default, malloc'd. */
char *wf_exec_rules(const struct wf_config *c);

/* Whether an application ramdisk holds the exec service and its rules (an image built by an
 * alcove with start/exec). */
int wf_image_has_execd(const uint8_t *ramdisk, size_t size);

/* Resolves the directory operand of start/exec/stop: when argv[*i] names a directory with an
 * alcove.json, it is the directory (and *i moves past it); else (for exec, whose first operand
 * is then the program: required_operands 1) "." when the current directory has one. NULL
 * (reported, [ E85 ]) when neither does, or for start and stop (required_operands 0) an operand
 * that is no such directory. */
const char *wf_exec_dir(int argc, char **argv, int *i, const char *cmd, int required_operands);

#endif
