/* cmd_run.c: `alcove run`: one enclave in the foreground, like `docker run` or `occlum run`.
 * Exit status: the program's own, 125 when alcove fails, 126 when the file cannot run in an
 * enclave, 127 when it does not exist. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/alcove_abi.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "cli/wf_run.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/log.h"
#include "cli/allow_args.h"
#include "common/publish.h"
#include "common/tty_raw.h"
#include "elf/elf_parse.h"
#include "image/boot_image.h"
#include "image/eif.h"
#include "image/eif_file.h"
#include "monitor/monitor.h"

#define STATUS_ALCOVE_FAILED 125
#define STATUS_CANNOT_RUN    126
#define STATUS_NOT_FOUND     127
#define DEFAULT_MEMORY_MIB   64

/* Reads the whole file, once its headers (an image's or an ELF file's) show it can run. Sets
 * *status to 127/126/125 with a message on failure. */
static uint8_t *read_executable(const char *path, size_t *size, int *status)
{
    int fd = open_regular(path);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) {
            alc_err_report(E_EXECUTABLE_NOT_FOUND, "%s: %s", path, strerror(e));
            *status = STATUS_NOT_FOUND;
        } else {
            alc_err_report(E_EXECUTABLE_FORMAT, "%s: %s", path, fileio_strerror(e));
            *status = STATUS_CANNOT_RUN;
        }
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        alc_err_report(E_READ_FROM_DISK, "%s: %s", path, strerror(errno));
        close(fd);
        *status = STATUS_ALCOVE_FAILED;
        return NULL;
    }
    /* an image is read header first: a file that only looks like one costs 548 bytes; and a
     * file that is neither an image nor an ELF file is refused before its body is read */
    uint8_t magic[4] = {0};
    bool got = st.st_size >= 4 && pread(fd, magic, 4, 0) == 4;
    if (!got || (!boot_image_is_eif(magic, 4) && memcmp(magic, "\177ELF", 4) != 0)) {
        alc_err_report(E_EXECUTABLE_FORMAT, "%s: %s", path, elfp_strerror(ELFP_ERR_NOT_ELF));
        close(fd);
        *status = STATUS_CANNOT_RUN;
        return NULL;
    }
    if (boot_image_is_eif(magic, 4)) {
        uint8_t *eif;
        int r = eif_read_fd(fd, (uint64_t)st.st_size, &eif);
        close(fd);
        if (r > 0)
            alc_err_report(E_EIF_PARSING, "%s: %s", path, eif_strerror((enum eif_error)r));
        else if (r < 0)
            alc_err_report(E_READ_FROM_DISK, "%s: %s", path, strerror(-r));
        *status = r > 0 ? STATUS_CANNOT_RUN : STATUS_ALCOVE_FAILED;
        *size = (size_t)st.st_size;
        return eif;
    }
    /* an ELF file: its header and program headers (all elfp_parse reads) are checked against
     * the file's size first, so a file that cannot run costs two small reads, not its size */
    uint8_t head[64] = {0};
    uint64_t phoff = 0, phsize = 0;
    size_t head_len = st.st_size < (off_t)sizeof(head) ? (size_t)st.st_size : sizeof(head);
    enum elfp_error e = pread(fd, head, head_len, 0) == (ssize_t)head_len
                            ? elfp_check_header(head, (uint64_t)st.st_size, &phoff, &phsize)
                            : ELFP_ERR_MALFORMED;
    uint8_t *phdrs = e == ELFP_OK ? malloc(phsize) : NULL;
    if (e == ELFP_OK && (!phdrs || pread(fd, phdrs, phsize, (off_t)phoff) != (ssize_t)phsize)) {
        alc_err_report(E_READ_FROM_DISK, "%s: cannot read its program headers", path);
        free(phdrs);
        close(fd);
        *status = STATUS_ALCOVE_FAILED;
        return NULL;
    }
    struct elfp_image img;
    if (e == ELFP_OK)
        e = elfp_parse_headers(head, phdrs, (uint64_t)st.st_size, &img);
    free(phdrs);
    if (e != ELFP_OK) {
        alc_err_report(E_EXECUTABLE_FORMAT, "%s: %s", path, elfp_strerror(e));
        close(fd);
        *status = STATUS_CANNOT_RUN;
        return NULL;
    }
    size_t len = (size_t)st.st_size, done = 0;
    uint8_t *buf = malloc(len ? len : 1);
    while (buf && done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n <= 0) {
            free(buf);
            buf = NULL;
            break;
        }
        done += (size_t)n;
    }
    close(fd);
    if (!buf) {
        alc_err_report(E_READ_FROM_DISK, "%s: cannot read it", path);
        *status = STATUS_ALCOVE_FAILED;
        return NULL;
    }
    *size = len;
    return buf;
}

struct run_opts {
    uint64_t memory_mib;
    int memory_given;
    unsigned cpus;
    int log_level;
    const char *log_file;
    int stats;
    int no_patch;
    int tty;
    const char *rootfs_dir;
    uint32_t cid;
    const char *name;
    const char *monitor_user;
    int debug_mode;
    char **env;
    int envc;
    struct publish_port publish[PUBLISH_MAX];
    unsigned npublish;
    struct out_rule allow[OUTBOUND_MAX];
    unsigned nallow;
};

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
    static const struct option opts[] = {
        {"memory", required_argument, NULL, 'm'},
        {"cpu-count", required_argument, NULL, 'c'},
        {"env", required_argument, NULL, 'e'},
        {"log-level", required_argument, NULL, 'l'},
        {"log-file", required_argument, NULL, 'L'},
        {"stats", no_argument, NULL, 'S'},
        {"no-syscall-patch", no_argument, NULL, 'P'},
        {"rootfs", required_argument, NULL, 'R'},
        {"enclave-cid", required_argument, NULL, 'C'},
        {"enclave-name", required_argument, NULL, 'N'},
        {"debug-mode", no_argument, NULL, 'D'},
        {"publish", required_argument, NULL, 'p'},
        {"allow", required_argument, NULL, 'A'},
        {"allowlist", required_argument, NULL, 'W'},
        {"tty", no_argument, NULL, 't'},
        {"monitor-user", required_argument, NULL, 'U'},
        {0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:m:c:e:p:t", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->memory_mib = args_parse_mib(optarg);
            o->memory_given = 1;
            if (o->memory_mib == 0) {
                alc_err_report(E_INVALID_ARGUMENT, "--memory '%s': expected a size in MiB > 0",
                               optarg);
                return -1;
            }
            break;
        case 'c': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > ALC_MAX_CPUS) {
                alc_err_report(E_INVALID_ARGUMENT, "--cpu-count '%s': expected 1 to %d", optarg,
                               ALC_MAX_CPUS);
                return -1;
            }
            o->cpus = (unsigned)n;
            break;
        }
        case 'e':
            if (args_add_env(&o->env, &o->envc, optarg)) {
                alc_err_report(E_UNSPECIFIED, "out of memory");
                return -1;
            }
            break;
        case 'l':
            o->log_level = log_level_parse(optarg);
            if (o->log_level < 0) {
                alc_err_report(E_INVALID_ARGUMENT,
                               "--log-level '%s': expected error, warn, info, debug or trace",
                               optarg);
                return -1;
            }
            break;
        case 'L':
            o->log_file = optarg;
            break;
        case 'S':
            o->stats = 1;
            break;
        case 'P':
            o->no_patch = 1;
            break;
        case 't':
            o->tty = 1;
            break;
        case 'R':
            o->rootfs_dir = optarg;
            break;
        case 'U':
            o->monitor_user = optarg;
            break;
        case 'C':
            if (args_parse_cid(optarg, 1, &o->cid))
                return -1;
            break;
        case 'N':
            o->name = optarg;
            break;
        case 'D':
            o->debug_mode = 1;
            break;
        case 'p': {
            char why[160];
            if (publish_add(o->publish, &o->npublish, optarg, why, sizeof(why))) {
                alc_err_report(E_INVALID_ARGUMENT, "--publish '%s': %s", optarg, why);
                return -1;
            }
            break;
        }
        case 'A':
            if (allow_arg(o->allow, &o->nallow, optarg))
                return -1;
            break;
        case 'W':
            if (allowlist_arg(o->allow, &o->nallow, optarg))
                return -1;
            break;
        default:
            if (c == ':')
                alc_err_report(E_MISSING_ARGUMENT, "%s needs a value (see 'alcove run --help')",
                               argv[optind - 1]);
            else
                alc_err_report(E_INVALID_ARGUMENT, "unknown option '%s' (see 'alcove run --help')",
                               argv[optind - 1]);
            return -1;
        }
    }
    return 0;
}

static int run_run(int argc, char **argv)
{
    struct run_opts o = {.memory_mib = DEFAULT_MEMORY_MIB, .cpus = 1, .log_level = ALC_LOG_WARN};
    if (parse_opts(argc, argv, &o))
        return STATUS_ALCOVE_FAILED;
    if (optind >= argc) {
        alc_err_report(E_MISSING_ARGUMENT,
                       o.rootfs_dir ? "which command? (alcove run --rootfs DIR CMD [ARGS])"
                                    : "which program? (alcove run [OPTIONS] BINARY|EIF [ARGS])");
        return STATUS_ALCOVE_FAILED;
    }
    uint64_t max_mib = ALC_MAX_MEM_BYTES >> 20;
    if (o.memory_mib < MONITOR_MIN_MEMORY_MIB || o.memory_mib > max_mib) {
        alc_err_report(E_INVALID_ARGUMENT, "--memory %llu: an enclave has %d MiB to %llu MiB",
                       (unsigned long long)o.memory_mib, MONITOR_MIN_MEMORY_MIB,
                       (unsigned long long)max_mib);
        return STATUS_ALCOVE_FAILED;
    }
    o.memory_mib = (o.memory_mib + 1) & ~1ull; /* whole 2 MiB pages */
    log_set_level(o.log_level);
    int log_fd = -1;
    if (o.log_file) {
        log_fd = open(o.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0) {
            alc_err_report(E_FILE_OPERATION, "--log-file %s: %s", o.log_file, strerror(errno));
            return STATUS_ALCOVE_FAILED;
        }
        log_set_fd(log_fd);
    }

    int status = STATUS_ALCOVE_FAILED;
    char *wf_eif = NULL;
    struct wf_config wcfg;
    int wcfg_loaded = 0;
    struct boot_image bi;
    memset(&bi, 0, sizeof(bi));
    char why[512] = "";
    char *const *pargv = argv + optind;
    int pargc = argc - optind;
    if (o.rootfs_dir) {
        /* alcove run --rootfs DIR CMD [ARGS]: CMD names the image's command; the whole argv
         * goes to the enclave as arguments (which may hold any byte but NUL, where the image's
         * cmd file is one argument per line) */
        /* large files are mapped until the monitor has copied them into the guest */
        fileio_guard_mapped_inputs(STATUS_ALCOVE_FAILED);
        int err = boot_image_from_dir(&bi, o.rootfs_dir, pargv, 1, why, sizeof(why));
        if (err) {
            alc_err_report(err, "--rootfs %s: %s", o.rootfs_dir, why);
            goto out;
        }
    } else {
        const char *path = argv[optind];
        /* an `alcove init` directory runs its image (docs/workflow.md) */
        int wf = wf_run_resolve(path, &wf_eif);
        if (wf < 0)
            goto out;
        if (wf)
            path = wf_eif;
        size_t size = 0;
        uint8_t *bytes = read_executable(path, &size, &status);
        if (!bytes)
            goto out;
        if (boot_image_is_eif(bytes, size)) {
            /* alcove run IMAGE.eif [ARGS]: ARGS, if any, replace the image's cmd */
            int err = boot_image_from_eif(&bi, bytes, size, why, sizeof(why));
            if (err) {
                alc_err_report(err, "%s: %s", path, why);
                status = STATUS_CANNOT_RUN;
                goto out;
            }
            if (wf != 2) { /* the image's path (or its directory's) is not the program */
                pargv++;
                pargc--;
            }
            int found = wf_run_config(bi.rootfs, bi.rootfs_size, &wcfg);
            if (found > 1)
                goto out;
            if (found == 1) {
                wcfg_loaded = 1;
                int refused = wf_run_check(&wcfg, pargc, pargv, &o.env, &o.envc);
                if (refused) {
                    status = refused;
                    goto out;
                }
                if (!o.memory_given)
                    o.memory_mib = wf_run_memory_mib(&wcfg, bi.rootfs_size);
                if (o.memory_mib < MONITOR_MIN_MEMORY_MIB)
                    o.memory_mib = MONITOR_MIN_MEMORY_MIB;
                if (o.memory_mib > max_mib) {
                    alc_err_report(E_INVALID_ARGUMENT,
                                   "%s: user_space_size and the image need %llu MiB; an enclave "
                                   "has at most %llu MiB",
                                   path, (unsigned long long)o.memory_mib,
                                   (unsigned long long)max_mib);
                    goto out;
                }
                o.debug_mode |= wcfg.debuggable;
            }
        } else {
            struct elfp_image img;
            enum elfp_error e = elfp_parse(bytes, size, &img);
            if (e != ELFP_OK) {
                alc_err_report(E_EXECUTABLE_FORMAT, "%s: %s", path, elfp_strerror(e));
                free(bytes);
                status = STATUS_CANNOT_RUN;
                goto out;
            }
            int err = boot_image_from_binary(&bi, path, bytes, size, why, sizeof(why));
            free(bytes);
            if (err) {
                alc_err_report(err, "%s: %s", path, why);
                goto out;
            }
        }
    }

    /* the enclave's sockets go in the runtime directory: an unsafe one is refused before the
     * monitor starts (it would refuse it later), but only once the image is known good, since
     * the check creates a missing directory and a failed command leaves nothing behind */
    if (enclaves_runtime_check()) {
        status = STATUS_ALCOVE_FAILED;
        goto out;
    }

    struct enclave_config cfg = {
        .memory_mib = o.memory_mib,
        .cpu_count = o.cpus,
        .kernel = bi.kernel,
        .kernel_size = bi.kernel_size,
        .rootfs = bi.rootfs,
        .rootfs_size = bi.rootfs_size,
        .rootfs_iov = bi.rootfs_iov,
        .rootfs_iovcnt = bi.rootfs_iovcnt,
        .rootfs_entries = bi.rootfs_entries,
        .exec_path = bi.exec_path,
        .min_app_bytes = bi.min_app,
        .argv = pargv,
        .argc = pargc,
        .envp = o.env,
        .envc = o.envc,
        .env_declared = wcfg_loaded,
        .log_level = o.log_level,
        .ready_fd = -1,
        .in_fd = 0,
        .out_fd = 1,
        .err_fd = 2,
        .stats = o.stats,
        .no_syscall_patch = o.no_patch,
        .cid = o.cid,
        .name = o.name,
        .pcrs = bi.from_eif ? &bi.pcrs : NULL,
        .debug_mode = o.debug_mode,
        .publish = o.publish,
        .npublish = o.npublish,
        .allow = o.allow,
        .nallow = o.nallow,
        .monitor_user = o.monitor_user,
    };
    /* -t: the host terminal goes raw for the enclave's life, its line discipline being the
     * enclave's; the terminal's own signals are blocked first so that none ends alcove
     * between the change and monitor_run's wait (which takes them), and they are let through
     * only once the terminal is restored */
    struct tty_raw raw = {.fd = -1};
    sigset_t term_sigs, old_sigs;
    sigemptyset(&term_sigs);
    sigaddset(&term_sigs, SIGINT);
    sigaddset(&term_sigs, SIGTERM);
    sigaddset(&term_sigs, SIGHUP);
    sigaddset(&term_sigs, SIGQUIT);
    sigprocmask(SIG_BLOCK, o.tty ? &term_sigs : NULL, &old_sigs); /* no set: reads the mask */
    if (o.tty && tty_raw_enter(&raw, 0) < 0)
        alc_log(ALC_LOG_WARN, "-t: the terminal on stdin cannot be made raw: %s", strerror(errno));
    cfg.console_tty = o.tty;
    int r = monitor_run(&cfg);
    tty_raw_leave(&raw);
    sigprocmask(SIG_SETMASK, &old_sigs, NULL);
    if (o.rootfs_dir)
        fileio_unguard_mapped_inputs();
    status = r < 0 ? STATUS_ALCOVE_FAILED : r;
out:
    boot_image_free(&bi);
    free(wf_eif);
    if (wcfg_loaded)
        wf_config_free(&wcfg);
    for (int i = 0; i < o.envc; i++)
        free(o.env[i]);
    free(o.env);
    if (log_fd >= 0)
        close(log_fd);
    return status;
}

const struct command cmd_run = {
    .name = "run",
    .run = run_run,
    .summary = "run a static program in an enclave, in the foreground",
    .usage =
        "Usage: alcove run [OPTIONS] BINARY [ARGS...]\n"
        "       alcove run [OPTIONS] IMAGE.eif [CMD [ARGS...]]\n"
        "       alcove run [OPTIONS] --rootfs DIR CMD [ARGS...]\n"
        "       alcove run [OPTIONS] INIT_DIR PROGRAM [ARGS...]   (docs/workflow.md)\n\n"
        "Runs a static x86-64 Linux executable, an enclave image (EIF) or a command from a\n"
        "directory tree in a new enclave, streams its stdout and stderr, forwards stdin, and\n"
        "exits with the program's exit status (128 + N when signal N killed it). The enclave sees\n"
        "no host environment, file or network: only its own image's files. An EIF's CRC and\n"
        "signature are checked before it boots; CMD, if given, replaces the image's command.\n\n"
        "Options:\n"
        "  -m, --memory MIB     enclave memory in MiB (M, G, T suffixes allowed; default 64)\n"
        "  -c, --cpu-count N    vCPUs (default 1)\n"
        "  -e, --env K=V        set an environment variable in the enclave (repeatable);\n"
        "      --env K          copy K from alcove's own environment, if set\n"
        "      --log-level L    error, warn (default), info, debug or trace (every syscall)\n"
        "      --log-file FILE  write alcove's log lines there instead of stderr\n"
        "      --stats          print the monitor's memory use when the enclave ends\n"
        "      --no-syscall-patch  keep every syscall on the trap path (see docs/abi.md)\n"
        "  -t, --tty            the program's stdin, stdout and stderr are a terminal inside\n"
        "                       (a pty, its controlling terminal); a terminal on alcove's\n"
        "                       stdin is raw meanwhile, so ^C and window sizes reach it\n"
        "      --rootfs DIR     the enclave's file system is DIR (read-only); CMD runs in it\n"
        "      --enclave-cid CID  the enclave's vsock CID (default: the lowest free, from 4)\n"
        "      --enclave-name NAME  its name for --enclave-name in other commands\n"
        "      --debug-mode     as nitro-cli's: the image's PCRs read as zeros in attestation\n"
        "                       documents, so no production policy accepts this enclave\n"
        "  -p, --publish [IP:]HOST_PORT:ENCLAVE_PORT\n"
        "                       accept TCP on the host's HOST_PORT and hand each connection to\n"
        "                       the program listening on TCP port ENCLAVE_PORT inside (over\n"
        "                       vsock; repeatable). IP: an IPv4 address or [IPv6]; default\n"
        "                       0.0.0.0, every IPv4 address: anyone who can reach the host\n"
        "                       reaches the port (127.0.0.1 keeps it local)\n"
        "      --allow HOST:PORT  outbound TCP connections (and name lookups) from the\n"
        "                       enclave may reach HOST:PORT (repeatable; [IPv6]:PORT);\n"
        "                       host.alcove.internal is the host's own 127.0.0.1; any other\n"
        "                       destination is refused (EACCES)\n"
        "      --allowlist FILE  the same from a file in vsock-proxy.yaml's format\n"
        "      --monitor-user USER  as root: the user the monitor runs as once set up (a name\n"
        "                       or a uid; default $ALCOVE_MONITOR_USER, else alcove-monitor,\n"
        "                       which scripts/setup.sh makes; docs/security.md)\n"
        "  -h, --help           show this help\n\n"
        "An `alcove init` directory runs its build/enclave.eif (in such a directory, an\n"
        "absolute PROGRAM alone does too). An image built by `alcove build` runs only its\n"
        "entry_points, takes --env only for its env.untrusted names (and those names from\n"
        "alcove's environment), and sizes --memory from its user_space_size.\n\n"
        "Exit status: the program's; 125 if alcove failed ([ Exx ] on stderr), 126 if the file\n"
        "is not a runnable static x86-64 ELF or not an entry point, 127 if it does not exist.\n\n"
        "vsock: the enclave's socket is <runtime dir>/<CID>.vsock (docs/vsock.md); the runtime\n"
        "directory is $ALCOVE_RUNTIME_DIR, else /run/alcove for root, else\n"
        "$XDG_RUNTIME_DIR/alcove, else /tmp/alcove-<uid>.\n",
};
