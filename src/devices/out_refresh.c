/* out_refresh.c: the thread that resolves the outbound allowlist's names again every period
 * (see out_policy.h; docs/networking.md, "Addresses that follow a name").
 *
 * It is made at launch, before the monitor's system-call filter, after the launch-time lookup
 * has loaded glibc's NSS modules (a module cannot be loaded under the filter: no file may be
 * mapped executable). Before each lookup it stacks the resolver class's filter
 * (monitor/sandbox_class.c): files and DNS over UDP and TCP, nothing else.
 *
 * The thread is detached and holds a reference to the policy, never to the vsock device or the
 * vm: getaddrinfo cannot be interrupted and may block for minutes on a resolver that does not
 * answer, so tear-down only tells it to stop (a condition it waits on between lookups) and
 * drops its own reference. A lookup under way then finishes with nothing to swap into but the
 * policy, which the thread frees when it is the last one, or the process ends first (exit_group
 * ends every thread; the thread holds no lock across a lookup and writes no file). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "devices/out_policy.h"
#include "monitor/sandbox.h"

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

unsigned out_refresh_period(void)
{
    const char *s = getenv("ALCOVE_OUTBOUND_REFRESH_S");
    if (s && *s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (!*end && v >= 1 && v <= 3600)
            return (unsigned)v;
    }
    return OUT_REFRESH_PERIOD;
}

static void *refresh_thread(void *arg)
{
    struct out_policy *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += p->period_s;
        while (!p->stopped && pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
            ;
        if (p->stopped)
            break;
        const struct out_gen *last = p->cur; /* only this thread replaces or frees it */
        pthread_mutex_unlock(&p->lock);
        /* each time: the filter is loaded once the monitor's own is (a no-op before that) */
        sandbox_thread_class(SANDBOX_RESOLVER);
        struct out_gen *g = out_gen_build(p->rules, p->nrules, last, out_resolve_host, NULL, false);
        if (g) {
            out_policy_swap(p, g, mono_ms());
            alc_log(ALC_LOG_DEBUG, "outbound: the allowlist's names resolved again");
        }
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    out_policy_unref(p);
    return NULL;
}

int out_refresh_start(struct out_policy *p)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 1024 * 1024); /* glibc's resolver uses its stack freely */
    atomic_fetch_add(&p->refs, 1);
    pthread_t t;
    int e = pthread_create(&t, &at, refresh_thread, p);
    pthread_attr_destroy(&at);
    if (e) {
        atomic_fetch_sub(&p->refs, 1);
        errno = e;
        return -1;
    }
    return 0;
}

void out_refresh_stop(struct out_policy *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopped = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    out_policy_unref(p);
}
