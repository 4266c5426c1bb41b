/* main.c: prints results computed by util.c's functions. */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 10;
    for (unsigned i = 0; i <= n; i++)
        printf("fib(%u) = %lu\n", i, fib(i));
    printf("hypotenuse(3, 4) = %.1f\n", hypotenuse(3, 4));
    return 0;
}
