/* proc_bench.c: what making a process costs, timed inside the program (an enclave's launch is
 * not in the numbers). Each mode prints "SECONDS CHECK".
 *   proc_bench fork N [MIB]   N times: fork, the child _exits, the parent waits; with MIB, the
 *                             parent first touches MIB MiB of memory (what fork copies)
 *   proc_bench vfork N        N times: vfork, execve of this program's noop, wait
 *   proc_bench spawn N        N times: posix_spawn of this program's noop, wait
 *   proc_bench noop           exits 0 at once (what vfork and spawn run) */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int reap(pid_t pid)
{
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "proc_bench: a child failed\n");
        exit(1);
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "noop") == 0)
        return 0;
    if (argc < 3) {
        fprintf(stderr, "usage: proc_bench fork|vfork|spawn N [MIB] | noop\n");
        return 2;
    }
    long n = atol(argv[2]), done = 0;
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len <= 0)
        return 2;
    self[len] = 0;
    char *cargv[] = {self, "noop", NULL};
    if (strcmp(argv[1], "fork") == 0 && argc > 3) {
        size_t bytes = (size_t)atol(argv[3]) << 20;
        char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return 2;
        memset(m, 1, bytes);
    }
    double t0 = now();
    for (long i = 0; i < n; i++) {
        pid_t pid;
        if (strcmp(argv[1], "fork") == 0) {
            pid = fork();
            if (pid == 0)
                _exit(0);
        } else if (strcmp(argv[1], "vfork") == 0) {
            pid = vfork();
            if (pid == 0) {
                execve(self, cargv, environ);
                _exit(127);
            }
        } else if (posix_spawn(&pid, self, NULL, NULL, cargv, environ) != 0) {
            pid = -1;
        }
        done += reap(pid);
    }
    printf("%.6f %ld\n", now() - t0, done);
    return 0;
}
