/* test_ring.c: reading records from the output ring, including wrapped and hostile ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "abi/alcove_abi.h"
#include "devices/ring.h"

#define SIZE 64

static uint8_t ring[SIZE];

static void put(uint64_t pos, const void *src, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        ring[(pos + i) % SIZE] = ((const uint8_t *)src)[i];
}

static uint64_t put_record(uint64_t pos, unsigned stream, const char *text)
{
    uint32_t hdr = (uint32_t)stream << 24 | (uint32_t)strlen(text);
    put(pos, &hdr, 4);
    put(pos + 4, text, strlen(text));
    return pos + 4 + strlen(text);
}

static void test_records(void **state)
{
    (void)state;
    struct ring_record r;
    uint64_t head = put_record(0, ALC_STREAM_STDOUT, "hello");
    head = put_record(head, ALC_STREAM_STDERR, "world!");
    assert_int_equal(ring_next_record(ring, SIZE, head, head, &r), RING_EMPTY);
    assert_int_equal(ring_next_record(ring, SIZE, head, 0, &r), RING_RECORD);
    assert_int_equal(r.stream, ALC_STREAM_STDOUT);
    assert_int_equal(r.len, 5);
    assert_int_equal(r.iovcnt, 1);
    assert_memory_equal(r.iov[0].iov_base, "hello", 5);
    assert_int_equal(ring_next_record(ring, SIZE, head, r.next_tail, &r), RING_RECORD);
    assert_int_equal(r.stream, ALC_STREAM_STDERR);
    assert_int_equal(r.next_tail, head);
}

static void test_wrap(void **state)
{
    (void)state;
    struct ring_record r;
    /* header split across the end (positions 62..65), payload wraps too */
    uint64_t start = 62 + 10 * SIZE;
    uint64_t head = put_record(start, ALC_STREAM_STDOUT, "abcdefgh");
    assert_int_equal(ring_next_record(ring, SIZE, head, start, &r), RING_RECORD);
    assert_int_equal(r.len, 8);
    assert_int_equal(r.iovcnt, 1); /* payload starts at 66 % 64 = 2: contiguous */
    start = 58;                    /* header at 58..61, payload 62..69 wraps at 64 */
    head = put_record(start, ALC_STREAM_STDOUT, "abcdefgh");
    assert_int_equal(ring_next_record(ring, SIZE, head, start, &r), RING_RECORD);
    assert_int_equal(r.iovcnt, 2);
    assert_int_equal(r.iov[0].iov_len + r.iov[1].iov_len, 8);
}

static void test_hostile(void **state)
{
    (void)state;
    struct ring_record r;
    uint64_t head = put_record(0, ALC_STREAM_STDOUT, "hello");
    assert_int_equal(ring_next_record(ring, SIZE, head + SIZE, 0, &r), RING_CORRUPT); /* overfull */
    assert_int_equal(ring_next_record(ring, SIZE, 0, 8, &r), RING_CORRUPT); /* head behind tail */
    assert_int_equal(ring_next_record(ring, SIZE, 3, 0, &r), RING_CORRUPT); /* partial header */
    assert_int_equal(ring_next_record(ring, SIZE, 7, 0, &r), RING_CORRUPT); /* partial payload */
    put_record(0, 9, "hello");
    assert_int_equal(ring_next_record(ring, SIZE, 9, 0, &r), RING_CORRUPT); /* bad stream */
    uint32_t huge = ALC_STREAM_STDOUT << 24 | 0xffffff;
    put(0, &huge, 4);
    assert_int_equal(ring_next_record(ring, SIZE, 40, 0, &r), RING_CORRUPT); /* length lies */
    assert_int_equal(ring_next_record(ring, 48, 9, 0, &r), RING_CORRUPT);    /* size not 2^n */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
