/* test_cpuid.c: the enclave's CPUID answers (src/monitor/cpuid.c) name only features whose state
 * the enclave's XCR0 enables, and leaf 0xD sizes only the enabled components. The host here is
 * a made-up one with AVX-512, AMX, PKU, VMX and SVM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "monitor/cpuid.h"

#define BIT(n) (1u << (n))

static struct kvm_cpuid2 *host(void)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 16 * sizeof(struct kvm_cpuid_entry2));
    struct kvm_cpuid_entry2 e[] = {
        {.function = 1, .ebx = 0x07000800, .ecx = BIT(5) | BIT(12) | BIT(28) | BIT(26) | BIT(27)},
        {.function = 7,
         .index = 0,
         .ebx = BIT(5) | BIT(16) | BIT(31),
         .ecx = BIT(1) | BIT(3),
         .edx = BIT(22) | BIT(24) | BIT(25) | BIT(23)},
        {.function = 7, .index = 1, .eax = BIT(4) | BIT(5)},
        /* x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM PKRU TILECFG TILEDATA */
        {.function = 0xd, .index = 0, .eax = 0x602e7, .ebx = 0x2b00, .ecx = 0x2b00},
        {.function = 0xd, .index = 1, .eax = 0xf},
        {.function = 0xd, .index = 2, .eax = 0x100, .ebx = 0x240},
        {.function = 0xd, .index = 5, .eax = 0x40, .ebx = 0x340},
        {.function = 0xd, .index = 6, .eax = 0x200, .ebx = 0x380},
        {.function = 0xd, .index = 7, .eax = 0x400, .ebx = 0x580},
        {.function = 0xd, .index = 8, .eax = 0x80, .ecx = 1}, /* PT: a supervisor component */
        {.function = 0xd, .index = 9, .eax = 0x8, .ebx = 0xa80},
        {.function = 0xd, .index = 17, .eax = 0x40, .ebx = 0xac0},
        {.function = 0xd, .index = 18, .eax = 0x2000, .ebx = 0xb00},
        {.function = 0x80000001, .ecx = BIT(2) | BIT(0)},
    };
    c->nent = sizeof(e) / sizeof(e[0]);
    for (uint32_t i = 0; i < c->nent; i++)
        c->entries[i] = e[i];
    return c;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && c->entries[i].index == idx)
            return &c->entries[i];
    fail_msg("no leaf %#x.%u", fn, idx);
    return NULL;
}

static void test_host_xcr0(void **state)
{
    (void)state;
    struct kvm_cpuid2 *c = host();
    assert_int_equal(cpuid_host_xcr0(c), 0x602e7);
    c->nent = 0;
    assert_int_equal(cpuid_host_xcr0(c), 3);
    free(c);
}

static void test_avx512_kept_amx_pku_dropped(void **state)
{
    (void)state;
    struct kvm_cpuid2 *c = host();
    cpuid_filter(c, 0xe7, 2);
    assert_int_equal(leaf(c, 1, 0)->ebx >> 24, 2); /* the vCPU's APIC ID */
    assert_false(leaf(c, 1, 0)->ecx & BIT(5));     /* no VMX */
    assert_true(leaf(c, 1, 0)->ecx & BIT(28));     /* AVX */
    assert_true(leaf(c, 7, 0)->ebx & BIT(16));     /* AVX-512F */
    assert_false(leaf(c, 7, 0)->ecx & BIT(3));     /* no PKU: PKRU is not enabled */
    assert_int_equal(leaf(c, 7, 0)->edx & (BIT(22) | BIT(24) | BIT(25)), 0); /* no AMX */
    assert_true(leaf(c, 7, 0)->edx & BIT(23));                               /* AVX512-FP16 stays */
    assert_int_equal(leaf(c, 0xd, 0)->eax, 0xe7);  /* what XCR0 may hold */
    assert_int_equal(leaf(c, 0xd, 0)->ecx, 0x980); /* up to the end of Hi16_ZMM */
    assert_int_equal(leaf(c, 0xd, 9)->eax, 0);     /* PKRU's sub-leaf is empty */
    assert_int_equal(leaf(c, 0xd, 18)->eax, 0);    /* so are the tiles' */
    assert_int_equal(leaf(c, 0xd, 8)->eax, 0x80);  /* a supervisor component is left alone */
    assert_int_equal(leaf(c, 0x80000001, 0)->ecx, BIT(0)); /* no SVM */
    free(c);
}

static void test_no_avx512_state(void **state)
{
    (void)state;
    struct kvm_cpuid2 *c = host();
    cpuid_filter(c, 0x7, 0);
    assert_true(leaf(c, 7, 0)->ebx & BIT(5)); /* AVX2 */
    assert_false(leaf(c, 7, 0)->ebx & (BIT(16) | BIT(31)));
    assert_false(leaf(c, 7, 0)->ecx & BIT(1));
    assert_false(leaf(c, 7, 0)->edx & BIT(23));
    assert_int_equal(leaf(c, 7, 1)->eax, BIT(4)); /* AVX-VNNI, no AVX512-BF16 */
    assert_int_equal(leaf(c, 0xd, 0)->eax, 0x7);
    assert_int_equal(leaf(c, 0xd, 0)->ecx, 0x340);
    assert_int_equal(leaf(c, 0xd, 5)->eax, 0);
    free(c);
}

static void test_sse_only(void **state)
{
    (void)state;
    struct kvm_cpuid2 *c = host();
    cpuid_filter(c, 0x3, 0);
    assert_false(leaf(c, 1, 0)->ecx & (BIT(12) | BIT(28)));
    assert_false(leaf(c, 7, 0)->ebx & BIT(5));
    assert_int_equal(leaf(c, 7, 1)->eax, 0);
    assert_int_equal(leaf(c, 0xd, 0)->ecx, 576);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_xcr0),
        cmocka_unit_test(test_avx512_kept_amx_pku_dropped),
        cmocka_unit_test(test_no_avx512_state),
        cmocka_unit_test(test_sse_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
