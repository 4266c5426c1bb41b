/* mem_protect.c: protections the MMU enforces, and memory committed only when touched. Each
 * check prints what happened (the signal, its si_code, whether si_addr is the address touched)
 * and no addresses, so a native run and an enclave run must print the same.
 *
 *   mem_protect           every check
 *   mem_protect reserve   only the large PROT_NONE reservation (run in a small enclave)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096ul

static sigjmp_buf g_jump;
static volatile int g_sig, g_code;
static void *volatile g_addr;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    g_sig = sig;
    g_code = si->si_code;
    g_addr = si->si_addr;
    siglongjmp(g_jump, 1);
}

static const char *code_name(int sig, int code)
{
    if (sig == SIGSEGV)
        return code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "?";
    if (sig == SIGBUS)
        return code == BUS_ADRERR ? "BUS_ADRERR" : "?";
    return "?";
}

/* Runs fn(p) and says whether it faulted, how, and whether si_addr is p. */
static void probe(const char *what, void (*fn)(volatile char *), volatile char *p)
{
    g_sig = 0;
    if (sigsetjmp(g_jump, 1) == 0) {
        fn(p);
        printf("%-44s: no fault\n", what);
        return;
    }
    printf("%-44s: %s %s, si_addr %s\n", what, g_sig == SIGSEGV ? "SIGSEGV" : "other signal",
           code_name(g_sig, g_code), g_addr == (void *)p ? "right" : "wrong");
}

static void do_read(volatile char *p)
{
    (void)*p;
}

static void do_write(volatile char *p)
{
    *p = 1;
}

static void do_call(volatile char *p)
{
    ((void (*)(void))(uintptr_t)p)();
}

static char *map(size_t len, int prot)
{
    char *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        _exit(2);
    }
    return p;
}

/* 4 GiB of PROT_NONE costs nothing; a part made accessible works; it all goes back. */
static void reserve(void)
{
    size_t len = 4ul << 30;
    char *r = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    printf("reserve 4 GiB PROT_NONE: %s\n", r == MAP_FAILED ? "failed" : "ok");
    if (r == MAP_FAILED)
        return;
    char *mid = r + (2ul << 30);
    int ok = mprotect(mid, 1 << 20, PROT_READ | PROT_WRITE) == 0;
    for (size_t i = 0; ok && i < (1 << 20); i += PG)
        mid[i] = (char)i;
    for (size_t i = 0; ok && i < (1 << 20); i += PG)
        ok = mid[i] == (char)i && mid[i + 1] == 0;
    printf("1 MiB in the middle made writable, used: %s\n", ok ? "ok" : "failed");
    probe("read the reservation next to it", do_read, mid + (1 << 20));
    printf("munmap the reservation: %s\n", munmap(r, len) == 0 ? "ok" : "failed");
}

/* MAP_GROWSDOWN: a touch below the mapping extends it, unless that would come within Linux's
 * guard gap (256 pages) of an accessible mapping below. */
static void grows_down(void)
{
    char *r = map(512 * PG, PROT_READ | PROT_WRITE); /* a place with nothing in it */
    munmap(r, 512 * PG);
    char *s = mmap(r + 508 * PG, 4 * PG, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
    printf("MAP_GROWSDOWN mapping: %s\n", s == r + 508 * PG ? "ok" : "failed");
    if (s != r + 508 * PG)
        return;
    probe("write 100 pages below it", do_write, s - 100 * PG);
    printf("the write is there: %s\n", s[-100 * (long)PG] == 1 ? "yes" : "no");
    char *near = mmap(r + 300 * PG, PG, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("a page mapped 107 pages below it: %s\n", near == r + 300 * PG ? "ok" : "failed");
    probe("write 8 pages below it again", do_write, s - 108 * PG);
    munmap(r, 512 * PG);
}

/* /proc/self/pagemap: bit 63 says a page has a frame, bit 61 that it is shared memory. */
static void pagemap(void)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0) {
        perror("open /proc/self/pagemap");
        return;
    }
    char *p = map(PG, PROT_READ | PROT_WRITE), *u = map(PG, PROT_READ); /* not one mapping */
    char *sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    p[0] = sh[0] = 1;
    uint64_t e[3] = {0, 0, 0};
    pread(fd, &e[0], 8, (off_t)((uintptr_t)p / PG * 8));
    pread(fd, &e[1], 8, (off_t)((uintptr_t)u / PG * 8));
    pread(fd, &e[2], 8, (off_t)((uintptr_t)sh / PG * 8));
    printf("pagemap: touched page present %d exclusive %d, untouched present %d, shared page "
           "present %d shared %d\n",
           (int)(e[0] >> 63), (int)(e[0] >> 56 & 1), (int)(e[1] >> 63), (int)(e[2] >> 63),
           (int)(e[2] >> 61 & 1));
    printf("pagemap read at an odd offset: %s\n",
           pread(fd, &e[0], 8, 4) < 0 && errno == EINVAL ? "EINVAL" : "something else");
    close(fd);
    munmap(p, PG);
    munmap(u, PG);
    munmap(sh, PG);
}

int main(int argc, char **argv)
{
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);

    if (argc > 1 && strcmp(argv[1], "reserve") == 0) {
        reserve();
        return 0;
    }

    char *p = map(4 * PG, PROT_READ | PROT_WRITE);
    strcpy(p, "kept");
    strcpy(p + PG, "guarded");

    /* a guard page in the middle of a mapping */
    mprotect(p + PG, PG, PROT_NONE);
    probe("read a PROT_NONE page", do_read, p + PG + 8);
    probe("write a PROT_NONE page", do_write, p + PG + 9);
    probe("read the page before it", do_read, p);
    mprotect(p + PG, PG, PROT_READ | PROT_WRITE);
    printf("PROT_NONE and back keeps the bytes: %s\n", strcmp(p + PG, "guarded") ? "no" : "yes");

    /* read-only */
    mprotect(p, PG, PROT_READ);
    probe("write a PROT_READ page", do_write, p + 100);
    probe("read it", do_read, p + 100);
    printf("the failed write changed nothing: %s\n", strcmp(p, "kept") ? "no" : "yes");
    mprotect(p, PG, PROT_READ | PROT_WRITE);
    probe("write it after PROT_READ|PROT_WRITE", do_write, p + 100);

    /* execution needs PROT_EXEC */
    p[2 * PG] = (char)0xc3; /* ret */
    probe("call into a page without PROT_EXEC", do_call, p + 2 * PG);
    mprotect(p + 2 * PG, PG, PROT_READ | PROT_EXEC);
    probe("call into it with PROT_READ|PROT_EXEC", do_call, p + 2 * PG);
    probe("write code in it", do_write, p + 2 * PG + 1);
    probe("write the program's own code", do_write, (volatile char *)(uintptr_t)main);

    /* unmapped */
    munmap(p + 3 * PG, PG);
    probe("read an unmapped page", do_read, p + 3 * PG + 5);
    probe("write an unmapped page", do_write, p + 3 * PG + 6);

    /* untouched memory has no frame; a touched page has one; MADV_DONTNEED gives it back */
    char *q = map(16 * PG, PROT_READ | PROT_WRITE);
    unsigned char vec[16];
    int resident = 0;
    mincore(q, 16 * PG, vec);
    for (int i = 0; i < 16; i++)
        resident += vec[i] & 1;
    printf("untouched pages resident: %d\n", resident);
    q[3 * PG] = 7;
    mincore(q, 16 * PG, vec);
    printf("a touched page resident: %d\n", vec[3] & 1);
    madvise(q, 16 * PG, MADV_DONTNEED);
    printf("after MADV_DONTNEED it reads: %d\n", q[3 * PG]);
    printf("mincore of an unmapped range: %s\n",
           mincore(p + 3 * PG, PG, vec) == -1 ? "failed (as it must)" : "ok");
    printf("msync of the mapping: %s\n", msync(q, 16 * PG, MS_SYNC) == 0 ? "ok" : "failed");
    printf("mlock and munlock: %s\n",
           mlock(q, 16 * PG) == 0 && munlock(q, 16 * PG) == 0 ? "ok" : "failed");

    /* mremap moves the pages with their bytes, and the old place faults */
    strcpy(q, "moved");
    strcpy(q + 15 * PG, "last");
    char *dst = map(64 * PG, PROT_NONE);
    char *r = mremap(q, 16 * PG, 32 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    printf("mremap to a fixed place: %s\n", r == dst ? "ok" : "failed");
    if (r == dst) {
        printf("the bytes moved: %s\n",
               strcmp(r, "moved") || strcmp(r + 15 * PG, "last") ? "no" : "yes");
        printf("the grown part reads: %d\n", r[20 * PG]);
        probe("read the old place", do_read, q);
        probe("read past the moved part", do_read, r + 32 * PG);
    }
    munmap(dst, 64 * PG);

    grows_down();
    pagemap();
    reserve();
    munmap(p, 3 * PG);
    printf("done\n");
    return 0;
}
