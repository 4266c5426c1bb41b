/* pty.c: pseudo-terminal pairs as Linux has them: each open of /dev/ptmx (char 5:2) makes a pair
 * and returns its master; the slave appears as /dev/pts/N (char 136:N, on a devpts mount) while
 * the master is open, and opens once unlockpt has unlocked it (EIO before). Between the ends
 * sits the line discipline (dev/tty_ldisc.c). This file adds the files of both ends (blocking,
 * O_NONBLOCK, poll wake-ups as fs/pipe.c does them), the ioctls (termios, window size, flushes,
 * the master's TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER), the signals (ISIG characters and
 * SIGWINCH to the foreground process group), hangups, and controlling terminals: a session
 * leader's slave open without O_NOCTTY or TIOCSCTTY makes it its session's terminal, that
 * /dev/tty (char 5:0) then opens.
 *
 * Lifetime: a pair lives while its master or one of its slave files is open (every struct file
 * of a slave, /dev/tty's included, is linked in its list). The master's close hangs the slave up
 * (reads 0, writes and most ioctls EIO, poll everything, SIGHUP and SIGCONT to the session
 * leader that has it as its terminal), removes /dev/pts/N, and takes it from every process that
 * had it as its terminal, so a struct process never points at a pair that has gone. The last
 * slave close makes the master's reads EIO (once what the slave wrote is read) and its poll
 * POLLHUP, until a slave opens again. Everything is guarded by the kernel lock; what a blocking
 * read or write keeps across its wait is its file (the syscall holds a reference) and the pair
 * behind it, which that file keeps.
 */
#include "tty.h"

#include "file.h"
#include "klib.h"
#include "poll.h"
#include "process.h"
#include "signal.h"
#include "syscall.h"
#include "vfs.h"
#include "wait.h"

#define PTY_MAX   256 /* pairs at once: /dev/pts/0 to 255 (then ENOSPC, as at Linux's max) */
#define PTS_MAJOR 136

struct pts_file {
    struct file file; /* first: a slave's struct file * is a struct pts_file * */
    struct pts_file *next;
};

struct pty {
    int index;
    bool locked;
    bool slave_closed;       /* the last slave closed (Linux's TTY_OTHER_CLOSED, master side) */
    struct file *master;     /* NULL once closed: the slave is hung up */
    struct pts_file *slaves; /* every open slave file */
    struct inode *node;      /* /dev/pts/N while the master is open */
    int sid, pgrp;           /* the session it is the terminal of (0: none), foreground group */
    struct linux_winsize ws;
    void (*on_change)(void); /* the console's pair (pty_console_attach): its pump */
    struct tty_ldisc ld;
    uint8_t outbuf[LDISC_OUT_SIZE];
};

static struct pty *g_ptys[PTY_MAX];
static struct inode *g_devpts;

static const struct file_ops g_master_ops;
static const struct file_ops g_slave_ops;

static bool hung(const struct pty *p)
{
    return !p->master;
}

/* Every end's watchers look again (the ends share their state, as pipe ends do). */
static void notify(struct pty *p, uint32_t key)
{
    if (p->master)
        poll_notify(p->master, key);
    for (struct pts_file *s = p->slaves; s; s = s->next)
        poll_notify(&s->file, key);
    if (p->on_change)
        p->on_change();
}

/* ---- signals ---- */

static void send_priv(struct process *q, int sig)
{
    struct linux_siginfo si;
    memset(&si, 0, sizeof(si));
    si.si_signo = sig;
    si.si_code = SI_KERNEL;
    (void)signal_send_proc(q, sig, &si, NULL);
}

static void signal_group(int pgrp, int sig)
{
    if (pgrp <= 0)
        return;
    for (struct process *q = process_list(); q; q = q->all_next)
        if (q->pgid == pgrp && !q->zombie && !q->exiting)
            send_priv(q, sig);
}

/* The pair stops being a session's terminal: no process has it any more. */
static void clear_session(struct pty *p)
{
    for (struct process *q = process_list(); q; q = q->all_next)
        if (q->tty == p)
            q->tty = NULL;
    p->sid = p->pgrp = 0;
}

/* Linux's disassociate_ctty for the session leader me: its foreground group gets SIGHUP (and
 * SIGCONT unless me is ending), and the session has no terminal any more. */
static void disassociate(struct process *me, bool on_exit)
{
    struct pty *p = me->tty;
    if (!p)
        return;
    int pgrp = p->pgrp;
    clear_session(p);
    signal_group(pgrp, SIGHUP);
    if (!on_exit)
        signal_group(pgrp, SIGCONT);
}

void tty_exit(struct process *p)
{
    if (p->tty && p->pid == p->sid)
        disassociate(p, true);
    p->tty = NULL;
}

void tty_setsid(struct process *p)
{
    p->tty = NULL;
}

uint32_t tty_nr_of(const struct process *p)
{
    return p->tty ? (uint32_t)DEVNUM(PTS_MAJOR, p->tty->index) : 0;
}

int tty_pgrp_of(const struct process *p)
{
    return p->tty ? (p->tty->pgrp ? p->tty->pgrp : -1) : -1;
}

/* The master closes: the slave hangs up (Linux's tty_vhangup of the slave). */
static void hangup(struct pty *p)
{
    if (p->node) {
        char name[12];
        int len = ksnprintf(name, sizeof(name), "%d", p->index);
        vfs_unlink(g_devpts, name, (uint32_t)len);
        p->node = NULL;
    }
    if (p->sid) {
        for (struct process *q = process_list(); q; q = q->all_next) {
            if (q->tty != p)
                continue;
            if (q->pid == q->sid && !q->zombie && !q->exiting) {
                send_priv(q, SIGHUP);
                send_priv(q, SIGCONT);
            }
        }
    }
    clear_session(p);
    notify(p, 0);
}

static void free_pty(struct pty *p)
{
    g_ptys[p->index] = NULL;
    kfree(p);
}

/* ---- opening ---- */

/* Linux's __tty_check_change: a process of p's session outside its foreground group that reads
 * (sig SIGTTIN) or changes the terminal (SIGTTOU) sends sig to its group and restarts after it
 * (the default action stops it), unless it blocks or ignores sig (SIGTTIN then fails with EIO,
 * SIGTTOU lets it go on) or its group is orphaned (EIO). */
static long job_check(struct pty *p, int sig)
{
    struct process *me = current_process();
    if (me->tty != p || !p->pgrp || me->pgid == p->pgrp)
        return 0;
    struct linux_sigaction act;
    (void)signal_action(sig, NULL, &act);
    if ((signal_blocked() & SIGBIT(sig)) || act.handler == SIG_IGN)
        return sig == SIGTTIN ? -EIO : 0;
    if (jobctl_orphaned(me))
        return -EIO;
    signal_group(me->pgid, sig);
    return -ERESTARTSYS;
}

/* The controlling terminal rule of Linux's tty_open: a session leader without one that opens a
 * slave that belongs to no session (and did not say O_NOCTTY) acquires it. */
static void maybe_acquire(struct pty *p, uint32_t flags)
{
    struct process *me = current_process();
    if ((flags & O_NOCTTY) || me->pid != me->sid || me->tty || p->sid)
        return;
    me->tty = p;
    p->sid = me->sid;
    p->pgrp = me->pgid;
}

static int new_slave_file(struct pty *p, struct inode *ino, uint32_t flags, struct file **out)
{
    struct pts_file *s = kzalloc(sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->file.ops = &g_slave_ops;
    s->file.flags = (flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_LARGEFILE;
    s->file.priv = p;
    s->file.inode = ino;
    vfs_get(ino);
    s->next = p->slaves;
    p->slaves = s;
    p->slave_closed = false;
    notify(p, POLLOUT | POLLWRNORM);
    *out = &s->file;
    return 0;
}

static int pts_open(struct inode *ino, uint32_t flags, struct file **out)
{
    uint64_t minor = ino->arg & 0xff;
    struct pty *p = g_ptys[minor];
    if (!p || p->node != ino || hung(p))
        return -EIO;
    if (p->locked)
        return -EIO;
    int err = new_slave_file(p, ino, flags, out);
    if (!err)
        maybe_acquire(p, flags);
    return err;
}

static const struct inode_ops g_pts_iops = {.open = pts_open};

int tty_open_ctty(struct inode *ino, uint32_t flags, struct file **out)
{
    struct pty *p = current_process()->tty;
    if (!p)
        return -ENXIO; /* no controlling terminal */
    return new_slave_file(p, ino, flags, out);
}

int pty_open_ptmx(struct inode *ino, uint32_t flags, struct file **out)
{
    if (!g_devpts)
        return -ENODEV;
    int index = 0;
    while (index < PTY_MAX && g_ptys[index])
        index++;
    if (index == PTY_MAX)
        return -ENOSPC;
    struct pty *p = kzalloc(sizeof(*p));
    if (!p)
        return -ENOMEM;
    struct inode *node = vfs_new_inode(S_IFCHR | 0620, DEV_DEVPTS, I_READONLY);
    struct file *m = node ? vfs_open_inode(ino, flags) : NULL;
    char name[12];
    int len = ksnprintf(name, sizeof(name), "%d", index);
    if (!m || vfs_link(g_devpts, name, (uint32_t)len, node, true)) {
        if (m)
            vfs_file_release(m);
        if (node)
            vfs_drop(node);
        kfree(p);
        return -ENOMEM;
    }
    m->ops = &g_master_ops;
    m->priv = p;
    node->iops = &g_pts_iops;
    node->arg = DEVNUM(PTS_MAJOR, index);
    node->uid = current_process()->cred.uid[ID_FS];
    node->gid = 5; /* the tty group, as Debian mounts devpts (gid=5) */
    p->index = index;
    p->locked = true;
    p->master = m;
    p->node = node;
    ldisc_init(&p->ld, p->outbuf);
    g_ptys[index] = p;
    *out = m;
    return 0;
}

void pty_set_devpts(struct inode *dir)
{
    g_devpts = dir;
}

/* ---- the slave ---- */

static bool slave_can_read(void *arg)
{
    struct file *f = arg;
    struct pty *p = f->priv;
    wait_on_file(f);
    return ldisc_readable(&p->ld) || hung(p);
}

static bool slave_can_write(void *arg)
{
    struct file *f = arg;
    struct pty *p = f->priv;
    wait_on_file(f);
    return ldisc_out_room(&p->ld) >= 2 || hung(p);
}

static int64_t vtime_deadline(const struct pty *p)
{
    return time_monotonic_ns() + (int64_t)p->ld.t.c_cc[VTIME] * 100000000;
}

/* Raw mode: Linux's VMIN and VTIME (min bytes, tenths of a second). */
static long read_raw(struct file *f, uint8_t *dst, size_t len)
{
    struct pty *p = f->priv;
    uint8_t vmin = p->ld.t.c_cc[VMIN], vtime = p->ld.t.c_cc[VTIME];
    size_t want = vmin ? MIN((size_t)vmin, len) : 1;
    int64_t deadline = (!vmin && vtime) ? vtime_deadline(p) : WAIT_FOREVER;
    size_t got = 0;
    for (;;) {
        size_t n = ldisc_read(&p->ld, dst + got, len - got);
        if (n) {
            got += n;
            notify(p, POLLOUT | POLLWRNORM);
            if (vmin && vtime)
                deadline = vtime_deadline(p); /* the timer runs between bytes */
        }
        if (got >= want || hung(p) || (!vmin && !vtime))
            break;
        if (f->flags & O_NONBLOCK)
            return got ? (long)got : -EAGAIN;
        int err = wait_until(slave_can_read, f, 0, deadline);
        if (err == -ETIMEDOUT)
            break;
        if (err)
            return got ? (long)got : -ERESTARTSYS;
    }
    return (long)got;
}

static long slave_read(struct file *f, void *buf, size_t len)
{
    struct pty *p = f->priv;
    if (hung(p))
        return 0;
    long err = job_check(p, SIGTTIN);
    if (err)
        return err;
    if (len == 0)
        return 0;
    if (!(p->ld.t.c_lflag & TTY_ICANON))
        return read_raw(f, buf, len);
    for (;;) {
        if (hung(p))
            return 0;
        if (ldisc_readable(&p->ld)) {
            long n = (long)ldisc_read(&p->ld, buf, len);
            notify(p, POLLOUT | POLLWRNORM);
            return n;
        }
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        if (wait_until(slave_can_read, f, 0, WAIT_FOREVER))
            return -ERESTARTSYS;
    }
}

static long slave_write(struct file *f, const void *buf, size_t len)
{
    struct pty *p = f->priv;
    const uint8_t *src = buf;
    size_t done = 0;
    if (hung(p))
        return -EIO;
    if (p->ld.t.c_lflag & TTY_TOSTOP) {
        long err = job_check(p, SIGTTOU);
        if (err)
            return err;
    }
    while (done < len) {
        size_t n = ldisc_write(&p->ld, src + done, len - done);
        if (n) {
            done += n;
            notify(p, POLLIN | POLLRDNORM);
            continue;
        }
        if (hung(p))
            return done ? (long)done : -EIO;
        if (f->flags & O_NONBLOCK)
            return done ? (long)done : -EAGAIN;
        if (wait_until(slave_can_write, f, 0, WAIT_FOREVER))
            return done ? (long)done : -ERESTARTSYS;
    }
    return (long)done;
}

static uint32_t slave_poll(struct file *f)
{
    struct pty *p = f->priv;
    if (hung(p))
        return POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
    uint32_t mask = 0;
    const struct tty_ldisc *ld = &p->ld;
    bool in;
    if (ld->t.c_lflag & TTY_ICANON) {
        in = ldisc_readable(ld);
    } else {
        /* Linux's input_available_p for poll: VMIN bytes when VTIME is 0 */
        uint32_t amt = (!ld->t.c_cc[VTIME] && ld->t.c_cc[VMIN]) ? ld->t.c_cc[VMIN] : 1;
        in = ld->head - ld->tail >= amt;
    }
    if (in)
        mask |= POLLIN | POLLRDNORM;
    if (ldisc_out_room(ld) > 0)
        mask |= POLLOUT | POLLWRNORM;
    return mask;
}

static void slave_release(struct file *f)
{
    struct pty *p = f->priv;
    for (struct pts_file **pp = &p->slaves; *pp; pp = &(*pp)->next) {
        if (&(*pp)->file == f) {
            *pp = (*pp)->next;
            break;
        }
    }
    vfs_put(f->inode);
    kfree(f);
    if (p->slaves)
        return;
    if (!p->master) {
        free_pty(p);
        return;
    }
    p->slave_closed = true;
    notify(p, 0);
}

/* ---- the master ---- */

static bool master_can_read(void *arg)
{
    struct file *f = arg;
    struct pty *p = f->priv;
    wait_on_file(f);
    return ldisc_out_count(&p->ld) || p->slave_closed;
}

static bool master_can_write(void *arg)
{
    struct file *f = arg;
    struct pty *p = f->priv;
    wait_on_file(f);
    return ldisc_can_receive(&p->ld);
}

static long master_read(struct file *f, void *buf, size_t len)
{
    struct pty *p = f->priv;
    if (len == 0)
        return 0;
    for (;;) {
        size_t n = ldisc_out_read(&p->ld, buf, len);
        if (n) {
            notify(p, POLLOUT | POLLWRNORM);
            return (long)n;
        }
        if (p->slave_closed)
            return -EIO;
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        if (wait_until(master_can_read, f, 0, WAIT_FOREVER))
            return -ERESTARTSYS;
    }
}

static long master_write(struct file *f, const void *buf, size_t len)
{
    struct pty *p = f->priv;
    const uint8_t *src = buf;
    size_t done = 0;
    while (done < len) {
        int sig;
        size_t n = ldisc_receive(&p->ld, src + done, len - done, &sig);
        if (n) {
            done += n;
            notify(p, POLLIN | POLLRDNORM); /* input for the slave, echoes for the master */
        }
        if (sig)
            signal_group(p->pgrp, sig);
        if (n || sig)
            continue;
        if (f->flags & O_NONBLOCK)
            return done ? (long)done : -EAGAIN;
        if (wait_until(master_can_write, f, 0, WAIT_FOREVER))
            return done ? (long)done : -ERESTARTSYS;
    }
    return (long)done;
}

static uint32_t master_poll(struct file *f)
{
    struct pty *p = f->priv;
    uint32_t mask = 0;
    if (ldisc_out_count(&p->ld))
        mask |= POLLIN | POLLRDNORM;
    if (p->slave_closed)
        mask |= POLLHUP;
    if (ldisc_can_receive(&p->ld))
        mask |= POLLOUT | POLLWRNORM;
    return mask;
}

static void master_release(struct file *f)
{
    struct pty *p = f->priv;
    p->master = NULL;
    hangup(p);
    vfs_put(f->inode);
    kfree(f);
    if (!p->slaves)
        free_pty(p);
}

/* ---- ioctls ---- */

static long put_int(uint64_t arg, int v)
{
    return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long set_termios(struct pty *p, unsigned long cmd, uint64_t arg)
{
    struct linux_termios t;
    if (copy_from_user(&t, arg, sizeof(t)))
        return -EFAULT;
    if (cmd == TCSETSF)
        ldisc_flush_input(&p->ld);
    /* TCSETSW and TCSETSF wait for output to drain: a pty's output is never in flight */
    ldisc_set_termios(&p->ld, &t);
    notify(p, 0);
    return 0;
}

static void resize(struct pty *p, const struct linux_winsize *ws)
{
    if (!memcmp(ws, &p->ws, sizeof(*ws)))
        return;
    p->ws = *ws;
    signal_group(p->pgrp, SIGWINCH);
}

static long set_winsize(struct pty *p, uint64_t arg)
{
    struct linux_winsize ws;
    if (copy_from_user(&ws, arg, sizeof(ws)))
        return -EFAULT;
    resize(p, &ws);
    return 0;
}

/* ---- the console's pair (dev/console_tty.c) ---- */

int pty_console_attach(struct file *master, const struct linux_winsize *ws, void (*on_change)(void))
{
    if (master->ops != &g_master_ops)
        return -EINVAL;
    struct pty *p = master->priv;
    p->locked = false;
    p->ws = *ws;
    p->on_change = on_change;
    return p->index;
}

void pty_console_resize(struct file *master, const struct linux_winsize *ws)
{
    resize(master->priv, ws);
}

static long flush(struct pty *p, bool master, uint64_t arg)
{
    if (arg > TCIOFLUSH)
        return -EINVAL;
    bool in = arg != TCOFLUSH, out = arg != TCIFLUSH;
    /* the slave's input is the master's output and the other way round; what the master wrote
     * is in the slave's input already, so the master's output flush has nothing to drop */
    if (master ? in : out)
        ldisc_flush_output(&p->ld);
    if (!master && in)
        ldisc_flush_input(&p->ld);
    notify(p, 0);
    return 0;
}

/* TIOCSCTTY: Linux's tiocsctty (arg 1: a privileged caller takes it from another session). */
static long set_ctty(struct pty *p, struct file *f, uint64_t arg)
{
    struct process *me = current_process();
    if (me->tty == p && me->pid == me->sid)
        return 0;
    if (me->pid != me->sid || me->tty)
        return -EPERM;
    if (p->sid) {
        if (arg != 1 || !cred_privileged())
            return -EPERM;
        clear_session(p);
    }
    if ((f->flags & O_ACCMODE) == O_WRONLY && !cred_privileged())
        return -EPERM;
    me->tty = p;
    p->sid = me->sid;
    p->pgrp = me->pgid;
    return 0;
}

static long set_pgrp(struct pty *p, uint64_t arg)
{
    struct process *me = current_process();
    if (me->tty != p || p->sid != me->sid)
        return -ENOTTY;
    int pgrp;
    if (copy_from_user(&pgrp, arg, sizeof(pgrp)))
        return -EFAULT;
    if (pgrp < 0)
        return -EINVAL;
    const struct process *member = NULL;
    for (const struct process *q = process_list(); q && !member; q = q->all_next)
        if (q->pgid == pgrp && !q->zombie)
            member = q;
    if (!member)
        return -ESRCH;
    if (member->sid != me->sid)
        return -EPERM;
    p->pgrp = pgrp;
    return 0;
}

static long peer_open(struct pty *p, uint64_t flags)
{
    if (!p->node)
        return -EIO;
    struct file *s;
    int err = pts_open(p->node, (uint32_t)flags, &s);
    if (err)
        return err;
    int fd = fd_install(s, 0, flags & O_CLOEXEC);
    if (fd < 0)
        file_discard(s);
    return fd;
}

static long tty_ioctl(struct file *f, bool master, unsigned long cmd, uint64_t arg)
{
    struct pty *p = f->priv;
    struct process *me = current_process();
    long err;
    if (!master && hung(p))
        return cmd == TIOCSPGRP ? -ENOTTY : -EIO;
    switch (cmd) {
    case TCGETS:
        return copy_to_user(arg, &p->ld.t, sizeof(p->ld.t)) ? -EFAULT : 0;
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
        err = job_check(p, SIGTTOU);
        return err ? err : set_termios(p, cmd, arg);
    case TIOCGWINSZ:
        return copy_to_user(arg, &p->ws, sizeof(p->ws)) ? -EFAULT : 0;
    case TIOCSWINSZ:
        return set_winsize(p, arg);
    case TCFLSH:
        err = master ? 0 : job_check(p, SIGTTOU);
        return err ? err : flush(p, master, arg);
    case TIOCOUTQ:
        return put_int(arg, 0); /* nothing waits to be sent: it is in the other end already */
    case FIONREAD:
        return put_int(arg, (int)(master ? ldisc_out_count(&p->ld) : ldisc_inq(&p->ld)));
    case TCSBRK:
    case TCSBRKP:
        /* tcdrain, tcsendbreak: nothing in flight, no line to break */
        return master ? 0 : job_check(p, SIGTTOU);
    case TIOCGETD:
        return put_int(arg, 0); /* N_TTY */
    case TIOCSCTTY:
        return set_ctty(p, f, arg);
    case TIOCNOTTY:
        if (master || me->tty != p)
            return -ENOTTY;
        if (me->pid == me->sid)
            disassociate(me, false);
        me->tty = NULL;
        return 0;
    case TIOCSPGRP:
        if (me->tty != p || p->sid != me->sid)
            return -ENOTTY;
        err = job_check(p, SIGTTOU);
        if (err)
            return err == -EIO ? -ENOTTY : err;
        return set_pgrp(p, arg);
    case TIOCGPGRP:
        if (!master && me->tty != p)
            return -ENOTTY;
        return put_int(arg, p->pgrp);
    case TIOCGSID:
        if ((!master && me->tty != p) || !p->sid)
            return -ENOTTY;
        return put_int(arg, p->sid);
    }
    if (!master)
        return -ENOTTY;
    switch (cmd) {
    case TIOCGPTN:
        return put_int(arg, p->index);
    case TIOCSPTLCK: {
        int lock;
        if (copy_from_user(&lock, arg, sizeof(lock)))
            return -EFAULT;
        p->locked = lock != 0;
        return 0;
    }
    case TIOCGPTLCK:
        return put_int(arg, p->locked);
    case TIOCGPTPEER:
        return peer_open(p, arg);
    }
    return -ENOTTY;
}

static long master_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    return tty_ioctl(f, true, cmd, arg);
}

static long slave_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    return tty_ioctl(f, false, cmd, arg);
}

static const struct file_ops g_master_ops = {
    .read = master_read,
    .write = master_write,
    .poll = master_poll,
    .notifies = true,
    .stat = vfs_file_stat,
    .ioctl = master_ioctl,
    .release = master_release,
};

static const struct file_ops g_slave_ops = {
    .read = slave_read,
    .write = slave_write,
    .poll = slave_poll,
    .notifies = true,
    .stat = vfs_file_stat,
    .ioctl = slave_ioctl,
    .release = slave_release,
};
