/* wf_exec.c: the exec service's binary, rules and records (wf_exec.h). */
#include "cli/wf_exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/enclaves.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "cpio/cpio.h"

extern const uint8_t alcove_execd_image[], alcove_execd_image_end[];

const uint8_t *wf_execd_binary(size_t *size)
{
    *size = (size_t)(alcove_execd_image_end - alcove_execd_image);
    return alcove_execd_image;
}

char *wf_exec_rules(const struct wf_config *c)
{
    size_t cap = 1;
    for (size_t i = 0; i < c->nentry; i++)
        cap += strlen(c->entry_points[i]) + 7;
    for (size_t i = 0; i < c->nuntrusted; i++)
        cap += strlen(c->env_untrusted[i]) + 11;
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < c->nentry; i++)
        p += sprintf(p, "entry %s\n", c->entry_points[i]);
    for (size_t i = 0; i < c->nuntrusted; i++)
        p += sprintf(p, "untrusted %s\n", c->env_untrusted[i]);
    *p = 0;
    return s;
}

int wf_image_has_execd(const uint8_t *ramdisk, size_t size)
{
    int found = 0;
    size_t pos = 0;
    while (pos < size) {
        while (pos < size && ramdisk[pos] == 0)
            pos++;
        if (pos >= size)
            break;
        struct cpio_entry e;
        enum cpio_status st;
        while ((st = cpio_next(ramdisk, size, &pos, &e)) == CPIO_ENTRY) {
            const char *n = e.name;
            size_t len = e.name_len;
            if (len >= 2 && n[0] == '.' && n[1] == '/')
                n += 2, len -= 2;
            static const char *const want[] = {"rootfs" WF_EXECD_PATH, "rootfs/.alcove/exec.rules"};
            for (int i = 0; i < 2; i++)
                if (len == strlen(want[i]) && memcmp(n, want[i], len) == 0 &&
                    (e.mode & S_IFMT) == S_IFREG)
                    found |= 1 << i;
        }
        if (st == CPIO_MALFORMED)
            break;
    }
    return found == 3;
}

static void path_of(char *buf, size_t n, const char *dir, const char *rel)
{
    snprintf(buf, n, "%s/%s", dir, rel);
}

int wf_started_load(const char *dir, struct wf_started *s, int *stale)
{
    char path[4200];
    path_of(path, sizeof(path), dir, WF_STARTED_PATH);
    memset(s, 0, sizeof(*s));
    *stale = 0;
    size_t len;
    char *text = (char *)read_file(path, &len);
    if (!text)
        return 0;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(j, "EnclaveCID");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "EnclaveID");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "EnclaveName");
    *stale = 1;
    if (cJSON_IsNumber(cid) && cid->valuedouble >= 0 && cid->valuedouble < 4294967296.0 &&
        cJSON_IsString(id)) {
        s->cid = (uint32_t)cid->valuedouble;
        snprintf(s->id, sizeof(s->id), "%s", id->valuestring);
        snprintf(s->name, sizeof(s->name), "%s", cJSON_IsString(name) ? name->valuestring : "");
    }
    cJSON_Delete(j);
    if (!s->id[0])
        return 0; /* unreadable: as good as gone */
    struct enclave_rec *list;
    size_t n;
    if (enclaves_list(&list, &n))
        return 0;
    int live = 0;
    for (size_t i = 0; i < n; i++)
        if (list[i].cid == s->cid && list[i].owner == geteuid() &&
            strcmp(enclave_field(&list[i], "EnclaveID"), s->id) == 0)
            live = list[i].running;
    enclaves_free(list, n);
    if (live)
        *stale = 0;
    return live;
}

int wf_started_save(const char *dir, const struct wf_started *s)
{
    char path[4200];
    path_of(path, sizeof(path), dir, WF_STARTED_PATH);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "EnclaveName", s->name);
    cJSON_AddStringToObject(j, "EnclaveID", s->id);
    cJSON_AddNumberToObject(j, "EnclaveCID", s->cid);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return -ENOMEM;
    size_t n = strlen(text);
    text[n] = '\n'; /* cJSON_Print's text ends where its NUL was: a newline instead */
    int err = write_file_atomic(path, text, n + 1, 0644);
    free(text);
    return err;
}

void wf_started_remove(const char *dir)
{
    char path[4200];
    path_of(path, sizeof(path), dir, WF_STARTED_PATH);
    unlink(path);
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
