/* monitor.h: running one enclave to its end (the foreground monitor of `alcove run`). */
#ifndef ALCOVE_MONITOR_H
#define ALCOVE_MONITOR_H

#include <stddef.h>
#include <stdint.h>

struct enclave_config {
    uint64_t memory_mib;
    unsigned cpu_count;
    const void *exe; /* the static executable's bytes */
    size_t exe_size;
    const char *exe_path; /* its path inside the enclave (/proc/self/exe) */
    char *const *argv;    /* argc entries */
    int argc;
    char *const *envp; /* envc entries, "K=V" */
    int envc;
    int log_level;             /* enum alc_log_level */
    int in_fd, out_fd, err_fd; /* the enclave's stdin, stdout and stderr on the host */
    int stats;                 /* print the monitor's resource use at the end (stderr) */
    int no_syscall_patch;      /* keep every syscall on the trap path (ALC_BOOT_NO_SYSCALL_PATCH) */
};

/* The least memory (MiB) an enclave can have. */
#define MONITOR_MIN_MEMORY_MIB 8

/* Runs the enclave until the application ends. Returns the status a shell would show for it
 * (its exit status, or 128 + the signal that killed it), or -code for a launch failure whose
 * [ Exx ] message has been printed. */
int monitor_run(const struct enclave_config *cfg);

#endif
