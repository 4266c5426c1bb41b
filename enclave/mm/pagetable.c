/* pagetable.c: four-level page tables (see pagetable.h). */
#include "pagetable.h"

#include <stdbool.h>

#include "linux_abi.h"

/* table entries point down with every permission: the leaves decide */
#define TABLE_BITS (PTE_P | PTE_W | PTE_U | PTE_A)

enum op { OP_MAP, OP_UNMAP, OP_PROTECT };

struct req {
    const struct pt_env *e;
    enum op op;
    uint64_t delta; /* pa - va (OP_MAP) */
    uint64_t perm;
};

/* bytes one entry of a table at this level covers (1: PT, 2: PD, 3: PDPT, 4: PML4) */
static uint64_t span(int level)
{
    return 1ull << (12 + 9 * (level - 1));
}

static unsigned index_of(uint64_t va, int level)
{
    return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

static uint64_t *table(const struct pt_env *e, uint64_t pa)
{
    return e->table(e->ctx, pa);
}

static uint64_t leaf(uint64_t pa, uint64_t perm, int huge)
{
    uint64_t b = pa | (perm & PTE_PERM) | PTE_P | PTE_A;
    if (perm & PTE_W)
        b |= PTE_D;
    if (huge)
        b |= PTE_PS;
    return b;
}

/* An entry at this level that points to a table (not a page). */
static bool is_table(uint64_t pte, int level)
{
    return level > 1 && (pte & PTE_P) && !(pte & PTE_PS);
}

static bool empty(const uint64_t *t)
{
    for (int i = 0; i < 512; i++)
        if (t[i])
            return false;
    return true;
}

/* The page mapping pte (at this level) goes away: its memory to the caller's release. */
static void release(const struct pt_env *e, uint64_t pte, int level)
{
    if (e->release && (pte & PTE_P))
        e->release(e->ctx, pte & PTE_ADDR & ~(span(level) - 1), span(level));
}

/* Frees the table at pa (at this level) and every table below it, releasing the pages they
 * map. */
static void free_subtree(const struct pt_env *e, uint64_t pa, int level)
{
    uint64_t *t = table(e, pa);
    for (int i = 0; i < 512; i++) {
        if (is_table(t[i], level))
            free_subtree(e, t[i] & PTE_ADDR, level - 1);
        else
            release(e, t[i], level);
    }
    e->free(e->ctx, pa);
}

/* A new table under *pte; a 2 MiB page there becomes 512 4 KiB pages of the same memory with
 * the same permissions. */
static int make_table(const struct pt_env *e, uint64_t *pte)
{
    uint64_t pa;
    if (e->alloc(e->ctx, &pa))
        return -ENOMEM;
    if ((*pte & PTE_P) && (*pte & PTE_PS)) {
        uint64_t *t = table(e, pa);
        uint64_t base = *pte & PTE_ADDR & ~(PT_HUGE - 1), perm = *pte & PTE_PERM;
        for (int i = 0; i < 512; i++)
            t[i] = leaf(base + (uint64_t)i * PT_PAGE, perm, 0);
    }
    *pte = pa | TABLE_BITS;
    return 0;
}

static int range(struct req *r, uint64_t tpa, int level, uint64_t va, uint64_t end)
{
    uint64_t *t = table(r->e, tpa);
    uint64_t sz = span(level);
    while (va < end) {
        uint64_t next = (va & ~(sz - 1)) + sz;
        uint64_t stop = (next == 0 || next > end) ? end : next;
        uint64_t *pte = &t[index_of(va, level)];
        bool whole = (va & (sz - 1)) == 0 && stop - va == sz;
        if (level == 1) {
            if (r->op != OP_PROTECT)
                release(r->e, *pte, 1);
            if (r->op == OP_MAP)
                *pte = leaf(va + r->delta, r->perm, 0);
            else if (r->op == OP_UNMAP)
                *pte = 0;
            else if (*pte & PTE_P)
                *pte = leaf(*pte & PTE_ADDR, r->perm, 0);
        } else if (level == 2 && whole &&
                   (r->op != OP_MAP || ((va + r->delta) & (PT_HUGE - 1)) == 0) &&
                   (r->op != OP_PROTECT || !is_table(*pte, 2))) {
            /* the whole 2 MiB: one entry */
            if (r->op != OP_PROTECT && is_table(*pte, 2))
                free_subtree(r->e, *pte & PTE_ADDR, 1);
            else if (r->op != OP_PROTECT)
                release(r->e, *pte, 2);
            if (r->op == OP_MAP)
                *pte = leaf(va + r->delta, r->perm, 1);
            else if (r->op == OP_UNMAP)
                *pte = 0;
            else if (*pte & PTE_P)
                *pte = leaf(*pte & PTE_ADDR, r->perm, 1);
        } else {
            if (!(*pte & PTE_P)) {
                if (r->op != OP_MAP)
                    goto next_entry;
                if (make_table(r->e, pte))
                    return -ENOMEM;
            } else if (*pte & PTE_PS) {
                if (level != 2)
                    return -EINVAL; /* a 1 GiB page: never made here */
                if (make_table(r->e, pte))
                    return -ENOMEM;
            }
            int err = range(r, *pte & PTE_ADDR, level - 1, va, stop);
            if (r->op == OP_UNMAP && empty(table(r->e, *pte & PTE_ADDR))) {
                r->e->free(r->e->ctx, *pte & PTE_ADDR);
                *pte = 0;
            }
            if (err)
                return err;
        }
    next_entry:
        va = stop;
        if (next == 0)
            break;
    }
    return 0;
}

static int run(struct req *r, uint64_t root, uint64_t va, uint64_t len)
{
    if (len == 0)
        return 0;
    if (va + len <= va)
        return -EINVAL; /* wraps, or ends at the very top of the address space */
    return range(r, root, 4, va, va + len);
}

int pt_map(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t pa, uint64_t len,
           uint64_t perm)
{
    struct req r = {e, OP_MAP, pa - va, perm};
    return run(&r, root, va, len);
}

int pt_unmap(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t len)
{
    struct req r = {e, OP_UNMAP, 0, 0};
    return run(&r, root, va, len);
}

int pt_protect(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t len, uint64_t perm)
{
    struct req r = {e, OP_PROTECT, 0, perm};
    return run(&r, root, va, len);
}

int pt_lookup(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t *pa, uint64_t *perm,
              uint64_t *size)
{
    uint64_t tpa = root;
    for (int level = 4; level >= 1; level--) {
        uint64_t pte = table(e, tpa)[index_of(va, level)];
        if (!(pte & PTE_P))
            return -ENOENT;
        if (level == 1 || (pte & PTE_PS)) {
            uint64_t sz = span(level);
            if (pa)
                *pa = (pte & PTE_ADDR & ~(sz - 1)) + (va & (sz - 1));
            if (perm)
                *perm = pte & PTE_PERM;
            if (size)
                *size = sz;
            return 0;
        }
        tpa = pte & PTE_ADDR;
    }
    return -ENOENT;
}

struct walk {
    const struct pt_env *e;
    int (*fn)(void *ctx, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm);
    void *ctx;
};

static int walk(const struct walk *w, uint64_t tpa, int level, uint64_t va, uint64_t end)
{
    const uint64_t *t = table(w->e, tpa);
    uint64_t sz = span(level);
    while (va < end) {
        uint64_t base = va & ~(sz - 1), next = base + sz;
        uint64_t stop = (next == 0 || next > end) ? end : next;
        uint64_t pte = t[index_of(va, level)];
        int err = 0;
        if (is_table(pte, level))
            err = walk(w, pte & PTE_ADDR, level - 1, va, stop);
        else if (pte & PTE_P)
            err = w->fn(w->ctx, base, pte & PTE_ADDR & ~(sz - 1), sz, pte & PTE_PERM);
        if (err)
            return err;
        if (next == 0)
            break;
        va = stop;
    }
    return 0;
}

int pt_walk(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t len,
            int (*fn)(void *ctx, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm), void *ctx)
{
    struct walk w = {e, fn, ctx};
    return len == 0 ? 0 : walk(&w, root, 4, va, va + len);
}

static bool unmapped(const struct pt_env *e, uint64_t tpa, int level, uint64_t va, uint64_t end)
{
    const uint64_t *t = table(e, tpa);
    uint64_t sz = span(level);
    while (va < end) {
        uint64_t next = (va & ~(sz - 1)) + sz;
        uint64_t stop = (next == 0 || next > end) ? end : next;
        uint64_t pte = t[index_of(va, level)];
        if (is_table(pte, level)) {
            if (!unmapped(e, pte & PTE_ADDR, level - 1, va, stop))
                return false;
        } else if (pte & PTE_P) {
            return false;
        }
        if (next == 0)
            break;
        va = stop;
    }
    return true;
}

bool pt_range_unmapped(const struct pt_env *e, uint64_t root, uint64_t va, uint64_t len)
{
    return len == 0 || unmapped(e, root, 4, va, va + len);
}

void pt_free_tables(const struct pt_env *e, uint64_t root, unsigned first, unsigned last)
{
    uint64_t *t = table(e, root);
    for (unsigned i = first; i <= last && i < 512; i++) {
        if (is_table(t[i], 4))
            free_subtree(e, t[i] & PTE_ADDR, 3);
        t[i] = 0;
    }
}
