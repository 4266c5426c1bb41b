/* errors.c: the table of error codes (see errors.h). */
#include "common/errors.h"

#include <stdarg.h>
#include <stdio.h>

struct err_entry {
    int code;
    const char *description;
    const char *explanation;
};

static const struct err_entry g_errors[] = {
    {E_UNSPECIFIED, "Unspecified error", "An error that has no more precise code."},
    {E_MISSING_ARGUMENT, "Missing argument", "A required argument was not given."},
    {E_CONFLICTING_ARGUMENT, "Conflicting arguments",
     "Two arguments that cannot be used together were given."},
    {E_INVALID_ARGUMENT, "Invalid argument",
     "An argument has a value of the wrong type or outside its range."},
    {E_READ_FROM_DISK, "Read from disk failure", "A file could not be read."},
    {E_THREAD, "Thread failure", "A monitor thread could not be started or joined."},
    {E_SERDE, "Serialization error",
     "A JSON document could not be read: run-enclave's --config file is not valid JSON, not an "
     "object, or gives one of nitro-cli's keys twice or with a value of the wrong type (keys "
     "it does not know are ignored, as nitro-cli ignores them)."},
    {E_FILE_PERMISSIONS, "File permissions error",
     "The runtime directory (ALCOVE_RUNTIME_DIR, /run/alcove for root, else "
     "$XDG_RUNTIME_DIR/alcove, else /tmp/alcove-<uid>) belongs to another user, or its group "
     "or other users may write in it, or its owner may not read, write and search it, or it is "
     "a symbolic link, or its path has a '..' component: whoever can write there could replace "
     "an enclave's sockets, so alcove refuses it rather than change it. Use a directory of your "
     "own, mode 0700 (alcove makes one so when it is missing). The one exception is a directory "
     "root shares with a group (root's, mode 1770 exactly, as scripts/setup.sh --group makes "
     "/run/alcove): its group's members use it, anyone else is refused with the group's name "
     "(root adds a user with usermod -aG GROUP USER), and only root changes its pool. alcove-oci "
     "refuses its state "
     "root (--root) for the same reasons: it names the containers' monitors, which alcove-oci "
     "signals and removes."},
    {E_FILE_OPERATION, "File operation failure", "A file could not be opened or written."},
    {E_INSUFFICIENT_MEMORY_REQUESTED, "Insufficient memory requested",
     "The enclave's memory (--memory) is too small for its kernel, image and application."},
    {E_INSUFFICIENT_MEMORY_AVAILABLE, "Insufficient memory available",
     "The host cannot give the enclave the memory it asked for."},
    {E_IOCTL_FAILURE, "Ioctl failure", "A KVM ioctl failed."},
    {E_EIF_PARSING, "EIF file parsing error", "The enclave image is malformed."},
    {E_ENCLAVE_BOOT_FAILURE, "Enclave boot failure",
     "The enclave did not start: its kernel sent no vsock heartbeat within the launch timeout, "
     "or its monitor ended during the launch."},
    {E_ENCLAVE_PROCESS_CONNECTION, "Enclave process connection failure",
     "The CLI could not talk to the enclave's monitor through its control socket."},
    {E_ENCLAVE_MMAP, "Enclave memory allocation failure",
     "The monitor could not map the enclave's memory."},
    {E_ENCLAVE_CONSOLE_CONNECTION, "Enclave console connection failure",
     "The console is available only for enclaves started with --debug-mode, to root and to the "
     "user who started them."},
    {E_EIF_BUILDING, "EIF building error", "The enclave image could not be built."},
    {E_DOCKER_IMAGE_BUILD, "Image import error",
     "The OCI or docker-save archive could not be imported."},
    {E_HASHER, "Hasher error", "The image could not be measured."},
    {E_ENCLAVE_NAMING, "Enclave naming error",
     "No running enclave has the name given with --enclave-name (see describe-enclaves; the "
     "runtime directory is ALCOVE_RUNTIME_DIR, /run/alcove for root, else "
     "$XDG_RUNTIME_DIR/alcove, else /tmp/alcove-<uid>). nitro-cli gives this code when no "
     "enclave matches a name; an ID or CID that names no enclave is [ E90 ]."},
    {E_EIF_SIGNATURE_CHECK, "EIF signature checker error",
     "The enclave image's signature is invalid, made by another key, over other contents, or its "
     "certificate is not valid now."},
    {E_EIF_SIGNING, "EIF signing error", "The enclave image could not be signed."},
    {E_KVM_UNAVAILABLE, "KVM unavailable",
     "alcove needs /dev/kvm (read and write access): load the kvm module and run as a user "
     "who may open it."},
    {E_EXECUTABLE_FORMAT, "Executable format error",
     "The file is not a static x86-64 ELF executable, which is what an enclave runs."},
    {E_EXECUTABLE_NOT_FOUND, "Executable not found", "The file to run does not exist."},
    {E_MONITOR_FAILURE, "Monitor failure", "The enclave monitor failed while running."},
    {E_SOCKET_CONNECT_TIMEOUT, "Socket connect timeout error",
     "The enclave did not answer a vsock connection in time (--connect-timeout)."},
    {E_SOCKET, "Socket error",
     "A socket could not be made, bound or used: a vsock connection, its Unix socket in the "
     "runtime directory, or a TCP address."},
    {E_ENCLAVE_NOT_FOUND, "Enclave not found",
     "No running enclave has that ID or CID (see describe-enclaves; the runtime directory is "
     "ALCOVE_RUNTIME_DIR, /run/alcove for root, else $XDG_RUNTIME_DIR/alcove, else "
     "/tmp/alcove-<uid>)."},
    {E_VSOCK_REFUSED, "vsock connection refused",
     "The enclave runs, but no program in it listens on that vsock port."},
    {E_PROXY_DENIED, "Destination not allowed",
     "vsock-proxy's allowlist (--config) has no entry for this address and port; add one "
     "(address: HOST, port: N) or use an allowed destination."},
    {E_PROXY_CONFIG, "Proxy configuration error",
     "vsock-proxy's allowlist file (--config, by default /etc/alcove/vsock-proxy.yaml) is "
     "missing, unreadable or not in the format 'allowlist: [{address: HOST, port: N}, ...]'."},
    {E_CID_IN_USE, "Enclave CID in use",
     "Another running enclave on this host has the vsock CID that was asked for (--enclave-cid)."},
    {E_NAME_IN_USE, "Enclave name in use",
     "Another enclave on this host has the name that was asked for (--enclave-name)."},
    {E_PORT_UNAVAILABLE, "Published port unavailable",
     "A port given with -p or --publish could not be listened on: another program (or "
     "enclave) listens there (address in use), the address is not one of this host's, or a "
     "port below 1024 needs privileges. Nothing was started."},
    {E_ATTESTATION_INVALID, "Attestation document verification failure",
     "The attestation document is malformed, is not signed through the pinned CA, its signature "
     "does not verify, or it does not match the policy (PCR values, nonce, age, debug mode)."},
    {E_ATTESTATION_CA, "Attestation CA error",
     "The host's attestation CA could not be created, read or used (see 'alcove ca init')."},
    {E_WORKFLOW_CONFIG, "Workflow configuration error",
     "alcove.json (made by 'alcove init', read by 'alcove build') is not a JSON object, a key "
     "has a value of the wrong type or out of range (the message names the key), a mount "
     "cannot be given in an enclave (hostfs), or the directory is not an 'alcove init' "
     "directory (no alcove.json, or 'alcove init' found one there already), or 'alcove run' "
     "was given one that has not been built. See "
     "docs/workflow.md."},
    {E_ENTRY_POINT_REFUSED, "Not an entry point",
     "alcove run or alcove exec was asked to start a program that is not one of the image's "
     "entry_points (a "
     "program listed there, or one under a directory listed there), or gave no program. The "
     "entry points are measured into the image by 'alcove build'."},
    {E_ENV_REFUSED, "Environment variable not allowed",
     "alcove run or alcove exec was given --env NAME for a NAME that the image's env.untrusted "
     "does not list: "
     "an image built by 'alcove build' takes from the host only the variables it names there "
     "(env.default's are measured into the image)."},
    {E_ALREADY_STARTED, "Enclave already started",
     "'alcove start DIR' found an enclave it started for DIR still running (DIR/build/"
     "started.json names it): 'alcove exec' runs programs in it, 'alcove stop' ends it."},
    {E_NOT_STARTED, "No started enclave",
     "'alcove exec' found no running enclave started for the directory: 'alcove start' was not "
     "run, 'alcove stop' ended it, it ended by itself (its record is then stale and removed), "
     "or DIR/build/started.json is not this directory's (a copy of another directory's record, "
     "which is not used). Run 'alcove start DIR' first."},
    {E_EXEC_SERVICE, "Exec service failure",
     "'alcove exec' could not use the exec service of the enclave that 'alcove start' launched: "
     "it did not answer, broke the protocol, refused a malformed request, or the connection ended "
     "before the program's exit status came (the enclave was stopped or failed meanwhile), or "
     "it served 64 sessions already (too many sessions: try again when one has ended). "
     "See docs/workflow.md."},
    {E_LOCK_ACQUIRE, "Lock acquire failure",
     "The allocator's lock file in the runtime directory could not be taken."},
    {E_INVALID_CPU_CONFIGURATION, "Invalid CPU configuration",
     "The CPUs asked for break the pool's rules: whole cores only (every hyperthread sibling), "
     "never CPU 0 or its siblings, all on one NUMA node, online (see docs/allocator.md)."},
    {E_NO_SUCH_CPU_AVAILABLE, "No such CPU available in the pool",
     "A CPU asked for (--cpu-ids) is not in the allocator's pool, or another enclave uses it "
     "(see 'alcove allocator status')."},
    {E_INSUFFICIENT_CPUS_AVAILABLE, "Insufficient CPUs available in the pool",
     "The host, or the allocator's pool, has fewer free CPUs (in whole cores) than asked for."},
    {E_ALLOCATOR_CONFIG, "Allocator configuration error",
     "allocator.yaml (--config, $ALCOVE_ALLOCATOR_CONFIG, else /etc/alcove/allocator.yaml) is "
     "missing, unreadable or malformed: it takes memory_mib and exactly one of cpu_count and "
     "cpu_pool, nothing else."},
    {E_ALLOCATOR_NO_RESERVATION, "No allocator reservation",
     "No hugepages and CPU pool are reserved for enclaves ('alcove allocator apply' reserves "
     "them); enclaves then run in ordinary memory on any CPU."},
    {E_ALLOCATOR_BUSY, "Allocator resources in use",
     "Running enclaves hold part of the reservation; stop them first, or use --force."},
};

static const struct err_entry *find(int code)
{
    for (size_t i = 0; i < sizeof(g_errors) / sizeof(g_errors[0]); i++)
        if (g_errors[i].code == code)
            return &g_errors[i];
    return NULL;
}

const char *alc_err_description(int code)
{
    const struct err_entry *e = find(code);
    return e ? e->description : NULL;
}

const char *alc_err_explanation(int code)
{
    const struct err_entry *e = find(code);
    return e ? e->explanation : NULL;
}

void alc_err_report(int code, const char *fmt, ...)
{
    const char *desc = alc_err_description(code);
    fprintf(stderr, "[ E%02d ] %s", code, desc ? desc : "Error");
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
}
