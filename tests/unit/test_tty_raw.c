/* test_tty_raw.c: common/tty_raw.c, the host terminal of `alcove run -t` made raw and restored,
 * on a real pty that a child process has as its controlling terminal (as a shell gives one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <pty.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/tty_raw.h"

/* The settings `stty -g` shows (memcmp would compare the struct's padding too). */
static int same_termios(const struct termios *a, const struct termios *b)
{
    return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
           a->c_lflag == b->c_lflag && !memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) &&
           cfgetispeed(a) == cfgetispeed(b) && cfgetospeed(a) == cfgetospeed(b);
}

/* Child: setsid, the slave as controlling terminal and fd 0; then the checks. Its exit status
 * says which check failed (0: none). */
static int child_checks(int slave)
{
    if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) || dup2(slave, 0) < 0)
        return 10;
    struct termios before, during, after;
    if (tcgetattr(0, &before))
        return 11;
    if (!(before.c_lflag & (ICANON | ECHO | ISIG)))
        return 12; /* a new pty starts cooked */
    struct tty_raw r;
    if (tty_raw_enter(&r, 0) != 1 || r.fd != 0)
        return 13;
    if (tcgetattr(0, &during))
        return 14;
    if (during.c_lflag & (ICANON | ECHO | ISIG | IEXTEN))
        return 15; /* ^C must be a byte, nothing echoed or edited */
    if (during.c_oflag & OPOST)
        return 16; /* no \n to \r\n on the host: the enclave's terminal does it */
    if (during.c_iflag & (ICRNL | IXON))
        return 17;
    if (during.c_cc[VMIN] != 1 || during.c_cc[VTIME] != 0)
        return 18;
    tty_raw_leave(&r);
    tty_raw_leave(&r); /* twice is harmless */
    if (tcgetattr(0, &after))
        return 19;
    if (!same_termios(&before, &after))
        return 20;
    return 0;
}

static void raw_and_restored(void **state)
{
    (void)state;
    int master, slave;
    assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_checks(slave));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(master);
    close(slave);
}

/* Not a terminal, or a terminal that is not ours in the foreground: nothing is changed. */
static void not_ours_untouched(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct tty_raw r;
    assert_int_equal(tty_raw_enter(&r, p[0]), 0);
    assert_int_equal(r.fd, -1);
    tty_raw_leave(&r);
    close(p[0]);
    close(p[1]);

    int master, slave;
    assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
    struct termios before, after;
    assert_int_equal(tcgetattr(slave, &before), 0);
    /* no process group is in its foreground: not this process's controlling terminal */
    assert_int_equal(tty_raw_enter(&r, slave), 0);
    assert_int_equal(tcgetattr(slave, &after), 0);
    assert_true(same_termios(&before, &after));
    close(master);
    close(slave);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(raw_and_restored),
        cmocka_unit_test(not_ours_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
