/* wf_manifest.c: `alcove build`'s record of its inputs (wf_manifest.h). */
#include "cli/wf_manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/fileio.h"

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = 0;
}

void wf_sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t md[32];
    unsigned n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    to_hex(md, 32, out);
}

static int hash_file(const char *path, char out[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ? 0 : -1;
    static uint8_t buf[1 << 16];
    ssize_t r;
    while (rc == 0 && (r = read(fd, buf, sizeof(buf))) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || !EVP_DigestUpdate(ctx, buf, (size_t)r))
            rc = -1;
    }
    uint8_t md[32];
    unsigned n = 0;
    if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &n))
        to_hex(md, 32, out);
    else
        rc = -1;
    EVP_MD_CTX_free(ctx);
    close(fd);
    return rc;
}

static int push(struct wf_manifest *m, const struct wf_entry *e)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        struct wf_entry *v = realloc(m->v, cap * sizeof(*v));
        if (!v)
            return -1;
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n++] = *e;
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct wf_entry *)a)->hexpath, ((const struct wf_entry *)b)->hexpath);
}

void wf_manifest_load(const char *path, struct wf_manifest *m)
{
    memset(m, 0, sizeof(*m));
    size_t len;
    char *text = (char *)read_file(path, &len);
    if (!text)
        return;
    char *save = NULL;
    bool ok = true;
    for (char *line = strtok_r(text, "\n", &save); line && ok; line = strtok_r(NULL, "\n", &save)) {
        struct wf_entry e = {0};
        char hp[8200];
        if (sscanf(line, "state %64s", m->state) == 1)
            continue;
        if (sscanf(line, "eif %" SCNu64 " %" SCNd64, &m->eif_size, &m->eif_mtime_ns) == 2)
            continue;
        if (sscanf(line, "f %64s %" SCNo32 " %" SCNu64 " %" SCNd64 " %8199s", e.hash, &e.mode,
                   &e.size, &e.mtime_ns, hp) == 5) {
            ok = (e.hexpath = strdup(hp)) && push(m, &e) == 0;
            if (!ok)
                free(e.hexpath);
        }
    }
    free(text);
    if (!ok) {
        wf_manifest_free(m);
        return;
    }
    if (m->n)
        qsort(m->v, m->n, sizeof(*m->v), by_path);
}

struct scan {
    size_t root_len;
    const struct wf_manifest *old;
    struct wf_manifest *m;
    char *why;
    size_t why_size;
};
static struct scan *g_scan; /* nftw has no argument pointer */

static int visit(const char *fpath, const struct stat *st, int type, struct FTW *ftw)
{
    (void)type;
    struct scan *s = g_scan;
    if (ftw->level == 0)
        return 0;
    const char *rel = fpath + s->root_len + 1;
    struct wf_entry e = {.mode = st->st_mode, .size = S_ISDIR(st->st_mode) ? 0 : st->st_size};
    /* the change time, which no one can set (cp -p, tar x, touch -d set the modification
     * time): a file rewritten with the same size and modification time is still seen */
    e.mtime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
    size_t rl = strlen(rel);
    if (!(e.hexpath = malloc(2 * rl + 1)))
        goto oom;
    to_hex((const uint8_t *)rel, rl, e.hexpath);
    const struct wf_entry *was =
        s->old->n ? bsearch(&e, s->old->v, s->old->n, sizeof(e), by_path) : NULL;
    if (S_ISDIR(st->st_mode)) {
        strcpy(e.hash, "-");
    } else if (was && was->mode == e.mode && was->size == e.size && was->mtime_ns == e.mtime_ns) {
        memcpy(e.hash, was->hash, sizeof(e.hash));
    } else if (S_ISLNK(st->st_mode)) {
        char target[4096];
        ssize_t n = readlink(fpath, target, sizeof(target));
        if (n < 0) {
            snprintf(s->why, s->why_size, "%s: %s", fpath, strerror(errno));
            free(e.hexpath);
            return 1;
        }
        wf_sha256_hex(target, (size_t)n, e.hash);
        s->m->reread++;
    } else if (S_ISREG(st->st_mode)) {
        if (hash_file(fpath, e.hash)) {
            snprintf(s->why, s->why_size, "%s: %s", fpath, strerror(errno));
            free(e.hexpath);
            return 1;
        }
        s->m->reread++;
    } else {
        snprintf(s->why, s->why_size, "%s: not a regular file, directory or symbolic link", fpath);
        free(e.hexpath);
        return 1;
    }
    if (push(s->m, &e) == 0)
        return 0;
oom:
    free(e.hexpath);
    snprintf(s->why, s->why_size, "out of memory");
    return 1;
}

int wf_manifest_scan(const char *image_dir, const struct wf_manifest *old, const char *extra,
                     struct wf_manifest *m, char *why, size_t why_size)
{
    memset(m, 0, sizeof(*m));
    struct scan s = {strlen(image_dir), old, m, why, why_size};
    g_scan = &s;
    int r = nftw(image_dir, visit, 32, FTW_PHYS);
    g_scan = NULL;
    if (r != 0) {
        if (r < 0)
            snprintf(why, why_size, "%s: %s", image_dir, strerror(errno));
        return -1;
    }
    if (m->n)
        qsort(m->v, m->n, sizeof(*m->v), by_path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    EVP_DigestUpdate(ctx, extra, strlen(extra) + 1);
    for (size_t i = 0; i < m->n; i++) {
        char line[128];
        int n = snprintf(line, sizeof(line), " %s %o %" PRIu64 " ", m->v[i].hash, m->v[i].mode,
                         m->v[i].size);
        EVP_DigestUpdate(ctx, line, (size_t)n);
        EVP_DigestUpdate(ctx, m->v[i].hexpath, strlen(m->v[i].hexpath) + 1);
    }
    uint8_t md[32];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    to_hex(md, 32, m->state);
    return 0;
}

int wf_manifest_save(const char *path, const struct wf_manifest *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -ENOMEM;
    fprintf(f, "alcove-manifest 1\nstate %s\neif %" PRIu64 " %" PRId64 "\n", m->state, m->eif_size,
            m->eif_mtime_ns);
    for (size_t i = 0; i < m->n; i++)
        fprintf(f, "f %s %o %" PRIu64 " %" PRId64 " %s\n", m->v[i].hash, m->v[i].mode, m->v[i].size,
                m->v[i].mtime_ns, m->v[i].hexpath);
    if (fclose(f)) {
        free(buf);
        return -ENOMEM;
    }
    int r = write_file_atomic(path, buf, len, 0644);
    free(buf);
    return r;
}

void wf_manifest_free(struct wf_manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].hexpath);
    free(m->v);
    memset(m, 0, sizeof(*m));
}
