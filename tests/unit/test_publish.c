/* test_publish.c: the published-port spec parser (common/publish.c): the forms `-p` accepts,
 * the canonical address it keeps, and every malformed spec refused with a reason. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/publish.h"

static void ok(const char *spec, int family, const char *ip, unsigned host, unsigned enclave)
{
    struct publish_port p;
    char why[160] = "";
    int r = publish_parse(spec, &p, why, sizeof(why));
    if (r)
        fail_msg("'%s' refused: %s", spec, why);
    assert_int_equal(p.family, family);
    assert_string_equal(p.host_ip, ip);
    assert_int_equal(p.host_port, host);
    assert_int_equal(p.enclave_port, enclave);
    uint8_t want[16] = {0};
    assert_int_equal(inet_pton(family, ip, want), 1);
    assert_memory_equal(p.addr, want, 16);
}

static void bad(const char *spec, const char *reason_part)
{
    struct publish_port p;
    char why[160] = "";
    if (publish_parse(spec, &p, why, sizeof(why)) == 0)
        fail_msg("'%s' accepted", spec);
    if (!strstr(why, reason_part))
        fail_msg("'%s': reason '%s' lacks '%s'", spec, why, reason_part);
}

static void test_accepted(void **state)
{
    (void)state;
    ok("8080:80", AF_INET, "0.0.0.0", 8080, 80);
    ok("1:65535", AF_INET, "0.0.0.0", 1, 65535);
    ok("65535:1/tcp", AF_INET, "0.0.0.0", 65535, 1);
    ok("127.0.0.1:8080:80", AF_INET, "127.0.0.1", 8080, 80);
    ok("0.0.0.0:443:8443", AF_INET, "0.0.0.0", 443, 8443);
    ok("[::1]:8080:80", AF_INET6, "::1", 8080, 80);
    ok("[::]:8080:80/tcp", AF_INET6, "::", 8080, 80);
    ok("[0:0:0:0:0:0:0:1]:9:9", AF_INET6, "::1", 9, 9); /* canonical text */
    ok("[::ffff:10.0.0.1]:9:9", AF_INET6, "::ffff:10.0.0.1", 9, 9);
    ok("00080:080", AF_INET, "0.0.0.0", 80, 80); /* decimal, leading zeros allowed */
}

static void test_refused(void **state)
{
    (void)state;
    bad("", "expected");
    bad("80", "both ports");
    bad("0:80", "host port '0'");
    bad("80:0", "enclave port '0'");
    bad("70000:80", "host port '70000'");
    bad("80:65536", "enclave port '65536'");
    bad("123456:80", "host port");
    bad("-1:80", "host port");
    bad("+80:80", "host port");
    bad(" 80:80", "host port");
    bad("80:80 ", "enclave port");
    bad("0x50:80", "host port");
    bad("80:", "enclave port");
    bad(":80", "host port");
    bad("1.2.3:80:80", "not an IPv4 address");
    bad("1.2.3.4.5:80:80", "not an IPv4 address");
    bad("256.0.0.1:80:80", "not an IPv4 address");
    bad("localhost:80:80", "not an IPv4 address");
    bad(":80:80", "empty");
    bad("::1:80:80", "brackets");
    bad("[::1:80:80", "brackets");
    bad("[::1]80:80", "brackets");
    bad("[::1]:80", "expected");
    bad("[1.2.3.4]:80:80", "not an IPv6 address");
    bad("[fe80::1%eth0]:80:80", "not an IPv6 address");
    bad("1.2.3.4:80:80:80", "brackets");
    bad("80:80/udp", "only TCP");
    bad("80:80/TCP", "unknown protocol");
    bad("80:80/", "unknown protocol");
    char long_spec[300];
    memset(long_spec, '1', sizeof(long_spec) - 1);
    long_spec[sizeof(long_spec) - 1] = 0;
    bad(long_spec, "expected");
}

static void test_duplicates(void **state)
{
    (void)state;
    struct publish_port list[PUBLISH_MAX];
    unsigned n = 0;
    char why[160];
    assert_int_equal(publish_add(list, &n, "8080:80", why, sizeof(why)), 0);
    /* the same port on an address the wildcard covers, or on the wildcard again */
    assert_int_equal(publish_add(list, &n, "127.0.0.1:8080:81", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "published twice"));
    assert_int_equal(publish_add(list, &n, "8080:80", why, sizeof(why)), -1);
    /* another port, or IPv6 (its own socket, IPV6_V6ONLY), is fine; one enclave port may be
     * published on several host ports */
    assert_int_equal(publish_add(list, &n, "8081:80", why, sizeof(why)), 0);
    assert_int_equal(publish_add(list, &n, "[::]:8080:80", why, sizeof(why)), 0);
    assert_int_equal(publish_add(list, &n, "[::1]:8080:80", why, sizeof(why)), -1);
    assert_int_equal(publish_add(list, &n, "127.0.0.1:9000:1", why, sizeof(why)), 0);
    assert_int_equal(publish_add(list, &n, "127.0.0.2:9000:1", why, sizeof(why)), 0);
    assert_int_equal(publish_add(list, &n, "127.0.0.2:9000:2", why, sizeof(why)), -1);
    assert_int_equal(publish_add(list, &n, "0.0.0.0:9000:2", why, sizeof(why)), -1);
    assert_int_equal(publish_add(list, &n, "bad", why, sizeof(why)), -1);
    assert_int_equal(n, 5);
    /* the cap */
    n = 0;
    char spec[32];
    for (unsigned i = 0; i < PUBLISH_MAX; i++) {
        snprintf(spec, sizeof(spec), "%u:80", 10000 + i);
        assert_int_equal(publish_add(list, &n, spec, why, sizeof(why)), 0);
    }
    assert_int_equal(publish_add(list, &n, "20000:80", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "at most"));
    assert_int_equal(n, PUBLISH_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
