/* tty.h: terminals inside the enclave: pseudo-terminal pairs (dev/pty.c: /dev/ptmx, /dev/pts/N,
 * /dev/tty, the controlling terminal) and the line discipline between their two ends
 * (dev/tty_ldisc.c: termios, canonical and raw input, echo, output processing). docs/tty.md says
 * what is built and what is not.
 */
#ifndef ALCOVE_TTY_H
#define ALCOVE_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the termios ABI (struct termios of the TCGETS family: Linux's kernel layout) ---- */
#define TTY_NCCS 19
struct linux_termios {
    uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
    uint8_t c_line;
    uint8_t c_cc[TTY_NCCS];
};

struct linux_winsize {
    uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

/* c_cc indexes */
enum {
    VINTR = 0,
    VQUIT,
    VERASE,
    VKILL,
    VEOF,
    VTIME,
    VMIN,
    VSWTC,
    VSTART,
    VSTOP,
    VSUSP,
    VEOL,
    VREPRINT,
    VDISCARD,
    VWERASE,
    VLNEXT,
    VEOL2
};
/* c_iflag */
#define TTY_IGNBRK  0000001
#define TTY_INLCR   0000100
#define TTY_IGNCR   0000200
#define TTY_ICRNL   0000400
#define TTY_IUCLC   0001000
#define TTY_IXON    0002000
#define TTY_IXANY   0004000
#define TTY_IMAXBEL 0020000
#define TTY_IUTF8   0040000
/* c_oflag */
#define TTY_OPOST  0000001
#define TTY_OLCUC  0000002
#define TTY_ONLCR  0000004
#define TTY_OCRNL  0000010
#define TTY_ONOCR  0000020
#define TTY_ONLRET 0000040
/* c_cflag */
#define TTY_B38400 0000017
#define TTY_CS8    0000060
#define TTY_CREAD  0000200
/* c_lflag */
#define TTY_ISIG    0000001
#define TTY_ICANON  0000002
#define TTY_ECHO    0000010
#define TTY_ECHOE   0000020
#define TTY_ECHOK   0000040
#define TTY_ECHONL  0000100
#define TTY_NOFLSH  0000200
#define TTY_TOSTOP  0000400
#define TTY_ECHOCTL 0001000
#define TTY_ECHOKE  0004000
#define TTY_IEXTEN  0100000

/* ioctl commands */
#define TCGETS      0x5401
#define TCSETS      0x5402
#define TCSETSW     0x5403
#define TCSETSF     0x5404
#define TCSBRK      0x5409
#define TCFLSH      0x540B
#define TIOCSCTTY   0x540E
#define TIOCGPGRP   0x540F
#define TIOCSPGRP   0x5410
#define TIOCOUTQ    0x5411
#define TIOCGWINSZ  0x5413
#define TIOCSWINSZ  0x5414
#define FIONREAD    0x541B
#define TIOCNOTTY   0x5422
#define TIOCGETD    0x5424
#define TCSBRKP     0x5425
#define TIOCGSID    0x5429
#define TIOCGPTN    0x80045430
#define TIOCSPTLCK  0x40045431
#define TIOCGPTLCK  0x80045439
#define TIOCGPTPEER 0x5441
#define TCIFLUSH    0
#define TCOFLUSH    1
#define TCIOFLUSH   2

/* ---- the line discipline (dev/tty_ldisc.c): pure state, no waiting and no signals ---- */
#define LDISC_IN_SIZE  4096u  /* the slave's input, as Linux's N_TTY_BUF_SIZE */
#define LDISC_OUT_SIZE 16384u /* the slave's output (and echoes), read by the master */

struct tty_ldisc {
    struct linux_termios t;
    /* input: a ring of free-running indices; [tail, canon) holds whole lines (canonical mode),
     * [canon, head) the line being edited; in raw mode [tail, head) is all readable */
    uint8_t in[LDISC_IN_SIZE];
    uint8_t in_flags[LDISC_IN_SIZE]; /* LD_EOL: a line ends after this byte; LD_EOF: a marker */
    uint32_t head, canon, tail;
    uint32_t lines;    /* complete lines in [tail, canon) */
    uint32_t echo_col; /* the column the line being edited began at (erasing a tab) */
    bool lnext;        /* the next character is taken literally (VLNEXT) */
    /* output toward the master */
    uint8_t *out; /* LDISC_OUT_SIZE bytes */
    uint32_t out_head, out_tail;
};
#define LD_EOL 1
#define LD_EOF 2

/* A new pty's termios (Linux's tty_std_termios). */
void ldisc_init(struct tty_ldisc *ld, uint8_t *outbuf);
/* New termios: switching ICANON makes the bytes buffered so far one pushed line, or all
 * readable (as Linux's n_tty_set_termios). */
void ldisc_set_termios(struct tty_ldisc *ld, const struct linux_termios *t);
/* Bytes the master wrote: processed until the input is full or an ISIG character is seen.
 * Returns how many were consumed; *sig is the signal that character asks for (0: none). */
size_t ldisc_receive(struct tty_ldisc *ld, const uint8_t *src, size_t len, int *sig);
/* True when a read of the slave would return now (a line, or a byte in raw mode). */
bool ldisc_readable(const struct tty_ldisc *ld);
/* Bytes a read would take (FIONREAD: canonical mode counts whole lines, less EOF markers). */
uint32_t ldisc_inq(const struct tty_ldisc *ld);
/* Canonical read: at most one line (the terminator included, an EOF marker not). Raw read: what
 * is there. Returns the bytes copied (0: an EOF at the start of a line). The caller checked
 * ldisc_readable. */
size_t ldisc_read(struct tty_ldisc *ld, uint8_t *dst, size_t len);
/* Slave writes: output processing (OPOST, ONLCR, OCRNL, ONOCR, ONLRET, OLCUC) into the output
 * ring; returns the source bytes consumed (a byte whose expansion does not fit waits). */
size_t ldisc_write(struct tty_ldisc *ld, const uint8_t *src, size_t len);
/* The master reads the output ring. */
size_t ldisc_out_read(struct tty_ldisc *ld, uint8_t *dst, size_t len);
static inline uint32_t ldisc_out_count(const struct tty_ldisc *ld)
{
    return ld->out_head - ld->out_tail;
}
static inline uint32_t ldisc_out_room(const struct tty_ldisc *ld)
{
    return LDISC_OUT_SIZE - ldisc_out_count(ld);
}
/* Room for master writes (so POLLOUT on the master). */
bool ldisc_can_receive(const struct tty_ldisc *ld);
void ldisc_flush_input(struct tty_ldisc *ld);
void ldisc_flush_output(struct tty_ldisc *ld);

/* ---- pseudo-terminals (dev/pty.c) ---- */
struct inode;
struct file;
struct process;
/* devfs: /dev/ptmx opens a new pair (its master), /dev/tty the controlling terminal. */
int pty_open_ptmx(struct inode *ino, uint32_t flags, struct file **out);
int tty_open_ctty(struct inode *ino, uint32_t flags, struct file **out);
/* devfs makes /dev/pts, where the slaves appear. */
void pty_set_devpts(struct inode *dir);
/* /proc/<pid>/stat's tty_nr: the device number of p's controlling terminal, 0 without one. */
uint32_t tty_nr_of(const struct process *p);
/* ... and its tpgid: the terminal's foreground group, -1 without a terminal. */
int tty_pgrp_of(const struct process *p);
/* setsid: the caller leaves its controlling terminal behind. */
void tty_setsid(struct process *p);
/* p ends: a session leader's terminal is given up (its foreground group gets SIGHUP). */
void tty_exit(struct process *p);
/* The console as a terminal (dev/console_tty.c): master is a /dev/ptmx open; its pair is
 * unlocked and sized ws, and on_change runs (under the kernel lock) after every change of the
 * pair's state, so the console can move bytes between the master and the rings. Returns the
 * pair's number (its /dev/pts/N). */
int pty_console_attach(struct file *master, const struct linux_winsize *ws,
                       void (*on_change)(void));
/* The host's terminal changed size: TIOCSWINSZ on the master (SIGWINCH to the foreground
 * group when it differs). */
void pty_console_resize(struct file *master, const struct linux_winsize *ws);

#endif
