/* main.c: the enclave kernel's start: check the boot information, set up the kernel's parts in
 * order, and enter the application. */
#include "console.h"
#include "exe.h"
#include "file.h"
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "process.h"
#include "scheduler.h"
#include "signal.h"
#include "vdso.h"
#include "vfs.h"
#include "vsock.h"

const struct alc_boot_info *g_boot;

/* Read by the monitor from the ELF note: where to enter and where the trampolines are. */
extern char alc_entry_boot[], alc_entry_ap[], alc_entry_syscall[], alc_entry_exception[],
    alc_entry_preempt[];
extern char alc_tramp_syscall[], alc_tramp_exceptions[];

__attribute__((used, section(".note.alcove"),
               aligned(4))) static const struct __attribute__((packed)) {
    uint32_t namesz, descsz, type;
    char name[8];
    struct alc_kernel_header desc;
} g_note = {
    .namesz = sizeof(ALC_NOTE_NAME),
    .descsz = sizeof(struct alc_kernel_header),
    .type = ALC_NOTE_KERNEL,
    .name = ALC_NOTE_NAME,
    .desc =
        {
            .magic = ALC_KERNEL_MAGIC,
            .abi_version = ALC_ABI_VERSION,
            .entry_boot = (uint64_t)alc_entry_boot,
            .entry_ap = (uint64_t)alc_entry_ap,
            .entry_syscall = (uint64_t)alc_entry_syscall,
            .entry_exception = (uint64_t)alc_entry_exception,
            .tramp_syscall = (uint64_t)alc_tramp_syscall,
            .tramp_exceptions = (uint64_t)alc_tramp_exceptions,
            .entry_preempt = (uint64_t)alc_entry_preempt,
        },
};

/* Splits "a\nb\n" into NUL-terminated copies; a last line without '\n' counts too. */
static char **split_lines(const uint8_t *text, size_t len, size_t extra)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    if (len && text[len - 1] != '\n')
        n++;
    char **v = kalloc_zeroed((n + extra + 1) * sizeof(char *));
    char *copy = kalloc_zeroed(len + n + 1);
    if (!v || !copy)
        kpanic("out of kernel memory for the arguments");
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len && k < n; i++) {
        if (i == len || text[i] == '\n') {
            memcpy(copy, text + start, i - start);
            copy[i - start] = 0;
            v[k++] = copy;
            copy += i - start + 1;
            start = i + 1;
        }
    }
    return v;
}

/* argv: the monitor's (argc > 0) or the image's cmd. envp: the image's env, then the monitor's
 * entries, each replacing an image entry with the same name. */
static void build_args(const uint8_t *cmd, size_t cmd_len, const uint8_t *env, size_t env_len,
                       char ***argv_out, char ***envp_out)
{
    const char *s = phys_to_virt(g_boot->strings_gpa);
    const char *end = s + g_boot->strings_size;
    char **argv;
    if (g_boot->argc > 0) {
        argv = kalloc_zeroed((g_boot->argc + 1) * sizeof(char *));
        if (!argv)
            kpanic("out of kernel memory for the arguments");
        for (uint32_t i = 0; i < g_boot->argc && s < end; i++) {
            argv[i] = (char *)s;
            s += strnlen(s, (size_t)(end - s)) + 1;
        }
    } else {
        argv = split_lines(cmd, cmd_len, 0);
    }
    char **envp = split_lines(env, env_len, g_boot->envc);
    size_t n = 0;
    while (envp[n])
        n++;
    for (uint32_t i = 0; i < g_boot->envc && s < end; i++) {
        const char *eq = strchr(s, '=');
        size_t klen = eq ? (size_t)(eq - s) + 1 : strlen(s);
        size_t k = 0;
        while (k < n && strncmp(envp[k], s, klen) != 0)
            k++;
        envp[k] = (char *)s;
        if (k == n)
            n++;
        s += strnlen(s, (size_t)(end - s)) + 1;
    }
    *argv_out = argv;
    *envp_out = envp;
}

/* /dev, /proc, a tmpfs at /tmp, and one wherever the image's "tmpfs" list (absolute paths, one
 * per line) asks. */
static int mount_all(const struct ramdisk_files *rd)
{
    int err = devfs_mount();
    if (!err)
        err = procfs_mount();
    if (!err)
        err = tmpfs_mount("/tmp", 01777);
    if (err) {
        klog(ALC_LOG_ERROR, "cannot mount /dev, /proc and /tmp: error %d", err);
        return err;
    }
    const char *p = (const char *)rd->tmpfs, *end = p + rd->tmpfs_len;
    while (p < end) {
        const char *nl = p;
        while (nl < end && *nl != '\n')
            nl++;
        size_t len = (size_t)(nl - p);
        if (len > 0) {
            char path[PATH_MAX_LEN];
            if (p[0] != '/' || len >= sizeof(path)) {
                klog(ALC_LOG_ERROR, "tmpfs mount point %.*s: not an absolute path",
                     (int)MIN(len, 200u), p);
                return -EINVAL;
            }
            memcpy(path, p, len);
            path[len] = 0;
            err = tmpfs_mount(path, 0755);
            if (err) {
                klog(ALC_LOG_ERROR, "tmpfs mount point %s: error %d", path, err);
                return err;
            }
        }
        p = nl + 1;
    }
    return 0;
}

/* The vsock device and Nitro's heartbeat: the monitor fails a launch that does not send it.
 * The REQUEST goes out first thing, the rest of the boot overlaps the device's answer, and the
 * byte goes back and forth just before the application starts. Without a device there is nothing
 * to do; a heartbeat that fails ends the enclave. */
static uint64_t g_hb_ns;

static void heartbeat_begin(void)
{
    uint64_t t0 = time_since_boot_ns();
    int err = vsock_init();
    /* fault injection (ALCOVE_FAULT=no-heartbeat): the tests of the monitor's deadline */
    if (!err && !(g_boot->flags & ALC_BOOT_NO_HEARTBEAT))
        err = vsock_heartbeat_begin();
    if (err && err != -ENODEV)
        kpanic("the vsock heartbeat to CID %u port %u failed: error %d", ALC_VSOCK_CID_HOST,
               ALC_VSOCK_HEARTBEAT_PORT, -err);
    g_hb_ns = time_since_boot_ns() - t0;
}

static void heartbeat_end(void)
{
    if (!vsock_present() || (g_boot->flags & ALC_BOOT_NO_HEARTBEAT))
        return;
    uint64_t t0 = time_since_boot_ns();
    int err = vsock_heartbeat_end();
    if (err)
        kpanic("the vsock heartbeat to CID %u port %u failed: error %d", ALC_VSOCK_CID_HOST,
               ALC_VSOCK_HEARTBEAT_PORT, -err);
    klog(ALC_LOG_DEBUG,
         "vsock: CID %u; device set up and REQUEST in %lu us, heartbeat end in %lu us",
         vsock_local_cid(), g_hb_ns / 1000, (time_since_boot_ns() - t0) / 1000);
}

NORETURN void kernel_main(uint64_t boot_gpa)
{
    const struct alc_boot_info *bi = phys_to_virt(boot_gpa);
    if (bi->magic != ALC_BOOT_MAGIC || bi->abi_version != ALC_ABI_VERSION)
        kpanic("bad boot information"); /* g_boot unset: ends the enclave without a report */
    g_boot = bi;
    kernel_enter(); /* the other vCPUs wait in kernel_ap_main until the scheduler wakes them */

    kheap_init(bi->kheap_gpa, bi->kheap_size);
    struct process *first = process_init();
    signal_process_init(first);
    console_init();
    klog(ALC_LOG_DEBUG, "enclave kernel up: %lu MiB, %u vCPU(s), application region %#lx-%#lx",
         bi->mem_size >> 20, bi->cpu_count, bi->app_start, bi->app_end);
    heartbeat_begin();
    mm_init(bi->app_start, bi->app_end, bi->stack_size);
    kheap_enable_growth();
    vdso_init();
    proc_init();
    fd_init();
    sched_init();

    struct ramdisk_files rd;
    if (ramfs_load(phys_to_virt(bi->rootfs_gpa), bi->rootfs_size, &rd) || mount_all(&rd))
        hc_exit(126); /* the image's file system is unusable (the reason is in the log) */
    if (bi->flags & ALC_BOOT_CONSOLE_TTY) {
        int tty_err = console_tty_init();
        if (tty_err)
            kpanic("cannot make the console a terminal: error %d", -tty_err);
    }
    char **argv, **envp;
    build_args(rd.cmd, rd.cmd_len, rd.env, rd.env_len, &argv, &envp);

    struct regs r;
    int err = exe_start(&r, argv, envp);
    if (err)
        hc_exit(err == -ENOENT ? 127 : 126); /* the reason is in the log */
    heartbeat_end();
    struct thread *main_thread = thread_create(first, &r);
    if (!main_thread)
        kpanic("no memory for the main thread");
    fpu_init_area(main_thread->fpu);
    thread_start(main_thread);
    klog(ALC_LOG_DEBUG, "entering the application at %#lx, %lu ns after boot", r.rip,
         time_since_boot_ns());
    sched_idle_loop(); /* the bootstrap vCPU's idle context: it runs the main thread first */
}

NORETURN void kernel_ap_main(uint64_t boot_gpa, uint64_t cpu)
{
    (void)cpu;
    /* the same pointer the bootstrap vCPU sets; an AP may get here first */
    g_boot = phys_to_virt(boot_gpa);
    /* The other vCPUs idle in the monitor until the scheduler has a thread for them. */
    sched_ap_start();
}
