/* test_deadline.c: ALC_HC_WAIT's deadline never wraps around: a huge timeout from the guest is a
 * wait without end, not one that ended long ago. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "monitor/deadline.h"

static void test_ordinary(void **state)
{
    (void)state;
    assert_int_equal(wait_deadline(1000, 0), 0); /* no timeout: no deadline */
    assert_int_equal(wait_deadline(1000, 1), 1001);
    assert_int_equal(wait_deadline(5000000000ull, 2000000000ull), 7000000000ull);
}

static void test_huge_timeout_saturates(void **state)
{
    (void)state;
    uint64_t now = 123456789012345ull; /* a day and a half of uptime */
    /* these wrapped to a time before now, so the wait returned at once */
    assert_true(wait_deadline(now, UINT64_MAX) == UINT64_MAX);
    assert_true(wait_deadline(now, UINT64_MAX - now + 1) == UINT64_MAX);
    assert_true(wait_deadline(now, (uint64_t)INT64_MAX + 1) > now);
    /* the largest timeout that fits is kept exactly */
    assert_true(wait_deadline(now, UINT64_MAX - now) == UINT64_MAX);
    assert_true(wait_deadline(now, UINT64_MAX - now - 1) == UINT64_MAX - 1);
    assert_true(wait_deadline(UINT64_MAX, 1) == UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary),
        cmocka_unit_test(test_huge_timeout_saturates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
