/* test_out_refresh.c: the refresh thread (devices/out_refresh.c) with the host's real resolver
 * under the monitor's real filters, in a forked child: the common filter loaded after the
 * thread started (as the monitor does), the resolver class's stacked by the thread itself. The
 * generations must keep coming (a call the class does not list would end the child with
 * [ E73 ]): a name of /etc/hosts, and one that goes to the host's name server whatever it
 * answers. Then stop does not wait for the thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/out_policy.h"
#include "monitor/sandbox.h"

static unsigned generation(struct out_policy *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned g = p->generation;
    pthread_mutex_unlock(&p->lock);
    return g;
}

static void child(void)
{
    static const struct out_rule rules[] = {{"localhost", 80}, {"alcove-refresh-test.invalid", 80}};
    setenv("ALCOVE_OUTBOUND_REFRESH_S", "1", 1);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        _exit(40);
    /* the launch's lookup first, before any filter (it loads what glibc's lookups need) */
    struct out_gen *g = out_gen_build(rules, 2, NULL, out_resolve_host, NULL, true);
    struct out_policy *p = g ? out_policy_new(rules, 2, g, out_refresh_period()) : NULL;
    if (!p || p->period_s != 1 || out_refresh_start(p))
        _exit(41);
    if (sandbox_enter())
        _exit(42);
    for (int i = 0; i < 600 && generation(p) < 3; i++) {
        struct timespec t = {0, 100 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    if (generation(p) < 3)
        _exit(43);
    out_refresh_stop(p); /* returns at once, whatever the thread is doing */
    _exit(0);
}

static void test_refresh_sandboxed(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child();
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_sandboxed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
