/* exec.c: loads the application's ELF executable into its address space, with its program
 * interpreter (the dynamic loader PT_INTERP names) when it is dynamically linked, and builds the
 * initial stack the System V ABI describes: argc, argv, envp and the auxiliary vector, with the
 * strings above them.
 *
 * Where things go (Linux's places without address randomization, docs/dynamic.md):
 *   - a fixed-address executable (ET_EXEC) where it was linked;
 *   - a position-independent executable that has an interpreter at ELF_ET_DYN_BASE
 *     (0x555555554000), its brk heap right after it;
 *   - its interpreter top-down where mmap would put it, so it never overlaps a program linked at
 *     0x400000 (it maps the program's libraries itself, with mmap);
 *   - a static PIE, or an interpreter run as the program, at 0x400000 when that is free (Linux
 *     puts them top-down; here a static PIE keeps a brk heap that can grow).
 */
#include "elf/elf_parse.h"
#include "script/shebang.h"
#include "exe.h"
#include "file.h"
#include "fs_common.h"
#include "klib.h"
#include "mm.h"
#include "process.h"
#include "scheduler.h"
#include "signal.h"
#include "syscall.h"
#include "vdso.h"
#include "vfs.h"

#define PIE_HINT        0x400000ull       /* a static PIE */
#define DYN_BASE        0x555555554000ull /* Linux's ELF_ET_DYN_BASE: a PIE with an interpreter */
#define HWCAP2_FSGSBASE (1u << 1)

static uint32_t prot_of(uint32_t flags)
{
    return (flags & ELFP_R ? PROT_READ : 0) | (flags & ELFP_W ? PROT_WRITE : 0) |
           (flags & ELFP_X ? PROT_EXEC : 0);
}

enum place { PLACE_PROGRAM, PLACE_INTERP };

/* Where a position-independent image of span bytes goes: 0 and *base, or -ENOMEM. */
static int place_pie(const struct elfp_image *img, enum place where, uint64_t span, uint64_t *base)
{
    uint64_t align = MAX(img->max_align, PAGE_SIZE);
    if (align > (2ull << 20))
        align = 2ull << 20;
    if (where == PLACE_INTERP)
        return mm_find_free(span, align, 0, base); /* top-down, as mmap */
    uint64_t hint = img->interp_size ? DYN_BASE : PIE_HINT;
    hint = (hint + align - 1) & ~(align - 1);
    if (vms_is_free(mm_space(), hint, hint + span))
        *base = hint;
    else if (vms_find_free_below(mm_space(), span, align, mm_stack_bottom(), base))
        return -ENOMEM;
    return 0;
}

/* A program's bytes: the file's own (bytes), or a copy of them (copy, freed by the owner). */
struct program {
    const uint8_t *bytes;
    uint8_t *copy;
    struct inode *ino; /* the file (its frames may back the segments: backing_file) */
};

/* The program's file whose own frames can back segment s (mm/image_pages.c: a file of the
 * image, shared by every process that runs it), or NULL when s must be copied: the file is not
 * the image's, or the segment's address and offset disagree within a page. */
static struct inode *backing_file(const struct program *prog, const struct elfp_segment *s)
{
    if (!prog->ino || prog->copy || !vfs_immutable(prog->ino) || !s->filesz ||
        ((s->vaddr - s->offset) & (PAGE_SIZE - 1)))
        return NULL;
    return prog->ino;
}

/* Maps and fills every PT_LOAD. Returns the load bias (0 for fixed-address executables). */
static int load_segments(const struct program *prog, const struct elfp_image *img, enum place where,
                         uint64_t *bias_out)
{
    const uint8_t *file = prog->bytes;
    uint64_t span = img->span_end - img->span_start;
    uint64_t bias = 0;
    if (img->type == ELFP_PIE) {
        uint64_t base;
        int err = place_pie(img, where, span, &base);
        if (err)
            return err;
        bias = base - img->span_start;
    }
    /* the program's pages show as the program in /proc/self/maps; the interpreter's are
     * ordinary private memory, as its mmap'd libraries */
    uint32_t kind = where == PLACE_PROGRAM ? VMA_EXE : VMA_ANON;
    uint64_t prev_end = 0;
    for (uint32_t i = 0; i < img->nload; i++) {
        const struct elfp_segment *s = &img->load[i];
        uint64_t start = PAGE_DOWN(s->vaddr + bias), end = PAGE_UP(s->vaddr + bias + s->memsz);
        uint64_t fend = s->vaddr + bias + s->filesz;
        uint64_t zend = MIN(s->vaddr + bias + s->memsz, PAGE_UP(fend));
        struct inode *backing = start < prev_end ? NULL : backing_file(prog, s);
        if (backing) {
            /* as Linux maps an ELF file: the file's pages up to the one filesz ends in (a
             * writable segment's pages become copies when written), then anonymous pages; when
             * the segment has memory past filesz (.bss), that last page is zeroed from filesz
             * to its end, as Linux's padzero does (glibc's ld.so takes the rest of that page
             * for its first allocations and counts on zeros there) */
            uint64_t fpages = PAGE_UP(fend) - start;
            int err = mm_map_file(start, MIN(fpages, end - start), prot_of(s->flags), kind, backing,
                                  PAGE_DOWN(s->offset));
            if (!err && end > start + fpages)
                err = mm_map_at(start + fpages, end - start - fpages, prot_of(s->flags), kind);
            if (!err && s->memsz > s->filesz && PAGE_UP(fend) > fend)
                err = mm_write(fend, NULL, PAGE_UP(fend) - fend);
            if (err)
                return err;
            prev_end = end;
            continue;
        }
        if (start < prev_end)
            start = prev_end; /* the page is shared with the previous segment */
        if (start < end) {
            int err = mm_map_at(start, end - start, prot_of(s->flags), kind);
            if (err)
                return err;
        }
        prev_end = end;
        /* as mmap would: file bytes from the page-aligned offset, zeros after filesz up to the
         * end of that page (the pages after it are untouched, and zero when first touched) */
        uint64_t lead = (s->vaddr + bias) & (PAGE_SIZE - 1);
        int err = mm_write(s->vaddr + bias - lead, file + s->offset - lead, s->filesz + lead);
        if (!err && s->filesz)
            err = mm_write(fend, NULL, zend - fend);
        if (err)
            return err;
    }
    *bias_out = bias;
    return 0;
}

struct stack_builder {
    uint64_t sp; /* grows down */
    uint64_t floor;
};

static uint64_t push_bytes(struct stack_builder *b, const void *data, size_t len)
{
    if (b->sp - b->floor < len || mm_write(b->sp - len, data, len))
        return 0;
    b->sp -= len;
    return b->sp;
}

static uint64_t count(char **v)
{
    uint64_t n = 0;
    while (v[n])
        n++;
    return n;
}

/* What the program starts in: its interpreter's entry when it has one (loaded with bias
 * interp_bias), else its own. */
struct start {
    uint64_t entry;
    uint64_t interp_bias; /* AT_BASE: 0 without an interpreter */
    uint64_t vdso;        /* AT_SYSINFO_EHDR: 0 without a vDSO */
};

static int build_stack(struct regs *r, const struct elfp_image *img, uint64_t bias,
                       const struct start *st, const char *path, char **argv, char **envp)
{
    struct process *p = current_process();
    struct stack_builder b = {mm_stack_top(), mm_stack_bottom()};
    uint64_t argc = count(argv), envc = count(envp);

    /* strings: the executable's name at the very top, then the environment and argv */
    b.sp -= 8;
    uint64_t execfn = push_bytes(&b, path, strlen(path) + 1); /* AT_EXECFN: as execve named it */
    uint64_t *uenv = kmalloc((envc + 1) * 8), *uarg = kmalloc((argc + 1) * 8);
    if (!uenv || !uarg)
        return -ENOMEM;
    int err = 0;
    for (uint64_t i = envc; i-- > 0;)
        if (!(uenv[i] = push_bytes(&b, envp[i], strlen(envp[i]) + 1)))
            err = -E2BIG;
    for (uint64_t i = argc; i-- > 0;)
        if (!(uarg[i] = push_bytes(&b, argv[i], strlen(argv[i]) + 1)))
            err = -E2BIG;
    if (argc && !err) {
        p->arg_start = uarg[0];
        p->arg_end = uarg[argc - 1] + strlen(argv[argc - 1]) + 1;
    }
    uint64_t platform = push_bytes(&b, "x86_64", 7);
    uint64_t random = push_bytes(&b, g_boot->random, 16);
    if (err || !execfn || !platform || !random) {
        kfree(uenv);
        kfree(uarg);
        return -E2BIG;
    }

    uint32_t id[4];
    cpuid(1, 0, id);
    /* the identities after cred_exec; a set-ID program runs in its C library's secure mode */
    const struct cred *c = &current_process()->cred;
    bool secure = c->uid[ID_REAL] != c->uid[ID_EFF] || c->gid[ID_REAL] != c->gid[ID_EFF];
    uint64_t auxv[][2] = {
        {AT_PHDR, img->phdr_vaddr ? img->phdr_vaddr + bias : 0},
        {AT_PHENT, img->phentsize},
        {AT_PHNUM, img->phnum},
        {AT_PAGESZ, PAGE_SIZE},
        {AT_BASE, st->interp_bias},
        {AT_FLAGS, 0},
        {AT_ENTRY, img->entry + bias},
        {AT_UID, c->uid[ID_REAL]},
        {AT_EUID, c->uid[ID_EFF]},
        {AT_GID, c->gid[ID_REAL]},
        {AT_EGID, c->gid[ID_EFF]},
        {AT_SECURE, secure},
        {AT_HWCAP, id[3]},
        {AT_HWCAP2, HWCAP2_FSGSBASE},
        {AT_CLKTCK, 100},
        {AT_PLATFORM, platform},
        {AT_RANDOM, random},
        {AT_EXECFN, execfn},
        {AT_MINSIGSTKSZ, signal_frame_max()},
        {st->vdso ? AT_SYSINFO_EHDR : AT_IGNORE, st->vdso},
        {AT_NULL, 0},
    };
    uint64_t words = 1 + argc + 1 + envc + 1 + 2 * ARRAY_SIZE(auxv);
    uint64_t table = (b.sp - words * 8) & ~15ull;
    if (table < b.floor + 4096) {
        kfree(uenv);
        kfree(uarg);
        return -E2BIG;
    }
    if (mm_populate(table, b.sp)) {
        kfree(uenv);
        kfree(uarg);
        return -ENOMEM;
    }
    uint64_t *w = (uint64_t *)table;
    *w++ = argc;
    memcpy(w, uarg, argc * 8);
    w += argc;
    *w++ = 0;
    memcpy(w, uenv, envc * 8);
    w += envc;
    *w++ = 0;
    memcpy(w, auxv, sizeof(auxv));
    /* kept, as Linux keeps saved_auxv: a core file's NT_AUXV (the program may overwrite its
     * stack's copy) */
    _Static_assert(sizeof(auxv) <= sizeof(p->auxv), "process.auxv holds the vector");
    memcpy(p->auxv, auxv, sizeof(auxv));
    p->auxv_bytes = sizeof(auxv);
    kfree(uenv);
    kfree(uarg);

    memset(r, 0, sizeof(*r));
    r->rip = st->entry;
    r->rsp = table;
    r->rflags = 0x2;
    return 0;
}

/* The program to run: the exec path if the monitor gave one, else argv[0], searched in the
 * environment's PATH (or the default) when it has no '/'. */
static int find_program(const char *name, char **envp, struct inode **out, char *path, size_t size)
{
    if (strchr(name, '/')) {
        strlcpy(path, name, size);
        return vfs_lookup(NULL, name, LOOKUP_FOLLOW, out);
    }
    const char *search = "/sbin:/usr/sbin:/bin:/usr/bin"; /* what Nitro's init sets */
    for (char **e = envp; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            search = *e + 5;
    int err = -ENOENT;
    while (*search) {
        const char *end = strchr(search, ':');
        size_t dlen = end ? (size_t)(end - search) : strlen(search);
        if (dlen + 1 + strlen(name) + 1 <= size) {
            memcpy(path, search, dlen);
            path[dlen] = '/';
            strlcpy(path + dlen + 1, name, size - dlen - 1);
            struct inode *ino;
            int e = vfs_lookup(NULL, path, LOOKUP_FOLLOW, &ino);
            if (e == 0 && S_ISREG(ino->mode)) {
                *out = ino;
                return 0;
            }
            if (e != -ENOENT)
                err = e;
        }
        if (!end)
            break;
        search = end + 1;
    }
    return err;
}

#define COPY_MAX (256ull << 20) /* the largest program kept in pieces that can be started */

/* A program's bytes in one piece: the image's or a small tmpfs file's own, or a copy (kfree'd
 * by the caller) of a tmpfs file kept in pieces (large, or mapped MAP_SHARED: fs/tmpfs.c). */
/* Whether ino can be run: a regular, executable file that is a static ELF (or, for execve, a
 * script: *script set). 0 and prog filled, or -errno (the reason logged at level). */
static int check_program(const char *path, struct inode *ino, struct elfp_image *img, bool *script,
                         int level, struct program *prog)
{
    if (S_ISDIR(ino->mode) || !S_ISREG(ino->mode) || cred_may_access(ino, MAY_EXEC) || ino->iops) {
        klog(level, "%s: not an executable file", path);
        return -EACCES;
    }
    char head[2] = {0, 0};
    inode_read(ino, head, 2, 0);
    if (script && head[0] == '#' && head[1] == '!') {
        *script = true;
        return 0;
    }
    prog->bytes = ino->data;
    prog->ino = ino;
    if (ino->chunks) {
        if (ino->size > COPY_MAX || !(prog->copy = kmalloc(ino->size))) {
            klog(level, "%s: no memory for a copy of the program to start it", path);
            return -ENOMEM;
        }
        inode_read(ino, prog->copy, ino->size, 0);
        prog->bytes = prog->copy;
    }
    enum elfp_error e = elfp_parse_opts(prog->bytes, ino->size, img, ELFP_ALLOW_INTERP);
    if (e != ELFP_OK) {
        klog(level, "%s: %s", path, elfp_strerror(e));
        return -ENOEXEC;
    }
    return 0;
}

/* The program's inode is kept, and kept from writers (ETXTBSY), from before the wait an execve
 * may do (process_unshare) until the address space running it goes (mm_set_exe hands it the
 * hold). The caller checked that nobody has it open for writing. */
static void hold_program(struct inode *ino)
{
    vfs_get(ino);
    vfs_deny_write(ino);
}

static void release_program(struct inode *ino)
{
    vfs_allow_write(ino);
    vfs_put(ino);
}

/* A dynamically linked program's interpreter (PT_INTERP): found, checked and held from writers
 * (as hold_program) before the old image goes, loaded after, then released (Linux, too, keeps
 * no hold on it once it is loaded). */
struct interp {
    struct inode *ino; /* NULL: the program has none */
    struct elfp_image img;
    struct program prog;
};

/* in: the interpreter of the checked program at path. 0 (in->ino NULL when it has none), or
 * -errno as Linux's load_elf_binary answers: its lookup's error (ENOENT ...), EACCES, ETXTBSY,
 * ELIBBAD for a file that cannot be one, ENOEXEC for a path without its final NUL. */
static int find_interp(const char *path, const struct program *prog, const struct elfp_image *img,
                       int level, struct interp *in)
{
    in->ino = NULL;
    if (!img->interp_size)
        return 0;
    /* as Linux: the path ends at its first NUL, and the segment's last byte must be one */
    const char *name = (const char *)prog->bytes + img->interp_offset;
    if (name[img->interp_size - 1]) {
        klog(level, "%s: the path of its interpreter (PT_INTERP) does not end with a NUL", path);
        return -ENOEXEC;
    }
    struct inode *ino;
    int err = vfs_lookup(vfs_cwd(), name, LOOKUP_FOLLOW, &ino);
    if (err) {
        klog(level, "%s: cannot find its interpreter %s (error %d)", path, name, err);
        return err;
    }
    if (ino->writers > 0)
        return -ETXTBSY;
    err = check_program(name, ino, &in->img, NULL, level, &in->prog);
    if (!err && in->img.interp_size) {
        klog(level, "%s: its interpreter %s has an interpreter itself", path, name);
        err = -ELIBBAD;
    }
    if (err) {
        kfree(in->prog.copy);
        in->prog.copy = NULL;
        return err == -ENOEXEC ? -ELIBBAD : err;
    }
    hold_program(ino);
    in->ino = ino;
    return 0;
}

static void interp_release(struct interp *in)
{
    if (in->ino)
        release_program(in->ino);
    kfree(in->prog.copy);
    in->ino = NULL;
    in->prog.copy = NULL;
}

/* Loads the checked program and its interpreter (in) into the current (empty) address space,
 * which holds the program (mm->exe), and builds its stack: 0 or -errno. */
static int load(const char *path, struct inode *ino, const struct program *prog,
                const struct elfp_image *img, const struct interp *in, char **argv, char **envp,
                struct regs *r)
{
    /* /proc/self/exe: where the file is, as Linux's d_path gives it (glibc's static dlopen
     * and $ORIGIN insist on an absolute path); the path as given when it has none */
    char *exe = current_process()->exe_path;
    if (vfs_path_of(ino, exe, PATH_MAX_LEN) < 0)
        strlcpy(exe, path, PATH_MAX_LEN);
    cred_exec(ino);
    uint64_t bias;
    int err = load_segments(prog, img, PLACE_PROGRAM, &bias);
    if (err) {
        klog(ALC_LOG_ERROR,
             "%s: cannot load its segments (%d): the enclave's memory is too small or the "
             "addresses are outside it",
             path, err);
        return err;
    }
    mm_set_brk_base(img->span_end + bias);
    patch_init(img->span_start + bias, img->span_end + bias);
    struct start st = {img->entry + bias, 0, 0};
    if (in->ino) {
        uint64_t ibias;
        err = load_segments(&in->prog, &in->img, PLACE_INTERP, &ibias);
        if (err) {
            klog(ALC_LOG_ERROR, "%s: cannot load its interpreter (%d)", path, err);
            return err;
        }
        st.entry = in->img.entry + ibias;
        st.interp_bias = ibias;
    }
    if (vdso_map(&st.vdso)) /* the program runs without one (its C library asks the kernel) */
        klog(ALC_LOG_INFO, "%s: no memory for the vDSO", path);
    err = build_stack(r, img, bias, &st, path, argv, envp);
    if (err)
        klog(ALC_LOG_ERROR, "arguments and environment do not fit the stack");
    return err;
}

int exe_start(struct regs *r, char **argv, char **envp)
{
    const char *want = phys_to_virt(g_boot->exec_path_gpa);
    if (!*want && !argv[0]) {
        klog(ALC_LOG_ERROR, "no program to run: the image has no cmd and none was given");
        return -ENOENT;
    }
    char path[PATH_MAX_LEN];
    struct inode *ino;
    int err = find_program(*want ? want : argv[0], envp, &ino, path, PATH_MAX_LEN);
    if (err) {
        klog(ALC_LOG_ERROR, "%s: cannot find the program (error %d)", *want ? want : argv[0], err);
        return err;
    }
    struct elfp_image img;
    struct program prog = {0};
    struct interp in = {0};
    err = check_program(path, ino, &img, NULL, ALC_LOG_ERROR, &prog);
    if (!err)
        err = find_interp(path, &prog, &img, ALC_LOG_ERROR, &in);
    if (!err) {
        hold_program(ino);
        mm_set_exe(mm_current(), ino);
        err = load(path, ino, &prog, &img, &in, argv, envp, r);
    }
    interp_release(&in);
    kfree(prog.copy);
    return err;
}

/* ---- execve ---- */
#define EXEC_STRINGS (1u << 20) /* bytes of argv and envp strings an execve may pass */
#define EXEC_VEC_MAX 65536      /* strings in each of argv and envp */
#define EXEC_DEPTH   4          /* #! interpreters in a row */
/* room before argv: each #! level adds up to three strings and drops one, the first none */
#define FRONT (2 * EXEC_DEPTH + 1)

struct exec_buf {
    char *strings;
    size_t used;
};

/* Copies the user array of strings at uvec (NULL: none) into b: a kmalloc'd NULL-terminated
 * vector in *out, with `front` empty slots before the strings. Its count or -errno. */
static long copy_vec(uint64_t uvec, struct exec_buf *b, size_t front, char ***out)
{
    size_t n = 0;
    uint64_t ptr;
    while (uvec) {
        if (copy_from_user(&ptr, uvec + 8 * n, 8))
            return -EFAULT;
        if (!ptr)
            break;
        if (++n > EXEC_VEC_MAX)
            return -E2BIG;
    }
    char **v = kmalloc((front + n + 1) * sizeof(char *));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        long len = -EFAULT;
        if (!copy_from_user(&ptr, uvec + 8 * i, 8))
            len = strncpy_from_user(b->strings + b->used, ptr, EXEC_STRINGS - b->used);
        if (len < 0) {
            kfree(v);
            return len == -ENAMETOOLONG ? -E2BIG : len;
        }
        v[front + i] = b->strings + b->used;
        b->used += (size_t)len + 1;
    }
    v[front + n] = NULL;
    *out = v;
    return (long)n;
}

/* A script's "#!interpreter [argument]" line (lib/script/shebang.c): the interpreter's path in
 * interp and its one optional argument in arg (NULL if none), both copied into b. 0 or -ENOEXEC.
 */
static int parse_shebang(struct inode *ino, struct exec_buf *b, char **interp, char **arg)
{
    char line[SHEBANG_MAX];
    long n = inode_read(ino, line, SHEBANG_MAX, 0);
    struct shebang sb;
    if (n < 2 || EXEC_STRINGS - b->used < SHEBANG_MAX + 2 || shebang_parse(line, (size_t)n, &sb))
        return -ENOEXEC;
    *interp = b->strings + b->used;
    memcpy(*interp, sb.interp, sb.interp_len);
    (*interp)[sb.interp_len] = 0;
    b->used += sb.interp_len + 1;
    *arg = NULL;
    if (sb.arg) {
        *arg = b->strings + b->used;
        memcpy(*arg, sb.arg, sb.arg_len);
        (*arg)[sb.arg_len] = 0;
        b->used += sb.arg_len + 1;
    }
    return 0;
}

/* The new image is in place: what Linux resets for it. */
static void exec_reset(struct process *p, const char *path)
{
    struct thread *t = current();
    p->execed = true;
    fd_close_on_exec();
    signal_exec();
    t->clear_child_tid = 0;
    t->robust_list = 0;
    t->robust_len = 0;
    strlcpy(t->comm, kbasename(path), sizeof(t->comm));
    __asm__ volatile("wrfsbase %0" : : "r"(0ull));
    __asm__ volatile("wrgsbase %0" : : "r"(0ull));
    fpu_reset(); /* the live registers: the kernel does not touch them */
}

static long do_execve(int dirfd, uint64_t upath, uint64_t uargv, uint64_t uenvp, int flags)
{
    if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        return -EINVAL;
    struct exec_buf b = {kmalloc(EXEC_STRINGS), 0};
    struct program prog = {0};
    struct interp in = {0};
    char **argv = NULL, **envp = NULL;
    long err = b.strings ? 0 : -ENOMEM;
    /* the path, then the vectors (room for two interpreter arguments per level in front) */
    char *path = b.strings;
    long plen = err ? err : get_path(upath, path);
    if (plen < 0)
        err = plen;
    else
        b.used = (size_t)plen + 1;
    if (!err && (err = copy_vec(uargv, &b, FRONT, &argv)) >= 0)
        err = copy_vec(uenvp, &b, 0, &envp);
    if (err < 0)
        goto out;
    char **args = argv + FRONT; /* argv as given */
    if (!args[0]) {
        /* no arguments at all: the program gets "" as argv[0] (Linux since 5.18) */
        if (b.used >= EXEC_STRINGS) {
            err = -E2BIG;
            goto out;
        }
        *--args = b.strings + b.used;
        b.strings[b.used++] = 0;
    }
    struct inode *ino;
    struct mm *mm = NULL;
    err = resolve_path_at(dirfd, path, flags & AT_EMPTY_PATH,
                          (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &ino);
    struct elfp_image img;
    for (int depth = 0; !err; depth++) {
        bool script = false;
        err = check_program(path, ino, &img, &script, ALC_LOG_DEBUG, &prog);
        if (err || !script)
            break;
        /* #!: the interpreter runs with [its argument,] the script's path, then argv[1..] */
        char *interp, *arg;
        if (depth == EXEC_DEPTH) {
            err = -ELOOP; /* Linux's answer to interpreters of interpreters, too deep */
            break;
        }
        if ((err = parse_shebang(ino, &b, &interp, &arg)))
            break;
        if (args[0])
            args++;
        *--args = path;
        if (arg)
            *--args = arg;
        *--args = interp;
        path = interp;
        err = vfs_lookup(vfs_cwd(), interp, LOOKUP_FOLLOW, &ino);
    }
    if (err)
        goto out;
    if (ino->writers > 0) {
        err = -ETXTBSY; /* open for writing (as Linux, before the other threads go) */
        goto out;
    }
    if ((err = find_interp(path, &prog, &img, ALC_LOG_DEBUG, &in)))
        goto out;
    hold_program(ino); /* the wait below must not free it or let it change */
    struct process *p = current_process();
    if (p->nthreads > 1)
        err = process_unshare(p);
    if (!err && !(mm = mm_create(mm_stack_top() - mm_stack_bottom())))
        err = -ENOMEM;
    if (err) {
        release_program(ino);
        goto out;
    }
    mm_set_exe(mm, ino); /* the new address space has the hold now */
    /* the point of no return: the old image goes */
    struct mm *old = p->mm;
    p->mm = mm;
    if (mmu_activate(&mm->mmu) ||
        load(path, ino, &prog, &img, &in, args, envp, current()->regs) != 0) {
        mm_put(old);
        process_vfork_done(p);
        interp_release(&in);
        kfree(prog.copy);
        kfree(argv);
        kfree(envp);
        kfree(b.strings);
        process_kill(SIGSEGV, NULL, 32, 0, 0, "execve failed after the old image was gone");
    }
    mm_put(old);
    process_vfork_done(p);
    exec_reset(p, path);
    err = 0;
out:
    interp_release(&in);
    kfree(prog.copy);
    kfree(argv);
    kfree(envp);
    kfree(b.strings);
    return err;
}

SYSCALL_DEFINE3(execve, uint64_t, upath, uint64_t, uargv, uint64_t, uenvp)
{
    return do_execve(AT_FDCWD, upath, uargv, uenvp, 0);
}

SYSCALL_DEFINE5(execveat, int, dirfd, uint64_t, upath, uint64_t, uargv, uint64_t, uenvp, int, flags)
{
    return do_execve(dirfd, upath, uargv, uenvp, flags);
}
