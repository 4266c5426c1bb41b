/* exec.c: loads the application's static ELF executable (fixed-address or static-PIE) into its
 * address space and builds the initial stack the System V ABI describes: argc, argv, envp and
 * the auxiliary vector, with the strings above them. */
#include "elf/elf_parse.h"
#include "exe.h"
#include "klib.h"
#include "mm.h"
#include "process.h"
#include "vfs.h"

#define PIE_HINT        0x400000ull /* where Linux-built PIEs usually expect to sit comfortably */
#define HWCAP2_FSGSBASE (1u << 1)

void exe_args(uint64_t *start, uint64_t *end)
{
    *start = current_process()->arg_start;
    *end = current_process()->arg_end;
}

const char *exe_path(void)
{
    return current_process()->exe_path;
}

static uint32_t prot_of(uint32_t flags)
{
    return (flags & ELFP_R ? PROT_READ : 0) | (flags & ELFP_W ? PROT_WRITE : 0) |
           (flags & ELFP_X ? PROT_EXEC : 0);
}

/* Maps and fills every PT_LOAD. Returns the load bias (0 for fixed-address executables). */
static int load_segments(const uint8_t *file, const struct elfp_image *img, uint64_t *bias_out)
{
    uint64_t span = img->span_end - img->span_start;
    uint64_t bias = 0;
    if (img->type == ELFP_PIE) {
        uint64_t align = MAX(img->max_align, PAGE_SIZE);
        if (align > (2ull << 20))
            align = 2ull << 20;
        uint64_t base;
        uint64_t hint = (PIE_HINT + align - 1) & ~(align - 1);
        if (vms_is_free(mm_space(), hint, hint + span))
            base = hint;
        else if (vms_find_free_below(mm_space(), span, align, mm_stack_bottom(), &base))
            return -ENOMEM;
        bias = base - img->span_start;
    }

    uint64_t prev_end = 0;
    for (uint32_t i = 0; i < img->nload; i++) {
        const struct elfp_segment *s = &img->load[i];
        uint64_t start = PAGE_DOWN(s->vaddr + bias), end = PAGE_UP(s->vaddr + bias + s->memsz);
        if (start < prev_end)
            start = prev_end; /* the page is shared with the previous segment */
        if (start < end) {
            int err = mm_map_at(start, end - start, prot_of(s->flags), VMA_EXE);
            if (err)
                return err;
        }
        prev_end = end;
        /* as mmap would: file bytes from the page-aligned offset, zeros after filesz */
        uint64_t lead = (s->vaddr + bias) & (PAGE_SIZE - 1);
        memcpy((void *)(s->vaddr + bias - lead), file + s->offset - lead, s->filesz + lead);
        memset((void *)(s->vaddr + bias + s->filesz), 0, s->memsz - s->filesz);
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
    if (b->sp - b->floor < len)
        return 0;
    b->sp -= len;
    memcpy((void *)b->sp, data, len);
    return b->sp;
}

static uint64_t count(char **v)
{
    uint64_t n = 0;
    while (v[n])
        n++;
    return n;
}

static int build_stack(struct regs *r, const struct elfp_image *img, uint64_t bias, char **argv,
                       char **envp)
{
    struct process *p = current_process();
    struct stack_builder b = {mm_stack_top(), mm_stack_bottom()};
    uint64_t argc = count(argv), envc = count(envp);

    /* strings: the executable's name at the very top, then the environment and argv */
    b.sp -= 8;
    uint64_t execfn = push_bytes(&b, p->exe_path, strlen(p->exe_path) + 1);
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
    uint64_t auxv[][2] = {
        {AT_PHDR, img->phdr_vaddr ? img->phdr_vaddr + bias : 0},
        {AT_PHENT, img->phentsize},
        {AT_PHNUM, img->phnum},
        {AT_PAGESZ, PAGE_SIZE},
        {AT_BASE, 0},
        {AT_FLAGS, 0},
        {AT_ENTRY, img->entry + bias},
        {AT_UID, 0},
        {AT_EUID, 0},
        {AT_GID, 0},
        {AT_EGID, 0},
        {AT_SECURE, 0},
        {AT_HWCAP, id[3]},
        {AT_HWCAP2, HWCAP2_FSGSBASE},
        {AT_CLKTCK, 100},
        {AT_PLATFORM, platform},
        {AT_RANDOM, random},
        {AT_EXECFN, execfn},
        {AT_NULL, 0},
    };
    uint64_t words = 1 + argc + 1 + envc + 1 + 2 * ARRAY_SIZE(auxv);
    uint64_t table = (b.sp - words * 8) & ~15ull;
    if (table < b.floor + 4096) {
        kfree(uenv);
        kfree(uarg);
        return -E2BIG;
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
    kfree(uenv);
    kfree(uarg);

    memset(r, 0, sizeof(*r));
    r->rip = img->entry + bias;
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

int exe_start(struct regs *r, char **argv, char **envp)
{
    const char *want = phys_to_virt(g_boot->exec_path_gpa);
    if (!*want && !argv[0]) {
        klog(ALC_LOG_ERROR, "no program to run: the image has no cmd and none was given");
        return -ENOENT;
    }
    char *path = current_process()->exe_path;
    struct inode *ino;
    int err = find_program(*want ? want : argv[0], envp, &ino, path, PATH_MAX_LEN);
    if (err) {
        klog(ALC_LOG_ERROR, "%s: cannot find the program (error %d)", *want ? want : argv[0], err);
        return err;
    }
    if (!S_ISREG(ino->mode) || !(ino->mode & 0111) || ino->iops) {
        klog(ALC_LOG_ERROR, "%s: not an executable file", path);
        return -EACCES;
    }
    if (ino->chunks) {
        klog(ALC_LOG_ERROR, "%s: programs over 1 MiB written at run time cannot be started", path);
        return -ENOEXEC;
    }
    struct elfp_image img;
    enum elfp_error e = elfp_parse(ino->data, ino->size, &img);
    if (e != ELFP_OK) {
        klog(ALC_LOG_ERROR, "%s: %s", path, elfp_strerror(e));
        return -ENOEXEC;
    }
    uint64_t bias;
    err = load_segments(ino->data, &img, &bias);
    if (err) {
        klog(ALC_LOG_ERROR,
             "%s: cannot load its segments (%d): the enclave's memory is too small or the "
             "addresses are outside it",
             path, err);
        return err;
    }
    mm_set_brk_base(img.span_end + bias);
    patch_init(img.span_start + bias, img.span_end + bias);
    err = build_stack(r, &img, bias, argv, envp);
    if (err)
        klog(ALC_LOG_ERROR, "arguments and environment do not fit the stack");
    return err;
}
