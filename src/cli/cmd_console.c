/* cmd_console.c: `alcove console`, nitro-cli's: the console of a debug-mode enclave on stdout,
 * from its backlog on, until the enclave ends or --disconnect-timeout passes. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "common/errors.h"

int console_attach(uint32_t cid, uid_t owner, int timeout_s)
{
    int fd = enclave_control(cid, owner, "CONSOLE");
    if (fd < 0) {
        alc_err_report(E_ENCLAVE_CONSOLE_CONNECTION, "enclave CID %u: %s", cid,
                       errno == EPERM ? enclave_socket_why() : strerror(errno));
        return E_ENCLAVE_CONSOLE_CONNECTION;
    }
    /* "OK\n", or "ERROR <why>\n" */
    char line[64];
    size_t n = 0;
    while (n < sizeof(line) - 1) {
        ssize_t r = read(fd, line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    if (strcmp(line, "OK") != 0) {
        close(fd);
        alc_err_report(E_ENCLAVE_CONSOLE_CONNECTION, "%s",
                       strcmp(line, "ERROR ENOTDEBUG") == 0
                           ? "the enclave was not started with --debug-mode"
                       : strcmp(line, "ERROR EACCES") == 0
                           ? "only root and the user who started the enclave may read its console"
                           : "the enclave's monitor refused");
        return E_ENCLAVE_CONSOLE_CONNECTION;
    }
    time_t end = timeout_s > 0 ? time(NULL) + timeout_s : 0;
    char buf[16384];
    for (;;) {
        int wait_ms = -1;
        if (end) {
            time_t left = end - time(NULL);
            if (left <= 0)
                break;
            wait_ms = (int)left * 1000;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t got = read(fd, buf, sizeof(buf));
        if (got <= 0)
            break;
        if (fwrite(buf, 1, (size_t)got, stdout) != (size_t)got)
            break;
        fflush(stdout);
    }
    close(fd);
    return 0;
}

static int run_console(int argc, char **argv)
{
    const char *id = NULL, *name = NULL;
    int timeout = 0;
    for (int i = 1; i < argc; i++) {
        struct args_opt o;
        args_opt_split(argc, argv, i, &o);
        bool known = strcmp(o.name, "--enclave-id") == 0 || strcmp(o.name, "--enclave-name") == 0 ||
                     strcmp(o.name, "--disconnect-timeout") == 0;
        if (!known) {
            return args_usage_error(E_INVALID_ARGUMENT, "unknown option '%s'", argv[i]);
        }
        const char *v = args_opt_value(&o, &i);
        if (!v)
            return ARGS_USAGE_EXIT;
        if (strcmp(o.name, "--enclave-id") == 0) {
            id = v;
        } else if (strcmp(o.name, "--enclave-name") == 0) {
            name = v;
        } else {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 1 || t > INT_MAX) {
                alc_err_report(E_INVALID_ARGUMENT, "--disconnect-timeout '%s': seconds > 0", v);
                return E_INVALID_ARGUMENT;
            }
            timeout = (int)t;
        }
    }
    if (!id == !name) {
        return args_usage_error(id ? E_CONFLICTING_ARGUMENT : E_MISSING_ARGUMENT,
                                "give one of --enclave-id and --enclave-name");
    }
    int err = enclaves_runtime_check();
    if (err)
        return err;
    struct enclave_rec *list;
    size_t n;
    enclaves_list(&list, &n);
    struct enclave_rec *e = enclaves_find(list, n, id, name);
    if (!e || !e->running) {
        int code = name ? E_ENCLAVE_NAMING : E_ENCLAVE_NOT_FOUND; /* as nitro-cli */
        alc_err_report(code, "no running enclave %s%s", id ? id : name, enclaves_hidden_note());
        enclaves_free(list, n);
        return code;
    }
    uint32_t cid = e->cid;
    uid_t owner = e->owner;
    enclaves_free(list, n);
    return console_attach(cid, owner, timeout);
}

const struct command cmd_console = {
    .name = "console",
    .run = run_console,
    .summary = "print a debug-mode enclave's console (nitro-cli's console)",
    .usage = "Usage: alcove console (--enclave-id ID | --enclave-name NAME) "
             "[--disconnect-timeout SECONDS]\n\n"
             "Prints the console of an enclave started with --debug-mode: the last 64 KiB, then\n"
             "what it writes, until it ends or the timeout passes. Several readers may attach.\n",
};
