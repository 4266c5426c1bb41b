/* mallocstress.c: a malloc-heavy workload (small and large blocks, realloc, free in random
 * order) that checks every block's contents and prints a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 200000;
    static unsigned char *ptr[SLOTS];
    static size_t len[SLOTS];
    static unsigned char tag[SLOTS];
    uint64_t sum = 0;
    for (long r = 0; r < rounds; r++) {
        size_t i = next() % SLOTS;
        if (ptr[i]) {
            for (size_t k = 0; k < len[i]; k += 997)
                if (ptr[i][k] != tag[i]) {
                    printf("corrupted block %zu\n", i);
                    return 1;
                }
            sum += len[i] + ptr[i][len[i] - 1];
            if (next() % 4 == 0) {
                size_t nl = 1 + next() % ((next() % 16 == 0) ? 300000 : 2000);
                unsigned char *p = realloc(ptr[i], nl);
                if (!p)
                    return 2;
                if (nl > len[i])
                    memset(p + len[i], tag[i], nl - len[i]);
                ptr[i] = p;
                len[i] = nl;
                continue;
            }
            free(ptr[i]);
            ptr[i] = NULL;
            continue;
        }
        len[i] = 1 + next() % ((next() % 64 == 0) ? 400000 : 3000);
        tag[i] = (unsigned char)next();
        ptr[i] = malloc(len[i]);
        if (!ptr[i])
            return 3;
        memset(ptr[i], tag[i], len[i]);
    }
    for (size_t i = 0; i < SLOTS; i++)
        free(ptr[i]);
    printf("rounds=%ld checksum=%llu\n", rounds, (unsigned long long)sum);
    return 0;
}
