/* mem_imagemap.c: private mappings of a file that never changes (in an enclave, a file of the
 * image, whose pages every read-only mapping shares): what a program sees must be what Linux
 * gives it. Prints facts, never addresses, so that a native run and an enclave run must print
 * the same.
 *
 *   mem_imagemap FILE            the checks, on FILE (read-only, at least 3 pages)
 *   mem_imagemap share N FILE    N children map FILE read-only and read every page at once;
 *                                prints how much memory the system lost meanwhile (sysinfo),
 *                                which differs between runs: not for a differential test
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static size_t g_size;
static unsigned char *g_bytes; /* the file, read with read() */

static void say(const char *what, int ok)
{
    printf("%-60s: %s\n", what, ok ? "yes" : "NO");
}

static unsigned char *map(int fd, int prot)
{
    unsigned char *p = mmap(NULL, g_size, prot, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return p;
}

static int same(const unsigned char *p)
{
    return memcmp(p, g_bytes, g_size) == 0;
}

static void read_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || st.st_size < 3 * PG) {
        fprintf(stderr, "%s: not a readable file of 3 pages or more\n", path);
        exit(2);
    }
    g_size = (size_t)st.st_size;
    g_bytes = malloc(g_size);
    if (!g_bytes || pread(fd, g_bytes, g_size, 0) != (ssize_t)g_size) {
        perror("read");
        exit(2);
    }
    close(fd);
}

static int checks(const char *path)
{
    read_file(path);
    int fd = open(path, O_RDONLY);
    unsigned char *ro = map(fd, PROT_READ), *rw = map(fd, PROT_READ | PROT_WRITE);
    say("a read-only private mapping reads the file", same(ro));
    say("a writable private mapping reads the file", same(rw));

    /* writes to a private mapping stay in it */
    memset(rw + PG, 0xa5, PG);
    rw[g_size - 1] ^= 0xff;
    say("a write to one private mapping: the other still reads the file", same(ro));
    unsigned char *again = map(fd, PROT_READ);
    say("a write to one private mapping: a new mapping reads the file", same(again));
    say("the written mapping keeps its bytes", rw[PG] == 0xa5 && rw[PG + PG - 1] == 0xa5);

    /* a read-only mapping made writable, then written */
    unsigned char *later = map(fd, PROT_READ);
    (void)*(volatile unsigned char *)(later + 2 * PG); /* touched while read-only */
    say("mprotect PROT_READ|PROT_WRITE of a read mapping",
        mprotect(later, g_size, PROT_READ | PROT_WRITE) == 0);
    later[2 * PG] ^= 0x5a;
    later[0] ^= 0x5a;
    say("after the write there, the other mappings still read the file", same(ro) && same(again));
    say("the mapping that was made writable keeps its write",
        later[2 * PG] == (g_bytes[2 * PG] ^ 0x5a) && later[0] == (g_bytes[0] ^ 0x5a));

    /* fork: the child reads the same; its writes are its own */
    int pipefd[2];
    if (pipe(pipefd))
        return 2;
    pid_t pid = fork();
    if (pid == 0) {
        char r = (char)('0' + same(ro));
        rw[0] ^= 0x11;
        ro = map(fd, PROT_READ | PROT_WRITE);
        ro[PG] ^= 0x22;
        r = (char)(r + 2 * (rw[PG] == 0xa5));
        if (write(pipefd[1], &r, 1) != 1)
            _exit(3);
        _exit(0);
    }
    char r = 0;
    int status;
    if (read(pipefd[0], &r, 1) != 1 || waitpid(pid, &status, 0) != pid)
        return 2;
    say("a forked child reads the file through the parent's mapping", (r - '0') & 1);
    say("a forked child sees the parent's private writes", (r - '0') & 2);
    say("the child's writes stay in the child", same(ro) && rw[0] == g_bytes[0]);

    /* MADV_DONTNEED on a private file mapping: the file's bytes again */
    say("MADV_DONTNEED of a written private mapping", madvise(rw, g_size, MADV_DONTNEED) == 0);
    say("after MADV_DONTNEED it reads the file again", same(rw));

    /* PROT_NONE, then readable: the file's bytes */
    unsigned char *none = map(fd, PROT_NONE);
    say("mprotect PROT_READ of a PROT_NONE mapping", mprotect(none, g_size, PROT_READ) == 0);
    say("it reads the file", same(none));

    /* mremap keeps a private mapping's pages and its file */
    unsigned char *moved = mremap(again, g_size, g_size, MREMAP_MAYMOVE | MREMAP_FIXED,
                                  none + ((g_size + PG - 1) & ~(size_t)(PG - 1)) + 16 * PG);
    if (moved == MAP_FAILED) {
        /* the fixed address may be taken: any place will do */
        munmap(again, g_size);
        moved = map(fd, PROT_READ);
    }
    say("a moved mapping reads the file", same(moved));
    say("it can be made writable and written there alone",
        mprotect(moved, g_size, PROT_READ | PROT_WRITE) == 0 && (moved[PG] ^= 1, same(ro)));
    return 0;
}

static long mem_free_kib(void)
{
    struct sysinfo si;
    if (sysinfo(&si))
        return -1;
    return (long)((uint64_t)si.freeram * si.mem_unit / 1024);
}

static int share(int n, const char *path)
{
    /* only the size: a copy of the file in this process would be copied by each fork (fork
     * copies in the enclave) */
    struct stat st;
    if (stat(path, &st) || st.st_size < PG) {
        fprintf(stderr, "%s: not a file of a page or more\n", path);
        return 2;
    }
    g_size = (size_t)st.st_size;
    int go[2], ready[2];
    if (pipe(go) || pipe(ready))
        return 2;
    long before = mem_free_kib();
    for (int i = 0; i < n; i++) {
        if (fork() == 0) {
            close(go[1]); /* the parent's close is their end of file */
            int fd = open(path, O_RDONLY);
            unsigned char *p = map(fd, PROT_READ);
            unsigned sum = 0;
            for (size_t k = 0; k < g_size; k += PG)
                sum += p[k];
            char c = (char)(sum & 1);
            if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
                _exit(3);
            _exit(0);
        }
    }
    char c;
    for (int i = 0; i < n; i++)
        if (read(ready[0], &c, 1) != 1)
            return 2;
    long after = mem_free_kib();
    close(go[1]); /* every child reads end of file: they end */
    while (wait(NULL) > 0)
        ;
    printf("children %d file %zu KiB: memory used %ld KiB\n", n, g_size / 1024, before - after);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 4 && strcmp(argv[1], "share") == 0)
        return share(atoi(argv[2]), argv[3]);
    if (argc == 2)
        return checks(argv[1]);
    fprintf(stderr, "usage: mem_imagemap FILE | mem_imagemap share N FILE\n");
    return 2;
}
