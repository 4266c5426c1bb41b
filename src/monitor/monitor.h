/* monitor.h: running one enclave to its end (the foreground monitor of `alcove run`). */
#ifndef ALCOVE_MONITOR_H
#define ALCOVE_MONITOR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct eif_pcrs;
struct publish_port;
struct out_rule;

struct enclave_config {
    uint64_t memory_mib;
    unsigned cpu_count;
    const void *kernel; /* an enclave kernel image (from an EIF), or NULL: built in */
    size_t kernel_size;
    const void *rootfs; /* the application ramdisk (newc cpio: rootfs/..., cmd, env) */
    size_t rootfs_size;
    /* or, when rootfs_iov is set: the ramdisk as pieces (rootfs_size is their total), copied
     * into the guest from where they are; rootfs_entries then says how many entries it has */
    const struct iovec *rootfs_iov;
    int rootfs_iovcnt;
    uint64_t rootfs_entries;
    const char *exec_path;  /* the program to run, a path in the enclave; "": the ramdisk's
                               cmd[0] */
    uint64_t min_app_bytes; /* what the program needs at least (its load span), if known */
    char *const *argv;      /* argc entries; argc 0: the ramdisk's cmd */
    int argc;
    char *const *envp; /* envc entries, "K=V", added to the ramdisk's env */
    int envc;
    /* every envp entry is a name the image's measured alcove.json declares untrusted
     * (env.untrusted, docs/workflow.md): its value is the host's input, not measured again */
    int env_declared;
    int log_level;             /* enum alc_log_level */
    int in_fd, out_fd, err_fd; /* the enclave's stdin, stdout and stderr on the host */
    int stats;                 /* print the monitor's resource use at the end (stderr) */
    int no_syscall_patch;      /* keep every syscall on the trap path (ALC_BOOT_NO_SYSCALL_PATCH) */
    /* the console is a terminal inside (ALC_BOOT_CONSOLE_TTY: alcove run -t, OCI
     * process.terminal); when in_fd is a terminal, its size is the enclave's and SIGWINCH
     * passes a change on */
    int console_tty;
    uint32_t cid;                /* vsock CID; 0: the lowest free one (>= 4) */
    const char *name;            /* EnclaveName */
    uint32_t mem_mib_reported;   /* MemoryMiB for the description (0: memory_mib) */
    const struct eif_pcrs *pcrs; /* an EIF's measurements; NULL: measured from what is booted */
    int debug_mode;              /* nitro-cli's --debug-mode: the image PCRs read as zeros */
    const char *describe_extra;  /* a JSON object whose members join the description */
    int detached;                /* run-enclave: a control socket, the console, no terminal */
    const uint32_t *cpu_ids;     /* --cpu-ids: host CPUs for the vCPUs (cpu_count of them) */
    int ready_fd;                /* detached: where the launch result goes (see monitor_run) */
    /* -p/--publish: host TCP ports whose connections reach the enclave (common/publish.h);
     * listened on before anything else is set up, so a port in use fails the launch first */
    const struct publish_port *publish;
    unsigned npublish;
    /* --allow/--allowlist: the destinations outbound connections may reach (common/outbound.h);
     * they live as long as the enclave */
    const struct out_rule *allow;
    unsigned nallow;
    /* when not NULL: set by monitor_run to the host signal that stopped the enclave (SIGTERM
     * to the monitor), or 0 when the enclave ended otherwise (its program's own status,
     * however high, included) */
    int *stopped_by_signal;
    /* --monitor-user (monitor/identity.h): the user a root monitor runs as once set up; NULL:
     * ALCOVE_MONITOR_USER, else identity.h's default user */
    const char *monitor_user;
};

/* The signal that carries another to a running monitor (sigqueue, pidfd_send_signal with
 * SI_QUEUE): its value is the signal for the enclave (monitor/host_signal.c). A real-time one,
 * so that a number the monitor itself uses (SIGUSR1, SIGUSR2) can reach the enclave. Plain
 * kill(2) of it carries nothing and is ignored. */
#define MONITOR_SIGNAL_CARRIER (SIGRTMIN + 2)

/* The least memory (MiB) an enclave can have. */
#define MONITOR_MIN_MEMORY_MIB 8

/* Runs the enclave until the application ends. Returns the status a shell would show for it
 * (its exit status, or 128 + the signal that killed it), or -code for a launch failure whose
 * [ Exx ] message has been printed. */
int monitor_run(const struct enclave_config *cfg);

#endif
