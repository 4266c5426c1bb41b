/* pipe_bench.c: the cost of a pipe round trip (write n bytes, read them back) and of a poll of
 * a ready pipe, in ns per operation: the best of 7 batches of 20000. Not a differential test:
 * bench-style, its output is timings. Usage: pipe_bench [BYTES] */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 4096;
    static char buf[65536];
    if (n > sizeof(buf))
        n = sizeof(buf);
    int p[2];
    if (pipe(p))
        return 1;
    const int iters = 20000;
    double best_rt = 1e30, best_poll = 1e30;
    for (int batch = 0; batch < 7; batch++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++) {
            if (write(p[1], buf, n) != (ssize_t)n || read(p[0], buf, n) != (ssize_t)n)
                return 2;
        }
        double rt = (now_ns() - t0) / iters;
        write(p[1], buf, 1);
        struct pollfd f = {p[0], POLLIN, 0};
        t0 = now_ns();
        for (int i = 0; i < iters; i++)
            if (poll(&f, 1, 0) != 1)
                return 3;
        double pl = (now_ns() - t0) / iters;
        read(p[0], buf, 1);
        if (rt < best_rt)
            best_rt = rt;
        if (pl < best_poll)
            best_poll = pl;
    }
    printf("pipe round trip of %zu bytes: %.0f ns\npoll of a ready pipe: %.0f ns\n", n, best_rt,
           best_poll);
    return 0;
}
