/* wf_started.c: the record of the enclave `alcove start` launched for a directory
 * (wf_started.h). */
#include "cli/wf_started.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/enclaves.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/runtime.h"

static void path_of(char *buf, size_t n, const char *dir, const char *rel)
{
    snprintf(buf, n, "%s/%s", dir, rel);
}

/* The directory's identity as the record keeps it: "DEV:INODE" (a copy has another inode; a
 * rename keeps it). 0, or -1 when DIR cannot be stat'ed. */
static int dir_identity(const char *dir, char *out, size_t n)
{
    struct stat st;
    if (stat(dir, &st))
        return -1;
    snprintf(out, n, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    return 0;
}

/* Whether the enclave the record names runs: a state, or -code (reported). */
static int check_running(struct wf_started *s)
{
    int code = enclaves_runtime_check();
    if (code)
        return -code;
    struct enclave_rec *list;
    size_t n;
    int r = enclaves_list(&list, &n);
    if (r) {
        alc_err_report(E_FILE_OPERATION,
                       "the runtime directory %s cannot be read (%s): whether enclave %s runs is "
                       "not known",
                       runtime_dir(), strerror(-r), s->id);
        return -E_FILE_OPERATION;
    }
    int state = WF_STARTED_GONE, same_cid = 0;
    for (size_t i = 0; i < n; i++) {
        if (list[i].cid != s->cid)
            continue;
        same_cid = 1;
        if (list[i].owner != geteuid() || strcmp(enclave_field(&list[i], "EnclaveID"), s->id) != 0)
            break; /* the CID went to another enclave (another user's too): the record's is gone */
        if (list[i].running)
            state = WF_STARTED_LIVE;
        else
            s->listed = 1; /* its program ended; the description waits for terminate */
    }
    enclaves_free(list, n);
    if (!same_cid && runtime_cid_running(s->cid)) {
        /* a description that was not listed (another user's, or unreadable) holds the CID */
        alc_err_report(E_FILE_PERMISSIONS,
                       "enclave CID %u's description in %s cannot be read: whether it is "
                       "enclave %s is not known",
                       s->cid, runtime_dir(), s->id);
        return -E_FILE_PERMISSIONS;
    }
    return state;
}

int wf_started_load(const char *dir, struct wf_started *s)
{
    char path[4200];
    path_of(path, sizeof(path), dir, WF_STARTED_PATH);
    memset(s, 0, sizeof(*s));
    size_t len;
    char *text = (char *)read_file(path, &len);
    if (!text)
        return WF_STARTED_NONE;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(j, "EnclaveCID");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "EnclaveID");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "EnclaveName");
    const cJSON *ident = cJSON_GetObjectItemCaseSensitive(j, "DirectoryIdentity");
    const cJSON *where = cJSON_GetObjectItemCaseSensitive(j, "Directory");
    if (cJSON_IsNumber(cid) && cid->valuedouble >= 0 && cid->valuedouble < 4294967296.0 &&
        cJSON_IsString(id)) {
        s->cid = (uint32_t)cid->valuedouble;
        snprintf(s->id, sizeof(s->id), "%s", id->valuestring);
        snprintf(s->name, sizeof(s->name), "%s", cJSON_IsString(name) ? name->valuestring : "");
    }
    snprintf(s->dir, sizeof(s->dir), "%s", cJSON_IsString(where) ? where->valuestring : "");
    char mine[64];
    int foreign = !cJSON_IsString(ident) || dir_identity(dir, mine, sizeof(mine)) ||
                  strcmp(mine, ident->valuestring) != 0;
    cJSON_Delete(j);
    if (!s->id[0])
        return WF_STARTED_GONE; /* unreadable: it names no enclave */
    if (foreign)
        return WF_STARTED_FOREIGN;
    return check_running(s);
}

int wf_started_save(const char *dir, const struct wf_started *s)
{
    char path[4200], ident[64];
    path_of(path, sizeof(path), dir, WF_STARTED_PATH);
    if (dir_identity(dir, ident, sizeof(ident)))
        return -errno;
    char *real = realpath(dir, NULL);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "EnclaveName", s->name);
    cJSON_AddStringToObject(j, "EnclaveID", s->id);
    cJSON_AddNumberToObject(j, "EnclaveCID", s->cid);
    cJSON_AddStringToObject(j, "Directory", real ? real : dir);
    cJSON_AddStringToObject(j, "DirectoryIdentity", ident);
    free(real);
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

int wf_started_lock(const char *dir, int nonblock)
{
    char path[4200];
    path_of(path, sizeof(path), dir, WF_START_LOCK);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0 && flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0)) == 0)
        return fd;
    if (fd >= 0 && nonblock && errno == EWOULDBLOCK) {
        close(fd);
        return -2;
    }
    alc_err_report(E_FILE_OPERATION, "%s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}
