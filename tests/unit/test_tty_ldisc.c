/* test_tty_ldisc.c: the enclave's line discipline (enclave/dev/tty_ldisc.c) on the host: what a
 * pty's slave reads and what its master sees for the input a master writes, checked against
 * what Linux gives for the same bytes (tests/programs/pty.c prints them natively). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tty.h"

static uint8_t g_out[LDISC_OUT_SIZE];

static struct tty_ldisc *fresh(void)
{
    static struct tty_ldisc ld;
    ldisc_init(&ld, g_out);
    return &ld;
}

/* the master writes s: every byte is taken, no signal */
static void type(struct tty_ldisc *ld, const char *s)
{
    int sig;
    assert_int_equal(ldisc_receive(ld, (const uint8_t *)s, strlen(s), &sig), strlen(s));
    assert_int_equal(sig, 0);
}

static void expect_read(struct tty_ldisc *ld, const char *want)
{
    char buf[8192];
    assert_true(ldisc_readable(ld));
    size_t n = ldisc_read(ld, (uint8_t *)buf, sizeof(buf));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);
}

static void expect_echo(struct tty_ldisc *ld, const char *want)
{
    char buf[512];
    size_t n = ldisc_out_read(ld, (uint8_t *)buf, sizeof(buf));
    buf[n] = 0;
    assert_string_equal(buf, want);
}

static void test_defaults(void **state)
{
    (void)state;
    struct tty_ldisc *ld = fresh();
    assert_int_equal(ld->t.c_iflag, 02400);
    assert_int_equal(ld->t.c_oflag, 05);
    assert_int_equal(ld->t.c_cflag, 0277);
    assert_int_equal(ld->t.c_lflag, 0105073);
    static const uint8_t cc[17] = {3,   034, 0177, 025, 4,   0,   1,   0, 021,
                                   023, 032, 0,    022, 017, 027, 026, 0};
    assert_memory_equal(ld->t.c_cc, cc, sizeof(cc));
}

static void test_editing(void **state)
{
    (void)state;
    struct tty_ldisc *ld = fresh();
    type(ld, "abc\x7f"
             "d\n");
    expect_read(ld, "abd\n");
    expect_echo(ld, "abc\b \bd\r\n");
    type(ld, "xyz\x15ok\n");
    expect_read(ld, "ok\n");
    expect_echo(ld, "xyz\b \b\b \b\b \bok\r\n");
    type(ld, "one two\x17three\n");
    expect_read(ld, "one three\n");
    expect_echo(ld, "one two\b \b\b \b\b \bthree\r\n");
    type(ld, "tab\t\x7fx\n");
    expect_read(ld, "tabx\n");
    expect_echo(ld, "tab\t\b\b\b\b\bx\r\n");
    type(ld, "ctl\x01\x7f!\n");
    expect_read(ld, "ctl!\n");
    expect_echo(ld, "ctl^A\b \b\b \b!\r\n");
    type(ld, "cr\r");
    expect_read(ld, "cr\n");
    expect_echo(ld, "cr\r\n");
    /* an erase at the start of a line does nothing */
    type(ld, "\x7f\n");
    expect_read(ld, "\n");
}

static void test_eof_and_lines(void **state)
{
    (void)state;
    struct tty_ldisc *ld = fresh();
    type(ld, "partial\x04");
    assert_int_equal(ldisc_inq(ld), 7);
    expect_read(ld, "partial");
    type(ld, "\x04");
    expect_read(ld, ""); /* EOF at the start of a line: a read of 0 */
    assert_false(ldisc_readable(ld));
    expect_echo(ld, "partial");
    type(ld, "two\nlines\n");
    assert_int_equal(ldisc_inq(ld), 10);
    expect_read(ld, "two\n");
    char buf[3];
    assert_int_equal(ldisc_read(ld, (uint8_t *)buf, 3), 3);
    assert_memory_equal(buf, "lin", 3);
    expect_read(ld, "es\n");
    type(ld, "half");
    assert_false(ldisc_readable(ld));
}

static void test_signals(void **state)
{
    (void)state;
    struct tty_ldisc *ld = fresh();
    int sig;
    const char *in = "ab\x03"
                     "cd\n";
    /* the ISIG character flushes what was typed and ends the call with its signal */
    assert_int_equal(ldisc_receive(ld, (const uint8_t *)in, strlen(in), &sig), 3);
    assert_int_equal(sig, 2);
    expect_echo(ld, "^C");
    type(ld, in + 3);
    expect_read(ld, "cd\n");
    expect_echo(ld, "cd\r\n");
    assert_int_equal(ldisc_receive(ld, (const uint8_t *)"\x1c\x1a", 2, &sig), 1);
    assert_int_equal(sig, 3);
    assert_int_equal(ldisc_receive(ld, (const uint8_t *)"\x1a", 1, &sig), 1);
    assert_int_equal(sig, 20);
    expect_echo(ld, "^Z"); /* the second ISIG character flushed the first one's echo, as on Linux */
}

static void test_raw_and_switch(void **state)
{
    (void)state;
    struct tty_ldisc *ld = fresh();
    struct linux_termios t = ld->t;
    t.c_iflag = 0;
    t.c_oflag &= ~(uint32_t)TTY_OPOST;
    t.c_lflag &= ~(uint32_t)(TTY_ECHO | TTY_ECHONL | TTY_ICANON | TTY_ISIG | TTY_IEXTEN);
    ldisc_set_termios(ld, &t);
    type(ld, "a\rb\x03\x7f\n");
    expect_read(ld, "a\rb\x03\x7f\n");
    expect_echo(ld, "");
    type(ld, "left");
    t.c_lflag |= TTY_ICANON;
    ldisc_set_termios(ld, &t);
    expect_read(ld, "left"); /* raw bytes become a pushed line */
    type(ld, "half");
    assert_false(ldisc_readable(ld));
    t.c_lflag &= ~(uint32_t)TTY_ICANON;
    ldisc_set_termios(ld, &t);
    expect_read(ld, "half");
}

static void test_full(void **state)
{
    (void)state;
    struct tty_ldisc *ld = fresh();
    static char big[LDISC_IN_SIZE + 10];
    memset(big, 'x', sizeof(big));
    int sig;
    /* canonical: a line longer than the buffer keeps only what fits, and still ends */
    size_t n = ldisc_receive(ld, (const uint8_t *)big, sizeof(big), &sig);
    assert_int_equal(n, sizeof(big));
    assert_false(ldisc_readable(ld));
    type(ld, "\n");
    char buf[LDISC_IN_SIZE];
    assert_int_equal(ldisc_read(ld, (uint8_t *)buf, sizeof(buf)), LDISC_IN_SIZE - 1);
    assert_int_equal(buf[LDISC_IN_SIZE - 2], '\n');
    /* raw: the writer stops at 4095 bytes until the reader takes some */
    struct linux_termios t = ld->t;
    t.c_lflag = 0;
    ldisc_set_termios(ld, &t);
    ldisc_flush_output(ld);
    n = ldisc_receive(ld, (const uint8_t *)big, sizeof(big), &sig);
    assert_int_equal(n, LDISC_IN_SIZE - 1);
    assert_false(ldisc_can_receive(ld));
    assert_int_equal(ldisc_read(ld, (uint8_t *)buf, 10), 10);
    assert_true(ldisc_can_receive(ld));
}

static void test_output(void **state)
{
    (void)state;
    struct tty_ldisc *ld = fresh();
    const char *s = "line1\nline2\n";
    assert_int_equal(ldisc_write(ld, (const uint8_t *)s, strlen(s)), strlen(s));
    expect_echo(ld, "line1\r\nline2\r\n");
    /* a newline whose \r\n does not fit waits whole */
    static uint8_t fill[LDISC_OUT_SIZE - 1];
    memset(fill, 'y', sizeof(fill));
    assert_int_equal(ldisc_write(ld, fill, sizeof(fill)), sizeof(fill));
    assert_int_equal(ldisc_write(ld, (const uint8_t *)"\n", 1), 0);
    assert_int_equal(ldisc_out_room(ld), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),       cmocka_unit_test(test_editing),
        cmocka_unit_test(test_eof_and_lines),  cmocka_unit_test(test_signals),
        cmocka_unit_test(test_raw_and_switch), cmocka_unit_test(test_full),
        cmocka_unit_test(test_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
