/* cmd_wf_build.c: `alcove build [DIR]`: DIR/build/enclave.eif from DIR/image and DIR/alcove.json
 * (docs/workflow.md). The configuration is measured into the image (its canonical form is the
 * application ramdisk's alcove.json; env.default is its env, ramfs mounts its tmpfs list), so
 * PCR2 covers it. Incremental: DIR/build/manifest records the inputs; when none changed, the
 * image is left as it is and its recorded measurements are printed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/build_image.h"
#include "cli/commands.h"
#include "cli/json_out.h"
#include "cli/wf_build.h"
#include "cli/wf_config.h"
#include "cli/wf_exec.h"
#include "cli/wf_manifest.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "execproto/exec_rules.h"
#include "monitor/kernel_image.h"

#ifndef ALCOVE_VERSION
#define ALCOVE_VERSION "0.0.0"
#endif

/* the measured inputs other than image/: alcove's version, the configuration, the signing files */
static char *extra_inputs(const char *canonical, const char *cert, const char *key)
{
    char ch[65] = "-", kh[65] = "-";
    const char *paths[2] = {cert, key};
    char *out[2] = {ch, kh};
    for (int i = 0; i < 2; i++) {
        if (!paths[i])
            continue;
        size_t len;
        uint8_t *b = read_file(paths[i], &len);
        if (!b) {
            alc_err_report(E_FILE_OPERATION, "%s: %s", paths[i], fileio_strerror(errno));
            return NULL;
        }
        wf_sha256_hex(b, len, out[i]);
        free(b);
    }
    /* the built-in enclave kernel (what PCR0 and PCR1 measure) and SOURCE_DATE_EPOCH (the
     * image's timestamps): a new alcove or another epoch is a rebuild, as a changed file is */
    size_t ksize = 0;
    const uint8_t *kernel = kernel_image_builtin(&ksize);
    char kernel_hex[65], execd_hex[65];
    wf_sha256_hex(kernel, ksize, kernel_hex);
    size_t esize = 0;
    const uint8_t *execd = wf_execd_binary(&esize);
    wf_sha256_hex(execd, esize, execd_hex); /* the exec service, measured into every image */
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    char *s = NULL;
    if (asprintf(&s, "alcove %s\nkernel %s\nexecd %s\nepoch %s\ncert %s\nkey %s\n%s",
                 ALCOVE_VERSION, kernel_hex, execd_hex, epoch ? epoch : "-", ch, kh, canonical) < 0)
        return NULL;
    return s;
}

static int up_to_date(const struct wf_manifest *old, const struct wf_manifest *now, const char *eif,
                      const char *pcrs_path, int print)
{
    struct stat st;
    if (!old->state[0] || strcmp(old->state, now->state) || stat(eif, &st) ||
        (uint64_t)st.st_size != old->eif_size ||
        (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != old->eif_mtime_ns)
        return 0;
    size_t len;
    char *pcrs = (char *)read_file(pcrs_path, &len);
    if (!pcrs)
        return 0;
    if (print)
        fwrite(pcrs, 1, len, stdout);
    free(pcrs);
    return 1;
}

static int build_now(const char *dir, const struct wf_config *c, const char *canonical,
                     const char *cert, const char *key, const char *eif, const char *pcrs_path,
                     int print)
{
    char image[4096], cmd[4200];
    snprintf(image, sizeof(image), "%s/image", dir);
    /* the ramdisk's own command is the first entry point; `alcove run` always names one */
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateString(c->entry_points[0]));
    char *cmd_json = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    snprintf(cmd, sizeof(cmd), "%s", cmd_json ? cmd_json : "");
    free(cmd_json);
    /* the exec service of `alcove start` and its rules, in every image: measured, so an
     * attestation covers what `alcove exec` may run (docs/workflow.md) */
    char *rules = wf_exec_rules(c);
    if (!rules) {
        alc_err_report(E_UNSPECIFIED, "out of memory");
        return E_UNSPECIFIED;
    }
    if (strlen(rules) >= EXEC_RULES_TEXT_MAX) {
        alc_err_report(E_WORKFLOW_CONFIG,
                       "'entry_points', 'env.default' and 'env.untrusted' make %zu bytes of exec "
                       "rules (/.alcove/exec.rules); the exec service reads less than %u: fewer "
                       "or shorter entries",
                       strlen(rules), EXEC_RULES_TEXT_MAX);
        free(rules);
        return E_WORKFLOW_CONFIG;
    }
    size_t esize = 0;
    const uint8_t *execd = wf_execd_binary(&esize);
    const struct build_file files[] = {
        {WF_EXECD_PATH + 1, 0755, execd, esize},
        {".alcove/exec.rules", 0644, rules, strlen(rules)},
    };
    struct build_opts o = {
        .output = eif,
        .rootfs = image,
        .cmd = cmd,
        .name = c->name,
        .version = c->version,
        .cert = cert,
        .key = key,
        .env = c->env_default,
        .envc = (int)c->nenv_default,
        .tmpfs = c->tmpfs,
        .ntmpfs = (int)c->ntmpfs,
        .workflow_json = canonical,
        .files = files,
        .nfiles = 2,
    };
    struct eif_pcrs pcrs;
    fileio_guard_mapped_inputs(E_READ_FROM_DISK);
    int code = build_enclave_image(&o, &pcrs);
    fileio_unguard_mapped_inputs();
    free(rules);
    if (code)
        return code;
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "Measurements", json_measurements(&pcrs));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
        json_print(f, out);
        fclose(f);
    }
    cJSON_Delete(out);
    if (!buf) {
        alc_err_report(E_UNSPECIFIED, "out of memory");
        return E_UNSPECIFIED;
    }
    if (print)
        fwrite(buf, 1, len, stdout);
    int err = write_file_atomic(pcrs_path, buf, len, 0644);
    free(buf);
    if (err) {
        alc_err_report(E_FILE_OPERATION, "%s: %s", pcrs_path, fileio_strerror(-err));
        return E_FILE_OPERATION;
    }
    return 0;
}

int wf_build(const char *dir, const char *cert, const char *key, int print)
{
    struct wf_config c;
    int code = wf_config_load(dir, &c);
    if (code)
        return code;
    char image[4096], bdir[4096], eif[4200], man_path[4200], pcrs_path[4200], why[512] = "";
    snprintf(image, sizeof(image), "%s/image", dir);
    snprintf(bdir, sizeof(bdir), "%s/build", dir);
    snprintf(eif, sizeof(eif), "%s/%s", dir, WF_EIF_PATH);
    snprintf(man_path, sizeof(man_path), "%s/manifest", bdir);
    snprintf(pcrs_path, sizeof(pcrs_path), "%s/measurements.json", bdir);
    struct wf_manifest old, now;
    memset(&now, 0, sizeof(now));
    wf_manifest_load(man_path, &old);
    char *canonical = wf_config_canonical(&c);
    char *extra = canonical ? extra_inputs(canonical, cert, key) : NULL;
    struct stat st;
    if (!extra) {
        code = canonical ? E_FILE_OPERATION : E_UNSPECIFIED;
        goto out;
    }
    if (lstat(image, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* its scan would not follow the link while the image's builder does: the manifest
         * would record nothing and every later build would be "up to date" */
        code = E_WORKFLOW_CONFIG;
        alc_err_report(code, "%s is a symbolic link: make it the directory itself", image);
        goto out;
    }
    if (stat(image, &st) || !S_ISDIR(st.st_mode)) {
        code = E_WORKFLOW_CONFIG;
        alc_err_report(code, "%s: not a directory (the enclave's root tree; see 'alcove init')",
                       image);
        goto out;
    }
    char reserved[4200];
    snprintf(reserved, sizeof(reserved), "%s/%s", image, WF_RESERVED_DIR);
    if (lstat(reserved, &st) == 0) {
        code = E_WORKFLOW_CONFIG;
        alc_err_report(code, "%s: reserved for alcove's exec service (build puts it there)",
                       reserved);
        goto out;
    }
    if (wf_manifest_scan(image, &old, extra, &now, why, sizeof(why))) {
        code = E_READ_FROM_DISK;
        alc_err_report(code, "%s", why);
        goto out;
    }
    if (up_to_date(&old, &now, eif, pcrs_path, print)) {
        fprintf(stderr, "%s is up to date (%zu entries, %zu read again).\n", eif, now.n,
                now.reread);
        now.eif_size = old.eif_size;
        now.eif_mtime_ns = old.eif_mtime_ns;
        if (now.reread) /* touched files: their new times, so that they are not read again */
            wf_manifest_save(man_path, &now);
        goto out;
    }
    if (mkdir(bdir, 0755) && errno != EEXIST) {
        code = E_FILE_OPERATION;
        alc_err_report(code, "%s: %s", bdir, strerror(errno));
        goto out;
    }
    fprintf(stderr, "Building %s (%zu entries, %zu new or changed)...\n", eif, now.n, now.reread);
    unlink(man_path); /* a build that fails leaves no record that claims the old image */
    code = build_now(dir, &c, canonical, cert, key, eif, pcrs_path, print);
    if (code)
        goto out;
    if (stat(eif, &st) == 0) {
        now.eif_size = (uint64_t)st.st_size;
        now.eif_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        int err = wf_manifest_save(man_path, &now);
        if (err)
            fprintf(stderr, "alcove: warning: %s: %s (the next build starts over)\n", man_path,
                    strerror(-err));
    }
    fprintf(stderr, "Enclave Image successfully created.\n");
out:
    free(canonical);
    free(extra);
    wf_manifest_free(&old);
    wf_manifest_free(&now);
    wf_config_free(&c);
    return code;
}

static int run_wf_build(int argc, char **argv)
{
    static const struct option opts[] = {
        {"signing-certificate", required_argument, NULL, 'C'},
        {"private-key", required_argument, NULL, 'K'},
        {"cert", required_argument, NULL, 'C'}, /* short forms */
        {"key", required_argument, NULL, 'K'},
        {0},
    };
    const char *cert = NULL, *key = NULL;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (ch == 'C')
            cert = optarg;
        else if (ch == 'K')
            key = optarg;
        else
            return args_getopt_error(ch, argv, "build");
    }
    if (argc - optind > 1)
        return args_usage_error(E_INVALID_ARGUMENT, "expected at most one directory");
    if (!!cert != !!key)
        return args_usage_error(E_MISSING_ARGUMENT,
                                "--signing-certificate and --private-key go together");
    return wf_build(optind < argc ? argv[optind] : ".", cert, key, 1);
}

const struct command cmd_wf_build = {
    .name = "build",
    .run = run_wf_build,
    .summary = "build DIR/build/enclave.eif from an `alcove init` directory (as `occlum build`)",
    .usage =
        "Usage: alcove build [DIR] [--signing-certificate CERT.pem --private-key KEY.pem]\n\n"
        "Builds DIR/build/enclave.eif (DIR: the current directory by default) from DIR/image\n"
        "and DIR/alcove.json, whose entry points, env.default, limits and mounts are measured\n"
        "into the image (PCR2). Prints {\"Measurements\": {...}} as build-enclave does. The same\n"
        "inputs give the same PCRs. Incremental: when no file of image/, alcove.json or the\n"
        "signing files changed since the last build (DIR/build/manifest; a file whose size and\n"
        "time are unchanged is not read again), the image is kept and its measurements printed.\n"
        "With a certificate and key the image is signed (PCR8), as build-enclave's\n"
        "(--cert and --key are short forms).\n",
};
