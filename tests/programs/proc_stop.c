/* proc_stop.c: job control. SIGSTOP stops a process (every thread of it) until SIGCONT; its
 * parent hears of both through SIGCHLD (CLD_STOPPED, CLD_CONTINUED; none with SA_NOCLDSTOP),
 * wait4's WUNTRACED and WCONTINUED and waitid's WSTOPPED, WCONTINUED and WNOWAIT; /proc says
 * T; SIGKILL ends a stopped process; a handled SIGTSTP does not stop. Prints facts, never pids,
 * so a native run and an enclave run must print the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_chld_code, g_chld_status, g_chld_count;

static void on_chld(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    g_chld_code = si->si_code;
    g_chld_status = si->si_status;
    g_chld_count++;
}

static void on_tstp(int sig)
{
    (void)sig;
    write(1, "the child's SIGTSTP handler ran\n", 32);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static const char *code_name(int code)
{
    return code == CLD_STOPPED     ? "CLD_STOPPED"
           : code == CLD_CONTINUED ? "CLD_CONTINUED"
           : code == CLD_EXITED    ? "CLD_EXITED"
           : code == CLD_KILLED    ? "CLD_KILLED"
                                   : "other";
}

static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *close_paren = strrchr(buf, ')');
    return close_paren && close_paren[1] == ' ' ? close_paren[2] : '?';
}

static volatile unsigned long *g_counter;

static void *spin(void *arg)
{
    (void)arg;
    for (;;)
        (*g_counter)++;
    return NULL;
}

/* A child that stops itself, then writes a byte and spins in a second thread until killed. */
static pid_t stopping_child(int out)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, spin, NULL);
        sleep_ms(50);
        kill(getpid(), SIGSTOP);
        write(out, "x", 1);
        for (;;)
            pause();
    }
    return pid;
}

static int readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    g_counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);

    int p[2];
    pipe(p);
    pid_t pid = stopping_child(p[1]);
    int st;
    pid_t r = waitpid(pid, &st, WUNTRACED);
    printf("waitpid WUNTRACED: the child %s, stopped %d by %s\n", r == pid ? "reported" : "not",
           WIFSTOPPED(st), WSTOPSIG(st) == SIGSTOP ? "SIGSTOP" : "something else");
    sleep_ms(100);
    printf("SIGCHLD: %s, status SIGSTOP %d\n", code_name(g_chld_code), g_chld_status == SIGSTOP);
    printf("/proc/<pid>/stat state: %c\n", proc_state(pid));
    unsigned long c1 = *g_counter;
    sleep_ms(300);
    printf("its other thread is stopped too: %s\n", *g_counter == c1 ? "yes" : "no");
    printf("it wrote nothing while stopped: %s\n", readable(p[0], 200) ? "no" : "yes");
    printf("waitpid WUNTRACED|WNOHANG again: %d (reported once)\n",
           (int)waitpid(pid, &st, WUNTRACED | WNOHANG));

    kill(pid, SIGCONT);
    r = waitpid(pid, &st, WCONTINUED);
    printf("waitpid WCONTINUED: the child %s, continued %d\n", r == pid ? "reported" : "not",
           WIFCONTINUED(st));
    char c;
    printf("after SIGCONT it wrote: %s\n", read(p[0], &c, 1) == 1 ? "yes" : "no");
    sleep_ms(100);
    printf("SIGCHLD: %s, status SIGCONT %d\n", code_name(g_chld_code), g_chld_status == SIGCONT);
    c1 = *g_counter;
    sleep_ms(100);
    printf("its other thread runs again: %s\n", *g_counter != c1 ? "yes" : "no");

    /* waitid: WNOWAIT leaves the news for the next wait */
    kill(pid, SIGSTOP);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    int e = waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOWAIT);
    printf("waitid WSTOPPED|WNOWAIT: %d %s status SIGSTOP %d\n", e, code_name(si.si_code),
           si.si_status == SIGSTOP);
    memset(&si, 0, sizeof(si));
    e = waitid(P_PID, (id_t)pid, &si, WSTOPPED);
    printf("waitid WSTOPPED: %d %s, the same child %d\n", e, code_name(si.si_code),
           si.si_pid == pid);
    memset(&si, 0, sizeof(si));
    e = waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOHANG);
    printf("waitid WSTOPPED|WNOHANG once heard: %d, si_pid zero %d\n", e, si.si_pid == 0);

    /* SIGKILL ends a stopped process */
    kill(pid, SIGKILL);
    r = waitpid(pid, &st, 0);
    printf("SIGKILL to the stopped child: %s\n",
           r == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "killed by SIGKILL"
                                                                  : "something else");
    close(p[0]);
    close(p[1]);

    /* SA_NOCLDSTOP: no SIGCHLD when a child stops, wait still sees it */
    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    g_chld_count = 0;
    pid = fork();
    if (pid == 0) {
        raise(SIGSTOP);
        _exit(4);
    }
    r = waitpid(pid, &st, WUNTRACED);
    sleep_ms(100);
    printf("SA_NOCLDSTOP: stopped %d, SIGCHLDs %d\n", r == pid && WIFSTOPPED(st),
           (int)g_chld_count);
    kill(pid, SIGCONT);
    r = waitpid(pid, &st, 0);
    printf("continued, it exits: %d\n", r == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    /* a handled SIGTSTP runs its handler and stops nothing */
    pid = fork();
    if (pid == 0) {
        signal(SIGTSTP, on_tstp);
        raise(SIGTSTP);
        _exit(5);
    }
    r = waitpid(pid, &st, WUNTRACED);
    printf("a handled SIGTSTP: %s\n", WIFEXITED(st)    ? "the child exited"
                                      : WIFSTOPPED(st) ? "stopped"
                                                       : "other");
    return 0;
}
