/* proc_ids.c: what processes see of each other and who they are: /proc/<pid> of another
 * process with its state (R, S, Z), FIFOs between processes, and identities (the set*id family,
 * then what an unprivileged process may no longer do). Run as root; prints facts, never pids, so
 * a native run and an enclave run must print the same.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err_name(int e)
{
    switch (e) {
    case 0:
        return "ok";
    case EPERM:
        return "EPERM";
    case EACCES:
        return "EACCES";
    case ENOENT:
        return "ENOENT";
    case ENXIO:
        return "ENXIO";
    case ESRCH:
        return "ESRCH";
    case ELOOP:
        return "ELOOP";
    default:
        return strerror(e);
    }
}

static void report(const char *what, int rc)
{
    printf("%-44s: %s\n", what, rc < 0 ? err_name(errno) : "ok");
}

/* Reads a whole small file; "" when it cannot be read. */
static const char *slurp(const char *path)
{
    static char buf[8192];
    buf[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
    return buf;
}

/* The state letter in /proc/<pid>/stat (after the ")" that ends the name). */
static char state_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    const char *s = strrchr(slurp(path), ')');
    return s && s[1] == ' ' ? s[2] : '?';
}

/* Waits up to 5 s for pid to reach state want. */
static char wait_state(pid_t pid, char want)
{
    char s = '?';
    for (int i = 0; i < 500 && (s = state_of(pid)) != want; i++)
        usleep(10000);
    return s;
}

static const char *status_line(pid_t pid, const char *key)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    const char *s = slurp(path);
    static char line[256];
    line[0] = 0;
    const char *p = strstr(s, key);
    if (p) {
        size_t n = strcspn(p, "\n");
        snprintf(line, sizeof(line), "%.*s", (int)n, p);
    }
    return line;
}

static bool in_proc_listing(pid_t pid)
{
    DIR *d = opendir("/proc");
    char name[32];
    snprintf(name, sizeof(name), "%d", pid);
    bool found = false;
    for (struct dirent *e; d && (e = readdir(d));)
        found |= strcmp(e->d_name, name) == 0;
    if (d)
        closedir(d);
    return found;
}

static void other_process(void)
{
    int p[2];
    if (pipe(p))
        return;
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1); /* sleeps until the parent writes */
        _exit(3);
    }
    close(p[0]);
    printf("my own state                                : %c\n", state_of(getpid()));
    printf("a child blocked in read is                  : %c\n", wait_state(child, 'S'));
    printf("its status names its parent                 : %s\n",
           atoi(status_line(child, "PPid:") + 5) == getpid() ? "yes" : "no");
    char path[64], mine[4096] = "", its[4096] = "";
    snprintf(path, sizeof(path), "/proc/%d/exe", child);
    readlink("/proc/self/exe", mine, sizeof(mine) - 1);
    readlink(path, its, sizeof(its) - 1);
    printf("its exe is this program                     : %s\n",
           *its && strcmp(mine, its) == 0 ? "yes" : "no");
    snprintf(path, sizeof(path), "/proc/%d/cmdline", child);
    printf("its cmdline starts with argv[0]             : %s\n",
           strstr(slurp(path), "proc_ids") ? "yes" : "no");
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", child, p[0]);
    char target[256] = "";
    readlink(path, target, sizeof(target) - 1);
    printf("its fd of the pipe's read end               : %s\n",
           strncmp(target, "pipe:[", 6) == 0 ? "a pipe" : target);
    printf("/proc lists it                              : %s\n",
           in_proc_listing(child) ? "yes" : "no");
    int q[2];
    pipe(q); /* a pipe of its own: the child reads from p */
    char self_fd[64];
    snprintf(self_fd, sizeof(self_fd), "/proc/self/fd/%d", q[1]);
    report("open fd/N of a pipe with O_NOFOLLOW", open(self_fd, O_RDONLY | O_NOFOLLOW));
    int again = open(self_fd, O_RDONLY); /* the write end, opened again for reading */
    write(q[1], "y", 1);
    char got = 0;
    read(again, &got, 1);
    printf("fd/N of a write end opened for reading reads: %c\n", got);
    close(again);
    close(q[0]);
    close(q[1]);
    printf("/proc/self is me                            : %s\n",
           atoi(status_line(getpid(), "Pid:") + 4) == getpid() ? "yes" : "no");
    write(p[1], "x", 1);
    printf("once it has exited, not reaped              : %c\n", wait_state(child, 'Z'));
    int st;
    waitpid(child, &st, 0);
    snprintf(path, sizeof(path), "/proc/%d", child);
    struct stat sb;
    report("once reaped, its directory", stat(path, &sb));
    close(p[1]);
}

static void fifos(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/fifo", dir);
    report("mkfifo", mkfifo(path, 0600));
    struct stat sb;
    printf("it is a FIFO                                : %s\n",
           stat(path, &sb) == 0 && S_ISFIFO(sb.st_mode) ? "yes" : "no");
    report("open for writing, O_NONBLOCK, no reader", open(path, O_WRONLY | O_NONBLOCK));
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    report("open for reading, O_NONBLOCK", rd);
    char buf[64];
    printf("read with no writer                         : %zd\n", read(rd, buf, sizeof(buf)));
    struct pollfd pfd = {rd, POLLIN, 0};
    printf("poll before any writer came                 : %d revents %#x\n", poll(&pfd, 1, 0),
           pfd.revents);
    close(rd);
    pid_t child = fork();
    if (child == 0) {
        int wr = open(path, O_WRONLY); /* waits for the parent to open for reading */
        write(wr, "through the fifo", 16);
        _exit(wr >= 0 ? 0 : 1);
    }
    rd = open(path, O_RDONLY); /* waits for the child to open for writing */
    ssize_t n, total = 0;
    while ((n = read(rd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
        total += n;
    buf[total] = 0;
    printf("the child wrote                             : %s\n", buf);
    int st;
    waitpid(child, &st, 0);
    printf("and exited                                  : %d\n", WEXITSTATUS(st));
    close(rd);
    int rw = open(path, O_RDWR); /* both ends at once: never waits */
    write(rw, "rw", 2);
    n = read(rw, buf, sizeof(buf));
    printf("O_RDWR reads its own write                  : %zd bytes\n", n);
    close(rw);
    unlink(path);
}

static void identities(const char *dir)
{
    char secret[256], theirs[256], mine[256], sub[256];
    snprintf(secret, sizeof(secret), "%s/secret", dir);
    snprintf(theirs, sizeof(theirs), "%s/roots", dir);
    snprintf(mine, sizeof(mine), "%s/mine", dir);
    snprintf(sub, sizeof(sub), "%s/private", dir);
    close(open(secret, O_CREAT | O_WRONLY, 0600));
    close(open(theirs, O_CREAT | O_WRONLY, 0644));
    mkdir(sub, 0700);
    chmod(dir, 01777); /* a sticky, world-writable directory, as /tmp is */
    pid_t child = fork();
    if (child == 0) {
        report("setgroups(0)", setgroups(0, NULL));
        report("setgid(65534)", setgid(65534));
        report("setresuid(65534, 65534, 0)", setresuid(65534, 65534, 0));
        uid_t r, e, s;
        getresuid(&r, &e, &s);
        printf("ids                                         : %u %u %u\n", r, e, s);
        report("seteuid(0) (the saved id)", seteuid(0));
        report("setuid(65534) as root again", setuid(65534));
        getresuid(&r, &e, &s);
        printf("ids                                         : %u %u %u\n", r, e, s);
        report("setuid(0)", setuid(0));
        printf("%-44s: %s\n", "/proc/self/status", status_line(getpid(), "Uid:"));
        report("list my own /proc/self/fd", open("/proc/self/fd", O_RDONLY | O_DIRECTORY));
        report("open root's 0600 file", open(secret, O_RDONLY));
        report("open root's 0644 file for reading", open(theirs, O_RDONLY));
        report("open it for writing", open(theirs, O_WRONLY));
        report("list root's 0700 directory", open(sub, O_RDONLY | O_DIRECTORY));
        report("create a file in the sticky directory", open(mine, O_CREAT | O_WRONLY, 0600));
        struct stat sb;
        stat(mine, &sb);
        printf("it is mine                                  : %s\n",
               sb.st_uid == 65534 && sb.st_gid == 65534 ? "yes" : "no");
        report("remove root's file from it", unlink(theirs));
        report("remove my own", unlink(mine));
        report("truncate root's 0644 file", truncate(theirs, 0));
        report("chdir into root's 0700 directory", chdir(sub));
        siginfo_t si = {0};
        si.si_code = SI_QUEUE;
        report("sigqueue a signal to root's process",
               (int)syscall(SYS_rt_sigqueueinfo, getppid(), 0, &si));
        report("chmod root's file", chmod(theirs, 0666));
        report("chown it", chown(theirs, 65534, 65534));
        report("kill(parent, 0)", kill(getppid(), 0));
        report("kill(self, 0)", kill(getpid(), 0));
        report("setgroups as nobody", setgroups(0, NULL));
        _exit(0);
    }
    int st;
    waitpid(child, &st, 0);
    printf("the unprivileged child exited               : %d\n", WEXITSTATUS(st));
    report("root removes its file", unlink(theirs));
    unlink(secret);
    rmdir(sub);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/proc_ids.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    other_process();
    fifos(dir);
    identities(dir);
    rmdir(dir);
    return 0;
}
