/* errors.h: alcove's error codes and the one way to report a failed command.
 *
 * Codes E00-E60 are nitro-cli's (same number, same meaning); alcove's own start at E70. A
 * command that fails prints "[ Exx ] <description>: <detail>" on stderr. nitro-cli-style
 * commands exit with the code's number; `alcove run` exits 125/126/127 like `docker run`.
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
    E_FILE_OPERATION = 19,
    E_INSUFFICIENT_MEMORY_REQUESTED = 26,
    E_INSUFFICIENT_MEMORY_AVAILABLE = 27,
    E_IOCTL_FAILURE = 29,
    E_EIF_PARSING = 35,
    E_ENCLAVE_BOOT_FAILURE = 36,
    E_ENCLAVE_MMAP = 42,
    E_EIF_BUILDING = 48,
    E_DOCKER_IMAGE_BUILD = 49,
    E_HASHER = 57,
    E_EIF_SIGNATURE_CHECK = 59,
    E_EIF_SIGNING = 60,
    E_KVM_UNAVAILABLE = 70,
    E_EXECUTABLE_FORMAT = 71,
    E_EXECUTABLE_NOT_FOUND = 72,
    E_MONITOR_FAILURE = 73,
    E_CID_IN_USE = 74,
};

/* The one-line description of a code ("Insufficient memory requested"), or NULL. */
const char *alc_err_description(int code);
/* Long explanation for `alcove explain`, or NULL. */
const char *alc_err_explanation(int code);

/* Prints "[ Exx ] description: detail" (printf-style detail) on stderr. */
void alc_err_report(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
