/* main.c: alcove-oci, a runc-compatible OCI runtime whose containers are enclaves: the global
 * flags podman and containerd pass, and the commands (docs/oci.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "oci/enclave.h"
#include "oci/lifecycle.h"
#include "oci/log.h"
#include "oci/state.h"

#ifndef ALCOVE_VERSION
#define ALCOVE_VERSION "0.0.0"
#endif
#define OCI_SPEC_VERSION "1.0.2"

struct oci_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int state; /* 1: reads the state root, 2: makes it when missing */
};

static const struct oci_command g_commands[] = {
    {"create", oci_cmd_create, "create a container (its enclave waits for start)", 2},
    {"start", oci_cmd_start, "start a created container's workload", 1},
    {"run", oci_cmd_run, "create and start a container, wait for it, delete it", 2},
    {"state", oci_cmd_state, "print a container's state (JSON)", 1},
    {"exec", oci_cmd_exec, "run a process in a running container (with alcove.exec)", 1},
    {"kill", oci_cmd_kill, "send a signal (TERM, INT, HUP, QUIT, KILL end the enclave)", 1},
    {"pause", oci_cmd_pause, "stop every vCPU of a running container's enclave", 1},
    {"resume", oci_cmd_resume, "let a paused container's enclave run again", 1},
    {"delete", oci_cmd_delete, "delete a stopped (or, with --force, any) container", 1},
    {"list", oci_cmd_list, "list containers (--format table|json, --quiet)", 1},
    {"ps", oci_cmd_ps, "a container's host processes (its monitor)", 1},
    {"features", oci_cmd_features, "what this runtime supports (JSON)", 0},
    {"spec", oci_cmd_spec, "write a starting config.json", 0},
    {"pcrs", oci_cmd_pcrs, "the PCRs a bundle's enclave will report (before it runs)", 0},
};
#define NCOMMANDS (sizeof(g_commands) / sizeof(g_commands[0]))

/* Commands runc has that an enclave cannot do yet: refused with a reason. */
static const struct {
    const char *name, *why;
} g_refused[] = {
    {"update", "an enclave's memory and vCPUs are fixed when it starts"},
    {"checkpoint", "an enclave's memory never leaves it"},
    {"restore", "an enclave's memory never leaves it"},
    {"events", "no cgroup statistics for enclaves yet"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "alcove-oci %s: an OCI runtime (runc's commands) whose containers are enclaves\n\n"
            "Usage: alcove-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ID\n\nCommands:\n",
            ALCOVE_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", g_commands[i].name, g_commands[i].summary);
    fprintf(f, "\nGlobal options:\n"
               "  --root DIR          the containers' state (default " OCI_STATE_ROOT_DEFAULT ")\n"
               "  --log FILE          log there (errors go to stderr too)\n"
               "  --log-format F      text (default) or json\n"
               "  --systemd-cgroup    accepted; enclaves have no cgroup of their own yet\n"
               "  --debug             debug lines in the log\n"
               "  -v, --version       the version and the runtime-spec version\n"
               "See docs/oci.md.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"log", required_argument, NULL, 'l'},
        {"log-format", required_argument, NULL, 'f'},
        {"systemd-cgroup", no_argument, NULL, 's'},
        {"debug", no_argument, NULL, 'd'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"rootless", required_argument, NULL, 's'},
        {"criu", required_argument, NULL, 's'},
        {0},
    };
    const char *log = NULL, *format = "text";
    int debug = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            oci_state_set_root(optarg);
            break;
        case 'l':
            log = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 's':
            break;
        case 'd':
            debug = 1;
            break;
        case 'v':
            printf("alcove-oci version %s\nspec: %s\n", ALCOVE_VERSION, OCI_SPEC_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            alc_err_report(E_INVALID_ARGUMENT, "unknown global option '%s'", argv[optind - 1]);
            return 1;
        }
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
        alc_err_report(E_INVALID_ARGUMENT, "--log-format %s: expected text or json", format);
        return 1;
    }
    if (oci_log_open(log, strcmp(format, "json") == 0))
        return 1;
    oci_log_set_debug(debug);
    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    const char *name = argv[optind];
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, g_commands[i].name) == 0) {
            oci_debug("%s", name);
            /* a root that is not this user's alone is refused before anything reads it */
            int root = g_commands[i].state ? oci_root_open(g_commands[i].state == 2) : 0;
            if (root < 0 && root != -ENOENT)
                return 1;
            return g_commands[i].run(argc - optind, argv + optind);
        }
    for (size_t i = 0; i < sizeof(g_refused) / sizeof(g_refused[0]); i++)
        if (strcmp(name, g_refused[i].name) == 0) {
            oci_err(E_INVALID_ARGUMENT, "%s is not supported: %s", name, g_refused[i].why);
            return 1;
        }
    oci_err(E_INVALID_ARGUMENT, "unknown command '%s' (see alcove-oci --help)", name);
    return 1;
}
