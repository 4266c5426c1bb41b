/* cmd_vsock_proxy.c: `alcove vsock-proxy`, in two directions.
 *
 * Outbound, as Nitro's vsock-proxy: the enclave connects to the parent (CID 3) on LOCAL_PORT,
 * which reaches us on the Unix socket "<runtime dir>/<cid>.vsock_LOCAL_PORT", and we connect
 * each such connection to REMOTE_ADDR:REMOTE_PORT over TCP, if the allowlist (Nitro's YAML
 * format) permits that destination; this is checked once, at startup, and a denied
 * destination is an error then. Inbound (--listen-tcp): TCP clients on the host are connected
 * each to a vsock port in the enclave. The copying is src/proxy/relay.c's; SIGINT and SIGTERM
 * arrive through a signalfd that every worker watches, and end the proxy cleanly (its Unix
 * socket removed, status 0). */
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "alcove/vsock.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "cli/vsock_args.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/runtime.h"
#include "proxy/allowlist.h"
#include "proxy/relay.h"
#include "proxy/resolve.h"

#define DEFAULT_CONFIG     "/etc/alcove/vsock-proxy.yaml"
#define DEFAULT_WORKERS    4
#define DEFAULT_TIMEOUT_MS 10000
#define BUF_SIZE           (64 * 1024)
#define CONNS_PER_WORKER   1024
#define DNS_REFRESH_S      60

struct proxy_opts {
    const char *cid, *name, *id;
    const char *config;
    const char *listen_tcp;
    const char *port; /* inbound: the enclave's vsock port */
    int family;       /* AF_UNSPEC, AF_INET (-4), AF_INET6 (-6) */
    uint32_t workers;
    int timeout_ms;
};

/* Raises the soft limit on descriptors to the hard one: each connection holds two. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* A signalfd for SIGINT and SIGTERM, which are blocked in every thread made after this. */
static int stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int run_relay(struct relay_config *cfg, int stop_fd)
{
    int rc = relay_run(cfg, stop_fd);
    if (rc != 0) {
        alc_err_report(E_THREAD, "cannot start the proxy's workers: %s", strerror(-rc));
        return E_THREAD;
    }
    return 0;
}

/* Splits "[ADDR:]PORT" ("[::1]:80" for IPv6) and makes the listening TCP socket. */
static int tcp_listener(const char *spec, int family, char *shown, size_t shownlen, int *out)
{
    char host[256] = "";
    const char *port_s = spec;
    const char *colon = strrchr(spec, ':');
    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');
        if (!close_br || close_br[1] != ':' || (size_t)(close_br - spec - 1) >= sizeof(host))
            goto bad;
        snprintf(host, sizeof(host), "%.*s", (int)(close_br - spec - 1), spec + 1);
        port_s = close_br + 2;
    } else if (colon) {
        if ((size_t)(colon - spec) >= sizeof(host) || strchr(spec, ':') != colon)
            goto bad;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
        port_s = colon + 1;
    }
    uint32_t port;
    if (vsock_arg_u32("--listen-tcp port", port_s, 0, 65535, &port))
        return E_INVALID_ARGUMENT;
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM};
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    if (!host[0] && family == AF_UNSPEC)
        hints.ai_family = AF_INET6; /* "::", which takes IPv4 too, else "0.0.0.0" below */
    int g = getaddrinfo(host[0] ? host : NULL, service, &hints, &res);
    if (g != 0 && !host[0] && family == AF_UNSPEC) {
        hints.ai_family = AF_INET;
        g = getaddrinfo(NULL, service, &hints, &res);
    }
    if (g != 0) {
        alc_err_report(E_INVALID_ARGUMENT, "--listen-tcp '%s': %s", spec, gai_strerror(g));
        return E_INVALID_ARGUMENT;
    }
    int err = 0, fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6 && !host[0])
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        alc_err_report(E_SOCKET, "--listen-tcp '%s': %s", spec, strerror(err));
        return E_SOCKET;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char ip[64] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        addr_ip_string(&ss, ip, sizeof(ip));
        unsigned p = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                    : ((struct sockaddr_in *)&ss)->sin_port);
        snprintf(shown, shownlen, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, p);
    }
    *out = fd;
    return 0;
bad:
    alc_err_report(E_INVALID_ARGUMENT, "--listen-tcp '%s': expected [ADDR:]PORT", spec);
    return E_INVALID_ARGUMENT;
}

/* From here on SIGINT and SIGTERM arrive through a signalfd, and the proxy cleans up (its
 * socket removed) before it exits with 0. Until then, while it checks its arguments, reads the
 * allowlist and resolves REMOTE_ADDR (getaddrinfo can wait for 30 s and more on unreachable
 * servers), they keep their default action and end it at once: nothing is made yet. -1 after
 * reporting a failure. */
static int stop_fd_now(void)
{
    int fd = stop_signals();
    if (fd < 0)
        alc_err_report(E_UNSPECIFIED, "signalfd: %s", strerror(errno));
    return fd;
}

/* TCP clients → a vsock port in the enclave. */
static int run_inbound(const struct proxy_opts *o, uint32_t cid)
{
    uint32_t port;
    int rc;
    if (!o->port) {
        return args_usage_error(E_MISSING_ARGUMENT,
                                "--listen-tcp needs the enclave's vsock port (--port)");
    }
    if ((rc = vsock_arg_u32("--port", o->port, 0, UINT32_MAX - 1, &port)))
        return rc;
    char uds[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct stat st;
    if ((rc = enclaves_runtime_check()))
        return rc;
    if (alcove_vsock_uds_path(cid, uds, sizeof(uds)) != 0) {
        alc_err_report(E_SOCKET, "the runtime directory: %s", strerror(errno));
        return E_SOCKET;
    }
    uid_t owner; /* who started the enclave: its socket must be that user's */
    if ((rc = vsock_arg_owner(cid, &owner)))
        return rc;
    if (lstat(uds, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        alc_err_report(E_ENCLAVE_NOT_FOUND, "no running enclave has the CID %u (%s: no one there)",
                       cid, uds);
        return E_ENCLAVE_NOT_FOUND;
    }
    if (st.st_uid != owner) { /* another member's socket where the enclave's would be */
        alc_err_report(E_ENCLAVE_PROCESS_CONNECTION,
                       "%s is a socket of uid %u, not the enclave's (its description is uid "
                       "%u's): not used",
                       uds, (unsigned)st.st_uid, (unsigned)owner);
        return E_ENCLAVE_PROCESS_CONNECTION;
    }
    int lfd;
    char shown[128] = "?";
    int stop_fd = stop_fd_now();
    if (stop_fd < 0)
        return E_UNSPECIFIED;
    if ((rc = tcp_listener(o->listen_tcp, o->family, shown, sizeof(shown), &lfd))) {
        close(stop_fd);
        return rc;
    }
    struct relay_config cfg = {
        .listen_fd = lfd,
        .kind = RELAY_TO_VSOCK,
        .vsock_uds = uds,
        .vsock_port = port,
        .vsock_owner = owner,
        .workers = (int)o->workers,
        .buf_size = BUF_SIZE,
        .dial_timeout_ms = o->timeout_ms,
        .max_conns = CONNS_PER_WORKER,
    };
    fprintf(stderr, "alcove vsock-proxy: listening on tcp %s, forwarding to vsock %u:%u\n", shown,
            cid, port);
    rc = run_relay(&cfg, stop_fd);
    close(lfd);
    close(stop_fd);
    return rc;
}

/* The enclave's connections to (3, LOCAL_PORT) → REMOTE_ADDR:REMOTE_PORT, if allowed. */
static int run_outbound(const struct proxy_opts *o, uint32_t cid, char **pos)
{
    uint32_t local_port, remote_port;
    int rc;
    if ((rc = vsock_arg_u32("LOCAL_PORT", pos[0], 0, UINT32_MAX - 1, &local_port)) ||
        (rc = vsock_arg_u32("REMOTE_PORT", pos[2], 1, 65535, &remote_port)))
        return rc;
    const char *remote = pos[1];
    const char *config = o->config ? o->config : DEFAULT_CONFIG;
    struct allowlist al;
    char why[256];
    if (allowlist_load(config, &al, why, sizeof(why)) != 0) {
        alc_err_report(E_PROXY_CONFIG, "%s: %s", config, why);
        return E_PROXY_CONFIG;
    }
    struct addr_list addrs, allowed;
    int g = resolve_host(remote, (uint16_t)remote_port, o->family, &addrs);
    if (g != 0) {
        allowlist_free(&al);
        alc_err_report(E_INVALID_ARGUMENT, "REMOTE_ADDR '%s': cannot resolve it: %s", remote,
                       gai_strerror(g));
        return E_INVALID_ARGUMENT;
    }
    enum allow_result how =
        allowlist_check(&al, remote, (uint16_t)remote_port, o->family, &addrs, &allowed, NULL);
    allowlist_free(&al);
    if (how == ALLOW_DENIED) {
        alc_err_report(E_PROXY_DENIED, "%s:%u is not in the allowlist of %s", remote, remote_port,
                       config);
        return E_PROXY_DENIED;
    }
    /* on the heap: a refresh thread still inside getaddrinfo when the proxy stops keeps it */
    struct addr_cache *cache = calloc(1, sizeof(*cache));
    int stop_fd = cache ? stop_fd_now() : -1;
    if (stop_fd < 0) {
        if (!cache)
            alc_err_report(E_UNSPECIFIED, "out of memory");
        free(cache);
        return E_UNSPECIFIED;
    }
    addr_cache_init(cache, how == ALLOW_BY_NAME ? &addrs : &allowed);
    cache->host = remote;
    cache->port = (uint16_t)remote_port;
    cache->family = o->family;
    cache->any_ip = how == ALLOW_BY_NAME;
    cache->allowed = allowed;
    cache->refresh_s = DNS_REFRESH_S;

    int lfd = alcove_vsock_listen(cid, local_port);
    if (lfd < 0) {
        int err = errno;
        close(stop_fd);
        free(cache);
        char uds[sizeof(((struct sockaddr_un *)0)->sun_path)] = "?";
        alcove_vsock_uds_path(cid, uds, sizeof(uds));
        alc_err_report(E_SOCKET, "cannot listen at %s_%u: %s", uds, local_port,
                       err == EADDRINUSE ? "another program listens there" : strerror(err));
        return E_SOCKET;
    }
    if (addr_cache_start_refresh(cache) != 0)
        alc_log(ALC_LOG_WARN, "vsock-proxy: %s will not be resolved again", remote);
    struct relay_config cfg = {
        .listen_fd = lfd,
        .kind = RELAY_TO_TCP,
        .tcp = cache,
        .workers = (int)o->workers,
        .buf_size = BUF_SIZE,
        .dial_timeout_ms = o->timeout_ms,
        .max_conns = CONNS_PER_WORKER,
    };
    if (cid == RUNTIME_CID_ANY)
        fprintf(stderr,
                "alcove vsock-proxy: listening on vsock port %u (parent) for every enclave, "
                "forwarding to %s:%u\n",
                local_port, remote, remote_port);
    else
        fprintf(stderr,
                "alcove vsock-proxy: listening on vsock %u:%u (parent), forwarding to %s:%u\n", cid,
                local_port, remote, remote_port);
    rc = run_relay(&cfg, stop_fd);
    alcove_vsock_unlisten(lfd);
    close(stop_fd);
    if (addr_cache_stop(cache, 200))
        free(cache);
    return rc;
}

static int run_vsock_proxy(int argc, char **argv)
{
    static const struct option opts[] = {
        {"enclave-cid", required_argument, NULL, 'c'},
        {"enclave-name", required_argument, NULL, 'n'},
        {"enclave-id", required_argument, NULL, 'i'},
        {"config", required_argument, NULL, 'f'},
        {"num_workers", required_argument, NULL, 'w'},
        {"num-workers", required_argument, NULL, 'w'},
        {"ipv4", no_argument, NULL, '4'},
        {"ipv6", no_argument, NULL, '6'},
        {"listen-tcp", required_argument, NULL, 'l'},
        {"port", required_argument, NULL, 'p'},
        {"connect-timeout", required_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'L'},
        {0},
    };
    struct proxy_opts o = {
        .family = AF_UNSPEC, .workers = DEFAULT_WORKERS, .timeout_ms = DEFAULT_TIMEOUT_MS};
    int c, rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:w:46", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.cid = optarg;
            break;
        case 'n':
            o.name = optarg;
            break;
        case 'i':
            o.id = optarg;
            break;
        case 'f':
            o.config = optarg;
            break;
        case 'w':
            if ((rc = vsock_arg_u32("--num_workers", optarg, 1, 256, &o.workers)))
                return rc;
            break;
        case '4':
        case '6':
            if (o.family != AF_UNSPEC) {
                return args_usage_error(E_CONFLICTING_ARGUMENT, "give only one of -4 and -6");
            }
            o.family = c == '4' ? AF_INET : AF_INET6;
            break;
        case 'l':
            o.listen_tcp = optarg;
            break;
        case 'p':
            o.port = optarg;
            break;
        case 't':
            if ((rc = vsock_arg_seconds("--connect-timeout", optarg, &o.timeout_ms)))
                return rc;
            break;
        case 'L': {
            int level = log_level_parse(optarg);
            if (level < 0) {
                alc_err_report(E_INVALID_ARGUMENT,
                               "--log-level '%s': expected error, warn, info, debug or trace",
                               optarg);
                return E_INVALID_ARGUMENT;
            }
            log_set_level(level);
            break;
        }
        default:
            return args_getopt_error(c, argv, "vsock-proxy");
        }
    }
    int npos = argc - optind;
    if (o.listen_tcp) {
        if (npos != 0 || o.config) {
            return args_usage_error(
                E_CONFLICTING_ARGUMENT,
                "--listen-tcp (inbound) takes no LOCAL_PORT REMOTE_ADDR REMOTE_PORT "
                "and no --config");
        }
    } else if (o.port) {
        return args_usage_error(E_CONFLICTING_ARGUMENT, "--port goes with --listen-tcp (inbound)");
    } else if (npos != 3) {
        return args_usage_error(npos < 3 ? E_MISSING_ARGUMENT : E_INVALID_ARGUMENT,
                                "expected LOCAL_PORT REMOTE_ADDR REMOTE_PORT (or --listen-tcp; see "
                                "'alcove vsock-proxy --help')");
    }
    uint32_t cid = RUNTIME_CID_ANY;
    /* outbound without an enclave: Nitro's syntax, every enclave of the runtime directory */
    if (o.listen_tcp || o.cid || o.name || o.id) {
        if ((rc = vsock_arg_enclave(o.cid, o.name, o.id, &cid, NULL)))
            return rc;
    } else if ((rc = enclaves_runtime_check())) {
        return rc;
    }
    raise_nofile();
    return o.listen_tcp ? run_inbound(&o, cid) : run_outbound(&o, cid, argv + optind);
}

const struct command cmd_vsock_proxy = {
    .name = "vsock-proxy",
    .run = run_vsock_proxy,
    .summary = "forward an enclave's vsock connections to TCP, or TCP to an enclave",
    .usage =
        "Usage: alcove vsock-proxy [--enclave-cid CID | --enclave-name NAME | --enclave-id ID]\n"
        "                          [--config FILE] [-w|--num_workers N] [-4|-6]\n"
        "                          LOCAL_PORT REMOTE_ADDR REMOTE_PORT\n"
        "       alcove vsock-proxy (--enclave-cid CID | --enclave-name NAME | --enclave-id ID)\n"
        "                          --port PORT --listen-tcp [ADDR:]TCPPORT [-w N] [-4|-6]\n\n"
        "Outbound (Nitro's vsock-proxy): the enclave's connections to the parent (CID 3) on\n"
        "vsock port LOCAL_PORT are forwarded to REMOTE_ADDR:REMOTE_PORT over TCP; without an\n"
        "enclave, as Nitro's, every enclave's (those with no listener of their own there). The\n"
        "destination must be in the allowlist, checked at startup: YAML\n"
        "  allowlist:\n"
        "  - {address: kms.us-east-1.amazonaws.com, port: 443}\n"
        "(an entry matches when its port is REMOTE_PORT and its address is REMOTE_ADDR or\n"
        "resolves to one of REMOTE_ADDR's addresses).\n\n"
        "Inbound (--listen-tcp): TCP clients on the host are forwarded to vsock port PORT in the\n"
        "enclave. ADDR defaults to every interface; use 127.0.0.1:TCPPORT for this host only.\n\n"
        "Options:\n"
        "  --enclave-cid CID, --enclave-name NAME, --enclave-id ID   the enclave\n"
        "  --config FILE             the allowlist (default " DEFAULT_CONFIG ")\n"
        "  -w, --num_workers N       worker threads (default 4)\n"
        "  -4, --ipv4 / -6, --ipv6   use only IPv4 / only IPv6 addresses\n"
        "  --connect-timeout SECONDS give up a connection not made by then (default 10)\n"
        "  --log-level LEVEL         error, warn (default), info, debug\n\n"
        "Runs until SIGINT or SIGTERM, then removes its socket and exits with status 0.\n",
};
