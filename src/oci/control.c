/* control.c: `state`, `kill`, `delete`, `list` and `ps`.
 *
 * Signals: the enclave has one workload, and the first rule is that TERM, INT, HUP and QUIT
 * end it as that signal would (the monitor tears the enclave down and exits 128 + N), and KILL
 * ends it the same way with status 137 (the teardown still runs; a monitor that has not ended
 * 5 s later gets a real SIGKILL). Signal 0 only checks that the container lives. Other signals
 * are refused until the enclave kernel can deliver them. A created container's monitor has not
 * started the enclave: it gets the signal itself. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/enclaves.h"
#include "common/errors.h"
#include "oci/lifecycle.h"
#include "oci/log.h"
#include "oci/state.h"

#define KILL_GRACE_MS 5000

static void print_json(cJSON *o)
{
    char *s = cJSON_Print(o);
    if (s)
        printf("%s\n", s);
    cJSON_free(s);
    cJSON_Delete(o);
}

/* Reads a container's state, or reports that it does not exist. 0 or -1. */
static int load(const char *id, struct oci_state *st)
{
    int r = oci_id_valid(id) ? oci_state_read(id, st) : -ENOENT;
    if (r == -ENOENT) {
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s does not exist", id);
        return -1;
    }
    if (r) {
        oci_err(E_READ_FROM_DISK, "container %s: its state: %s", id, strerror(-r));
        return -1;
    }
    return 0;
}

int oci_cmd_state(int argc, char **argv)
{
    if (argc != 2) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci state ID");
        return 1;
    }
    struct oci_state st;
    if (load(argv[1], &st))
        return 1;
    print_json(oci_state_json(&st));
    oci_state_free(&st);
    return 0;
}

/* "TERM", "SIGTERM" or "15": the signal number, or -1. */
static int parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
        {"USR1", SIGUSR1}, {"USR2", SIGUSR2},   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
        {"TERM", SIGTERM}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT}, {"STOP", SIGSTOP},
        {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH},
    };
    if (*s >= '0' && *s <= '9') {
        char *end;
        long n = strtol(s, &end, 10);
        return *end || n < 0 || n > 64 ? -1 : (int)n;
    }
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].sig;
    return -1;
}

/* Waits up to ms for the monitor to end. 1 when it did. */
static int wait_gone(const struct oci_state *st, int ms)
{
    for (int t = 0; t < ms; t += 10) {
        if (!oci_state_alive(st))
            return 1;
        usleep(10000);
    }
    return !oci_state_alive(st);
}

/* Ends or signals the workload (see the rules above). 0 or -1 (reported). */
static int signal_container(const struct oci_state *st, int sig)
{
    const char *status = oci_state_status(st);
    if (strcmp(status, "stopped") == 0) {
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s is not running", st->id);
        return -1;
    }
    if (sig == 0)
        return 0;
    if (strcmp(status, "created") == 0)
        return kill(st->pid, sig) ? -1 : 0;
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT)
        return kill(st->pid, sig) ? -1 : 0;
    if (sig != SIGKILL) {
        oci_err(E_INVALID_ARGUMENT,
                "signal %d: alcove-oci delivers only TERM, INT, HUP, QUIT and KILL (each ends the "
                "enclave) for now",
                sig);
        return -1;
    }
    char killed[PATH_MAX];
    if (oci_state_path(killed, sizeof(killed), st->id, "killed") == 0) {
        FILE *f = fopen(killed, "we");
        if (f) {
            fputs("9\n", f);
            fclose(f);
        }
    }
    kill(st->pid, SIGTERM);
    if (!wait_gone(st, KILL_GRACE_MS)) {
        oci_info("container %s: the monitor did not end in %d ms; SIGKILL", st->id, KILL_GRACE_MS);
        kill(st->pid, SIGKILL);
    }
    return 0;
}

int oci_cmd_kill(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
        if (c != 'a') {
            oci_err(E_INVALID_ARGUMENT, "kill: unknown option '%s'", argv[optind - 1]);
            return 1;
        }
    }
    if (optind >= argc || argc - optind > 2) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci kill [--all] ID [SIGNAL]");
        return 1;
    }
    const char *id = argv[optind];
    int sig = argc - optind == 2 ? parse_signal(argv[optind + 1]) : SIGTERM;
    if (sig < 0) {
        oci_err(E_INVALID_ARGUMENT, "kill: unknown signal '%s'", argv[optind + 1]);
        return 1;
    }
    struct oci_state st;
    if (load(id, &st))
        return 1;
    int rc = signal_container(&st, sig) ? 1 : 0;
    oci_state_free(&st);
    return rc;
}

int oci_cmd_delete(int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
    optind = 1;
    opterr = 0;
    int c, force = 0;
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (c != 'f') {
            oci_err(E_INVALID_ARGUMENT, "delete: unknown option '%s'", argv[optind - 1]);
            return 1;
        }
        force = 1;
    }
    if (optind != argc - 1) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci delete [--force] ID");
        return 1;
    }
    const char *id = argv[optind];
    int lock = oci_id_valid(id) ? oci_state_lock(id) : -ENOENT;
    if (lock == -ENOENT && force)
        return 0; /* as runc: nothing to delete is done */
    if (lock < 0) {
        oci_err(E_ENCLAVE_NOT_FOUND, "container %s does not exist", id);
        return 1;
    }
    struct oci_state st;
    int r = oci_state_read(id, &st);
    const char *status = r ? "stopped" : oci_state_status(&st);
    if (strcmp(status, "running") == 0 && !force) {
        oci_err(E_INVALID_ARGUMENT, "container %s is running: stop it or delete --force", id);
        oci_state_free(&st);
        oci_state_unlock(lock);
        return 1;
    }
    if (strcmp(status, "stopped") != 0) {
        signal_container(&st, SIGKILL);
        if (!wait_gone(&st, KILL_GRACE_MS))
            oci_info("container %s: monitor %d still there after SIGKILL", id, (int)st.pid);
    }
    /* a monitor that ended without its teardown (SIGKILL) left its runtime-directory files:
     * listing the enclaves removes those of dead monitors */
    struct enclave_rec *recs;
    size_t n;
    if (enclaves_list(&recs, &n) == 0)
        enclaves_free(recs, n);
    oci_state_free(&st);
    oci_state_remove(id);
    oci_state_unlock(lock);
    return 0;
}

struct list_ctx {
    int json, quiet;
    cJSON *arr;
};

static int list_one(const char *id, void *arg)
{
    struct list_ctx *c = arg;
    struct oci_state st;
    if (oci_state_read(id, &st))
        return 0;
    if (c->json) {
        cJSON_AddItemToArray(c->arr, oci_state_json(&st));
    } else if (c->quiet) {
        printf("%s\n", id);
    } else {
        const char *status = oci_state_status(&st);
        printf("%-12s %-10d %-10s %-40s %-30s %s\n", id,
               strcmp(status, "stopped") == 0 ? 0 : (int)st.pid, status, st.bundle, st.created,
               "root");
    }
    oci_state_free(&st);
    return 0;
}

int oci_cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {0}};
    struct list_ctx c = {0};
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "f:q", opts, NULL)) != -1) {
        if (o == 'q') {
            c.quiet = 1;
        } else if (o == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0)) {
            c.json = strcmp(optarg, "json") == 0;
        } else {
            oci_err(E_INVALID_ARGUMENT, "list: expected --format table|json or --quiet");
            return 1;
        }
    }
    if (c.json)
        c.arr = cJSON_CreateArray();
    else if (!c.quiet)
        printf("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
    int r = oci_state_each(list_one, &c);
    if (c.json)
        print_json(c.arr);
    if (r) {
        oci_err(E_READ_FROM_DISK, "%s: %s", oci_state_root(), strerror(-r));
        return 1;
    }
    return 0;
}

/* ps: the container's host processes, which is its monitor alone (the workload's processes
 * live in the enclave kernel). */
int oci_cmd_ps(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
    int json = 0, o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
        if (o == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0)) {
            json = strcmp(optarg, "json") == 0;
        } else {
            oci_err(E_INVALID_ARGUMENT, "ps: expected --format table|json");
            return 1;
        }
    }
    if (optind >= argc) {
        oci_err(E_MISSING_ARGUMENT, "usage: alcove-oci ps [--format table|json] ID");
        return 1;
    }
    struct oci_state st;
    if (load(argv[optind], &st))
        return 1;
    int alive = strcmp(oci_state_status(&st), "stopped") != 0;
    if (json) {
        cJSON *a = cJSON_CreateArray();
        if (alive)
            cJSON_AddItemToArray(a, cJSON_CreateNumber(st.pid));
        print_json(a);
    } else {
        printf("PID\n");
        if (alive)
            printf("%d\n", (int)st.pid);
    }
    oci_state_free(&st);
    return 0;
}
