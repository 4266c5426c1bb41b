/* sig_host.c: signals sent from outside the program (a `kill` of the process natively; of the
 * `alcove run` that holds it in an enclave, or `alcove-oci kill`), for libos_signals.bats.
 *
 *   sig_host handle   handlers for HUP, USR1, INT and TERM; waits in sigsuspend; HUP and USR1
 *                     are counted, TERM ends it with status 0 after a last line
 *   sig_host spin     a TERM handler, then a loop with no syscall until the handler ran
 *   sig_host sigwait  TERM blocked and taken with sigwait: status 3
 *   sig_host group    an INT handler, and a child in the same process group with INT's
 *                     default: a Ctrl-C on the terminal ends the child, and this one reports it
 *   sig_host none     no handler: the signal's default action ends it
 *
 * Each mode prints "ready" once it can take the signals; the test sends them only then. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_hup, got_usr1, got_term, got_int;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGHUP)
        got_hup++;
    else if (sig == SIGUSR1)
        got_usr1++;
    else if (sig == SIGINT)
        got_int++;
    else if (sig == SIGTERM)
        got_term = si->si_code == SI_USER ? 1 : 2;
}

static void catch (int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

static void ready(void)
{
    printf("ready\n");
    fflush(stdout);
}

static int handle(void)
{
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    catch (SIGHUP);
    catch (SIGUSR1);
    catch (SIGINT);
    catch (SIGTERM);
    sigprocmask(SIG_BLOCK, &all, NULL); /* no signal lost between the checks and the wait */
    ready();
    int hup = 0, usr1 = 0;
    while (!got_term) {
        sigsuspend(&none);
        while (hup < got_hup)
            printf("got HUP %d\n", ++hup);
        while (usr1 < got_usr1)
            printf("got USR1 %d\n", ++usr1);
        if (got_int)
            printf("got INT\n");
        got_int = 0;
        fflush(stdout);
    }
    printf("got TERM (%s): cleaning up\n", got_term == 1 ? "SI_USER" : "another si_code");
    return 0;
}

static int spin(void)
{
    catch (SIGTERM);
    ready();
    unsigned long n = 0;
    while (!got_term)
        n++; /* no syscall: only a preemption brings the signal in */
    printf("got TERM in a loop without syscalls (%s)\n", n ? "it ran" : "it did not run");
    return 0;
}

static int wait_for_term(void)
{
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    ready();
    int sig = 0;
    sigwait(&term, &sig);
    printf("sigwait took signal %d\n", sig);
    return 3;
}

static int group(void)
{
    catch (SIGINT);
    pid_t child = fork();
    if (child == 0) {
        signal(SIGINT, SIG_DFL);
        for (;;)
            pause();
    }
    ready();
    int st = 0;
    while (waitpid(child, &st, 0) < 0)
        ;
    if (WIFSIGNALED(st))
        printf("the child ended by signal %d; INT reached this process too: %s\n", WTERMSIG(st),
               got_int ? "yes" : "no");
    else
        printf("the child exited with %d\n", WEXITSTATUS(st));
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "handle") == 0)
        return handle();
    if (strcmp(mode, "spin") == 0)
        return spin();
    if (strcmp(mode, "sigwait") == 0)
        return wait_for_term();
    if (strcmp(mode, "group") == 0)
        return group();
    if (strcmp(mode, "none") == 0) {
        ready();
        for (;;)
            pause();
    }
    fprintf(stderr, "usage: sig_host handle|spin|sigwait|group|none\n");
    return 2;
}
