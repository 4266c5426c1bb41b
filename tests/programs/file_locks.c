/* file_locks.c: advisory file locks between processes: POSIX record locks (owned by a process,
 * dropped when it closes any descriptor of the file or ends), open-file-description locks (owned
 * by an open file), flock locks (the same), waiting for a lock, F_GETLK's answer, and that flock
 * and record locks do not see each other. Prints facts, never pids, so that a native run and an
 * enclave run must print the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *res(int rc)
{
    if (rc >= 0)
        return "ok";
    return errno == EAGAIN   ? "EAGAIN"
           : errno == EACCES ? "EACCES"
           : errno == EBADF  ? "EBADF"
           : errno == EINVAL ? "EINVAL"
                             : strerror(errno);
}

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

/* F_GETLK (or F_OFD_GETLK) for a write lock on [start, start + len): what is in the way. */
static void show(const char *what, int fd, int cmd, off_t start, off_t len, pid_t owner)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) < 0) {
        printf("%-43s: %s\n", what, res(-1));
        return;
    }
    if (fl.l_type == F_UNLCK) {
        printf("%-43s: free\n", what);
        return;
    }
    printf("%-43s: %s lock at %ld, length %ld, pid %s\n", what,
           fl.l_type == F_WRLCK ? "write" : "read", (long)fl.l_start, (long)fl.l_len,
           fl.l_pid == owner ? "the owner's"
           : fl.l_pid == -1  ? "-1"
                             : "another");
}

/* Runs fn in a child and waits for it. */
static void in_child(void (*fn)(const char *, pid_t), const char *path)
{
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        fn(path, parent);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static void child_tries(const char *path, pid_t parent)
{
    int fd = open(path, O_RDWR);
    printf("child: write lock inside the parent's      : %s\n",
           res(lk(fd, F_SETLK, F_WRLCK, 50, 10)));
    show("child: F_GETLK there", fd, F_GETLK, 50, 10, parent);
    printf("child: read lock past it                   : %s\n",
           res(lk(fd, F_SETLK, F_RDLCK, 100, 100)));
    show("child: F_GETLK over both of the parent's", fd, F_GETLK, 5, 10, parent);
}

static void child_waits(const char *path, pid_t parent)
{
    (void)parent;
    int fd = open(path, O_RDWR);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = lk(fd, F_SETLKW, F_WRLCK, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("child: F_SETLKW on the whole file          : %s, after waiting: %s\n", res(rc),
           ms >= 50 ? "yes" : "no");
}

static void child_flock(const char *path, pid_t parent)
{
    (void)parent;
    int fd = open(path, O_RDWR);
    printf("child: flock LOCK_EX|LOCK_NB, own open     : %s\n", res(flock(fd, LOCK_EX | LOCK_NB)));
    printf("child: a record lock while flock is held   : %s\n",
           res(lk(fd, F_SETLK, F_WRLCK, 0, 0)));
}

static void child_locks_and_ends(const char *path, pid_t parent)
{
    (void)parent;
    int fd = open(path, O_RDWR);
    printf("child: takes a write lock and exits        : %s\n",
           res(lk(fd, F_SETLK, F_WRLCK, 0, 0)));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[256];
    snprintf(path, sizeof(path), "%s/file_locks.%d", tmp, (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    write(fd, "0123456789", 10);

    /* POSIX record locks */
    printf("write lock [0, 10)                         : %s\n",
           res(lk(fd, F_SETLK, F_WRLCK, 0, 10)));
    printf("write lock [10, 100) (merges with it)      : %s\n",
           res(lk(fd, F_SETLK, F_WRLCK, 10, 90)));
    show("own F_GETLK (never in its own way)", fd, F_GETLK, 0, 0, getpid());
    in_child(child_tries, path);
    int fd2 = open(path, O_RDONLY);
    close(fd2); /* any descriptor of the file: the process's locks on it go */
    in_child(child_tries, path);

    /* waiting */
    lk(fd, F_SETLK, F_RDLCK, 0, 0);
    pid_t pid = fork();
    if (pid == 0) {
        child_waits(path, 0);
        _exit(0);
    }
    usleep(200000);
    lk(fd, F_SETLK, F_UNLCK, 0, 0);
    waitpid(pid, NULL, 0);

    /* a lock goes with the process */
    in_child(child_locks_and_ends, path);
    printf("then the parent locks the whole file       : %s\n",
           res(lk(fd, F_SETLK, F_WRLCK, 0, 0)));
    lk(fd, F_SETLK, F_UNLCK, 0, 0);

    /* open-file-description locks: two opens in one process are two owners */
    int a = open(path, O_RDWR), b = open(path, O_RDWR);
    printf("OFD write lock through one open            : %s\n",
           res(lk(a, F_OFD_SETLK, F_WRLCK, 0, 10)));
    printf("OFD write lock through another             : %s\n",
           res(lk(b, F_OFD_SETLK, F_WRLCK, 5, 10)));
    show("F_OFD_GETLK through the other", b, F_OFD_GETLK, 5, 10, getpid());
    printf("a POSIX lock of this process there         : %s\n",
           res(lk(fd, F_SETLK, F_WRLCK, 0, 1)));
    close(a);
    printf("after that open is closed                  : %s\n",
           res(lk(b, F_OFD_SETLK, F_WRLCK, 5, 10)));
    close(b);

    /* flock: owned by the open file, shared with a forked child through it */
    int c = open(path, O_RDWR);
    printf("flock LOCK_EX                              : %s\n", res(flock(c, LOCK_EX)));
    in_child(child_flock, path);
    pid = fork();
    if (pid == 0) {
        printf("child: flock LOCK_EX|LOCK_NB, inherited fd : %s\n",
               res(flock(c, LOCK_EX | LOCK_NB)));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    close(c);
    in_child(child_flock, path);

    /* bad requests */
    struct flock bad = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = -5, .l_len = 1};
    printf("a lock before the start of the file        : %s\n", res(fcntl(fd, F_SETLK, &bad)));
    int ro = open(path, O_RDONLY);
    printf("a write lock through a read-only open      : %s\n",
           res(lk(ro, F_SETLK, F_WRLCK, 0, 1)));
    printf("flock with no operation                    : %s\n", res(flock(fd, 0)));
    close(ro);
    close(fd);
    unlink(path);
    return 0;
}
