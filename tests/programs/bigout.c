/* bigout.c: writes a lot of deterministic output to stdout (and some to stderr) in chunks of
 * several sizes: the output ring must carry it all, in order, without loss. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            exit(3);
        p += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv)
{
    size_t total = (argc > 1 ? strtoul(argv[1], NULL, 10) : 8) << 20; /* MiB */
    static char buf[1 << 20];
    unsigned x = 12345;
    size_t sizes[] = {1, 7, 100, 4096, 65536, 300000, 1 << 20};
    size_t done = 0, k = 0;
    while (done < total) {
        size_t n = sizes[k++ % (sizeof(sizes) / sizeof(sizes[0]))];
        if (n > total - done)
            n = total - done;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)('a' + (x >> 16) % 26);
        }
        write_all(1, buf, n);
        done += n;
        if (k % 50 == 0)
            fprintf(stderr, "progress %zu\n", done);
    }
    fprintf(stderr, "done %zu\n", done);
    return 0;
}
