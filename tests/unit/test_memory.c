/* test_memory.c: the checked guest-address translator refuses every range that is not
 * entirely inside guest RAM, including ranges whose end wraps around. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "monitor/memory.h"

static uint8_t backing[1 << 16];

static void test_translate(void **state)
{
    (void)state;
    struct guest_mem m = {.host = backing, .size = sizeof(backing)};
    log_set_level(-1); /* the refusals log; keep the test output clean */
    assert_ptr_equal(GPA_PTR(&m, 0, 1), backing);
    assert_ptr_equal(GPA_PTR(&m, 100, 200), backing + 100);
    assert_ptr_equal(GPA_PTR(&m, sizeof(backing) - 8, 8), backing + sizeof(backing) - 8);
    assert_ptr_equal(GPA_PTR(&m, sizeof(backing), 0), backing + sizeof(backing));
    assert_null(GPA_PTR(&m, sizeof(backing) - 8, 9));
    assert_null(GPA_PTR(&m, sizeof(backing), 1));
    assert_null(GPA_PTR(&m, ~0ull, 2));
    assert_null(GPA_PTR(&m, 16, ~0ull - 8));
    assert_null(GPA_PTR(&m, 1ull << 40, 8));
}

static void test_alloc_and_resident(void **state)
{
    (void)state;
    struct guest_mem m;
    log_set_level(ALC_LOG_ERROR);
    assert_int_equal(guest_mem_alloc(&m, 8 << 20), 0);
    assert_int_equal((uintptr_t)m.host % (2 << 20), 0);
    assert_int_equal(m.size, 8 << 20);
    assert_int_equal(guest_mem_resident(&m), 0); /* nothing backed yet */
    assert_int_equal(guest_mem_populate(&m, 2 << 20, 4 << 20), 0);
    assert_int_equal(guest_mem_resident(&m), 4 << 20);
    assert_int_equal(guest_mem_populate(&m, 6 << 20, 4 << 20), -EINVAL);   /* past the end */
    assert_int_equal(guest_mem_populate(&m, ~0ull - 4096, 8192), -EINVAL); /* wraps */
    guest_mem_free(&m);
    assert_null(m.host);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translate),
        cmocka_unit_test(test_alloc_and_resident),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
