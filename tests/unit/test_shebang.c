/* test_shebang.c: the "#!" line of a script (lib/script/shebang.c), as Linux's binfmt_script
 * splits it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "script/shebang.h"

/* Parses text: the interpreter and argument, "-" for no argument, or NULL when refused. */
static const char *parse(const char *text, size_t n)
{
    static char out[2 * SHEBANG_MAX + 4];
    struct shebang sb;
    if (shebang_parse(text, n, &sb))
        return NULL;
    memcpy(out, sb.interp, sb.interp_len);
    out[sb.interp_len] = '|';
    if (sb.arg) {
        memcpy(out + sb.interp_len + 1, sb.arg, sb.arg_len);
        out[sb.interp_len + 1 + sb.arg_len] = 0;
    } else {
        strcpy(out + sb.interp_len + 1, "-");
    }
    return out;
}

#define P(s) parse(s, sizeof(s) - 1)

static void test_lines(void **state)
{
    (void)state;
    assert_string_equal(P("#!/bin/sh\necho hi\n"), "/bin/sh|-");
    assert_string_equal(P("#! /bin/sh -e\n"), "/bin/sh|-e");
    assert_string_equal(P("#!/usr/bin/env  python3 -u  \r\n"), "/usr/bin/env|python3 -u");
    assert_string_equal(P("#!\t/bin/awk\t-f\n"), "/bin/awk|-f");
    assert_string_equal(P("#!/bin/sh"), "/bin/sh|-");       /* no newline at all */
    assert_string_equal(P("#!/bin/sh\r\n"), "/bin/sh\r|-"); /* Linux keeps it: ENOENT later */
    assert_string_equal(P("#!/bin/a\0b\n"), "/bin/a|-");    /* a NUL ends the line */
    assert_null(P("#!\n/bin/sh\n"));                        /* nothing on the line */
    assert_null(P("#!   \n"));
    assert_null(P("#/bin/sh\n"));
    assert_null(P("\x7f"
                  "ELF"));
    assert_null(parse("#!", 1));
}

static void test_long_line(void **state)
{
    (void)state;
    char buf[600];
    memset(buf, 'a', sizeof(buf));
    memcpy(buf, "#!/x ", 5);
    const char *r = parse(buf, sizeof(buf));
    assert_non_null(r); /* only SHEBANG_MAX bytes are looked at */
    assert_int_equal(strlen(r), 2 + 1 + (SHEBANG_MAX - 5)); /* "/x", "|", the a's */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_long_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
