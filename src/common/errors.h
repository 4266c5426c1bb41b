/* errors.h: alcove's error codes and the one way to report a failed command.
 *
 * Codes E00-E60 are nitro-cli's (same number, same meaning); alcove's own start at E70. A
 * command that fails prints "[ Exx ] <description>: <detail>" on stderr. nitro-cli-style
 * commands exit with the code's number, except argument errors, which exit with 2 as nitro-cli's
 * clap does (cli/args.h, ARGS_USAGE_EXIT); `alcove run` exits 125/126/127 like `docker run`.
 */
#ifndef ALCOVE_ERRORS_H
#define ALCOVE_ERRORS_H

enum alc_err {
    E_UNSPECIFIED = 0,
    E_MISSING_ARGUMENT = 1,
    E_CONFLICTING_ARGUMENT = 2,
    E_INVALID_ARGUMENT = 3,
    E_READ_FROM_DISK = 7,
    E_THREAD = 16,
    E_SERDE = 17,
    E_FILE_PERMISSIONS = 18,
    E_FILE_OPERATION = 19,
    E_INSUFFICIENT_MEMORY_REQUESTED = 26,
    E_INSUFFICIENT_MEMORY_AVAILABLE = 27,
    E_IOCTL_FAILURE = 29,
    E_EIF_PARSING = 35,
    E_ENCLAVE_BOOT_FAILURE = 36,
    E_ENCLAVE_PROCESS_CONNECTION = 39,
    E_ENCLAVE_MMAP = 42,
    E_ENCLAVE_CONSOLE_CONNECTION = 44,
    E_EIF_BUILDING = 48,
    E_DOCKER_IMAGE_BUILD = 49,
    E_HASHER = 57,
    E_ENCLAVE_NAMING = 58,
    E_EIF_SIGNATURE_CHECK = 59,
    E_EIF_SIGNING = 60,
    E_KVM_UNAVAILABLE = 70,
    E_EXECUTABLE_FORMAT = 71,
    E_EXECUTABLE_NOT_FOUND = 72,
    E_MONITOR_FAILURE = 73,
    /* host vsock tools: alcove connect, vsock-proxy, libalcove */
    E_SOCKET_CONNECT_TIMEOUT = 10,
    E_SOCKET = 11,
    E_ENCLAVE_NOT_FOUND = 90,
    E_VSOCK_REFUSED = 91,
    E_PROXY_DENIED = 92,
    E_PROXY_CONFIG = 93,
    E_CID_IN_USE = 74,
    E_NAME_IN_USE = 75,
    E_PORT_UNAVAILABLE = 76,
    E_ATTESTATION_INVALID = 80,
    E_ATTESTATION_CA = 81,
    /* the workflow: alcove init/build/run/package with alcove.json (docs/workflow.md) */
    E_WORKFLOW_CONFIG = 85,
    E_ENTRY_POINT_REFUSED = 86,
    E_ENV_REFUSED = 87,
    E_ALREADY_STARTED = 88,
    E_NOT_STARTED = 89,
    E_EXEC_SERVICE = 84,
    /* the allocator: allocator.yaml, the CPU pool and hugepages (nitro-cli's numbers first) */
    E_LOCK_ACQUIRE = 15,
    E_INVALID_CPU_CONFIGURATION = 20,
    E_NO_SUCH_CPU_AVAILABLE = 21,
    E_INSUFFICIENT_CPUS_AVAILABLE = 22,
    E_ALLOCATOR_CONFIG = 100,
    E_ALLOCATOR_NO_RESERVATION = 101,
    E_ALLOCATOR_BUSY = 102,
};

/* The one-line description of a code ("Insufficient memory requested"), or NULL. */
const char *alc_err_description(int code);
/* Long explanation for `alcove explain`, or NULL. */
const char *alc_err_explanation(int code);

/* Prints "[ Exx ] description: detail" (printf-style detail) on stderr. */
void alc_err_report(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
