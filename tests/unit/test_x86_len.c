/* test_x86_len.c: the x86-64 length decoder (lib/x86) against hand-written encodings and against
 * objdump over the whole code of a real program (Debian's busybox-static: glibc, AVX2 and
 * AVX-512 string functions, x87). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "x86/x86_len.h"

#define BUSYBOX "/bin/busybox"

struct enc {
    const char *hex; /* the instruction, then perhaps bytes that follow it */
    unsigned len;    /* 0: must be refused */
    enum x86_kind kind;
    int rel_at, rip_rel; /* rel_at -1: none */
};

static const struct enc g_encs[] = {
    {"0f05", 2, X86_OTHER, -1, 0},                    /* syscall */
    {"31c0", 2, X86_OTHER, -1, 0},                    /* xor %eax,%eax */
    {"89f0", 2, X86_OTHER, -1, 0},                    /* mov %esi,%eax */
    {"483d00f0ffff", 6, X86_OTHER, -1, 0},            /* cmp $-4096,%rax */
    {"3d00f0ffff", 5, X86_OTHER, -1, 0},              /* cmp $-4096,%eax */
    {"66b80100", 4, X86_OTHER, -1, 0},                /* mov $1,%ax */
    {"48b88877665544332211", 10, X86_OTHER, -1, 0},   /* movabs $imm64,%rax */
    {"6648b88877665544332211", 11, X86_OTHER, -1, 0}, /* REX.W wins over 66 */
    {"b801000000", 5, X86_OTHER, -1, 0},              /* mov $1,%eax */
    {"41b827000000", 6, X86_OTHER, -1, 0},            /* mov $39,%r8d */
    {"48c7c00f000000", 7, X86_OTHER, -1, 0},          /* mov $15,%rax */
    {"66c7000100", 5, X86_OTHER, -1, 0},              /* movw $1,(%rax) */
    {"488d0510000000", 7, X86_OTHER, 3, 1},           /* lea 0x10(%rip),%rax */
    {"8b0425e8030000", 7, X86_OTHER, -1, 0},          /* mov 0x3e8,%eax: SIB, no base */
    {"8b442404", 4, X86_OTHER, -1, 0},                /* mov 4(%rsp),%eax */
    {"8b842400010000", 7, X86_OTHER, -1, 0},          /* mov 0x100(%rsp),%eax */
    {"8b4500", 3, X86_OTHER, -1, 0},                  /* mov 0(%rbp),%eax */
    {"c7059000000001000000", 10, X86_OTHER, 2, 1},    /* movl $1,0x90(%rip) */
    {"8305100000000001", 7, X86_OTHER, 2, 1},         /* addl $1,0x10(%rip) */
    {"f6c101", 3, X86_OTHER, -1, 0},                  /* test $1,%cl */
    {"f7c100010000", 6, X86_OTHER, -1, 0},            /* test $0x100,%ecx */
    {"f7d0", 2, X86_OTHER, -1, 0},                    /* not %eax */
    {"c8100000", 4, X86_OTHER, -1, 0},                /* enter $0x10,$0 */
    {"a18877665544332211", 9, X86_OTHER, -1, 0},      /* movabs 0x...,%eax */
    {"67a144332211", 6, X86_OTHER, -1, 0},            /* addr32 mov 0x...,%eax */
    {"4863c7", 3, X86_OTHER, -1, 0},                  /* movslq %edi,%rax */
    {"0fc8", 2, X86_OTHER, -1, 0},                    /* bswap %eax */
    {"0fa2", 2, X86_OTHER, -1, 0},                    /* cpuid */
    {"0fbae003", 4, X86_OTHER, -1, 0},                /* bt $3,%eax */
    {"0f3800c1", 4, X86_OTHER, -1, 0},                /* pshufb %mm1,%mm0 */
    {"660f3a0fc108", 6, X86_OTHER, -1, 0},            /* palignr $8,%xmm1,%xmm0 */
    {"660f3a16c001", 6, X86_OTHER, -1, 0},            /* pextrd $1,%xmm0,%eax */
    {"f30f1efa", 4, X86_OTHER, -1, 0},                /* endbr64 */
    {"dd442408", 4, X86_OTHER, -1, 0},                /* fldl 8(%rsp) */
    {"d9c9", 2, X86_OTHER, -1, 0},                    /* fxch */
    {"8fc0", 2, X86_OTHER, -1, 0},                    /* pop %rax (8F /0) */
    {"c7f800000000", 6, X86_OTHER, 2, 0},             /* xbegin */
    /* control flow */
    {"c3", 1, X86_RET, -1, 0},
    {"f3c3", 2, X86_RET, -1, 0},
    {"c20800", 3, X86_RET, -1, 0},
    {"eb10", 2, X86_JMP, 1, 0},
    {"e910000000", 5, X86_JMP, 1, 0},
    {"ffe0", 2, X86_JMP, -1, 0},           /* jmp *%rax */
    {"ff2425e8030000", 7, X86_JMP, -1, 0}, /* jmp *0x3e8 */
    {"ff25f0ffffff", 6, X86_JMP, 2, 1},    /* jmp *-16(%rip) */
    {"ffd0", 2, X86_OTHER, -1, 0},         /* call *%rax */
    {"e8f0ffffff", 5, X86_CALL, 1, 0},
    {"7410", 2, X86_JCC, 1, 0},
    {"0f8410000000", 6, X86_JCC, 2, 0},
    {"e2fe", 2, X86_LOOP, 1, 0},
    {"e3fe", 2, X86_LOOP, 1, 0}, /* jrcxz */
    {"0f0b", 2, X86_UD2, -1, 0},
    {"cc", 1, X86_INT3, -1, 0},
    /* padding */
    {"90", 1, X86_NOP, -1, 0},
    {"6690", 2, X86_NOP, -1, 0},
    {"0f1f00", 3, X86_NOP, -1, 0},
    {"0f1f4000", 4, X86_NOP, -1, 0},
    {"0f1f440000", 5, X86_NOP, -1, 0},
    {"660f1f440000", 6, X86_NOP, -1, 0},
    {"0f1f8000000000", 7, X86_NOP, -1, 0},
    {"0f1f840000000000", 8, X86_NOP, -1, 0},
    {"660f1f840000000000", 9, X86_NOP, -1, 0},
    {"662e0f1f840000000000", 10, X86_NOP, -1, 0},
    {"66662e0f1f840000000000", 11, X86_NOP, -1, 0},
    {"0f1f4800", 4, X86_OTHER, -1, 0}, /* 0F 1F /1: a hint, not the NOP */
    /* VEX and EVEX */
    {"c5f877", 3, X86_OTHER, -1, 0},             /* vzeroupper */
    {"c5fe6f06", 4, X86_OTHER, -1, 0},           /* vmovdqu (%rsi),%ymm0 */
    {"c5fd74c9", 4, X86_OTHER, -1, 0},           /* vpcmpeqb %ymm1,%ymm0,%ymm1 */
    {"c4e37d18c101", 6, X86_OTHER, -1, 0},       /* vinsertf128 $1,%xmm1,%ymm0,%ymm0 */
    {"c4e27d7806", 5, X86_OTHER, -1, 0},         /* vpbroadcastb (%rsi),%ymm0 */
    {"c5f9700510000000 1b", 9, X86_OTHER, 4, 1}, /* vpshufd $0x1b,0x10(%rip),%xmm0 */
    {"62f1fe486f06", 6, X86_OTHER, -1, 0},       /* vmovdqu64 (%rsi),%zmm0 */
    {"62f1fe486f4601", 7, X86_OTHER, -1, 0},     /* vmovdqu64 0x40(%rsi),%zmm0 */
    {"62b37d483fc100", 7, X86_OTHER, -1, 0},     /* vpcmpb $0,%zmm17,%zmm0,%k0 */
    /* refused */
    {"06", 0, X86_OTHER, -1, 0},                             /* push %es: invalid in 64-bit mode */
    {"0f0f c1 b4", 0, X86_OTHER, -1, 0},                     /* 3DNow! */
    {"8fe878c1c1 01", 0, X86_OTHER, -1, 0},                  /* XOP */
    {"4866 90", 0, X86_OTHER, -1, 0},                        /* REX before a legacy prefix */
    {"66e810000000", 0, X86_OTHER, -1, 0},                   /* 66 call: Intel and AMD disagree */
    {"66c5f877", 0, X86_OTHER, -1, 0},                       /* a prefix before VEX: #UD */
    {"c4e07d18c101", 0, X86_OTHER, -1, 0},                   /* VEX map 0 */
    {"6666666666666666666666666666 90", 15, X86_NOP, -1, 0}, /* 15 bytes: the limit */
    {"666666666666666666666666666666 90", 0, X86_OTHER, -1, 0}, /* 16 bytes */
};

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1 || n == cap)
            fail_msg("bad hex in the test table: %s", s);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void test_hand_written(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(g_encs) / sizeof(g_encs[0]); k++) {
        const struct enc *e = &g_encs[k];
        uint8_t buf[32];
        size_t n = unhex(e->hex, buf, sizeof(buf));
        struct x86_insn d;
        unsigned len = x86_decode(buf, n, &d);
        if (len != e->len)
            fail_msg("%s: length %u, expected %u", e->hex, len, e->len);
        if (!len)
            continue;
        if (d.kind != e->kind || d.rel_at != e->rel_at || d.rip_rel != e->rip_rel)
            fail_msg("%s: kind %u rel_at %d rip_rel %u, expected %u %d %d", e->hex, d.kind,
                     d.rel_at, d.rip_rel, e->kind, e->rel_at, e->rip_rel);
        enum x86_kind kind;
        assert_int_equal(x86_insn_len(buf, n, &kind), len);
        assert_int_equal(kind, e->kind);
        /* cut short anywhere, it must be refused, never read past the end or guessed */
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *exact = malloc(cut ? cut : 1);
            memcpy(exact, buf, cut);
            if (x86_decode(exact, cut, &d) != 0)
                fail_msg("%s cut to %zu bytes: not refused", e->hex, cut);
            free(exact);
        }
    }
}

/* One section of objdump's listing: the bytes, and where objdump says each instruction starts. */
struct section {
    uint8_t *bytes;
    size_t n, cap;
    uint32_t *start, *len;
    char (*text)[64];
    size_t ninsn, icap;
    uint64_t vaddr;
};

struct totals {
    size_t insns, same, refused, differ, vex;
};

static void check_section(struct section *s, struct totals *t)
{
    for (size_t k = 0; k < s->ninsn; k++) {
        struct x86_insn d;
        unsigned len = x86_decode(s->bytes + s->start[k], s->n - s->start[k], &d);
        t->insns++;
        if (len == s->len[k]) {
            t->same++;
            t->vex += d.vex;
        } else if (len == 0) {
            t->refused++;
            if (t->refused <= 10)
                print_message("refused at %#llx (objdump: %u bytes, %s)\n",
                              (unsigned long long)(s->vaddr + s->start[k]), s->len[k], s->text[k]);
        } else {
            t->differ++;
            if (t->differ <= 20)
                print_message("DIFFERS at %#llx: %u bytes, objdump %u (%s)\n",
                              (unsigned long long)(s->vaddr + s->start[k]), len, s->len[k],
                              s->text[k]);
        }
    }
    s->n = 0;
    s->ninsn = 0;
}

static void add_insn(struct section *s, uint64_t addr, const uint8_t *b, size_t n, const char *txt)
{
    if (s->ninsn == 0)
        s->vaddr = addr;
    if (s->n + n > s->cap) {
        s->cap = (s->cap + n) * 2;
        s->bytes = realloc(s->bytes, s->cap);
    }
    if (s->ninsn == s->icap) {
        s->icap = s->icap ? s->icap * 2 : 4096;
        s->start = realloc(s->start, s->icap * sizeof(*s->start));
        s->len = realloc(s->len, s->icap * sizeof(*s->len));
        s->text = realloc(s->text, s->icap * sizeof(*s->text));
    }
    assert_non_null(s->bytes);
    assert_non_null(s->text);
    if (addr != s->vaddr + s->n)
        fail_msg("objdump listing is not contiguous at %#llx", (unsigned long long)addr);
    s->start[s->ninsn] = (uint32_t)s->n;
    s->len[s->ninsn] = (uint32_t)n;
    snprintf(s->text[s->ninsn], sizeof(s->text[0]), "%s", txt);
    s->ninsn++;
    memcpy(s->bytes + s->n, b, n);
    s->n += n;
}

static void test_against_objdump(void **state)
{
    (void)state;
    if (access(BUSYBOX, R_OK) != 0) {
        fprintf(stderr, "# NO " BUSYBOX " (busybox-static): the objdump comparison is SKIPPED, "
                        "not passed\n");
        skip();
    }
    FILE *f = popen("objdump -d -w " BUSYBOX " 2>/dev/null", "r");
    assert_non_null(f);
    struct section s = {0};
    struct totals t = {0};
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "Disassembly of section", 22)) {
            check_section(&s, &t);
            continue;
        }
        /* "  401000:\t48 83 ec 08          \tsub    $0x8,%rsp" */
        char *colon = strchr(line, ':'), *end;
        if (!colon || colon[1] != '\t' || line[0] != ' ')
            continue;
        unsigned long long addr = strtoull(line, &end, 16);
        if (end != colon)
            continue;
        uint8_t b[16];
        size_t n = 0;
        char *p = colon + 2;
        while (p[0] && p[1] && p[0] != '\t' && n < sizeof(b)) {
            unsigned v;
            if (sscanf(p, "%2x", &v) != 1)
                break;
            b[n++] = (uint8_t)v;
            p += 3;
            while (*p == ' ')
                p++;
        }
        char *txt = strchr(colon + 2, '\t');
        txt = txt ? txt + 1 : (char *)"";
        txt[strcspn(txt, "\n")] = 0;
        if (n)
            add_insn(&s, addr, b, n, txt);
    }
    check_section(&s, &t);
    assert_int_equal(pclose(f), 0);
    print_message("objdump vs x86_decode over " BUSYBOX ": %zu instructions, %zu the same (%zu "
                  "VEX/EVEX), %zu refused, %zu differ\n",
                  t.insns, t.same, t.vex, t.refused, t.differ);
    assert_true(t.insns > 100000);
    assert_int_equal(t.differ, 0);
    /* refusing is safe (the patcher leaves the site alone) but must stay rare */
    assert_true(t.refused * 10000 < t.insns);
    free(s.bytes);
    free(s.start);
    free(s.len);
    free(s.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_written),
        cmocka_unit_test(test_against_objdump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
