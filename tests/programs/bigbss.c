/* bigbss.c: needs 96 MiB of zero-initialised memory just to load (a large .bss): too big for a
 * 64 MiB enclave, which must refuse it before it starts. */
#include <stdio.h>

char big[96 << 20]; /* external: the compiler must keep all of it */

int main(void)
{
    big[sizeof(big) - 1] = 1;
    printf("%d\n", big[sizeof(big) - 1]);
    return 0;
}
