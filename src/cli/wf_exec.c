/* wf_exec.c: the exec service's binary and rules, and start/exec/stop's directory operand
 * (wf_exec.h). */
#include "cli/wf_exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/wf_run.h"
#include "common/errors.h"
#include "cpio/cpio.h"
#include "execproto/exec_rules.h"

extern const uint8_t alcove_execd_image[], alcove_execd_image_end[];

const uint8_t *wf_execd_binary(size_t *size)
{
    *size = (size_t)(alcove_execd_image_end - alcove_execd_image);
    return alcove_execd_image;
}

char *wf_exec_rules(const struct wf_config *c)
{
    return exec_rules_text((const char *const *)c->entry_points, c->nentry,
                           (const char *const *)c->env_untrusted, c->nuntrusted,
                           (const char *const *)c->env_default, c->nenv_default);
}

int wf_image_has_execd(const uint8_t *ramdisk, size_t size)
{
    struct cpio_entry e;
    return wf_ramdisk_file(ramdisk, size, "rootfs" WF_EXECD_PATH, &e) &&
           wf_ramdisk_file(ramdisk, size, "rootfs" EXEC_RULES_PATH, &e);
}

static int is_wf_dir(const char *d)
{
    struct stat st;
    char conf[4200];
    if (stat(d, &st) || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(conf, sizeof(conf), "%s/%s", d, WF_CONFIG_FILE);
    return stat(conf, &st) == 0 && S_ISREG(st.st_mode);
}

const char *wf_exec_dir(int argc, char **argv, int *i, const char *cmd, int required_operands)
{
    if (*i < argc && is_wf_dir(argv[*i]))
        return argv[(*i)++];
    if (*i < argc && required_operands == 0) {
        alc_err_report(E_WORKFLOW_CONFIG, "%s: not an 'alcove init' directory (no %s there)",
                       argv[*i], WF_CONFIG_FILE);
        return NULL;
    }
    if (is_wf_dir("."))
        return ".";
    alc_err_report(E_WORKFLOW_CONFIG,
                   "which directory? the current one has no %s (alcove %s DIR ..., see "
                   "docs/workflow.md)",
                   WF_CONFIG_FILE, cmd);
    return NULL;
}
