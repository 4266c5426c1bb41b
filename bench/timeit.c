/* timeit.c: runs a command N times and prints the median and the 90th percentile of its wall
 * time in milliseconds. Usage: timeit N COMMAND [ARGS...] (stdin, stdout, stderr: /dev/null). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: timeit N COMMAND [ARGS...]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    double *ms = calloc((size_t)n, sizeof(double));
    for (int i = 0; i < n; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open("/dev/null", O_RDWR);
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "timeit: %s failed (status %d)\n", argv[2], st);
            return 1;
        }
        ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    }
    qsort(ms, (size_t)n, sizeof(double), cmp);
    printf("%.3f %.3f\n", ms[n / 2], ms[(n * 9) / 10]);
    return 0;
}
