/* tty_raw.h: the host terminal in raw mode while an enclave's console is a terminal inside
 * (`alcove run -t`, an OCI container's process.terminal), so that the enclave's line discipline
 * is the only one: no echo, no line editing, no signals from ^C (it becomes byte 0x03), no
 * \n to \r\n on output. */
#ifndef ALCOVE_TTY_RAW_H
#define ALCOVE_TTY_RAW_H

#include <termios.h>

struct tty_raw {
    int fd; /* -1: nothing to restore */
    struct termios saved;
};

/* cfmakeraw's flags (with ISIG off) applied to t. */
void tty_raw_flags(struct termios *t);
/* When fd is a terminal whose foreground group is ours (a background job that changed it would
 * be stopped by SIGTTOU), saves its settings in r and makes it raw: 1. 0 when fd is not such a
 * terminal (r->fd is -1 then), -1 with errno when the change failed. */
int tty_raw_enter(struct tty_raw *r, int fd);
/* Puts the saved settings back (at once, TCSANOW: an ioctl the monitor's sandbox allows);
 * nothing when r holds none. Safe to call twice. */
void tty_raw_leave(struct tty_raw *r);

#endif
