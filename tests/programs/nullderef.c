/* nullderef.c (must fail): writes through a NULL pointer: killed by SIGSEGV (status 139). */
#include <stdio.h>

int main(void)
{
    puts("before");
    fflush(stdout);
    *(volatile int *)0 = 1;
    puts("after");
    return 0;
}
