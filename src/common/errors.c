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
    {E_FILE_OPERATION, "File operation failure", "A file could not be opened or written."},
    {E_INSUFFICIENT_MEMORY_REQUESTED, "Insufficient memory requested",
     "The enclave's memory (--memory) is too small for its kernel, image and application."},
    {E_INSUFFICIENT_MEMORY_AVAILABLE, "Insufficient memory available",
     "The host cannot give the enclave the memory it asked for."},
    {E_IOCTL_FAILURE, "Ioctl failure", "A KVM ioctl failed."},
    {E_EIF_PARSING, "EIF file parsing error", "The enclave image is malformed."},
    {E_ENCLAVE_BOOT_FAILURE, "Enclave boot failure", "The enclave did not start."},
    {E_ENCLAVE_MMAP, "Enclave memory allocation failure",
     "The monitor could not map the enclave's memory."},
    {E_EIF_BUILDING, "EIF building error", "The enclave image could not be built."},
    {E_DOCKER_IMAGE_BUILD, "Image import error",
     "The OCI or docker-save archive could not be imported."},
    {E_HASHER, "Hasher error", "The image could not be measured."},
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
    {E_CID_IN_USE, "Enclave CID in use",
     "Another running enclave on this host has the vsock CID that was asked for (--enclave-cid)."},
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
