/* cmd_build.c: `alcove build-enclave`: an EIF from a static binary, a directory tree, an OCI
 * image layout tarball or a `docker save` tarball, with alcove's enclave kernel and boot ramdisk,
 * the application ramdisk (rootfs/, cmd, env), metadata, and optionally a signature. Prints the
 * measurements, as nitro-cli build-enclave. The same inputs give the same bytes (set
 * SOURCE_DATE_EPOCH to fix the build time in the metadata). */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/build_image.h"
#include "cli/commands.h"
#include "cli/json_out.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/progress.h"
#include "image/eif.h"
#include "image/eif_build.h"
#include "image/measure.h"
#include "image/metadata.h"
#include "image/rootfs.h"
#include "image/signing.h"
#include "monitor/kernel_image.h"

#ifndef ALCOVE_VERSION
#define ALCOVE_VERSION "0.0.0"
#endif

#define KERNEL_CMDLINE "alcove"

static int parse(int argc, char **argv, struct build_opts *o)
{
    static const struct option opts[] = {
        {"output-file", required_argument, NULL, 'o'},
        {"binary", required_argument, NULL, 'b'},
        {"rootfs", required_argument, NULL, 'r'},
        {"oci-archive", required_argument, NULL, 'O'},
        {"docker-archive", required_argument, NULL, 'D'},
        {"cmd", required_argument, NULL, 'c'},
        {"env", required_argument, NULL, 'e'},
        {"tmpfs", required_argument, NULL, 't'},
        {"name", required_argument, NULL, 'n'},
        {"version", required_argument, NULL, 'v'},
        {"signing-certificate", required_argument, NULL, 'C'},
        {"private-key", required_argument, NULL, 'K'},
        {0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->output = optarg;
            break;
        case 'b':
            o->binary = optarg;
            break;
        case 'r':
            o->rootfs = optarg;
            break;
        case 'O':
            o->oci = optarg;
            break;
        case 'D':
            o->docker = optarg;
            break;
        case 'c':
            o->cmd = optarg;
            break;
        case 'n':
            o->name = optarg;
            break;
        case 'v':
            o->version = optarg;
            break;
        case 'C':
            o->cert = optarg;
            break;
        case 'K':
            o->key = optarg;
            break;
        case 'e': {
            char **grown = realloc(o->env, (size_t)(o->envc + 1) * sizeof(char *));
            if (!grown)
                return E_UNSPECIFIED;
            o->env = grown;
            o->env[o->envc++] = optarg;
            break;
        }
        case 't': {
            char **grown = realloc(o->tmpfs, (size_t)(o->ntmpfs + 1) * sizeof(char *));
            if (!grown)
                return E_UNSPECIFIED;
            o->tmpfs = grown;
            o->tmpfs[o->ntmpfs++] = optarg;
            break;
        }
        default:
            return args_getopt_error(c, argv, "build-enclave");
        }
    }
    int sources = !!o->binary + !!o->rootfs + !!o->oci + !!o->docker;
    if (!o->output || sources == 0) {
        return args_usage_error(E_MISSING_ARGUMENT, "--output-file and one of --binary, --rootfs, "
                                                    "--oci-archive, --docker-archive are required");
    }
    if (sources > 1) {
        return args_usage_error(E_CONFLICTING_ARGUMENT,
                                "give one of --binary, --rootfs, --oci-archive, "
                                "--docker-archive");
    }
    if (!!o->cert != !!o->key) {
        return args_usage_error(E_MISSING_ARGUMENT,
                                "--signing-certificate and --private-key go together");
    }
    /* a FIFO, socket or device as the output is refused before the image is built (the rename
     * into place would replace it) */
    int out_err = output_path_check(o->output);
    if (out_err) {
        alc_err_report(E_FILE_OPERATION, "--output-file %s: %s", o->output,
                       fileio_strerror(-out_err));
        return E_FILE_OPERATION;
    }
    for (int i = 0; i < o->envc; i++) {
        if (!strchr(o->env[i], '=') || o->env[i][0] == '=') {
            alc_err_report(E_INVALID_ARGUMENT, "--env '%s': expected K=V", o->env[i]);
            return E_INVALID_ARGUMENT;
        }
    }
    return 0;
}

/* --cmd: a JSON array (["/bin/sh", "-c", "echo hi"]) or words separated by spaces. */
static int apply_cmd(struct rootfs *fs, const char *spec)
{
    char *words[256];
    int n = 0, err = 0;
    cJSON *arr = NULL;
    char *copy = NULL;
    if (spec[0] == '[') {
        arr = cJSON_Parse(spec);
        if (!cJSON_IsArray(arr))
            err = -1;
        for (cJSON *it = arr ? arr->child : NULL; it && !err; it = it->next) {
            if (!cJSON_IsString(it) || n == 255)
                err = -1;
            else
                words[n++] = it->valuestring;
        }
    } else {
        copy = strdup(spec);
        for (char *save, *w = strtok_r(copy, " \t", &save); w && n < 255;
             w = strtok_r(NULL, " \t", &save))
            words[n++] = w;
    }
    if (!err && n == 0)
        err = -1;
    words[n] = NULL;
    if (!err)
        err = rootfs_set_cmd(fs, words, n);
    cJSON_Delete(arr);
    free(copy);
    return err;
}

static char *default_name(const struct build_opts *o)
{
    const char *src = o->binary ? o->binary : o->rootfs ? o->rootfs : o->oci ? o->oci : o->docker;
    char *copy = strdup(src);
    char *base = strdup(basename(copy));
    free(copy);
    char *dot = strrchr(base, '.');
    if (dot && dot != base && (!strcmp(dot, ".tar") || !strcmp(dot, ".eif")))
        *dot = 0;
    return base;
}

static int load_rootfs(const struct build_opts *o, struct rootfs *fs, char *why, size_t n)
{
    struct progress *prog = progress_start("importing", 0);
    int err;
    if (o->binary)
        err = rootfs_from_binary(fs, o->binary, why, n);
    else if (o->rootfs)
        err = rootfs_from_dir(fs, o->rootfs, prog, why, n);
    else if (o->oci)
        err = rootfs_from_oci_archive(fs, o->oci, prog, why, n);
    else
        err = rootfs_from_docker_archive(fs, o->docker, prog, why, n);
    progress_end(prog);
    return err;
}

struct job {
    const struct eif_contents *c;
    struct eif_sign_request sign;
    bool signed_image;
    struct eif_pcrs *pcrs;
    char *why;
    size_t why_size;
};

static int fill_eif(int fd, void *arg)
{
    struct job *j = arg;
    uint64_t size;
    if (eif_write_measured(j->c, j->signed_image ? &j->sign : NULL, fd, j->pcrs, &size, j->why,
                           j->why_size))
        return -EIO;
    return 0;
}

/* Builds the image, measures it from its pieces (PCR0 on a second thread) and writes it straight
 * from them to the output (no copy of the whole image in memory). */
int build_enclave_image(const struct build_opts *o, struct eif_pcrs *pcrs)
{
    char why[512] = "";
    struct rootfs fs;
    rootfs_init(&fs);
    uint8_t *app = NULL, *boot = NULL;
    struct iovec *app_iov = NULL;
    int app_iovcnt = 0;
    uint64_t app_size = 0;
    char *cert = NULL, *key = NULL;
    char *meta_json = NULL, *name = NULL;
    size_t boot_size;
    int code = 0;

    if (load_rootfs(o, &fs, why, sizeof(why))) {
        code = (o->oci || o->docker) ? E_DOCKER_IMAGE_BUILD : E_READ_FROM_DISK;
        alc_err_report(code, "%s", why);
        goto out;
    }
    for (int i = 0; i < o->nfiles; i++) {
        const struct build_file *f = &o->files[i];
        if (rootfs_add_file(&fs, f->path, f->mode, f->data, f->size)) {
            code = E_UNSPECIFIED;
            alc_err_report(code, "%s: out of memory", f->path);
            goto out;
        }
    }
    if (o->workflow_json && !(fs.workflow = strdup(o->workflow_json))) {
        code = E_UNSPECIFIED;
        alc_err_report(code, "out of memory");
        goto out;
    }
    if (o->cmd && apply_cmd(&fs, o->cmd)) {
        code = E_INVALID_ARGUMENT;
        alc_err_report(code, "--cmd '%s': expected words or a JSON array of strings", o->cmd);
        goto out;
    }
    for (int i = 0; i < o->envc; i++)
        rootfs_set_env(&fs, o->env[i]);
    for (int i = 0; i < o->ntmpfs; i++) {
        if (rootfs_add_tmpfs(&fs, o->tmpfs[i])) {
            code = E_INVALID_ARGUMENT;
            alc_err_report(code, "--tmpfs '%s': expected an absolute directory path", o->tmpfs[i]);
            goto out;
        }
    }
    /* the application ramdisk as pieces that point into fs's files: never copied whole */
    if (rootfs_customer_ramdisk_pieces(&fs, &app_iov, &app_iovcnt, &app, &app_size, why,
                                       sizeof(why)) ||
        rootfs_boot_ramdisk(&boot, &boot_size)) {
        code = E_EIF_BUILDING;
        alc_err_report(code, "%s", why[0] ? why : "cannot build the ramdisks");
        goto out;
    }

    char build_time[64];
    eif_build_time(build_time, sizeof(build_time));
    name = default_name(o);
    struct eif_metadata meta = {
        .image_name = (char *)(o->name         ? o->name
                               : fs.image_name ? fs.image_name
                                               : name),
        .image_version = (char *)(o->version         ? o->version
                                  : fs.image_version ? fs.image_version
                                                     : "latest"),
        .build_time = build_time,
        .build_tool = (char *)"alcove",
        .build_tool_version = (char *)ALCOVE_VERSION,
        .operating_system = (char *)"alcove",
        .kernel_version = (char *)ALCOVE_VERSION,
        .docker_info_json = fs.config_json,
        .custom_json = NULL,
    };
    meta_json = eif_metadata_to_json(&meta);
    size_t ksize;
    const uint8_t *kernel = kernel_image_builtin(&ksize);
    struct eif_blob ramdisks[2] = {
        {.data = boot, .size = boot_size},
        {.size = app_size, .iov = app_iov, .iovcnt = app_iovcnt},
    };
    struct eif_contents c = {
        .kernel = {.data = kernel, .size = ksize},
        .cmdline = {.data = (const uint8_t *)KERNEL_CMDLINE, .size = strlen(KERNEL_CMDLINE)},
        .metadata = {.data = (const uint8_t *)meta_json, .size = meta_json ? strlen(meta_json) : 0},
        .ramdisks = ramdisks,
        .nramdisks = 2,
    };
    if (!meta_json) {
        code = E_EIF_BUILDING;
        alc_err_report(code, "out of memory");
        goto out;
    }
    struct job job = {.c = &c, .pcrs = pcrs, .why = why, .why_size = sizeof(why)};
    if (o->cert) {
        job.sign.cert_pem = cert = (char *)read_file(o->cert, &job.sign.cert_len);
        job.sign.key_pem = key = cert ? (char *)read_file(o->key, &job.sign.key_len) : NULL;
        if (!cert || !key) {
            code = E_FILE_OPERATION;
            alc_err_report(code, "%s: %s", cert ? o->key : o->cert, fileio_strerror(errno));
            goto out;
        }
        /* a bad key or certificate is found now, before anything is written */
        if (eif_signer_check(cert, job.sign.cert_len, key, job.sign.key_len, why, sizeof(why))) {
            code = E_EIF_SIGNING;
            alc_err_report(code, "%s", why);
            goto out;
        }
        job.signed_image = true;
    }
    int err = write_file_atomic_with(o->output, 0644, fill_eif, &job);
    if (err) {
        code = E_FILE_OPERATION;
        alc_err_report(code, "%s: %s", o->output, why[0] ? why : fileio_strerror(-err));
    }
out:
    free(app_iov);
    free(app);
    free(cert);
    free(key);
    free(boot);
    free(meta_json);
    free(name);
    rootfs_free(&fs);
    return code;
}

static int run_build(int argc, char **argv)
{
    struct build_opts o;
    memset(&o, 0, sizeof(o));
    int code = parse(argc, argv, &o);
    if (code) {
        free(o.env);
        free(o.tmpfs);
        return code;
    }
    fprintf(stderr, "Start building the Enclave Image...\n");
    fileio_guard_mapped_inputs(E_READ_FROM_DISK);
    struct eif_pcrs pcrs;
    code = build_enclave_image(&o, &pcrs);
    free(o.env);
    free(o.tmpfs);
    if (code)
        return code;
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "Measurements", json_measurements(&pcrs));
    json_print(stdout, out);
    cJSON_Delete(out);
    fprintf(stderr, "Enclave Image successfully created.\n");
    return 0;
}

const struct command cmd_build = {
    .name = "build-enclave",
    .run = run_build,
    .summary = "build an enclave image (EIF) from a binary, a directory or an OCI/docker archive",
    .usage =
        "Usage: alcove build-enclave --output-file OUT.eif SOURCE [OPTIONS]\n\n"
        "SOURCE is one of:\n"
        "  --binary FILE          a static x86-64 executable (it becomes /<name>, the command)\n"
        "  --rootfs DIR           a directory tree (give --cmd)\n"
        "  --oci-archive TAR      an OCI image layout tarball (docker buildx --output type=oci)\n"
        "  --docker-archive TAR   a `docker save` tarball\n\n"
        "Options:\n"
        "  --cmd CMD              the command: words, or a JSON array [\"/bin/sh\", \"-c\", "
        "\"...\"];\n"
        "                         replaces the image's Cmd/Entrypoint\n"
        "  --env K=V              an environment variable (repeatable; adds to the image's Env)\n"
        "  --tmpfs DIR            a writable in-memory file system at DIR (repeatable; /tmp\n"
        "                         always has one; an OCI image's Volumes get one each)\n"
        "  --name NAME            ImageName in the metadata\n"
        "  --version VERSION      ImageVersion in the metadata\n"
        "  --signing-certificate CERT.pem --private-key KEY.pem\n"
        "                         sign the image (ECDSA P-384); adds PCR8\n\n"
        "Prints {\"Measurements\": {...}} (PCR0, PCR1, PCR2 [, PCR8]) on stdout. The output is\n"
        "reproducible: the same inputs give the same bytes when SOURCE_DATE_EPOCH is set.\n",
};
