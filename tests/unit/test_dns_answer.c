/* test_dns_answer.c: answers to the enclave's DNS queries (common/dns_answer.c): a name of the
 * zone gets its A or AAAA records, other types none, another name NXDOMAIN, another class
 * REFUSED, a query that does not parse FORMERR, an answer never anything. Queries are made with
 * libresolv's res_mkquery and answers read back with ns_initparse, as a resolver would. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/dns_answer.h"

static const struct dns_record g_recs[] = {
    {"host.alcove.internal", 0, {0}},
    {"host.alcove.internal", AF_INET, {169, 254, 1, 2}},
    {"a.example", 0, {0}},
    {"a.example", AF_INET, {192, 0, 2, 1}},
    {"a.example", AF_INET, {192, 0, 2, 2}},
    {"a.example", AF_INET6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
    {"noaddr.example", 0, {0}},
};
static const struct dns_zone g_zone = {g_recs, sizeof(g_recs) / sizeof(g_recs[0]), 0};

/* Asks name/type/class; returns the rcode and the answers' count, the first answer's data in
 * first (at least 16 bytes). */
static int ask(const char *name, int type, int class, int *an, uint8_t *first)
{
    uint8_t q[512], out[DNS_ANSWER_MAX];
    int ql = res_mkquery(ns_o_query, name, class, type, NULL, 0, NULL, q, sizeof(q));
    assert_true(ql > 0);
    size_t n = dns_answer(&g_zone, q, (size_t)ql, out);
    assert_true(n >= NS_HFIXEDSZ && n <= DNS_ANSWER_MAX);
    ns_msg m;
    assert_int_equal(ns_initparse(out, (int)n, &m), 0);
    assert_int_equal(ns_msg_id(m), (q[0] << 8) | q[1]);
    assert_int_equal(ns_msg_getflag(m, ns_f_qr), 1);
    *an = ns_msg_count(m, ns_s_an);
    if (*an) {
        ns_rr rr;
        assert_int_equal(ns_parserr(&m, ns_s_an, 0, &rr), 0);
        assert_int_equal(ns_rr_type(rr), type);
        assert_string_equal(ns_rr_name(rr), name);
        memcpy(first, ns_rr_rdata(rr), ns_rr_rdlen(rr));
    }
    return ns_msg_getflag(m, ns_f_rcode);
}

static void test_zone(void **state)
{
    (void)state;
    int an;
    uint8_t a[16];
    assert_int_equal(ask("host.alcove.internal", ns_t_a, ns_c_in, &an, a), ns_r_noerror);
    assert_int_equal(an, 1);
    assert_memory_equal(a, g_recs[1].addr, 4);
    assert_int_equal(ask("A.Example", ns_t_a, ns_c_in, &an, a), ns_r_noerror);
    assert_int_equal(an, 2);
    assert_int_equal(ask("a.example", ns_t_aaaa, ns_c_in, &an, a), ns_r_noerror);
    assert_int_equal(an, 1);
    assert_memory_equal(a, g_recs[5].addr, 16);
    assert_int_equal(ask("host.alcove.internal", ns_t_aaaa, ns_c_in, &an, a), ns_r_noerror);
    assert_int_equal(an, 0);
    assert_int_equal(ask("a.example", ns_t_mx, ns_c_in, &an, a), ns_r_noerror);
    assert_int_equal(an, 0);
    assert_int_equal(ask("noaddr.example", ns_t_a, ns_c_in, &an, a), ns_r_noerror);
    assert_int_equal(an, 0);
}

/* The first answer's TTL from zone z: DNS_TTL, or the zone's when shorter. */
static unsigned ttl_of(const struct dns_zone *z)
{
    uint8_t q[512], out[DNS_ANSWER_MAX];
    int ql = res_mkquery(ns_o_query, "a.example", ns_c_in, ns_t_a, NULL, 0, NULL, q, sizeof(q));
    assert_true(ql > 0);
    size_t n = dns_answer(z, q, (size_t)ql, out);
    ns_msg m;
    ns_rr rr;
    assert_int_equal(ns_initparse(out, (int)n, &m), 0);
    assert_int_equal(ns_parserr(&m, ns_s_an, 0, &rr), 0);
    return (unsigned)ns_rr_ttl(rr);
}

static void test_ttl(void **state)
{
    (void)state;
    struct dns_zone z = g_zone;
    assert_int_equal(ttl_of(&z), DNS_TTL);
    z.ttl = 5; /* a refresh period shorter than a minute */
    assert_int_equal(ttl_of(&z), 5);
    z.ttl = 3600; /* never longer than DNS_TTL */
    assert_int_equal(ttl_of(&z), DNS_TTL);
}

static void test_refused(void **state)
{
    (void)state;
    int an;
    uint8_t a[16];
    assert_int_equal(ask("example.com", ns_t_a, ns_c_in, &an, a), ns_r_nxdomain);
    assert_int_equal(an, 0);
    assert_int_equal(ask("b.a.example", ns_t_a, ns_c_in, &an, a), ns_r_nxdomain);
    assert_int_equal(ask("example", ns_t_a, ns_c_in, &an, a), ns_r_nxdomain);
    assert_int_equal(ask("a.example", ns_t_a, ns_c_chaos, &an, a), ns_r_refused);
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t q[512], out[DNS_ANSWER_MAX];
    int ql = res_mkquery(ns_o_query, "a.example", ns_c_in, ns_t_a, NULL, 0, NULL, q, sizeof(q));
    assert_true(ql > 0);
    /* too short, an answer, too long: nothing */
    assert_int_equal(dns_answer(&g_zone, q, 11, out), 0);
    q[2] |= 0x80;
    assert_int_equal(dns_answer(&g_zone, q, (size_t)ql, out), 0);
    q[2] &= 0x7f;
    static uint8_t big[DNS_QUERY_MAX + 1];
    memcpy(big, q, (size_t)ql);
    assert_int_equal(dns_answer(&g_zone, big, sizeof(big), out), 0);
    /* cut short, two questions, a bad label: FORMERR, header only */
    size_t n = dns_answer(&g_zone, q, (size_t)ql - 3, out);
    assert_int_equal(n, NS_HFIXEDSZ);
    assert_int_equal(out[3] & 0xf, ns_r_formerr);
    q[5] = 2;
    n = dns_answer(&g_zone, q, (size_t)ql, out);
    assert_int_equal(out[3] & 0xf, ns_r_formerr);
    q[5] = 1;
    q[12] = 0x3f; /* a label longer than the message */
    n = dns_answer(&g_zone, q, (size_t)ql, out);
    assert_int_equal(out[3] & 0xf, ns_r_formerr);
    /* another opcode: NOTIMP */
    ql = res_mkquery(ns_o_query, "a.example", ns_c_in, ns_t_a, NULL, 0, NULL, q, sizeof(q));
    q[2] = (uint8_t)((q[2] & 0x87) | (ns_o_status << 3));
    n = dns_answer(&g_zone, q, (size_t)ql, out);
    assert_int_equal(n, NS_HFIXEDSZ);
    assert_int_equal(out[3] & 0xf, ns_r_notimpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
