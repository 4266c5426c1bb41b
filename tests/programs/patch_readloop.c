/* patch_readloop.c: the cost of one read() of 4 KiB through the C library's wrapper (glibc's is
 * `xor %eax,%eax; syscall`, a site the enclave kernel patches through padding): N calls on
 * FILE, starting over at its end; prints ns per call. bench/run.sh compares it natively, in an
 * enclave, and in an enclave with --no-syscall-patch.
 *   patch_readloop FILE N */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: patch_readloop FILE N\n");
        return 2;
    }
    long n = atol(argv[2]);
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    static char buf[4096];
    long bytes = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        ssize_t got = read(fd, buf, sizeof(buf));
        if (got <= 0)
            lseek(fd, 0, SEEK_SET);
        else
            bytes += got;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
    printf("%.1f\n", ns);
    return bytes > 0 ? 0 : 1;
}
