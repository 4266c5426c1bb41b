/* vm.h: one enclave's virtual machine as the monitor holds it: the KVM handles, guest memory,
 * the vCPUs and their threads, the devices, and how the enclave ended. */
#ifndef ALCOVE_VM_H
#define ALCOVE_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi/alcove_abi.h"
#include "allocator/lease.h"
#include "common/runtime.h"
#include "monitor/kernel_image.h"
#include "monitor/layout.h"

struct keeper;
#include "monitor/memory.h"

struct stdio_dev;
struct virtio_dev;
struct vsock;
struct nsm_dev;
struct control;

struct vcpu {
    struct vm *vm;
    unsigned index;
    int fd;
    struct kvm_run *run;
    size_t run_size;
    pthread_t thread;
    atomic_bool thread_started; /* set by the main thread after pthread_create, read by others */
    struct alc_cpu_area *area;  /* its CPU window in guest memory (boot.c) */
    atomic_bool in_wait;        /* idle in ALC_HC_WAIT */
    atomic_bool wake;           /* ALC_HC_WAKE for it: end its wait */
    atomic_bool preempt;        /* sched.c asks the vCPU thread to preempt the guest */
};

/* How the enclave ended. */
enum vm_end {
    VM_END_NONE = 0,
    VM_END_EXIT,      /* the application exited (status) */
    VM_END_SIGNAL,    /* the application died of a signal (status = 128 + signal) */
    VM_END_KERNEL,    /* the enclave kernel failed */
    VM_END_VIOLATION, /* the guest broke the monitor protocol */
    VM_END_HOST,      /* stopped from the host (a signal to alcove) or a monitor error */
    VM_END_LAUNCH,    /* the launch failed after the enclave started (no heartbeat) */
};

struct vm {
    int kvm_fd;
    int vm_fd;
    struct guest_mem mem;
    struct layout layout;
    struct kernel_image kernel;
    unsigned ncpu;
    struct vcpu vcpus[ALC_MAX_CPUS];
    uint64_t cr3[ALC_MAX_CPUS]; /* each vCPU's PML4 (boot.c) */
    struct alc_boot_info *boot; /* host view of guest memory */
    struct alc_shared *shared;
    void *populated; /* the populated bitmap (populate.c) */
    pthread_t populate_thread;
    bool populate_started;
    atomic_bool populate_stop;
    struct stdio_dev *stdio;
    struct virtio_dev *virtio[ALC_VIRTIO_SLOTS]; /* devices by slot (devices/virtio_mmio.c) */
    struct vsock *vsock;
    struct nsm_dev *nsm;
    atomic_bool heartbeat_seen;     /* the enclave kernel sent its heartbeat (devices/vsock.c) */
    int64_t start_ns, heartbeat_ns; /* CLOCK_MONOTONIC: the launch began, the heartbeat came */

    /* identity (registry.c) */
    struct runtime_claim claim; /* claim.cid is the enclave's CID; claim.fd < 0: none */
    pid_t pid;                  /* the monitor's (ProcessID), also in its keeper (keeper.h) */
    struct keeper *keeper;      /* the records' keeper, once forked (keeper.h); else NULL */
    char enclave_id[64];
    char enclave_name[128];
    char vsock_path[4096]; /* the hybrid vsock socket */
    const struct enclave_config *cfg;
    const char *state;              /* nitro-cli's State: RUNNING, TERMINATING, EMPTY */
    char exit_reason[512];          /* why the application ended (EMPTY) */
    char memory_backing[32];        /* "ordinary" or "hugepages" */
    uint32_t cpu_ids[ALC_MAX_CPUS]; /* host CPUs the vCPUs are pinned to, when pinned */
    unsigned ncpu_ids;
    struct control *control; /* detached enclaves (control.c) */
    struct pool_lease lease; /* memory and CPUs from the allocator's pool (lease.fd >= 0) */
    struct pool_mem pool_mem;
    int console_fd; /* the console's write end (control.c), or -1 */

    /* waiting vCPUs sleep on this word; every wake-up bumps it (monitor.c, vm_wake_waiters) */
    atomic_uint wait_word;
    /* preemption (sched.c) */
    atomic_uint_fast64_t slice_ns;
    atomic_uint tick_word;
    atomic_uint preemptions;
    pthread_t tick_thread;
    bool tick_started; /* the main thread's alone (sched_prepare, sched_stop) */

    atomic_bool stopping;
    pthread_t waiter; /* the thread in monitor_run, woken by SIGUSR2 at the end */
    pthread_mutex_t lock;
    pthread_cond_t ended_cond;
    enum vm_end end;
    int status;        /* what a shell would show: 0-255 */
    char message[512]; /* why, for the user (empty for a normal exit) */
};

/* Ends the enclave (first caller wins): records how and why, then stops every vCPU and wakes
 * whatever waits. Safe from any thread. */
void vm_end(struct vm *vm, enum vm_end how, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The host clock c in ns (CLOCK_MONOTONIC is also the guest's, see the boot info's anchor). */
int64_t clock_ns(clockid_t c);

/* Wakes vCPUs blocked in ALC_HC_WAIT after events changed. */
void vm_wake_waiters(struct vm *vm);

/* sched.c: threads. Ends vCPU index's ALC_HC_WAIT. */
void sched_wake_cpu(struct vm *vm, unsigned index);
/* The preemption timer's thread, made before the guest runs and parked until ALC_HC_SCHED:
 * made later, by a vCPU thread, its creation waited for the address-space lock that the
 * background populate holds, up to tens of ms on our KVM, and the guest's first setitimer or
 * second thread waited with it. 0 or E_THREAD (reported). */
int sched_prepare(struct vm *vm);
/* ALC_HC_SCHED: the preemption timer runs with this slice from now on (0: nothing). 0. */
int sched_start(struct vm *vm, uint64_t slice_ns);
/* Stops and joins the timer thread, if any. */
void sched_stop(struct vm *vm);
/* Has every vCPU that runs (not waiting in ALC_HC_WAIT) enter the guest's kernel, as the timer
 * does for shared.kick. Any thread. */
void sched_kick_running(struct vm *vm);

/* host_signal.c: a signal the host sent the enclave (a Ctrl-C, `alcove-oci kill`): to the
 * first process (its process group when the host's terminal made it) when it asked for it, else
 * its default action (alcove_abi.h, "Host signals"). */
void host_signal(struct vm *vm, int sig, bool from_terminal);

/* On the vCPU's thread, after KVM_RUN was interrupted: redirects the guest to entry_preempt when
 * the timer asked and it runs the application. */
void sched_preempt(struct vcpu *v);

/* The enclave kernel's heartbeat arrived: the launch succeeded. */
void vm_heartbeat(struct vm *vm);

/* vcpu.c */
int vcpu_create(struct vm *vm, unsigned index);
int vcpu_setup(struct vcpu *v);
void *vcpu_thread(void *arg);
void vcpu_kick(struct vcpu *v);

/* boot.c: page tables, descriptor tables, CPU windows and boot information in guest memory. */
struct enclave_config;
/* The application ramdisk comes from cfg (one buffer, or pieces). */
int boot_prepare(struct vm *vm, const struct alc_boot_info *template_info, const char *strings,
                 const char *exec_path, const struct enclave_config *cfg);

/* exits.c */
/* Handles one KVM_EXIT_MMIO. Returns 0 to keep running, -1 when the enclave ended. */
int exits_handle_mmio(struct vcpu *v);

#endif
