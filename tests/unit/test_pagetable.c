/* test_pagetable.c: the enclave kernel's page tables (enclave/mm/pagetable.c) on a fake
 * physical memory: 2 MiB and 4 KiB pages, splits, removal that frees empty tables,
 * protections, and running out of table pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linux_abi.h"
#include "pagetable.h"

#define NPAGES  256
#define PHYS    0x100000ull /* where the fake table pages start */
#define MIB     (1ull << 20)
#define RW      (PTE_W | PTE_U)
#define RO      (PTE_U)
#define RX_NONE (PTE_U | PTE_NX)

static uint64_t g_mem[NPAGES][512];
static bool g_used[NPAGES];
static int g_live, g_limit;

static void *fake_table(void *ctx, uint64_t pa)
{
    (void)ctx;
    assert_true(pa >= PHYS && pa < PHYS + NPAGES * PT_PAGE && (pa & 4095) == 0);
    assert_true(g_used[(pa - PHYS) / PT_PAGE]); /* never a freed page */
    return g_mem[(pa - PHYS) / PT_PAGE];
}

static int fake_alloc(void *ctx, uint64_t *pa)
{
    (void)ctx;
    if (g_live >= g_limit)
        return -1;
    for (int i = 0; i < NPAGES; i++) {
        if (!g_used[i]) {
            g_used[i] = true;
            memset(g_mem[i], 0, sizeof(g_mem[i]));
            g_live++;
            *pa = PHYS + (uint64_t)i * PT_PAGE;
            return 0;
        }
    }
    return -1;
}

static void fake_free(void *ctx, uint64_t pa)
{
    (void)ctx;
    int i = (int)((pa - PHYS) / PT_PAGE);
    assert_true(g_used[i]); /* never freed twice */
    g_used[i] = false;
    g_live--;
}

static uint64_t g_released;     /* bytes given to fake_release */
static uint64_t g_last_release; /* the last pa given */

static void fake_release(void *ctx, uint64_t pa, uint64_t len)
{
    (void)ctx;
    g_released += len;
    g_last_release = pa;
}

static const struct pt_env g_env = {fake_table, fake_alloc, fake_free, NULL, fake_release};
static uint64_t g_root;

static int setup(void **state)
{
    (void)state;
    memset(g_used, 0, sizeof(g_used));
    g_live = 0;
    g_limit = NPAGES;
    assert_int_equal(fake_alloc(NULL, &g_root), 0);
    return 0;
}

/* what va maps to: the physical address, or ~0 when nothing; *size and *perm when mapped */
static uint64_t at(uint64_t va, uint64_t *size, uint64_t *perm)
{
    uint64_t pa;
    if (pt_lookup(&g_env, g_root, va, &pa, perm, size))
        return ~0ull;
    return pa;
}

static void test_huge_pages_where_aligned(void **state)
{
    (void)state;
    uint64_t size, perm;
    assert_int_equal(pt_map(&g_env, g_root, 2 * MIB, 1024 * MIB, 8 * MIB, RW), 0);
    assert_int_equal(g_live, 3); /* PML4, PDPT, PD: no page table */
    assert_int_equal(at(2 * MIB + 5, &size, &perm), 1024 * MIB + 5);
    assert_int_equal(size, PT_HUGE);
    assert_int_equal(perm, RW);
    assert_int_equal(at(10 * MIB - 1, NULL, NULL), 1032 * MIB - 1);
    assert_int_equal(at(10 * MIB, NULL, NULL), ~0ull);
    assert_int_equal(at(2 * MIB - 1, NULL, NULL), ~0ull);
    /* the leaf has the accessed and dirty bits set: the CPU never writes it */
    uint64_t *pml4 = fake_table(NULL, g_root);
    uint64_t *pdpt = fake_table(NULL, pml4[0] & PTE_ADDR);
    uint64_t *pd = fake_table(NULL, pdpt[0] & PTE_ADDR);
    assert_int_equal(pd[1] & (PTE_P | PTE_A | PTE_D | PTE_PS), PTE_P | PTE_A | PTE_D | PTE_PS);
}

static void test_small_pages_elsewhere(void **state)
{
    (void)state;
    uint64_t size;
    /* 4 KiB at the edges, 2 MiB in the middle where both addresses allow it */
    uint64_t va = 2 * MIB - 2 * PT_PAGE, pa = 64 * MIB - 2 * PT_PAGE;
    assert_int_equal(pt_map(&g_env, g_root, va, pa, 2 * MIB + 4 * PT_PAGE, RO), 0);
    assert_int_equal(at(va, &size, NULL), pa);
    assert_int_equal(size, PT_PAGE);
    assert_int_equal(at(2 * MIB + 7, &size, NULL), 64 * MIB + 7);
    assert_int_equal(size, PT_HUGE);
    assert_int_equal(at(4 * MIB + PT_PAGE, &size, NULL), 66 * MIB + PT_PAGE);
    assert_int_equal(size, PT_PAGE);
    assert_int_equal(at(4 * MIB + 2 * PT_PAGE, NULL, NULL), ~0ull);
    /* unaligned physical memory: 4 KiB pages even for a whole 2 MiB of addresses */
    assert_int_equal(pt_map(&g_env, g_root, 8 * MIB, 100 * MIB + PT_PAGE, 2 * MIB, RW), 0);
    assert_int_equal(at(9 * MIB, &size, NULL), 101 * MIB + PT_PAGE);
    assert_int_equal(size, PT_PAGE);
    /* the read-only leaf is not dirty */
    uint64_t *pml4 = fake_table(NULL, g_root);
    uint64_t *pdpt = fake_table(NULL, pml4[0] & PTE_ADDR);
    uint64_t *pd = fake_table(NULL, pdpt[0] & PTE_ADDR);
    uint64_t *pt = fake_table(NULL, pd[0] & PTE_ADDR);
    assert_int_equal(pt[510] & (PTE_P | PTE_A | PTE_D | PTE_W), PTE_P | PTE_A);
}

static void test_split_on_partial_change(void **state)
{
    (void)state;
    uint64_t size, perm;
    assert_int_equal(pt_map(&g_env, g_root, 4 * MIB, 4 * MIB, 2 * MIB, RW), 0);
    int before = g_live;
    /* a hole in the middle of the 2 MiB page */
    assert_int_equal(pt_unmap(&g_env, g_root, 5 * MIB, PT_PAGE), 0);
    assert_int_equal(g_live, before + 1); /* its new page table */
    assert_int_equal(at(5 * MIB, NULL, NULL), ~0ull);
    assert_int_equal(at(5 * MIB - 1, &size, &perm), 5 * MIB - 1);
    assert_int_equal(size, PT_PAGE);
    assert_int_equal(perm, RW);
    assert_int_equal(at(5 * MIB + PT_PAGE, NULL, NULL), 5 * MIB + PT_PAGE);
    /* part of the rest becomes read-only and no-execute */
    assert_int_equal(pt_protect(&g_env, g_root, 4 * MIB, 3 * PT_PAGE, RX_NONE), 0);
    assert_int_equal(at(4 * MIB + 2 * PT_PAGE, NULL, &perm), 4 * MIB + 2 * PT_PAGE);
    assert_int_equal(perm, RX_NONE);
    assert_int_equal(at(4 * MIB + 3 * PT_PAGE, NULL, &perm), 4 * MIB + 3 * PT_PAGE);
    assert_int_equal(perm, RW);
    /* protecting a hole maps nothing */
    assert_int_equal(pt_protect(&g_env, g_root, 5 * MIB, PT_PAGE, RW), 0);
    assert_int_equal(at(5 * MIB, NULL, NULL), ~0ull);
    /* a whole 2 MiB page changes as one entry, without a split */
    assert_int_equal(pt_map(&g_env, g_root, 8 * MIB, 8 * MIB, 2 * MIB, RW), 0);
    before = g_live;
    assert_int_equal(pt_protect(&g_env, g_root, 8 * MIB, 2 * MIB, RO), 0);
    assert_int_equal(g_live, before);
    assert_int_equal(at(9 * MIB, &size, &perm), 9 * MIB);
    assert_int_equal(size, PT_HUGE);
    assert_int_equal(perm, RO);
}

static void test_unmap_frees_empty_tables(void **state)
{
    (void)state;
    assert_int_equal(pt_map(&g_env, g_root, 0x10000, 0x10000, 6 * MIB, RW), 0);
    assert_int_equal(pt_map(&g_env, g_root, 1ull << 39, 0, PT_PAGE, RW), 0); /* PML4[1] */
    assert_true(g_live > 4);
    assert_int_equal(pt_unmap(&g_env, g_root, 0, 8 * MIB), 0);
    assert_int_equal(pt_unmap(&g_env, g_root, 1ull << 39, PT_PAGE), 0);
    assert_int_equal(g_live, 1); /* the root alone */
    uint64_t *pml4 = fake_table(NULL, g_root);
    assert_int_equal(pml4[0] | pml4[1], 0);
    /* replacing a range of small pages with a huge one frees their table */
    assert_int_equal(pt_map(&g_env, g_root, 2 * MIB, 2 * MIB + PT_PAGE, 2 * MIB, RW), 0);
    assert_int_equal(g_live, 4);
    assert_int_equal(pt_map(&g_env, g_root, 2 * MIB, 2 * MIB, 2 * MIB, RW), 0);
    assert_int_equal(g_live, 3);
}

static void test_free_tables(void **state)
{
    (void)state;
    assert_int_equal(pt_map(&g_env, g_root, 0x10000, 0x10000, 5 * MIB, RW), 0);
    assert_int_equal(pt_map(&g_env, g_root, 3ull << 39, 0, 3 * PT_PAGE, RW), 0);
    /* an upper-half entry stays: only [0, 255] go */
    assert_int_equal(pt_map(&g_env, g_root, 0xffff888000000000ull, 0, 2 * MIB, RW), 0);
    pt_free_tables(&g_env, g_root, 0, 255);
    assert_int_equal(g_live, 3); /* the root, and the upper half's PDPT and PD */
    assert_int_equal(at(0x10000, NULL, NULL), ~0ull);
    assert_int_equal(at(0xffff888000000000ull + 9, NULL, NULL), 9);
}

/* Every mapping that goes away is released once, with its own address and size. */
static void test_release(void **state)
{
    (void)state;
    g_released = 0;
    assert_int_equal(pt_map(&g_env, g_root, 2 * MIB, 64 * MIB, 2 * MIB, RW), 0);
    assert_int_equal(pt_map(&g_env, g_root, 4 * MIB, 80 * MIB, 4 * PT_PAGE, RW), 0);
    assert_int_equal(g_released, 0);
    /* part of the huge page: split, then one 4 KiB page goes */
    assert_int_equal(pt_unmap(&g_env, g_root, 3 * MIB, PT_PAGE), 0);
    assert_int_equal(g_released, PT_PAGE);
    assert_int_equal(g_last_release, 65 * MIB);
    /* mapping over a page releases what was there */
    assert_int_equal(pt_map(&g_env, g_root, 4 * MIB, 90 * MIB, PT_PAGE, RW), 0);
    assert_int_equal(g_released, 2 * PT_PAGE);
    assert_int_equal(g_last_release, 80 * MIB);
    /* protection changes release nothing */
    assert_int_equal(pt_protect(&g_env, g_root, 2 * MIB, 4 * MIB, RO), 0);
    assert_int_equal(g_released, 2 * PT_PAGE);
    assert_false(pt_range_unmapped(&g_env, g_root, 2 * MIB, 4 * MIB));
    assert_true(pt_range_unmapped(&g_env, g_root, 3 * MIB, PT_PAGE));
    assert_true(pt_range_unmapped(&g_env, g_root, 4 * MIB + 4 * PT_PAGE, 2 * MIB));
    assert_false(pt_range_unmapped(&g_env, g_root, 4 * MIB + 3 * PT_PAGE, 2 * MIB));
    /* the rest, at once: 511 small pages of the old huge one and the four small ones */
    assert_int_equal(pt_unmap(&g_env, g_root, 0, 8 * MIB), 0);
    assert_int_equal(g_released, 2 * PT_PAGE + 2 * MIB - PT_PAGE + 4 * PT_PAGE);
    assert_true(pt_range_unmapped(&g_env, g_root, 0, 1ull << 40));
    /* a huge page that goes whole is released whole; so is what pt_free_tables drops */
    assert_int_equal(pt_map(&g_env, g_root, 2 * MIB, 64 * MIB, 2 * MIB, RW), 0);
    assert_int_equal(pt_unmap(&g_env, g_root, 2 * MIB, 2 * MIB), 0);
    assert_int_equal(g_released, 4 * MIB + 5 * PT_PAGE);
    assert_int_equal(g_last_release, 64 * MIB);
    assert_int_equal(pt_map(&g_env, g_root, 1ull << 39, 0, 3 * PT_PAGE, RW), 0);
    pt_free_tables(&g_env, g_root, 0, 255);
    assert_int_equal(g_released, 4 * MIB + 8 * PT_PAGE);
}

static uint64_t g_seen[8][4];
static int g_nseen;

static int record(void *ctx, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm)
{
    (void)ctx;
    g_seen[g_nseen][0] = va;
    g_seen[g_nseen][1] = pa;
    g_seen[g_nseen][2] = size;
    g_seen[g_nseen][3] = perm;
    return ++g_nseen == 3 ? 7 : 0; /* the third stops the walk */
}

static void test_walk(void **state)
{
    (void)state;
    assert_int_equal(pt_map(&g_env, g_root, 2 * MIB, 64 * MIB, 2 * MIB, RW), 0);
    assert_int_equal(pt_map(&g_env, g_root, 5 * MIB, 80 * MIB, 2 * PT_PAGE, RO), 0);
    assert_int_equal(pt_map(&g_env, g_root, 1ull << 39, 90 * MIB, PT_PAGE, RX_NONE), 0);
    g_nseen = 0;
    /* from the middle of the huge page: it is given whole */
    assert_int_equal(pt_walk(&g_env, g_root, 3 * MIB, 2 * MIB + PT_PAGE, record, NULL), 0);
    assert_int_equal(g_nseen, 2);
    assert_int_equal(g_seen[0][0], 2 * MIB);
    assert_int_equal(g_seen[0][1], 64 * MIB);
    assert_int_equal(g_seen[0][2], PT_HUGE);
    assert_int_equal(g_seen[0][3], RW);
    assert_int_equal(g_seen[1][0], 5 * MIB);
    assert_int_equal(g_seen[1][2], PT_PAGE);
    assert_int_equal(g_seen[1][3], RO);
    /* the whole lower half, stopped by the callback at the third */
    g_nseen = 0;
    assert_int_equal(pt_walk(&g_env, g_root, 0, 1ull << 47, record, NULL), 7);
    assert_int_equal(g_nseen, 3);
    assert_int_equal(g_seen[2][0], 5 * MIB + PT_PAGE);
    assert_int_equal(g_seen[2][1], 80 * MIB + PT_PAGE);
}

static void test_out_of_table_pages(void **state)
{
    (void)state;
    g_limit = 3; /* the root and two more: no room for a page table */
    assert_int_equal(pt_map(&g_env, g_root, 0, 0, 2 * MIB, RW), 0); /* one huge page: fits */
    assert_int_equal(pt_map(&g_env, g_root, 4 * MIB, 4 * MIB + PT_PAGE, PT_PAGE, RW), -ENOMEM);
    assert_int_equal(pt_unmap(&g_env, g_root, 0, PT_PAGE), -ENOMEM); /* the split needs one */
    assert_int_equal(at(5, NULL, NULL), 5);                          /* nothing changed */
    g_limit = NPAGES;
    assert_int_equal(pt_unmap(&g_env, g_root, 0, PT_PAGE), 0);
    /* a range that wraps, or ends at the very top, is refused rather than ignored */
    assert_int_equal(pt_map(&g_env, g_root, 0xffffffffffe00000ull, 0, 2 * MIB, RW), -EINVAL);
    assert_int_equal(pt_unmap(&g_env, g_root, 0xfffffffffffff000ull, 2 * PT_PAGE), -EINVAL);
    assert_int_equal(at(5, NULL, NULL), ~0ull);
    assert_int_equal(at(PT_PAGE, NULL, NULL), PT_PAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_huge_pages_where_aligned, setup),
        cmocka_unit_test_setup(test_small_pages_elsewhere, setup),
        cmocka_unit_test_setup(test_split_on_partial_change, setup),
        cmocka_unit_test_setup(test_unmap_frees_empty_tables, setup),
        cmocka_unit_test_setup(test_free_tables, setup),
        cmocka_unit_test_setup(test_release, setup),
        cmocka_unit_test_setup(test_walk, setup),
        cmocka_unit_test_setup(test_out_of_table_pages, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
