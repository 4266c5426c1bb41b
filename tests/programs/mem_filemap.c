/* mem_filemap.c: mappings of files as Linux has them: a MAP_SHARED mapping is the file (writes
 * through it are read() back, and other mappings, other processes and a program run by execve
 * see them), a page past the file's end is SIGBUS with si_code BUS_ADRERR, the tail of the last
 * page reads as zeros; and the memory calls whose answers depend on what a mapping is (mprotect
 * of a read-only shared file, MADV_DONTNEED on locked memory, MADV_WIPEONFORK, msync on locked
 * memory, MAP_SHARED_VALIDATE, VmLck). Prints facts, never addresses, so that a native run and
 * an enclave run must print the same.
 *
 *   mem_filemap              every check
 *   mem_filemap child PATH   (run by execve) maps PATH and writes a message into it
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static sigjmp_buf g_jump;
static volatile int g_sig, g_code;
static void *volatile g_addr;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    g_sig = sig;
    g_code = si->si_code;
    g_addr = si->si_addr;
    siglongjmp(g_jump, 1);
}

/* Touches *p (a read, or a write of v): what happened. */
static const char *touch(volatile char *p, int write, char v)
{
    g_sig = 0;
    if (sigsetjmp(g_jump, 1) == 0) {
        if (write)
            *p = v;
        else
            (void)*p;
        return "ok";
    }
    static char buf[64];
    snprintf(buf, sizeof(buf), "%s code %d at the address: %s",
             g_sig == SIGBUS    ? "SIGBUS"
             : g_sig == SIGSEGV ? "SIGSEGV"
                                : "signal",
             g_code, g_addr == (void *)p ? "yes" : "no");
    return buf;
}

static const char *err_name(long rc)
{
    if (rc >= 0)
        return "ok";
    switch (errno) {
    case EINVAL:
        return "EINVAL";
    case EACCES:
        return "EACCES";
    case EBUSY:
        return "EBUSY";
    case EBADF:
        return "EBADF";
    case EOPNOTSUPP:
        return "EOPNOTSUPP";
    default:
        return strerror(errno);
    }
}

static int child_writes(const char *path)
{
    int fd = open(path, O_RDWR);
    char *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return 1;
    memcpy(m + 100, "written after execve", 20);
    return 0;
}

static void shared_file(const char *path, const char *self)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    char buf[64];
    memset(buf, 'f', sizeof(buf));
    for (int i = 0; i < 2 * PG + 8; i += (int)sizeof(buf))
        write(fd, buf, sizeof(buf)); /* 2 pages and 64 bytes */
    char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (a == MAP_FAILED || b == MAP_FAILED) {
        printf("mmap failed: %s\n", strerror(errno));
        return;
    }
    a[10] = 'A';
    pread(fd, buf, 1, 10);
    printf("a store through the mapping, read()        : %c\n", buf[0]);
    pwrite(fd, "W", 1, PG + 5);
    printf("a write(), seen in the mapping             : %c\n", a[PG + 5]);
    printf("seen in a second mapping of the file       : %c %c\n", b[10], b[PG + 5]);
    printf("the last page past the end reads           : %d\n", a[2 * PG + 100]);
    a[2 * PG + 100] = 'x'; /* allowed, but not part of the file */
    off_t size = lseek(fd, 0, SEEK_END);
    printf("the file's size after it                   : %ld\n", (long)size);
    printf("a read of the page past the end            : %s\n", touch(a + 3 * PG, 0, 0));
    printf("a write there                              : %s\n", touch(a + 3 * PG + 8, 1, 'y'));
    ftruncate(fd, 4 * PG);
    printf("after the file grew, a write there         : %s\n", touch(a + 3 * PG + 8, 1, 'y'));
    pread(fd, buf, 1, 3 * PG + 8);
    printf("and read() sees it                         : %c\n", buf[0]);

    pid_t pid = fork();
    if (pid == 0) {
        b[200] = 'C'; /* the child's copy of the mapping is still the file */
        int fd2 = open(path, O_RDWR);
        char *c = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
        c[300] = 'N'; /* a mapping made in the child */
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("a forked child's stores, in the parent     : %c %c\n", a[200], a[300]);
    pid = fork();
    if (pid == 0) {
        execl(self, self, "child", path, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("a program run by execve wrote              : %.20s (status %d)\n", a + 100,
           WEXITSTATUS(st));
    printf("msync(MS_SYNC)                             : %s\n", err_name(msync(a, PG, MS_SYNC)));

    /* a futex word in the file, waited on through one mapping and woken through another */
    int *wa = (int *)(a + 2 * PG), *wb = (int *)(b + 2 * PG);
    *wa = 0;
    pid = fork();
    if (pid == 0) {
        long r = syscall(SYS_futex, wa, 0 /* FUTEX_WAIT */, 0, NULL, NULL, 0);
        _exit(r == 0 || *wa == 1 ? 0 : 1);
    }
    usleep(100000);
    __atomic_store_n(wb, 1, __ATOMIC_SEQ_CST);
    long woken = syscall(SYS_futex, wb, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
    waitpid(pid, &st, 0);
    printf("a futex wait through one mapping, woken through another: %ld, %d\n", woken,
           WEXITSTATUS(st));
    munmap(a, 4 * PG);
    munmap(b, 3 * PG);
    close(fd);

    fd = open(path, O_RDONLY);
    char *r = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    printf("mprotect(PROT_WRITE), file open read-only  : %s\n",
           err_name(mprotect(r, PG, PROT_READ | PROT_WRITE)));
    char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 3 * PG);
    printf("a private mapping: its first page          : %s\n", touch(p, 1, 'p'));
    printf("its page past the end                      : %s\n", touch(p + PG, 0, 0));
    munmap(r, PG);
    munmap(p, 2 * PG);
    close(fd);
}

/* A copy of this program written through a MAP_SHARED mapping, then run. */
static void run_mapped_copy(const char *self, const char *data)
{
    char copy[300];
    snprintf(copy, sizeof(copy), "%s.prog", data);
    int in = open(self, O_RDONLY), out = open(copy, O_RDWR | O_CREAT | O_TRUNC, 0755);
    off_t size = lseek(in, 0, SEEK_END);
    ftruncate(out, size);
    char *m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, out, 0);
    for (off_t done = 0; done < size;) {
        ssize_t n = pread(in, m + done, (size_t)(size - done), done);
        if (n <= 0)
            break;
        done += n;
    }
    munmap(m, (size_t)size);
    close(in);
    close(out);
    pid_t pid = fork();
    if (pid == 0) {
        execl(copy, copy, "child", data, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("a program written through a shared mapping runs: %s %d\n",
           WIFEXITED(st) ? "exited" : "killed", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    unlink(copy);
}

static const char *vmlck(void)
{
    static char line[64];
    FILE *f = fopen("/proc/self/status", "r");
    line[0] = 0;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmLck:", 6) == 0)
            break;
    if (f)
        fclose(f);
    line[strcspn(line, "\n")] = 0;
    return line;
}

static void advice(const char *path)
{
    int fd = open(path, O_RDWR);
    char *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(m, 1, 4 * PG);
    printf("mlock                                      : %s\n", err_name(mlock(m, 2 * PG)));
    printf("%-43s: %s\n", "/proc/self/status", vmlck());
    printf("MADV_DONTNEED on locked memory             : %s\n",
           err_name(madvise(m, PG, MADV_DONTNEED)));
    printf("msync(MS_INVALIDATE) on locked memory      : %s\n",
           err_name(msync(m, PG, MS_INVALIDATE)));
    printf("munlock                                    : %s\n", err_name(munlock(m, 2 * PG)));
    printf("%-43s: %s\n", "/proc/self/status", vmlck());
    printf("MADV_WIPEONFORK                            : %s\n",
           err_name(madvise(m + 2 * PG, PG, MADV_WIPEONFORK)));
    pid_t pid = fork();
    if (pid == 0)
        _exit(m[2 * PG] * 10 + m[3 * PG]); /* 0 and 1: the wiped page and its neighbour */
    int st;
    waitpid(pid, &st, 0);
    printf("a child sees the wiped page, the next one  : %d\n", WEXITSTATUS(st));
    printf("the parent keeps its bytes                 : %d\n", m[2 * PG]);
    char *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("MADV_WIPEONFORK on a shared mapping        : %s\n",
           err_name(madvise(s, PG, MADV_WIPEONFORK)));
    printf("MADV_FREE on a shared mapping              : %s\n",
           err_name(madvise(s, PG, MADV_FREE)));
    printf("advice 1212                                : %s\n", err_name(madvise(m, PG, 1212)));
    printf("MAP_SHARED_VALIDATE with an unknown flag   : %s\n",
           err_name((long)mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x400000, fd, 0)));
    int closed = dup(fd);
    close(closed);
    printf("mmap of a closed descriptor, length 0      : %s\n",
           err_name((long)mmap(NULL, 0, PROT_READ, MAP_SHARED, closed, 0)));
    munmap(m, 4 * PG);
    munmap(s, PG);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0)
        return child_writes(argv[2]);
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = 0;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[256];
    snprintf(path, sizeof(path), "%s/mem_filemap.%d", tmp, (int)getpid());
    shared_file(path, self);
    run_mapped_copy(self, path);
    advice(path);
    unlink(path);
    return 0;
}
