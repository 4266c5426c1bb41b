/* ud2.c (must fail): executes an invalid opcode: killed by SIGILL (status 132). */
#include <stdio.h>

int main(void)
{
    puts("before");
    fflush(stdout);
    __asm__ volatile("ud2");
    puts("after");
    return 0;
}
