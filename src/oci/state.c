/* state.c: a container's state.json and status (see state.h; statedir.c has the directories). */
#include "oci/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/errors.h"
#include "common/fileio.h"
#include "oci/log.h"

int oci_state_write(const struct oci_state *st)
{
    cJSON *o = oci_state_json(st);
    cJSON_DeleteItemFromObject(o, "status"); /* seen, never stored */
    cJSON_AddNumberToObject(o, "alcove.pidStart", (double)st->pid_start);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return -ENOMEM;
    int r = oci_state_put(st->dir, "state.json", text);
    cJSON_free(text);
    return r;
}

static void copy_str(char *dst, size_t size, const cJSON *s)
{
    snprintf(dst, size, "%s", cJSON_IsString(s) ? s->valuestring : "");
}

int oci_state_read(int dfd, const char *id, struct oci_state *st)
{
    memset(st, 0, sizeof(*st));
    st->dir = dfd;
    snprintf(st->id, sizeof(st->id), "%s", id);
    size_t size;
    char *text = oci_state_get(dfd, "state.json", &size);
    if (!text)
        return -errno;
    cJSON *o = cJSON_ParseWithLength(text, size);
    free(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return -EINVAL;
    }
    const cJSON *pid = cJSON_GetObjectItem(o, "pid");
    const cJSON *start = cJSON_GetObjectItem(o, "alcove.pidStart");
    if (!cJSON_IsNumber(start)) {
        /* another runtime's (dockerd gives runc and alcove-oci one root): never ours to touch */
        cJSON_Delete(o);
        return -EMEDIUMTYPE;
    }
    st->pid = cJSON_IsNumber(pid) ? (pid_t)pid->valuedouble : 0;
    st->pid_start = cJSON_IsNumber(start) ? (unsigned long long)start->valuedouble : 0;
    copy_str(st->bundle, sizeof(st->bundle), cJSON_GetObjectItem(o, "bundle"));
    copy_str(st->rootfs, sizeof(st->rootfs), cJSON_GetObjectItem(o, "rootfs"));
    copy_str(st->created, sizeof(st->created), cJSON_GetObjectItem(o, "created"));
    cJSON *ann = cJSON_DetachItemFromObject(o, "annotations");
    st->annotations = cJSON_IsObject(ann) ? ann : (cJSON_Delete(ann), cJSON_CreateObject());
    cJSON_Delete(o);
    return 0;
}

void oci_state_free(struct oci_state *st)
{
    cJSON_Delete(st->annotations);
    st->annotations = NULL;
}

/* pid's start time (/proc/<pid>/stat's starttime) and its state letter; 0 when it is gone
 * (or a zombie). */
static unsigned long long pid_stat(pid_t pid, char *state_out)
{
    if (pid <= 0)
        return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    /* "pid (comm) S ppid ...": comm may hold spaces and parentheses, so start after the last
     * ')'; starttime is field 22, the 20th after the state */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return 0;
    char state = p[2];
    if (state == 'Z' || state == 'X')
        return 0;
    if (state_out)
        *state_out = state;
    p += 2;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

unsigned long long oci_pid_start(pid_t pid)
{
    return pid_stat(pid, NULL);
}

int oci_state_alive(const struct oci_state *st)
{
    unsigned long long s = oci_pid_start(st->pid);
    return s != 0 && s == st->pid_start;
}

int oci_state_paused(const struct oci_state *st)
{
    char state = 0;
    unsigned long long s = pid_stat(st->pid, &state);
    return s != 0 && s == st->pid_start && state == 'T';
}

const char *oci_state_status(const struct oci_state *st)
{
    if (!oci_state_alive(st))
        return "stopped";
    struct stat sb;
    if (fstatat(st->dir, "exec.fifo", &sb, AT_SYMLINK_NOFOLLOW) == 0)
        return "created";
    return oci_state_paused(st) ? "paused" : "running";
}

cJSON *oci_state_json(const struct oci_state *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ociVersion", "1.0.2");
    cJSON_AddStringToObject(o, "id", st->id);
    const char *status = oci_state_status(st);
    /* as runc: a stopped container has no pid */
    cJSON_AddNumberToObject(o, "pid", strcmp(status, "stopped") == 0 ? 0 : st->pid);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "bundle", st->bundle);
    cJSON_AddStringToObject(o, "rootfs", st->rootfs);
    cJSON_AddStringToObject(o, "created", st->created);
    cJSON_AddStringToObject(o, "owner", "");
    cJSON_AddItemToObject(o, "annotations",
                          st->annotations ? cJSON_Duplicate(st->annotations, 1)
                                          : cJSON_CreateObject());
    return o;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int oci_state_each(int (*fn)(const char *id, void *arg), void *arg)
{
    int root = oci_root_open(0);
    if (root == -ENOENT)
        return 0;
    int fd = root < 0 ? -1 : dup(root);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return root < 0 ? root : -errno;
    }
    rewinddir(d);
    char **ids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!oci_id_valid(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **g = realloc(ids, cap * sizeof(char *));
            if (!g)
                break;
            ids = g;
        }
        if (!(ids[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(ids, n, sizeof(char *), cmp_str);
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (!r)
            r = fn(ids[i], arg);
        free(ids[i]);
    }
    free(ids);
    return r;
}

int oci_state_load(const char *id, struct oci_state *st, int lock)
{
    memset(st, 0, sizeof(*st));
    st->dir = -1;
    int dir = lock ? oci_state_lock(id) : oci_state_open(id);
    if (dir == -EPERM || dir == -EINVAL)
        return -1; /* the root, reported */
    int r = dir < 0 ? dir : oci_state_read(dir, id, st);
    if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s does not exist", id);
    else if (r == -EMEDIUMTYPE)
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s is another runtime's, not alcove-oci's", id);
    else if (r)
        oci_err(E_READ_FROM_DISK, "container %s: its state: %s", id, strerror(-r));
    if (r) {
        oci_state_free(st);
        if (dir >= 0)
            close(dir);
        st->dir = -1;
        return -1;
    }
    return 0;
}

int oci_write_pid_file(const char *path, pid_t pid)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%d", (int)pid);
    return write_file_atomic(path, text, (size_t)n, 0644);
}
