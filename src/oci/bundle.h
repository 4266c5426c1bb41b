/* bundle.h: an OCI bundle's config.json (runtime-spec 1.x) as the enclave takes it.
 *
 * What becomes part of the enclave: root.path (its root file system, measured as build-enclave
 * --rootfs measures a directory), process.args/env, linux.resources memory (the enclave's
 * memory) and CPU (its vCPUs), process.terminal and consoleSize, and the annotations
 * alcove.debug-mode, alcove.enclave-cid, alcove.exec and alcove.exec-env (the exec service and
 * its rules, measured); the annotations alcove.allow and alcove.allowlist
 * give the outbound allowlist (not measured, as alcove run's --allow). What is refused (create
 * fails, nothing is left): a missing root.path, a cwd other than "/", a mount the enclave cannot
 * honour (see oci_mount_rule), an alcove.* annotation this version does not know or a value it
 * cannot take. What the enclave has no use for (namespaces, capabilities, rlimits, seccomp, the
 * user, hooks, the host's /proc, /dev and /sys) is ignored, with an info line in the log.
 * docs/oci.md has the rules. */
#ifndef ALCOVE_OCI_BUNDLE_H
#define ALCOVE_OCI_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct out_rule;

struct oci_bundle {
    char *dir;    /* the bundle, absolute */
    char *rootfs; /* root.path, absolute */
    char **args;  /* process.args, NULL-terminated */
    int argc;
    char **env; /* process.env, NULL-terminated */
    int envc;
    uint64_t memory_mib;       /* from linux.resources.memory.limit; 0: not given */
    unsigned cpus;             /* from linux.resources.cpu; 0: not given */
    int debug_mode;            /* alcove.debug-mode */
    uint32_t cid;              /* alcove.enclave-cid; 0: the lowest free */
    int terminal;              /* process.terminal: a pty over --console-socket (console.h) */
    unsigned rows, cols;       /* process.consoleSize; 0: not given */
    struct cJSON *annotations; /* the bundle's annotations (an object), for state */
    struct out_rule *allow;    /* alcove.allow, alcove.allowlist (NULL: none) */
    unsigned nallow;
    /* alcove.exec (docs/oci.md "Exec"): the image holds the exec service and these rules, and
     * the enclave's first process is the service, which starts process.args */
    int exec;
    char **exec_entries; /* alcove.exec: absolute paths, as alcove.json's entry_points */
    size_t nexec_entries;
    char **exec_env; /* alcove.exec-env: names the host may set for an exec */
    size_t nexec_env;
    /* alcove.exec: the rules' text, built once by the load (which checks its size) and put
     * into the image by oci_enclave_image */
    char *exec_rules;
    char **launch; /* the enclave's command line: process.args, or the service's with them */
    int nlaunch;
};

/* The exec service in the image, and its rules (alcove.exec) */
#define OCI_EXECD_PATH "/.alcove/execd"

/* Reads and checks dir/config.json. 0, or an alcove error code (reported with oci_err). */
int oci_bundle_load(const char *dir, struct oci_bundle *b);
void oci_bundle_free(struct oci_bundle *b);

/* Readers of runtime-spec's Process object, shared by create (config.json's process) and exec
 * (--process FILE). oci_json_strv: a JSON array of strings as a NULL-terminated vector of
 * copies (none when a is NULL, absent, or JSON null); 0, or -1 when it is not one (or out of
 * memory), with nothing left allocated. oci_console_size: consoleSize's height and width into
 * rows and cols, left as they are when it is not given or not from 1 to 65535. */
int oci_json_strv(const struct cJSON *a, char ***out, int *n);
void oci_console_size(const struct cJSON *process, unsigned *rows, unsigned *cols);

enum oci_mount_verdict { OCI_MOUNT_IGNORE, OCI_MOUNT_REFUSE };
/* What the enclave does with one entry of config.json's mounts (type and source may be NULL);
 * why says it in words, for the log line. */
enum oci_mount_verdict oci_mount_rule(const char *dest, const char *type, const char *source,
                                      char *why, size_t why_size);

#endif
