/* proc_basic.c: processes: fork and its copy of memory, exit statuses and signals as wait sees
 * them, pipes between processes, vfork, posix_spawn and execve (of this same program), SIGCHLD,
 * process groups, zombies, O_CLOEXEC, and execve from a thread of a process that has others.
 * Prints facts, never pids or addresses, so a native run and an enclave run must print the same.
 *
 *   proc_basic                 every check
 *   proc_basic child N         (run by execve and posix_spawn) prints N and exits with it
 *   proc_basic fds A B         (run by execve) says whether descriptors A and B are open
 *   proc_basic script PATH ARG (run as a #! script's interpreter) prints what it was given
 *   proc_basic tid             (run by execve from a thread) says whether its tid is its pid
 *   proc_basic busy            (run by execve) writes a byte, then reads its input to the end
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int g_global = 1;
static char g_self[4096];
static volatile sig_atomic_t g_chld;

static void on_chld(int sig)
{
    (void)sig;
    g_chld++;
}

/* execve from a thread of a process that has others: one blocked in a read, one computing */
static int g_block[2];
static volatile int g_spin = 1;

static void *blocker(void *arg)
{
    (void)arg;
    char c;
    read(g_block[0], &c, 1); /* nobody writes */
    return NULL;
}

static void *spinner(void *arg)
{
    (void)arg;
    while (g_spin)
        ;
    return NULL;
}

static void *execer(void *arg)
{
    char **av = arg;
    execv(av[0], av);
    _exit(127);
}

static void exec_from_thread(char *self)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t a, b, c;
        pipe(g_block);
        pthread_create(&a, NULL, blocker, NULL);
        pthread_create(&b, NULL, spinner, NULL);
        usleep(50000); /* both running or blocked */
        char *av[] = {self, "tid", NULL};
        pthread_create(&c, NULL, execer, av);
        pthread_join(c, NULL);
        _exit(126); /* not reached: the execve replaced the process */
    }
    int st;
    waitpid(pid, &st, 0);
    printf("execve from a thread while others block and compute: %s %d\n",
           WIFEXITED(st) ? "exited" : "killed", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static void status(const char *what, int st)
{
    if (WIFEXITED(st))
        printf("%-40s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%-40s: killed by signal %d%s\n", what, WTERMSIG(st),
               WCOREDUMP(st) ? " (core)" : "");
    else
        printf("%-40s: status %#x\n", what, st);
}

/* Forks a child that runs fn, waits for it and prints how it ended. */
static void run_child(const char *what, void (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int st = 0;
    pid_t w = waitpid(pid, &st, 0);
    if (w != pid)
        printf("%-40s: waitpid gave %s\n", what, w < 0 ? strerror(errno) : "another child");
    else
        status(what, st);
}

static void exit_3(void)
{
    _exit(3);
}

static void kill_self(void)
{
    kill(getpid(), SIGKILL);
}

static void null_deref(void)
{
    *(volatile int *)0 = 1;
}

static void term_self(void)
{
    raise(SIGTERM);
}

static char *g_heap;

static void writes(void)
{
    g_global = 42;
    g_heap[0] = 'X';
    _exit(g_global);
}

/* A copy of this program at path (mode 0755), left open for writing: its descriptor. */
static int copy_self(char *path)
{
    int fd = mkstemp(path), in = open(g_self, O_RDONLY);
    char buf[65536];
    ssize_t n;
    while (fd >= 0 && in >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
        if (write(fd, buf, (size_t)n) != n)
            break;
    close(in);
    fchmod(fd, 0755);
    return fd;
}

static const char *errno_name(int ok)
{
    return ok ? "ok" : errno == ETXTBSY ? "ETXTBSY" : strerror(errno);
}

/* ETXTBSY: a program's file open for writing cannot be run, and while a program runs its file
 * cannot be opened for writing or truncated (Linux before 6.11 and again since 6.13). */
static void text_busy(void)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    snprintf(path, sizeof(path), "%s/proc_basic_copyXXXXXX", tmp);
    int fd = copy_self(path);
    if (fd < 0) {
        printf("a copy of the program: %s\n", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, path, "child", "9", (char *)NULL);
        _exit(errno == ETXTBSY ? 40 : 41);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("execve of a file open for writing: %s\n",
           WIFEXITED(st) && WEXITSTATUS(st) == 40 ? "ETXTBSY" : "something else");
    close(fd);

    int in[2], out[2];
    pipe(in);
    pipe(out);
    pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(path, path, "busy", (char *)NULL);
        _exit(42);
    }
    close(in[0]);
    close(out[1]);
    char c;
    int started = read(out[0], &c, 1) == 1;
    int w = open(path, O_WRONLY);
    printf("while it runs (started: %s), open for writing: %s", started ? "yes" : "no",
           errno_name(w >= 0));
    printf(", truncate: %s", errno_name(truncate(path, 0) == 0));
    int r = open(path, O_RDONLY);
    printf(", open for reading: %s\n", errno_name(r >= 0));
    close(w);
    close(r);
    close(in[1]); /* it reads to the end and exits */
    waitpid(pid, &st, 0);
    close(out[0]);
    w = open(path, O_WRONLY);
    printf("after it exited, open for writing: %s\n", errno_name(w >= 0));
    close(w);
    unlink(path);
}

/* runs in our memory as another process: stores into the parent's variable, exits 7 */
static int clone_vm_child(void *arg)
{
    *(volatile int *)arg = 42;
    return 7;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0) {
        printf("child run by exec says %s\n", argv[2]);
        return atoi(argv[2]);
    }
    if (argc == 2 && strcmp(argv[1], "tid") == 0) {
        printf("after execve from a thread: one thread, its id the pid: %s\n",
               syscall(SYS_gettid) == getpid() ? "yes" : "no");
        return 6;
    }
    if (argc == 2 && strcmp(argv[1], "busy") == 0) {
        char c = 'r';
        write(1, &c, 1);
        while (read(0, &c, 1) > 0)
            ;
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "fds") == 0) {
        int a = atoi(argv[2]), b = atoi(argv[3]);
        printf("after exec: O_CLOEXEC descriptor %s, plain descriptor %s\n",
               fcntl(a, F_GETFD) < 0 ? "closed" : "open",
               fcntl(b, F_GETFD) < 0 ? "closed" : "open");
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "script") == 0) {
        size_t n = strlen(argv[2]);
        printf("interpreter run for script %s with %s\n",
               n > 3 && strcmp(argv[2] + n - 3, ".sh") == 0 ? "*.sh" : argv[2], argv[3]);
        return 5;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* a killed child leaves no core file natively */
    ssize_t n = readlink("/proc/self/exe", g_self, sizeof(g_self) - 1);
    if (n <= 0) {
        perror("readlink /proc/self/exe");
        return 2;
    }
    g_self[n] = 0;

    /* no children yet */
    errno = 0;
    printf("wait with no children: %s\n", wait(NULL) < 0 && errno == ECHILD ? "ECHILD" : "?");

    /* fork: the child's writes stay in the child */
    g_heap = strdup("parent's");
    run_child("a child that writes its memory", writes);
    printf("the parent's global after: %d, its heap: %s\n", g_global, g_heap);

    /* how children end, as wait says */
    run_child("exit(3)", exit_3);
    run_child("SIGKILL to itself", kill_self);
    run_child("a NULL dereference", null_deref);
    run_child("raise(SIGTERM)", term_self);

    /* WNOHANG on a child still running, then a zombie that kill(0) still finds */
    int p1[2];
    pipe(p1);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(p1[1]);
        read(p1[0], &c, 1); /* until the parent closes its end */
        _exit(0);
    }
    close(p1[0]);
    int st;
    printf("WNOHANG while it runs: %d\n", (int)waitpid(pid, &st, WNOHANG));
    printf("the child is in our group: %s\n", getpgid(pid) == getpgrp() ? "yes" : "no");
    close(p1[1]);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
    printf("waitid WNOWAIT: code %s, status %d\n", si.si_code == CLD_EXITED ? "CLD_EXITED" : "?",
           si.si_status);
    printf("kill(zombie, 0): %d\n", kill(pid, 0));
    printf("reaped: %s\n", waitpid(pid, &st, 0) == pid ? "yes" : "no");
    errno = 0;
    printf("kill(reaped, 0): %s\n", kill(pid, 0) < 0 && errno == ESRCH ? "ESRCH" : "?");

    /* MAP_SHARED memory is the same memory in a child, anonymous or of a file in /tmp;
     * MAP_PRIVATE is a copy */
    int *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char shm[64];
    snprintf(shm, sizeof(shm), "/tmp/proc_basic.%d.shm", (int)getpid());
    int sfd = open(shm, O_RDWR | O_CREAT | O_EXCL, 0600);
    ftruncate(sfd, 4096);
    int *fshared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
    close(sfd);
    unlink(shm);
    shared[1024] = 1;
    pid = fork();
    if (pid == 0) {
        shared[0] = 41;
        shared[1024] += 1;
        fshared[7] = 43;
        priv[0] = 44;
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("after the child wrote: MAP_SHARED anonymous %d and %d, of a file %d, MAP_PRIVATE %d\n",
           shared[0], shared[1024], fshared[7], priv[0]);
    munmap(shared, 8192);
    munmap(priv, 4096);
    munmap(fshared, 4096);

    /* a pipe between two processes, and the child's parent */
    int p2[2];
    pipe(p2);
    pid_t me = getpid();
    pid = fork();
    if (pid == 0) {
        close(p2[1]);
        char buf[64] = {0};
        ssize_t got = 0, r;
        while ((r = read(p2[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
            got += r;
        printf("child read through the pipe: %s (parent %s)\n", buf,
               getppid() == me ? "is us" : "is another");
        _exit((int)got);
    }
    close(p2[0]);
    write(p2[1], "hello, ", 7);
    write(p2[1], "child", 5);
    close(p2[1]);
    waitpid(pid, &st, 0);
    status("the pipe reader", st);

    /* SIGCHLD */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);
    run_child("a child while SIGCHLD is caught", exit_3);
    printf("SIGCHLD handler ran: %d\n", (int)g_chld);
    signal(SIGCHLD, SIG_DFL);

    /* a process group of its own, and kill(-pgrp) */
    int p3[2];
    pipe(p3);
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        close(p3[0]);
        write(p3[1], getpgrp() == getpid() ? "y" : "n", 1);
        close(p3[1]);
        for (;;)
            pause();
    }
    close(p3[1]);
    char leader = 0;
    read(p3[0], &leader, 1);
    close(p3[0]);
    printf("child leads its own group: %c\n", leader);
    printf("kill(-pgrp, SIGTERM): %d\n", kill(-pid, SIGTERM));
    waitpid(pid, &st, 0);
    status("the group's member", st);

    /* vfork + execve of this program */
    char arg[] = "7";
    char *cargv[] = {g_self, "child", arg, NULL};
    pid = vfork();
    if (pid == 0) {
        execve(g_self, cargv, environ);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    status("vfork + execve", st);

    /* posix_spawn */
    char arg2[] = "9";
    char *sargv[] = {g_self, "child", arg2, NULL};
    if (posix_spawn(&pid, g_self, NULL, NULL, sargv, environ) == 0) {
        waitpid(pid, &st, 0);
        status("posix_spawn", st);
    } else {
        printf("posix_spawn failed\n");
    }
    int bad = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, sargv, environ);
    if (bad == 0) {
        waitpid(pid, &st, 0);
        status("posix_spawn of a missing program", st);
    } else {
        printf("posix_spawn of a missing program: %s\n", strerror(bad));
    }

    /* O_CLOEXEC across execve */
    int ce = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), plain = open("/proc/self/exe", O_RDONLY);
    char a[16], b[16];
    snprintf(a, sizeof(a), "%d", ce);
    snprintf(b, sizeof(b), "%d", plain);
    char *fargv[] = {g_self, "fds", a, b, NULL};
    pid = fork();
    if (pid == 0) {
        execve(g_self, fargv, environ);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    status("execve with descriptors", st);

    /* execve errors */
    errno = 0;
    char *nargv[] = {"x", NULL};
    printf("execve of a missing file: %s\n",
           execve("/nonexistent", nargv, environ) < 0 && errno == ENOENT ? "ENOENT" : "?");
    printf("execve of a directory: %s\n",
           execve("/", nargv, environ) < 0 && errno == EACCES ? "EACCES" : "?");
    /* a #! script whose interpreter is this program, with one argument */
    char script[64];
    snprintf(script, sizeof(script), "/tmp/proc_basic.%d.sh", (int)getpid());
    FILE *sf = fopen(script, "w");
    if (sf) {
        fprintf(sf, "#!%s script\n", g_self);
        fclose(sf);
        chmod(script, 0755);
        char *scargv[] = {script, "given", NULL};
        pid = fork();
        if (pid == 0) {
            execve(script, scargv, environ);
            _exit(127);
        }
        waitpid(pid, &st, 0);
        status("execve of a #! script", st);
        unlink(script);
    }

    exec_from_thread(g_self);
    text_busy();

    /* an alarm in a child that waits: the timer of a process that is not running fires */
    pid = fork();
    if (pid == 0) {
        alarm(1);
        for (;;)
            pause();
    }
    waitpid(pid, &st, 0);
    status("a child's alarm while it pauses", st);

    /* a futex word in MAP_SHARED memory: the child's FUTEX_WAKE reaches the waiting parent */
    int *fw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid = fork();
    if (pid == 0) {
        usleep(100000);
        __atomic_store_n(fw, 1, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, fw, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
        _exit(0);
    }
    int timed_out = 0;
    while (__atomic_load_n(fw, __ATOMIC_SEQ_CST) == 0) {
        struct timespec five = {5, 0};
        if (syscall(SYS_futex, fw, 0 /* FUTEX_WAIT */, 0, &five, NULL, 0) < 0 &&
            errno == ETIMEDOUT) {
            timed_out = 1;
            break;
        }
    }
    waitpid(pid, &st, 0);
    printf("a futex in MAP_SHARED memory, woken from a child: %s\n",
           timed_out ? "timed out" : "yes");
    munmap(fw, 4096);

    /* CLONE_PARENT: a child makes a sibling, which is our child */
    int p4[2];
    pipe(p4);
    pid_t top = getpid();
    pid = fork();
    if (pid == 0) {
        long g = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        if (g == 0) {
            char c = getppid() == top ? 'y' : 'n';
            write(p4[1], &c, 1);
            _exit(0);
        }
        _exit(g > 0 ? 0 : 1);
    }
    close(p4[1]);
    char sib = 0;
    read(p4[0], &sib, 1);
    close(p4[0]);
    int reaped = 0;
    while (waitpid(-1, &st, 0) > 0)
        reaped++;
    printf("CLONE_PARENT: the new process's parent is us: %c, children reaped: %d\n", sib, reaped);

    /* CLONE_VM without CLONE_VFORK: a process in our address space, running beside us */
    static char vm_stack[65536];
    static volatile int vm_seen;
    static pid_t vm_ptid;
    vm_seen = 0;
    pid = clone(clone_vm_child, vm_stack + sizeof(vm_stack),
                CLONE_VM | CLONE_PARENT_SETTID | SIGCHLD, (void *)&vm_seen, &vm_ptid);
    waitpid(pid, &st, 0);
    printf("CLONE_VM process: its store seen %d, CLONE_PARENT_SETTID %d, ", vm_seen == 42,
           vm_ptid == pid);
    status("status", st);

    /* the alternate signal stack goes with fork */
    static char alt[65536];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt)}, got;
    sigaltstack(&ss, NULL);
    pid = fork();
    if (pid == 0) {
        sigaltstack(NULL, &got);
        _exit(got.ss_sp == alt && got.ss_size == sizeof(alt) ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    status("a child with the parent's sigaltstack", st);

    errno = 0;
    printf("wait after everything: %s\n", wait(NULL) < 0 && errno == ECHILD ? "ECHILD" : "?");
    return 0;
}
