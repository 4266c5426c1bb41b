/* hypercall.c: the calls that stop the vCPU and ask the monitor for something. */
#include "kernel.h"
#include "klib.h"

/* Argument blocks live in the kernel image (.bss), whose guest-physical address the monitor
 * gives us; the CPU window has no physical alias the kernel knows of. */
static struct {
    struct alc_wait wait;
    struct alc_populate populate;
    struct alc_fatal fatal;
} g_hc_blocks[ALC_MAX_CPUS];

uint64_t virt_to_phys(const void *kva)
{
    uint64_t va = (uint64_t)kva;
    if (va >= ALC_KERNEL_VBASE && va < ALC_KERNEL_VBASE + g_boot->kernel_size)
        return va - ALC_KERNEL_VBASE + g_boot->kernel_gpa;
    if (va >= ALC_PHYSMAP_VBASE && va < ALC_PHYSMAP_VBASE + g_boot->mem_size)
        return va - ALC_PHYSMAP_VBASE;
    kpanic("virt_to_phys of an address with no physical alias: %#lx", va);
}

uint32_t shared_events(void)
{
    const struct alc_shared *sh = phys_to_virt(g_boot->shared_gpa);
    return __atomic_load_n(&sh->events, __ATOMIC_ACQUIRE);
}

uint32_t hc_wait(uint32_t mask, uint64_t timeout_ns)
{
    struct alc_shared *sh = phys_to_virt(g_boot->shared_gpa);
    struct alc_wait *w = &g_hc_blocks[this_cpu->area.cpu_index].wait;
    w->mask = mask;
    w->timeout_ns = timeout_ns;
    hypercall(ALC_HC_WAIT, virt_to_phys(w));
    return __atomic_load_n(&sh->events, __ATOMIC_ACQUIRE);
}

int hc_populate(uint64_t gpa, uint64_t len)
{
    struct alc_populate *p = &g_hc_blocks[this_cpu->area.cpu_index].populate;
    p->gpa = gpa;
    p->len = len;
    p->result = -ENOMEM;
    hypercall(ALC_HC_POPULATE, virt_to_phys(p));
    return (int)p->result;
}

void hc_exit(int status)
{
    hypercall(ALC_HC_EXIT, (uint64_t)(status & 0xff));
    for (;;)
        __asm__ volatile("ud2");
}

void hc_fatal(const struct alc_fatal *f)
{
    struct alc_fatal *blk = &g_hc_blocks[this_cpu->area.cpu_index].fatal;
    memcpy(blk, f, sizeof(*blk));
    blk->message[sizeof(blk->message) - 1] = 0;
    hypercall(ALC_HC_FATAL, virt_to_phys(blk));
    for (;;)
        __asm__ volatile("ud2");
}
