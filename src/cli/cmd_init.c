/* cmd_init.c: `alcove init DIR`: a directory for the Occlum-style workflow (docs/workflow.md):
 * DIR/image/, an empty root tree to fill, and DIR/alcove.json, its configuration. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/wf_config.h"
#include "common/errors.h"
#include "common/fileio.h"

/* the skeleton: what a program expects to find (its files go in by the user) */
static const char *const g_dirs[] = {
    "image",         "image/bin",     "image/dev",  "image/etc",     "image/lib",
    "image/lib64",   "image/proc",    "image/root", "image/tmp",     "image/usr",
    "image/usr/bin", "image/usr/lib", "image/var",  "image/var/tmp", NULL};

static int make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0)
        return 0;
    struct stat st;
    if (errno == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return -1;
}

static int run_init(int argc, char **argv)
{
    if (argc >= 2 && argv[1][0] == '-' && argv[1][1])
        return args_usage_error(E_INVALID_ARGUMENT,
                                "unknown option '%s' (see 'alcove init --help')", argv[1]);
    if (argc != 2 || !argv[1][0])
        return args_usage_error(E_MISSING_ARGUMENT, "expected one directory: alcove init DIR");
    const char *dir = argv[1];
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, WF_CONFIG_FILE);
    struct stat st;
    if (lstat(path, &st) == 0) {
        alc_err_report(E_WORKFLOW_CONFIG, "%s exists: %s is already an alcove directory", path,
                       dir);
        return E_WORKFLOW_CONFIG;
    }
    if (make_dir(dir, 0755)) {
        alc_err_report(E_FILE_OPERATION, "%s: %s", dir, strerror(errno));
        return E_FILE_OPERATION;
    }
    for (const char *const *d = g_dirs; *d; d++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, *d);
        mode_t mode = strstr(*d, "tmp") ? 01777 : 0755;
        if (make_dir(p, mode) || chmod(p, mode)) {
            alc_err_report(E_FILE_OPERATION, "%s: %s", p, strerror(errno));
            return E_FILE_OPERATION;
        }
    }
    char *copy = realpath(dir, NULL);
    char *name = copy ? basename(copy) : (char *)"app";
    char *text = wf_config_template(name[0] && strcmp(name, "/") ? name : "app");
    free(copy);
    if (!text) {
        alc_err_report(E_UNSPECIFIED, "out of memory");
        return E_UNSPECIFIED;
    }
    int err = write_file_atomic(path, text, strlen(text), 0644);
    free(text);
    if (err) {
        alc_err_report(E_FILE_OPERATION, "%s: %s", path, fileio_strerror(-err));
        return E_FILE_OPERATION;
    }
    fprintf(stderr,
            "Initialized %s: put the programs and their files under %s/image, list the ones to "
            "start in %s, then run 'alcove build %s'.\n",
            dir, dir, path, dir);
    return 0;
}

const struct command cmd_init = {
    .name = "init",
    .run = run_init,
    .summary = "make a workflow directory: image/ and alcove.json (as `occlum init`)",
    .usage = "Usage: alcove init DIR\n\n"
             "Creates DIR (if needed) with DIR/image/, an empty root tree (bin, etc, lib, tmp, "
             "usr, ...)\n"
             "to fill with the programs and their files, and DIR/alcove.json, the enclave's\n"
             "configuration: memory, entry points, environment, metadata, mounts (fields as\n"
             "Occlum.json's; docs/workflow.md). Refuses a DIR that has an alcove.json.\n"
             "Then: alcove build DIR; alcove run DIR PROGRAM [ARGS]; alcove package DIR -o FILE.\n",
};
