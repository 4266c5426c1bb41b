/* oci.c: the application file tree from an OCI image layout tarball or a `docker save` tarball. */
#include "image/rootfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/progress.h"

#define MAX_LINKS        8  /* symbolic/hard links followed between members of the outer tar */
#define MAX_INDEX_DEPTH  4  /* image indexes followed down to an image manifest */
#define MAX_SYMLINK_HOPS 40 /* symbolic links followed above one layer entry */
#define NO_NODE          SIZE_MAX

/* ---- paths ---- */

enum dotdot {
    DOTDOT_REJECT,  /* ".." makes the path invalid */
    DOTDOT_RESOLVE, /* ".." goes up a level; going above the root makes the path invalid */
    DOTDOT_CLAMP,   /* ".." goes up a level; at the root it stays there (like "/..") */
};

/* Normalises a path from a tar: no leading "/" or "./", no "." components, no empty ones, no
 * trailing "/"; ".." as dd says. Returns a malloc'd string ("" for the root) or NULL, with *bad
 * set when the path is invalid and clear when memory ran out. */
static char *norm_path(const char *in, enum dotdot dd, bool *bad)
{
    *bad = false;
    size_t len = strlen(in);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = in;
    while (*p) {
        const char *s = strchr(p, '/');
        size_t l = s ? (size_t)(s - p) : strlen(p);
        if (l == 0 || (l == 1 && p[0] == '.')) {
            /* nothing */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (dd == DOTDOT_REJECT || (o == 0 && dd == DOTDOT_RESOLVE)) {
                free(out);
                *bad = true;
                return NULL;
            }
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else {
            if (o)
                out[o++] = '/';
            memcpy(out + o, p, l);
            o += l;
        }
        p += l;
        if (*p == '/')
            p++;
    }
    out[o] = '\0';
    return out;
}

/* ---- the outer tar, in memory ---- */

struct member {
    char *name;    /* normalised */
    uint8_t *data; /* regular files */
    size_t size;
    char *link; /* symbolic link target as written, or hard link target (normalised) */
    bool hard;
};

struct members {
    struct member *v;
    size_t n, cap;
};

static void members_free(struct members *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].name);
        free(m->v[i].data);
        free(m->v[i].link);
    }
    free(m->v);
    memset(m, 0, sizeof(*m));
}

/* Reads the data of the current entry (size bytes) into a malloc'd buffer (NULL when empty). */
static int read_entry_data(struct archive *a, int64_t size, uint8_t **out, const char *shown,
                           char *why, size_t why_size)
{
    *out = NULL;
    if (size <= 0)
        return 0;
    if ((uint64_t)size > SIZE_MAX) {
        snprintf(why, why_size, "%s: too large", shown);
        return -1;
    }
    /* the buffer grows with the bytes that arrive, up to the size the header states: a header
     * that claims 8 GiB in a small archive costs what the archive holds, not 8 GiB */
    size_t cap = (size_t)size < (1u << 20) ? (size_t)size : (1u << 20);
    uint8_t *buf = malloc(cap);
    if (!buf) {
        snprintf(why, why_size, "%s: out of memory for %zu bytes", shown, cap);
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)size) {
        if (got == cap) {
            size_t ncap = cap > (size_t)size / 2 ? (size_t)size : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(why, why_size, "%s: out of memory for %zu bytes", shown, ncap);
                free(buf);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        la_ssize_t r = archive_read_data(a, buf + got, cap - got);
        if (r < 0) {
            snprintf(why, why_size, "%s: %s", shown, archive_error_string(a));
            free(buf);
            return -1;
        }
        if (r == 0) {
            snprintf(why, why_size, "%s: truncated", shown);
            free(buf);
            return -1;
        }
        got += (size_t)r;
    }
    *out = buf;
    return 0;
}

static const char *entry_path(struct archive_entry *ent)
{
    const char *p = archive_entry_pathname(ent);
    return p ? p : archive_entry_pathname_utf8(ent);
}

/* A reader of tar archives in any of the compressions archives and layers come in (OCI: gzip,
 * zstd; docker save: none; others in the wild: bzip2, xz); empty_ok: an empty layer is a valid
 * archive. NULL (with a reason) when out of memory. */
static struct archive *tar_reader(bool empty_ok, char *why, size_t why_size)
{
    struct archive *a = archive_read_new();
    if (!a) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    archive_read_support_format_tar(a);
    if (empty_ok)
        archive_read_support_format_empty(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    return a;
}

static int read_outer(const char *tar, struct members *m, char *why, size_t why_size)
{
    struct archive *a = tar_reader(false, why, why_size);
    if (!a)
        return -1;
    int rc = -1;
    if (archive_read_open_filename(a, tar, 1 << 16) != ARCHIVE_OK) {
        snprintf(why, why_size, "%s: %s", tar, archive_error_string(a));
        goto out;
    }
    for (;;) {
        struct archive_entry *ent;
        int r = archive_read_next_header(a, &ent);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            snprintf(why, why_size, "%s: %s", tar, archive_error_string(a));
            goto out;
        }
        const char *raw = entry_path(ent);
        if (!raw)
            continue;
        bool bad;
        char *name = norm_path(raw, DOTDOT_RESOLVE, &bad);
        if (!name) {
            if (!bad) {
                snprintf(why, why_size, "out of memory");
                goto out;
            }
            continue; /* a member outside the archive's root is never looked up */
        }
        const char *hard = archive_entry_hardlink(ent);
        mode_t type = archive_entry_filetype(ent);
        struct member mem = {name, NULL, 0, NULL, false};
        if (hard && archive_entry_size(ent) <= 0) {
            mem.link = norm_path(hard, DOTDOT_RESOLVE, &bad);
            mem.hard = true;
            if (!mem.link) {
                free(name);
                if (bad)
                    continue;
                snprintf(why, why_size, "out of memory");
                goto out;
            }
        } else if (type == AE_IFLNK) {
            const char *target = archive_entry_symlink(ent);
            mem.link = strdup(target ? target : "");
            if (!mem.link) {
                free(name);
                snprintf(why, why_size, "out of memory");
                goto out;
            }
        } else if (type == AE_IFREG || hard) {
            char shown[512];
            snprintf(shown, sizeof(shown), "%s: %s", tar, name);
            if (read_entry_data(a, archive_entry_size(ent), &mem.data, shown, why, why_size) < 0) {
                free(name);
                goto out;
            }
            mem.size = (size_t)archive_entry_size(ent);
        } else {
            free(name);
            continue;
        }
        if (m->n == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 32;
            struct member *nv = realloc(m->v, cap * sizeof(*nv));
            if (!nv) {
                free(mem.name);
                free(mem.data);
                free(mem.link);
                snprintf(why, why_size, "out of memory");
                goto out;
            }
            m->v = nv;
            m->cap = cap;
        }
        m->v[m->n++] = mem;
    }
    rc = 0;
out:
    archive_read_free(a);
    return rc;
}

/* The member with this name (the last one, as tar extraction would keep), links followed. */
static const struct member *find_member(const struct members *m, const char *name, int depth)
{
    const struct member *mem = NULL;
    for (size_t i = m->n; i-- > 0;) {
        if (!strcmp(m->v[i].name, name)) {
            mem = &m->v[i];
            break;
        }
    }
    if (!mem || !mem->link)
        return mem;
    if (depth >= MAX_LINKS)
        return NULL;
    if (mem->hard)
        return find_member(m, mem->link, depth + 1);
    /* A symbolic link: relative to the member's directory, or to the archive's root. */
    const char *slash = strrchr(name, '/');
    size_t dlen = mem->link[0] == '/' || !slash ? 0 : (size_t)(slash - name);
    char *joined = malloc(dlen + strlen(mem->link) + 2);
    if (!joined)
        return NULL;
    memcpy(joined, name, dlen);
    joined[dlen] = '/';
    strcpy(joined + dlen + 1, mem->link);
    bool bad;
    char *target = norm_path(joined, DOTDOT_RESOLVE, &bad);
    free(joined);
    if (!target)
        return NULL;
    const struct member *res = find_member(m, target, depth + 1);
    free(target);
    return res;
}

/* ---- JSON and digests ---- */

static cJSON *parse_json(const uint8_t *data, size_t size, const char *what, char *why,
                         size_t why_size)
{
    const char *end = NULL;
    cJSON *j = data ? cJSON_ParseWithLengthOpts((const char *)data, size, &end, false) : NULL;
    if (j && end) {
        const char *lim = (const char *)data + size;
        while (end < lim && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
            end++;
        if (end < lim && *end != '\0') {
            cJSON_Delete(j);
            j = NULL;
        }
    }
    if (!j) {
        snprintf(why, why_size, "%s is not valid JSON", what);
        return NULL;
    }
    if (!cJSON_IsObject(j) && !cJSON_IsArray(j)) {
        snprintf(why, why_size, "%s is not a JSON object", what);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON array of strings as a NULL-terminated vector; *out is NULL when it is absent, null or
 * empty. */
static int json_strv(const cJSON *arr, char ***out, const char *what, char *why, size_t why_size)
{
    *out = NULL;
    if (!arr || cJSON_IsNull(arr))
        return 0;
    if (!cJSON_IsArray(arr)) {
        snprintf(why, why_size, "%s is not an array of strings", what);
        return -1;
    }
    int n = cJSON_GetArraySize(arr);
    if (n == 0)
        return 0;
    char **v = calloc((size_t)n + 1, sizeof(*v));
    if (!v)
        goto oom;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it)) {
            snprintf(why, why_size, "%s is not an array of strings", what);
            goto fail;
        }
        v[i] = strdup(it->valuestring);
        if (!v[i++])
            goto oom;
    }
    *out = v;
    return 0;
oom:
    snprintf(why, why_size, "out of memory");
fail:
    for (int k = 0; v && v[k]; k++)
        free(v[k]);
    free(v);
    return -1;
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool is_lower_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

/* Checks data against "sha256:<hex>" (or sha512). */
static int check_digest(const uint8_t *data, size_t size, const char *digest, const char *what,
                        char *why, size_t why_size)
{
    const EVP_MD *md;
    const char *hex;
    if (!strncmp(digest, "sha256:", 7)) {
        md = EVP_sha256();
        hex = digest + 7;
    } else if (!strncmp(digest, "sha512:", 7)) {
        md = EVP_sha512();
        hex = digest + 7;
    } else {
        snprintf(why, why_size, "%s: unsupported digest '%s' (sha256 or sha512 expected)", what,
                 digest);
        return -1;
    }
    unsigned char sum[EVP_MAX_MD_SIZE];
    unsigned int sum_len = 0;
    if (!EVP_Digest(data ? data : (const uint8_t *)"", size, sum, &sum_len, md, NULL)) {
        snprintf(why, why_size, "%s: cannot compute its digest", what);
        return -1;
    }
    char got[2 * EVP_MAX_MD_SIZE + 1];
    to_hex(sum, sum_len, got);
    if (strcmp(hex, got) != 0) {
        snprintf(why, why_size, "%s: digest mismatch: expected %s, the content hashes to %.7s%s",
                 what, digest, digest, got);
        return -1;
    }
    return 0;
}

/* The blob a descriptor ({mediaType, digest, size}) names, its digest and size checked. */
static int get_blob(const struct members *m, const cJSON *desc, const char *what,
                    const struct member **out, char *why, size_t why_size)
{
    const char *digest = json_str(desc, "digest");
    if (!digest) {
        snprintf(why, why_size, "the %s descriptor has no digest", what);
        return -1;
    }
    const char *colon = strchr(digest, ':');
    size_t hexlen = colon && !strncmp(digest, "sha256:", 7)   ? 64
                    : colon && !strncmp(digest, "sha512:", 7) ? 128
                                                              : 0;
    if (!hexlen || !is_lower_hex(colon + 1, hexlen)) {
        snprintf(why, why_size, "the %s descriptor has an invalid or unsupported digest '%s'", what,
                 digest);
        return -1;
    }
    char name[160];
    snprintf(name, sizeof(name), "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
    const struct member *mem = find_member(m, name, 0);
    if (!mem) {
        snprintf(why, why_size, "the %s %s is missing from the archive (no %s)", what, digest,
                 name);
        return -1;
    }
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(desc, "size");
    if (cJSON_IsNumber(sz) && (sz->valuedouble < 0 || (double)mem->size != sz->valuedouble)) {
        snprintf(why, why_size, "the %s %s: the descriptor says %.0f bytes, the blob has %zu", what,
                 digest, sz->valuedouble, mem->size);
        return -1;
    }
    char label[256];
    snprintf(label, sizeof(label), "the %s %s", what, name);
    if (check_digest(mem->data, mem->size, digest, label, why, why_size) < 0)
        return -1;
    *out = mem;
    return 0;
}

/* ---- the tree while layers are applied: nodes with a hash index by path ---- */

struct tnode {
    char *path;
    uint32_t mode;
    uint64_t size;
    uint8_t *data;
    unsigned layer; /* the layer that last wrote it */
    bool alive;
    size_t next; /* hash chain */
};

struct tree {
    struct tnode *v;
    size_t n, cap;
    size_t *buckets;
    size_t nbuckets; /* a power of two */
};

static void tree_free(struct tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].path);
        free(t->v[i].data);
    }
    free(t->v);
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

static size_t hash_path(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

static size_t tree_find_len(const struct tree *t, const char *path, size_t len)
{
    if (!t->nbuckets)
        return NO_NODE;
    for (size_t i = t->buckets[hash_path(path, len) & (t->nbuckets - 1)]; i != NO_NODE;
         i = t->v[i].next) {
        if (!strncmp(t->v[i].path, path, len) && t->v[i].path[len] == '\0')
            return i;
    }
    return NO_NODE;
}

static size_t tree_find(const struct tree *t, const char *path)
{
    return tree_find_len(t, path, strlen(path));
}

static void tree_remove(struct tree *t, size_t idx)
{
    struct tnode *nd = &t->v[idx];
    size_t *link = &t->buckets[hash_path(nd->path, strlen(nd->path)) & (t->nbuckets - 1)];
    while (*link != idx)
        link = &t->v[*link].next;
    *link = nd->next;
    nd->alive = false;
    free(nd->data);
    nd->data = NULL;
}

/* Removes everything strictly under dir ("" is the root) written before layer limit. */
static void tree_remove_under(struct tree *t, const char *dir, unsigned limit)
{
    size_t len = strlen(dir);
    for (size_t i = 0; i < t->n; i++) {
        struct tnode *nd = &t->v[i];
        if (!nd->alive || nd->layer >= limit)
            continue;
        if (len == 0 || (!strncmp(nd->path, dir, len) && nd->path[len] == '/'))
            tree_remove(t, i);
    }
}

static int tree_rehash(struct tree *t)
{
    size_t nb = t->nbuckets ? t->nbuckets * 2 : 1024;
    size_t *b = malloc(nb * sizeof(*b));
    if (!b)
        return -1;
    for (size_t i = 0; i < nb; i++)
        b[i] = NO_NODE;
    for (size_t i = 0; i < t->n; i++) {
        if (!t->v[i].alive)
            continue;
        size_t h = hash_path(t->v[i].path, strlen(t->v[i].path)) & (nb - 1);
        t->v[i].next = b[h];
        b[h] = i;
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
    return 0;
}

/* Adds a node (the path must not be in the tree), taking path and data (freed on failure). */
static int tree_add(struct tree *t, char *path, uint32_t mode, uint8_t *data, uint64_t size,
                    unsigned layer)
{
    if ((t->n + 1) * 4 > t->nbuckets * 3 && tree_rehash(t) < 0)
        goto oom;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct tnode *nv = realloc(t->v, cap * sizeof(*nv));
        if (!nv)
            goto oom;
        t->v = nv;
        t->cap = cap;
    }
    size_t h = hash_path(path, strlen(path)) & (t->nbuckets - 1);
    t->v[t->n] = (struct tnode){path, mode, size, data, layer, true, t->buckets[h]};
    t->buckets[h] = t->n++;
    return 0;
oom:
    free(path);
    free(data);
    return -1;
}

/* ---- applying one layer ---- */

struct layer_ctx {
    struct tree *t;
    unsigned layer; /* 1-based */
    const char *what;
    char *why;
    size_t why_size;
};

/* A whiteout entry at path (its base name starts with ".wh."). */
static int apply_whiteout(struct layer_ctx *c, const char *path, const char *base)
{
    size_t dlen = base == path ? 0 : (size_t)(base - path) - 1;
    char *dir = strndup(path, dlen);
    if (!dir)
        return -1;
    const char *victim = base + 4;
    if (!strcmp(base, ".wh..wh..opq")) {
        tree_remove_under(c->t, dir, c->layer);
        free(dir);
        return 0;
    }
    if (!strncmp(victim, ".wh.", 4) || !*victim || !strcmp(victim, ".") || !strcmp(victim, "..")) {
        free(dir); /* other AUFS metadata (.wh..wh.plnk, ...): nothing to apply */
        return 0;
    }
    char *target;
    int r = dlen ? asprintf(&target, "%s/%s", dir, victim) : asprintf(&target, "%s", victim);
    free(dir);
    if (r < 0)
        return -1;
    size_t idx = tree_find(c->t, target);
    if (idx != NO_NODE && c->t->v[idx].layer < c->layer)
        tree_remove(c->t, idx);
    tree_remove_under(c->t, target, c->layer);
    free(target);
    return 0;
}

/* The path with its directories resolved through the tree's symbolic links, as extracting the
 * layer onto a file system would (within the root, like a chroot). Takes path; NULL with a
 * reason on failure. */
static char *resolve_parents(struct layer_ctx *c, char *path)
{
    for (int hops = 0; hops < MAX_SYMLINK_HOPS; hops++) {
        const char *s;
        size_t idx = NO_NODE;
        for (s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
            idx = tree_find_len(c->t, path, (size_t)(s - path));
            if (idx != NO_NODE && S_ISLNK(c->t->v[idx].mode))
                break;
        }
        if (!s)
            return path;
        const char *target = c->t->v[idx].data ? (const char *)c->t->v[idx].data : "";
        size_t dlen = 0;
        if (target[0] != '/') {
            for (dlen = (size_t)(s - path); dlen > 0 && path[dlen - 1] != '/'; dlen--)
                ;
        }
        char *joined;
        if (asprintf(&joined, "%.*s%s/%s", (int)dlen, path, target, s + 1) < 0)
            goto oom;
        bool bad;
        char *np = norm_path(joined, DOTDOT_CLAMP, &bad);
        free(joined);
        if (!np)
            goto oom;
        free(path);
        path = np;
    }
    snprintf(c->why, c->why_size, "%s: too many levels of symbolic links above '%s'", c->what,
             path);
    free(path);
    return NULL;
oom:
    snprintf(c->why, c->why_size, "out of memory");
    free(path);
    return NULL;
}

/* Puts an entry at path (owned): its directories are followed through symbolic links, those
 * that are files go, and a directory that a non-directory replaces goes with its subtree. */
static int put_entry(struct layer_ctx *c, char *path, uint32_t mode, uint8_t *data, uint64_t size)
{
    path = resolve_parents(c, path);
    if (!path) {
        free(data);
        return -1;
    }
    if (!*path) {
        free(path); /* a link led to the root directory itself */
        free(data);
        return 0;
    }
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        size_t idx = tree_find_len(c->t, path, (size_t)(s - path));
        if (idx != NO_NODE && !S_ISDIR(c->t->v[idx].mode))
            tree_remove(c->t, idx);
    }
    size_t idx = tree_find(c->t, path);
    if (idx != NO_NODE) {
        struct tnode *old = &c->t->v[idx];
        if (S_ISDIR(old->mode) && S_ISDIR(mode)) {
            old->mode = mode;
            old->layer = c->layer;
            free(path);
            free(data);
            return 0;
        }
        if (S_ISDIR(old->mode))
            tree_remove_under(c->t, path, (unsigned)-1);
        tree_remove(c->t, idx);
    }
    if (tree_add(c->t, path, mode, data, size, c->layer) < 0) {
        snprintf(c->why, c->why_size, "out of memory");
        return -1;
    }
    return 0;
}

static int apply_entry(struct layer_ctx *c, struct archive *a, struct archive_entry *ent)
{
    const char *raw = entry_path(ent);
    if (!raw) {
        snprintf(c->why, c->why_size, "%s: an entry has a name that cannot be read", c->what);
        return -1;
    }
    bool bad;
    char *path = norm_path(raw, DOTDOT_REJECT, &bad);
    if (!path) {
        if (bad)
            snprintf(c->why, c->why_size, "%s: entry '%s' reaches outside the root", c->what, raw);
        else
            snprintf(c->why, c->why_size, "out of memory");
        return -1;
    }
    if (!*path) {
        free(path); /* the root directory itself */
        return 0;
    }
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!strncmp(base, ".wh.", 4)) {
        int r = apply_whiteout(c, path, base);
        free(path);
        if (r < 0)
            snprintf(c->why, c->why_size, "out of memory");
        return r;
    }
    uint32_t perm = (uint32_t)archive_entry_mode(ent) & 07777;
    const char *hard = archive_entry_hardlink(ent);
    mode_t type = archive_entry_filetype(ent);
    if (hard) {
        char *target = norm_path(hard, DOTDOT_REJECT, &bad);
        if (!target) {
            free(path);
            if (bad)
                snprintf(c->why, c->why_size, "%s: hard link '%s' reaches outside the root",
                         c->what, hard);
            else
                snprintf(c->why, c->why_size, "out of memory");
            return -1;
        }
        size_t idx = tree_find(c->t, target);
        if (idx == NO_NODE || S_ISDIR(c->t->v[idx].mode)) {
            snprintf(c->why, c->why_size,
                     "%s: hard link '%s' to '%s', which is not a file of the image so far", c->what,
                     path, target);
            free(target);
            free(path);
            return -1;
        }
        free(target);
        if (!strcmp(c->t->v[idx].path, path)) {
            free(path); /* a link to itself */
            return 0;
        }
        const struct tnode *src = &c->t->v[idx];
        uint8_t *copy = NULL;
        if (src->size) {
            copy = malloc((size_t)src->size);
            if (!copy) {
                free(path);
                snprintf(c->why, c->why_size, "out of memory");
                return -1;
            }
            memcpy(copy, src->data, (size_t)src->size);
        }
        uint32_t mode = src->mode;
        uint64_t size = src->size;
        return put_entry(c, path, mode, copy, size);
    }
    uint8_t *data = NULL;
    uint64_t size = 0;
    uint32_t mode;
    if (type == AE_IFDIR) {
        mode = S_IFDIR | perm;
    } else if (type == AE_IFREG) {
        mode = S_IFREG | perm;
        char shown[512];
        snprintf(shown, sizeof(shown), "%s: %s", c->what, path);
        if (read_entry_data(a, archive_entry_size(ent), &data, shown, c->why, c->why_size) < 0) {
            free(path);
            return -1;
        }
        size = data ? (uint64_t)archive_entry_size(ent) : 0;
    } else if (type == AE_IFLNK) {
        const char *target = archive_entry_symlink(ent);
        if (!target)
            target = archive_entry_symlink_utf8(ent);
        mode = S_IFLNK | 0777;
        data = (uint8_t *)strdup(target ? target : "");
        if (!data) {
            free(path);
            snprintf(c->why, c->why_size, "out of memory");
            return -1;
        }
        size = strlen((char *)data);
    } else {
        free(path); /* device nodes, FIFOs, sockets: not part of an enclave image */
        return 0;
    }
    return put_entry(c, path, mode, data, size);
}

static int apply_layer(struct tree *t, unsigned layer, const struct member *blob, const char *what,
                       char *why, size_t why_size)
{
    if (blob->size == 0)
        return 0;
    struct archive *a = tar_reader(true, why, why_size);
    if (!a)
        return -1;
    struct layer_ctx c = {t, layer, what, why, why_size};
    int rc = -1;
    if (archive_read_open_memory(a, blob->data, blob->size) != ARCHIVE_OK) {
        snprintf(why, why_size, "%s: %s", what, archive_error_string(a));
        goto out;
    }
    for (;;) {
        struct archive_entry *ent;
        int r = archive_read_next_header(a, &ent);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            snprintf(why, why_size, "%s: %s", what, archive_error_string(a));
            goto out;
        }
        if (apply_entry(&c, a, ent) < 0)
            goto out;
    }
    rc = 0;
out:
    archive_read_free(a);
    return rc;
}

static bool is_compressed(const uint8_t *d, size_t n)
{
    static const uint8_t gz[] = {0x1f, 0x8b}, bz[] = {'B', 'Z', 'h'};
    static const uint8_t xz[] = {0xfd, '7', 'z', 'X', 'Z', 0}, zst[] = {0x28, 0xb5, 0x2f, 0xfd};
    return (n >= sizeof(gz) && !memcmp(d, gz, sizeof(gz))) ||
           (n >= sizeof(bz) && !memcmp(d, bz, sizeof(bz))) ||
           (n >= sizeof(xz) && !memcmp(d, xz, sizeof(xz))) ||
           (n >= sizeof(zst) && !memcmp(d, zst, sizeof(zst)));
}

static int node_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rootfs_node *)a)->path, ((const struct rootfs_node *)b)->path);
}

/* Moves the live nodes of the tree into fs, sorted by path. */
static int tree_to_rootfs(struct tree *t, struct rootfs *fs)
{
    size_t alive = 0;
    for (size_t i = 0; i < t->n; i++)
        alive += t->v[i].alive;
    fs->nodes = calloc(alive ? alive : 1, sizeof(*fs->nodes));
    if (!fs->nodes)
        return -1;
    fs->cap = alive;
    for (size_t i = 0; i < t->n; i++) {
        struct tnode *nd = &t->v[i];
        if (!nd->alive)
            continue;
        fs->nodes[fs->n++] = (struct rootfs_node){
            .path = nd->path, .mode = nd->mode, .size = nd->size, .data = nd->data};
        nd->path = NULL;
        nd->data = NULL;
    }
    if (fs->n) /* an empty image has no array: qsort's NULL would be undefined (UBSan) */
        qsort(fs->nodes, fs->n, sizeof(*fs->nodes), node_cmp);
    return 0;
}

/* ---- the image config ---- */

/* Takes command, environment, architecture and the text of an image config. */
static int apply_config(struct rootfs *fs, const struct member *blob, const char *what,
                        cJSON **config_out, char *why, size_t why_size)
{
    cJSON *j = parse_json(blob->data, blob->size, what, why, why_size);
    if (!j)
        return -1;
    int rc = -1;
    char **cmd = NULL, **ep = NULL, **env = NULL;
    if (!cJSON_IsObject(j)) {
        snprintf(why, why_size, "%s is not a JSON object", what);
        goto out;
    }
    const cJSON *arch = cJSON_GetObjectItem(j, "architecture");
    if (!cJSON_IsString(arch)) {
        snprintf(why, why_size, "%s names no architecture", what);
        goto out;
    }
    if (strcmp(arch->valuestring, "amd64") != 0) {
        snprintf(why, why_size,
                 "the image is built for the architecture '%s'; alcove runs only amd64 (x86-64) "
                 "images",
                 arch->valuestring);
        goto out;
    }
    const cJSON *os = cJSON_GetObjectItem(j, "os");
    if (cJSON_IsString(os) && strcmp(os->valuestring, "linux") != 0) {
        snprintf(why, why_size, "the image is for the OS '%s'; alcove runs only Linux images",
                 os->valuestring);
        goto out;
    }
    const cJSON *cfg = cJSON_GetObjectItem(j, "config");
    if (cfg && !cJSON_IsNull(cfg) && !cJSON_IsObject(cfg)) {
        snprintf(why, why_size, "%s: \"config\" is not an object", what);
        goto out;
    }
    if (cJSON_IsObject(cfg)) {
        if (json_strv(cJSON_GetObjectItem(cfg, "Cmd"), &cmd, "Config.Cmd", why, why_size) < 0 ||
            json_strv(cJSON_GetObjectItem(cfg, "Entrypoint"), &ep, "Config.Entrypoint", why,
                      why_size) < 0 ||
            json_strv(cJSON_GetObjectItem(cfg, "Env"), &env, "Config.Env", why, why_size) < 0)
            goto out;
    }
    /* As nitro-cli: Cmd, or else Entrypoint; never the two together. */
    fs->cmd = cmd ? cmd : ep;
    if (cmd)
        cmd = NULL;
    else
        ep = NULL;
    for (size_t i = 0; env && env[i]; i++) {
        if (rootfs_set_env(fs, env[i]) < 0) {
            snprintf(why, why_size, "%s: environment entry '%s' is not KEY=VALUE", what, env[i]);
            goto out;
        }
    }
    /* Volumes: an enclave has no disks, so each is a writable tmpfs */
    const cJSON *vols = cJSON_IsObject(cfg) ? cJSON_GetObjectItem(cfg, "Volumes") : NULL;
    if (cJSON_IsObject(vols)) {
        const cJSON *v;
        cJSON_ArrayForEach(v, vols)
        {
            if (!v->string || rootfs_add_tmpfs(fs, v->string) < 0) {
                snprintf(why, why_size, "%s: volume '%s' is not an absolute path", what,
                         v->string ? v->string : "");
                goto out;
            }
        }
    }
    fs->arch = strdup("amd64");
    fs->config_json = strndup((const char *)blob->data, blob->size);
    if (!fs->arch || !fs->config_json) {
        snprintf(why, why_size, "out of memory");
        goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; cmd && cmd[i]; i++)
        free(cmd[i]);
    for (size_t i = 0; ep && ep[i]; i++)
        free(ep[i]);
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(cmd);
    free(ep);
    free(env);
    if (rc == 0 && config_out)
        *config_out = j;
    else
        cJSON_Delete(j);
    return rc;
}

/* Splits "name:tag" or "name@digest" (a registry port is part of the name). */
static int split_ref(const char *ref, char **name, char **version)
{
    *name = *version = NULL;
    const char *at = strchr(ref, '@');
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(ref, ':');
    const char *cut = at ? at : (colon && (!slash || colon > slash) ? colon : NULL);
    *name = cut ? strndup(ref, (size_t)(cut - ref)) : strdup(ref);
    if (cut)
        *version = strdup(cut + 1);
    if (!*name || (cut && !*version)) {
        free(*name);
        free(*version);
        *name = *version = NULL;
        return -1;
    }
    return 0;
}

/* ---- OCI image layout ---- */

static const char *const layer_types[] = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};

#define OCI_INDEX     "application/vnd.oci.image.index.v1+json"
#define DOCKER_LIST   "application/vnd.docker.distribution.manifest.list.v2+json"
#define OCI_MANIFEST  "application/vnd.oci.image.manifest.v1+json"
#define DOCKER_MANIF  "application/vnd.docker.distribution.manifest.v2+json"
#define OCI_CONFIG    "application/vnd.oci.image.config.v1+json"
#define DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

static bool is_index_type(const char *t)
{
    return t && (!strcmp(t, OCI_INDEX) || !strcmp(t, DOCKER_LIST));
}

/* Whether an index entry may be the image: linux/amd64 or no platform given; not an
 * attestation. */
static bool platform_ok(const cJSON *desc)
{
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(desc, "annotations");
    const char *ref_type = json_str(ann, "vnd.docker.reference.type");
    if (ref_type && !strcmp(ref_type, "attestation-manifest"))
        return false;
    const cJSON *plat = cJSON_GetObjectItemCaseSensitive(desc, "platform");
    if (!cJSON_IsObject(plat))
        return true;
    const char *arch = json_str(plat, "architecture");
    const char *os = json_str(plat, "os");
    return (!arch || !strcmp(arch, "amd64")) && (!os || !strcmp(os, "linux"));
}

/* From an index (index.json or an index blob), the manifest of the linux/amd64 image, parsed;
 * *top is the entry of the outermost index that led to it. */
static cJSON *pick_manifest(const struct members *m, const cJSON *index, const char *what,
                            int depth, const cJSON **top, char *why, size_t why_size)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(index, "manifests");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
        snprintf(why, why_size, "%s lists no manifests", what);
        return NULL;
    }
    const cJSON *desc = NULL, *it;
    char seen[256] = "";
    cJSON_ArrayForEach(it, list)
    {
        if (!cJSON_IsObject(it))
            continue;
        if (platform_ok(it)) {
            desc = it;
            break;
        }
        const cJSON *plat = cJSON_GetObjectItemCaseSensitive(it, "platform");
        const char *os = json_str(plat, "os"), *arch = json_str(plat, "architecture");
        size_t l = strlen(seen);
        snprintf(seen + l, sizeof(seen) - l, "%s%s/%s", l ? ", " : "", os ? os : "?",
                 arch ? arch : "?");
    }
    if (!desc) {
        snprintf(why, why_size, "%s has no linux/amd64 image (it has %s)", what,
                 seen[0] ? seen : "nothing usable");
        return NULL;
    }
    if (depth == 0)
        *top = desc;
    const struct member *blob;
    if (get_blob(m, desc, "manifest", &blob, why, why_size) < 0)
        return NULL;
    char label[160];
    snprintf(label, sizeof(label), "the manifest %s", json_str(desc, "digest"));
    cJSON *j = parse_json(blob->data, blob->size, label, why, why_size);
    if (!j)
        return NULL;
    const char *type = json_str(desc, "mediaType");
    if (!type)
        type = json_str(j, "mediaType");
    bool index_like =
        is_index_type(type) || (!type && cJSON_GetObjectItemCaseSensitive(j, "manifests") != NULL);
    if (index_like) {
        if (depth + 1 >= MAX_INDEX_DEPTH) {
            snprintf(why, why_size, "%s: image indexes nested too deeply", what);
            cJSON_Delete(j);
            return NULL;
        }
        cJSON *r = pick_manifest(m, j, label, depth + 1, top, why, why_size);
        cJSON_Delete(j);
        return r;
    }
    if (type && strcmp(type, OCI_MANIFEST) != 0 && strcmp(type, DOCKER_MANIF) != 0) {
        snprintf(why, why_size, "%s has the unsupported media type '%s'", label, type);
        cJSON_Delete(j);
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        snprintf(why, why_size, "%s is not a JSON object", label);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* Takes the image name and version from the annotations of index.json's entry. */
static int oci_names(struct rootfs *fs, const cJSON *top)
{
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(top, "annotations");
    const char *ref = json_str(ann, "org.opencontainers.image.ref.name");
    const char *full = json_str(ann, "io.containerd.image.name");
    bool ref_is_tag = ref && !strpbrk(ref, "/:@");
    if (ref && !ref_is_tag)
        full = ref;
    if (full && split_ref(full, &fs->image_name, &fs->image_version) < 0)
        return -1;
    if (ref_is_tag) {
        free(fs->image_version);
        fs->image_version = strdup(ref);
        if (!fs->image_version)
            return -1;
    }
    return 0;
}

static int apply_layers_oci(struct tree *t, const struct members *m, const cJSON *manifest,
                            struct progress *prog, char *why, size_t why_size)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(manifest, "layers");
    if (!cJSON_IsArray(layers)) {
        snprintf(why, why_size, "the image manifest has no layers array");
        return -1;
    }
    unsigned i = 0;
    const cJSON *desc;
    cJSON_ArrayForEach(desc, layers)
    {
        i++;
        char what[64];
        snprintf(what, sizeof(what), "layer %u", i);
        const char *type = json_str(desc, "mediaType");
        bool known = false;
        for (size_t k = 0; type && k < sizeof(layer_types) / sizeof(layer_types[0]); k++)
            known |= !strcmp(type, layer_types[k]);
        if (!known) {
            snprintf(why, why_size, "layer %u has the unsupported media type '%s'", i,
                     type ? type : "(none)");
            return -1;
        }
        const struct member *blob;
        if (get_blob(m, desc, what, &blob, why, why_size) < 0)
            return -1;
        snprintf(what, sizeof(what), "layer %u (%.19s)", i, json_str(desc, "digest"));
        if (apply_layer(t, i, blob, what, why, why_size) < 0)
            return -1;
        progress_add(prog, blob->size);
    }
    return 0;
}

int rootfs_from_oci_archive(struct rootfs *fs, const char *tar, struct progress *prog, char *why,
                            size_t why_size)
{
    struct rootfs tmp;
    rootfs_init(&tmp);
    struct members m = {0};
    struct tree t = {0};
    cJSON *index = NULL, *manifest = NULL, *layout = NULL;
    int rc = -1;
    if (read_outer(tar, &m, why, why_size) < 0)
        goto out;
    const struct member *mem = find_member(&m, "oci-layout", 0);
    if (!mem) {
        snprintf(why, why_size, "%s is not an OCI image layout: it has no oci-layout file%s", tar,
                 find_member(&m, "manifest.json", 0) ? " (it looks like a `docker save` archive)"
                                                     : "");
        goto out;
    }
    layout = parse_json(mem->data, mem->size, "oci-layout", why, why_size);
    if (!layout)
        goto out;
    if (!json_str(layout, "imageLayoutVersion")) {
        snprintf(why, why_size, "oci-layout has no imageLayoutVersion");
        goto out;
    }
    mem = find_member(&m, "index.json", 0);
    if (!mem) {
        snprintf(why, why_size, "%s: the OCI image layout has no index.json", tar);
        goto out;
    }
    index = parse_json(mem->data, mem->size, "index.json", why, why_size);
    if (!index)
        goto out;
    const cJSON *top = NULL;
    manifest = pick_manifest(&m, index, "index.json", 0, &top, why, why_size);
    if (!manifest)
        goto out;
    const cJSON *cdesc = cJSON_GetObjectItemCaseSensitive(manifest, "config");
    if (!cJSON_IsObject(cdesc)) {
        snprintf(why, why_size, "the image manifest has no config descriptor");
        goto out;
    }
    const char *ctype = json_str(cdesc, "mediaType");
    if (ctype && strcmp(ctype, OCI_CONFIG) != 0 && strcmp(ctype, DOCKER_CONFIG) != 0) {
        snprintf(why, why_size, "the archive holds no container image: its config is '%s'", ctype);
        goto out;
    }
    const struct member *cblob;
    if (get_blob(&m, cdesc, "image config", &cblob, why, why_size) < 0 ||
        apply_config(&tmp, cblob, "the image config", NULL, why, why_size) < 0)
        goto out;
    if (apply_layers_oci(&t, &m, manifest, prog, why, why_size) < 0)
        goto out;
    if (oci_names(&tmp, top) < 0 || tree_to_rootfs(&t, &tmp) < 0) {
        snprintf(why, why_size, "out of memory");
        goto out;
    }
    rootfs_free(fs);
    *fs = tmp;
    rootfs_init(&tmp);
    rc = 0;
out:
    cJSON_Delete(layout);
    cJSON_Delete(index);
    cJSON_Delete(manifest);
    tree_free(&t);
    members_free(&m);
    rootfs_free(&tmp);
    return rc;
}

/* ---- docker save ---- */

/* A member named by its digest (blobs/sha256/<hex>, or <hex>.json for a legacy config) is
 * checked against it. */
static int check_named_blob(const char *path, const struct member *mem, const char *what, char *why,
                            size_t why_size)
{
    char digest[80];
    if (!strncmp(path, "blobs/sha256/", 13) && is_lower_hex(path + 13, 64))
        snprintf(digest, sizeof(digest), "sha256:%s", path + 13);
    else if (strlen(path) == 69 && !strcmp(path + 64, ".json")) {
        char hex[65];
        memcpy(hex, path, 64);
        hex[64] = '\0';
        if (!is_lower_hex(hex, 64))
            return 0;
        snprintf(digest, sizeof(digest), "sha256:%s", hex);
    } else
        return 0;
    char label[160];
    snprintf(label, sizeof(label), "%s %s", what, path);
    return check_digest(mem->data, mem->size, digest, label, why, why_size);
}

/* The member a manifest.json entry names; NULL with a reason when it is absent. */
static const struct member *docker_member(const struct members *m, const char *raw,
                                          const char *what, char **name_out, char *why,
                                          size_t why_size)
{
    bool bad;
    char *name = norm_path(raw, DOTDOT_RESOLVE, &bad);
    if (!name) {
        if (bad)
            snprintf(why, why_size, "%s '%s' is not a path inside the archive", what, raw);
        else
            snprintf(why, why_size, "out of memory");
        return NULL;
    }
    const struct member *mem = find_member(m, name, 0);
    if (!mem) {
        snprintf(why, why_size, "%s %s is missing from the archive", what, raw);
        free(name);
        return NULL;
    }
    *name_out = name;
    return mem;
}

int rootfs_from_docker_archive(struct rootfs *fs, const char *tar, struct progress *prog, char *why,
                               size_t why_size)
{
    struct rootfs tmp;
    rootfs_init(&tmp);
    struct members m = {0};
    struct tree t = {0};
    cJSON *manifest = NULL, *config = NULL;
    char *name = NULL;
    int rc = -1;
    if (read_outer(tar, &m, why, why_size) < 0)
        goto out;
    const struct member *mem = find_member(&m, "manifest.json", 0);
    if (!mem) {
        snprintf(why, why_size, "%s is not a `docker save` archive: it has no manifest.json%s", tar,
                 find_member(&m, "oci-layout", 0) ? " (it looks like an OCI image layout)" : "");
        goto out;
    }
    manifest = parse_json(mem->data, mem->size, "manifest.json", why, why_size);
    if (!manifest)
        goto out;
    if (!cJSON_IsArray(manifest) || cJSON_GetArraySize(manifest) == 0) {
        snprintf(why, why_size, "manifest.json lists no image");
        goto out;
    }
    if (cJSON_GetArraySize(manifest) > 1) {
        snprintf(why, why_size, "manifest.json lists %d images; save a single image",
                 cJSON_GetArraySize(manifest));
        goto out;
    }
    const cJSON *img = cJSON_GetArrayItem(manifest, 0);
    const char *cpath = json_str(img, "Config");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(img, "Layers");
    if (!cpath || !cJSON_IsArray(layers)) {
        snprintf(why, why_size, "manifest.json: the image has no Config or no Layers");
        goto out;
    }
    const struct member *cblob = docker_member(&m, cpath, "the image config", &name, why, why_size);
    if (!cblob || check_named_blob(name, cblob, "the image config", why, why_size) < 0 ||
        apply_config(&tmp, cblob, "the image config", &config, why, why_size) < 0)
        goto out;
    free(name);
    name = NULL;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(img, "RepoTags");
    const cJSON *tag0 = cJSON_IsArray(tags) ? cJSON_GetArrayItem(tags, 0) : NULL;
    if (cJSON_IsString(tag0) &&
        split_ref(tag0->valuestring, &tmp.image_name, &tmp.image_version) < 0) {
        snprintf(why, why_size, "out of memory");
        goto out;
    }
    const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(config, "rootfs");
    const cJSON *diff_ids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
    if (cJSON_IsArray(diff_ids) && cJSON_GetArraySize(diff_ids) != cJSON_GetArraySize(layers)) {
        snprintf(why, why_size, "the image config lists %d layers, manifest.json %d",
                 cJSON_GetArraySize(diff_ids), cJSON_GetArraySize(layers));
        goto out;
    }
    unsigned i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        i++;
        char what[64];
        snprintf(what, sizeof(what), "layer %u", i);
        if (!cJSON_IsString(l)) {
            snprintf(why, why_size, "manifest.json: layer %u is not a path", i);
            goto out;
        }
        const struct member *blob = docker_member(&m, l->valuestring, what, &name, why, why_size);
        if (!blob || check_named_blob(name, blob, what, why, why_size) < 0)
            goto out;
        const cJSON *diff =
            cJSON_IsArray(diff_ids) ? cJSON_GetArrayItem(diff_ids, (int)i - 1) : NULL;
        if (cJSON_IsString(diff) && !is_compressed(blob->data, blob->size)) {
            char label[128];
            snprintf(label, sizeof(label), "layer %u (%s)", i, name);
            if (check_digest(blob->data, blob->size, diff->valuestring, label, why, why_size) < 0)
                goto out;
        }
        snprintf(what, sizeof(what), "layer %u (%.40s)", i, name);
        free(name);
        name = NULL;
        if (apply_layer(&t, i, blob, what, why, why_size) < 0)
            goto out;
        progress_add(prog, blob->size);
    }
    if (tree_to_rootfs(&t, &tmp) < 0) {
        snprintf(why, why_size, "out of memory");
        goto out;
    }
    rootfs_free(fs);
    *fs = tmp;
    rootfs_init(&tmp);
    rc = 0;
out:
    free(name);
    cJSON_Delete(manifest);
    cJSON_Delete(config);
    tree_free(&t);
    members_free(&m);
    rootfs_free(&tmp);
    return rc;
}
