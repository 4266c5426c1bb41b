/* exec_pty.c: a session's terminal in the exec service (exec_pty.h). */
#define _GNU_SOURCE
#include "exec_pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int exec_pty_open(const struct exec_winsize *ws, char *name, size_t n)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return -1;
    const char *slave = NULL;
    if (grantpt(m) || unlockpt(m) || !(slave = ptsname(m)) || strlen(slave) >= n) {
        int e = slave ? ENAMETOOLONG : errno;
        close(m);
        errno = e;
        return -1;
    }
    strcpy(name, slave);
    exec_pty_resize(m, ws);
    return m;
}

int exec_pty_take(const char *name)
{
    if (setsid() < 0)
        return -1;
    /* the first terminal a session leader opens without O_NOCTTY becomes its controlling one;
     * TIOCSCTTY says so where that is not the rule */
    int s = open(name, O_RDWR);
    if (s < 0)
        return -1;
    ioctl(s, TIOCSCTTY, 0);
    if (dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0)
        return -1;
    if (s > 2)
        close(s);
    return 0;
}

void exec_pty_resize(int master, const struct exec_winsize *ws)
{
    struct winsize w = {.ws_row = ws->rows, .ws_col = ws->cols};
    ioctl(master, TIOCSWINSZ, &w);
}

unsigned char exec_pty_eof_char(int master)
{
    struct termios t;
    if (tcgetattr(master, &t) == 0 && t.c_cc[VEOF] != 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
        return t.c_cc[VEOF];
    return 4; /* ^D */
}
