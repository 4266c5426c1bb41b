/* test_out_policy.c: the outbound allowlist's generations (devices/out_policy.c) with a resolver
 * whose answers the test changes: a refresh swaps the destinations and the zone together, the
 * previous generation's addresses allow connects for one more period and no longer, an address
 * from two generations ago is refused, a name whose lookup fails for now keeps its last
 * addresses while one that no longer exists loses them, and literal rules and the host alias never
 * reach the resolver. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "devices/out_policy.h"

/* The fake resolver: a.example resolves to g_addr (no answer when g_fail, no address when
 * g_gone), lo.example to the loopback; g_calls counts the lookups. */
static const char *g_addr = "192.0.2.2";
static bool g_fail, g_gone;
static unsigned g_calls;

static int fake_resolve(void *ctx, const char *host, struct out_addr *out, unsigned max, char *why,
                        size_t why_size)
{
    (void)ctx;
    assert_true(max >= 2);
    g_calls++;
    if (g_fail || (strcmp(host, "a.example") && strcmp(host, "lo.example"))) {
        snprintf(why, why_size, "Temporary failure in name resolution");
        return -1;
    }
    if (g_gone)
        return 0;
    out[0].family = AF_INET;
    inet_pton(AF_INET, strcmp(host, "lo.example") ? g_addr : "127.0.0.2", out[0].addr);
    return 1;
}

static bool allowed(struct out_policy *p, const char *addr, uint16_t port, int64_t now)
{
    uint8_t a[16] = {0};
    int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    assert_int_equal(inet_pton(family, addr, a), 1);
    struct out_dest d;
    return out_policy_find(p, family, a, port, now, &d);
}

/* The A records the zone answers for name, as text separated by spaces ("" when none;
 * "NXDOMAIN" for a name that does not exist). */
static void ask(struct out_policy *p, const char *name, char *text, size_t size)
{
    uint8_t q[512], out[DNS_ANSWER_MAX];
    int ql = res_mkquery(ns_o_query, name, ns_c_in, ns_t_a, NULL, 0, NULL, q, sizeof(q));
    assert_true(ql > 0);
    size_t n = out_policy_answer(p, q, (size_t)ql, out);
    assert_true(n > 0);
    ns_msg m;
    assert_int_equal(ns_initparse(out, (int)n, &m), 0);
    text[0] = 0;
    if (ns_msg_getflag(m, ns_f_rcode) == ns_r_nxdomain) {
        snprintf(text, size, "NXDOMAIN");
        return;
    }
    for (int i = 0; i < ns_msg_count(m, ns_s_an); i++) {
        ns_rr rr;
        assert_int_equal(ns_parserr(&m, ns_s_an, i, &rr), 0);
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, ns_rr_rdata(rr), a, sizeof(a));
        snprintf(text + strlen(text), size - strlen(text), "%s%s", text[0] ? " " : "", a);
    }
}

static const struct out_rule g_rules[] = {
    {"a.example", 443},
    {"192.0.2.9", 80},
    {"host.alcove.internal", 8080},
    {"lo.example", 22},
};
#define NRULES (sizeof(g_rules) / sizeof(g_rules[0]))

static struct out_gen *build(struct out_policy *p)
{
    return out_gen_build(g_rules, NRULES, p ? p->cur : NULL, fake_resolve, NULL, p == NULL);
}

static void test_generations(void **state)
{
    (void)state;
    char t[128];
    g_addr = "192.0.2.2";
    g_fail = false;
    g_calls = 0;
    struct out_policy *p = out_policy_new(g_rules, NRULES, build(NULL), 60);
    assert_non_null(p);
    assert_int_equal(g_calls, 2); /* the two names only: no lookup of an address or the alias */
    assert_true(out_rules_have_names(g_rules, NRULES));
    assert_false(out_rules_have_names(g_rules + 1, 2));
    /* launch: the name's address with its rule's port, the literal, the alias */
    assert_true(allowed(p, "192.0.2.2", 443, 0));
    assert_false(allowed(p, "192.0.2.2", 80, 0));
    assert_true(allowed(p, "192.0.2.9", 80, 0));
    assert_false(allowed(p, "192.0.2.3", 443, 0));
    assert_false(allowed(p, "127.0.0.2", 22, 0)); /* a name resolving to loopback: nothing */
    uint8_t alias[4] = {169, 254, 1, 2};
    struct out_dest d;
    assert_true(out_policy_find(p, AF_INET, alias, 8080, 0, &d));
    assert_true(d.host_lo);
    ask(p, "a.example", t, sizeof(t));
    assert_string_equal(t, "192.0.2.2");
    ask(p, "lo.example", t, sizeof(t));
    assert_string_equal(t, ""); /* the name exists, with no address */
    ask(p, "b.example", t, sizeof(t));
    assert_string_equal(t, "NXDOMAIN");

    /* the name moves: a refresh at 1000 ms answers the new address at once, and the old one
     * still connects until a period (60 s) after the swap */
    g_addr = "192.0.2.3";
    out_policy_swap(p, build(p), 1000);
    assert_int_equal(p->generation, 2);
    ask(p, "a.example", t, sizeof(t));
    assert_string_equal(t, "192.0.2.3");
    assert_true(allowed(p, "192.0.2.3", 443, 1000));
    assert_true(allowed(p, "192.0.2.2", 443, 1000));
    assert_true(allowed(p, "192.0.2.2", 443, 60999));
    assert_false(allowed(p, "192.0.2.2", 443, 61000));
    assert_false(allowed(p, "192.0.2.2", 80, 1000)); /* its port only, as before */
    assert_true(allowed(p, "192.0.2.9", 80, 61000));

    /* the next refresh: the address of two generations ago is refused, even within a period */
    out_policy_swap(p, build(p), 2000);
    assert_false(allowed(p, "192.0.2.2", 443, 2000));
    assert_true(allowed(p, "192.0.2.3", 443, 2000));

    /* the name stops resolving: its last addresses stay, in the zone and the table */
    g_fail = true;
    out_policy_swap(p, build(p), 3000);
    assert_true(allowed(p, "192.0.2.3", 443, 1000000));
    ask(p, "a.example", t, sizeof(t));
    assert_string_equal(t, "192.0.2.3");
    /* ... and follows it again when it does */
    g_fail = false;
    g_addr = "192.0.2.4";
    out_policy_swap(p, build(p), 4000);
    out_policy_swap(p, build(p), 5000);
    assert_true(allowed(p, "192.0.2.4", 443, 5000));
    assert_false(allowed(p, "192.0.2.3", 443, 5000));
    /* the name no longer exists: its addresses go (after the one period the previous
     * generation keeps), and its lookup has no address */
    g_gone = true;
    out_policy_swap(p, build(p), 6000);
    assert_true(allowed(p, "192.0.2.4", 443, 6000));
    assert_false(allowed(p, "192.0.2.4", 443, 66000));
    ask(p, "a.example", t, sizeof(t));
    assert_string_equal(t, "");
    g_gone = false;
    out_policy_unref(p);
}

static void test_launch_failure(void **state)
{
    (void)state;
    g_fail = true;
    /* at launch a name that does not resolve allows nothing, but it exists for lookups */
    struct out_policy *p = out_policy_new(g_rules, NRULES, build(NULL), 60);
    assert_false(allowed(p, "192.0.2.2", 443, 0));
    char t[64];
    ask(p, "a.example", t, sizeof(t));
    assert_string_equal(t, "");
    g_fail = false;
    g_addr = "192.0.2.2";
    out_policy_swap(p, build(p), 1000);
    assert_true(allowed(p, "192.0.2.2", 443, 1000));
    out_policy_unref(p);
    struct out_dest d;
    uint8_t a[4] = {192, 0, 2, 2};
    assert_false(out_policy_find(NULL, AF_INET, a, 443, 0, &d)); /* no rules: nothing */
}

/* Readers (the device thread) and swaps (the refresh thread) at once: every read sees one
 * generation or the other, whole (run under the sanitizers in CI). */
static void *swapper(void *arg)
{
    struct out_policy *p = arg;
    for (int i = 0; i < 2000; i++) {
        g_addr = i % 2 ? "192.0.2.3" : "192.0.2.2";
        out_policy_swap(p, build(p), 0);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    g_fail = false;
    g_addr = "192.0.2.2";
    struct out_policy *p = out_policy_new(g_rules, NRULES, build(NULL), 60);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, swapper, p), 0);
    for (int i = 0; i < 20000; i++) {
        char a[64];
        assert_true(allowed(p, "192.0.2.9", 80, 0));
        if (i % 10 == 0) {
            ask(p, "a.example", a, sizeof(a));
            assert_true(!strcmp(a, "192.0.2.2") || !strcmp(a, "192.0.2.3"));
        }
    }
    pthread_join(t, NULL);
    out_policy_unref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generations),
        cmocka_unit_test(test_launch_failure),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
