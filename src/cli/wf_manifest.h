/* wf_manifest.h: what `alcove build` built from (DIR/build/manifest): every entry of image/ with
 * its type and mode, size, modification time and content hash, and a digest of the whole input
 * (the entries without their times, the measured alcove.json, the signing files, alcove's
 * version). A file whose size, mode and time are unchanged keeps its recorded hash: only new or
 * changed files are read to decide whether anything changed. */
#ifndef ALCOVE_WF_MANIFEST_H
#define ALCOVE_WF_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

struct wf_entry {
    char *hexpath; /* the path under image/, hex-encoded (any byte may be in a name) */
    uint32_t mode;
    uint64_t size;
    int64_t mtime_ns; /* its change time (st_ctim), which cp -p, tar x or touch cannot set */
    char hash[65];    /* SHA-256 of the bytes (a link: of its target; a directory: "-") */
};

struct wf_manifest {
    struct wf_entry *v;
    size_t n, cap;
    char state[65];    /* the digest of the inputs */
    uint64_t eif_size; /* the image written from them, as it was then */
    int64_t eif_mtime_ns;
    size_t reread; /* files read (hashed) by wf_manifest_scan */
};

/* Reads path; a missing or malformed file gives an empty manifest. */
void wf_manifest_load(const char *path, struct wf_manifest *m);
/* Scans image_dir into m, taking hashes from old where size, mode and time match. extra: the
 * other inputs, folded into m->state. 0, or -1 with why. */
int wf_manifest_scan(const char *image_dir, const struct wf_manifest *old, const char *extra,
                     struct wf_manifest *m, char *why, size_t why_size);
/* Writes m to path (atomically). 0 or -errno. */
int wf_manifest_save(const char *path, const struct wf_manifest *m);
void wf_manifest_free(struct wf_manifest *m);

/* SHA-256 of bytes, as hex. */
void wf_sha256_hex(const void *data, size_t len, char out[65]);

#endif
