/* enclaves.c: listing and finding enclaves (see enclaves.h). */
#include "cli/enclaves.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/runtime.h"

static int by_cid(const void *a, const void *b)
{
    const struct enclave_rec *x = a, *y = b;
    return x->cid < y->cid ? -1 : x->cid > y->cid;
}

int enclaves_runtime_check(void)
{
    if (runtime_dir())
        return 0;
    int code = errno == EPERM ? E_FILE_PERMISSIONS : E_FILE_OPERATION;
    alc_err_report(code, "the runtime directory: %s", runtime_dir_problem());
    return code;
}

static size_t g_hidden; /* descriptions enclaves_list could not read (another user's) */

const char *enclaves_hidden_note(void)
{
    static char note[PATH_MAX + 200];
    if (!g_hidden)
        return "";
    snprintf(note, sizeof(note),
             " (%zu enclave%s in %s %s another user's: only root and the user who started an "
             "enclave may see or reach it)",
             g_hidden, g_hidden == 1 ? "" : "s", runtime_dir(), g_hidden == 1 ? "is" : "are");
    return note;
}

int enclaves_list(struct enclave_rec **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    g_hidden = 0;
    const char *dir = runtime_dir();
    if (!dir)
        return -errno;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        unsigned long cid = strtoul(e->d_name, &end, 10);
        if (end == e->d_name || strcmp(end, ".json") != 0 || cid < RUNTIME_CID_MIN ||
            cid > UINT32_MAX)
            continue;
        bool running = runtime_cid_running((uint32_t)cid);
        errno = 0;
        cJSON *desc = runtime_read_desc((uint32_t)cid);
        if (!desc && errno == EACCES) {
            /* a shared runtime directory: another member's (0600), neither listed nor
             * cleaned up here */
            g_hidden++;
            continue;
        }
        if (!running) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(desc, "State");
            bool ended = cJSON_IsString(st) && strcmp(st->valuestring, "EMPTY") == 0;
            if (!ended) {
                /* a monitor that died: clean up after it (an empty file may be a claim in
                 * progress: leave that one) */
                if (desc)
                    runtime_remove((uint32_t)cid);
                cJSON_Delete(desc);
                continue;
            }
        }
        if (!desc)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            struct enclave_rec *grown = realloc(*out, cap * sizeof(**out));
            if (!grown) {
                cJSON_Delete(desc);
                break;
            }
            *out = grown;
        }
        (*out)[(*n)++] = (struct enclave_rec){(uint32_t)cid, running, desc};
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof(**out), by_cid);
    return 0;
}

void enclaves_free(struct enclave_rec *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(r[i].desc);
    free(r);
}

const char *enclave_field(const struct enclave_rec *e, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e->desc, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

struct enclave_rec *enclaves_find(struct enclave_rec *r, size_t n, const char *id, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (id && strcmp(enclave_field(&r[i], "EnclaveID"), id) == 0)
            return &r[i];
        if (name && strcmp(enclave_field(&r[i], "EnclaveName"), name) == 0)
            return &r[i];
    }
    return NULL;
}

int enclave_control(uint32_t cid, const char *cmd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char path[PATH_MAX];
    if (runtime_path(path, sizeof(path), cid, "ctl"))
        return -1;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* a monitor whose backlog is full: a bounded wait in connect(), not forever */
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    char line[64];
    int len = snprintf(line, sizeof(line), "%s\n", cmd);
    /* a monitor that dropped us is an error here, never a SIGPIPE */
    if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}
