/* pty.c: pseudo-terminals as programs see them, printed so that a run on Linux and one in an
 * enclave must agree (tests/integration/pty.bats): openpty and posix_openpt, grantpt, unlockpt,
 * ptsname, TIOCGPTPEER; isatty and ttyname; the default termios; canonical input with erase,
 * kill, word erase and EOF, the echo the master sees, ONLCR; raw mode byte by byte and VMIN/VTIME;
 * a child in its own session with the slave as its controlling terminal getting SIGINT from ^C
 * and SIGWINCH from a resize, and SIGHUP when the master goes; hangups both ways; poll on both
 * ends; O_NONBLOCK; each errno by name.
 *
 * Linux moves what one end writes to the other in a work queue, a moment later: before looking
 * without blocking, the program waits with poll for what it expects (drain below).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "show.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* bytes as C escapes */
static void show_bytes(const char *what, const char *b, long n)
{
    printf("%s: %ld \"", what, n);
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c == '\n')
            printf("\\n");
        else if (c == '\r')
            printf("\\r");
        else if (c == '\b')
            printf("\\b");
        else if (c < 32 || c >= 127)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    printf("\"\n");
}

/* Reads what fd has until it has been quiet for 300 ms (or want bytes came). */
static long drain(int fd, char *buf, long size, long want)
{
    long n = 0;
    while (n < size) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, want && n >= want ? 0 : 300) <= 0 || !(p.revents & POLLIN))
            break;
        long r = read(fd, buf + n, (size_t)(size - n));
        if (r <= 0)
            break;
        n += r;
    }
    return n;
}

static void show_drain(const char *what, int fd, long want)
{
    char buf[512];
    show_bytes(what, buf, drain(fd, buf, sizeof(buf), want));
}

/* Waits for fd to be readable (what Linux's work queue brings), at most 2 s. */
static void wait_in(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, 2000);
}

static void show_poll(const char *what, int fd)
{
    struct pollfd p = {fd, POLLIN | POLLOUT, 0};
    int r = poll(&p, 1, 0);
    printf("%s: %d%s%s%s%s\n", what, r, p.revents & POLLIN ? " IN" : "",
           p.revents & POLLOUT ? " OUT" : "", p.revents & POLLHUP ? " HUP" : "",
           p.revents & POLLERR ? " ERR" : "");
}

static void show_read(const char *what, int fd, long size)
{
    char buf[512];
    errno = 0;
    long n = read(fd, buf, (size_t)size);
    if (n < 0)
        printf("%s: %s\n", what, errno_name(errno));
    else
        show_bytes(what, buf, n);
}

static void put(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
        printf("write failed: %s\n", errno_name(errno));
}

static int name_is_pts(int fd)
{
    char *n = ttyname(fd);
    struct stat a, b;
    if (!n || strncmp(n, "/dev/pts/", 9) || stat(n, &a) || fstat(fd, &b))
        return 0;
    return a.st_rdev == b.st_rdev && S_ISCHR(a.st_mode) && major(a.st_rdev) == 136;
}

static void opening(void)
{
    printf("-- opening\n");
    int m, s;
    SHOW_OK("openpty", openpty(&m, &s, NULL, NULL, NULL));
    printf("isatty master %d slave %d, ttyname is /dev/pts/N with its rdev: %d\n", isatty(m),
           isatty(s), name_is_pts(s));
    int p[2];
    if (pipe(p) == 0) {
        errno = 0;
        int r = isatty(p[0]);
        printf("isatty of a pipe: %d %s\n", r, errno_name(errno));
        close(p[0]);
        close(p[1]);
    }
    struct stat st;
    fstat(m, &st);
    printf("master rdev %u:%u\n", major(st.st_rdev), minor(st.st_rdev));
    char *name = ptsname(m);
    char path[64];
    snprintf(path, sizeof(path), "%s", name ? name : "?");
    close(s);
    SHOW_OK("stat the slave while the master is open", stat(path, &st));
    close(m);
    SHOW_OK("stat the slave once the master closed", stat(path, &st));

    m = posix_openpt(O_RDWR | O_NOCTTY);
    printf("posix_openpt: %s\n", m < 0 ? errno_name(errno) : "ok");
    SHOW_OK("grantpt", grantpt(m));
    name = ptsname(m);
    snprintf(path, sizeof(path), "%s", name ? name : "?");
    int lock = -1;
    ioctl(m, TIOCGPTLCK, &lock);
    printf("locked before unlockpt: %d\n", lock);
    SHOW_OK("open the slave while locked", open(path, O_RDWR | O_NOCTTY));
    SHOW_OK("TIOCGPTPEER while locked", ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY));
    SHOW_OK("unlockpt", unlockpt(m));
    ioctl(m, TIOCGPTLCK, &lock);
    printf("locked after unlockpt: %d\n", lock);
    s = open(path, O_RDWR | O_NOCTTY);
    printf("open the slave: %s\n", s < 0 ? errno_name(errno) : "ok");
    int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    printf("TIOCGPTPEER: %s, the same tty: %d\n", peer < 0 ? errno_name(errno) : "ok",
           name_is_pts(peer) && !strcmp(ttyname(peer), path));
    int n = -1, sn = 0;
    SHOW_OK("TIOCGPTN on the slave", ioctl(s, TIOCGPTN, &sn));
    SHOW_OK("TIOCGPTN on the master", ioctl(m, TIOCGPTN, &n));
    printf("its name is /dev/pts/<TIOCGPTN>: %d\n",
           !strcmp(path + 9, "") ? 0 : atoi(path + 9) == n);
    SHOW_OK("tcgetattr of a closed descriptor", tcgetattr(-1, &(struct termios){0}));
    close(peer);
    close(s);
    close(m);
}

static void defaults(void)
{
    printf("-- default termios\n");
    int m, s;
    openpty(&m, &s, NULL, NULL, NULL);
    struct termios t, mt;
    memset(&t, 0, sizeof(t));
    memset(&mt, 0, sizeof(mt));
    SHOW_OK("tcgetattr slave", tcgetattr(s, &t));
    printf("iflag %o oflag %o cflag %o lflag %o\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
    printf("cc");
    for (int i = 0; i < 17; i++)
        printf(" %o", t.c_cc[i]);
    printf("\nspeed %d\n", (int)cfgetospeed(&t) == B38400);
    SHOW_OK("tcgetattr master", tcgetattr(m, &mt));
    printf("master: iflag %o oflag %o cflag %o lflag %o\n", mt.c_iflag, mt.c_oflag, mt.c_cflag,
           mt.c_lflag);
    struct winsize ws;
    SHOW_OK("TIOCGWINSZ", ioctl(s, TIOCGWINSZ, &ws));
    printf("winsize %d %d %d %d\n", ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel);
    close(s);
    close(m);
}

static void canonical(void)
{
    printf("-- canonical input\n");
    int m, s;
    openpty(&m, &s, NULL, NULL, NULL);
    put(m, "abc\x7f"
           "d\n");
    show_read("erase: slave reads", s, 100);
    show_drain("erase: master sees the echo", m, 0);
    put(m, "xyz\x15ok\n");
    show_read("kill: slave reads", s, 100);
    show_drain("kill: echo", m, 0);
    put(m, "one two\x17three\n");
    show_read("werase: slave reads", s, 100);
    show_drain("werase: echo", m, 0);
    put(m, "tab\t\x7fx\n");
    show_read("tab erased", s, 100);
    show_drain("tab erased: echo", m, 0);
    put(m, "ctl\x01\x7f!\n");
    show_read("a control character erased", s, 100);
    show_drain("a control character erased: echo", m, 0);
    put(m, "partial\x04");
    show_read("EOF after text", s, 100);
    put(m, "\x04");
    show_read("EOF at the start of a line", s, 100);
    put(m, "cr\r");
    show_read("ICRNL", s, 100);
    put(m, "two\nlines\n");
    wait_in(s);
    usleep(100000);
    int n = -1;
    ioctl(s, FIONREAD, &n);
    printf("FIONREAD on the slave: %d\n", n);
    show_read("one line a read", s, 100);
    show_read("short read", s, 3);
    show_read("the rest", s, 100);
    show_drain("echo of both", m, 0);
    put(m, "part");
    usleep(200000);
    show_poll("slave poll with half a line", s);
    int fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl | O_NONBLOCK);
    show_read("O_NONBLOCK read with half a line", s, 100);
    fcntl(s, F_SETFL, fl);
    put(m, "\n");
    wait_in(s);
    show_poll("slave poll with a line", s);
    show_read("the line", s, 100);
    show_drain("echo", m, 0);
    struct termios t;
    tcgetattr(s, &t);
    t.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(s, TCSANOW, &t);
    put(m, "secret\n");
    show_read("no echo: slave reads", s, 100);
    show_drain("no echo: master sees", m, 0);
    t.c_lflag |= ECHONL;
    tcsetattr(s, TCSANOW, &t);
    put(m, "nl\n");
    show_read("ECHONL: slave reads", s, 100);
    show_drain("ECHONL: master sees", m, 0);
    close(s);
    close(m);
}

static void output(void)
{
    printf("-- output\n");
    int m, s;
    openpty(&m, &s, NULL, NULL, NULL);
    put(s, "line1\nline2\n");
    show_drain("ONLCR", m, 14);
    struct termios t;
    tcgetattr(s, &t);
    t.c_oflag &= ~(tcflag_t)OPOST;
    tcsetattr(s, TCSANOW, &t);
    put(s, "raw\n");
    show_drain("no OPOST", m, 4);
    put(s, "abc");
    wait_in(m);
    usleep(100000);
    int n = -1;
    ioctl(m, FIONREAD, &n);
    printf("FIONREAD on the master: %d\n", n);
    SHOW("TIOCOUTQ on the slave", (ioctl(s, TIOCOUTQ, &n), n));
    show_poll("master poll with output", m);
    tcflush(m, TCIFLUSH);
    show_poll("master poll after TCIFLUSH", m);
    int fl = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, fl | O_NONBLOCK);
    show_read("master O_NONBLOCK read with nothing", m, 100);
    fcntl(m, F_SETFL, fl);
    close(s);
    close(m);
}

static void raw_mode(void)
{
    printf("-- raw mode\n");
    int m, s;
    openpty(&m, &s, NULL, NULL, NULL);
    struct termios t;
    tcgetattr(s, &t);
    cfmakeraw(&t);
    SHOW_OK("cfmakeraw, tcsetattr", tcsetattr(s, TCSANOW, &t));
    tcgetattr(s, &t);
    printf("iflag %o oflag %o lflag %o\n", t.c_iflag, t.c_oflag, t.c_lflag);
    put(m, "a\rb\x03\x7f\n");
    for (int i = 0; i < 6; i++)
        show_read("byte", s, 1);
    show_drain("no echo", m, 0);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    tcsetattr(s, TCSANOW, &t);
    show_read("VMIN 0 VTIME 0 with nothing", s, 10);
    t.c_cc[VTIME] = 2;
    tcsetattr(s, TCSANOW, &t);
    show_read("VMIN 0 VTIME 2 with nothing", s, 10);
    t.c_cc[VMIN] = 3;
    t.c_cc[VTIME] = 0;
    tcsetattr(s, TCSANOW, &t);
    put(m, "x");
    usleep(100000);
    show_poll("VMIN 3 with one byte: slave poll", s);
    put(m, "yz");
    show_read("VMIN 3 read", s, 10);
    t.c_cc[VMIN] = 1;
    tcsetattr(s, TCSANOW, &t);
    int fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl | O_NONBLOCK);
    show_read("O_NONBLOCK read with nothing", s, 10);
    fcntl(s, F_SETFL, fl);
    put(m, "left");
    usleep(200000);
    t.c_lflag |= ICANON;
    tcsetattr(s, TCSANOW, &t);
    show_poll("raw bytes, then ICANON: slave poll", s);
    show_read("they read as a line", s, 10);
    put(m, "half");
    usleep(200000);
    t.c_lflag &= ~(tcflag_t)ICANON;
    tcsetattr(s, TCSANOW, &t);
    show_read("half a line, then raw", s, 10);
    put(m, "flushed");
    usleep(200000);
    tcflush(s, TCIFLUSH);
    t.c_cc[VMIN] = 0;
    tcsetattr(s, TCSANOW, &t);
    show_read("after TCIFLUSH", s, 10);
    close(s);
    close(m);
}

static volatile sig_atomic_t g_sigs[65];
static void on_sig(int sig)
{
    g_sigs[sig]++;
}

static void report(int fd, const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (write(fd, buf, (size_t)n) < 0)
        _exit(9);
}

/* Waits (a signal at most 5 s away) until sig came. */
static int wait_sig(int sig)
{
    for (int i = 0; i < 500 && !g_sigs[sig]; i++)
        usleep(10000);
    return g_sigs[sig];
}

/* A process of the session in a background group of its own: SIGTTIN for a read, SIGTTOU for a
 * termios change (caught, without SA_RESTART: EINTR), EIO for a read once SIGTTIN is ignored. */
static void background(int s, int to_parent)
{
    setpgid(0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sig;
    sigaction(SIGTTIN, &sa, NULL);
    sigaction(SIGTTOU, &sa, NULL);
    char c;
    errno = 0;
    long n = read(s, &c, 1);
    report(to_parent, "background: read %ld %s, SIGTTIN %d\n", n, n < 0 ? errno_name(errno) : "",
           (int)g_sigs[SIGTTIN]);
    struct termios t;
    errno = 0;
    int r = tcgetattr(s, &t);
    report(to_parent, "background: tcgetattr %s\n", r ? errno_name(errno) : "ok");
    errno = 0;
    r = tcsetattr(s, TCSANOW, &t);
    report(to_parent, "background: tcsetattr %s, SIGTTOU %d\n", r ? errno_name(errno) : "ok",
           (int)g_sigs[SIGTTOU]);
    n = write(s, "bg\n", 3);
    report(to_parent, "background: write without TOSTOP %ld\n", n);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    errno = 0;
    n = read(s, &c, 1);
    report(to_parent, "background: read with SIGTTIN ignored %ld %s\n", n,
           n < 0 ? errno_name(errno) : "");
    errno = 0;
    r = tcsetattr(s, TCSANOW, &t);
    report(to_parent, "background: tcsetattr with SIGTTOU ignored %s\n",
           r ? errno_name(errno) : "ok");
    errno = 0;
    r = tcsetpgrp(s, getpgrp());
    report(to_parent, "background: tcsetpgrp with SIGTTOU ignored %s\n",
           r ? errno_name(errno) : "ok");
    _exit(0);
}

static void session_child(int s, int to_parent, int from_parent)
{
    char c;
    setsid();
    errno = 0;
    int fd = open("/dev/tty", O_RDWR);
    report(to_parent, "child: /dev/tty in a new session: %s\n",
           (fd < 0 ? errno_name(errno) : "opens"));
    report(to_parent, "child: TIOCSCTTY: %s\n",
           (ioctl(s, TIOCSCTTY, 0) ? errno_name(errno) : "ok"));
    report(to_parent, "child: tcsetpgrp: %s\n",
           (tcsetpgrp(s, getpid()) ? errno_name(errno) : "ok"));
    report(to_parent, "child: tcgetpgrp is its pid %d, tcgetsid %d\n", tcgetpgrp(s) == getpid(),
           tcgetsid(s) == getpid());
    fd = open("/dev/tty", O_RDWR);
    char *tn = fd >= 0 ? ttyname(fd) : NULL;
    report(to_parent, "child: /dev/tty now: %s, ttyname %s\n",
           (fd >= 0 ? "opens" : errno_name(errno)), (tn ? tn : "-"));
    FILE *f = fopen("/proc/self/stat", "r");
    int tty_nr = -1, tpgid = 0;
    if (f) {
        if (fscanf(f, "%*d %*s %*c %*d %*d %*d %d %d", &tty_nr, &tpgid) != 2)
            tty_nr = -1;
        fclose(f);
    }
    struct stat st;
    fstat(s, &st);
    report(to_parent, "child: /proc/self/stat tty_nr is its rdev %d, tpgid its pid %d\n",
           (unsigned)tty_nr == st.st_rdev, tpgid == getpid());
    signal(SIGINT, on_sig);
    signal(SIGQUIT, on_sig);
    signal(SIGWINCH, on_sig);
    signal(SIGHUP, on_sig);
    signal(SIGCONT, on_sig);
    signal(SIGTSTP, on_sig);
    report(to_parent, "ready\n");
    if (read(from_parent, &c, 1) != 1) /* the parent typed ^C */
        _exit(8);
    report(to_parent, "child: SIGINT %d\n", wait_sig(SIGINT));
    if (read(from_parent, &c, 1) != 1) /* ^\ and ^Z */
        _exit(8);
    report(to_parent, "child: SIGQUIT %d SIGTSTP %d\n", wait_sig(SIGQUIT), wait_sig(SIGTSTP));
    if (read(from_parent, &c, 1) != 1) /* a resize */
        _exit(8);
    wait_sig(SIGWINCH);
    struct winsize ws = {0};
    ioctl(s, TIOCGWINSZ, &ws);
    report(to_parent, "child: SIGWINCH %d, rows %d\n", (int)g_sigs[SIGWINCH], ws.ws_row);
    if (read(from_parent, &c, 1) != 1) /* the same size again */
        _exit(8);
    usleep(200000);
    report(to_parent, "child: SIGWINCH after the same size %d\n", (int)g_sigs[SIGWINCH]);
    if (read(from_parent, &c, 1) != 1) /* the background test */
        _exit(8);
    pid_t bg = fork();
    if (bg == 0)
        background(s, to_parent);
    int bst;
    waitpid(bg, &bst, 0);
    report(to_parent, "child: the background process %s %d, the foreground group is %s\n",
           WIFEXITED(bst) ? "exited" : "was killed",
           WIFEXITED(bst) ? WEXITSTATUS(bst) : WTERMSIG(bst),
           tcgetpgrp(s) == getpid() ? "the child's" : "another");
    tcsetpgrp(s, getpid());
    if (read(from_parent, &c, 1) != 1) /* the master is closed */
        _exit(8);
    report(to_parent, "child: SIGHUP %d SIGCONT %d\n", wait_sig(SIGHUP), wait_sig(SIGCONT));
    char buf[8];
    errno = 0;
    long n = read(s, buf, sizeof(buf));
    report(to_parent, "child: read after hangup %ld %s\n", n, (n < 0 ? errno_name(errno) : ""));
    errno = 0;
    n = write(s, "x", 1);
    report(to_parent, "child: write after hangup %ld %s\n", n, (n < 0 ? errno_name(errno) : ""));
    struct termios t;
    report(to_parent, "child: tcgetattr after hangup %s\n",
           (tcgetattr(s, &t) ? errno_name(errno) : "ok"));
    struct pollfd p = {s, POLLIN | POLLOUT, 0};
    poll(&p, 1, 0);
    report(to_parent, "child: poll after hangup IN %d HUP %d\n", !!(p.revents & POLLIN),
           !!(p.revents & POLLHUP));
    errno = 0;
    fd = open("/dev/tty", O_RDWR);
    report(to_parent, "child: /dev/tty after hangup %s\n", (fd < 0 ? errno_name(errno) : "opens"));
    _exit(0);
}

static void relay(int from, int until_ready)
{
    char buf[256];
    for (;;) {
        long n = 0;
        while (n < (long)sizeof(buf) - 1 && read(from, buf + n, 1) == 1 && buf[n] != '\n')
            n++;
        buf[n] = 0;
        if (n == 0 || (until_ready && !strcmp(buf, "ready")))
            return;
        printf("%s\n", buf);
        if (!until_ready)
            return;
    }
}

static void session(void)
{
    printf("-- a session with the slave as its terminal\n");
    fflush(stdout);
    int m, s;
    openpty(&m, &s, NULL, NULL, NULL);
    int up[2], down[2];
    if (pipe(up) || pipe(down))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        close(m);
        session_child(s, up[1], down[0]);
    }
    close(up[1]);
    close(down[0]);
    close(s);
    relay(up[0], 1);
    put(m, "\x03");
    if (write(down[1], "c", 1) != 1)
        return;
    relay(up[0], 0);
    show_drain("the master sees the echo of ^C", m, 0);
    put(m, "\x1c\x1a");
    if (write(down[1], "q", 1) != 1)
        return;
    relay(up[0], 0);
    show_drain("echo of ^\\ and ^Z", m, 0);
    struct winsize ws = {30, 100, 0, 0};
    SHOW_OK("TIOCSWINSZ on the master", ioctl(m, TIOCSWINSZ, &ws));
    if (write(down[1], "w", 1) != 1)
        return;
    relay(up[0], 0);
    ioctl(m, TIOCSWINSZ, &ws);
    if (write(down[1], "w", 1) != 1)
        return;
    relay(up[0], 0);
    if (write(down[1], "b", 1) != 1)
        return;
    for (int i = 0; i < 8; i++)
        relay(up[0], 0);
    show_drain("the master sees the background write", m, 0);
    int pg = -1;
    SHOW_OK("TIOCGPGRP on the master", ioctl(m, TIOCGPGRP, &pg));
    printf("it is the child's: %d\n", pg == pid);
    close(m);
    if (write(down[1], "h", 1) != 1)
        return;
    for (int i = 0; i < 6; i++)
        relay(up[0], 0);
    int st;
    waitpid(pid, &st, 0);
    printf("child: %s %d\n", WIFEXITED(st) ? "exited" : "killed",
           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static void hangups(void)
{
    printf("-- the slave closes\n");
    int m, s;
    openpty(&m, &s, NULL, NULL, NULL);
    put(s, "bye\n");
    wait_in(m);
    usleep(100000);
    close(s);
    usleep(100000);
    show_poll("master poll, the slave gone with output unread", m);
    show_read("master reads it", m, 100);
    show_poll("master poll, nothing left", m);
    show_read("master read", m, 100);
    int s2 = open(ptsname(m), O_RDWR | O_NOCTTY);
    printf("the slave opens again: %s\n", s2 < 0 ? errno_name(errno) : "ok");
    show_poll("master poll with a slave again", m);
    close(s2);
    close(m);
    printf("-- poll and O_NONBLOCK on a fresh pair\n");
    openpty(&m, &s, NULL, NULL, NULL);
    show_poll("master", m);
    show_poll("slave", s);
    int fl = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, fl | O_NONBLOCK);
    show_read("master O_NONBLOCK read", m, 10);
    fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl | O_NONBLOCK);
    show_read("slave O_NONBLOCK read", s, 10);
    put(m, "q\n");
    wait_in(s);
    usleep(100000);
    show_poll("slave after a line", s);
    show_poll("master with the echo", m);
    SHOW_OK("TCFLSH 7", ioctl(s, TCFLSH, 7));
    SHOW_OK("TIOCSPGRP without a terminal", tcsetpgrp(s, getpgrp()));
    SHOW_OK("TIOCGPGRP on the slave without it as a terminal", tcgetpgrp(s));
    SHOW_OK("TIOCNOTTY without a terminal", ioctl(s, TIOCNOTTY));
    close(s);
    close(m);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    opening();
    defaults();
    canonical();
    output();
    raw_mode();
    session();
    hangups();
    printf("done\n");
    return 0;
}
