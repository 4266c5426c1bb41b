/* main.c: the enclave kernel's start: check the boot information, set up the kernel's parts in
 * order, and enter the application. */
#include "console.h"
#include "exe.h"
#include "file.h"
#include "kernel.h"
#include "klib.h"
#include "mm.h"

const struct alc_boot_info *g_boot;

/* Read by the monitor from the ELF note: where to enter and where the trampolines are. */
extern char alc_entry_boot[], alc_entry_ap[], alc_entry_syscall[], alc_entry_exception[];
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
        },
};

NORETURN void kernel_main(uint64_t boot_gpa)
{
    const struct alc_boot_info *bi = phys_to_virt(boot_gpa);
    if (bi->magic != ALC_BOOT_MAGIC || bi->abi_version != ALC_ABI_VERSION)
        kpanic("bad boot information"); /* g_boot unset: ends the enclave without a report */
    g_boot = bi;

    kheap_init(bi->kheap_gpa, bi->kheap_size);
    console_init();
    klog(ALC_LOG_DEBUG, "enclave kernel up: %lu MiB, %u vCPU(s), application region %#lx-%#lx",
         bi->mem_size >> 20, bi->cpu_count, bi->app_start, bi->app_end);
    mm_init(bi->app_start, bi->app_end, bi->stack_size);
    proc_init();
    fd_init();

    struct regs r;
    int err = exe_start(&r);
    if (err)
        hc_exit(126); /* the executable cannot run here (the reason is in the log) */
    klog(ALC_LOG_DEBUG, "entering the application at %#lx, %lu ns after boot", r.rip,
         time_since_boot_ns());
    alc_return_to_user(&r);
}

NORETURN void kernel_ap_main(uint64_t boot_gpa, uint64_t cpu)
{
    (void)cpu;
    /* the same pointer the bootstrap vCPU sets; an AP may get here first */
    g_boot = phys_to_virt(boot_gpa);
    /* Only the bootstrap vCPU runs the application for now; the others wait for the
     * scheduler (threads) and leave when the enclave stops. */
    for (;;)
        hc_wait(ALC_EV_STOP, 0);
}
