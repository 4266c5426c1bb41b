/* patch_cover.c: syscall sites right after an instruction a stub can run in their place, with
 * no padding near (glibc's futex calls in its lock, condition-variable and barrier code look
 * like this: `mov %r8d, %eax; syscall`, `xor $0x80, %sil; syscall`). The enclave kernel covers
 * such a pair with one jmp (way 3 of enclave/kernel/patch.c) where the program's unwind tables
 * show nothing jumps inside. The same output natively and in an enclave is the test; patch.bats
 * also reads the enclave's debug log for what was patched.
 *   patch_cover count N     N getppid() through each of two covered sites (the number from
 *                           `mov %r8d, %eax`, 3 bytes; from `mov $110, %rax`, 7 bytes), N
 *                           through one a branch reaches
 *   patch_cover restart     a futex wait on a covered site (`xor $1, %sil` makes the op: it
 *                           must not run twice), restarted after 5 SA_RESTART signals
 *   patch_cover contend N   4 threads pass a token N times through futex wait/wake on covered
 *                           sites (on 2 vCPUs the patch waits until no other thread runs)
 *   patch_cover remap N     count N, then the code mapping of those sites mapped again
 *                           from the executable's file (MAP_FIXED: the original bytes, patched
 *                           or not), then count N again: the kernel must forget what it did to
 *                           the code it unmapped (patch.bats: each site patched or refused
 *                           once per mapping) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

/* 135 bytes of live code after a syscall: no dead padding within the 127 bytes a jmp rel8 could
 * reach, so way 2 cannot take the site and way 3 is what is tested (rcx is the syscall's) */
#define NO_PADDING_NEAR ".rept 45\n\tlea (%%rcx), %%rcx\n\t.endr\n\t"

/* getppid with the number moved from r8d (44 89 c0 0f 05) */
__attribute__((noinline)) static long cover_getppid(void)
{
    register long nr __asm__("r8") = SYS_getppid;
    long ret;
    __asm__ volatile("mov %%r8d, %%eax\n\tsyscall\n\t" NO_PADDING_NEAR
                     : "=a"(ret)
                     : "r"(nr)
                     : "rcx", "r11", "memory");
    return ret;
}

/* getppid with the number from a 7-byte mov (48 c7 c0 6e 00 00 00: mov $110, %rax), which way
 * 1 does not take: covered, the jmp over its first five bytes, the syscall left as it was */
__attribute__((noinline)) static long long_getppid(void)
{
    long ret;
    __asm__ volatile(".byte 0x48, 0xc7, 0xc0, 0x6e, 0, 0, 0\n\tsyscall\n\t" NO_PADDING_NEAR
                     : "=a"(ret)
                     :
                     : "rcx", "r11", "memory");
    return ret;
}

/* the same, but a branch lands on the syscall (when flag is 0): never covered */
__attribute__((noinline)) static long jumped_getppid(long flag)
{
    register long nr __asm__("r9") = SYS_getppid;
    long ret = SYS_getppid;
    __asm__ volatile("test %2, %2\n\t"
                     "jz 1f\n\t"
                     "mov %%r9d, %%eax\n"
                     "1:\tsyscall\n\t" NO_PADDING_NEAR
                     : "+a"(ret)
                     : "r"(nr), "r"(flag)
                     : "rcx", "r11", "memory");
    return ret;
}

/* futex(uaddr, op, val, ts), the op made by `xor $1, %sil` right before the syscall (40 80 f6
 * 01 0f 05), as glibc makes FUTEX_PRIVATE_FLAG with xor $0x80. Run twice (a restart that went
 * back to it), the xor would turn a FUTEX_WAIT into a FUTEX_WAKE. */
__attribute__((noinline, noclone)) static long cover_futex(atomic_int *uaddr, long op, long val,
                                                           const struct timespec *ts)
{
    register long r10 __asm__("r10") = (long)ts;
    long ret = SYS_futex;
    __asm__ volatile("xor $1, %%sil\n\tsyscall\n\t" NO_PADDING_NEAR
                     : "+a"(ret)
                     : "D"(uaddr), "S"(op ^ 1), "d"(val), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

static int count(long n)
{
    long want = getppid(), bad = 0;
    for (long i = 0; i < n; i++) {
        bad += cover_getppid() != want;
        bad += long_getppid() != want;
        bad += jumped_getppid(i & 1) != want;
    }
    printf("count: %ld calls through each site, %ld wrong results\n", n, bad);
    return bad != 0;
}

/* ---- restart ---- */
static atomic_int g_word, g_hits;
static pthread_t g_main;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&g_hits, 1);
}

static void *poker(void *arg)
{
    (void)arg;
    struct timespec ms20 = {0, 20000000};
    for (int i = 0; i < 5; i++) {
        nanosleep(&ms20, NULL);
        pthread_kill(g_main, SIGUSR1);
    }
    while (atomic_load(&g_hits) < 5)
        nanosleep(&ms20, NULL);
    nanosleep(&ms20, NULL);
    atomic_store(&g_word, 1);
    cover_futex(&g_word, FUTEX_WAKE, 1, NULL);
    return NULL;
}

static int restart(void)
{
    /* the site is patched at its first call, while this is the only thread */
    if (cover_futex(&g_word, FUTEX_WAKE, 1, NULL) != 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    g_main = pthread_self();
    pthread_t t;
    pthread_create(&t, NULL, poker, NULL);
    long r;
    do
        r = cover_futex(&g_word, FUTEX_WAIT, 0, NULL); /* restarted by each signal */
    while (r == -EAGAIN && atomic_load(&g_word) == 0);
    /* only the poker's wake, after its 5 signals, ends the wait (a restart that ran the xor
     * again would have made it a FUTEX_WAKE, which returns at once) */
    int hits = atomic_load(&g_hits), word = atomic_load(&g_word);
    pthread_join(t, NULL);
    printf("restart: the wait returned %s after %d signals, word %d\n",
           r == 0 || r == -EAGAIN ? "0 or EAGAIN" : strerror((int)-r), hits, word);
    return !(r == 0 || r == -EAGAIN) || hits != 5 || word != 1;
}

/* ---- contend: a token passed around 4 threads ---- */
#define NT 4
static atomic_int g_turn;
static long g_rounds;
static long g_passes[NT];

static void *runner(void *arg)
{
    int me = (int)(long)arg;
    for (long k = 0; k < g_rounds; k++) {
        int t;
        while ((t = atomic_load(&g_turn)) != me)
            cover_futex(&g_turn, FUTEX_WAIT, t, NULL);
        g_passes[me]++;
        atomic_store(&g_turn, (me + 1) % NT);
        cover_futex(&g_turn, FUTEX_WAKE, NT, NULL);
    }
    return NULL;
}

static int contend(long n)
{
    g_rounds = n;
    pthread_t t[NT];
    for (long i = 0; i < NT; i++)
        pthread_create(&t[i], NULL, runner, (void *)i);
    for (int i = 0; i < NT; i++)
        pthread_join(t[i], NULL);
    long all = 0;
    for (int i = 0; i < NT; i++)
        all += g_passes[i];
    printf("contend: %d threads, %ld passes of the token, turn %d\n", NT, all,
           atomic_load(&g_turn));
    return all != NT * n;
}

/* ---- remap ---- */
/* The executable's mapping holding addr, from /proc/self/maps: start, end, file offset, path. */
static int find_mapping(uintptr_t addr, uintptr_t *start, uintptr_t *end, unsigned long *off,
                        char *path, size_t size)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = -1;
    while (f && found && fgets(line, sizeof(line), f)) {
        unsigned long s, e, o;
        int n = 0;
        if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &s, &e, &o, &n) < 3 || !n)
            continue;
        if (addr >= s && addr < e && line[n] == '/') {
            *start = s, *end = e, *off = o;
            snprintf(path, size, "%.*s", (int)strcspn(line + n, "\n"), line + n);
            found = 0;
        }
    }
    if (f)
        fclose(f);
    return found;
}

static int remap(long n)
{
    if (count(n))
        return 1;
    /* the whole code mapping that holds the sites, this function included (the same bytes
     * natively): a part of it would leave the patcher's jmps to padding that was mapped again */
    uintptr_t start, end;
    unsigned long off;
    char path[256];
    if (find_mapping((uintptr_t)cover_getppid, &start, &end, &off, path, sizeof(path))) {
        fprintf(stderr, "remap: no file mapping holds cover_getppid\n");
        return 1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    void *p = fd < 0 ? MAP_FAILED
                     : mmap((void *)start, end - start, PROT_READ | PROT_EXEC,
                            MAP_PRIVATE | MAP_FIXED, fd, (off_t)off);
    if (fd >= 0)
        close(fd);
    if (p != (void *)start) {
        fprintf(stderr, "remap: %s at %#lx: %s\n", path, (unsigned long)start, strerror(errno));
        return 1;
    }
    printf("remap: the sites' code mapped again from the file\n");
    return count(n);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 3 && strcmp(argv[1], "count") == 0)
        return count(atol(argv[2]));
    if (argc >= 2 && strcmp(argv[1], "restart") == 0)
        return restart();
    if (argc >= 3 && strcmp(argv[1], "contend") == 0)
        return contend(atol(argv[2]));
    if (argc >= 3 && strcmp(argv[1], "remap") == 0)
        return remap(atol(argv[2]));
    fprintf(stderr, "usage: patch_cover count N | restart | contend N | remap N\n");
    return 2;
}
