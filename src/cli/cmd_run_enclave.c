/* cmd_run_enclave.c: `alcove run-enclave`, nitro-cli's: starts an enclave from an EIF in a
 * detached monitor process, waits for its heartbeat, prints nitro-cli's JSON and returns.
 *
 * The command forks the monitor, which starts a new session, keeps the command's stderr only
 * until the launch is decided (so launch errors reach the user), and reports the result through
 * a pipe: its CID when the heartbeat came, an error code otherwise. If the command dies during
 * the launch, the pipe breaks and the monitor tears the enclave down: nothing is left behind. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allocator/cpu_ids.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "cli/json_out.h"
#include "cli/launch.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/log.h"
#include "cli/allow_args.h"
#include "common/publish.h"
#include "common/runtime.h"
#include "image/boot_image.h"
#include "image/eif.h"
#include "image/eif_file.h"
#include "monitor/monitor.h"

struct re_opts {
    const char *eif_path, *name, *config;
    const char *monitor_user;
    uint64_t memory_mib;
    unsigned cpu_count;
    uint32_t cpu_ids[ALC_MAX_CPUS];
    unsigned ncpu_ids;
    uint32_t cid;
    int debug, attach;
    bool cid_given;
    struct publish_port publish[PUBLISH_MAX];
    unsigned npublish;
    struct out_rule allow[OUTBOUND_MAX];
    unsigned nallow;
};

static int parse_cpu(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v > 4095)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* A JSON number that is a whole number from 0 to max, as serde reads an unsigned integer. */
static bool json_whole(const cJSON *e, double max, uint64_t *out)
{
    if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0) || e->valuedouble > max ||
        e->valuedouble != (double)(uint64_t)e->valuedouble)
        return false;
    *out = (uint64_t)e->valuedouble;
    return true;
}

/* Where the parser stopped, as "line L, column C". */
static void text_position(const char *text, const char *at, char *buf, size_t size)
{
    unsigned line = 1, col = 1;
    for (const char *p = text; p < at; p++) {
        col = *p == '\n' ? 1 : col + 1;
        line += *p == '\n';
    }
    snprintf(buf, size, "line %u, column %u", line, col);
}

#define JSON_MAX_WHOLE 9007199254740992.0 /* 2^53: doubles are exact up to here */

/* One of nitro-cli's keys into o: 0, E_SERDE (the wrong type, reported as serde would refuse it)
 * or E_INVALID_ARGUMENT (a value outside its range). */
static int config_key(struct re_opts *o, const cJSON *e)
{
    const char *k = e->string;
    uint64_t v;
    const char *want = NULL;
    if (strcmp(k, "eif_path") == 0) {
        if (!cJSON_IsString(e))
            want = "a string";
        else
            o->eif_path = strdup(e->valuestring);
    } else if (strcmp(k, "memory_mib") == 0) {
        if (!json_whole(e, JSON_MAX_WHOLE, &v))
            want = "a whole number of MiB";
        else if (!(o->memory_mib = v))
            return E_INVALID_ARGUMENT;
    } else if (strcmp(k, "cpu_count") == 0) {
        if (!json_whole(e, UINT32_MAX, &v))
            want = "a whole number";
        else if (v < 1 || v > ALC_MAX_CPUS)
            return E_INVALID_ARGUMENT;
        else
            o->cpu_count = (unsigned)v;
    } else if (strcmp(k, "cpu_ids") == 0) {
        if (!cJSON_IsArray(e))
            want = "an array of CPU numbers";
        for (const cJSON *c = e->child; c && !want; c = c->next) {
            if (!json_whole(c, UINT32_MAX, &v))
                want = "an array of CPU numbers";
            else if (o->ncpu_ids == ALC_MAX_CPUS || v > 4095)
                return E_INVALID_ARGUMENT;
            else
                o->cpu_ids[o->ncpu_ids++] = (uint32_t)v;
        }
    } else if (strcmp(k, "enclave_cid") == 0) {
        char buf[32];
        if (!json_whole(e, JSON_MAX_WHOLE, &v))
            want = "a whole number";
        else if (snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v) < 0 ||
                 args_parse_cid(buf, 1, &o->cid))
            return -1; /* reported */
        else
            o->cid_given = true;
    } else if (strcmp(k, "enclave_name") == 0) {
        if (!cJSON_IsString(e))
            want = "a string";
        else
            o->name = strdup(e->valuestring);
    } else if (strcmp(k, "debug_mode") == 0 || strcmp(k, "attach_console") == 0) {
        if (!cJSON_IsBool(e))
            want = "true or false";
        else
            *(k[0] == 'd' ? &o->debug : &o->attach) = cJSON_IsTrue(e);
    }
    if (want) {
        alc_err_report(E_SERDE, "--config %s: \"%s\" must be %s", o->config, k, want);
        return E_SERDE;
    }
    return 0;
}

/* --config FILE.json: nitro-cli's keys. As nitro-cli (serde), a key it does not know is ignored,
 * and a document that is not JSON, or has a known key of the wrong type or twice, is E17; an
 * optional key may be null (absent). */
static int load_config(struct re_opts *o)
{
    size_t size;
    char *text = (char *)read_file(o->config, &size);
    if (!text) {
        alc_err_report(E_FILE_OPERATION, "--config %s: %s", o->config, fileio_strerror(errno));
        return E_FILE_OPERATION;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    if (!j || end != text + size) { /* end short of the size: a NUL inside the file */
        char at[64];
        text_position(text, end ? end : text, at, sizeof(at));
        alc_err_report(E_SERDE, "--config %s: not valid JSON (at %s)", o->config, at);
        cJSON_Delete(j);
        free(text);
        return E_SERDE;
    }
    free(text);
    int err = 0;
    if (!cJSON_IsObject(j)) {
        alc_err_report(E_SERDE, "--config %s: not a JSON object", o->config);
        err = E_SERDE;
    }
    static const char *const known[] = {"cpu_count", "cpu_ids",    "enclave_cid", "enclave_name",
                                        "eif_path",  "memory_mib", "debug_mode",  "attach_console"};
    /* the first four are optional in nitro-cli's struct: null there means absent */
    const size_t nknown = sizeof(known) / sizeof(known[0]), noptional = 4;
    for (cJSON *e = j->child; e && !err; e = e->next) {
        size_t which = 0;
        while (which < nknown && strcmp(e->string, known[which]) != 0)
            which++;
        if (which == nknown) {
            /* not one of nitro-cli's keys: ignored, as nitro-cli does, but said (a misspelt
             * optional key, "debug-mode", would otherwise change nothing without a word) */
            fprintf(stderr, "--config %s: ignoring \"%s\", which is not one of nitro-cli's keys\n",
                    o->config, e->string);
            continue;
        }
        for (const cJSON *f = e->next; f && !err; f = f->next)
            if (strcmp(e->string, f->string) == 0) {
                alc_err_report(E_SERDE, "--config %s: \"%s\" is given twice", o->config, e->string);
                err = E_SERDE;
            }
        if (err || (which < noptional && cJSON_IsNull(e)))
            continue;
        err = config_key(o, e);
        if (err == E_INVALID_ARGUMENT)
            alc_err_report(err, "--config %s: \"%s\" is out of range", o->config, e->string);
        else if (err < 0)
            err = E_INVALID_ARGUMENT;
    }
    cJSON_Delete(j);
    return err;
}

static int parse_opts(int argc, char **argv, struct re_opts *o)
{
    int others = 0;
    for (int i = 1; i < argc; i++) {
        struct args_opt opt;
        args_opt_split(argc, argv, i, &opt);
        const char *a = opt.name, *v;
#define NEED_VALUE()                                                                               \
    do {                                                                                           \
        if (!(v = args_opt_value(&opt, &i)))                                                       \
            return ARGS_USAGE_EXIT;                                                                \
    } while (0)
#define NO_VALUE()                                                                                 \
    do {                                                                                           \
        if (args_opt_flag(&opt))                                                                   \
            return ARGS_USAGE_EXIT;                                                                \
    } while (0)
        if (strcmp(a, "--config") == 0) {
            NEED_VALUE();
            o->config = v;
            continue;
        }
        if (strcmp(a, "--publish") == 0) {
            /* alcove's own option: nitro-cli's JSON has no key for it, so it goes with
             * --config too */
            char why[160];
            NEED_VALUE();
            if (publish_add(o->publish, &o->npublish, v, why, sizeof(why))) {
                alc_err_report(E_INVALID_ARGUMENT, "--publish '%s': %s", v, why);
                return E_INVALID_ARGUMENT;
            }
            continue;
        }
        if (strcmp(a, "--monitor-user") == 0) {
            /* alcove's own, as --publish: allowed with --config too */
            NEED_VALUE();
            o->monitor_user = v;
            continue;
        }
        if (strcmp(a, "--allow") == 0 || strcmp(a, "--allowlist") == 0) {
            /* alcove's own, as --publish: allowed with --config too */
            NEED_VALUE();
            int e =
                a[7] ? allowlist_arg(o->allow, &o->nallow, v) : allow_arg(o->allow, &o->nallow, v);
            if (e)
                return e;
            continue;
        }
        others++;
        if (strcmp(a, "--eif-path") == 0) {
            NEED_VALUE();
            o->eif_path = v;
        } else if (strcmp(a, "--memory") == 0) {
            NEED_VALUE();
            o->memory_mib = args_parse_mib(v);
            if (!o->memory_mib) {
                alc_err_report(E_INVALID_ARGUMENT, "--memory '%s': expected a size in MiB", v);
                return E_INVALID_ARGUMENT;
            }
        } else if (strcmp(a, "--cpu-count") == 0) {
            NEED_VALUE();
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > ALC_MAX_CPUS) {
                alc_err_report(E_INVALID_ARGUMENT, "--cpu-count '%s': expected 1 to %d", v,
                               ALC_MAX_CPUS);
                return E_INVALID_ARGUMENT;
            }
            o->cpu_count = (unsigned)n;
        } else if (strcmp(a, "--cpu-ids") == 0) {
            /* one or more values, as nitro-cli's: "--cpu-ids=1" gives the first */
            const char *first = opt.inline_value ? opt.value : NULL;
            while (first || (i + 1 < argc && argv[i + 1][0] != '-')) {
                const char *id = first ? first : argv[++i];
                first = NULL;
                if (o->ncpu_ids == ALC_MAX_CPUS || parse_cpu(id, &o->cpu_ids[o->ncpu_ids])) {
                    alc_err_report(E_INVALID_ARGUMENT, "--cpu-ids '%s': expected CPU numbers", id);
                    return E_INVALID_ARGUMENT;
                }
                o->ncpu_ids++;
            }
            if (!o->ncpu_ids) {
                return args_usage_error(E_MISSING_ARGUMENT, "--cpu-ids needs at least one CPU");
            }
        } else if (strcmp(a, "--enclave-cid") == 0) {
            NEED_VALUE();
            if (args_parse_cid(v, 1, &o->cid))
                return E_INVALID_ARGUMENT;
            o->cid_given = true;
        } else if (strcmp(a, "--enclave-name") == 0) {
            NEED_VALUE();
            o->name = v;
        } else if (strcmp(a, "--debug-mode") == 0) {
            NO_VALUE();
            o->debug = 1;
        } else if (strcmp(a, "--attach-console") == 0) {
            NO_VALUE();
            o->attach = 1;
        } else {
            return args_usage_error(E_INVALID_ARGUMENT,
                                    "unknown option '%s' (see 'alcove run-enclave --help')",
                                    argv[i]);
        }
#undef NEED_VALUE
#undef NO_VALUE
    }
    if (o->config && others) {
        return args_usage_error(E_CONFLICTING_ARGUMENT,
                                "--config cannot be used with other options");
    }
    if (o->config) {
        int err = load_config(o);
        if (err)
            return err;
    }
    if (o->attach)
        o->debug = 1; /* as nitro-cli: the console needs debug mode */
    if (!o->eif_path) {
        return args_usage_error(E_MISSING_ARGUMENT, "--eif-path is required");
    }
    if (!o->memory_mib) {
        return args_usage_error(E_MISSING_ARGUMENT, "--memory is required");
    }
    if (!o->cpu_count && !o->ncpu_ids) {
        return args_usage_error(E_MISSING_ARGUMENT, "one of --cpu-count and --cpu-ids is required");
    }
    if (o->cpu_count && o->ncpu_ids) {
        return args_usage_error(E_CONFLICTING_ARGUMENT,
                                "--cpu-count and --cpu-ids cannot be used together");
    }
    if (o->ncpu_ids)
        o->cpu_count = o->ncpu_ids;
    return 0;
}

/* The image's name without ".eif", made unique with _1, _2 ... as nitro-cli does. An explicit
 * name that is taken is an error. */
static int pick_name(struct re_opts *o, char *out, size_t size)
{
    struct enclave_rec *list;
    size_t n;
    enclaves_list(&list, &n);
    int err = 0;
    if (o->name) {
        if (enclaves_find_own(list, n, NULL, o->name)) {
            alc_err_report(E_NAME_IN_USE, "an enclave named '%s' exists", o->name);
            err = E_NAME_IN_USE;
        }
        snprintf(out, size, "%s", o->name);
    } else {
        const char *base = strrchr(o->eif_path, '/');
        base = base ? base + 1 : o->eif_path;
        char stem[128];
        snprintf(stem, sizeof(stem), "%s", base);
        size_t l = strlen(stem);
        if (l > 4 && strcmp(stem + l - 4, ".eif") == 0)
            stem[l - 4] = 0;
        enclaves_unique_name(list, n, stem, out, size);
    }
    enclaves_free(list, n);
    return err;
}

/* Measurements and the image's metadata, for the description. */
static char *describe_extra(const struct boot_image *bi, const uint8_t *eif, size_t size)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "Measurements", json_measurements(&bi->pcrs));
    struct eif_image img;
    if (eif_parse(eif, size, &img) == EIF_OK)
        json_add_image_metadata(o, &img);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static int run_run_enclave(int argc, char **argv)
{
    struct re_opts o = {0};
    int err = parse_opts(argc, argv, &o);
    if (err)
        return err;
    /* the CPUs by number: real, distinct, not the host's, with or without a pool (without one
     * the monitor pins its vCPUs to them) */
    char cpu_why[256];
    if (o.ncpu_ids && (err = cpu_ids_check(o.cpu_ids, o.ncpu_ids, cpu_why, sizeof(cpu_why)))) {
        alc_err_report(err, "--cpu-ids: %s", cpu_why);
        return err;
    }
    if (o.memory_mib < MONITOR_MIN_MEMORY_MIB || o.memory_mib > (ALC_MAX_MEM_BYTES >> 20)) {
        alc_err_report(E_INSUFFICIENT_MEMORY_REQUESTED,
                       "--memory %llu: an enclave has %d MiB to %llu MiB",
                       (unsigned long long)o.memory_mib, MONITOR_MIN_MEMORY_MIB,
                       (unsigned long long)(ALC_MAX_MEM_BYTES >> 20));
        return E_INSUFFICIENT_MEMORY_REQUESTED;
    }
    o.memory_mib = (o.memory_mib + 1) & ~1ull;

    /* the image first: the runtime directory is created on first use, and a command that fails
     * on its image must leave nothing behind */
    size_t size = 0;
    uint8_t *bytes;
    int rd = eif_read_file(o.eif_path, &bytes, &size);
    if (rd < 0) {
        alc_err_report(E_FILE_OPERATION, "--eif-path %s: %s", o.eif_path, fileio_strerror(-rd));
        return E_FILE_OPERATION;
    }
    if (rd > 0) {
        alc_err_report(E_EIF_PARSING, "%s: %s", o.eif_path, eif_strerror((enum eif_error)rd));
        return E_EIF_PARSING;
    }
    struct boot_image bi;
    memset(&bi, 0, sizeof(bi));
    char why[512];
    char *extra = NULL;
    uint8_t *copy = malloc(size);
    if (copy) {
        memcpy(copy, bytes, size);
    }
    err = boot_image_from_eif(&bi, bytes, size, why, sizeof(why));
    if (err) {
        alc_err_report(err, "%s: %s", o.eif_path, why);
        free(copy);
        return err;
    }
    extra = copy ? describe_extra(&bi, copy, size) : NULL;
    free(copy);

    char name[160];
    err = enclaves_runtime_check();
    if (!err && o.cid_given && o.cid && runtime_cid_running(o.cid)) {
        alc_err_report(E_CID_IN_USE, "enclave CID %u is in use by another enclave", o.cid);
        err = E_CID_IN_USE;
    }
    if (!err)
        err = pick_name(&o, name, sizeof(name));
    if (err) {
        boot_image_free(&bi);
        free(extra);
        return err;
    }

    fprintf(stderr, "Start allocating memory...\n");
    struct enclave_config cfg = {
        .memory_mib = o.memory_mib,
        .cpu_count = o.cpu_count,
        .kernel = bi.kernel,
        .kernel_size = bi.kernel_size,
        .rootfs = bi.rootfs,
        .rootfs_size = bi.rootfs_size,
        .exec_path = bi.exec_path,
        .min_app_bytes = bi.min_app,
        .log_level = ALC_LOG_WARN,
        .cid = o.cid,
        .name = name,
        .pcrs = &bi.pcrs,
        .debug_mode = o.debug,
        .describe_extra = extra,
        .detached = 1,
        .cpu_ids = o.ncpu_ids ? o.cpu_ids : NULL,
        .publish = o.publish,
        .npublish = o.npublish,
        .allow = o.allow,
        .monitor_user = o.monitor_user,
        .nallow = o.nallow,
    };
    pid_t monitor;
    uint32_t cid = launch_detached(&cfg, -1, &monitor, &err);
    boot_image_free(&bi);
    free(extra);
    if (!cid)
        return err;
    cJSON *out = launch_json(cid);
    if (!out)
        return E_ENCLAVE_BOOT_FAILURE;
    char cpus[256] = "";
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(out, "CPUIDs");
    for (const cJSON *c = ids ? ids->child : NULL; c; c = c->next)
        snprintf(cpus + strlen(cpus), sizeof(cpus) - strlen(cpus), "%s%d", cpus[0] ? ", " : "",
                 c->valueint);
    fprintf(stderr, "Started enclave with enclave-cid: %u, memory: %llu MiB, cpu-ids: [%s]\n", cid,
            (unsigned long long)o.memory_mib, cpus);
    json_print(stdout, out);
    fflush(stdout);
    cJSON_Delete(out);
    if (o.attach)
        return console_attach(cid, geteuid(), 0);
    return 0;
}

const struct command cmd_run_enclave = {
    .name = "run-enclave",
    .run = run_run_enclave,
    .summary = "start an enclave from an EIF, detached (nitro-cli's run-enclave)",
    .usage =
        "Usage: alcove run-enclave --eif-path FILE --memory MIB (--cpu-count N | --cpu-ids ID...)\n"
        "                          [--enclave-cid CID] [--enclave-name NAME] [--debug-mode]\n"
        "                          [--attach-console] [--publish [IP:]HOST_PORT:ENCLAVE_PORT]...\n"
        "       alcove run-enclave --config FILE.json [--publish ...]\n\n"
        "Starts an enclave in a monitor process of its own, waits for its heartbeat and prints\n"
        "nitro-cli's JSON (EnclaveName, EnclaveID, ProcessID, EnclaveCID, NumberOfCPUs, CPUIDs,\n"
        "MemoryMiB). The enclave runs until its application ends or terminate-enclave stops it.\n\n"
        "Options:\n"
        "  --eif-path FILE       the enclave image\n"
        "  --memory MIB          memory (M, G, T suffixes allowed)\n"
        "  --cpu-count N         vCPUs\n"
        "  --cpu-ids ID...       vCPUs pinned to these host CPUs (one or more)\n"
        "  --enclave-cid CID     its vsock CID (4 and up; default: the lowest free)\n"
        "  --enclave-name NAME   its name (default: the image's file name; duplicates get _1...)\n"
        "  --debug-mode          console available; the image PCRs read as zeros\n"
        "  --attach-console      debug mode, and print the console after the JSON\n"
        "  --publish [IP:]HOST_PORT:ENCLAVE_PORT\n"
        "                        accept TCP on the host's HOST_PORT and hand each connection to\n"
        "                        the enclave's TCP port ENCLAVE_PORT (repeatable; IP: IPv4 or\n"
        "                        [IPv6], default 0.0.0.0, every IPv4 address; see\n"
        "                        docs/networking.md); may be given with --config\n"
        "  --allow HOST:PORT     outbound TCP connections and name lookups may reach HOST:PORT\n"
        "                        (repeatable; host.alcove.internal: the host's 127.0.0.1)\n"
        "  --allowlist FILE      the same from a file in vsock-proxy.yaml's format\n"
        "  --monitor-user USER   as root: the user the monitor runs as once set up (a name or\n"
        "                        a uid; default $ALCOVE_MONITOR_USER, else alcove-monitor, which\n"
        "                        scripts/setup.sh makes; docs/security.md)\n"
        "  --config FILE.json    the options as nitro-cli's JSON keys (eif_path, memory_mib,\n"
        "                        cpu_count or cpu_ids, enclave_cid, enclave_name, debug_mode,\n"
        "                        attach_console); no other option with it but --publish,\n"
        "                        --allow, --allowlist and --monitor-user; other keys are ignored, "
        "as nitro-cli\n"
        "                        ignores them\n",
};
