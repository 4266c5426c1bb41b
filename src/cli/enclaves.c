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
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alcove/vsock.h"
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

static size_t g_hidden;    /* descriptions enclaves_list could not read (another user's) */
static size_t g_ambiguous; /* enclaves of other users that enclaves_find found (root) */
static uid_t g_amb_uid[2];

const char *enclaves_hidden_note(void)
{
    static char note[PATH_MAX + 200];
    if (g_ambiguous > 1) {
        char uids[64];
        snprintf(uids, sizeof(uids), "uid %u", (unsigned)g_amb_uid[0]);
        if (g_amb_uid[1] != g_amb_uid[0])
            snprintf(uids + strlen(uids), sizeof(uids) - strlen(uids), ", uid %u%s",
                     (unsigned)g_amb_uid[1], g_ambiguous > 2 ? ", ..." : "");
        snprintf(note, sizeof(note),
                 " of this user, and %zu enclaves of other users (%s) match it: names and IDs "
                 "are their owners' choice, not unique across users; describe-enclaves lists "
                 "them by CID",
                 g_ambiguous, uids);
        return note;
    }
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
        uid_t owner = 0;
        cJSON *desc = runtime_read_desc_owner((uint32_t)cid, &owner);
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
        (*out)[(*n)++] = (struct enclave_rec){(uint32_t)cid, running, owner, desc};
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

static bool matches(const struct enclave_rec *e, const char *id, const char *name)
{
    return (id && strcmp(enclave_field(e, "EnclaveID"), id) == 0) ||
           (name && strcmp(enclave_field(e, "EnclaveName"), name) == 0);
}

struct enclave_rec *enclaves_find_own(struct enclave_rec *r, size_t n, const char *id,
                                      const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].owner == geteuid() && matches(&r[i], id, name))
            return &r[i];
    return NULL;
}

void enclaves_unique_name(struct enclave_rec *r, size_t n, const char *stem, char *out, size_t size)
{
    snprintf(out, size, "%s", stem);
    for (int k = 1; enclaves_find_own(r, n, NULL, out); k++)
        snprintf(out, size, "%s_%d", stem, k);
}

struct enclave_rec *enclaves_find(struct enclave_rec *r, size_t n, const char *id, const char *name)
{
    g_ambiguous = 0;
    g_amb_uid[0] = g_amb_uid[1] = 0;
    /* the caller's own first: names are not unique across users, and another user's
     * description may copy any name or ID */
    for (size_t i = 0; i < n; i++)
        if (r[i].owner == geteuid() && matches(&r[i], id, name))
            return &r[i];
    /* root's: another user's enclave, when only one matches */
    struct enclave_rec *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (r[i].owner == geteuid() || !matches(&r[i], id, name))
            continue;
        g_amb_uid[found ? 1 : 0] = r[i].owner;
        g_ambiguous++;
        found = &r[i];
    }
    if (g_ambiguous == 1) {
        g_ambiguous = 0;
        return found;
    }
    return NULL;
}

static char g_socket_why[PATH_MAX + 160];

const char *enclave_socket_why(void)
{
    return g_socket_why;
}

/* Before a connect: the socket at path must be owner's (a member may put a socket of its own
 * at any path of the shared directory that is free). -1 with errno EPERM (and the reason) when
 * it is not; a missing socket is left for connect() to report. */
static int socket_is_owners(const char *path, uid_t owner)
{
    struct stat st;
    if (lstat(path, &st) != 0 || (S_ISSOCK(st.st_mode) && st.st_uid == owner))
        return 0;
    snprintf(g_socket_why, sizeof(g_socket_why),
             "%s is %s of uid %u, not the enclave's (its description is uid %u's): not used", path,
             S_ISSOCK(st.st_mode) ? "a socket" : "a file", (unsigned)st.st_uid, (unsigned)owner);
    errno = EPERM;
    return -1;
}

/* After a connect: the process that listens on fd runs as owner (SO_PEERCRED), as the enclave's
 * monitor does: never a socket that another process put in the socket's place meanwhile. */
static int peer_is_owner(int fd, const char *path, uid_t owner)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == owner)
        return 0;
    snprintf(g_socket_why, sizeof(g_socket_why),
             "%s is served by a process of uid %d, not by the enclave's monitor (uid %u): not "
             "used",
             path, len == sizeof(cred) ? (int)cred.uid : -1, (unsigned)owner);
    errno = EPERM;
    return -1;
}

int enclave_control(uint32_t cid, uid_t owner, const char *cmd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char path[PATH_MAX];
    if (runtime_path(path, sizeof(path), cid, "ctl"))
        return -1;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (socket_is_owners(path, owner))
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* a monitor whose backlog is full: a bounded wait in connect(), not forever */
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || peer_is_owner(fd, path, owner)) {
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

int enclave_vsock_connect(uint32_t cid, uid_t owner, uint32_t port, int timeout_ms)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (alcove_vsock_uds_path(cid, path, sizeof(path)) != 0 || socket_is_owners(path, owner))
        return -1;
    int fd = alcove_vsock_connect(cid, port, timeout_ms);
    if (fd >= 0 && peer_is_owner(fd, path, owner)) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}
