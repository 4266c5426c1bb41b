/* monitor.c: one enclave from start to end: KVM VM, guest memory, the kernel image and boot
 * state, the vCPU threads and the I/O thread; then the report of how it ended.
 *
 * Threads: one per vCPU (vcpu.c), one for the console (devices/stdio.c), and the caller's,
 * which waits for the end and turns host signals (Ctrl-C, kill) into the end of the enclave.
 */
#include "monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "cpio/cpio.h"

#include "common/log.h"
#include "common/runtime.h"
#include "devices/stdio.h"
#include "devices/nsm_dev.h"
#include "devices/vsock.h"
#include "allocator/lease.h"
#include "monitor/control.h"
#include "monitor/identity.h"
#include "monitor/keeper.h"
#include "monitor/populate.h"
#include "monitor/registry.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

#define MSR_IA32_TSC 0x10u

void vm_end(struct vm *vm, enum vm_end how, int status, const char *fmt, ...)
{
    pthread_mutex_lock(&vm->lock);
    bool first = vm->end == VM_END_NONE;
    if (first) {
        vm->end = how;
        vm->status = status & 0xff;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vm->message, sizeof(vm->message), fmt, ap);
        va_end(ap);
    }
    atomic_store(&vm->stopping, true);
    pthread_cond_broadcast(&vm->ended_cond);
    pthread_mutex_unlock(&vm->lock);
    /* only the first call wakes and kicks: a later one (a device thread during teardown) must
     * not signal vCPU threads that may have been joined already */
    if (!first)
        return;
    if (vm->shared)
        __atomic_or_fetch(&vm->shared->events, ALC_EV_STOP, __ATOMIC_ACQ_REL);
    vm_wake_waiters(vm);
    for (unsigned i = 0; i < vm->ncpu; i++)
        vcpu_kick(&vm->vcpus[i]);
    pthread_kill(vm->waiter, SIGUSR2);
}

void vm_heartbeat(struct vm *vm)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    vm->heartbeat_ns = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
    atomic_store(&vm->heartbeat_seen, true);
    alc_log(ALC_LOG_DEBUG, "heartbeat %.2f ms after the launch began",
            (double)(vm->heartbeat_ns - vm->start_ns) / 1e6);
    pthread_kill(vm->waiter, SIGUSR2); /* a detached launch reports it at once */
}

void vm_wake_waiters(struct vm *vm)
{
    atomic_fetch_add(&vm->wait_word, 1);
    syscall(SYS_futex, &vm->wait_word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

static void on_kick_signal(int sig)
{
    (void)sig; /* SIGUSR1 interrupts KVM_RUN; SIGUSR2 wakes the waiting thread */
}

static int open_kvm(struct vm *vm)
{
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        alc_err_report(E_KVM_UNAVAILABLE, "/dev/kvm: %s", strerror(errno));
        return E_KVM_UNAVAILABLE;
    }
    if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        alc_err_report(E_KVM_UNAVAILABLE, "unexpected KVM API version");
        return E_KVM_UNAVAILABLE;
    }
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0) {
        alc_err_report(E_IOCTL_FAILURE, "KVM_CREATE_VM: %s", strerror(errno));
        return E_IOCTL_FAILURE;
    }
    return 0;
}

static int add_memory(struct vm *vm)
{
    struct kvm_userspace_memory_region r = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = vm->mem.size,
        .userspace_addr = (uint64_t)(uintptr_t)vm->mem.host,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r)) {
        alc_err_report(E_IOCTL_FAILURE, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
        return E_IOCTL_FAILURE;
    }
    return 0;
}

int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Anchors the guest's TSC to the host's clocks, for the kernel's clock_gettime. */
static int anchor_time(struct vm *vm, struct alc_boot_info *info)
{
    long khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
    if (khz <= 0) {
        alc_err_report(E_IOCTL_FAILURE, "KVM_GET_TSC_KHZ: %s", strerror(errno));
        return E_IOCTL_FAILURE;
    }
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e;
    } m = {.h.nmsrs = 1, .e.index = MSR_IA32_TSC};
    int64_t rt = clock_ns(CLOCK_REALTIME), mono = clock_ns(CLOCK_MONOTONIC);
    if (ioctl(vm->vcpus[0].fd, KVM_GET_MSRS, &m) != 1) {
        alc_err_report(E_IOCTL_FAILURE, "KVM_GET_MSRS(TSC): %s", strerror(errno));
        return E_IOCTL_FAILURE;
    }
    info->tsc_hz = (uint64_t)khz * 1000;
    info->tsc_mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / info->tsc_hz);
    info->boot_tsc = m.e.data;
    info->boot_realtime_ns = rt;
    info->boot_monotonic_ns = mono;
    return 0;
}

/* Entries in the application ramdisk: the enclave kernel needs an inode for each. */
static uint64_t count_entries(const void *cpio, size_t size)
{
    uint64_t n = 0;
    size_t pos = 0;
    struct cpio_entry e;
    while (pos < size) {
        while (pos < size && ((const uint8_t *)cpio)[pos] == 0)
            pos++; /* padding between archives */
        if (pos >= size)
            break;
        enum cpio_status st = cpio_next(cpio, size, &pos, &e);
        if (st == CPIO_MALFORMED)
            break; /* the enclave kernel will say so */
        n += st == CPIO_ENTRY;
    }
    return n;
}

/* argv then envp, each NUL-terminated, in one block. */
static char *pack_strings(const struct enclave_config *cfg, uint64_t *size)
{
    size_t total = 0;
    for (int i = 0; i < cfg->argc; i++)
        total += strlen(cfg->argv[i]) + 1;
    for (int i = 0; i < cfg->envc; i++)
        total += strlen(cfg->envp[i]) + 1;
    char *buf = malloc(total ? total : 1), *p = buf;
    if (!buf)
        return NULL;
    for (int i = 0; i < cfg->argc; i++)
        p = stpcpy(p, cfg->argv[i]) + 1;
    for (int i = 0; i < cfg->envc; i++)
        p = stpcpy(p, cfg->envp[i]) + 1;
    *size = total;
    return buf;
}

static uint64_t stack_size_for(uint64_t app_bytes)
{
    uint64_t s = app_bytes / 16;
    if (s < (256u << 10))
        s = 256u << 10;
    if (s > (8u << 20))
        s = 8u << 20;
    return s & ~4095ull;
}

static int start_threads(struct vm *vm)
{
    if (sched_prepare(vm) || populate_start(vm))
        return E_THREAD;
    for (unsigned i = 0; i < vm->ncpu; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (pthread_create(&v->thread, NULL, vcpu_thread, v)) {
            vm_end(vm, VM_END_HOST, 125, "cannot start vCPU thread %u", i);
            return E_THREAD;
        }
        v->thread_started = true;
        if (i < vm->ncpu_ids && pool_pin_thread(v->thread, vm->cpu_ids[i]))
            alc_log(ALC_LOG_WARN, "cannot pin vCPU %u to CPU %u", i, vm->cpu_ids[i]);
    }
    return 0;
}

/* How long the enclave kernel has to send its heartbeat: nitro-cli's rule (ALC_HEARTBEAT_TIMEOUT_S,
 * 90 s, per started 6 GiB of image and per started 100 GiB of memory; the enclave kernel waits
 * as long for the answer), or ALCOVE_HEARTBEAT_TIMEOUT_MS. */
static int64_t heartbeat_timeout_ns(const struct enclave_config *cfg)
{
    const char *env = getenv("ALCOVE_HEARTBEAT_TIMEOUT_MS");
    if (env && *env)
        return strtoll(env, NULL, 10) * 1000000ll;
    uint64_t image = cfg->rootfs_size + cfg->kernel_size;
    uint64_t n = (image + (6ull << 30) - 1) / (6ull << 30) + (cfg->memory_mib + 102399) / 102400;
    return (int64_t)(n ? n : 1) * (int64_t)ALC_HEARTBEAT_TIMEOUT_S * 1000000000ll;
}

/* The host terminal's size as the ABI packs it (alc_shared.console_winsize); 0 (unknown, as a
 * new pty's) when fd is not a terminal. */
static uint64_t host_winsize(int fd)
{
    struct winsize ws;
    if (fd < 0 || ioctl(fd, TIOCGWINSZ, &ws))
        return 0;
    return (uint64_t)ws.ws_row | (uint64_t)ws.ws_col << 16 | (uint64_t)ws.ws_xpixel << 32 |
           (uint64_t)ws.ws_ypixel << 48;
}

/* SIGWINCH: the host terminal's new size for the console's pty (the enclave's kernel sends its
 * foreground group SIGWINCH when it differs). */
static void host_resized(struct vm *vm, const struct enclave_config *cfg)
{
    if (!cfg->console_tty)
        return;
    __atomic_store_n(&vm->shared->console_winsize, host_winsize(cfg->in_fd), __ATOMIC_RELEASE);
    __atomic_fetch_or(&vm->shared->events, ALC_EV_WINSIZE, __ATOMIC_ACQ_REL);
    vm_wake_waiters(vm);
}

/* Waits for the end (vm_end sends SIGUSR2). A SIGINT/SIGTERM/SIGHUP/SIGQUIT to alcove, or a
 * signal carried by MONITOR_SIGNAL_CARRIER, goes to host_signal: to the program when it handles
 * it, else the enclave ends as that signal would have ended the program. No heartbeat in time
 * ends it too. */
/* Tells run-enclave how the launch went: 0 (the heartbeat came) or an alcove error code. Then
 * the monitor lets go of the command's terminal. 0, or -1 when the command is gone. */
static int report_launch(int fd, int32_t code, uint32_t cid)
{
    int32_t msg[2] = {code, (int32_t)cid};
    ssize_t w = write(fd, msg, sizeof(msg));
    close(fd);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 1);
        dup2(null, 2);
        close(null);
    }
    return w == (ssize_t)sizeof(msg) ? 0 : -1;
}

/* Returns what became of the launch report (cfg->ready_fd): 1 sent (the heartbeat came), -1
 * its pipe broke while sending, 0 not sent (the descriptor is still open). */
static int wait_for_end(struct vm *vm, const struct enclave_config *cfg,
                        const sigset_t *host_signals, int64_t heartbeat_deadline,
                        const struct keeper *keeper)
{
    int ready_fd = cfg->ready_fd, reported = 0;
    for (;;) {
        /* nothing would remove the enclave's records after its end */
        if (keeper_gone(keeper))
            vm_end(vm, VM_END_HOST, 137, "the enclave's keeper process ended");
        if (ready_fd >= 0 && atomic_load(&vm->heartbeat_seen)) {
            reported = report_launch(ready_fd, 0, vm->claim.cid) ? -1 : 1;
            if (reported < 0)
                vm_end(vm, VM_END_HOST, 137, "run-enclave went away during the launch");
            ready_fd = -1;
        }
        if (ready_fd >= 0) {
            /* a launching command that dies (its end of the pipe closes) takes the launch
             * with it: nothing may be left behind */
            struct pollfd p = {.fd = ready_fd, .events = POLLOUT};
            if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) {
                vm_end(vm, VM_END_HOST, 137, "run-enclave went away during the launch");
                ready_fd = -1;
            }
        }
        pthread_mutex_lock(&vm->lock);
        bool ended = vm->end != VM_END_NONE;
        pthread_mutex_unlock(&vm->lock);
        if (ended)
            return reported;
        struct timespec ts = {1, 0};
        if (!atomic_load(&vm->heartbeat_seen)) {
            int64_t left = heartbeat_deadline - clock_ns(CLOCK_MONOTONIC);
            if (left <= 0) {
                vm_end(vm, VM_END_LAUNCH, 125,
                       "[ E%02d ] Enclave boot failure: no heartbeat from the enclave within "
                       "%.1f s",
                       E_ENCLAVE_BOOT_FAILURE, (double)(heartbeat_deadline - vm->start_ns) / 1e9);
                continue;
            }
            if (left < 1000000000ll)
                ts = (struct timespec){0, (long)left};
        }
        siginfo_t si;
        int sig = sigtimedwait(host_signals, &si, &ts);
        if (sig == MONITOR_SIGNAL_CARRIER) { /* alcove-oci kill: the signal is its value */
            if (si.si_code == SI_QUEUE)
                host_signal(vm, si.si_value.sival_int, false);
        } else if (sig == SIGWINCH) {
            host_resized(vm, cfg);
        } else if (sig > 0 && sig != SIGUSR2) { /* SIGUSR2: vm_end's wake-up */
            host_signal(vm, sig, si.si_code == SI_KERNEL);
        }
    }
}

/* Whether a KILL carried by MONITOR_SIGNAL_CARRIER is waiting (taken, with any other carried
 * signal, now that the enclave has ended). */
static bool carried_kill_pending(void)
{
    sigset_t carrier;
    sigemptyset(&carrier);
    sigaddset(&carrier, MONITOR_SIGNAL_CARRIER);
    struct timespec now = {0, 0};
    siginfo_t si;
    bool kill = false;
    while (sigtimedwait(&carrier, &si, &now) == MONITOR_SIGNAL_CARRIER)
        kill |= si.si_code == SI_QUEUE && si.si_value.sival_int == SIGKILL;
    return kill;
}

static void print_stats(struct vm *vm)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    uint64_t rss_kb = 0, hwm_kb = 0;
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "VmRSS: %" SCNu64, &rss_kb);
        sscanf(line, "VmHWM: %" SCNu64, &hwm_kb);
    }
    fclose(f);
    uint64_t guest = guest_mem_resident(&vm->mem);
    fprintf(stderr,
            "alcove-stats: {\"guest_memory_bytes\": %" PRIu64 ", \"guest_resident_bytes\": %" PRIu64
            ", \"monitor_rss_bytes\": %" PRIu64 ", \"monitor_overhead_bytes\": %" PRIu64 "}\n",
            vm->mem.size, guest, rss_kb * 1024, rss_kb * 1024 > guest ? rss_kb * 1024 - guest : 0);
    (void)hwm_kb;
}

static void teardown(struct vm *vm)
{
    populate_stop(vm);
    sched_stop(vm);
    for (unsigned i = 0; i < vm->ncpu; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (v->thread_started)
            pthread_join(v->thread, NULL);
        v->thread_started = false;
    }
    vsock_stop(vm);
    nsm_dev_stop(vm);
    stdio_stop(vm);
    if (vm->console_fd >= 0) {
        close(vm->console_fd);
        vm->console_fd = -1;
    }
    control_stop(vm->control);
    vm->control = NULL;
    for (unsigned i = 0; i < vm->ncpu; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (v->run)
            munmap(v->run, v->run_size);
        if (v->fd >= 0)
            close(v->fd);
    }
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    guest_mem_free(&vm->mem);
}

/* Memory and CPUs from the allocator's pool when there is one (docs/allocator.md); otherwise
 * ordinary memory and the scheduler's CPUs (--cpu-ids then pins without a pool). */
static int take_resources(struct vm *vm, const struct enclave_config *cfg)
{
    char why[256];
    int rc =
        pool_acquire(cfg->memory_mib, cfg->cpu_count, cfg->cpu_ids, &vm->lease, why, sizeof(why));
    if (rc == E_ALLOCATOR_NO_RESERVATION) {
        vm->lease.fd = -1;
        snprintf(vm->memory_backing, sizeof(vm->memory_backing), "ordinary");
        for (unsigned i = 0; cfg->cpu_ids && i < cfg->cpu_count; i++)
            vm->cpu_ids[vm->ncpu_ids++] = cfg->cpu_ids[i];
        return 0;
    }
    if (rc) {
        vm->lease.fd = -1;
        alc_err_report(rc, "%s", why);
        return rc;
    }
    rc = pool_lease_map(&vm->lease, &vm->pool_mem, why, sizeof(why));
    if (rc) {
        alc_err_report(rc, "%s", why);
        pool_lease_release(&vm->lease);
        return rc;
    }
    snprintf(vm->memory_backing, sizeof(vm->memory_backing), "hugepages");
    for (unsigned i = 0; i < vm->lease.ncpu && i < ALC_MAX_CPUS; i++)
        vm->cpu_ids[vm->ncpu_ids++] = vm->lease.cpu_ids[i];
    return 0;
}

static void give_back_resources(struct vm *vm)
{
    if (vm->lease.fd < 0)
        return;
    pool_mem_unmap(&vm->pool_mem);
    pool_lease_release(&vm->lease);
}

static int launch(struct vm *vm, const struct enclave_config *cfg, struct alc_boot_info *info)
{
    char why[160];
    size_t ksize = cfg->kernel_size;
    const uint8_t *kimg = cfg->kernel ? cfg->kernel : kernel_image_builtin(&ksize);
    if (kernel_image_parse(kimg, ksize, &vm->kernel, why, sizeof(why))) {
        alc_err_report(E_EIF_PARSING, "%s enclave kernel is unusable: %s",
                       cfg->kernel ? "the image's" : "the built-in", why);
        return E_EIF_PARSING;
    }

    uint64_t strings_size = 0;
    char *strings = pack_strings(cfg, &strings_size);
    if (!strings)
        return E_MONITOR_FAILURE;
    info->strings_size = strings_size;
    info->argc = (uint32_t)cfg->argc;
    info->envc = (uint32_t)cfg->envc;
    info->log_level = (uint32_t)cfg->log_level;
    info->flags = cfg->no_syscall_patch ? ALC_BOOT_NO_SYSCALL_PATCH : 0;
    if (cfg->console_tty) {
        info->flags |= ALC_BOOT_CONSOLE_TTY;
        info->console_winsize = host_winsize(cfg->in_fd);
    }
    /* fault injection for the tests of the heartbeat deadline (docs/vsock.md) */
    const char *fault = getenv("ALCOVE_FAULT");
    if (fault && strcmp(fault, "no-heartbeat") == 0)
        info->flags |= ALC_BOOT_NO_HEARTBEAT;
    if (fault && strcmp(fault, "bad-descriptor") == 0)
        info->flags |= ALC_BOOT_FAULT_VIRTQ;
    if (getrandom(info->random, sizeof(info->random), 0) != sizeof(info->random)) {
        free(strings);
        alc_err_report(E_MONITOR_FAILURE, "getrandom: %s", strerror(errno));
        return E_MONITOR_FAILURE;
    }

    struct layout_input in = {
        .mem_size = cfg->memory_mib << 20,
        .ncpu = vm->ncpu,
        .kernel_span = vm->kernel.span,
        .rootfs_size = cfg->rootfs_size,
        .rootfs_entries =
            cfg->rootfs_iov ? cfg->rootfs_entries : count_entries(cfg->rootfs, cfg->rootfs_size),
        .strings_size = strings_size,
        .exec_path_len = strlen(cfg->exec_path) + 1,
    };
    /* the program's load span (when known), a heap and a stack: too little memory is refused
     * before anything runs */
    uint64_t min_app = cfg->min_app_bytes + (1u << 20) + (256u << 10) + (2u << 20);
    if (layout_compute(&in, min_app, &vm->layout)) {
        free(strings);
        alc_err_report(E_INSUFFICIENT_MEMORY_REQUESTED,
                       "%" PRIu64 " MiB is too small for this executable and its arguments",
                       cfg->memory_mib);
        return E_INSUFFICIENT_MEMORY_REQUESTED;
    }
    info->stack_size = stack_size_for(vm->layout.app_end);

    int err = open_kvm(vm);
    if (!err && vm->lease.fd >= 0)
        vm->mem = (struct guest_mem){vm->pool_mem.host, cfg->memory_mib << 20, 1};
    else if (!err)
        err = guest_mem_alloc(&vm->mem, cfg->memory_mib << 20);
    if (!err)
        err = add_memory(vm);
    if (!err)
        vm->populated =
            GPA_PTR(&vm->mem, vm->layout.populated_gpa, (vm->mem.size / ALC_CHUNK_SIZE + 7) / 8);
    /* the kernel region is backed now; the application region on demand and in the background */
    if (!err && populate_range(vm, vm->layout.app_end, vm->mem.size - vm->layout.app_end) < 0) {
        alc_err_report(E_INSUFFICIENT_MEMORY_AVAILABLE, "cannot back the enclave's memory");
        err = E_INSUFFICIENT_MEMORY_AVAILABLE;
    }
    if (!err)
        err = boot_prepare(vm, info, strings, cfg->exec_path, cfg);
    free(strings);
    for (unsigned i = 0; !err && i < vm->ncpu; i++)
        err = vcpu_create(vm, i);
    for (unsigned i = 0; !err && i < vm->ncpu; i++)
        err = vcpu_setup(&vm->vcpus[i]);
    if (!err)
        err = anchor_time(vm, vm->boot);
    if (!err) {
        struct stdio_config sc = {cfg->in_fd, cfg->out_fd, cfg->err_fd};
        if (vm->console_fd >= 0)
            sc.out_fd = sc.err_fd = vm->console_fd; /* detached: the console */
        err = stdio_start(vm, &sc);
    }
    if (!err && cfg->nallow)
        err = vsock_allow(vm, cfg->allow, cfg->nallow);
    if (!err)
        err = vsock_start(vm, vm->claim.cid, vm->vsock_path);
    if (!err && nsm_dev_start(vm, cfg)) {
        alc_err_report(E_MONITOR_FAILURE, "cannot add the NSM device");
        err = E_MONITOR_FAILURE;
    }
    return err;
}

/* The soft limit on descriptors up to the hard one: each vsock connection and each control
 * client holds one, and the devices bound their own counts (docs/vsock.md). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl))
            alc_log(ALC_LOG_WARN, "cannot raise the descriptor limit: %s", strerror(errno));
    }
}

int monitor_run(const struct enclave_config *cfg)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    if (!vm) {
        alc_err_report(E_MONITOR_FAILURE, "out of memory");
        return -E_MONITOR_FAILURE;
    }
    raise_nofile();
    vm->kvm_fd = vm->vm_fd = -1;
    vm->claim.fd = -1;
    vm->console_fd = -1;
    vm->start_ns = clock_ns(CLOCK_MONOTONIC);
    vm->pid = getpid();
    vm->ncpu = cfg->cpu_count;
    for (unsigned i = 0; i < ALC_MAX_CPUS; i++)
        vm->vcpus[i].fd = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_cond_init(&vm->ended_cond, NULL);

    /* SIGUSR1 interrupts KVM_RUN; host termination signals are taken by the waiting thread */
    struct sigaction sa = {.sa_handler = on_kick_signal};
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL); /* harmless if it arrives after the wait (see vm_end) */
    signal(SIGPIPE, SIG_IGN);      /* a closed host stdout must not kill the monitor */
    sigset_t host_signals, old_mask;
    sigemptyset(&host_signals);
    sigaddset(&host_signals, SIGINT);
    sigaddset(&host_signals, SIGTERM);
    sigaddset(&host_signals, SIGHUP);
    sigaddset(&host_signals, SIGQUIT);
    sigaddset(&host_signals, SIGUSR2);
    sigaddset(&host_signals, MONITOR_SIGNAL_CARRIER);
    if (cfg->console_tty)
        sigaddset(&host_signals, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &host_signals, &old_mask);
    vm->waiter = pthread_self();

    struct alc_boot_info info;
    memset(&info, 0, sizeof(info));
    vm->lease.fd = -1;
    /* the user a root monitor becomes once set up: a bad --monitor-user takes nothing */
    struct monitor_identity identity;
    char why[300];
    const char *user = cfg->monitor_user ? cfg->monitor_user : getenv("ALCOVE_MONITOR_USER");
    int err = identity_resolve(user && *user ? user : NULL, &identity, why, sizeof(why));
    if (err)
        alc_err_report(err, "--monitor-user: %s", why);
    else if (why[0])
        alc_log(ALC_LOG_WARN, "%s", why);
    struct keeper keeper;
    keeper_prepare(&keeper); /* while its OOM score may still be lowered */
    /* published ports first: one in use fails the launch before anything is taken */
    if (!err && cfg->npublish)
        err = vsock_publish(vm, cfg->publish, cfg->npublish);
    /* no capability is needed past the published ports (a port below 1024) but the two of the
     * uid change, and none is kept while the first thread starts: threads take their
     * capabilities from the one that made them */
    if (!err && (identity.change ? sandbox_drop_privileges_keep_setid(runtime_dir())
                                 : sandbox_drop_privileges(runtime_dir())))
        err = E_MONITOR_FAILURE;
    if (!err)
        err = take_resources(vm, cfg);
    if (!err)
        err = registry_enter(vm, cfg);
    /* the records' keeper, before the first thread (monitor/keeper.h) */
    if (!err)
        err = keeper_start(vm, cfg, &keeper);
    if (!err)
        vm->keeper = &keeper;
    if (!err && cfg->detached) {
        vm->control = control_start(vm, cfg->debug_mode, registry_json, &vm->console_fd);
        if (!vm->control) {
            alc_err_report(E_MONITOR_FAILURE, "cannot make the enclave's control socket");
            err = E_MONITOR_FAILURE;
        }
    }
    if (!err)
        err = launch(vm, cfg, &info);
    int result, reported = 0;
    /* what needed root is done (/dev/kvm, the sockets bound, the CA read): every thread
     * becomes the monitor user's, before the filter, which refuses identity changes */
    if (!err && identity_change(&identity))
        err = E_MONITOR_FAILURE;
    /* the guest runs its first instruction only under the filter (monitor/sandbox.h) */
    if (!err && sandbox_enter())
        err = E_MONITOR_FAILURE;
    if (!err)
        sandbox_fault_probe();
    if (!err)
        err = start_threads(vm);
    if (err) {
        vm_end(vm, VM_END_HOST, 125, "launch failed");
        teardown(vm);
        result = -err;
    } else {
        reported =
            wait_for_end(vm, cfg, &host_signals, vm->start_ns + heartbeat_timeout_ns(cfg), &keeper);
        for (unsigned i = 0; i < vm->ncpu; i++)
            vcpu_kick(&vm->vcpus[i]);
        populate_stop(vm);
        if (cfg->stats)
            print_stats(vm);
        teardown(vm);
        if (vm->end == VM_END_LAUNCH)
            fprintf(stderr, "%s\n", vm->message);
        else if (vm->message[0] && vm->end != VM_END_EXIT &&
                 !(vm->end == VM_END_HOST && vm->status > 128))
            alc_log(ALC_LOG_ERROR, "%s", vm->message);
        result = vm->end == VM_END_LAUNCH ? -E_ENCLAVE_BOOT_FAILURE : vm->status;
    }
    bool ended_itself = vm->end == VM_END_EXIT || vm->end == VM_END_SIGNAL ||
                        vm->end == VM_END_KERNEL || vm->end == VM_END_VIOLATION;
    struct keeper_record rec = {
        .kind = KEEPER_END,
        .err = err,
        .reported = reported != 0,
        .finish = cfg->detached && !err && ended_itself && reported > 0,
        .status = vm->status,
    };
    if (rec.finish && vm->end == VM_END_EXIT)
        snprintf(rec.why, sizeof(rec.why), "the application exited with status %d", vm->status);
    else if (rec.finish)
        snprintf(rec.why, sizeof(rec.why), "%s", vm->message);
    keeper_cancel(&keeper); /* a launch that failed before the fork */
    if (keeper.pid >= 0) {
        /* the memory is unmapped (teardown) and the lease's copy closed; the keeper describes
         * the end, gives the lease back, removes the files and reports a failed launch */
        pool_mem_unmap(&vm->pool_mem);
        if (vm->lease.fd >= 0)
            close(vm->lease.fd);
        vm->lease.fd = -1;
        keeper_finish(&keeper, &rec);
        if (cfg->ready_fd >= 0 && reported == 0)
            close(cfg->ready_fd);
    } else {
        /* the launch failed before the keeper: memory and CPUs first (a terminator that sees
         * the claim go may start another enclave), then the files, then the report */
        give_back_resources(vm);
        registry_leave(vm);
        if (cfg->ready_fd >= 0 && reported == 0)
            report_launch(cfg->ready_fd, err ? err : E_ENCLAVE_BOOT_FAILURE, 0);
    }
    if (cfg->stopped_by_signal) {
        int stopped = vm->end == VM_END_HOST && vm->status > 128 ? vm->status - 128 : 0;
        /* alcove-oci kill's KILL, carried while an engine's TERM was already ending the
         * enclave (up to now: the records are gone), is what the engine asked for last */
        if (stopped == SIGTERM && carried_kill_pending())
            stopped = SIGKILL;
        *cfg->stopped_by_signal = stopped;
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    pthread_mutex_destroy(&vm->lock);
    pthread_cond_destroy(&vm->ended_cond);
    free(vm);
    return result;
}
