/* cmd_terminate_enclave.c: `alcove terminate-enclave (--enclave-id ID | --enclave-name N |
 * --all)`, nitro-cli's: stops the enclave through its control socket and waits until its
 * monitor has exited (vCPUs stopped, vsock connections closed, memory freed, sockets and files
 * removed); an enclave whose application has already ended is just removed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "cli/json_out.h"
#include "common/errors.h"
#include "common/runtime.h"

static int terminate_one(struct enclave_rec *e, cJSON **out)
{
    if (e->running) {
        int fd = enclave_control(e->cid, "TERMINATE");
        if (fd < 0) {
            if (runtime_cid_running(e->cid)) {
                alc_err_report(E_ENCLAVE_PROCESS_CONNECTION, "enclave %s: %s",
                               enclave_field(e, "EnclaveID"), strerror(errno));
                return E_ENCLAVE_PROCESS_CONNECTION;
            }
        } else {
            /* the monitor closes the socket by exiting; "ERROR ..." if it refused */
            char buf[64];
            ssize_t n, total = 0;
            while ((n = read(fd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0 &&
                   total < (ssize_t)sizeof(buf) - 1)
                total += n;
            close(fd);
            buf[total] = 0;
            if (strncmp(buf, "ERROR EACCES", 12) == 0) {
                alc_err_report(E_ENCLAVE_PROCESS_CONNECTION,
                               "enclave %s: only root and the user who started it may stop it",
                               enclave_field(e, "EnclaveID"));
                return E_ENCLAVE_PROCESS_CONNECTION;
            }
        }
    }
    if (!runtime_cid_running(e->cid))
        runtime_remove(e->cid);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "EnclaveName", enclave_field(e, "EnclaveName"));
    cJSON_AddStringToObject(*out, "EnclaveID", enclave_field(e, "EnclaveID"));
    cJSON_AddBoolToObject(*out, "Terminated", 1);
    fprintf(stderr, "Successfully terminated enclave %s.\n", enclave_field(e, "EnclaveID"));
    return 0;
}

static int run_terminate(int argc, char **argv)
{
    const char *id = NULL, *name = NULL;
    bool all = false;
    for (int i = 1; i < argc; i++) {
        struct args_opt o;
        args_opt_split(argc, argv, i, &o);
        if (strcmp(o.name, "--enclave-id") == 0 || strcmp(o.name, "--enclave-name") == 0) {
            const char *v = args_opt_value(&o, &i);
            if (!v)
                return ARGS_USAGE_EXIT;
            *(strcmp(o.name, "--enclave-id") == 0 ? &id : &name) = v;
        } else if (strcmp(o.name, "--all") == 0) {
            if (args_opt_flag(&o))
                return ARGS_USAGE_EXIT;
            all = true;
        } else {
            return args_usage_error(E_INVALID_ARGUMENT, "unknown option '%s'", argv[i]);
        }
    }
    if ((id != NULL) + (name != NULL) + all != 1) {
        bool none = !id && !name && !all;
        return args_usage_error(none ? E_MISSING_ARGUMENT : E_CONFLICTING_ARGUMENT,
                                "give exactly one of --enclave-id, --enclave-name and --all");
    }
    int err = enclaves_runtime_check();
    if (err)
        return err;
    struct enclave_rec *list;
    size_t n;
    enclaves_list(&list, &n);
    int status = 0;
    if (all) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *o = NULL;
            int r = terminate_one(&list[i], &o);
            if (o)
                cJSON_AddItemToArray(arr, o);
            else if (r != E_ENCLAVE_PROCESS_CONNECTION) /* another user's: skipped, as nitro */
                status = r;
        }
        json_print(stdout, arr);
        cJSON_Delete(arr);
    } else {
        struct enclave_rec *e = enclaves_find(list, n, id, name);
        if (!e) {
            /* nitro-cli: a name that matches none is its naming error */
            status = name ? E_ENCLAVE_NAMING : E_ENCLAVE_NOT_FOUND;
            alc_err_report(status, "no enclave %s", id ? id : name);
        } else {
            cJSON *o = NULL;
            status = terminate_one(e, &o);
            if (o) {
                json_print(stdout, o);
                cJSON_Delete(o);
            }
        }
    }
    enclaves_free(list, n);
    return status;
}

const struct command cmd_terminate_enclave = {
    .name = "terminate-enclave",
    .run = run_terminate,
    .summary = "stop an enclave and free what it holds (nitro-cli's terminate-enclave)",
    .usage = "Usage: alcove terminate-enclave (--enclave-id ID | --enclave-name NAME | --all)\n\n"
             "Stops the enclave's vCPUs, closes its vsock connections, frees its memory and CPUs,\n"
             "removes its sockets, and prints {EnclaveName, EnclaveID, Terminated}. --all stops\n"
             "every enclave this user may stop and prints an array.\n",
};
