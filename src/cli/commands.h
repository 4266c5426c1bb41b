/* commands.h: the alcove command table. One file per subcommand (cmd_<name>.c). */
#ifndef ALCOVE_COMMANDS_H
#define ALCOVE_COMMANDS_H

struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command's name; returns exit status */
    const char *summary;
    const char *usage; /* full --help text */
};

extern const struct command cmd_run;
extern const struct command cmd_build;
extern const struct command cmd_describe_eif;
extern const struct command cmd_pcr;
extern const struct command cmd_sign_eif;
extern const struct command cmd_explain;
extern const struct command cmd_run_enclave;
extern const struct command cmd_describe_enclaves;
extern const struct command cmd_terminate_enclave;
extern const struct command cmd_console;
extern const struct command cmd_ca;
extern const struct command cmd_verify_attestation;
extern const struct command cmd_connect;
extern const struct command cmd_vsock_proxy;
extern const struct command cmd_allocator;
extern const struct command cmd_init;
extern const struct command cmd_wf_build;
extern const struct command cmd_package;
extern const struct command cmd_start;
extern const struct command cmd_exec;
extern const struct command cmd_stop;

/* True when argv holds -h or --help before any "--" or non-option. */
int wants_help(int argc, char **argv);
/* Prints the usage of a command to stdout. */
void print_usage(const struct command *c);

#endif
