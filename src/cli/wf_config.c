/* wf_config.c: alcove.json: parse, check, canonical form, template (wf_config.h). */
#include "cli/wf_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "abi/alcove_abi.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "execproto/exec_proto.h"
#include "execproto/exec_rules.h"

#define MAX_THREADS 4096
#define MAX_LIST    1024

struct ctx {
    const char *origin;
    bool warn;
};

static int bad(const struct ctx *x, const char *key, const char *what)
{
    alc_err_report(E_WORKFLOW_CONFIG, "%s: '%s': %s", x->origin, key, what);
    return E_WORKFLOW_CONFIG;
}

static void warn_key(const struct ctx *x, const char *key, const char *what)
{
    if (x->warn)
        fprintf(stderr, "alcove: warning: %s: '%s': %s\n", x->origin, key, what);
}

/* Occlum.json keys that describe SGX or Occlum's own LibOS and mean nothing in alcove. */
static const char *const g_no_meaning[] = {
    "resource_limits.kernel_space_heap_size",
    "resource_limits.kernel_space_heap_max_size",
    "resource_limits.kernel_space_stack_size",
    "metadata.product_id",
    "metadata.version_number",
    "metadata.enable_kss",
    "metadata.family_id",
    "metadata.ext_prod_id",
    "metadata.pkru",
    "feature",
};

/* Warns about every member of obj (named prefix) that is not in known. */
static void check_keys(const struct ctx *x, const cJSON *obj, const char *prefix,
                       const char *const *known)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, it->string) == 0;
        if (ok)
            continue;
        char full[160];
        snprintf(full, sizeof(full), "%s%s%s", prefix, prefix[0] ? "." : "", it->string);
        bool occlum = false;
        for (size_t i = 0; i < sizeof(g_no_meaning) / sizeof(g_no_meaning[0]); i++)
            occlum |= strcmp(g_no_meaning[i], full) == 0;
        warn_key(x, full,
                 occlum ? "Occlum's, with no meaning in alcove: ignored" : "unknown key: ignored");
    }
}

/* "256MB", "4M", "1GB", "512KB", "100B" or a number of bytes. 0 on error. */
static uint64_t parse_size(const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return v->valuedouble >= 1 && v->valuedouble <= (double)(1ull << 52)
                   ? (uint64_t)v->valuedouble
                   : 0;
    if (!cJSON_IsString(v) || !isdigit((unsigned char)v->valuestring[0]))
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v->valuestring, &end, 10);
    if (errno || n == 0)
        return 0;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (shift && *end == 'i')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || n > (1ull << 52) >> shift)
        return 0;
    return (uint64_t)n << shift;
}

static int get_size(const struct ctx *x, const cJSON *obj, const char *key, const char *full,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    uint64_t n = parse_size(v);
    if (n == 0 || n < min || n > max) {
        char what[160];
        snprintf(what, sizeof(what),
                 "expected a size from %llu KB to %llu MB, as \"256MB\", \"64KB\" or bytes",
                 (unsigned long long)(min >> 10), (unsigned long long)(max >> 20));
        return bad(x, full, what);
    }
    *out = n;
    return 0;
}

bool wf_path_ok(const char *s)
{
    return exec_path_ok(s); /* what the exec service takes (exec_rules.h) */
}

/* A variable's name as the exec service checks it (exec_proto.h): letters, digits and '_', not
 * starting with a digit. */
static bool name_ok(const char *s, size_t n)
{
    return exec_env_name_ok(s, n) != 0;
}

enum list_kind { LIST_PATH, LIST_KV, LIST_NAME };

static int get_list(const struct ctx *x, const cJSON *obj, const char *key, const char *full,
                    enum list_kind kind, char ***out, size_t *nout)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    static const char *const what[] = {
        "expected an array of absolute paths (no '.' or '..' components)",
        "expected an array of \"NAME=value\" strings (NAME: letters, digits, '_')",
        "expected an array of variable names (letters, digits, '_')",
    };
    int n = cJSON_GetArraySize(v);
    if (!cJSON_IsArray(v) || n > MAX_LIST)
        return bad(x, full, what[kind]);
    char **list = calloc((size_t)n + 1, sizeof(char *));
    if (!list)
        return bad(x, full, "out of memory");
    *out = list;
    for (const cJSON *it = v->child; it; it = it->next) {
        const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
        bool ok = s != NULL && !strchr(s, '\n');
        if (ok && kind == LIST_PATH)
            ok = wf_path_ok(s);
        else if (ok && kind == LIST_KV)
            ok = strchr(s, '=') && name_ok(s, (size_t)(strchr(s, '=') - s));
        else if (ok)
            ok = name_ok(s, strlen(s));
        if (!ok || !(list[*nout] = strdup(s)))
            return bad(x, full, what[kind]);
        (*nout)++;
    }
    return 0;
}

static int get_string(const struct ctx *x, const cJSON *obj, const char *key, const char *full,
                      char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > 256)
        return bad(x, full, "expected a string of 1 to 256 characters");
    free(*out);
    *out = strdup(v->valuestring);
    return *out ? 0 : bad(x, full, "out of memory");
}

static const cJSON *get_object(const struct ctx *x, const cJSON *root, const char *key, int *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (v && !cJSON_IsObject(v)) {
        *err = bad(x, key, "expected an object");
        return NULL;
    }
    return v;
}

/* mount: Occlum's list of {target, type, source, options}. ramfs becomes a tmpfs; the image's
 * own root (unionfs, sefs at "/") and procfs/devfs at /proc and /dev are what the enclave has
 * anyway; hostfs and anything else cannot be given. */
static int get_mounts(const struct ctx *x, const cJSON *root, struct wf_config *c)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "mount");
    if (!m)
        return 0;
    int n = cJSON_GetArraySize(m);
    if (!cJSON_IsArray(m) || n > MAX_LIST)
        return bad(x, "mount", "expected an array of {\"target\": PATH, \"type\": TYPE}");
    c->tmpfs = calloc((size_t)n + 1, sizeof(char *));
    if (!c->tmpfs)
        return bad(x, "mount", "out of memory");
    int i = 0;
    for (const cJSON *it = m->child; it; it = it->next, i++) {
        char key[64];
        snprintf(key, sizeof(key), "mount[%d]", i);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "target");
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(it, "type");
        if (!cJSON_IsObject(it) || !cJSON_IsString(t) || !wf_path_ok(t->valuestring) ||
            !cJSON_IsString(ty))
            return bad(x, key, "expected {\"target\": an absolute path, \"type\": a string}");
        const char *type = ty->valuestring, *target = t->valuestring;
        if (strcmp(type, "ramfs") == 0) {
            if (strcmp(target, "/") == 0)
                return bad(x, key, "a ramfs at '/' would hide the image");
            if (strcmp(target, "/tmp") == 0 || strcmp(target, "/dev/shm") == 0)
                continue; /* every enclave has a tmpfs there */
            if (!(c->tmpfs[c->ntmpfs++] = strdup(target)))
                return bad(x, key, "out of memory");
        } else if ((strcmp(type, "unionfs") == 0 || strcmp(type, "sefs") == 0) &&
                   strcmp(target, "/") == 0) {
            /* the image is the enclave's read-only root */
        } else if ((strcmp(type, "procfs") == 0 && strcmp(target, "/proc") == 0) ||
                   (strcmp(type, "devfs") == 0 && strcmp(target, "/dev") == 0)) {
            /* always there */
        } else if (strcmp(type, "hostfs") == 0) {
            return bad(x, key, "hostfs: an enclave sees no host file (by design)");
        } else {
            return bad(x, key,
                       "type: expected ramfs (a tmpfs), unionfs or sefs at '/', procfs at /proc "
                       "or devfs at /dev");
        }
    }
    return 0;
}

static int parse_tree(const struct ctx *x, const cJSON *root, struct wf_config *c)
{
    static const char *const top[] = {
        "resource_limits", "process", "entry_points", "env", "metadata", "mount", NULL};
    static const char *const rl_keys[] = {"user_space_size", "max_num_of_threads", NULL};
    static const char *const proc_keys[] = {"default_stack_size", "default_heap_size",
                                            "default_mmap_size", NULL};
    static const char *const env_keys[] = {"default", "untrusted", NULL};
    static const char *const meta_keys[] = {"name", "version", "debuggable", NULL};
    int err = 0;
    check_keys(x, root, "", top);
    const cJSON *rl = get_object(x, root, "resource_limits", &err);
    const cJSON *proc = err ? NULL : get_object(x, root, "process", &err);
    const cJSON *env = err ? NULL : get_object(x, root, "env", &err);
    const cJSON *meta = err ? NULL : get_object(x, root, "metadata", &err);
    if (err)
        return err;
    if (rl) {
        check_keys(x, rl, "resource_limits", rl_keys);
        if ((err = get_size(x, rl, "user_space_size", "resource_limits.user_space_size", 1u << 20,
                            ALC_MAX_MEM_BYTES / 2, &c->user_space_size)))
            return err;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rl, "max_num_of_threads");
        if (t && (!cJSON_IsNumber(t) || t->valuedouble < 1 || t->valuedouble > MAX_THREADS ||
                  t->valuedouble != (double)(int)t->valuedouble))
            return bad(x, "resource_limits.max_num_of_threads", "expected an integer, 1 to 4096");
        if (t)
            c->max_threads = (uint64_t)t->valuedouble;
    }
    if (proc) {
        check_keys(x, proc, "process", proc_keys);
        static const char *const full[] = {
            "process.default_stack_size", "process.default_heap_size", "process.default_mmap_size"};
        uint64_t *dst[] = {&c->stack_size, &c->heap_size, &c->mmap_size};
        for (int i = 0; i < 3; i++)
            if ((err =
                     get_size(x, proc, proc_keys[i], full[i], 4096, ALC_MAX_MEM_BYTES / 2, dst[i])))
                return err;
    }
    if ((err = get_list(x, root, "entry_points", "entry_points", LIST_PATH, &c->entry_points,
                        &c->nentry)))
        return err;
    if (c->nentry == 0)
        return bad(x, "entry_points", "give at least one path (a program, or a directory of them)");
    if (env) {
        check_keys(x, env, "env", env_keys);
        if ((err = get_list(x, env, "default", "env.default", LIST_KV, &c->env_default,
                            &c->nenv_default)) ||
            (err = get_list(x, env, "untrusted", "env.untrusted", LIST_NAME, &c->env_untrusted,
                            &c->nuntrusted)))
            return err;
    }
    if (meta) {
        check_keys(x, meta, "metadata", meta_keys);
        if ((err = get_string(x, meta, "name", "metadata.name", &c->name)) ||
            (err = get_string(x, meta, "version", "metadata.version", &c->version)))
            return err;
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(meta, "debuggable");
        if (d && !cJSON_IsBool(d))
            return bad(x, "metadata.debuggable", "expected true or false");
        c->debuggable = d && cJSON_IsTrue(d);
    }
    return get_mounts(x, root, c);
}

int wf_config_parse(const char *text, size_t len, const char *origin, bool warn,
                    struct wf_config *c)
{
    memset(c, 0, sizeof(*c));
    c->user_space_size = 256u << 20;
    struct ctx x = {.origin = origin, .warn = warn};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    bool trailing = false;
    for (const char *p = end; root && p && p < text + len && !trailing; p++)
        trailing = !isspace((unsigned char)*p) && *p != 0;
    if (!root || !cJSON_IsObject(root) || trailing) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        alc_err_report(E_WORKFLOW_CONFIG, "%s: not a JSON object (near byte %zu)", origin, at);
        cJSON_Delete(root);
        return E_WORKFLOW_CONFIG;
    }
    int err = parse_tree(&x, root, c);
    cJSON_Delete(root);
    if (err)
        wf_config_free(c);
    return err;
}

int wf_config_load(const char *dir, struct wf_config *c)
{
    memset(c, 0, sizeof(*c));
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, WF_CONFIG_FILE);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > WF_CONFIG_MAX) {
        alc_err_report(E_WORKFLOW_CONFIG, "%s: larger than 1 MiB", path);
        return E_WORKFLOW_CONFIG;
    }
    size_t len;
    uint8_t *text = read_file(path, &len);
    if (!text) {
        alc_err_report(E_WORKFLOW_CONFIG, "%s: %s (is %s a directory made by 'alcove init'?)", path,
                       fileio_strerror(errno), dir);
        return E_WORKFLOW_CONFIG;
    }
    int err = wf_config_parse((const char *)text, len, path, true, c);
    free(text);
    return err;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void wf_config_free(struct wf_config *c)
{
    free_list(c->entry_points, c->nentry);
    free_list(c->env_default, c->nenv_default);
    free_list(c->env_untrusted, c->nuntrusted);
    free_list(c->tmpfs, c->ntmpfs);
    free(c->name);
    free(c->version);
    memset(c, 0, sizeof(*c));
}

static cJSON *string_array(char **v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

char *wf_config_canonical(const struct wf_config *c)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *rl = cJSON_AddObjectToObject(root, "resource_limits");
    cJSON_AddNumberToObject(rl, "user_space_size", (double)c->user_space_size);
    if (c->max_threads)
        cJSON_AddNumberToObject(rl, "max_num_of_threads", (double)c->max_threads);
    cJSON *p = cJSON_AddObjectToObject(root, "process");
    if (c->stack_size)
        cJSON_AddNumberToObject(p, "default_stack_size", (double)c->stack_size);
    if (c->heap_size)
        cJSON_AddNumberToObject(p, "default_heap_size", (double)c->heap_size);
    if (c->mmap_size)
        cJSON_AddNumberToObject(p, "default_mmap_size", (double)c->mmap_size);
    cJSON_AddItemToObject(root, "entry_points", string_array(c->entry_points, c->nentry));
    cJSON *env = cJSON_AddObjectToObject(root, "env");
    cJSON_AddItemToObject(env, "default", string_array(c->env_default, c->nenv_default));
    cJSON_AddItemToObject(env, "untrusted", string_array(c->env_untrusted, c->nuntrusted));
    cJSON *m = cJSON_AddObjectToObject(root, "metadata");
    if (c->name)
        cJSON_AddStringToObject(m, "name", c->name);
    if (c->version)
        cJSON_AddStringToObject(m, "version", c->version);
    cJSON_AddBoolToObject(m, "debuggable", c->debuggable);
    cJSON *mounts = cJSON_AddArrayToObject(root, "mount");
    for (size_t i = 0; i < c->ntmpfs; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "target", c->tmpfs[i]);
        cJSON_AddStringToObject(o, "type", "ramfs");
        cJSON_AddItemToArray(mounts, o);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

char *wf_config_template(const char *name)
{
    cJSON *n = cJSON_CreateString(name);
    char *quoted = cJSON_PrintUnformatted(n);
    cJSON_Delete(n);
    char *s = NULL;
    if (quoted && asprintf(&s,
                           "{\n"
                           "    \"resource_limits\": {\n"
                           "        \"user_space_size\": \"256MB\",\n"
                           "        \"max_num_of_threads\": 64\n"
                           "    },\n"
                           "    \"process\": {\n"
                           "        \"default_stack_size\": \"4MB\",\n"
                           "        \"default_heap_size\": \"32MB\",\n"
                           "        \"default_mmap_size\": \"100MB\"\n"
                           "    },\n"
                           "    \"entry_points\": [\"/bin\"],\n"
                           "    \"env\": {\n"
                           "        \"default\": [\"PATH=/bin:/usr/bin\", \"HOME=/root\"],\n"
                           "        \"untrusted\": []\n"
                           "    },\n"
                           "    \"metadata\": {\n"
                           "        \"name\": %s,\n"
                           "        \"version\": \"0.1\",\n"
                           "        \"debuggable\": false\n"
                           "    },\n"
                           "    \"mount\": [\n"
                           "        {\"target\": \"/\", \"type\": \"unionfs\"},\n"
                           "        {\"target\": \"/proc\", \"type\": \"procfs\"},\n"
                           "        {\"target\": \"/dev\", \"type\": \"devfs\"},\n"
                           "        {\"target\": \"/tmp\", \"type\": \"ramfs\"}\n"
                           "    ]\n"
                           "}\n",
                           quoted) < 0)
        s = NULL;
    free(quoted);
    return s;
}

bool wf_entry_allowed(const struct wf_config *c, const char *path)
{
    return exec_entry_match((const char *const *)c->entry_points, c->nentry, path);
}

bool wf_env_allowed(const struct wf_config *c, const char *name, size_t name_len)
{
    for (size_t i = 0; i < c->nuntrusted; i++)
        if (strlen(c->env_untrusted[i]) == name_len &&
            memcmp(c->env_untrusted[i], name, name_len) == 0)
            return true;
    return false;
}
