/* hello.c: the smallest program: stdout through stdio and a raw write to stderr. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("hello from %s\n", "an enclave");
    puts("second line");
    write(2, "to stderr\n", 10);
    return 0;
}
