/* getppid_loop.c: the cost of one syscall round trip: N calls of getppid(), ns per call, through
 * the C library's wrapper (argv[2] == "raw": through syscall(2) instead). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int raw = argc > 2 && argv[2][0] == 'r';
    for (long i = 0; i < n; i++)
        if (raw)
            syscall(SYS_getppid);
        else
            getppid();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
    printf("%.1f\n", ns);
    return 0;
}
