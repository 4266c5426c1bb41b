/* test_resolve.c: vsock-proxy's address cache stops at once even while its refresh thread waits
 * in getaddrinfo (which nothing interrupts): SIGTERM ends the proxy whatever it is doing. The
 * test's own getaddrinfo, which the executable's definition puts before libc's, blocks until
 * the test lets it go. */
#include <netdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy/resolve.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_calls;
static int g_release;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    (void)node, (void)service, (void)hints;
    *res = NULL;
    pthread_mutex_lock(&g_lock);
    g_calls++;
    pthread_cond_broadcast(&g_cond);
    while (!g_release)
        pthread_cond_wait(&g_cond, &g_lock); /* an unreachable name server */
    pthread_mutex_unlock(&g_lock);
    return EAI_AGAIN;
}

void freeaddrinfo(struct addrinfo *res)
{
    (void)res;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_stop_while_resolving(void **state)
{
    (void)state;
    static struct addr_cache cache; /* static: the thread keeps it after a stop that gave up */
    struct addr_list first = {.n = 0};
    addr_cache_init(&cache, &first);
    cache.host = "slow.example";
    cache.port = 443;
    cache.refresh_s = 0; /* resolve again at once */
    assert_int_equal(addr_cache_start_refresh(&cache), 0);
    pthread_mutex_lock(&g_lock);
    while (g_calls == 0)
        pthread_cond_wait(&g_cond, &g_lock);
    pthread_mutex_unlock(&g_lock);
    /* the thread is in getaddrinfo: the stop gives up after its wait instead of joining */
    double t0 = now_s();
    assert_false(addr_cache_stop(&cache, 100));
    double took = now_s() - t0;
    assert_true(took >= 0.09 && took < 2.0);
    /* once the resolver answers the thread sees the stop and ends */
    pthread_mutex_lock(&g_lock);
    g_release = 1;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    assert_true(addr_cache_stop(&cache, 5000));
    assert_true(addr_cache_stop(&cache, 0)); /* stopped: nothing left to wait for */
}

static void test_stop_idle(void **state)
{
    (void)state;
    struct addr_cache cache;
    struct addr_list first = {.n = 0};
    addr_cache_init(&cache, &first);
    cache.host = "idle.example";
    cache.refresh_s = 3600;
    assert_true(addr_cache_stop(&cache, 0)); /* never started */
    assert_int_equal(addr_cache_start_refresh(&cache), 0);
    double t0 = now_s();
    assert_true(addr_cache_stop(&cache, 5000)); /* waiting in poll: ends at once */
    assert_true(now_s() - t0 < 2.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_idle),
        cmocka_unit_test(test_stop_while_resolving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
