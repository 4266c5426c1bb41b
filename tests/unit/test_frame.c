/* test_frame.c: the application region's frame allocator (enclave/mm/frame.c): single frames
 * packed into chunks in use, whole chunks for 2 MiB pages, the kernel's runs from the top,
 * partial frees, and which frames need zeroing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"
#include "linux_abi.h"

#define MIB (1ull << 20)
#define LO  (64ull << 10) /* like the application region: the first 64 KiB are not RAM's */
#define HI  (16ull * MIB) /* eight chunks */

static struct frames g_f;
static void *g_store;

static int setup(void **state)
{
    (void)state;
    g_store = calloc(1, frames_storage(LO, HI));
    frames_init(&g_f, LO, HI, g_store);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(g_store);
    return 0;
}

static void test_counts(void **state)
{
    (void)state;
    assert_int_equal(g_f.nchunks, 8);
    assert_int_equal(g_f.total, (HI - LO) / FRAME_SIZE);
    assert_int_equal(g_f.nfree, g_f.total);
    assert_true(frames_is_used(&g_f, 0)); /* below lo: never handed out */
    assert_false(frames_is_used(&g_f, LO));
}

static void test_pages_pack_into_used_chunks(void **state)
{
    (void)state;
    uint64_t a, b;
    assert_int_equal(frames_alloc_page(&g_f, &a), 0);
    assert_int_equal(a, LO); /* chunk 0 is in use (its first frames are not ours) */
    assert_int_equal(frames_alloc_page(&g_f, &b), 0);
    assert_int_equal(b, LO + FRAME_SIZE);
    /* a 2 MiB page skips the chunk in use */
    uint64_t c;
    assert_int_equal(frames_alloc_chunk(&g_f, &c), 0);
    assert_int_equal(c, 2 * MIB);
    /* chunk 0 fills up, then single frames go to the lowest empty chunk */
    uint64_t left = FRAMES_PER_CHUNK - 16 - 2, p = 0;
    for (uint64_t i = 0; i < left; i++)
        assert_int_equal(frames_alloc_page(&g_f, &p), 0);
    assert_int_equal(p, 2 * MIB - FRAME_SIZE);
    assert_int_equal(frames_alloc_page(&g_f, &p), 0);
    assert_int_equal(p, 4 * MIB);
    /* a frame freed in chunk 0 is reused before the newer chunk's next one */
    frames_free(&g_f, b, 1);
    g_f.hint = 0;
    assert_int_equal(frames_alloc_page(&g_f, &p), 0);
    assert_int_equal(p, b);
    assert_int_equal(g_f.nfree, g_f.total - (FRAMES_PER_CHUNK - 16) - FRAMES_PER_CHUNK - 1);
}

static void test_runs_from_the_top(void **state)
{
    (void)state;
    uint64_t a, b, c;
    assert_int_equal(frames_alloc_run(&g_f, FRAMES_PER_CHUNK, &a), 0);
    assert_int_equal(a, 14 * MIB);
    assert_int_equal(frames_alloc_run(&g_f, 3, &b), 0);
    assert_int_equal(b, 14 * MIB - 3 * FRAME_SIZE);
    /* two whole chunks: below the one taken and the partly used one */
    assert_int_equal(frames_alloc_run(&g_f, 2 * FRAMES_PER_CHUNK, &c), 0);
    assert_int_equal(c, 8 * MIB);
    /* a run given back in parts */
    frames_free(&g_f, c, FRAMES_PER_CHUNK);
    assert_false(frames_is_used(&g_f, c));
    assert_true(frames_is_used(&g_f, c + 2 * MIB));
    frames_free(&g_f, c + 2 * MIB, FRAMES_PER_CHUNK);
    assert_int_equal(g_f.nfree, g_f.total - FRAMES_PER_CHUNK - 3);
}

static void test_exhaustion(void **state)
{
    (void)state;
    uint64_t pa, n = 0;
    while (frames_alloc_chunk(&g_f, &pa) == 0)
        n++;
    assert_int_equal(n, 7); /* chunk 0 is partly outside the region */
    while (frames_alloc_page(&g_f, &pa) == 0)
        n++;
    assert_int_equal(g_f.nfree, 0);
    assert_int_equal(frames_alloc_page(&g_f, &pa), -ENOMEM);
    assert_int_equal(frames_alloc_run(&g_f, 1, &pa), -ENOMEM);
    /* a hole of 2 frames is not a run of 3 */
    frames_free(&g_f, 5 * MIB, 2);
    assert_int_equal(frames_alloc_run(&g_f, 3, &pa), -ENOMEM);
    assert_int_equal(frames_alloc_run(&g_f, 2, &pa), 0);
    assert_int_equal(pa, 5 * MIB);
    /* a free frame in a used chunk does not make a 2 MiB page */
    frames_free(&g_f, 6 * MIB, 1);
    assert_int_equal(frames_alloc_chunk(&g_f, &pa), -ENOMEM);
}

static uint64_t g_zeroed[16][2];
static int g_nzero;

static void zero(void *ctx, uint64_t pa, uint64_t len)
{
    (void)ctx;
    g_zeroed[g_nzero][0] = pa;
    g_zeroed[g_nzero][1] = len;
    g_nzero++;
}

static void test_clean_zeroes_only_reused_frames(void **state)
{
    (void)state;
    uint64_t a;
    assert_int_equal(frames_alloc_run(&g_f, 8, &a), 0);
    frames_clean(&g_f, a, 8, zero, NULL);
    assert_int_equal(g_nzero, 0); /* never handed out: already zero */
    frames_free(&g_f, a + 2 * FRAME_SIZE, 3);
    uint64_t b;
    assert_int_equal(frames_alloc_run(&g_f, 3, &b), 0);
    assert_int_equal(b, a + 2 * FRAME_SIZE);
    frames_clean(&g_f, b, 3, zero, NULL);
    assert_int_equal(g_nzero, 1);
    assert_int_equal(g_zeroed[0][0], b);
    assert_int_equal(g_zeroed[0][1], 3 * FRAME_SIZE);
    /* a run of which only part was used before: only that part */
    frames_free(&g_f, a, 8);
    uint64_t c;
    assert_int_equal(frames_alloc_run(&g_f, 16, &c), 0);
    assert_int_equal(c + 16 * FRAME_SIZE, a + 8 * FRAME_SIZE);
    frames_clean(&g_f, c, 16, zero, NULL);
    assert_int_equal(g_nzero, 2);
    assert_int_equal(g_zeroed[1][0], a);
    assert_int_equal(g_zeroed[1][1], 8 * FRAME_SIZE);
}

/* A frame two mappings share is free only when both have given it back. */
static void test_shared_frames(void **state)
{
    (void)state;
    uint64_t pa, total = g_f.nfree;
    assert_int_equal(frames_alloc_page(&g_f, &pa), 0);
    assert_int_equal(frames_ref(&g_f, pa, 1), 0);
    frames_free(&g_f, pa, 1);
    assert_true(frames_is_used(&g_f, pa));
    assert_int_equal(g_f.nfree, total - 1);
    frames_free(&g_f, pa, 1);
    assert_false(frames_is_used(&g_f, pa));
    assert_int_equal(g_f.nfree, total);
    /* a 2 MiB page shared, then given back in parts */
    uint64_t c;
    assert_int_equal(frames_alloc_chunk(&g_f, &c), 0);
    assert_int_equal(frames_ref(&g_f, c, FRAMES_PER_CHUNK), 0);
    frames_free(&g_f, c, FRAMES_PER_CHUNK / 2);
    frames_free(&g_f, c, FRAMES_PER_CHUNK);
    assert_int_equal(g_f.nfree, total - FRAMES_PER_CHUNK / 2);
    assert_true(frames_is_used(&g_f, c + (FRAMES_PER_CHUNK / 2) * FRAME_SIZE));
    assert_false(frames_is_used(&g_f, c));
    /* counts do not overflow */
    g_f.refs[(c - g_f.base) / FRAME_SIZE + 300] = UINT16_MAX;
    assert_int_equal(frames_ref(&g_f, c + 299 * FRAME_SIZE, 2), -ENOMEM);
    assert_int_equal(g_f.refs[(c - g_f.base) / FRAME_SIZE + 299], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pages_pack_into_used_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_from_the_top, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_zeroes_only_reused_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_frames, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
