/* ticker.c: prints "tick N" every INTERVAL_MS milliseconds (default 200), COUNT times (default:
 * forever). A long-running enclave with a console, for tests/integration/lifecycle.bats. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    long interval = argc > 1 ? atol(argv[1]) : 200, count = argc > 2 ? atol(argv[2]) : -1;
    struct timespec ts = {interval / 1000, (interval % 1000) * 1000000};
    for (long i = 0; count < 0 || i < count; i++) {
        printf("tick %ld\n", i);
        fflush(stdout);
        nanosleep(&ts, NULL);
    }
    return 0;
}
