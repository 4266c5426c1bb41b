/* tty_ldisc.c: the line discipline between a pseudo-terminal's master and its slave, as Linux's
 * n_tty behaves toward programs: what the master writes is the slave's input (CR/NL mapping,
 * canonical line editing with VERASE, VKILL, VWERASE, VLNEXT, VEOF and VEOL, echo with ECHOE,
 * ECHOK, ECHOKE, ECHONL and ECHOCTL, the ISIG characters), and what the slave writes is output
 * for the master (OPOST with ONLCR, OCRNL, ONOCR, ONLRET, OLCUC). Echoes are output: they go
 * through the same processing into the ring the master reads.
 *
 * This file is pure state (no waiting, no signals, no user memory): dev/pty.c does the blocking,
 * the signalling and the ioctls around it, and the host unit test (tests/unit/test_tty_ldisc.c)
 * runs it as it is. Everything here is guarded by the kernel lock like the rest.
 */
#include "tty.h"

#include "klib.h"

#define LD_MIN(a, b) ((a) < (b) ? (a) : (b))

#define IMASK(i) ((i) & (LDISC_IN_SIZE - 1))
#define OMASK(i) ((i) & (LDISC_OUT_SIZE - 1))

enum { ERASE, WERASE, KILL };

/* Linux's ctype: 0-31, 127 and 128-159 are control characters */
static bool is_cntrl(uint8_t c)
{
    return c < 32 || c == 127 || (c >= 128 && c < 160);
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool lflag(const struct tty_ldisc *ld, uint32_t bit)
{
    return ld->t.c_lflag & bit;
}

/* a c_cc character, where 0 (_POSIX_VDISABLE) matches nothing */
static bool is_cc(const struct tty_ldisc *ld, uint8_t c, int idx)
{
    return c && ld->t.c_cc[idx] == c;
}

void ldisc_init(struct tty_ldisc *ld, uint8_t *outbuf)
{
    memset(ld, 0, sizeof(*ld));
    ld->out = outbuf;
    ld->t.c_iflag = TTY_ICRNL | TTY_IXON;
    ld->t.c_oflag = TTY_OPOST | TTY_ONLCR;
    ld->t.c_cflag = TTY_B38400 | TTY_CS8 | TTY_CREAD; /* the pts driver: no HUPCL */
    ld->t.c_lflag = TTY_ISIG | TTY_ICANON | TTY_ECHO | TTY_ECHOE | TTY_ECHOK | TTY_ECHOCTL |
                    TTY_ECHOKE | TTY_IEXTEN;
    static const uint8_t cc[TTY_NCCS] = {
        [VINTR] = 003,    [VQUIT] = 034,    [VERASE] = 0177, [VKILL] = 025,  [VEOF] = 004,
        [VTIME] = 0,      [VMIN] = 1,       [VSTART] = 021,  [VSTOP] = 023,  [VSUSP] = 032,
        [VREPRINT] = 022, [VDISCARD] = 017, [VWERASE] = 027, [VLNEXT] = 026,
    };
    memcpy(ld->t.c_cc, cc, sizeof(cc));
}

/* ---- output: the ring the master reads ---- */

static bool out_put(struct tty_ldisc *ld, const uint8_t *s, uint32_t n)
{
    if (ldisc_out_room(ld) < n)
        return false;
    for (uint32_t i = 0; i < n; i++)
        ld->out[OMASK(ld->out_head++)] = s[i];
    return true;
}

/* One byte through OPOST: false when its expansion does not fit (nothing written). */
static bool out_char(struct tty_ldisc *ld, uint8_t c)
{
    uint32_t of = ld->t.c_oflag;
    if (!(of & TTY_OPOST))
        return out_put(ld, &c, 1);
    if (c == '\n' && (of & TTY_ONLCR)) {
        static const uint8_t crlf[2] = {'\r', '\n'};
        return out_put(ld, crlf, 2);
    }
    if (c == '\r' && (of & TTY_OCRNL))
        c = '\n';
    if (of & TTY_OLCUC && c >= 'a' && c <= 'z')
        c = (uint8_t)(c - 'a' + 'A');
    return out_put(ld, &c, 1);
}

size_t ldisc_write(struct tty_ldisc *ld, const uint8_t *src, size_t len)
{
    size_t i = 0;
    while (i < len && out_char(ld, src[i]))
        i++;
    return i;
}

size_t ldisc_out_read(struct tty_ldisc *ld, uint8_t *dst, size_t len)
{
    size_t n = LD_MIN((size_t)ldisc_out_count(ld), len);
    for (size_t i = 0; i < n; i++)
        dst[i] = ld->out[OMASK(ld->out_tail++)];
    return n;
}

void ldisc_flush_output(struct tty_ldisc *ld)
{
    ld->out_tail = ld->out_head;
}

/* Echoes are dropped when the master does not read them (Linux drops them too). */
static void echo_raw(struct tty_ldisc *ld, uint8_t c)
{
    (void)out_char(ld, c);
}

/* A character as ECHOCTL shows it: ^X for control characters but tab (and newline, which the
 * callers echo raw). */
static void echo_char(struct tty_ldisc *ld, uint8_t c)
{
    if (lflag(ld, TTY_ECHOCTL) && is_cntrl(c) && c != '\t') {
        uint8_t s[2] = {'^', (uint8_t)(c ^ 0100)};
        (void)out_put(ld, s, 2);
    } else {
        echo_raw(ld, c);
    }
}

static void echo_bs(struct tty_ldisc *ld, int n)
{
    while (n-- > 0) {
        static const uint8_t bsb[3] = {'\b', ' ', '\b'};
        (void)out_put(ld, bsb, 3);
    }
}

/* ---- input ---- */

static uint32_t in_count(const struct tty_ldisc *ld)
{
    return ld->head - ld->tail;
}

static void in_put(struct tty_ldisc *ld, uint8_t c, uint8_t flags)
{
    ld->in[IMASK(ld->head)] = c;
    ld->in_flags[IMASK(ld->head)] = flags;
    ld->head++;
}

void ldisc_flush_input(struct tty_ldisc *ld)
{
    ld->tail = ld->canon = ld->head;
    ld->lines = 0;
    ld->lnext = false;
}

/* The line in [canon, head) ends here: it becomes readable. */
static void end_line(struct tty_ldisc *ld, uint8_t c, uint8_t extra)
{
    in_put(ld, c, (uint8_t)(LD_EOL | extra));
    ld->canon = ld->head;
    ld->lines++;
}

/* Columns the line being edited takes up to index end (a tab's width depends on them). */
static uint32_t line_cols(const struct tty_ldisc *ld, uint32_t end)
{
    uint32_t col = ld->echo_col;
    for (uint32_t i = ld->canon; i != end; i++) {
        uint8_t c = ld->in[IMASK(i)];
        if (c == '\t')
            col = (col | 7) + 1;
        else if (is_cntrl(c))
            col += lflag(ld, TTY_ECHOCTL) ? 2 : 0;
        else
            col++;
    }
    return col;
}

static void eraser(struct tty_ldisc *ld, int kind, uint8_t key)
{
    if (ld->head == ld->canon)
        return;
    bool echo = lflag(ld, TTY_ECHO);
    if (kind == KILL) {
        if (!echo) {
            ld->head = ld->canon;
            return;
        }
        if (!lflag(ld, TTY_ECHOK) || !lflag(ld, TTY_ECHOKE) || !lflag(ld, TTY_ECHOE)) {
            ld->head = ld->canon;
            echo_char(ld, key);
            if (lflag(ld, TTY_ECHOK))
                echo_raw(ld, '\n');
            return;
        }
    }
    int alnums = 0;
    while (ld->head != ld->canon) {
        uint32_t at = ld->head - 1;
        uint8_t c = ld->in[IMASK(at)];
        if (kind == WERASE) {
            if (is_alnum(c) || c == '_')
                alnums++;
            else if (alnums)
                break;
        }
        ld->head = at;
        if (echo) {
            if (kind == ERASE && !lflag(ld, TTY_ECHOE)) {
                echo_char(ld, key);
            } else if (c == '\t') {
                /* back to where the tab began: the columns of what is before it */
                uint32_t before = line_cols(ld, at), after = (before | 7) + 1;
                for (uint32_t i = before; i < after; i++)
                    echo_raw(ld, '\b');
            } else {
                if (is_cntrl(c) && lflag(ld, TTY_ECHOCTL))
                    echo_bs(ld, 1);
                if (!is_cntrl(c) || lflag(ld, TTY_ECHOCTL))
                    echo_bs(ld, 1);
            }
        }
        if (kind == ERASE)
            break;
    }
}

/* Stores c as input, echoing it (canonical and raw mode alike). */
static void put_char(struct tty_ldisc *ld, uint8_t c)
{
    if (lflag(ld, TTY_ECHO)) {
        if (ld->head == ld->canon)
            ld->echo_col = 0;
        if (c == '\n')
            echo_raw(ld, '\n');
        else
            echo_char(ld, c);
    }
    in_put(ld, c, 0);
    if (!lflag(ld, TTY_ICANON))
        ld->canon = ld->head; /* raw mode: all of it is readable */
}

/* Handles a canonical mode character that edits or ends the line: true when it did. */
static bool canon_char(struct tty_ldisc *ld, uint8_t c)
{
    bool iexten = lflag(ld, TTY_IEXTEN);
    if (is_cc(ld, c, VERASE) || is_cc(ld, c, VKILL) || (iexten && is_cc(ld, c, VWERASE))) {
        eraser(ld, is_cc(ld, c, VERASE) ? ERASE : is_cc(ld, c, VKILL) ? KILL : WERASE, c);
        return true;
    }
    if (iexten && is_cc(ld, c, VLNEXT)) {
        ld->lnext = true;
        if (lflag(ld, TTY_ECHO) && lflag(ld, TTY_ECHOCTL)) {
            echo_raw(ld, '^');
            echo_raw(ld, '\b');
        }
        return true;
    }
    if (c == '\n') {
        if (lflag(ld, TTY_ECHO) || lflag(ld, TTY_ECHONL))
            echo_raw(ld, '\n');
        end_line(ld, c, 0);
        return true;
    }
    if (is_cc(ld, c, VEOF)) {
        end_line(ld, 0, LD_EOF); /* a marker that ends the line and is not read */
        return true;
    }
    if (is_cc(ld, c, VEOL) || (iexten && is_cc(ld, c, VEOL2))) {
        if (lflag(ld, TTY_ECHO)) {
            if (ld->head == ld->canon)
                ld->echo_col = 0;
            echo_char(ld, c);
        }
        end_line(ld, c, 0);
        return true;
    }
    return false;
}

static int isig_char(const struct tty_ldisc *ld, uint8_t c)
{
    if (!lflag(ld, TTY_ISIG))
        return 0;
    if (is_cc(ld, c, VINTR))
        return 2; /* SIGINT */
    if (is_cc(ld, c, VQUIT))
        return 3; /* SIGQUIT */
    if (is_cc(ld, c, VSUSP))
        return 20; /* SIGTSTP */
    return 0;
}

static bool is_terminator(const struct tty_ldisc *ld, uint8_t c)
{
    return c == '\n' || is_cc(ld, c, VEOF) || is_cc(ld, c, VEOL) ||
           (lflag(ld, TTY_IEXTEN) && is_cc(ld, c, VEOL2));
}

size_t ldisc_receive(struct tty_ldisc *ld, const uint8_t *src, size_t len, int *sig)
{
    *sig = 0;
    bool icanon = lflag(ld, TTY_ICANON);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = src[i];
        if (ld->lnext) {
            /* the character after VLNEXT is taken as it is */
            if (in_count(ld) >= LDISC_IN_SIZE - 1)
                return i;
            ld->lnext = false;
            put_char(ld, c);
            continue;
        }
        int s = isig_char(ld, c);
        if (s) {
            if (!lflag(ld, TTY_NOFLSH)) {
                ldisc_flush_input(ld);
                ldisc_flush_output(ld);
            }
            if (lflag(ld, TTY_ECHO))
                echo_char(ld, c);
            *sig = s;
            return i + 1;
        }
        uint32_t ifl = ld->t.c_iflag;
        if (c == '\r') {
            if (ifl & TTY_IGNCR)
                continue;
            if (ifl & TTY_ICRNL)
                c = '\n';
        } else if (c == '\n' && (ifl & TTY_INLCR)) {
            c = '\r';
        }
        if (in_count(ld) >= LDISC_IN_SIZE - 1) {
            bool edit = icanon && (is_cc(ld, c, VERASE) || is_cc(ld, c, VKILL) ||
                                   (lflag(ld, TTY_IEXTEN) && is_cc(ld, c, VWERASE)));
            if (!edit) {
                if (!icanon || ld->lines)
                    return i; /* the slave reads first: the writer waits */
                /* a line longer than the buffer: only its end still goes in (over its last
                 * byte), so that the reader is never stuck (Linux's rule) */
                if (!is_terminator(ld, c))
                    continue;
                ld->head--;
            }
        }
        if (icanon && canon_char(ld, c))
            continue;
        put_char(ld, c);
    }
    return len;
}

bool ldisc_can_receive(const struct tty_ldisc *ld)
{
    return in_count(ld) < LDISC_IN_SIZE - 1 || (lflag(ld, TTY_ICANON) && !ld->lines);
}

bool ldisc_readable(const struct tty_ldisc *ld)
{
    if (lflag(ld, TTY_ICANON))
        return ld->lines > 0;
    return ld->head != ld->tail;
}

uint32_t ldisc_inq(const struct tty_ldisc *ld)
{
    if (!lflag(ld, TTY_ICANON))
        return in_count(ld);
    uint32_t n = 0;
    for (uint32_t i = ld->tail; i != ld->canon; i++)
        if (!(ld->in_flags[IMASK(i)] & LD_EOF))
            n++;
    return n;
}

size_t ldisc_read(struct tty_ldisc *ld, uint8_t *dst, size_t len)
{
    size_t n = 0;
    if (!lflag(ld, TTY_ICANON)) {
        while (n < len && ld->tail != ld->head) {
            dst[n++] = ld->in[IMASK(ld->tail++)];
        }
        return n;
    }
    while (ld->tail != ld->canon) {
        uint32_t i = IMASK(ld->tail);
        uint8_t fl = ld->in_flags[i];
        if (fl & LD_EOF) {
            /* the marker ends the read; it is consumed with the line it ends */
            ld->tail++;
            ld->lines--;
            break;
        }
        if (n == len)
            break; /* the rest of the line stays for the next read */
        dst[n++] = ld->in[i];
        ld->tail++;
        if (fl & LD_EOL) {
            ld->lines--;
            break;
        }
    }
    return n;
}

void ldisc_set_termios(struct tty_ldisc *ld, const struct linux_termios *t)
{
    bool was_canon = lflag(ld, TTY_ICANON);
    ld->t = *t;
    bool canon = lflag(ld, TTY_ICANON);
    if (was_canon == canon)
        return;
    /* Linux's n_tty_set_termios: the line flags start again; going canonical, what is buffered
     * becomes one line that a read returns (pushed); going raw, all of it is readable */
    for (uint32_t i = ld->tail; i != ld->head; i++)
        ld->in_flags[IMASK(i)] &= (uint8_t)~LD_EOL;
    ld->lines = 0;
    ld->lnext = false;
    if (canon && ld->head != ld->tail) {
        ld->in_flags[IMASK(ld->head - 1)] |= LD_EOL;
        ld->lines = 1;
        ld->canon = ld->head;
    } else {
        ld->canon = canon ? ld->tail : ld->head;
    }
}
