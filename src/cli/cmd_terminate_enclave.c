/* cmd_terminate_enclave.c: `alcove terminate-enclave (--enclave-id ID | --enclave-name N |
 * --all)`, nitro-cli's: stops the enclave through its control socket and waits until its
 * monitor has exited (vCPUs stopped, vsock connections closed, memory freed, sockets and files
 * removed); an enclave whose application has already ended is just removed. It prints
 * "Terminated": true only for an enclave whose monitor is gone; one that could not be stopped
 * is an [ E39 ] error. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "cli/json_out.h"
#include "common/errors.h"
#include "common/runtime.h"

/* How long terminate-enclave waits for a monitor to end before it says it could not
 * (ALCOVE_TERMINATE_TIMEOUT_MS overrides it, for the tests). */
#define TERMINATE_WAIT_MS 60000

static int64_t wait_ms(void)
{
    const char *env = getenv("ALCOVE_TERMINATE_TIMEOUT_MS");
    long long v = env && *env ? strtoll(env, NULL, 10) : 0;
    return v > 0 ? v : TERMINATE_WAIT_MS;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the enclave's monitor has let go of its description (it has exited) or the
 * deadline passes. Whether it is gone. */
static bool wait_gone(uint32_t cid, int64_t deadline)
{
    for (;;) {
        if (!runtime_cid_running(cid))
            return true;
        if (now_ms() >= deadline)
            return false;
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Sends TERMINATE and reads until the monitor closes the socket (by exiting, or by dropping
 * the client) or the deadline passes. 0, -1 (errno) when the socket could not be used, EACCES
 * when this user may not stop the enclave, or EPERM when the socket is not the enclave's
 * owner's (enclave_socket_why). */
static int send_terminate(uint32_t cid, uid_t owner, int64_t deadline)
{
    int fd = enclave_control(cid, owner, "TERMINATE");
    if (fd < 0)
        return errno == EACCES || errno == EPERM ? errno : -1;
    char buf[64];
    size_t total = 0;
    for (;;) {
        int64_t left = deadline - now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)(left > 1000 ? 1000 : left)) < 0) {
            if (left > 0 && errno == EINTR)
                continue;
            break;
        }
        if (!p.revents) {
            if (!runtime_cid_running(cid))
                break; /* it is gone; the socket's end will follow */
            continue;
        }
        ssize_t n = read(fd, buf + total, sizeof(buf) - 1 - total);
        if (n <= 0 || (total += (size_t)n) == sizeof(buf) - 1)
            break;
    }
    close(fd);
    buf[total] = 0;
    return strncmp(buf, "ERROR EACCES", 12) == 0 ? EACCES : 0;
}

/* Whether the description of this CID names the enclave id (or cannot be read): the CID may go
 * to a new enclave while an earlier TERMINATE is retried. */
static bool desc_is(uint32_t cid, const char *id)
{
    cJSON *j = runtime_read_desc(cid);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "EnclaveID");
    bool same = !j || (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0);
    cJSON_Delete(j);
    return same;
}

static bool still_running(uint32_t cid, const char *id)
{
    return runtime_cid_running(cid) && desc_is(cid, id);
}

/* Ends the enclave: TERMINATE through its control socket until its monitor has exited. A
 * control socket that refuses or drops the client is tried again until TERMINATE_WAIT_MS has
 * passed; only an enclave whose monitor is really gone counts as terminated. */
static int terminate_one(struct enclave_rec *e, cJSON **out, bool *denied)
{
    const char *id = enclave_field(e, "EnclaveID");
    if (e->running) {
        int64_t limit = wait_ms(), deadline = now_ms() + limit;
        int last_err = 0;
        while (still_running(e->cid, id)) {
            int r = send_terminate(e->cid, e->owner, deadline);
            if (r < 0 && errno == ENOENT && runtime_cid_running(e->cid)) {
                /* no control socket at all: an enclave that alcove run keeps in the foreground */
                alc_err_report(E_ENCLAVE_PROCESS_CONNECTION,
                               "enclave %s has no control socket: it runs in the foreground of "
                               "'alcove run', which ends it on Ctrl-C or SIGTERM",
                               id);
                return E_ENCLAVE_PROCESS_CONNECTION;
            }
            if (r == EPERM) {
                alc_err_report(E_ENCLAVE_PROCESS_CONNECTION, "enclave %s: %s", id,
                               enclave_socket_why());
                return E_ENCLAVE_PROCESS_CONNECTION;
            }
            if (r == EACCES) {
                *denied = true;
                alc_err_report(E_ENCLAVE_PROCESS_CONNECTION,
                               "enclave %s: only root and the user who started it may stop it", id);
                return E_ENCLAVE_PROCESS_CONNECTION;
            }
            if (r < 0)
                last_err = errno;
            /* the monitor closes the socket as it exits: give it a moment to be gone */
            int64_t settle = now_ms() + 1000;
            if (wait_gone(e->cid, settle < deadline ? settle : deadline))
                break;
            if (now_ms() >= deadline) {
                alc_err_report(E_ENCLAVE_PROCESS_CONNECTION,
                               "enclave %s did not end within %.1f s%s%s: it still runs", id,
                               (double)limit / 1000, last_err ? "; its control socket: " : "",
                               last_err ? strerror(last_err) : "");
                return E_ENCLAVE_PROCESS_CONNECTION;
            }
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (!runtime_cid_running(e->cid) && desc_is(e->cid, id))
        runtime_remove(e->cid); /* not another enclave's that took the CID meanwhile */
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "EnclaveName", enclave_field(e, "EnclaveName"));
    cJSON_AddStringToObject(*out, "EnclaveID", enclave_field(e, "EnclaveID"));
    cJSON_AddBoolToObject(*out, "Terminated", 1);
    fprintf(stderr, "Successfully terminated enclave %s.\n", id);
    return 0;
}

int enclaves_terminate(const char *id, cJSON **out)
{
    *out = NULL;
    struct enclave_rec *list;
    size_t n;
    int r = enclaves_list(&list, &n);
    if (r) {
        alc_err_report(E_FILE_OPERATION, "the runtime directory: %s", strerror(-r));
        return E_FILE_OPERATION;
    }
    struct enclave_rec *e = enclaves_find(list, n, id, NULL);
    int status = E_ENCLAVE_NOT_FOUND;
    bool denied = false;
    if (e)
        status = terminate_one(e, out, &denied);
    else
        alc_err_report(status, "no enclave %s%s", id, enclaves_hidden_note());
    enclaves_free(list, n);
    return status;
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
            bool denied = false;
            int r = terminate_one(&list[i], &o, &denied);
            if (o)
                cJSON_AddItemToArray(arr, o);
            else if (!denied) /* another user's: skipped, as nitro */
                status = r;
        }
        json_print(stdout, arr);
        cJSON_Delete(arr);
    } else {
        struct enclave_rec *e = enclaves_find(list, n, id, name);
        if (!e) {
            /* nitro-cli: a name that matches none is its naming error */
            status = name ? E_ENCLAVE_NAMING : E_ENCLAVE_NOT_FOUND;
            alc_err_report(status, "no enclave %s%s", id ? id : name, enclaves_hidden_note());
        } else {
            cJSON *o = NULL;
            bool denied = false;
            status = terminate_one(e, &o, &denied);
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
