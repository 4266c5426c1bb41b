/* wildwrite.c (must fail): writes far outside any memory it owns: SIGSEGV (status 139). */
#include <stdio.h>

int main(void)
{
    puts("before");
    fflush(stdout);
    *(volatile long *)0x00007f1234560000ul = 42;
    puts("after");
    return 0;
}
