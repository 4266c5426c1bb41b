/* args.c: prints its arguments and environment, so both can be compared with a native run. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) /* argv[0] is the path as typed: compared separately */
        printf("argv[%d]=[%s]\n", i, argv[i]);
    int n = 0;
    for (char **e = environ; *e; e++)
        printf("env[%d]=[%s]\n", n++, *e);
    printf("envc=%d\n", n);
    return 0;
}
