/* console_tty.c: the console as a terminal (`alcove run -t`, docs/tty.md "The console"), as a
 * program sees it; tests/integration/console_tty.bats drives it through a host pty
 * (console_tty_drive.py), natively and in an enclave, and checks the same things of both.
 *
 * console_tty info: isatty of 0, 1 and 2, ttyname(0), whether the terminal's foreground group
 * is the caller's and the caller leads its session, the window size; then exits.
 * console_tty (no argument): the same, then "ready>" and one canonical line read (printed
 * escaped), then a read that a ^C must interrupt (SIGINT to the foreground group), then a wait
 * for SIGWINCH and the new size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t g_int, g_winch;

static void on_int(int sig)
{
    (void)sig;
    g_int++;
}

static void on_winch(int sig)
{
    (void)sig;
    g_winch++;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0 && write(1, buf, (size_t)n) < 0)
        _exit(3);
}

static void show_size(const char *what)
{
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws))
        say("%s: TIOCGWINSZ %s\n", what, strerror(errno));
    else
        say("%s: %ux%u\n", what, ws.ws_row, ws.ws_col);
}

int main(int argc, char **argv)
{
    const char *name = ttyname(0);
    say("isatty: %d %d %d\n", isatty(0), isatty(1), isatty(2));
    say("ttyname: %s\n",
        name ? (strncmp(name, "/dev/pts/", 9) == 0 ? "/dev/pts/N" : name) : strerror(errno));
    say("foreground: %s\n", tcgetpgrp(0) == getpgrp() ? "own group" : "other");
    say("session leader: %s\n", getsid(0) == getpid() ? "yes" : "no");
    struct termios t;
    if (tcgetattr(0, &t) == 0)
        say("termios: icanon %d echo %d isig %d onlcr %d\n", !!(t.c_lflag & ICANON),
            !!(t.c_lflag & ECHO), !!(t.c_lflag & ISIG), !!(t.c_oflag & ONLCR));
    show_size("size");
    if (argc > 1 && strcmp(argv[1], "info") == 0)
        return 0;

    struct sigaction sa = {.sa_handler = on_int}; /* no SA_RESTART: the read returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, NULL);

    char line[256];
    say("ready>");
    ssize_t n = read(0, line, sizeof(line));
    say("line: ");
    for (ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c >= 32 && c < 127 && c != '\\')
            say("%c", c);
        else
            say("\\x%02x", c);
    }
    say(" (%zd bytes)\n", n);

    /* SIGINT blocked but while ppoll waits, so that a ^C typed at once is not lost before the
     * wait begins */
    sigset_t intset, none;
    sigemptyset(&intset);
    sigemptyset(&none);
    sigaddset(&intset, SIGINT);
    sigprocmask(SIG_BLOCK, &intset, NULL);
    say("waiting for ^C\n");
    int r = 0, err = 0;
    while (!g_int) {
        struct pollfd p = {.fd = 0, .events = POLLIN};
        r = ppoll(&p, 1, NULL, &none);
        err = errno;
        if (r > 0) {
            say("input instead of ^C\n");
            return 1;
        }
    }
    say("after ^C: ppoll %d %s, SIGINT %d\n", r, r < 0 ? strerror(err) : "", (int)g_int);

    say("waiting for SIGWINCH\n");
    while (!g_winch) {
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGWINCH);
        sigprocmask(SIG_BLOCK, &block, &old);
        if (!g_winch)
            sigsuspend(&none);
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    say("SIGWINCH %d\n", g_winch > 0);
    show_size("new size");
    say("done\n");
    return 0;
}
