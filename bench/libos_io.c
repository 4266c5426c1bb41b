/* libos_io.c: LibOS workloads for bench/libos.sh, timed inside the program (the enclave's launch
 * is not in the number). Each mode prints "SECONDS CHECK": the wall time of the timed part and a
 * value computed from the work (so that it cannot be skipped, and to compare both sides).
 *   libos_io read FILE BLOCK PASSES   read FILE start to end PASSES times, BLOCK bytes per read()
 *   libos_io files DIR N SIZE         create, write SIZE bytes to and close N files in DIR, then
 *                                     stat and unlink them all
 *   libos_io mmap MIB PASSES          mmap MIB anonymous, write every page, munmap; PASSES times
 *   libos_io malloc OPS               OPS malloc/free of 16 B to 16 KiB among 8192 live blocks */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char *what)
{
    perror(what);
    return 1;
}

static int bench_read(const char *path, size_t block, int passes)
{
    char *buf = malloc(block);
    if (!buf)
        return fail("malloc");
    uint64_t check = 0, total = 0;
    double t0 = now();
    for (int p = 0; p < passes; p++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return fail(path);
        ssize_t n;
        while ((n = read(fd, buf, block)) > 0) {
            total += (uint64_t)n;
            check += (unsigned char)buf[n - 1];
        }
        if (n < 0)
            return fail("read");
        close(fd);
    }
    printf("%.6f %llu:%llu\n", now() - t0, (unsigned long long)total, (unsigned long long)check);
    free(buf);
    return 0;
}

static int bench_files(const char *dir, int n, size_t size)
{
    char *data = malloc(size), path[4096];
    if (!data)
        return fail("malloc");
    for (size_t i = 0; i < size; i++)
        data[i] = (char)('a' + i % 26);
    uint64_t bytes = 0;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/f%05d", dir, i);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0)
            return fail(path);
        if (write(fd, data, size) != (ssize_t)size)
            return fail("write");
        close(fd);
    }
    for (int i = 0; i < n; i++) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/f%05d", dir, i);
        if (stat(path, &st))
            return fail(path);
        bytes += (uint64_t)st.st_size;
        if (unlink(path))
            return fail("unlink");
    }
    printf("%.6f %llu\n", now() - t0, (unsigned long long)bytes);
    free(data);
    return 0;
}

static int bench_mmap(size_t mib, int passes)
{
    size_t len = mib << 20;
    uint64_t check = 0;
    double t0 = now();
    for (int p = 0; p < passes; p++) {
        unsigned char *m =
            mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return fail("mmap");
        for (size_t i = 0; i < len; i += 4096)
            m[i] = (unsigned char)(i >> 12);
        for (size_t i = 0; i < len; i += 1 << 20)
            check += m[i + 4096];
        if (munmap(m, len))
            return fail("munmap");
    }
    printf("%.6f %llu\n", now() - t0, (unsigned long long)check);
    return 0;
}

static int bench_malloc(long ops)
{
    enum { SLOTS = 8192 };
    static char *slot[SLOTS];
    uint64_t x = 88172645463325252ull, check = 0;
    double t0 = now();
    for (long i = 0; i < ops; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        unsigned s = (unsigned)(x % SLOTS);
        if (slot[s]) {
            check += (unsigned char)slot[s][0];
            free(slot[s]);
            slot[s] = NULL;
        } else {
            size_t size = 16 + (size_t)((x >> 20) % 16384);
            slot[s] = malloc(size);
            if (!slot[s])
                return fail("malloc");
            memset(slot[s], (int)(i & 0x7f), size < 256 ? size : 256);
        }
    }
    for (unsigned s = 0; s < SLOTS; s++)
        free(slot[s]);
    printf("%.6f %llu\n", now() - t0, (unsigned long long)check);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "read") == 0)
        return bench_read(argv[2], strtoul(argv[3], NULL, 0), atoi(argv[4]));
    if (argc == 5 && strcmp(argv[1], "files") == 0)
        return bench_files(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 0));
    if (argc == 4 && strcmp(argv[1], "mmap") == 0)
        return bench_mmap(strtoul(argv[2], NULL, 0), atoi(argv[3]));
    if (argc == 3 && strcmp(argv[1], "malloc") == 0)
        return bench_malloc(atol(argv[2]));
    fprintf(stderr, "usage: libos_io read FILE BLOCK PASSES | files DIR N SIZE | "
                    "mmap MIB PASSES | malloc OPS\n");
    return 2;
}
