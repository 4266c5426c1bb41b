/* cmd_package.c: `alcove package [DIR] -o FILE`: the one file to copy to another host. It is
 * DIR's enclave image itself (built first if anything changed): its alcove.json is measured into
 * it, so `alcove run FILE PROGRAM [ARGS]` anywhere enforces the same entry points, environment
 * and limits, and its PCRs are the build's. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/wf_build.h"
#include "common/errors.h"
#include "common/fileio.h"

static int copy_fill(int fd, void *arg)
{
    int in = *(int *)arg;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w < 0 && errno != EINTR)
                return -errno;
            done += w > 0 ? w : 0;
        }
    }
}

/* Whether out (as the file it would be) is under dir/image/ or is dir/alcove.json or one of
 * dir/build's records. A path whose directory does not exist yet is not (nothing there). */
static bool out_in_inputs(const char *dir, const char *out)
{
    char d[PATH_MAX], parent[PATH_MAX], tmp[PATH_MAX];
    if (!realpath(dir, d) || snprintf(tmp, sizeof(tmp), "%s", out) >= (int)sizeof(tmp))
        return false;
    char *slash = strrchr(tmp, '/');
    const char *base = out, *pdir = ".";
    if (slash) {
        *slash = 0;
        base = slash + 1;
        pdir = tmp[0] ? tmp : "/";
    }
    if (!realpath(pdir, parent))
        return false;
    char full[2 * PATH_MAX + 2], image[PATH_MAX + 8];
    snprintf(full, sizeof(full), "%s/%s", strcmp(parent, "/") ? parent : "", base);
    snprintf(image, sizeof(image), "%s/image/", d);
    if (strncmp(full, image, strlen(image)) == 0)
        return true;
    static const char *const records[] = {"alcove.json", "build/manifest",
                                          "build/measurements.json"};
    for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
        char r[PATH_MAX + 32];
        snprintf(r, sizeof(r), "%s/%s", d, records[i]);
        if (strcmp(full, r) == 0)
            return true;
    }
    return false;
}

static int run_package(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output-file", required_argument, NULL, 'o'},
        {"signing-certificate", required_argument, NULL, 'C'},
        {"private-key", required_argument, NULL, 'K'},
        {"cert", required_argument, NULL, 'C'}, /* short forms */
        {"key", required_argument, NULL, 'K'},
        {0},
    };
    const char *out = NULL, *cert = NULL, *key = NULL;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        if (ch == 'o')
            out = optarg;
        else if (ch == 'C')
            cert = optarg;
        else if (ch == 'K')
            key = optarg;
        else
            return args_getopt_error(ch, argv, "package");
    }
    const char *dir = ".";
    if (optind < argc)
        dir = argv[optind++];
    if (optind < argc && !out && strcmp(argv[optind], "-o") == 0 && optind + 1 < argc) {
        out = argv[optind + 1]; /* alcove package DIR -o FILE */
        optind += 2;
    }
    if (optind < argc)
        return args_usage_error(E_INVALID_ARGUMENT, "unexpected '%s'", argv[optind]);
    if (!out)
        return args_usage_error(E_MISSING_ARGUMENT, "-o FILE is required");
    if (!!cert != !!key)
        return args_usage_error(E_MISSING_ARGUMENT,
                                "--signing-certificate and --private-key go together");
    if (out_in_inputs(dir, out))
        return args_usage_error(E_INVALID_ARGUMENT,
                                "-o %s is one of %s's inputs (image/, alcove.json, build's "
                                "records): the next build would read the package itself",
                                out, dir);
    int err = output_path_check(out);
    if (err) {
        alc_err_report(E_FILE_OPERATION, "-o %s: %s", out, fileio_strerror(-err));
        return E_FILE_OPERATION;
    }
    int code = wf_build(dir, cert, key, 1);
    if (code)
        return code;
    char eif[4200];
    snprintf(eif, sizeof(eif), "%s/%s", dir, WF_EIF_PATH);
    int in = open(eif, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        alc_err_report(E_READ_FROM_DISK, "%s: %s", eif, strerror(errno));
        return E_READ_FROM_DISK;
    }
    err = write_file_atomic_with(out, 0644, copy_fill, &in);
    close(in);
    if (err) {
        alc_err_report(E_FILE_OPERATION, "%s: %s", out, fileio_strerror(-err));
        return E_FILE_OPERATION;
    }
    fprintf(stderr, "Packaged %s as %s: run it with 'alcove run %s PROGRAM [ARGS]'.\n", dir, out,
            out);
    return 0;
}

const struct command cmd_package = {
    .name = "package",
    .run = run_package,
    .summary = "one file to copy to another host: DIR's image (as `occlum package`)",
    .usage =
        "Usage: alcove package [DIR] -o FILE [--signing-certificate CERT --private-key KEY]\n\n"
        "Builds DIR (as 'alcove build', incrementally) and writes its enclave image to FILE.\n"
        "alcove.json is measured in the image, so FILE is all another host needs:\n"
        "'alcove run FILE PROGRAM [ARGS]' there enforces its entry points, env.untrusted,\n"
        "memory and debuggable flag, and attests with the build's PCRs.\n",
};
