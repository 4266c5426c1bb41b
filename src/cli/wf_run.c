/* wf_run.c: alcove run's part of the workflow (wf_run.h). */
#include "cli/wf_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errors.h"
#include "cli/wf_build.h"
#include "cpio/cpio.h"
#include "image/boot_image.h"

#define STATUS_ALCOVE_FAILED 125
#define STATUS_CANNOT_RUN    126

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* True when path is a file that starts as an image does (an EIF given in an init directory is
 * that image, not a program of the directory's) */
static int is_eif(const char *path)
{
    uint8_t magic[4] = {0};
    int fd = is_file(path) ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
    if (fd < 0)
        return 0;
    bool yes = pread(fd, magic, 4, 0) == 4 && boot_image_is_eif(magic, 4);
    close(fd);
    return yes;
}

/* A hint, not a check (the image is what runs, and it says what it enforces): the directory's
 * alcove.json is newer than its image. */
static void warn_stale(const char *conf, const char *eif)
{
    struct stat c, e;
    if (stat(conf, &c) == 0 && stat(eif, &e) == 0 &&
        (c.st_mtim.tv_sec > e.st_mtim.tv_sec ||
         (c.st_mtim.tv_sec == e.st_mtim.tv_sec && c.st_mtim.tv_nsec > e.st_mtim.tv_nsec)))
        fprintf(stderr,
                "alcove: warning: %s changed after %s was built: it runs as built ('alcove "
                "build' makes it anew)\n",
                conf, eif);
}

int wf_run_resolve(const char *arg, char **eif)
{
    struct stat st;
    char conf[4200];
    *eif = NULL;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(conf, sizeof(conf), "%s/%s", arg, WF_CONFIG_FILE);
        if (!is_file(conf))
            return 0; /* the run command's own error for a directory */
        if (asprintf(eif, "%s/%s", arg, WF_EIF_PATH) < 0)
            return -1;
        if (!is_file(*eif)) {
            alc_err_report(E_WORKFLOW_CONFIG, "%s has no image yet: run 'alcove build %s' first",
                           arg, arg);
            free(*eif);
            *eif = NULL;
            return -1;
        }
        warn_stale(conf, *eif);
        return 1;
    }
    /* in an init directory, `alcove run /abs/prog` means that image's program, unless the
     * path is a file on the host (which `alcove run` runs as it always does) */
    if (arg[0] == '/' && !is_eif(arg) && access(arg, F_OK) != 0 && is_file(WF_CONFIG_FILE) &&
        is_file(WF_EIF_PATH)) {
        *eif = strdup(WF_EIF_PATH);
        if (*eif)
            warn_stale(WF_CONFIG_FILE, *eif);
        return *eif ? 2 : -1;
    }
    return 0;
}

int wf_ramdisk_file(const uint8_t *ramdisk, size_t size, const char *name, struct cpio_entry *out)
{
    size_t pos = 0, want = strlen(name);
    while (pos < size) {
        while (pos < size && ramdisk[pos] == 0)
            pos++; /* padding between archives */
        if (pos >= size)
            break;
        struct cpio_entry e;
        enum cpio_status st;
        while ((st = cpio_next(ramdisk, size, &pos, &e)) == CPIO_ENTRY) {
            const char *n = e.name;
            size_t len = e.name_len;
            if (len >= 2 && n[0] == '.' && n[1] == '/')
                n += 2, len -= 2;
            if (len == want && memcmp(n, name, len) == 0 && (e.mode & S_IFMT) == S_IFREG) {
                *out = e;
                return 1;
            }
        }
        if (st == CPIO_MALFORMED)
            break; /* the enclave kernel will say so */
    }
    return 0;
}

int wf_run_config(const uint8_t *ramdisk, size_t size, struct wf_config *c)
{
    struct cpio_entry e;
    if (!wf_ramdisk_file(ramdisk, size, WF_CONFIG_FILE, &e))
        return 0;
    /* an image from anywhere: only what alcove build writes is taken, byte for byte its
     * canonical form (a duplicate key, an embedded NUL, a huge value are not) */
    if (e.size > WF_CONFIG_MAX) {
        alc_err_report(E_WORKFLOW_CONFIG, "the image's alcove.json is over %u bytes",
                       WF_CONFIG_MAX);
        return E_WORKFLOW_CONFIG;
    }
    int err = wf_config_parse((const char *)e.data, e.size, "the image's alcove.json", false, c);
    if (err)
        return err;
    char *canon = wf_config_canonical(c);
    bool same = canon && strlen(canon) == e.size && memcmp(canon, e.data, e.size) == 0;
    free(canon);
    if (!same) {
        wf_config_free(c);
        alc_err_report(E_WORKFLOW_CONFIG, "the image's alcove.json is not the canonical "
                                          "form alcove build writes: refused");
        return E_WORKFLOW_CONFIG;
    }
    return 1;
}

static void list_entry_points(const struct wf_config *c, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < c->nentry && used + 1 < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", c->entry_points[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int wf_run_check(const struct wf_config *c, int argc, char *const *argv, char ***env, int *envc)
{
    char list[1024];
    list_entry_points(c, list, sizeof(list));
    if (argc < 1) {
        alc_err_report(E_ENTRY_POINT_REFUSED,
                       "which program? the image runs one of its entry points (%s)", list);
        return STATUS_ALCOVE_FAILED;
    }
    if (!wf_entry_allowed(c, argv[0])) {
        alc_err_report(E_ENTRY_POINT_REFUSED, "%s: not one of the image's entry points (%s)",
                       argv[0], list);
        return STATUS_CANNOT_RUN;
    }
    for (int i = 0; i < *envc; i++) {
        const char *kv = (*env)[i];
        size_t n = strcspn(kv, "=");
        if (!wf_env_allowed(c, kv, n)) {
            alc_err_report(E_ENV_REFUSED,
                           "--env %.*s: the image's env.untrusted does not list it, so the "
                           "host may not set it",
                           (int)n, kv);
            return STATUS_ALCOVE_FAILED;
        }
    }
    return 0;
}

uint64_t wf_run_memory_mib(const struct wf_config *c, size_t image_bytes)
{
    uint64_t mib = (c->user_space_size + image_bytes + (1u << 20) - 1) >> 20;
    return (mib + 1) & ~1ull;
}
