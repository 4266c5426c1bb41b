/* sig_die.c MODE: ways a signal ends a program; the exit status must be 128 + the signal, as
 * natively. The output before the death must arrive. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int *volatile g_bad = (volatile int *)16;

static void h_fault_again(int sig)
{
    (void)sig;
    *g_bad = 1; /* a fault in the SIGSEGV handler: SIGSEGV is blocked, so death */
}

static void h_return(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "term";
    printf("mode %s\n", m);
    fflush(stdout);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    if (!strcmp(m, "term")) {
        raise(SIGTERM);
    } else if (!strcmp(m, "kill9")) {
        kill(getpid(), SIGKILL);
    } else if (!strcmp(m, "usr1")) {
        syscall(SYS_kill, getpid(), SIGUSR1);
    } else if (!strcmp(m, "rt")) {
        raise(SIGRTMIN + 3);
    } else if (!strcmp(m, "abort")) {
        abort();
    } else if (!strcmp(m, "abort-handler")) {
        sa.sa_handler = h_return; /* abort still ends the program after the handler returns */
        sigaction(SIGABRT, &sa, NULL);
        abort();
    } else if (!strcmp(m, "segv-blocked")) {
        sa.sa_handler = h_return;
        sigaction(SIGSEGV, &sa, NULL);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGSEGV);
        sigprocmask(SIG_BLOCK, &s, NULL);
        *g_bad = 1;
    } else if (!strcmp(m, "segv-ignored")) {
        signal(SIGSEGV, SIG_IGN);
        *g_bad = 1;
    } else if (!strcmp(m, "segv-recursive")) {
        sa.sa_handler = h_fault_again;
        sigaction(SIGSEGV, &sa, NULL);
        *g_bad = 1;
    } else if (!strcmp(m, "ill-blocked")) {
        sigset_t s;
        sigfillset(&s);
        sigprocmask(SIG_BLOCK, &s, NULL);
        __asm__ volatile("ud2");
    } else if (!strcmp(m, "pending-unblock")) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGINT);
        sigprocmask(SIG_BLOCK, &s, NULL);
        raise(SIGINT);
        printf("still alive while SIGINT is blocked\n");
        fflush(stdout);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
    } else if (!strcmp(m, "no-restorer")) {
        /* a handler without SA_RESTORER: x86-64 Linux cannot build the frame, SIGSEGV */
        unsigned long k[4] = {(unsigned long)h_return, 0, 0, 0};
        syscall(SYS_rt_sigaction, SIGUSR2, k, 0, 8);
        syscall(SYS_kill, getpid(), SIGUSR2);
    } else if (!strcmp(m, "resethand")) {
        sa.sa_handler = h_return;
        sa.sa_flags = SA_RESETHAND;
        sigaction(SIGHUP, &sa, NULL);
        raise(SIGHUP);
        printf("survived the first SIGHUP\n");
        fflush(stdout);
        raise(SIGHUP);
    } else if (!strcmp(m, "alarm")) {
        alarm(1);
        pause();
    }
    printf("not reached\n");
    return 0;
}
