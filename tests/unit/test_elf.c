/* test_elf.c: the shared ELF parser accepts static executables and refuses everything else
 * with the right reason. Files are built in memory, then mutated one field at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "elf/elf_parse.h"

struct ehdr {
    unsigned char ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define FILE_SIZE 0x3000

struct img {
    unsigned char bytes[FILE_SIZE];
    struct ehdr *eh;
    struct phdr *ph;
};

/* A valid fixed-address executable: text at 0x400000 (headers included), data at 0x401000. */
static void make(struct img *m, unsigned nph)
{
    memset(m->bytes, 0, sizeof(m->bytes));
    m->eh = (struct ehdr *)m->bytes;
    m->ph = (struct phdr *)(m->bytes + 64);
    memcpy(m->eh->ident, "\177ELF\2\1\1", 7);
    m->eh->type = 2;
    m->eh->machine = 62;
    m->eh->version = 1;
    m->eh->entry = 0x400100;
    m->eh->phoff = 64;
    m->eh->ehsize = 64;
    m->eh->phentsize = 56;
    m->eh->phnum = (uint16_t)nph;
    m->ph[0] = (struct phdr){1, 5, 0, 0x400000, 0x400000, 0x1000, 0x1000, 0x1000};
    if (nph > 1)
        m->ph[1] = (struct phdr){1, 6, 0x1000, 0x401000, 0x401000, 0x800, 0x5000, 0x1000};
}

/* elfp_parse, and the same answer from the headers alone (elfp_check_header, then
 * elfp_parse_headers on the program header table it points to), as a reader that has not read
 * the file gets it. */
static enum elfp_error parse(struct img *m, struct elfp_image *out)
{
    enum elfp_error err = elfp_parse(m->bytes, sizeof(m->bytes), out);
    uint64_t phoff = 0, phsize = 0;
    struct elfp_image from_headers;
    enum elfp_error head = elfp_check_header(m->bytes, sizeof(m->bytes), &phoff, &phsize);
    if (head == ELFP_OK) {
        assert_true(phsize <= 512 * 56 && phoff + phsize <= sizeof(m->bytes));
        head = elfp_parse_headers(m->bytes, m->bytes + phoff, sizeof(m->bytes), &from_headers);
    }
    assert_int_equal(head, err);
    if (err == ELFP_OK)
        assert_memory_equal(&from_headers, out, sizeof(*out));
    return err;
}

static void test_valid_exec(void **state)
{
    (void)state;
    struct img m;
    struct elfp_image e;
    make(&m, 2);
    assert_int_equal(parse(&m, &e), ELFP_OK);
    assert_int_equal(e.type, ELFP_EXEC);
    assert_int_equal(e.nload, 2);
    assert_int_equal(e.entry, 0x400100);
    assert_int_equal(e.span_start, 0x400000);
    assert_int_equal(e.span_end, 0x406000);
    assert_int_equal(e.phdr_vaddr, 0x400040); /* found through the first PT_LOAD */
    assert_int_equal(e.load[1].flags, ELFP_R | ELFP_W);
}

static void test_valid_pie(void **state)
{
    (void)state;
    struct img m;
    struct elfp_image e;
    make(&m, 2);
    m.eh->type = 3;
    for (int i = 0; i < 2; i++)
        m.ph[i].vaddr -= 0x400000;
    m.eh->entry = 0x100;
    assert_int_equal(parse(&m, &e), ELFP_OK);
    assert_int_equal(e.type, ELFP_PIE);
    assert_int_equal(e.span_start, 0);
}

static void test_refusals(void **state)
{
    (void)state;
    struct img m;
    struct elfp_image e;
#define EXPECT(mutation, err)                                                                      \
    do {                                                                                           \
        make(&m, 2);                                                                               \
        mutation;                                                                                  \
        assert_int_equal(parse(&m, &e), err);                                                      \
    } while (0)
    EXPECT(m.bytes[1] = 'X', ELFP_ERR_NOT_ELF);
    EXPECT(m.eh->ident[4] = 1, ELFP_ERR_CLASS);
    EXPECT(m.eh->ident[5] = 2, ELFP_ERR_CLASS);
    EXPECT(m.eh->machine = 183, ELFP_ERR_MACHINE);
    EXPECT(m.eh->type = 1, ELFP_ERR_TYPE);
    EXPECT(m.eh->type = 4, ELFP_ERR_TYPE);
    EXPECT(m.eh->phentsize = 32, ELFP_ERR_MALFORMED);
    EXPECT(m.eh->phoff = FILE_SIZE - 8, ELFP_ERR_MALFORMED);
    EXPECT(m.eh->phoff = ~0ull - 8, ELFP_ERR_MALFORMED);
    EXPECT(m.eh->phnum = 0, ELFP_ERR_MALFORMED);
    EXPECT(m.ph[1].filesz = 0x6000, ELFP_ERR_MALFORMED);        /* filesz > memsz */
    EXPECT(m.ph[1].offset = FILE_SIZE, ELFP_ERR_MALFORMED);     /* past the end of the file */
    EXPECT(m.ph[1].memsz = ~0ull, ELFP_ERR_MALFORMED);          /* address overflow */
    EXPECT(m.ph[1].vaddr = 0x7ffffffff000, ELFP_ERR_MALFORMED); /* reaches the kernel half */
    EXPECT(m.ph[1].vaddr = 0x400800, ELFP_ERR_MALFORMED);       /* overlaps the text */
    EXPECT(m.ph[1].vaddr = 0x401100, ELFP_ERR_MALFORMED);       /* offset/address disagree */
    EXPECT(m.ph[1].align = 0x1001, ELFP_ERR_MALFORMED);
    EXPECT(m.eh->entry = 0x401000, ELFP_ERR_MALFORMED); /* entry in the data */
    EXPECT(m.ph[0].type = 3, ELFP_ERR_DYNAMIC);         /* PT_INTERP */
    EXPECT((m.ph[0].type = 6, m.ph[1].type = 4), ELFP_ERR_NO_LOAD);
    EXPECT((m.ph[0].vaddr = 0, m.ph[0].paddr = 0, m.eh->entry = 0x100), ELFP_ERR_MALFORMED);
#undef EXPECT
}

static void test_too_many_segments(void **state)
{
    (void)state;
    struct img m;
    struct elfp_image e;
    make(&m, 17);
    for (int i = 1; i < 17; i++)
        m.ph[i] =
            (struct phdr){1, 4, 0x1000, 0x401000 + (uint64_t)i * 0x1000, 0, 0x10, 0x10, 0x1000};
    assert_int_equal(parse(&m, &e), ELFP_ERR_TOO_MANY);
}

static void test_truncated(void **state)
{
    (void)state;
    struct img m;
    struct elfp_image e;
    make(&m, 2);
    for (size_t n = 0; n < 64 + 2 * 56; n++) {
        enum elfp_error err = elfp_parse(m.bytes, n, &e);
        assert_true(err == ELFP_ERR_NOT_ELF || err == ELFP_ERR_MALFORMED);
        uint64_t phoff, phsize;
        assert_int_equal(elfp_check_header(m.bytes, n, &phoff, &phsize), err);
    }
}

static void test_kernel_half(void **state)
{
    (void)state;
    struct img m;
    struct elfp_image e;
    make(&m, 2);
    for (int i = 0; i < 2; i++)
        m.ph[i].vaddr += 0xffffffff80000000ull - 0x400000;
    m.eh->entry = 0xffffffff80000100ull;
    assert_int_equal(parse(&m, &e), ELFP_ERR_MALFORMED);
    assert_int_equal(elfp_parse_opts(m.bytes, sizeof(m.bytes), &e, ELFP_ALLOW_KERNEL), ELFP_OK);
    assert_int_equal(e.span_start, 0xffffffff80000000ull);
}

/* With ELFP_ALLOW_INTERP, PT_INTERP's file range is recorded, checked against the file. */
static void test_interp(void **state)
{
    (void)state;
    struct img m;
    struct elfp_image e;
    make(&m, 3);
    m.ph[2] = (struct phdr){3, 4, 0x200, 0, 0, 28, 28, 1};
    memcpy(m.bytes + 0x200, "/lib64/ld-linux-x86-64.so.2", 28);
    assert_int_equal(elfp_parse(m.bytes, sizeof(m.bytes), &e), ELFP_ERR_DYNAMIC);
    assert_int_equal(elfp_parse_opts(m.bytes, sizeof(m.bytes), &e, ELFP_ALLOW_INTERP), ELFP_OK);
    assert_int_equal(e.interp_offset, 0x200);
    assert_int_equal(e.interp_size, 28);
    /* without one: nothing recorded */
    struct img s;
    make(&s, 2);
    assert_int_equal(elfp_parse_opts(s.bytes, sizeof(s.bytes), &e, ELFP_ALLOW_INTERP), ELFP_OK);
    assert_int_equal(e.interp_size, 0);
    /* refusals: too short, too long, past the end of the file, overflowing, two of them */
    uint64_t bad[][2] = {{0x200, 1}, {0x200, 4097}, {FILE_SIZE - 4, 8}, {~0ull - 2, 8}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m.ph[2].offset = bad[i][0];
        m.ph[2].filesz = bad[i][1];
        assert_int_equal(elfp_parse_opts(m.bytes, sizeof(m.bytes), &e, ELFP_ALLOW_INTERP),
                         ELFP_ERR_MALFORMED);
    }
    make(&m, 4);
    m.ph[2] = m.ph[3] = (struct phdr){3, 4, 0x200, 0, 0, 28, 28, 1};
    assert_int_equal(elfp_parse_opts(m.bytes, sizeof(m.bytes), &e, ELFP_ALLOW_INTERP),
                     ELFP_ERR_MALFORMED);
}

static void test_real_binary_is_dynamic(void **state)
{
    (void)state;
    /* this test program is a dynamically linked host executable */
    FILE *f = fopen("/proc/self/exe", "rb");
    assert_non_null(f);
    static unsigned char buf[8 << 20];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    struct elfp_image e;
    assert_int_equal(elfp_parse(buf, n, &e), ELFP_ERR_DYNAMIC);
    assert_non_null(strstr(elfp_strerror(ELFP_ERR_DYNAMIC), "static"));
    assert_non_null(strstr(elfp_strerror(ELFP_ERR_DYNAMIC), "--rootfs"));
    assert_int_equal(elfp_parse_opts(buf, n, &e, ELFP_ALLOW_INTERP), ELFP_OK);
    assert_true(e.interp_size > 2 && e.interp_offset + e.interp_size <= n);
    assert_int_equal(buf[e.interp_offset], '/');
    assert_int_equal(buf[e.interp_offset + e.interp_size - 1], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_exec), cmocka_unit_test(test_valid_pie),
        cmocka_unit_test(test_refusals),   cmocka_unit_test(test_too_many_segments),
        cmocka_unit_test(test_truncated),  cmocka_unit_test(test_kernel_half),
        cmocka_unit_test(test_interp),     cmocka_unit_test(test_real_binary_is_dynamic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
