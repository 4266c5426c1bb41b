/* test_layout.c: the guest-physical layout keeps every region inside RAM, apart from the others,
 * and refuses memory sizes that cannot hold the enclave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "monitor/layout.h"

struct range {
    uint64_t start, len;
};

static void check_layout(uint64_t mem_mib, unsigned ncpu, uint64_t exe)
{
    struct layout_input in = {mem_mib << 20, ncpu, 200 << 10, exe, 50, 1000, 20};
    struct layout l;
    assert_int_equal(layout_compute(&in, 4 << 20, &l), 0);
    assert_int_equal(l.app_end % (2 << 20), 0);
    struct range r[8 + ALC_MAX_CPUS] = {
        {l.kernel_gpa, 200 << 10},
        {l.boot_gpa, 4096},
        {l.strings_gpa, 1000},
        {l.shared_gpa, 4096},
        {l.out_ring_gpa, ALC_RING_DATA_OFFSET + LAYOUT_OUT_RING_DATA},
        {l.in_ring_gpa, ALC_RING_DATA_OFFSET + LAYOUT_IN_RING_DATA},
        {l.pt_gpa, l.pt_pages * 4096},
        {l.rootfs_gpa, exe},
    };
    unsigned n = 8;
    for (unsigned i = 0; i < ncpu; i++)
        r[n++] = (struct range){l.cpu_gpa[i], ALC_CPU_PAGES * 4096};
    for (unsigned i = 0; i < n; i++) {
        assert_true(r[i].start >= l.app_end);
        assert_true(r[i].start + r[i].len <= l.kheap_gpa);
        assert_int_equal(r[i].start % 4096, 0);
        for (unsigned j = i + 1; j < n; j++)
            assert_true(r[i].start + r[i].len <= r[j].start || r[j].start + r[j].len <= r[i].start);
    }
    assert_true(l.kheap_gpa + l.kheap_size == l.mem_size);
    assert_true(l.kheap_size >= LAYOUT_KHEAP_BASE);
}

static void test_sizes(void **state)
{
    (void)state;
    check_layout(16, 1, 100 << 10);
    check_layout(64, 1, 900 << 10);
    check_layout(64, 4, 5 << 20);
    check_layout(4096, 64, 1 << 20);
}

static void test_too_small(void **state)
{
    (void)state;
    struct layout l;
    struct layout_input in = {8 << 20, 1, 200 << 10, 30 << 20, 10, 100, 10};
    assert_int_equal(layout_compute(&in, 1 << 20, &l), -1); /* the executable alone is too big */
    struct layout_input in2 = {16 << 20, 1, 200 << 10, 1 << 20, 10, 100, 10};
    assert_int_equal(layout_compute(&in2, 15 << 20, &l), -1); /* no room for the app region */
}

static void test_pt_pages(void **state)
{
    (void)state;
    /* 1 GiB, 1 vCPU: 4 per-CPU + (1 + 1) physmap + (1 + 1 + 1) kernel; the application half is
     * the enclave kernel's to map */
    assert_int_equal(layout_pt_pages(1ull << 30, 1, 200 << 10), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_pt_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
