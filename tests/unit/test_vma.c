/* test_vma.c: the application address-space list: insert, merge, split, protect, find. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "linux_abi.h"
#include "vma.h"

#define K  4096ull
#define RW (PROT_READ | PROT_WRITE)

static struct vma g_storage[64];
static struct vmspace s;

static int setup(void **state)
{
    (void)state;
    vms_init(&s, 0x10000, 0x10000000, g_storage, 64);
    return 0;
}

static void test_insert_merge(void **state)
{
    (void)state;
    assert_int_equal(vms_insert(&s, 0x100000, 0x102000, RW, VMA_ANON), 0);
    assert_int_equal(vms_insert(&s, 0x102000, 0x104000, RW, VMA_ANON), 0); /* merges */
    assert_int_equal(s.n, 1);
    assert_int_equal(vms_insert(&s, 0x104000, 0x105000, PROT_READ, VMA_ANON), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.mapped, 5 * K);
    assert_int_equal(vms_insert(&s, 0x101000, 0x103000, RW, VMA_ANON), -EINVAL); /* overlap */
    assert_int_equal(vms_insert(&s, 0x1000, 0x2000, RW, VMA_ANON), -EINVAL);     /* below lo */
    assert_int_equal(vms_insert(&s, 0x200001, 0x201000, RW, VMA_ANON), -EINVAL); /* unaligned */
    assert_false(vms_is_free(&s, 0x103000, 0x106000));
    assert_true(vms_is_free(&s, 0x105000, 0x106000));
}

static void test_remove_split(void **state)
{
    (void)state;
    assert_int_equal(vms_insert(&s, 0x100000, 0x110000, RW, VMA_ANON), 0);
    assert_int_equal(vms_remove(&s, 0x104000, 0x105000), 0); /* hole in the middle */
    assert_int_equal(s.n, 2);
    assert_int_equal(s.v[0].end, 0x104000);
    assert_int_equal(s.v[1].start, 0x105000);
    assert_int_equal(s.mapped, 15 * K);
    assert_int_equal(vms_remove(&s, 0x0ff000, 0x102000), 0); /* trims the front */
    assert_int_equal(s.v[0].start, 0x102000);
    assert_int_equal(vms_remove(&s, 0x10f000, 0x200000), 0); /* trims the back */
    assert_int_equal(s.v[1].end, 0x10f000);
    assert_int_equal(vms_remove(&s, 0x100000, 0x200000), 0); /* removes all */
    assert_int_equal(s.n, 0);
    assert_int_equal(s.mapped, 0);
    assert_null(vms_lookup(&s, 0x100000));
}

static void test_protect(void **state)
{
    (void)state;
    assert_int_equal(vms_insert(&s, 0x100000, 0x110000, RW, VMA_ANON), 0);
    assert_int_equal(vms_protect(&s, 0x104000, 0x106000, PROT_READ), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(vms_lookup(&s, 0x104000)->prot, PROT_READ);
    assert_int_equal(vms_lookup(&s, 0x106000)->prot, RW);
    assert_true(vms_accessible(&s, 0x104000, 0x2000, PROT_READ));
    assert_false(vms_accessible(&s, 0x104000, 0x2000, PROT_WRITE));
    assert_true(vms_accessible(&s, 0x100000, 0x4000, PROT_WRITE));
    assert_int_equal(vms_protect(&s, 0x104000, 0x106000, RW), 0); /* merges back */
    assert_int_equal(s.n, 1);
    assert_int_equal(vms_protect(&s, 0x10f000, 0x111000, PROT_READ), -ENOMEM); /* not mapped */
    assert_int_equal(s.n, 1);
    assert_int_equal(vms_protect(&s, 0x100000, 0x101000, PROT_NONE), 0);
    assert_false(vms_accessible(&s, 0x100000, 1, PROT_READ));
    assert_true(vms_accessible(&s, 0x100000, 1, 0));           /* mapped at all */
    assert_false(vms_accessible(&s, 0x10ffff, 2, PROT_READ));  /* runs off the end */
    assert_false(vms_accessible(&s, ~0ull - 1, 4, PROT_READ)); /* wraps */
    assert_true(vms_accessible(&s, 0, 0, PROT_WRITE));
}

static void test_flags(void **state)
{
    (void)state;
    assert_int_equal(vms_insert(&s, 0x100000, 0x110000, RW, VMA_ANON), 0);
    assert_int_equal(vms_set_flags(&s, 0x104000, 0x106000, VMA_F_LOCKED, 0), 0); /* mlock */
    assert_int_equal(s.n, 3);
    assert_int_equal(vma_kind(vms_lookup(&s, 0x104000)), VMA_ANON);
    assert_true(vms_any_flag(&s, 0x100000, 0x105000, VMA_F_LOCKED));
    assert_false(vms_any_flag(&s, 0x100000, 0x104000, VMA_F_LOCKED));
    assert_true(vms_overlaps_kind(&s, 0x104000, 0x105000, VMA_ANON)); /* flags aside */
    /* a protection change keeps the flags; a range with other flags does not merge */
    assert_int_equal(vms_protect(&s, 0x100000, 0x110000, PROT_READ), 0);
    assert_int_equal(s.n, 3);
    assert_true(vms_lookup(&s, 0x105000)->kind & VMA_F_LOCKED);
    assert_int_equal(vms_set_flags(&s, 0x100000, 0x110000, 0, VMA_F_LOCKED), 0); /* munlock */
    assert_int_equal(s.n, 1);
    assert_int_equal(vms_set_flags(&s, 0x10f000, 0x111000, VMA_F_LOCKED, 0), -ENOMEM);
}

static void test_find_free(void **state)
{
    (void)state;
    uint64_t at;
    assert_int_equal(vms_find_free_below(&s, 0x1000, K, 0x10000000, &at), 0);
    assert_int_equal(at, 0x10000000 - 0x1000);
    assert_int_equal(vms_insert(&s, 0x0ff00000, 0x10000000, RW, VMA_STACK), 0);
    assert_int_equal(vms_insert(&s, 0x0fe00000, 0x0fe80000, RW, VMA_ANON), 0);
    /* the gap between the two fits 512 KiB, top-down */
    assert_int_equal(vms_find_free_below(&s, 0x80000, K, 0x10000000, &at), 0);
    assert_int_equal(at, 0x0ff00000 - 0x80000);
    /* 1 MiB does not fit in that gap: it goes below the lower mapping */
    assert_int_equal(vms_find_free_below(&s, 0x100000, K, 0x10000000, &at), 0);
    assert_int_equal(at, 0x0fe00000 - 0x100000);
    /* alignment */
    assert_int_equal(vms_find_free_below(&s, 0x1000, 0x200000, 0x0fe00000, &at), 0);
    assert_int_equal(at & 0x1fffff, 0);
    /* too big */
    assert_int_equal(vms_find_free_below(&s, 0x20000000, K, 0x10000000, &at), -ENOMEM);
    assert_int_equal(vms_find_free_below(&s, 0, K, 0x10000000, &at), -ENOMEM);
}

static void test_table_full(void **state)
{
    (void)state;
    /* alternating protections cannot merge: fill the table */
    for (uint64_t i = 0; i < 64; i++)
        assert_int_equal(vms_insert(&s, 0x100000 + i * 2 * K, 0x100000 + i * 2 * K + K,
                                    i % 2 ? RW : PROT_READ, VMA_ANON),
                         0);
    assert_int_equal(vms_insert(&s, 0x900000, 0x901000, RW, VMA_ANON), -ENOMEM);
    /* splitting a range needs a free entry */
    assert_int_equal(vms_insert(&s, 0x100000 + 127 * K, 0x100000 + 128 * K, RW, VMA_ANON), 0);
    assert_int_equal(s.n, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_insert_merge, setup),
        cmocka_unit_test_setup(test_remove_split, setup),
        cmocka_unit_test_setup(test_protect, setup),
        cmocka_unit_test_setup(test_flags, setup),
        cmocka_unit_test_setup(test_find_free, setup),
        cmocka_unit_test_setup(test_table_full, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
