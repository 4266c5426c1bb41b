/* test_x86_cover.c: the syscall sites lib/x86/x86_cover.c lets the patcher cover with the
 * instruction before them: which instructions a stub may run (x86_cover_movable, case by case
 * and every encoding it takes against objdump), every case of
 * tests/unit/x86_cover_sample.S (built by meson, its path in X86_COVER_SAMPLE), Debian's
 * libc.so.6 (whose pthread and futex code has such sites), and malformed files (truncated,
 * headers out of bounds, no unwind table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "x86/x86_cover.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* The file offset of symbol name in the sample, from its symbol table (readelf, once). */
static long sym_off(const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "readelf -sW '%s' | awk '$8 == \"%s\" { print $2 }'; readelf -lW '%s' | "
             "awk '$1 == \"LOAD\" && $8 == \"E\" { print $2, $3 }'",
             getenv("X86_COVER_SAMPLE"), name, getenv("X86_COVER_SAMPLE"));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    unsigned long va = 0, off = 0, seg_va = 0;
    assert_int_equal(fscanf(p, "%lx %lx %lx", &va, &off, &seg_va), 3);
    pclose(p);
    return (long)(va - seg_va + off);
}

struct want {
    const char *fn;
    int skip; /* bytes from the function's start to the instruction */
    int len;  /* its length */
    int ok;
};

static void test_sample(void **state)
{
    (void)state;
    const char *path = getenv("X86_COVER_SAMPLE");
    assert_non_null(path);
    size_t size;
    uint8_t *b = slurp(path, &size);
    struct x86_cover c[32];
    size_t n = x86_cover_find(b, size, c, 32);
    static const struct want want[] = {
        {"good_89", 6, 3, 1},
        {"good_8b", 6, 3, 1},
        {"jump_in", 4, 3, 0},
        {"indirect", 0, 3, 0},
        {"in_immediate", 2, 3, 0},
        {"target", 0, 3, 0},
        {"no_cfi", 0, 3, 0},
        {"split_a", 0, 3, 0},
        {"rip_indirect", 0, 3, 0},
        {"xb_target", 0, 3, 0},
        {"sym_entry", 0, 3, 0},
        /* each with the instruction without its REX prefix (a shorter reading, refused) */
        {"good_xor", 5, 4, 1},
        {"good_xor", 6, 3, 0},
        {"good_lea", 5, 4, 1},
        {"good_lea", 6, 3, 0},
        {"good_long", 0, 7, 1},
        {"good_long", 1, 6, 0},
        {"xor_jump_in", 4, 4, 0},
        {"xor_jump_in", 5, 3, 0},
        /* 7-byte instructions: a way in at the pair's bytes 5 to 8 is inside it */
        {"long_jump_in", 4, 7, 0},
        {"long_jump_in", 5, 6, 0},
        {"long_sym", 0, 7, 0},
        {"long_sym", 1, 6, 0},
        {"long_tail", 0, 7, 0},
        {"long_tail", 1, 6, 0},
        {"long_after", 4, 7, 1},
        {"long_after", 5, 6, 0},
        {"nested", 0, 7, 1},
        {"nested", 1, 6, 0},
        {"nested", 2, 3, 0},
        {"addr_taken", 7, 3, 0},
        {"addr_after", 7, 3, 1},
    };
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    assert_int_equal(x86_cover_check(b, size, c, n), 0);
    for (size_t i = 0; i < n; i++) {
        long at = sym_off(want[i].fn) + want[i].skip;
        printf("%-12s %d-byte instruction at %#lx: %s\n", want[i].fn, c[i].len, at,
               c[i].ok ? "covered" : "refused");
        assert_int_equal((long)c[i].off, at);
        assert_int_equal(c[i].len, want[i].len);
        assert_int_equal(c[i].ok, want[i].ok);
    }
    free(b);
}

/* Debian 12's libc.so.6: its futex sites in pthread_cond_*, pthread_barrier_* and the lock
 * code (mov %rNd, %eax and xor $0x80, %sil before the syscall) among the accepted, and every
 * candidate an instruction a stub may run, then a syscall */
static void test_libc(void **state)
{
    (void)state;
    size_t size;
    uint8_t *b = slurp(LIBC, &size);
    struct x86_cover c[X86_COVER_MAX];
    size_t n = x86_cover_find(b, size, c, X86_COVER_MAX);
    printf("libc.so.6: %zu candidates\n", n);
    assert_true(n > 0 && n <= X86_COVER_MAX);
    assert_int_equal(x86_cover_check(b, size, c, n), 0);
    size_t ok = 0, xor_sil = 0, mov_eax = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = b + c[i].off;
        assert_int_equal(x86_cover_movable(p, c[i].len), c[i].len);
        assert_true(p[c[i].len] == 0x0f && p[c[i].len + 1] == 0x05);
        if (!c[i].ok)
            continue;
        ok++;
        xor_sil += c[i].len == 4 && memcmp(p, "\x40\x80\xf6", 3) == 0;
        mov_eax += c[i].len == 3 && (p[0] == 0x44 || p[0] == 0x41) && (p[2] & 0xc7) == 0xc0;
    }
    printf("libc.so.6: %zu accepted (%zu xor $imm8, %%sil; %zu mov %%rNd, %%eax)\n", ok, xor_sil,
           mov_eax);
    assert_true(xor_sil >= 8 && mov_eax >= 4);
    free(b);
}

/* Which instructions a stub may run in place of the original: byte strings and the answer */
static void test_movable(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        unsigned n, want;
    } cases[] = {
        {"\x44\x89\xc0", 3, 3},                 /* mov %r8d, %eax */
        {"\x41\x8b\xc7", 3, 3},                 /* mov %r15d, %eax */
        {"\x40\x80\xf6\x80", 4, 4},             /* xor $0x80, %sil */
        {"\x48\x8d\x77\x08", 4, 4},             /* lea 8(%rdi), %rsi */
        {"\x48\xc7\xc0\x27\x00\x00\x00", 7, 7}, /* mov $39, %rax */
        {"\x48\x0f\x46\xf0", 4, 4},             /* cmovbe %rax, %rsi */
        {"\x66\x41\x83\xe0\x07", 5, 5},         /* and $7, %r8w */
        {"\x41\xf7\xd8", 3, 3},                 /* neg %r8d */
        {"\x89\xc0", 2, 0},                     /* too short: 2 bytes */
        {"\x8b\x7c\x24\x08", 4, 0},             /* mov 8(%rsp), %edi: memory */
        {"\x48\x8d\x35\x00\x00\x00\x00", 7, 0}, /* lea (%rip): where it runs */
        {"\x41\xf7\xf0", 3, 0},                 /* div %r8d: #DE */
        {"\xf0\x41\x83\xc0\x01", 5, 0},         /* lock prefix */
        {"\x64\x41\x83\xc0\x01", 5, 0},         /* fs prefix */
        {"\x67\x48\x8d\x77\x08", 5, 0},         /* address-size prefix */
        {"\xe8\x00\x00\x00\x00", 5, 0},         /* call */
        {"\x41\xff\xd0", 3, 0},                 /* call *%r8 */
        {"\x41\xff\xc0", 3, 3},                 /* inc %r8d */
        {"\x41\x50\x41\x51", 4, 0},             /* push %r8 (and the next) */
        {"\xc5\xf9\x6f\xc1", 4, 0},             /* vmovdqa: VEX, not listed */
        {"\x0f\xa2\x90", 3, 0},                 /* cpuid: 2 bytes */
        {"\x48\xc7\xc0\x27\x00\x00", 6, 0},     /* cut short */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned got = x86_cover_movable((const uint8_t *)cases[i].bytes, cases[i].n);
        if (got != cases[i].want)
            printf("case %zu: %u, want %u\n", i, got, cases[i].want);
        assert_int_equal(got, cases[i].want);
    }
}

/* Whether objdump's mnemonic m (its rex and data16 prefix words dropped) is of the list that
 * x86_cover.h documents. */
static int listed_mnemonic(const char *m)
{
    static const char *const names[] = {
        "add",  "or",  "adc", "sbb",  "and", "sub", "xor", "cmp", "test",
        "xchg", "mov", "lea", "imul", "mul", "neg", "not", "inc", "dec",
        "rol",  "ror", "rcl", "rcr",  "shl", "shr", "sar",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(m, names[i]) == 0)
            return 1;
    /* cmovcc, setcc; movzx, movsx and movsxd (movzbl, movswq, movslq, movsxd: six letters, not
     * a string move) */
    return strncmp(m, "cmov", 4) == 0 || strncmp(m, "set", 3) == 0 ||
           ((strncmp(m, "movz", 4) == 0 || strncmp(m, "movs", 4) == 0) && strlen(m) == 6);
}

/* Every encoding x86_cover_movable takes (each one- and 0F-map opcode and ModRM byte, a few SIB
 * bytes, with no prefix, 66, each REX, 66 and each REX, 66 66), followed by a syscall, read back
 * by binutils' disassembler, a decoder written by others: the same length and the syscall right
 * after (the kernel trusts x86_decode's length), a mnemonic of the list, and no memory operand
 * but lea's, none relative to rip. */
static void test_movable_objdump(void **state)
{
    (void)state;
    static const uint8_t sibs[] = {0x00, 0x24, 0x25, 0x65, 0xe4};
    char path[] = "/tmp/x86_cover_movable.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0, pos = 0;
    struct rec {
        size_t pos;
        unsigned len;
    } *recs = malloc(cap * sizeof(*recs));
    assert_non_null(recs);
    for (unsigned pre = 0; pre < 36; pre++) {
        uint8_t b[24];
        unsigned np = 0;
        if (pre == 1 || (pre >= 18 && pre < 36))
            b[np++] = 0x66;
        if (pre == 34 || pre == 35)
            b[np++] = 0x66;
        if (pre == 35)
            b[np++] = 0x48;
        else if (pre >= 2 && pre < 18)
            b[np++] = (uint8_t)(0x40 + pre - 2);
        else if (pre >= 18 && pre < 34)
            b[np++] = (uint8_t)(0x40 + pre - 18);
        for (unsigned map = 0; map < 2; map++)
            for (unsigned op = 0; op < 256; op++)
                for (unsigned m = 0; m < 256; m++)
                    for (unsigned s = 0; s < sizeof(sibs); s++) {
                        unsigned k = np;
                        if (map)
                            b[k++] = 0x0f;
                        b[k++] = (uint8_t)op;
                        b[k++] = (uint8_t)m;
                        b[k++] = sibs[s];
                        for (unsigned i = 0; i < 8; i++)
                            b[k++] = (uint8_t)(0x11 + i);
                        unsigned len = x86_cover_movable(b, k);
                        if (!len || (s && ((m & 7) != 4 || m >> 6 == 3)))
                            continue; /* refused, or the same as with the first SIB byte */
                        if (n == cap) {
                            cap *= 2;
                            recs = realloc(recs, cap * sizeof(*recs));
                            assert_non_null(recs);
                        }
                        recs[n++] = (struct rec){pos, len};
                        assert_int_equal(fwrite(b, 1, len, f), len);
                        assert_int_equal(fwrite("\x0f\x05\x90", 1, 3, f), 3);
                        pos += len + 3;
                    }
    }
    assert_int_equal(fclose(f), 0);
    printf("%zu encodings taken\n", n);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "objdump -D -b binary -mi386:x86-64 --insn-width=16 '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512];
    size_t i = 0, want_sys = (size_t)-1;
    unsigned carry = 0; /* bytes of prefixes an older objdump printed on lines of their own */
    while (fgets(line, sizeof(line), p)) {
        char *e;
        size_t at = strtoul(line, &e, 16);
        if (e == line || e[0] != ':' || e[1] != '\t')
            continue; /* not an instruction line */
        char *text = strchr(e + 2, '\t');
        unsigned len = 0;
        for (char *q = e + 2; text && q < text; q++)
            len += q[0] != ' ' && (q == e + 2 || q[-1] == ' ');
        char mn[32] = "";
        int prefixes_only = 1;
        for (char *t = text ? text + 1 : NULL; t && sscanf(t, "%31s", mn) == 1;) {
            if (strncmp(mn, "rex", 3) != 0 && strcmp(mn, "data16") != 0) {
                prefixes_only = 0;
                break; /* the mnemonic, after objdump's words for the prefixes */
            }
            t = strchr(t, ' ');
            while (t && *t == ' ')
                t++;
        }
        if (at == want_sys) {
            assert_string_equal(mn, "syscall");
            want_sys = (size_t)-1;
            i++;
        } else if (i < n && at == recs[i].pos + carry && prefixes_only) {
            carry += len;
        } else if (i < n && at == recs[i].pos + carry) {
            len += carry;
            carry = 0;
            int bad = len != recs[i].len || !listed_mnemonic(mn) || strstr(text, "(bad)") ||
                      strstr(text, "rip") || (strchr(text, '(') && strcmp(mn, "lea") != 0);
            if (bad)
                printf("at %#zx (%u bytes by x86_decode): %s", recs[i].pos, recs[i].len, line);
            assert_false(bad);
            want_sys = recs[i].pos + len;
        }
    }
    pclose(p);
    unlink(path);
    assert_int_equal(i, n); /* every one seen, with its syscall */
    assert_true(n > 10000);
    free(recs);
}

/* Cut or damaged files: never a crash, never an accepted site that is not in the file */
static void test_malformed(void **state)
{
    (void)state;
    size_t size;
    uint8_t *b = slurp(getenv("X86_COVER_SAMPLE"), &size);
    struct x86_cover c[32];
    size_t n = x86_cover_find(b, size, c, 32);
    assert_true(n > 0 && n <= 32);
    for (size_t cut = 0; cut < size; cut += 7) {
        struct x86_cover d[32];
        memcpy(d, c, sizeof(d));
        size_t m = 0;
        while (m < n && d[m].off + d[m].len + 2 <= cut)
            m++;
        (void)x86_cover_check(b, cut, d, m);
        for (size_t i = 0; i < m; i++)
            assert_true(!d[i].ok || d[i].off + d[i].len + 2 <= cut);
    }
    /* every byte of the headers flipped in turn */
    for (size_t at = 0; at < 64 + 56 * 4 && at < size; at++) {
        uint8_t *x = malloc(size);
        memcpy(x, b, size);
        x[at] ^= 0xff;
        struct x86_cover d[32];
        size_t m = x86_cover_find(x, size, d, 32);
        if (m && m <= 32)
            (void)x86_cover_check(x, size, d, m);
        free(x);
    }
    /* no ELF at all */
    assert_int_equal(x86_cover_find((const uint8_t *)"not an ELF file", 15, c, 32), 0);
    assert_int_equal(x86_cover_check((const uint8_t *)"not an ELF file", 15, c, 1), -1);
    assert_int_equal(c[0].ok, 0);
    free(b);
}

/* Hand-written unwind tables (x86_cover_craft.S): a function one byte before a pair whose
 * decoding sees other boundaries in it (the pair refused, the file's other pair accepted); a
 * function whose range runs past the code, holding a jump to a pair; one function listed three
 * times (the sweeps would decode more than twice the code): the file refused */
static void test_craft(void **state)
{
    (void)state;
    static const struct {
        const char *env;
        int rc, f_ok, h_ok;
    } want[] = {
        {"X86_COVER_CRAFT1", 0, 0, 1},
        {"X86_COVER_CRAFT2", -1, 0, 0},
        {"X86_COVER_CRAFT3", -1, 0, 0},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *path = getenv(want[i].env);
        assert_non_null(path);
        size_t size;
        uint8_t *b = slurp(path, &size);
        struct x86_cover c[4];
        assert_int_equal(x86_cover_find(b, size, c, 4), 2); /* f's pair, then h's */
        int rc = x86_cover_check(b, size, c, 2);
        printf("%s: %d, f %s, h %s\n", want[i].env, rc, c[0].ok ? "covered" : "refused",
               c[1].ok ? "covered" : "refused");
        assert_int_equal(rc, want[i].rc);
        assert_int_equal(c[0].ok, want[i].f_ok);
        assert_int_equal(c[1].ok, want[i].h_ok);
        assert_int_equal(c[0].len, 3);
        free(b);
    }
}

/* A shared library whose data points at one pair's syscall through a relocation
 * (x86_cover_reloc.S): R_X86_64_RELATIVE, and DT_RELR. That pair refused, the other accepted. */
static void test_reloc(void **state)
{
    (void)state;
    static const char *const envs[] = {"X86_COVER_RELOC", "X86_COVER_RELOC_RELR"};
    for (size_t i = 0; i < 2; i++) {
        const char *path = getenv(envs[i]);
        assert_non_null(path);
        size_t size;
        uint8_t *b = slurp(path, &size);
        struct x86_cover c[4];
        assert_int_equal(x86_cover_find(b, size, c, 4), 2); /* pointed's pair, then plain's */
        assert_int_equal(x86_cover_check(b, size, c, 2), 0);
        printf("%s: pointed %s, plain %s\n", envs[i], c[0].ok ? "covered" : "refused",
               c[1].ok ? "covered" : "refused");
        assert_int_equal(c[0].ok, 0);
        assert_int_equal(c[1].ok, 1);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_movable),   cmocka_unit_test(test_movable_objdump),
        cmocka_unit_test(test_sample),    cmocka_unit_test(test_libc),
        cmocka_unit_test(test_malformed), cmocka_unit_test(test_craft),
        cmocka_unit_test(test_reloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
