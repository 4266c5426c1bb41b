/* divzero.c (must fail): integer division by zero: SIGFPE (status 136). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    volatile int zero = argc - 1 - (argc > 1 ? atoi(argv[1]) : 0);
    puts("before");
    fflush(stdout);
    printf("%d\n", 100 / zero);
    return 0;
}
