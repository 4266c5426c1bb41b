/* badsyscall.c: calls a syscall number Linux does not have: it gets ENOSYS and says so. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    long r = syscall(999, 1, 2, 3);
    printf("syscall(999) = %ld, errno = %s\n", r, errno == ENOSYS ? "ENOSYS" : strerror(errno));
    return r == -1 && errno == ENOSYS ? 0 : 1;
}
