/* mmu.c: an address space's page tables on the vCPUs (see mmu.h). */
#include "mmu.h"

#include "klib.h"

static void *table_of(void *ctx, uint64_t pa)
{
    (void)ctx;
    return phys_to_virt(pa);
}

static int page_for_table(void *ctx, uint64_t *pa)
{
    (void)ctx;
    void *p = kpage_alloc();
    if (!p)
        return -ENOMEM;
    *pa = virt_to_phys(p);
    return 0;
}

static void free_table(void *ctx, uint64_t pa)
{
    (void)ctx;
    kpage_free(phys_to_virt(pa));
}

static const struct pt_env g_env = {table_of, page_for_table, free_table, NULL};

/* the PML4 each vCPU has loaded */
static uint64_t g_loaded[ALC_MAX_CPUS];

int mmu_space_init(struct mmu_space *s)
{
    memset(s, 0, sizeof(*s));
    void *master = kpage_alloc();
    if (!master)
        return -ENOMEM;
    s->master = virt_to_phys(master);
    return 0;
}

/* After a change: the vCPUs' PML4s follow the master's lower half (an entry changes only when
 * a PDPT is made or freed). */
static int sync(struct mmu_space *s, int err)
{
    const uint64_t *master = phys_to_virt(s->master);
    for (unsigned c = 0; c < g_boot->cpu_count; c++) {
        if (!s->root[c])
            continue;
        uint64_t *pml4 = phys_to_virt(s->root[c]);
        for (unsigned i = 0; i < 256; i++)
            if (pml4[i] != master[i])
                pml4[i] = master[i];
    }
    return err;
}

int mmu_map(struct mmu_space *s, uint64_t va, uint64_t pa, uint64_t len, uint64_t perm)
{
    return sync(s, pt_map(&g_env, s->master, va, pa, len, perm));
}

int mmu_unmap(struct mmu_space *s, uint64_t va, uint64_t len)
{
    return sync(s, pt_unmap(&g_env, s->master, va, len));
}

int mmu_protect(struct mmu_space *s, uint64_t va, uint64_t len, uint64_t perm)
{
    return sync(s, pt_protect(&g_env, s->master, va, len, perm));
}

int mmu_lookup(struct mmu_space *s, uint64_t va, uint64_t *pa, uint64_t *perm)
{
    return pt_lookup(&g_env, s->master, va, pa, perm, NULL);
}

int mmu_activate(struct mmu_space *s)
{
    unsigned c = (unsigned)this_cpu->area.cpu_index;
    if (!s->root[c]) {
        uint64_t *pml4 = kpage_alloc();
        if (!pml4)
            return -ENOMEM;
        memcpy(pml4, phys_to_virt(s->master), 256 * sizeof(uint64_t));
        /* the upper half as the monitor made it for this vCPU */
        memcpy(pml4 + 256, (const uint64_t *)phys_to_virt(this_cpu->area.boot_cr3) + 256,
               256 * sizeof(uint64_t));
        s->root[c] = virt_to_phys(pml4);
    }
    if (g_loaded[c] == s->root[c])
        return 0;
    g_loaded[c] = s->root[c];
    __asm__ volatile("int %1" : : "a"(s->root[c]), "i"(ALC_VEC_LOAD_CR3) : "memory");
    return 0;
}
