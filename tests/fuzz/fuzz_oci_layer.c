/* fuzz_oci_layer.c: the layers and image config of OCI and docker archives (src/image/oci.c):
 * whiteouts, opaque directories, links, paths with "..", parents that are files or links, and
 * the config's Cmd, Entrypoint, Env and Volumes. The input is cut into an image config and up to
 * four layers, which this target wraps into a well-formed archive (digests and sizes right, so
 * the readers get past them), both an OCI image layout and a `docker save` archive:
 *
 *   byte 0       bit 0: OCI layout (else docker save); bit 1: both
 *   bytes 1-2    the config's length, little-endian (cut to what is there)
 *   config       JSON bytes
 *   layers       the rest, split at each "\n@@layer@@\n": each a tar (in any compression)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "oci_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LAYERS 4
static const char SEP[] = "\n@@layer@@\n";

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 4096;
        uint8_t *np = realloc(b->p, cap);
        FUZZ_CHECK(np != NULL);
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

/* One ustar member: a regular file. */
static void tar_file(struct buf *b, const char *name, const void *d, size_t n)
{
    uint8_t h[512];
    memset(h, 0, sizeof(h));
    snprintf((char *)h, 100, "%s", name);
    snprintf((char *)h + 100, 8, "%07o", 0644);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)n);
    snprintf((char *)h + 136, 12, "%011o", 0);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    put(b, h, sizeof(h));
    put(b, d, n);
    static const uint8_t zero[512];
    put(b, zero, (512 - n % 512) % 512);
}

static void tar_end(struct buf *b)
{
    static const uint8_t zero[1024];
    put(b, zero, sizeof(zero));
}

static void sha256_hex(const void *d, size_t n, char out[65])
{
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256(d, n, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* blobs/sha256/<digest of d>, its descriptor appended to desc. */
static void oci_blob(struct buf *tar, struct buf *desc, const char *type, const void *d, size_t n)
{
    char hex[65], name[96], text[256];
    sha256_hex(d, n, hex);
    snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
    tar_file(tar, name, d, n);
    int len = snprintf(text, sizeof(text),
                       "{\"mediaType\": \"%s\", \"digest\": \"sha256:%s\", "
                       "\"size\": %zu}",
                       type, hex, n);
    put(desc, text, (size_t)len);
}

struct parts {
    const uint8_t *config;
    size_t config_len;
    const uint8_t *layer[MAX_LAYERS];
    size_t layer_len[MAX_LAYERS];
    int nlayers;
};

static void oci_archive(const struct parts *p, struct buf *tar)
{
    static const char layout[] = "{\"imageLayoutVersion\": \"1.0.0\"}";
    tar_file(tar, "oci-layout", layout, sizeof(layout) - 1);
    struct buf m = {0};
    static const char m0[] = "{\"schemaVersion\": 2, \"mediaType\": "
                             "\"application/vnd.oci.image.manifest.v1+json\", \"config\": ";
    put(&m, m0, sizeof(m0) - 1);
    oci_blob(tar, &m, "application/vnd.oci.image.config.v1+json", p->config, p->config_len);
    put(&m, ", \"layers\": [", 13);
    for (int i = 0; i < p->nlayers; i++) {
        if (i)
            put(&m, ", ", 2);
        oci_blob(tar, &m, "application/vnd.oci.image.layer.v1.tar", p->layer[i], p->layer_len[i]);
    }
    put(&m, "]}", 2);
    struct buf idx = {0};
    static const char i0[] = "{\"schemaVersion\": 2, \"manifests\": [";
    put(&idx, i0, sizeof(i0) - 1);
    /* the manifest's descriptor, with a ref name annotation (the image's version) */
    char hex[65], name[96], text[512];
    sha256_hex(m.p, m.n, hex);
    snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
    tar_file(tar, name, m.p, m.n);
    int len = snprintf(text, sizeof(text),
                       "{\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\", "
                       "\"digest\": \"sha256:%s\", \"size\": %zu, \"annotations\": "
                       "{\"org.opencontainers.image.ref.name\": \"v1\"}}]}",
                       hex, m.n);
    put(&idx, text, (size_t)len);
    tar_file(tar, "index.json", idx.p, idx.n);
    tar_end(tar);
    free(m.p);
    free(idx.p);
}

static void docker_archive(const struct parts *p, struct buf *tar)
{
    struct buf m = {0};
    static const char m0[] = "[{\"Config\": \"config.json\", \"RepoTags\": [\"fuzz/img:v1\"], "
                             "\"Layers\": [";
    put(&m, m0, sizeof(m0) - 1);
    tar_file(tar, "config.json", p->config, p->config_len);
    for (int i = 0; i < p->nlayers; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s\"l%d/layer.tar\"", i ? ", " : "", i);
        put(&m, name, strlen(name));
        snprintf(name, sizeof(name), "l%d/layer.tar", i);
        tar_file(tar, name, p->layer[i], p->layer_len[i]);
    }
    put(&m, "]}]", 3);
    tar_file(tar, "manifest.json", m.p, m.n);
    tar_end(tar);
    free(m.p);
}

static void run(const struct buf *tar, int docker)
{
    char path[64], why[512];
    int fd = fuzz_file(tar->p, tar->n, path, sizeof(path));
    if (fd < 0)
        return;
    struct rootfs fs;
    rootfs_init(&fs);
    why[0] = '\0';
    int rc = docker ? rootfs_from_docker_archive(&fs, path, NULL, why, sizeof(why))
                    : rootfs_from_oci_archive(&fs, path, NULL, why, sizeof(why));
    if (rc == 0)
        fuzz_check_rootfs(&fs);
    else
        FUZZ_CHECK(why[0] != '\0');
    rootfs_free(&fs);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    struct parts p = {0};
    unsigned mode = data[0];
    size_t clen = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3, size -= 3;
    p.config = data;
    p.config_len = clen < size ? clen : size;
    const uint8_t *rest = data + p.config_len;
    size_t left = size - p.config_len;
    while (p.nlayers < MAX_LAYERS) {
        const uint8_t *cut =
            p.nlayers < MAX_LAYERS - 1 ? memmem(rest, left, SEP, sizeof(SEP) - 1) : NULL;
        size_t n = cut ? (size_t)(cut - rest) : left;
        p.layer[p.nlayers] = rest;
        p.layer_len[p.nlayers++] = n;
        if (!cut)
            break;
        rest += n + sizeof(SEP) - 1;
        left -= n + sizeof(SEP) - 1;
    }
    for (int docker = 0; docker < 2; docker++) {
        if (!(mode & 2) && (mode & 1) == (unsigned)docker)
            continue; /* bit 0 picks one kind unless bit 1 asks for both */
        struct buf tar = {0};
        if (docker)
            docker_archive(&p, &tar);
        else
            oci_archive(&p, &tar);
        run(&tar, docker);
        free(tar.p);
    }
    return 0;
}
