/* cmd_wf_start.c: `alcove start [DIR]` and `alcove stop [DIR]` (docs/workflow.md, "start,
 * exec, stop"): a long-lived enclave for an `alcove init` directory, whose first process is the
 * exec service (src/execd/) that `alcove exec` asks to run programs. start launches the
 * directory's image detached, as run-enclave does, with the service as its command, waits until
 * the service answers, records the enclave in DIR/build/started.json (wf_started.h) and prints
 * run-enclave's JSON; a failure or a signal before that stops the launched enclave again. stop
 * terminates it, as terminate-enclave does, prints terminate-enclave's JSON and removes the
 * record. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi/alcove_abi.h"
#include "alcove/vsock.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "cli/json_out.h"
#include "cli/launch.h"
#include "cli/wf_build.h"
#include "cli/wf_exec.h"
#include "cli/wf_run.h"
#include "cli/wf_started.h"
#include "common/errors.h"
#include "common/publish.h"
#include "common/runtime.h"
#include "execproto/exec_proto.h"
#include "image/boot_image.h"
#include "image/eif_file.h"
#include "monitor/monitor.h"

#define START_WAIT_MS 120000 /* for the service to answer (ALCOVE_START_TIMEOUT_MS overrides) */

struct start_opts {
    uint64_t memory_mib;
    unsigned cpus;
    const char *name;
    char **env;
    int envc;
    struct publish_port publish[PUBLISH_MAX];
    unsigned npublish;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ends the enclave with this EnclaveID as terminate-enclave does. With print, its JSON goes to
 * stdout (stop's output); else nothing goes there. 0, or the error code (reported). */
static int terminate_id(const char *id, int print)
{
    cJSON *out = NULL;
    int err = enclaves_terminate(id, &out);
    if (out && print) {
        json_print(stdout, out);
        fflush(stdout);
    }
    cJSON_Delete(out);
    return err;
}

/* One PING: 1 answered, 0 nothing listens yet, -1 a connection that broke the protocol. */
static int ping(uint32_t cid)
{
    int fd = enclave_vsock_connect(cid, geteuid(), EXEC_PORT, 2000);
    if (fd < 0)
        return 0;
    uint8_t hdr[EXEC_FRAME_HDR], got[EXEC_FRAME_HDR];
    exec_frame_header(hdr, EXEC_F_PING, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t n = 0;
    int ok = send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL) == (ssize_t)sizeof(hdr);
    while (ok && n < sizeof(got)) {
        ssize_t r = recv(fd, got + n, sizeof(got) - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    return n == sizeof(got) && memcmp(got, hdr, sizeof(hdr)) == 0 ? 1 : -1;
}

/* SIGINT, SIGTERM, SIGHUP or SIGQUIT while start launches: the signal, acted on at the next
 * step (the enclave launched so far is stopped again), so that an interrupted start leaves
 * nothing running without a record. */
static volatile sig_atomic_t g_interrupted;
static const int g_stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void on_stop_signal(int sig)
{
    g_interrupted = sig;
}

static void stop_signals(void (*handler)(int))
{
    struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(g_stop_signals) / sizeof(g_stop_signals[0]); i++)
        sigaction(g_stop_signals[i], &sa, NULL);
}

/* The error for an interrupted start (reported): 128 + the signal, as a shell reports it. */
static int interrupted(void)
{
    fprintf(stderr,
            "alcove: start interrupted by signal %d: the enclave it launched is stopped "
            "again\n",
            (int)g_interrupted);
    return 128 + g_interrupted;
}

/* Stops the enclave this start launched (its monitor is our child, pid) after a failure or an
 * interruption: SIGTERM ends the enclave as terminate-enclave does; what it leaves in the runtime
 * directory goes. A monitor that does not end within a minute is killed. */
static void stop_launched(pid_t pid, uint32_t cid)
{
    cJSON *d = runtime_read_desc(cid);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "EnclaveID");
    char id[128] = "";
    if (cJSON_IsString(v))
        snprintf(id, sizeof(id), "%s", v->valuestring);
    cJSON_Delete(d);
    kill(pid, SIGTERM);
    int64_t deadline = now_ms() + 60000;
    while (waitpid(pid, NULL, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            break;
        }
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    d = runtime_read_desc(cid);
    v = cJSON_GetObjectItemCaseSensitive(d, "EnclaveID");
    if (d && cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
        runtime_remove(cid); /* not while a monitor holds it: only what this one left */
    cJSON_Delete(d);
    fprintf(stderr, "The enclave %s is stopped again.\n", id[0] ? id : "launched");
}

/* Waits for the service. 0, or the error code (reported). */
static int wait_service(uint32_t cid)
{
    const char *env = getenv("ALCOVE_START_TIMEOUT_MS");
    long long limit = env && *env ? strtoll(env, NULL, 10) : 0;
    if (limit <= 0)
        limit = START_WAIT_MS;
    int64_t deadline = now_ms() + limit;
    for (;;) {
        if (g_interrupted)
            return interrupted();
        int r = ping(cid);
        if (r > 0)
            return 0;
        if (!runtime_cid_running(cid)) {
            alc_err_report(E_EXEC_SERVICE, "the enclave ended before its exec service answered "
                                           "(was its image built by this alcove?)");
            return E_EXEC_SERVICE;
        }
        if (r < 0 || now_ms() > deadline) {
            alc_err_report(E_EXEC_SERVICE, "the exec service %s within %lld ms",
                           r < 0 ? "answered wrongly" : "did not answer", limit);
            return E_EXEC_SERVICE;
        }
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
}

static void pick_name(const char *dir, const struct wf_config *c, const char *given, char *out,
                      size_t size)
{
    char stem[128];
    if (given) {
        snprintf(out, size, "%s", given);
        return;
    }
    if (c->name && c->name[0]) {
        snprintf(stem, sizeof(stem), "%s", c->name);
    } else {
        char *abs = realpath(dir, NULL);
        const char *b = abs ? strrchr(abs, '/') : NULL;
        snprintf(stem, sizeof(stem), "%s", b && b[1] ? b + 1 : "alcove");
        free(abs);
    }
    struct enclave_rec *list = NULL;
    size_t n = 0;
    enclaves_list(&list, &n);
    enclaves_unique_name(list, n, stem, out, size);
    enclaves_free(list, n);
}

/* run-enclave's JSON for cid in *out, and the record. 0, or the error code (reported). */
static int describe(uint32_t cid, struct wf_started *s, cJSON **out_json)
{
    const char *fault = getenv("ALCOVE_FAULT"); /* the tests of a start that fails late */
    if (fault && strcmp(fault, "start-describe") == 0) {
        alc_err_report(E_ENCLAVE_BOOT_FAILURE, "cannot list the enclaves (ALCOVE_FAULT)");
        return E_ENCLAVE_BOOT_FAILURE;
    }
    cJSON *out = launch_json(cid);
    if (!out)
        return E_ENCLAVE_BOOT_FAILURE;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(out, "EnclaveID");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(out, "EnclaveName");
    s->cid = cid;
    snprintf(s->id, sizeof(s->id), "%s", cJSON_IsString(id) ? id->valuestring : "");
    snprintf(s->name, sizeof(s->name), "%s", cJSON_IsString(name) ? name->valuestring : "");
    *out_json = out;
    return 0;
}

static int parse_start(int argc, char **argv, struct start_opts *o)
{
    static const struct option opts[] = {
        {"memory", required_argument, NULL, 'm'},       {"cpu-count", required_argument, NULL, 'c'},
        {"env", required_argument, NULL, 'e'},          {"publish", required_argument, NULL, 'p'},
        {"enclave-name", required_argument, NULL, 'N'}, {0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:c:e:p:", opts, NULL)) != -1) {
        char why[160];
        switch (c) {
        case 'm':
            o->memory_mib = args_parse_mib(optarg);
            if (!o->memory_mib || o->memory_mib > (ALC_MAX_MEM_BYTES >> 20))
                return args_usage_error(E_INVALID_ARGUMENT, "--memory '%s': expected MiB", optarg);
            break;
        case 'c': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > ALC_MAX_CPUS)
                return args_usage_error(E_INVALID_ARGUMENT, "--cpu-count '%s': expected 1 to %d",
                                        optarg, ALC_MAX_CPUS);
            o->cpus = (unsigned)n;
            break;
        }
        case 'e':
            if (args_add_env(&o->env, &o->envc, optarg)) {
                alc_err_report(E_UNSPECIFIED, "out of memory");
                return E_UNSPECIFIED;
            }
            break;
        case 'p':
            if (publish_add(o->publish, &o->npublish, optarg, why, sizeof(why)))
                return args_usage_error(E_INVALID_ARGUMENT, "--publish '%s': %s", optarg, why);
            break;
        case 'N':
            o->name = optarg;
            break;
        default:
            return args_getopt_error(c, argv, "start");
        }
    }
    return 0;
}

/* The image, its configuration and the checks start makes before it launches anything. */
static int load_image(const char *dir, const struct start_opts *o, struct boot_image *bi,
                      struct wf_config *c)
{
    char eif[4200], why[512];
    snprintf(eif, sizeof(eif), "%s/%s", dir, WF_EIF_PATH);
    if (access(eif, F_OK) != 0) { /* never built: build it, as alcove build would */
        int err = wf_build(dir, NULL, NULL, 0);
        if (err)
            return err;
    } else {
        char *resolved = NULL;
        if (wf_run_resolve(dir, &resolved) < 0) /* warns when alcove.json is newer */
            return E_WORKFLOW_CONFIG;
        free(resolved);
    }
    uint8_t *bytes;
    size_t size;
    int rd = eif_read_file(eif, &bytes, &size);
    if (rd) {
        alc_err_report(E_EIF_PARSING, "%s: cannot read it", eif);
        return E_EIF_PARSING;
    }
    int err = boot_image_from_eif(bi, bytes, size, why, sizeof(why));
    if (err) {
        alc_err_report(err, "%s: %s", eif, why);
        return err;
    }
    int found = wf_run_config(bi->rootfs, bi->rootfs_size, c);
    if (found != 1) {
        if (found == 0)
            alc_err_report(E_WORKFLOW_CONFIG, "%s holds no alcove.json: not built by alcove build",
                           eif);
        return E_WORKFLOW_CONFIG;
    }
    if (!wf_image_has_execd(bi->rootfs, bi->rootfs_size)) {
        wf_config_free(c);
        alc_err_report(E_WORKFLOW_CONFIG,
                       "%s has no exec service (built by an older alcove): run 'alcove build %s' "
                       "again",
                       eif, dir);
        return E_WORKFLOW_CONFIG;
    }
    for (int i = 0; i < o->envc; i++) {
        size_t n = strcspn(o->env[i], "=");
        if (!wf_env_allowed(c, o->env[i], n)) {
            wf_config_free(c);
            alc_err_report(E_ENV_REFUSED,
                           "--env %.*s: the image's env.untrusted does not list it, so the host "
                           "may not set it",
                           (int)n, o->env[i]);
            return E_ENV_REFUSED;
        }
    }
    return 0;
}

static int run_start(int argc, char **argv)
{
    struct start_opts o = {.cpus = 1};
    int err = parse_start(argc, argv, &o), lock = -1;
    if (err)
        return err;
    int i = optind;
    const char *dir = wf_exec_dir(argc, argv, &i, "start", 0);
    if (!dir)
        return E_WORKFLOW_CONFIG;
    if (i < argc)
        return args_usage_error(E_INVALID_ARGUMENT, "unexpected argument '%s'", argv[i]);
    struct boot_image bi;
    memset(&bi, 0, sizeof(bi));
    struct wf_config c;
    int have_c = 0;
    cJSON *json = NULL;
    char bdir[4200];
    snprintf(bdir, sizeof(bdir), "%s/build", dir);
    if (access(bdir, F_OK) != 0 && (err = wf_build(dir, NULL, NULL, 0)))
        goto out;
    if ((lock = wf_started_lock(dir, 0)) < 0) {
        err = E_FILE_OPERATION;
        goto out;
    }
    struct wf_started s;
    int state = wf_started_load(dir, &s);
    if (state < 0) {
        err = -state;
        goto out;
    }
    if (state == WF_STARTED_LIVE) {
        alc_err_report(E_ALREADY_STARTED,
                       "%s: enclave %s (CID %u) runs for it already: 'alcove exec' runs programs "
                       "in it, 'alcove stop' ends it",
                       dir, s.id, s.cid);
        err = E_ALREADY_STARTED;
        goto out;
    }
    if (state == WF_STARTED_FOREIGN) /* replaced by this start's record */
        fprintf(stderr, "alcove: %s/%s is not this directory's (%s%s): ignored\n", dir,
                WF_STARTED_PATH, s.dir[0] ? "it was written for " : "an older alcove's", s.dir);
    if (state == WF_STARTED_GONE) { /* its enclave is gone, or its service ended */
        fprintf(stderr, "alcove: the enclave recorded for %s (%s) no longer runs its service\n",
                dir, s.id[0] ? s.id : "?");
        if (s.listed && (err = terminate_id(s.id, 0)))
            goto out;
        wf_started_remove(dir);
    }
    if ((err = load_image(dir, &o, &bi, &c)))
        goto out;
    have_c = 1;
    uint64_t max_mib = ALC_MAX_MEM_BYTES >> 20;
    uint64_t mib = o.memory_mib ? o.memory_mib : wf_run_memory_mib(&c, bi.rootfs_size);
    if (mib < MONITOR_MIN_MEMORY_MIB)
        mib = MONITOR_MIN_MEMORY_MIB;
    if (mib > max_mib) {
        alc_err_report(E_INVALID_ARGUMENT, "%s: the enclave would need %llu MiB; at most %llu", dir,
                       (unsigned long long)mib, (unsigned long long)max_mib);
        err = E_INVALID_ARGUMENT;
        goto out;
    }
    mib = (mib + 1) & ~1ull;
    if ((err = enclaves_runtime_check()))
        goto out;
    char name[160];
    pick_name(dir, &c, o.name, name, sizeof(name));
    {
        struct enclave_rec *list;
        size_t n;
        if (o.name && enclaves_list(&list, &n) == 0) {
            int taken = enclaves_find_own(list, n, NULL, o.name) != NULL;
            enclaves_free(list, n);
            if (taken) {
                alc_err_report(E_NAME_IN_USE, "an enclave named '%s' exists", o.name);
                err = E_NAME_IN_USE;
                goto out;
            }
        }
    }
    char svc[] = WF_EXECD_PATH;
    char *svc_argv[] = {svc, NULL};
    struct enclave_config cfg = {
        .memory_mib = mib,
        .cpu_count = o.cpus,
        .kernel = bi.kernel,
        .kernel_size = bi.kernel_size,
        .rootfs = bi.rootfs,
        .rootfs_size = bi.rootfs_size,
        .exec_path = bi.exec_path,
        .min_app_bytes = bi.min_app,
        .argv = svc_argv,
        .argc = 1,
        .envp = o.env,
        .envc = o.envc,
        .env_declared = 1,
        .log_level = ALC_LOG_WARN,
        .name = name,
        .pcrs = &bi.pcrs,
        .debug_mode = c.debuggable,
        .detached = 1,
        .publish = o.publish,
        .npublish = o.npublish,
    };
    fprintf(stderr, "Starting %s's enclave...\n", dir);
    /* from the launch until the record is written, a signal or a failure stops the enclave
     * again: a failed start leaves nothing running */
    g_interrupted = 0;
    stop_signals(on_stop_signal);
    pid_t monitor = -1;
    uint32_t cid = launch_detached(&cfg, lock, &monitor, &err);
    if (!cid)
        goto out; /* the monitor reported the failure and ended: nothing runs */
    const char *fault = getenv("ALCOVE_FAULT");
    if (fault && strcmp(fault, "start-pause") == 0)
        sleep(10); /* for the tests of an interrupted start; a signal ends it early */
    if (g_interrupted)
        err = interrupted();
    else if (!(err = describe(cid, &s, &json)))
        err = wait_service(cid);
    if (!err && (err = -wf_started_save(dir, &s))) {
        alc_err_report(E_FILE_OPERATION, "%s/%s: %s", dir, WF_STARTED_PATH, strerror(err));
        err = E_FILE_OPERATION;
    }
    if (!err && g_interrupted) {
        wf_started_remove(dir);
        err = interrupted();
    }
    if (err) {
        stop_launched(monitor, cid);
        goto out;
    }
    stop_signals(SIG_DFL); /* started: from here on, a signal ends alcove start only */
    json_print(stdout, json);
    fflush(stdout);
    fprintf(stderr, "Started: 'alcove exec %s PROGRAM [ARGS]' runs a program in it.\n", dir);
out:
    cJSON_Delete(json);
    if (lock >= 0)
        close(lock);
    boot_image_free(&bi);
    if (have_c)
        wf_config_free(&c);
    for (int k = 0; k < o.envc; k++)
        free(o.env[k]);
    free(o.env);
    return err;
}

static int run_stop(int argc, char **argv)
{
    optind = 1;
    opterr = 0;
    int c = getopt_long(argc, argv, ":", (const struct option[]){{0}}, NULL);
    if (c != -1)
        return args_getopt_error(c, argv, "stop");
    int i = optind;
    const char *dir = wf_exec_dir(argc, argv, &i, "stop", 0);
    if (!dir)
        return E_WORKFLOW_CONFIG;
    if (i < argc)
        return args_usage_error(E_INVALID_ARGUMENT, "unexpected argument '%s'", argv[i]);
    char bdir[4200];
    snprintf(bdir, sizeof(bdir), "%s/build", dir);
    if (access(bdir, F_OK) != 0) {
        fprintf(stderr, "Nothing runs for %s (it was never built or started).\n", dir);
        return 0;
    }
    int lock = wf_started_lock(dir, 0);
    if (lock < 0)
        return E_FILE_OPERATION;
    struct wf_started s;
    int err = 0, state = wf_started_load(dir, &s);
    if (state < 0) {
        err = -state; /* not known whether it runs: the record stays */
    } else if (state == WF_STARTED_LIVE) {
        err = terminate_id(s.id, 1);
    } else if (state == WF_STARTED_GONE) {
        fprintf(stderr, "Nothing runs for %s: its enclave %s had ended.\n", dir, s.id);
        if (s.listed)
            err = terminate_id(s.id, 0); /* what it left in the runtime directory */
    } else if (state == WF_STARTED_FOREIGN) {
        fprintf(stderr,
                "Nothing runs for %s: its %s is not this directory's (%s%s), removed; the "
                "enclave it names is left alone.\n",
                dir, WF_STARTED_PATH, s.dir[0] ? "it was written for " : "an older alcove's",
                s.dir);
    } else {
        fprintf(stderr, "Nothing runs for %s (no enclave was started for it).\n", dir);
    }
    if (!err && state != WF_STARTED_NONE)
        wf_started_remove(dir);
    close(lock);
    return err;
}

const struct command cmd_start = {
    .name = "start",
    .run = run_start,
    .summary = "start a long-lived enclave for an `alcove init` directory (as `occlum start`)",
    .usage =
        "Usage: alcove start [OPTIONS] [DIR]\n\n"
        "Launches DIR's image (DIR/build/enclave.eif, built first if there is none) in the\n"
        "background with alcove's exec service as its first process, waits until the service\n"
        "answers, records the enclave in DIR/build/started.json and prints run-enclave's JSON\n"
        "(only that, and only then, on stdout; a failed or interrupted start stops what it\n"
        "launched).\n"
        "'alcove exec DIR PROGRAM [ARGS]' then runs entry points in it, one after another or at\n"
        "once; 'alcove stop DIR' ends it. DIR: the current directory by default.\n\n"
        "Options:\n"
        "  -m, --memory MIB        memory (default: user_space_size and the image)\n"
        "  -c, --cpu-count N       vCPUs (default 1)\n"
        "  -e, --env NAME[=VALUE]  a variable every program gets (only env.untrusted names)\n"
        "  -p, --publish [IP:]HOST_PORT:ENCLAVE_PORT  as alcove run's (repeatable)\n"
        "      --enclave-name NAME its name (default: metadata.name or DIR's name)\n\n"
        "Errors: [ E88 ] DIR's enclave runs already; [ E84 ] the service did not answer (the\n"
        "enclave is stopped again); [ E87 ] an --env name the image does not allow.\n",
};

const struct command cmd_stop = {
    .name = "stop",
    .run = run_stop,
    .summary = "stop the enclave `alcove start` launched for a directory",
    .usage = "Usage: alcove stop [DIR]\n\n"
             "Terminates the enclave that 'alcove start' launched for DIR (the current directory\n"
             "by default), as terminate-enclave does (programs still running in it end with it),\n"
             "prints terminate-enclave's JSON for it and removes DIR/build/started.json. When\n"
             "nothing runs for DIR it prints nothing on stdout, says so and the status is 0.\n",
};
