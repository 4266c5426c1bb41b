/* tty_raw.c: the host terminal in raw mode (see tty_raw.h). */
#include "common/tty_raw.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

void tty_raw_flags(struct termios *t)
{
    t->c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t->c_oflag &= ~(tcflag_t)OPOST;
    t->c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t->c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t->c_cflag |= CS8;
    t->c_cc[VMIN] = 1;
    t->c_cc[VTIME] = 0;
}

int tty_raw_enter(struct tty_raw *r, int fd)
{
    r->fd = -1;
    if (!isatty(fd) || tcgetpgrp(fd) != getpgrp())
        return 0;
    if (tcgetattr(fd, &r->saved))
        return -1;
    struct termios raw = r->saved;
    tty_raw_flags(&raw);
    if (tcsetattr(fd, TCSANOW, &raw))
        return -1;
    r->fd = fd;
    return 1;
}

void tty_raw_leave(struct tty_raw *r)
{
    if (r->fd < 0)
        return;
    int e = errno;
    while (tcsetattr(r->fd, TCSANOW, &r->saved) && errno == EINTR)
        ;
    r->fd = -1;
    errno = e;
}
