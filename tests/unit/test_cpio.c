/* test_cpio.c: the newc cpio reader shared with the enclave kernel: entries, padding, the
 * trailer, and every way an archive can lie. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cpio/cpio.h"

static size_t put_entry(uint8_t *buf, size_t at, const char *name, unsigned mode, const char *data)
{
    size_t nlen = strlen(name) + 1, dlen = data ? strlen(data) : 0;
    int n =
        sprintf((char *)buf + at, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1,
                mode, 0, 0, 1, 0, dlen, 0, 0, 0, 0, nlen, 0);
    at += (size_t)n;
    memcpy(buf + at, name, nlen);
    at += nlen;
    while (at % 4)
        buf[at++] = 0;
    if (dlen)
        memcpy(buf + at, data, dlen);
    at += dlen;
    while (at % 4)
        buf[at++] = 0;
    return at;
}

static uint8_t g_buf[4096];

static size_t sample(void)
{
    memset(g_buf, 0, sizeof(g_buf));
    size_t at = put_entry(g_buf, 0, "rootfs", 040755, NULL);
    at = put_entry(g_buf, at, "rootfs/hello.txt", 0100644, "hello, world\n");
    at = put_entry(g_buf, at, "rootfs/link", 0120777, "hello.txt");
    return put_entry(g_buf, at, "TRAILER!!!", 0, NULL);
}

static void test_read(void **state)
{
    (void)state;
    size_t size = sample(), pos = 0;
    struct cpio_entry e;
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_ENTRY);
    assert_int_equal(e.name_len, 6);
    assert_memory_equal(e.name, "rootfs", 6);
    assert_int_equal(e.mode, 040755);
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_ENTRY);
    assert_int_equal(e.size, 13);
    assert_memory_equal(e.data, "hello, world\n", 13);
    assert_int_equal(pos % 4, 0);
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_ENTRY);
    assert_int_equal(e.mode, 0120777);
    assert_memory_equal(e.data, "hello.txt", 9);
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_END);
    assert_int_equal(pos, size);
}

static void test_malformed(void **state)
{
    (void)state;
    struct cpio_entry e;
    size_t size = sample(), pos;
    /* every truncation of the first header or name fails cleanly */
    for (size_t cut = 0; cut < 120; cut++) {
        pos = 0;
        assert_int_equal(cpio_next(g_buf, cut, &pos, &e), CPIO_MALFORMED);
    }
    g_buf[0] = '1'; /* magic */
    pos = 0;
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_MALFORMED);
    sample();
    g_buf[20] = 'g'; /* a hex digit */
    pos = 0;
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_MALFORMED);
    sample();
    memcpy(g_buf + 6 + 8 * 6, "7FFFFFFF", 8); /* file size past the end */
    pos = 0;
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_MALFORMED);
    sample();
    memcpy(g_buf + 6 + 8 * 11, "00000003", 8); /* name not NUL-terminated where it says */
    pos = 0;
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_MALFORMED);
    sample();
    memcpy(g_buf + 6 + 8 * 11, "00000000", 8); /* empty name */
    pos = 0;
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_MALFORMED);
    pos = size + 4; /* a position past the end */
    assert_int_equal(cpio_next(g_buf, size, &pos, &e), CPIO_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
