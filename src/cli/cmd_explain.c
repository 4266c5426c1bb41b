/* cmd_explain.c: `alcove explain --error-code Exx`, as nitro-cli explain. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/errors.h"

static int run_explain(int argc, char **argv)
{
    static const struct option opts[] = {{"error-code", required_argument, NULL, 'e'}, {0}};
    const char *code = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:e:", opts, NULL)) != -1) {
        if (c != 'e')
            return args_getopt_error(c, argv, "explain");
        code = optarg;
    }
    if (!code) {
        return args_usage_error(E_MISSING_ARGUMENT, "--error-code is required");
    }
    const char *digits = (code[0] == 'E' || code[0] == 'e') ? code + 1 : code;
    char *end;
    long n = strtol(digits, &end, 10);
    const char *text = *digits && !*end ? alc_err_explanation((int)n) : NULL;
    if (!text) {
        alc_err_report(E_INVALID_ARGUMENT, "no error code '%s'", code);
        return E_INVALID_ARGUMENT;
    }
    printf("E%02ld %s: %s\n", n, alc_err_description((int)n), text);
    return 0;
}

const struct command cmd_explain = {
    .name = "explain",
    .run = run_explain,
    .summary = "explain an error code",
    .usage = "Usage: alcove explain --error-code Exx\n\n"
             "Prints what an [ Exx ] error code means.\n",
};
