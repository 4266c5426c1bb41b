/* wf_config.h: alcove.json, the configuration of an `alcove init` directory (docs/workflow.md).
 * Its fields keep the meaning of Occlum.json's where alcove can give it: memory, thread and
 * process sizes, entry points, the environment (measured defaults and the names the host may
 * pass), metadata and tmpfs mounts. `alcove build` measures a canonical form of it into the
 * image (the application ramdisk's top-level file alcove.json); `alcove run` reads it back from
 * the image it boots, never from the host's copy. */
#ifndef ALCOVE_WF_CONFIG_H
#define ALCOVE_WF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WF_CONFIG_FILE "alcove.json"
#define WF_CONFIG_MAX  (1u << 20) /* a larger alcove.json is refused before it is read */

struct wf_config {
    uint64_t user_space_size; /* bytes: the program's memory (the enclave gets this + image) */
    uint64_t max_threads;     /* advisory (docs/workflow.md) */
    uint64_t stack_size, heap_size, mmap_size; /* advisory */
    char **entry_points;                       /* absolute paths: files or directories */
    size_t nentry;
    char **env_default; /* K=V, measured */
    size_t nenv_default;
    char **env_untrusted; /* names the host may set at run time */
    size_t nuntrusted;
    char **tmpfs; /* mount targets of type ramfs: a writable tmpfs each */
    size_t ntmpfs;
    char *name, *version;
    bool debuggable;
};

/* Parses alcove.json's text. origin names it in messages. Unknown keys and Occlum keys that have
 * no meaning here are warned about on stderr when warn is set; a bad value is reported as
 * [ E85 ] naming the key. Returns 0 or the error code (already reported). */
int wf_config_parse(const char *text, size_t len, const char *origin, bool warn,
                    struct wf_config *c);
/* Reads and parses DIR/alcove.json. */
int wf_config_load(const char *dir, struct wf_config *c);
void wf_config_free(struct wf_config *c);

/* The canonical JSON of c (fixed key order, sizes in bytes), malloc'd: what is measured. */
char *wf_config_canonical(const struct wf_config *c);
/* The alcove.json that `alcove init` writes, malloc'd. name: the image's name. */
char *wf_config_template(const char *name);

/* True when path is one of the entry points or lies under one that is a directory path. */
bool wf_entry_allowed(const struct wf_config *c, const char *path);
/* True when the host may set the variable NAME (env.untrusted). */
bool wf_env_allowed(const struct wf_config *c, const char *name, size_t name_len);
/* True when s is an absolute path without empty, "." or ".." components (a trailing '/' aside). */
bool wf_path_ok(const char *s);

#endif
