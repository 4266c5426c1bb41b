/* state.c: the reservation record and the allocator's lock (see state.h). The record is JSON
 * (cJSON) so that an operator can read it; it is written to a temporary file and renamed, so a
 * reader sees the old record or the new one, never half of one. */
#include "allocator/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/runtime.h"
#include "common/why.h"

#define STATE_NAME "allocator.json"
#define STATE_MAX  (1 << 20)

int state_path(char *buf, size_t size, const char *name, char *why, size_t whylen)
{
    const char *dir = runtime_dir();
    if (!dir) {
        why_set(why, whylen, "the runtime directory: %s", runtime_dir_problem());
        return -1;
    }
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size) {
        why_set(why, whylen, "the runtime directory's path is too long");
        return -1;
    }
    return 0;
}

static cJSON *cpus_json(const struct cpuset *s)
{
    cJSON *a = cJSON_CreateArray();
    for (int c = cpuset_next(s, 0); a && c >= 0; c = cpuset_next(s, c + 1))
        cJSON_AddItemToArray(a, cJSON_CreateNumber(c));
    return a;
}

/* Reads an array of CPU numbers. 0 or -1. */
static int cpus_from(const cJSON *a, struct cpuset *s)
{
    cpuset_clear(s);
    if (!cJSON_IsArray(a))
        return -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= CPUS_MAX ||
            e->valuedouble != (double)(unsigned)e->valuedouble)
            return -1;
        cpuset_add(s, (unsigned)e->valuedouble);
    }
    return 0;
}

static int u64_from(const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0)
        return -1;
    *out = (uint64_t)v->valuedouble;
    return 0;
}

static int str_from(const cJSON *o, const char *key, char *buf, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
        return -1;
    strcpy(buf, v->valuestring);
    return 0;
}

static cJSON *to_json(const struct pool_state *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "Version", 1);
    cJSON_AddNumberToObject(o, "MemoryMiB", (double)st->memory_mib);
    if (st->pages.node >= 0)
        cJSON_AddNumberToObject(o, "NUMANode", st->pages.node);
    else
        cJSON_AddNullToObject(o, "NUMANode");
    cJSON_AddItemToObject(o, "CPUs", cpus_json(&st->cpus));
    cJSON *cores = cJSON_AddArrayToObject(o, "Cores");
    for (int c = cpuset_next(&st->cpus, 0); c >= 0; c = cpuset_next(&st->cpus, c + 1)) {
        if (st->core_first[c] != c)
            continue;
        struct cpuset core;
        cpuset_clear(&core);
        for (int d = c; d >= 0; d = cpuset_next(&st->cpus, d + 1))
            if (st->core_first[d] == c)
                cpuset_add(&core, (unsigned)d);
        cJSON_AddItemToArray(cores, cpus_json(&core));
    }
    cJSON_AddNumberToObject(o, "ThreadsPerCore", st->threads_per_core);
    cJSON *pages = cJSON_AddArrayToObject(o, "HugePages");
    for (unsigned i = 0; i < st->pages.nsizes; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "SizeKiB", (double)st->pages.sizes[i].kib);
        cJSON_AddNumberToObject(p, "Count", (double)st->pages.sizes[i].count);
        cJSON_AddNumberToObject(p, "Previous", (double)st->pages.sizes[i].previous);
        cJSON_AddItemToArray(pages, p);
    }
    cJSON_AddStringToObject(o, "SysfsRoot", st->sysfs_root);
    cJSON_AddStringToObject(o, "Config", st->config);
    cJSON_AddNumberToObject(o, "Applied", (double)st->applied);
    return o;
}

static int from_json(const cJSON *o, struct pool_state *st)
{
    memset(st, 0, sizeof(*st));
    uint64_t v;
    if (u64_from(o, "MemoryMiB", &st->memory_mib) || u64_from(o, "ThreadsPerCore", &v) || !v)
        return -1;
    st->threads_per_core = (unsigned)v;
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(o, "NUMANode");
    if (cJSON_IsNull(node))
        st->pages.node = -1;
    else if (u64_from(o, "NUMANode", &v) == 0 && v < 65536)
        st->pages.node = (int)v;
    else
        return -1;
    if (cpus_from(cJSON_GetObjectItemCaseSensitive(o, "CPUs"), &st->cpus))
        return -1;
    struct cpuset seen;
    cpuset_clear(&seen);
    const cJSON *cores = cJSON_GetObjectItemCaseSensitive(o, "Cores"), *core;
    if (!cJSON_IsArray(cores))
        return -1;
    cJSON_ArrayForEach(core, cores)
    {
        struct cpuset cs;
        if (cpus_from(core, &cs) || cpuset_empty(&cs) || cpuset_intersects(&cs, &seen) ||
            !cpuset_subset(&cs, &st->cpus))
            return -1;
        int first = cpuset_next(&cs, 0);
        for (int c = first; c >= 0; c = cpuset_next(&cs, c + 1))
            st->core_first[c] = (uint16_t)first;
        cpuset_or(&seen, &cs);
    }
    if (!cpuset_equal(&seen, &st->cpus))
        return -1;
    const cJSON *pages = cJSON_GetObjectItemCaseSensitive(o, "HugePages"), *p;
    if (!cJSON_IsArray(pages))
        return -1;
    cJSON_ArrayForEach(p, pages)
    {
        if (st->pages.nsizes == HP_MAX_SIZES)
            return -1;
        struct hp_size *s = &st->pages.sizes[st->pages.nsizes++];
        if (u64_from(p, "SizeKiB", &s->kib) || u64_from(p, "Count", &s->count) ||
            u64_from(p, "Previous", &s->previous) || s->kib < 4 || (s->kib & (s->kib - 1)))
            return -1;
    }
    if (str_from(o, "SysfsRoot", st->sysfs_root, sizeof(st->sysfs_root)) ||
        str_from(o, "Config", st->config, sizeof(st->config)) || u64_from(o, "Applied", &v))
        return -1;
    st->applied = (int64_t)v;
    return 0;
}

int state_load(struct pool_state *st, char *why, size_t whylen)
{
    char path[PATH_MAX];
    if (state_path(path, sizeof(path), STATE_NAME, why, whylen))
        return -1;
    /* O_NONBLOCK: a FIFO a member put there must not stop every launch in open() */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        why_set(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    /* in a shared runtime directory only root's record is the pool: a member may make files
     * there, and one it makes is no reservation (not an error either, which would fail every
     * launch: root's apply renames its own record over it) */
    struct stat fst;
    if (fstat(fd, &fst) == 0 && runtime_dir_shared(NULL) &&
        (!S_ISREG(fst.st_mode) || fst.st_uid != 0)) {
        close(fd);
        return 0;
    }
    if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
        close(fd);
        why_set(why, whylen, "%s is not a plain file (remove it)", path);
        return -1;
    }
    char *buf = malloc(STATE_MAX + 1);
    ssize_t n = buf ? read(fd, buf, STATE_MAX) : -1;
    close(fd);
    if (n < 0) {
        free(buf);
        why_set(why, whylen, "cannot read %s", path);
        return -1;
    }
    buf[n] = 0;
    cJSON *o = cJSON_Parse(buf);
    free(buf);
    int rc = o ? from_json(o, st) : -1;
    cJSON_Delete(o);
    if (rc) {
        why_set(why, whylen, "%s is malformed (remove it, and give back its hugepages by hand)",
                path);
        return -1;
    }
    return 1;
}

int state_save(const struct pool_state *st, char *why, size_t whylen)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    if (state_path(path, sizeof(path), STATE_NAME, why, whylen))
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    cJSON *o = to_json(st);
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        why_set(why, whylen, "out of memory");
        return -1;
    }
    /* a fresh file of our own: one a member left at that name is removed, never written into */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    size_t len = strlen(text);
    /* 0644 whatever the umask: a shared directory's members read it */
    int ok = fd >= 0 && fchmod(fd, 0644) == 0 && write(fd, text, len) == (ssize_t)len &&
             write(fd, "\n", 1) == 1;
    int err = errno;
    free(text);
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            err = errno;
        unlink(tmp);
        why_set(why, whylen, "cannot write %s: %s", path, strerror(err));
        return -1;
    }
    return 0;
}

int state_remove(char *why, size_t whylen)
{
    char path[PATH_MAX];
    if (state_path(path, sizeof(path), STATE_NAME, why, whylen))
        return -1;
    if (unlink(path) != 0 && errno != ENOENT) {
        why_set(why, whylen, "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
