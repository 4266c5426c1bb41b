/* test_fmt.c: the enclave kernel's printf-style formatter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...);

static void expect(const char *want, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void test_formats(void **state)
{
    (void)state;
    expect("42", "%d", 42);
    expect("-42", "%d", -42);
    expect("-9223372036854775808", "%ld", (long)INT64_MIN);
    expect("18446744073709551615", "%lu", UINT64_MAX);
    expect("ff FF 0xff", "%x %X %#x", 255, 255, 255);
    expect("0xffffffff80000000", "%#lx", 0xffffffff80000000ul);
    expect("0x0", "%p", (void *)0);
    expect("0022 755 0 017", "%04o %o %#o %#o", 022, 0755, 0, 017); /* /proc's Umask: */
    expect("[   7] [7   ] [0007]", "[%4d] [%-4d] [%04d]", 7, 7, 7);
    expect("abc (null)", "%s %s", "abc", (char *)NULL);
    expect("ab", "%.2s", "abcdef");
    expect("x%y", "%c%%%c", 'x', 'y');
    expect("%q", "%q");
    expect("100%", "100%");
}

/* Width and precision from arguments: "%.*s" prints a name that has no NUL after it. */
static void test_star(void **state)
{
    (void)state;
    const char name[] = {'t', 'm', 'p', 'X'}; /* no terminator */
    expect("/tmp/", "/%.*s/", 3, name);
    expect("[tm] 5", "[%.*s] %d", 2, name, 5); /* the next argument is still 5 */
    expect("[]", "[%.*s]", 0, name);
    expect("[abc]", "[%.*s]", -1, "abc"); /* a negative precision is none */
    expect("[  7] [7  ]", "[%*d] [%*d]", 3, 7, -3, 7);
    expect("[   ab]", "[%*.*s]", 5, 2, "abcdef");
    expect("a/b c", "%.*s/%.*s %s", 1, "ax", 1, "bx", "c");
}

static void test_truncation(void **state)
{
    (void)state;
    char buf[5];
    assert_int_equal(ksnprintf(buf, sizeof(buf), "hello world"), 11);
    assert_string_equal(buf, "hell");
    assert_int_equal(ksnprintf(NULL, 0, "%d", 12345), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_star),
        cmocka_unit_test(test_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
