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

/* ---- TLB coherence ----
 * A vCPU that has an address space loaded may cache its translations. After a change that
 * removes or narrows a mapping: this vCPU invalidates at once; every other vCPU with the space
 * loaded is marked stale and reloads CR3 the next time it enters the kernel or switches to a
 * thread, before it touches the application's memory. Memory that was mapped there is given back
 * (the release function) at once unless one of those vCPUs is running a thread (it may be in
 * the application, using its TLB): then it waits in the limbo list until each of them has
 * reloaded. An idle vCPU runs no application code, so it holds nothing back. */
struct limbo {
    struct limbo *next;
    uint64_t pa, len;
    uint64_t stale; /* vCPUs still to reload */
    void (*release)(void *ctx, uint64_t pa, uint64_t len);
    void *ctx;
};

static uint64_t g_loaded[ALC_MAX_CPUS]; /* the PML4 each vCPU has loaded */
static bool g_stale[ALC_MAX_CPUS];      /* it may cache a translation removed since */
static bool g_busy[ALC_MAX_CPUS];       /* running a thread (not its idle context) */
static uint64_t g_orphan[ALC_MAX_CPUS]; /* a destroyed space's PML4 still loaded there */
static struct limbo *g_limbo;

/* counters for --log-level debug (mm_log_stats): the paging instructions that trap on our KVM,
 * and the table changes to a space some vCPU has loaded (a loaded table's write traps too) */
static struct {
    uint64_t cr3_loads, invlpgs, live_changes, idle_changes;
} g_stats;

/* What pt_unmap releases during one call (the call never blocks: file scope is fine). */
static struct {
    uint64_t stale;
    void (*release)(void *ctx, uint64_t pa, uint64_t len);
    void *ctx;
} g_rel;

/* Gives [pa, pa + len) to release(ctx, ...) now, or once the stale vCPUs have reloaded. */
static void release_when_safe(uint64_t pa, uint64_t len,
                              void (*release)(void *ctx, uint64_t pa, uint64_t len), void *ctx)
{
    if (g_rel.stale) {
        struct limbo *l = kmalloc(sizeof(*l));
        if (l) {
            *l = (struct limbo){g_limbo, pa, len, g_rel.stale, release, ctx};
            g_limbo = l;
            return;
        }
        /* no memory to remember it: leaking it is safe, reusing it is not */
        klog(ALC_LOG_WARN, "mmu: %lu KiB lost: no memory to defer their release", len >> 10);
        return;
    }
    release(ctx, pa, len);
}

static void on_release(void *ctx, uint64_t pa, uint64_t len)
{
    (void)ctx;
    if (g_rel.release)
        release_when_safe(pa, len, g_rel.release, g_rel.ctx);
}

static void table_page_free(void *ctx, uint64_t pa, uint64_t len)
{
    (void)ctx, (void)len;
    kpage_free(phys_to_virt(pa));
}

/* A table page no longer used: a vCPU's paging-structure caches may still point at it, so it
 * waits like the memory the tables mapped. */
static void free_table(void *ctx, uint64_t pa)
{
    (void)ctx;
    release_when_safe(pa, PT_PAGE, table_page_free, NULL);
}

static const struct pt_env g_env = {table_of, page_for_table, free_table, NULL, on_release};

static unsigned me(void)
{
    return (unsigned)this_cpu->area.cpu_index;
}

/* entry/entry.S: CR3 and invlpg through the #UD stub of the trampoline page (a trap each) */
void alc_load_cr3(uint64_t root);
void alc_invlpg(uint64_t va);

static void load_cr3(uint64_t root)
{
    g_stats.cr3_loads++;
    alc_load_cr3(root);
}

/* Counts a change to s's tables: a live table's when some vCPU has s loaded. */
static void count_change(const struct mmu_space *s)
{
    if (g_boot->log_level < ALC_LOG_DEBUG)
        return;
    for (unsigned c = 0; c < g_boot->cpu_count; c++) {
        if (s->root[c] && g_loaded[c] == s->root[c]) {
            g_stats.live_changes++;
            return;
        }
    }
    g_stats.idle_changes++;
}

void mmu_log_stats(void)
{
    klog(ALC_LOG_DEBUG,
         "paging: %lu CR3 loads, %lu invlpg; table changes: %lu to loaded spaces, %lu to others",
         g_stats.cr3_loads, g_stats.invlpgs, g_stats.live_changes, g_stats.idle_changes);
}

/* Nothing in limbo waits for vCPU c any more; what waits for nobody is released. */
static void release_waiting(unsigned c)
{
    for (struct limbo **pp = &g_limbo; *pp;) {
        struct limbo *l = *pp;
        l->stale &= ~(1ull << c);
        if (l->stale) {
            pp = &l->next;
            continue;
        }
        *pp = l->next;
        l->release(l->ctx, l->pa, l->len);
        kfree(l);
    }
}

/* This vCPU has just reloaded CR3: nothing it caches is stale. */
static void flushed(void)
{
    unsigned c = me();
    g_stale[c] = false;
    if (g_orphan[c] && g_orphan[c] != g_loaded[c]) {
        kpage_free(phys_to_virt(g_orphan[c]));
        g_orphan[c] = 0;
    }
    release_waiting(c);
}

void mmu_tlb_check(void)
{
    unsigned c = me();
    if (g_stale[c]) {
        load_cr3(g_loaded[c]);
        flushed();
    }
}

/* The other vCPUs that have s loaded (busy: only those running a thread). */
static uint64_t others_loaded(const struct mmu_space *s, bool busy)
{
    uint64_t mask = 0;
    for (unsigned c = 0; c < g_boot->cpu_count; c++)
        if (c != me() && s->root[c] && g_loaded[c] == s->root[c] && (!busy || g_busy[c]))
            mask |= 1ull << c;
    return mask;
}

/* After [va, va + len) of s changed: this vCPU forgets it, the others will. */
static void invalidate(struct mmu_space *s, uint64_t va, uint64_t len)
{
    unsigned c = me();
    uint64_t stale = others_loaded(s, false);
    for (unsigned o = 0; o < g_boot->cpu_count; o++)
        if (stale & (1ull << o))
            g_stale[o] = true;
    if (!s->root[c] || g_loaded[c] != s->root[c])
        return;
    if (len <= 8 * PT_PAGE) {
        for (uint64_t a = va; a < va + len; a += PT_PAGE) {
            g_stats.invlpgs++;
            alc_invlpg(a);
        }
    } else {
        load_cr3(g_loaded[c]);
        flushed();
    }
}

int mmu_space_init(struct mmu_space *s)
{
    memset(s, 0, sizeof(*s));
    void *master = kpage_alloc();
    if (!master)
        return -ENOMEM;
    s->master = virt_to_phys(master);
    /* every vCPU's PML4 now, so that switching to the space later cannot fail; each gets its
     * upper half the first time it is loaded (mmu_activate: the vCPU's own window is there) */
    for (unsigned c = 0; c < g_boot->cpu_count; c++) {
        void *root = kpage_alloc();
        if (!root) {
            for (unsigned k = 0; k < c; k++)
                kpage_free(phys_to_virt(s->root[k]));
            kpage_free(master);
            return -ENOMEM;
        }
        s->root[c] = virt_to_phys(root);
    }
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
    count_change(s);
    g_rel.stale = others_loaded(s, true); /* for the tables a 2 MiB page replaces */
    g_rel.release = NULL;
    return sync(s, pt_map(&g_env, s->master, va, pa, len, perm));
}

int mmu_unmap(struct mmu_space *s, uint64_t va, uint64_t len,
              void (*release)(void *ctx, uint64_t pa, uint64_t len), void *ctx)
{
    count_change(s);
    g_rel.stale = others_loaded(s, true);
    g_rel.release = release;
    g_rel.ctx = ctx;
    int err = sync(s, pt_unmap(&g_env, s->master, va, len));
    g_rel.release = NULL;
    invalidate(s, va, len);
    return err;
}

int mmu_protect(struct mmu_space *s, uint64_t va, uint64_t len, uint64_t perm)
{
    count_change(s);
    g_rel.stale = 0; /* nothing is freed */
    int err = sync(s, pt_protect(&g_env, s->master, va, len, perm));
    invalidate(s, va, len);
    return err;
}

int mmu_lookup(struct mmu_space *s, uint64_t va, uint64_t *pa, uint64_t *perm, uint64_t *size)
{
    return pt_lookup(&g_env, s->master, va, pa, perm, size);
}

int mmu_walk(struct mmu_space *s, uint64_t va, uint64_t len,
             int (*fn)(void *ctx, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm),
             void *ctx)
{
    return pt_walk(&g_env, s->master, va, len, fn, ctx);
}

void mmu_space_destroy(struct mmu_space *s, void (*release)(void *ctx, uint64_t pa, uint64_t len),
                       void *ctx)
{
    /* every mapping and table of the lower half: the vCPUs' PML4s keep only the upper half */
    mmu_unmap(s, 0, 1ull << 47, release, ctx);
    kpage_free(phys_to_virt(s->master));
    for (unsigned c = 0; c < g_boot->cpu_count; c++) {
        if (!s->root[c])
            continue;
        if (g_loaded[c] != s->root[c]) {
            kpage_free(phys_to_virt(s->root[c]));
            continue;
        }
        /* loaded there: freed once that vCPU loads another (a PML4 freed under a vCPU would be
         * its upper half too); and it must load the next space even if that gets this page */
        if (g_orphan[c])
            kpage_free(phys_to_virt(g_orphan[c]));
        g_orphan[c] = s->root[c];
        g_stale[c] = true;
    }
    memset(s, 0, sizeof(*s));
}

bool mmu_unmapped(struct mmu_space *s, uint64_t va, uint64_t len)
{
    return pt_range_unmapped(&g_env, s->master, va, len);
}

int mmu_activate(struct mmu_space *s)
{
    unsigned c = me();
    g_busy[c] = true;
    if (!(s->filled & (1ull << c))) {
        /* the upper half as the monitor made it for this vCPU (its window is there); the lower
         * half is the master's already (sync) */
        uint64_t *pml4 = phys_to_virt(s->root[c]);
        memcpy(pml4 + 256, (const uint64_t *)phys_to_virt(this_cpu->area.boot_cr3) + 256,
               256 * sizeof(uint64_t));
        s->filled |= 1ull << c;
    }
    if (g_loaded[c] == s->root[c] && !g_stale[c])
        return 0;
    g_loaded[c] = s->root[c];
    load_cr3(s->root[c]);
    flushed();
    return 0;
}

void mmu_idle(void)
{
    unsigned c = me();
    g_busy[c] = false;
    /* it reloads before it touches a process's memory again (mmu_activate): nothing need wait
     * for it */
    if (g_stale[c])
        release_waiting(c);
}
