/* bundle.c: reading an OCI bundle's config.json (see bundle.h). */
#include "oci/bundle.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "abi/alcove_abi.h"
#include "cli/allow_args.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "execproto/exec_proto.h"
#include "execproto/exec_rules.h"
#include "oci/log.h"

/* Mount destinations whatever their type or source: the enclave kernel has its own /proc,
 * /dev and /sys, and its /dev/shm and /dev/mqueue are its own memory. */
static const char *const g_kernel_dirs[] = {
    "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup",
};
/* Files podman (and Docker, containerd's CRI) bind from the host into every container: the
 * enclave keeps its image's own (its files are measured; the host's are not). */
static const char *const g_engine_files[] = {
    "/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/run/.containerenv", "/run/secrets",
};
/* tmpfs destinations the enclave has anyway (its /tmp; /run and /var/tmp are writable). */
static const char *const g_tmpfs_dirs[] = {"/tmp", "/run", "/var/tmp", "/run/lock"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}
#define IN(s, list) in_list(s, list, sizeof(list) / sizeof(list[0]))

enum oci_mount_verdict oci_mount_rule(const char *dest, const char *type, const char *source,
                                      char *why, size_t why_size)
{
    if (IN(dest, g_kernel_dirs)) {
        snprintf(why, why_size, "the enclave kernel has its own %s", dest);
        return OCI_MOUNT_IGNORE;
    }
    if (IN(dest, g_engine_files)) {
        snprintf(why, why_size, "the enclave keeps its image's %s (the host's is not measured)",
                 dest);
        return OCI_MOUNT_IGNORE;
    }
    if (type && strcmp(type, "tmpfs") == 0 && IN(dest, g_tmpfs_dirs)) {
        snprintf(why, why_size, "the enclave's own memory backs %s", dest);
        return OCI_MOUNT_IGNORE;
    }
    if (type && strcmp(type, "tmpfs") == 0)
        snprintf(why, why_size,
                 "a tmpfs at %s: the enclave has writable memory only at /tmp, /run and "
                 "/var/tmp",
                 dest);
    else
        snprintf(why, why_size,
                 "%s from %s (type %s): no host file reaches an enclave; put the files in the "
                 "image",
                 dest, source ? source : "?", type ? type : "bind");
    return OCI_MOUNT_REFUSE;
}

void oci_bundle_free(struct oci_bundle *b)
{
    free(b->dir);
    free(b->rootfs);
    for (int i = 0; i < b->argc; i++)
        free(b->args[i]);
    free(b->args);
    for (int i = 0; i < b->envc; i++)
        free(b->env[i]);
    free(b->env);
    cJSON_Delete(b->annotations);
    free(b->allow);
    for (size_t i = 0; i < b->nexec_entries; i++)
        free(b->exec_entries[i]);
    free(b->exec_entries);
    for (size_t i = 0; i < b->nexec_env; i++)
        free(b->exec_env[i]);
    free(b->exec_env);
    free(b->exec_rules);
    free(b->launch); /* its strings are args' */
    memset(b, 0, sizeof(*b));
}

int oci_json_strv(const cJSON *a, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!a || cJSON_IsNull(a)) /* null: none, as runc (Go) reads it */
        return 0;
    if (!cJSON_IsArray(a))
        return -1;
    int count = cJSON_GetArraySize(a);
    char **v = calloc((size_t)count + 1, sizeof(char *));
    if (!v)
        return -1;
    for (int i = 0; i < count; i++) {
        const cJSON *s = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsString(s) || !(v[i] = strdup(s->valuestring))) {
            for (int j = 0; j < i; j++)
                free(v[j]);
            free(v);
            return -1;
        }
    }
    *out = v;
    *n = count;
    return 0;
}

/* The number of distinct CPUs in a list like "0-3,8" (ids below 1024), or -1 when it is
 * malformed. */
static int count_cpus(const char *s)
{
    static const unsigned limit = 1024;
    unsigned char seen[1024] = {0};
    int n = 0;
    while (*s) {
        char *end;
        if (*s < '0' || *s > '9')
            return -1;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (*end == '-') {
            const char *t = end + 1;
            if (*t < '0' || *t > '9')
                return -1;
            b = strtoul(t, &end, 10);
        }
        if (b < a || b >= limit)
            return -1;
        for (unsigned long c = a; c <= b; c++)
            if (!seen[c]++)
                n++;
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        s = end;
    }
    return n;
}

static int load_resources(const cJSON *linux_, struct oci_bundle *b)
{
    const cJSON *res = cJSON_GetObjectItem(linux_, "resources");
    const cJSON *mem = cJSON_GetObjectItem(res, "memory");
    const cJSON *limit = cJSON_GetObjectItem(mem, "limit");
    if (cJSON_IsNumber(limit) && limit->valuedouble > 0) {
        double mib = (limit->valuedouble + (1 << 20) - 1) / (1 << 20);
        uint64_t max = ALC_MAX_MEM_BYTES >> 20;
        if (mib > (double)max) {
            oci_err(E_INVALID_ARGUMENT,
                    "linux.resources.memory.limit %.0f: an enclave has at most %llu MiB",
                    limit->valuedouble, (unsigned long long)max);
            return E_INVALID_ARGUMENT;
        }
        b->memory_mib = (uint64_t)mib;
    }
    const cJSON *cpu = cJSON_GetObjectItem(res, "cpu");
    const cJSON *quota = cJSON_GetObjectItem(cpu, "quota");
    const cJSON *period = cJSON_GetObjectItem(cpu, "period");
    const cJSON *cpus = cJSON_GetObjectItem(cpu, "cpus");
    double want = 0;
    if (cJSON_IsNumber(quota) && quota->valuedouble > 0 && cJSON_IsNumber(period) &&
        period->valuedouble > 0) {
        want = quota->valuedouble / period->valuedouble;
        want = want > (double)ALC_MAX_CPUS ? want : (double)(unsigned long)(want + 0.999999);
    } else if (cJSON_IsString(cpus) && *cpus->valuestring) {
        int n = count_cpus(cpus->valuestring);
        if (n < 0) {
            oci_err(E_INVALID_ARGUMENT, "linux.resources.cpu.cpus '%s' is not a CPU list",
                    cpus->valuestring);
            return E_INVALID_ARGUMENT;
        }
        want = n;
    }
    if (want > (double)ALC_MAX_CPUS) {
        oci_err(E_INVALID_ARGUMENT,
                "linux.resources.cpu asks for %.0f CPUs: an enclave has 1 to %d", want,
                ALC_MAX_CPUS);
        return E_INVALID_ARGUMENT;
    }
    b->cpus = (unsigned)want; /* compared first: the cast cannot wrap */
    return 0;
}

/* alcove.allow (HOST:PORT[,HOST:PORT]...) and alcove.allowlist (a file in vsock-proxy.yaml's
 * format, relative to the bundle): the enclave's outbound allowlist, read by the code that reads
 * alcove run's --allow and --allowlist (cli/allow_args.c); both add to one list. */
static int load_allow(struct oci_bundle *b, const char *name, const char *v)
{
    bool file = strcmp(name, "alcove.allowlist") == 0;
    if (!v || !*v) {
        oci_err(E_INVALID_ARGUMENT, "annotation %s: expected %s", name,
                file ? "the path of a vsock-proxy.yaml file" : "HOST:PORT[,HOST:PORT]...");
        return E_INVALID_ARGUMENT;
    }
    if (!b->allow && !(b->allow = calloc(OUTBOUND_MAX, sizeof(*b->allow)))) {
        oci_err(E_UNSPECIFIED, "annotation %s: out of memory", name);
        return E_UNSPECIFIED;
    }
    char why[320];
    int r;
    if (file) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s%s%s", v[0] == '/' ? "" : b->dir, v[0] == '/' ? "" : "/",
                 v);
        r = allowlist_rules(b->allow, &b->nallow, path, why, sizeof(why));
        if (r)
            oci_err(E_INVALID_ARGUMENT, "annotation %s=%s: %s: %s", name, v, path, why);
    } else {
        r = allow_rules(b->allow, &b->nallow, v, why, sizeof(why));
        if (r)
            oci_err(E_INVALID_ARGUMENT, "annotation %s=%s: %s", name, v, why);
    }
    return r ? E_INVALID_ARGUMENT : 0;
}

/* The outbound allowlist in the debug log, as describe-enclaves will show it. */
static void log_allow(const struct oci_bundle *b)
{
    char text[1024];
    size_t n = 0;
    text[0] = '\0';
    for (unsigned i = 0; i < b->nallow && n < sizeof(text); i++) {
        const struct out_rule *r = &b->allow[i];
        bool v6 = strchr(r->host, ':') != NULL;
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s%s%s:%u", i ? ", " : "",
                              v6 ? "[" : "", r->host, v6 ? "]" : "", r->port);
    }
    oci_debug("outbound allowlist: %u destination%s: %s%s", b->nallow, b->nallow == 1 ? "" : "s",
              text, n >= sizeof(text) ? "..." : "");
}

/* A comma-separated annotation value as a vector of its items (blanks around each dropped;
 * an empty item, or none, refused); each must pass ok. 0 or an error code (reported). */
static int split_list(const char *name, const char *v, bool (*ok)(const char *, size_t),
                      const char *what, char ***out, size_t *n)
{
    if (!v || !*v) {
        oci_err(E_INVALID_ARGUMENT, "annotation %s: expected %s", name, what);
        return E_INVALID_ARGUMENT;
    }
    for (const char *p = v;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, ",");
        size_t end = len;
        while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        char *item = strndup(p, end);
        char **grown = item ? realloc(*out, (*n + 1) * sizeof(char *)) : NULL;
        if (!grown) {
            free(item);
            oci_err(E_UNSPECIFIED, "annotation %s: out of memory", name);
            return E_UNSPECIFIED;
        }
        *out = grown;
        (*out)[(*n)++] = item;
        if (!end || !ok(item, end) || *n > EXEC_RULES_MAX) {
            oci_err(E_INVALID_ARGUMENT, "annotation %s=%s: '%s': expected %s", name, v, item,
                    *n > EXEC_RULES_MAX ? "at most 1024 items" : what);
            return E_INVALID_ARGUMENT;
        }
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

static bool entry_ok(const char *s, size_t n)
{
    (void)n;
    return exec_path_ok(s);
}

static bool name_ok(const char *s, size_t n)
{
    return exec_env_name_ok(s, n) != 0;
}

/* alcove.exec: the service's rules and command line (docs/oci.md "Exec"): process.env becomes
 * the rules' defaults (every exec'd program's environment, as the container's), so each entry
 * must be a NAME=VALUE line. */
static int setup_exec(struct oci_bundle *b)
{
    if (b->envc > EXEC_RULES_MAX) {
        oci_err(E_INVALID_ARGUMENT,
                "process.env has %d entries; with alcove.exec at most %d (the exec service's "
                "rules hold that many defaults)",
                b->envc, EXEC_RULES_MAX);
        return E_INVALID_ARGUMENT;
    }
    for (int i = 0; i < b->envc; i++) {
        size_t n = strcspn(b->env[i], "=");
        if (!b->env[i][n] || !exec_env_name_ok(b->env[i], n) || strchr(b->env[i], '\n')) {
            oci_err(E_INVALID_ARGUMENT,
                    "process.env '%.200s': with alcove.exec each entry must be NAME=VALUE on one "
                    "line (the exec service's rules give it to every exec'd program)",
                    b->env[i]);
            return E_INVALID_ARGUMENT;
        }
    }
    b->exec_rules = exec_rules_text((const char *const *)b->exec_entries, b->nexec_entries,
                                    (const char *const *)b->exec_env, b->nexec_env,
                                    (const char *const *)b->env, (size_t)b->envc);
    if (!b->exec_rules) {
        oci_err(E_UNSPECIFIED, "out of memory");
        return E_UNSPECIFIED;
    }
    size_t size = strlen(b->exec_rules);
    if (size >= EXEC_RULES_TEXT_MAX) {
        oci_err(E_INVALID_ARGUMENT,
                "alcove.exec, alcove.exec-env and process.env make %zu bytes of exec rules; the "
                "exec service reads less than %u",
                size, EXEC_RULES_TEXT_MAX);
        return E_INVALID_ARGUMENT;
    }
    b->launch = calloc((size_t)b->argc + 3, sizeof(char *));
    if (!b->launch) {
        oci_err(E_UNSPECIFIED, "out of memory");
        return E_UNSPECIFIED;
    }
    b->launch[0] = (char *)OCI_EXECD_PATH;
    b->launch[1] = (char *)"--main";
    for (int i = 0; i < b->argc; i++)
        b->launch[i + 2] = b->args[i];
    b->nlaunch = b->argc + 2;
    return 0;
}

static int load_annotations(const cJSON *cfg, struct oci_bundle *b)
{
    const cJSON *ann = cJSON_GetObjectItem(cfg, "annotations");
    if (ann && !cJSON_IsObject(ann)) {
        oci_err(E_INVALID_ARGUMENT, "annotations must be an object of strings");
        return E_INVALID_ARGUMENT;
    }
    b->annotations = ann ? cJSON_Duplicate(ann, 1) : cJSON_CreateObject();
    const cJSON *a;
    cJSON_ArrayForEach(a, ann)
    {
        if (strncmp(a->string, "alcove.", 7) != 0)
            continue;
        const char *v = cJSON_IsString(a) ? a->valuestring : NULL;
        if (strcmp(a->string, "alcove.debug-mode") == 0 && v &&
            (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)) {
            b->debug_mode = strcmp(v, "true") == 0;
        } else if (strcmp(a->string, "alcove.enclave-cid") == 0 && v) {
            char *end;
            errno = 0;
            unsigned long cid = strtoul(v, &end, 10);
            if (*v < '0' || *v > '9' || *end || errno || cid < 4 || cid > UINT32_MAX - 1) {
                oci_err(E_INVALID_ARGUMENT,
                        "annotation alcove.enclave-cid=%s: expected a CID from 4 to %u", v,
                        UINT32_MAX - 1);
                return E_INVALID_ARGUMENT;
            }
            b->cid = (uint32_t)cid;
        } else if (strcmp(a->string, "alcove.allow") == 0 ||
                   strcmp(a->string, "alcove.allowlist") == 0) {
            int err = load_allow(b, a->string, v);
            if (err)
                return err;
        } else if (strcmp(a->string, "alcove.exec") == 0) {
            b->exec = 1;
            int err = split_list(a->string, v, entry_ok,
                                 "absolute paths of entry points (/bin/sh, or a directory: /bin)",
                                 &b->exec_entries, &b->nexec_entries);
            if (err)
                return err;
        } else if (strcmp(a->string, "alcove.exec-env") == 0) {
            int err = split_list(a->string, v, name_ok, "variable names (A-Z a-z 0-9 _)",
                                 &b->exec_env, &b->nexec_env);
            if (err)
                return err;
        } else if (strcmp(a->string, "alcove.debug-mode") == 0) {
            oci_err(E_INVALID_ARGUMENT, "annotation alcove.debug-mode=%s: expected true or false",
                    v ? v : "(not a string)");
            return E_INVALID_ARGUMENT;
        } else {
            oci_err(E_INVALID_ARGUMENT,
                    "annotation %s: unknown to this alcove-oci (known: alcove.allow, "
                    "alcove.allowlist, alcove.debug-mode, alcove.enclave-cid, alcove.exec, "
                    "alcove.exec-env)",
                    a->string);
            return E_INVALID_ARGUMENT;
        }
    }
    if (b->nallow)
        log_allow(b);
    if (b->nexec_env && !b->exec) {
        oci_err(E_INVALID_ARGUMENT,
                "annotation alcove.exec-env: names for exec, but alcove.exec (the entry points "
                "exec may run) is not given");
        return E_INVALID_ARGUMENT;
    }
    if (b->exec)
        return setup_exec(b);
    b->launch = calloc((size_t)b->argc + 1, sizeof(char *));
    if (!b->launch) {
        oci_err(E_UNSPECIFIED, "out of memory");
        return E_UNSPECIFIED;
    }
    memcpy(b->launch, b->args, (size_t)b->argc * sizeof(char *));
    b->nlaunch = b->argc;
    return 0;
}

static int load_mounts(const cJSON *cfg)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(cfg, "mounts"))
    {
        const cJSON *d = cJSON_GetObjectItem(m, "destination");
        const cJSON *t = cJSON_GetObjectItem(m, "type");
        const cJSON *s = cJSON_GetObjectItem(m, "source");
        if (!cJSON_IsString(d)) {
            oci_err(E_INVALID_ARGUMENT, "config.json: a mount without a destination");
            return E_INVALID_ARGUMENT;
        }
        char why[600];
        enum oci_mount_verdict v =
            oci_mount_rule(d->valuestring, cJSON_IsString(t) ? t->valuestring : NULL,
                           cJSON_IsString(s) ? s->valuestring : NULL, why, sizeof(why));
        if (v == OCI_MOUNT_REFUSE) {
            oci_err(E_INVALID_ARGUMENT, "mount refused: %s", why);
            return E_INVALID_ARGUMENT;
        }
        oci_info("mount %s ignored: %s", d->valuestring, why);
    }
    return 0;
}

void oci_console_size(const cJSON *process, unsigned *rows, unsigned *cols)
{
    const cJSON *size = cJSON_GetObjectItem(process, "consoleSize");
    const cJSON *h = cJSON_GetObjectItem(size, "height"), *w = cJSON_GetObjectItem(size, "width");
    if (cJSON_IsNumber(h) && cJSON_IsNumber(w) && h->valuedouble > 0 && w->valuedouble > 0 &&
        h->valuedouble < 65536 && w->valuedouble < 65536) {
        *rows = (unsigned)h->valuedouble;
        *cols = (unsigned)w->valuedouble;
    }
}

static int load_process(const cJSON *cfg, struct oci_bundle *b)
{
    const cJSON *p = cJSON_GetObjectItem(cfg, "process");
    if (!cJSON_IsObject(p)) {
        oci_err(E_INVALID_ARGUMENT, "config.json has no process");
        return E_INVALID_ARGUMENT;
    }
    if (oci_json_strv(cJSON_GetObjectItem(p, "args"), &b->args, &b->argc) || b->argc == 0) {
        oci_err(E_INVALID_ARGUMENT, "process.args: expected a non-empty array of strings");
        return E_INVALID_ARGUMENT;
    }
    if (oci_json_strv(cJSON_GetObjectItem(p, "env"), &b->env, &b->envc)) {
        oci_err(E_INVALID_ARGUMENT, "process.env: expected an array of strings");
        return E_INVALID_ARGUMENT;
    }
    b->terminal = cJSON_IsTrue(cJSON_GetObjectItem(p, "terminal"));
    oci_console_size(p, &b->rows, &b->cols);
    const cJSON *cwd = cJSON_GetObjectItem(p, "cwd");
    if (cJSON_IsString(cwd) && strcmp(cwd->valuestring, "/") != 0) {
        oci_err(E_INVALID_ARGUMENT,
                "process.cwd %s: an enclave's program starts in / (another working directory "
                "is not supported yet)",
                cwd->valuestring);
        return E_INVALID_ARGUMENT;
    }
    const cJSON *user = cJSON_GetObjectItem(p, "user");
    const cJSON *uid = cJSON_GetObjectItem(user, "uid");
    const cJSON *gid = cJSON_GetObjectItem(user, "gid");
    if ((cJSON_IsNumber(uid) && uid->valuedouble != 0) ||
        (cJSON_IsNumber(gid) && gid->valuedouble != 0))
        oci_info("process.user %.0f:%.0f ignored: the program runs as root of its own enclave",
                 cJSON_IsNumber(uid) ? uid->valuedouble : 0,
                 cJSON_IsNumber(gid) ? gid->valuedouble : 0);
    return 0;
}

int oci_bundle_load(const char *dir, struct oci_bundle *b)
{
    memset(b, 0, sizeof(*b));
    char path[PATH_MAX];
    b->dir = realpath(dir, NULL);
    if (!b->dir) {
        oci_err(E_FILE_OPERATION, "bundle %s: %s", dir, strerror(errno));
        return E_FILE_OPERATION;
    }
    snprintf(path, sizeof(path), "%s/config.json", b->dir);
    struct stat cs;
    if (stat(path, &cs) == 0 && S_ISREG(cs.st_mode) && cs.st_size > (16 << 20)) {
        oci_err(E_READ_FROM_DISK, "%s: %lld bytes, more than a bundle's 16 MiB limit", path,
                (long long)cs.st_size);
        return E_READ_FROM_DISK;
    }
    size_t size = 0;
    char *text = (char *)read_file(path, &size);
    if (!text) {
        oci_err(E_READ_FROM_DISK, "%s: %s", path, strerror(errno));
        return E_READ_FROM_DISK;
    }
    cJSON *cfg = cJSON_ParseWithLength(text, size);
    free(text);
    if (!cJSON_IsObject(cfg)) {
        cJSON_Delete(cfg);
        oci_err(E_SERDE, "%s: not a JSON object", path);
        return E_SERDE;
    }
    int err = 0;
    const cJSON *ver = cJSON_GetObjectItem(cfg, "ociVersion");
    if (!cJSON_IsString(ver) || strncmp(ver->valuestring, "1.", 2) != 0) {
        oci_err(E_INVALID_ARGUMENT, "%s: ociVersion %s: alcove-oci reads runtime-spec 1.x", path,
                cJSON_IsString(ver) ? ver->valuestring : "(missing)");
        err = E_INVALID_ARGUMENT;
    }
    const cJSON *root = cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "root"), "path");
    if (!err && !cJSON_IsString(root)) {
        oci_err(E_INVALID_ARGUMENT, "%s: no root.path", path);
        err = E_INVALID_ARGUMENT;
    }
    if (!err) {
        const char *r = root->valuestring;
        char full[PATH_MAX];
        if (r[0] == '/')
            snprintf(full, sizeof(full), "%s", r);
        else
            snprintf(full, sizeof(full), "%s/%s", b->dir, r);
        struct stat st;
        int sr = stat(full, &st);
        if (sr || !S_ISDIR(st.st_mode)) {
            oci_err(E_FILE_OPERATION, "root.path %s: %s", full,
                    sr ? strerror(errno) : "not a directory");
            err = E_FILE_OPERATION;
        } else if (!(b->rootfs = strdup(full))) {
            err = E_UNSPECIFIED;
        }
    }
    if (!err)
        err = load_process(cfg, b);
    if (!err)
        err = load_annotations(cfg, b);
    if (!err)
        err = load_mounts(cfg);
    if (!err)
        err = load_resources(cJSON_GetObjectItem(cfg, "linux"), b);
    if (!err && cJSON_GetObjectItem(cfg, "hooks"))
        oci_info("hooks ignored: nothing runs on the host for an enclave");
    cJSON_Delete(cfg);
    if (err)
        oci_bundle_free(b);
    return err;
}
