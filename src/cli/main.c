/* main.c: the alcove command: dispatch to a subcommand from the table. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/errors.h"

#ifndef ALCOVE_VERSION
#define ALCOVE_VERSION "0.0.0"
#endif

static const struct command *const g_commands[] = {
    &cmd_run,
    &cmd_run_enclave,
    &cmd_describe_enclaves,
    &cmd_terminate_enclave,
    &cmd_console,
    &cmd_build,
    &cmd_describe_eif,
    &cmd_pcr,
    &cmd_sign_eif,
    &cmd_explain,
    &cmd_ca,
    &cmd_verify_attestation,
    &cmd_connect,
    &cmd_vsock_proxy,
    &cmd_allocator,
    &cmd_init,
    &cmd_wf_build,
    &cmd_package,
    &cmd_start,
    &cmd_exec,
    &cmd_stop,
};
#define NCOMMANDS (sizeof(g_commands) / sizeof(g_commands[0]))

int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0 || argv[i][0] != '-')
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

void print_usage(const struct command *c)
{
    fputs(c->usage, stdout);
}

static void print_help(void)
{
    printf("alcove %s: confidential-computing enclaves on any Linux host with KVM\n\n"
           "Usage: alcove COMMAND [OPTIONS]\n\nCommands:\n",
           ALCOVE_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-18s %s\n", g_commands[i]->name, g_commands[i]->summary);
    printf(
        "\nRun 'alcove COMMAND --help' for a command's options.\n"
        "Options:\n  -h, --help         show this help\n  -V, --version      show the version\n");
}

/* Descriptors 0-2 that the caller closed get /dev/null, so that no socket or file the command
 * opens takes their number (alcove exec would read its own connection as stdin). */
static void open_closed_stdio(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (n >= 0 && n != fd)
            close(n); /* a lower one was closed too and took it: that one is covered */
    }
}

int main(int argc, char **argv)
{
    open_closed_stdio();
    if (argc < 2) {
        /* as nitro-cli's clap (arg_required_else_help): the help, and status 2 */
        print_help();
        return ARGS_USAGE_EXIT;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (strcmp(argv[2], g_commands[i]->name) == 0) {
                    print_usage(g_commands[i]);
                    return 0;
                }
        }
        print_help();
        return 0;
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("alcove %s\n", ALCOVE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(name, g_commands[i]->name) == 0) {
            if (wants_help(argc - 1, argv + 1)) {
                print_usage(g_commands[i]);
                return 0;
            }
            return g_commands[i]->run(argc - 1, argv + 1);
        }
    }
    return args_usage_error(E_INVALID_ARGUMENT, "unknown command '%s' (see 'alcove --help')", name);
}
