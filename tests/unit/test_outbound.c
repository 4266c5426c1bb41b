/* test_outbound.c: the outbound allowlist's rules (common/outbound.c): the forms `--allow`
 * accepts, the one spelling kept for each, duplicates, the cap, and malformed specs refused
 * with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/outbound.h"

static void ok(const char *spec, const char *host, unsigned port)
{
    struct out_rule r;
    char why[160] = "";
    if (out_rule_parse(spec, &r, why, sizeof(why)))
        fail_msg("'%s' refused: %s", spec, why);
    assert_string_equal(r.host, host);
    assert_int_equal(r.port, port);
}

static void bad(const char *spec, const char *reason_part)
{
    struct out_rule r;
    char why[160] = "";
    if (out_rule_parse(spec, &r, why, sizeof(why)) == 0)
        fail_msg("'%s' accepted as %s:%u", spec, r.host, r.port);
    if (!strstr(why, reason_part))
        fail_msg("'%s': reason '%s' lacks '%s'", spec, why, reason_part);
}

static void test_forms(void **state)
{
    (void)state;
    ok("example.com:443", "example.com", 443);
    ok("Example.COM.:80", "example.com", 80);
    ok("host.alcove.internal:8080", "host.alcove.internal", 8080);
    ok("10.0.0.1:1", "10.0.0.1", 1);
    ok("[2001:db8::1]:65535", "2001:db8::1", 65535);
    ok("[2001:DB8:0::1]:443", "2001:db8::1", 443);
    ok("_svc.a-b.example:53", "_svc.a-b.example", 53);
}

static void test_bad(void **state)
{
    (void)state;
    bad("", "HOST:PORT");
    bad("example.com", "HOST:PORT");
    bad(":443", "HOST:PORT");
    bad("example.com:", "not a port");
    bad("example.com:0", "1 to 65535");
    bad("example.com:65536", "1 to 65535");
    bad("example.com:+80", "not a port");
    bad("example.com:080x", "not a port");
    bad("example.com:123456", "not a port");
    bad("::1:443", "HOST:PORT");
    bad("[::1]443", "HOST:PORT");
    bad("[example.com]:443", "IPv6");
    bad("[]:443", "IPv6");
    bad("[1.2.3.4]:443", "IPv6");
    bad("exa mple.com:443", "not a host name");
    bad("-example.com:443", "not a host name");
    bad("example-.com:443", "not a host name");
    bad("a..b:443", "not a host name");
    bad("999.1.1.1:443", "not an IPv4");
    bad("1.2.3:443", "not an IPv4");
    bad("exa/mple:443", "not a host name");
    /* the loopback and the unspecified address stay inside the enclave: host.alcove.internal */
    bad("127.0.0.1:22", "host.alcove.internal");
    bad("127.1.2.3:22", "host.alcove.internal");
    bad("0.0.0.0:80", "host.alcove.internal");
    bad("[::1]:22", "host.alcove.internal");
    bad("[::]:80", "host.alcove.internal");
    bad("[::ffff:127.0.0.1]:22", "host.alcove.internal");
    bad("[::ffff:0.0.0.0]:22", "host.alcove.internal");
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    memcpy(longname + 280, ":443", 5);
    bad(longname, "longer than");
    char longlabel[80];
    memset(longlabel, 'a', sizeof(longlabel));
    memcpy(longlabel + 70, ".com:443", 9);
    bad(longlabel, "not a host name");
}

static void test_list(void **state)
{
    (void)state;
    static struct out_rule list[OUTBOUND_MAX];
    unsigned n = 0;
    char why[160];
    assert_int_equal(out_rule_add(list, &n, "a.example:1", why, sizeof(why)), 0);
    assert_int_equal(out_rule_add(list, &n, "A.example:1", why, sizeof(why)), 0);
    assert_int_equal(n, 1); /* the same rule once */
    assert_int_equal(out_rule_add(list, &n, "a.example:2", why, sizeof(why)), 0);
    assert_int_equal(n, 2);
    assert_true(out_rule_names(list, n, "A.EXAMPLE", 2));
    assert_true(out_rule_names(list, n, "a.example", 0));
    assert_false(out_rule_names(list, n, "a.example", 3));
    assert_false(out_rule_names(list, n, "b.example", 0));
    /* a file's entry: no brackets around an IPv6 address */
    assert_int_equal(out_rule_add_host(list, &n, "fe80::1", 22, why, sizeof(why)), 0);
    assert_string_equal(list[n - 1].host, "fe80::1");
    assert_int_equal(out_rule_add_host(list, &n, "x", 0, why, sizeof(why)), -1);
    while (n < OUTBOUND_MAX) {
        char spec[32];
        snprintf(spec, sizeof(spec), "h%u.example:80", n);
        assert_int_equal(out_rule_add(list, &n, spec, why, sizeof(why)), 0);
    }
    assert_int_equal(out_rule_add(list, &n, "one.more:80", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "more than"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
