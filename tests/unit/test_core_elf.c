/* test_core_elf.c: the core file's layout (enclave/kernel/core_elf.c) read back with the host's
 * own definitions: <elf.h> for the headers and notes, <sys/procfs.h> for the note descriptors
 * that gdb reads (elf_prstatus, elf_prpsinfo, the register set). */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/user.h>

#include <cmocka.h>

#include "core_elf.h"

static void test_descriptors_match_linux(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct core_prstatus), sizeof(struct elf_prstatus));
    assert_int_equal(offsetof(struct core_prstatus, cursig),
                     offsetof(struct elf_prstatus, pr_cursig));
    assert_int_equal(offsetof(struct core_prstatus, sigpend),
                     offsetof(struct elf_prstatus, pr_sigpend));
    assert_int_equal(offsetof(struct core_prstatus, pid), offsetof(struct elf_prstatus, pr_pid));
    assert_int_equal(offsetof(struct core_prstatus, sid), offsetof(struct elf_prstatus, pr_sid));
    assert_int_equal(offsetof(struct core_prstatus, utime),
                     offsetof(struct elf_prstatus, pr_utime));
    assert_int_equal(offsetof(struct core_prstatus, cstime),
                     offsetof(struct elf_prstatus, pr_cstime));
    assert_int_equal(offsetof(struct core_prstatus, reg), offsetof(struct elf_prstatus, pr_reg));
    assert_int_equal(offsetof(struct core_prstatus, fpvalid),
                     offsetof(struct elf_prstatus, pr_fpvalid));

    assert_int_equal(sizeof(struct core_prpsinfo), sizeof(struct elf_prpsinfo));
    assert_int_equal(offsetof(struct core_prpsinfo, flag), offsetof(struct elf_prpsinfo, pr_flag));
    assert_int_equal(offsetof(struct core_prpsinfo, uid), offsetof(struct elf_prpsinfo, pr_uid));
    assert_int_equal(offsetof(struct core_prpsinfo, pid), offsetof(struct elf_prpsinfo, pr_pid));
    assert_int_equal(offsetof(struct core_prpsinfo, fname),
                     offsetof(struct elf_prpsinfo, pr_fname));
    assert_int_equal(offsetof(struct core_prpsinfo, psargs),
                     offsetof(struct elf_prpsinfo, pr_psargs));

    /* the registers in ptrace's order */
    assert_int_equal(sizeof(struct core_gregs), sizeof(struct user_regs_struct));
    assert_int_equal(offsetof(struct core_gregs, orig_rax),
                     offsetof(struct user_regs_struct, orig_rax));
    assert_int_equal(offsetof(struct core_gregs, rip), offsetof(struct user_regs_struct, rip));
    assert_int_equal(offsetof(struct core_gregs, eflags),
                     offsetof(struct user_regs_struct, eflags));
    assert_int_equal(offsetof(struct core_gregs, rsp), offsetof(struct user_regs_struct, rsp));
    assert_int_equal(offsetof(struct core_gregs, fs_base),
                     offsetof(struct user_regs_struct, fs_base));
    assert_int_equal(offsetof(struct core_gregs, gs), offsetof(struct user_regs_struct, gs));
}

static void test_note(void **state)
{
    (void)state;
    uint8_t buf[64];
    memset(buf, 0xee, sizeof(buf));
    const uint8_t desc[5] = {1, 2, 3, 4, 5};
    assert_int_equal(core_note_size(5), sizeof(Elf64_Nhdr) + 8 + 8);
    assert_int_equal(core_note_put(buf, CORE_NT_AUXV, desc, 5), 28);
    Elf64_Nhdr h;
    memcpy(&h, buf, sizeof(h));
    assert_int_equal(h.n_namesz, 5); /* "CORE" and its NUL */
    assert_int_equal(h.n_descsz, 5);
    assert_int_equal(h.n_type, NT_AUXV);
    assert_memory_equal(buf + 12, "CORE\0\0\0\0", 8); /* the name padded to 4 bytes */
    assert_memory_equal(buf + 20, desc, 5);
    assert_memory_equal(buf + 25, "\0\0\0", 3); /* the descriptor padded too */
    assert_int_equal(buf[28], 0xee);            /* nothing past the note */

    assert_int_equal(CORE_NT_PRSTATUS, NT_PRSTATUS);
    assert_int_equal(CORE_NT_PRPSINFO, NT_PRPSINFO);
    assert_int_equal(CORE_NT_SIGINFO, NT_SIGINFO);
    assert_int_equal(core_note_size(sizeof(struct core_prstatus)), 12 + 8 + 336);
}

static void test_headers(void **state)
{
    (void)state;
    const struct core_segment seg[3] = {
        {0x400000, 0x3000, 0x3000, CORE_PF_R | CORE_PF_X},
        {0x7f0000000000, 0x10000, 0, 0}, /* PROT_NONE: nothing in the file */
        {0x7fffffe00000, 0x200000, 0x200000, CORE_PF_R | CORE_PF_W},
    };
    uint64_t notes = 1000;
    size_t size = core_headers_size(3);
    assert_int_equal(size, sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr));
    uint8_t buf[sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr)];
    core_headers_put(buf, seg, 3, notes);

    Elf64_Ehdr e;
    memcpy(&e, buf, sizeof(e));
    assert_memory_equal(e.e_ident, ELFMAG, SELFMAG);
    assert_int_equal(e.e_ident[EI_CLASS], ELFCLASS64);
    assert_int_equal(e.e_ident[EI_DATA], ELFDATA2LSB);
    assert_int_equal(e.e_ident[EI_VERSION], EV_CURRENT);
    assert_int_equal(e.e_type, ET_CORE);
    assert_int_equal(e.e_machine, EM_X86_64);
    assert_int_equal(e.e_version, EV_CURRENT);
    assert_int_equal(e.e_phoff, sizeof(Elf64_Ehdr));
    assert_int_equal(e.e_phentsize, sizeof(Elf64_Phdr));
    assert_int_equal(e.e_phnum, 4);
    assert_int_equal(e.e_ehsize, sizeof(Elf64_Ehdr));
    assert_int_equal(e.e_shnum, 0);

    Elf64_Phdr p[4];
    memcpy(p, buf + sizeof(e), sizeof(p));
    assert_int_equal(p[0].p_type, PT_NOTE);
    assert_int_equal(p[0].p_offset, size); /* right after the headers */
    assert_int_equal(p[0].p_filesz, notes);
    uint64_t data = core_data_offset(3, notes);
    assert_int_equal(data, 4096); /* 288 + 1000 bytes, to the next page */
    assert_true(data >= size + notes);
    for (int i = 1; i < 4; i++) {
        assert_int_equal(p[i].p_type, PT_LOAD);
        assert_int_equal(p[i].p_vaddr, seg[i - 1].vaddr);
        assert_int_equal(p[i].p_memsz, seg[i - 1].memsz);
        assert_int_equal(p[i].p_filesz, seg[i - 1].filesz);
        assert_int_equal(p[i].p_align, 4096);
    }
    assert_int_equal(p[1].p_flags, PF_R | PF_X);
    assert_int_equal(p[2].p_flags, 0);
    assert_int_equal(p[3].p_flags, PF_R | PF_W);
    /* the bytes follow each other from the data offset; an empty one takes no room */
    assert_int_equal(p[1].p_offset, data);
    assert_int_equal(p[2].p_offset, data + 0x3000);
    assert_int_equal(p[3].p_offset, data + 0x3000);

    assert_int_equal(core_data_offset(0, 0), 4096);
    assert_int_equal(core_data_offset(70, 4096 - 64 - 71 * 56), 4096);
    assert_int_equal(core_data_offset(70, 4096 - 64 - 71 * 56 + 1), 8192);
}

static void test_psargs(void **state)
{
    (void)state;
    char out[CORE_PRARGSZ];
    core_psargs(out, "prog\0-x\0arg\0", 12);
    assert_string_equal(out, "prog -x arg "); /* Linux turns the last NUL into a space too */
    core_psargs(out, "", 0);
    assert_string_equal(out, "");
    char longer[200];
    memset(longer, 'a', sizeof(longer));
    core_psargs(out, longer, sizeof(longer));
    assert_int_equal(strlen(out), CORE_PRARGSZ - 1);
}

static void test_timeval(void **state)
{
    (void)state;
    struct core_timeval t = core_timeval(3500000999ull);
    assert_int_equal(t.sec, 3);
    assert_int_equal(t.usec, 500000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptors_match_linux),
        cmocka_unit_test(test_note),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_psargs),
        cmocka_unit_test(test_timeval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
