/* test_eif_file.c: an EIF's header is checked against its file's size before the body is read
 * (image/eif_file.c), and the header-only checks agree with the full parser. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "image/eif.h"
#include "image/eif_file.h"

#define BLOB(s) ((struct eif_blob){.data = (const uint8_t *)(s), .size = sizeof(s) - 1})

static char g_dir[] = "/tmp/test_eif_file.XXXXXX";

/* A small valid image: kernel, cmdline, metadata and two ramdisks. */
static uint8_t *small_eif(size_t *size)
{
    static const struct eif_blob ramdisks[2] = {BLOB("BOOT-RAMDISK"), BLOB("APP-RAMDISK")};
    struct eif_contents c = {
        .kernel = BLOB("KERNEL"),
        .cmdline = BLOB("console=ttyS0"),
        .metadata = BLOB("{}"),
        .ramdisks = ramdisks,
        .nramdisks = 2,
    };
    uint8_t *buf = NULL;
    assert_int_equal(eif_write(&c, &buf, size), 0);
    return buf;
}

static void path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", g_dir, name);
}

/* Writes bytes to a file, then makes it size bytes long (a sparse tail). */
static void make_file(const char *path, const uint8_t *bytes, size_t len, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    close(fd);
}

/* For every length of a valid image: whenever the header check refuses it, the full parser
 * gives the same reason; and the whole image passes both. */
static void test_header_check_agrees_with_parse(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = small_eif(&size);
    for (size_t cut = 0; cut <= size + 16; cut++) {
        uint8_t *copy = calloc(1, cut + 1);
        assert_non_null(copy);
        memcpy(copy, buf, cut < size ? cut : size);
        enum eif_error h = eif_check_header(copy, cut);
        struct eif_image img;
        enum eif_error p = eif_parse(copy, cut, &img);
        if (h != EIF_OK)
            assert_int_equal(h, p);
        else
            assert_int_equal(cut, size);
        free(copy);
    }
    assert_int_equal(eif_check_header(buf, size), EIF_OK);
    free(buf);
}

/* Table damage the header alone shows: the same reason from both. */
static void test_header_check_table(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = small_eif(&size);
    struct eif_image img;
    /* the last section's size grown by 4 GiB: it runs past the end */
    buf[0x11c + 8 * 4 + 3] ^= 1;
    assert_int_equal(eif_check_header(buf, size), EIF_ERR_BOUNDS);
    assert_int_equal(eif_parse(buf, size, &img), EIF_ERR_BOUNDS);
    buf[0x11c + 8 * 4 + 3] ^= 1;
    /* an offset that skips a byte */
    buf[0x1c + 8 * 2 + 7] ^= 1;
    assert_int_equal(eif_check_header(buf, size), EIF_ERR_TABLE);
    assert_int_equal(eif_parse(buf, size, &img), EIF_ERR_TABLE);
    buf[0x1c + 8 * 2 + 7] ^= 1;
    /* a used slot beyond the section count */
    buf[0x1c + 8 * 31 + 7] = 1;
    assert_int_equal(eif_check_header(buf, size), EIF_ERR_TABLE);
    assert_int_equal(eif_parse(buf, size, &img), EIF_ERR_TABLE);
    free(buf);
}

static void test_read_file_valid(void **state)
{
    (void)state;
    size_t size, got_size = 0;
    uint8_t *buf = small_eif(&size), *got = NULL;
    char path[256];
    path_of(path, sizeof(path), "ok.eif");
    make_file(path, buf, size, size);
    assert_int_equal(eif_read_file(path, &got, &got_size), 0);
    assert_int_equal(got_size, size);
    assert_memory_equal(got, buf, size);
    free(got);
    free(buf);
}

/* A valid header on a 4 GiB sparse file, read with 256 MiB of address space: refused from the
 * header alone, so the limit is never reached. (In a child, so the limit stays there.) */
static void test_read_file_big_bounded(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = small_eif(&size);
    char path[256];
    path_of(path, sizeof(path), "big.eif");
    make_file(path, buf, size, 4ull << 30);
    free(buf);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {256u << 20, 256u << 20};
        struct rlimit cur;
        getrlimit(RLIMIT_AS, &cur);
        if (cur.rlim_cur == RLIM_INFINITY || cur.rlim_cur > rl.rlim_cur)
            setrlimit(RLIMIT_AS, &rl);
        uint8_t *got = (uint8_t *)1;
        size_t got_size;
        int r = eif_read_file(path, &got, &got_size);
        _exit(r == EIF_ERR_TRAILING && got == NULL ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    unlink(path);
}

/* Section headers with the table intact: eif_read_file refuses them for eif_parse's reason,
 * before it reads the body. Offsets of the small image's section headers: the header (548), then
 * each section (12 + its data): kernel 6, cmdline 13, metadata 2, ramdisks 12 and 11 bytes. */
static void test_read_file_section_headers(void **state)
{
    (void)state;
    static const size_t at[5] = {548, 548 + 18, 548 + 18 + 25, 548 + 18 + 25 + 14,
                                 548 + 18 + 25 + 14 + 24};
    static const struct {
        int section, byte;
        uint8_t value;
        enum eif_error want;
    } cases[] = {
        {0, 1, 0, EIF_ERR_SECTION_TYPE},  /* kernel -> type 0 */
        {2, 1, 6, EIF_ERR_SECTION_TYPE},  /* metadata -> type 6 */
        {1, 3, 1, EIF_ERR_SECTION_FLAGS}, /* cmdline's flags */
        {3, 11, 13, EIF_ERR_TABLE},       /* a ramdisk's size, not the table's */
        {1, 1, 1, EIF_ERR_DUPLICATE},     /* cmdline -> a second kernel */
        {1, 1, 3, EIF_ERR_MISSING},       /* cmdline -> a ramdisk: no cmdline */
    };
    size_t size;
    uint8_t *buf = small_eif(&size);
    assert_int_equal(at[4] + 12 + 11, size);
    char path[256];
    path_of(path, sizeof(path), "sections.eif");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *copy = malloc(size);
        assert_non_null(copy);
        memcpy(copy, buf, size);
        copy[at[cases[i].section] + cases[i].byte] = cases[i].value;
        eif_update_crc(copy, size);
        struct eif_image img;
        assert_int_equal(eif_parse(copy, size, &img), cases[i].want);
        make_file(path, copy, size, size);
        uint8_t *got = (uint8_t *)1;
        size_t got_size;
        assert_int_equal(eif_read_file(path, &got, &got_size), cases[i].want);
        assert_null(got);
        free(copy);
    }
    free(buf);
}

/* A forged header whose table describes a 4 GiB file exactly, and a first section header of an
 * invalid type: refused from the 560 bytes that say so, under 256 MiB of address space. */
static void test_read_file_forged_big(void **state)
{
    (void)state;
    uint8_t head[EIF_HEADER_SIZE + EIF_SECTION_HEADER_SIZE] = {0};
    uint64_t big = 4ull << 30, len = big - sizeof(head);
    memcpy(head, EIF_MAGIC, 4);
    head[5] = EIF_VERSION;
    head[0x1b] = 1; /* one section */
    head[0x1c + 6] = EIF_HEADER_SIZE >> 8, head[0x1c + 7] = EIF_HEADER_SIZE & 0xff; /* at 548 */
    for (int b = 0; b < 8; b++)
        head[0x11c + b] = head[EIF_HEADER_SIZE + 4 + b] = (uint8_t)(len >> (56 - 8 * b));
    head[EIF_HEADER_SIZE + 1] = 9; /* type 9 */
    char path[256];
    path_of(path, sizeof(path), "forged.eif");
    make_file(path, head, sizeof(head), big);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {256u << 20, 256u << 20};
        setrlimit(RLIMIT_AS, &rl);
        uint8_t *got = (uint8_t *)1;
        size_t got_size;
        int r = eif_read_file(path, &got, &got_size);
        _exit(r == EIF_ERR_SECTION_TYPE && got == NULL ? 0 : r < 0 ? 100 - r : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    unlink(path);
}

/* What is not a regular file is refused at once (a FIFO with no writer would block a read). */
static void test_read_file_not_regular(void **state)
{
    (void)state;
    char path[256];
    uint8_t *got;
    size_t got_size;
    path_of(path, sizeof(path), "fifo");
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(eif_read_file(path, &got, &got_size), -EINVAL);
    assert_int_equal(eif_read_file(g_dir, &got, &got_size), -EISDIR);
    path_of(path, sizeof(path), "missing");
    assert_int_equal(eif_read_file(path, &got, &got_size), -ENOENT);
    path_of(path, sizeof(path), "short");
    make_file(path, (const uint8_t *)".eif", 4, 4);
    assert_int_equal(eif_read_file(path, &got, &got_size), EIF_ERR_TRUNCATED);
}

/* open_regular decides from the path's type before opening it: opening a device or a FIFO can
 * act on it. Here, a writer blocked opening a FIFO is released only if the FIFO is opened for
 * reading, so it must still be blocked after open_regular refused the FIFO. */
static void test_open_regular_opens_nothing_else(void **state)
{
    (void)state;
    char path[256];
    path_of(path, sizeof(path), "fifo-writer");
    assert_int_equal(mkfifo(path, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CLOEXEC); /* blocks until a reader opens it */
        _exit(fd >= 0 ? 0 : 1);
    }
    usleep(200 * 1000); /* let the child reach its open */
    assert_int_equal(open_regular(path), -1);
    assert_int_equal(errno, EINVAL);
    usleep(200 * 1000);
    int st;
    pid_t done = waitpid(pid, &st, WNOHANG);
    kill(pid, SIGKILL);
    if (done == 0)
        assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(done, 0); /* still blocked: the FIFO was never opened */
    /* and a regular file's descriptor reads as usual, blocking (O_NONBLOCK was for the open) */
    path_of(path, sizeof(path), "plain");
    make_file(path, (const uint8_t *)"x", 1, 1);
    int fd = open_regular(path);
    assert_true(fd >= 0);
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_check_agrees_with_parse),
        cmocka_unit_test(test_header_check_table),
        cmocka_unit_test(test_read_file_valid),
        cmocka_unit_test(test_read_file_big_bounded),
        cmocka_unit_test(test_read_file_section_headers),
        cmocka_unit_test(test_read_file_forged_big),
        cmocka_unit_test(test_read_file_not_regular),
        cmocka_unit_test(test_open_regular_opens_nothing_else),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
