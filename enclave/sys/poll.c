/* poll.c: poll, ppoll, select, pselect6.
 *
 * Each call looks at every descriptor's readiness (file_poll) and, when none is ready and there
 * is time left, idles in wait_until, which looks again whenever something that could change the
 * answer happens (host input for console stdin, a timer, a signal). Timeouts are deadlines on
 * CLOCK_MONOTONIC; a zero timeout looks once. A signal ends the wait with -ERESTARTNOHAND:
 * EINTR after a handler, a restart otherwise (signal.h). ppoll, select and pselect6 write the
 * time left back, as Linux does.
 */
#include "file.h"
#include "klib.h"
#include "poll.h"
#include "signal.h"
#include "syscall.h"
#include "wait.h"

#define NSEC_PER_SEC  1000000000ll
#define NSEC_PER_USEC 1000ll
#define USEC_PER_SEC  1000000ll

int64_t poll_deadline(int64_t sec, int64_t nsec)
{
    int64_t now = time_monotonic_ns();
    if (sec > (INT64_MAX - now - nsec) / NSEC_PER_SEC)
        return WAIT_FOREVER;
    return now + sec * NSEC_PER_SEC + nsec;
}

long poll_sigmask_begin(uint64_t umask, uint64_t size, struct poll_sigmask *m)
{
    m->active = false;
    if (!umask)
        return 0;
    if (size != sizeof(uint64_t))
        return -EINVAL;
    if (copy_from_user(&m->mask, umask, sizeof(m->mask)))
        return -EFAULT;
    m->saved = signal_blocked();
    signal_set_blocked(m->mask);
    m->active = true;
    return 0;
}

void poll_sigmask_end(const struct poll_sigmask *m, bool interrupted)
{
    if (!m->active)
        return;
    signal_set_blocked(m->saved);
    /* a signal the call's mask let through is delivered now, under that mask; the handler's
     * frame keeps the old one for sigreturn */
    if (interrupted)
        signal_set_temporary_mask(m->mask);
}

/* The time left until deadline, for the write-back of select and ppoll. */
static int64_t time_left(int64_t deadline)
{
    int64_t now = time_monotonic_ns();
    return deadline > now ? deadline - now : 0;
}

/* ---- poll ---- */

#define POLL_ON_STACK 32

struct poll_set {
    struct linux_pollfd *fds;
    uint64_t n;
    long count;
};

static bool poll_scan(void *arg)
{
    struct poll_set *ps = arg;
    long count = 0;
    for (uint64_t i = 0; i < ps->n; i++) {
        struct linux_pollfd *p = &ps->fds[i];
        uint16_t revents = 0;
        if (p->fd >= 0) {
            struct file *f = fd_get(p->fd);
            wait_on_file(f);
            if (!f)
                revents = POLLNVAL;
            else
                revents = (uint16_t)(file_poll(f) & ((uint16_t)p->events | POLLERR | POLLHUP));
        }
        p->revents = (int16_t)revents;
        count += revents != 0;
    }
    ps->count = count;
    return count > 0;
}

/* deadline: WAIT_FOREVER or a CLOCK_MONOTONIC time (one look when it has passed). */
static long do_poll(uint64_t ufds, uint64_t nfds, int64_t deadline)
{
    if (nfds > FD_MAX)
        return -EINVAL;
    struct linux_pollfd local[POLL_ON_STACK];
    struct poll_set ps = {.fds = local, .n = nfds};
    if (nfds > POLL_ON_STACK && !(ps.fds = kmalloc(nfds * sizeof(*ps.fds))))
        return -ENOMEM;
    long ret = -EFAULT;
    if (copy_from_user(ps.fds, ufds, nfds * sizeof(*ps.fds)))
        goto out;
    uint32_t events = 0;
    for (uint64_t i = 0; i < nfds; i++) {
        struct file *f = ps.fds[i].fd >= 0 ? fd_get(ps.fds[i].fd) : NULL;
        if (f)
            events |= f->ops->wake_events;
    }
    int r = wait_until(poll_scan, &ps, events, deadline);
    ret = r == -EINTR ? -ERESTARTNOHAND : r == -ETIMEDOUT ? 0 : ps.count;
    for (uint64_t i = 0; i < nfds; i++) {
        struct linux_pollfd *u = (struct linux_pollfd *)ufds + i;
        if (copy_to_user((uint64_t)&u->revents, &ps.fds[i].revents, sizeof(u->revents))) {
            ret = -EFAULT;
            break;
        }
    }
out:
    if (ps.fds != local)
        kfree(ps.fds);
    return ret;
}

SYSCALL_DEFINE3(poll, uint64_t, ufds, uint64_t, nfds, int, timeout_ms)
{
    int64_t deadline = WAIT_FOREVER;
    if (timeout_ms >= 0)
        deadline = poll_deadline(timeout_ms / 1000, (int64_t)(timeout_ms % 1000) * 1000000);
    return do_poll(ufds, nfds, deadline);
}

/* Reads a timespec timeout: 0, -EFAULT or -EINVAL; *deadline and *zero describe it. */
long poll_timeout_from_user(uint64_t uts, int64_t *deadline, bool *zero)
{
    struct linux_timespec ts;
    *deadline = WAIT_FOREVER;
    *zero = false;
    if (!uts)
        return 0;
    if (copy_from_user(&ts, uts, sizeof(ts)))
        return -EFAULT;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC_PER_SEC)
        return -EINVAL;
    *zero = ts.tv_sec == 0 && ts.tv_nsec == 0;
    *deadline = poll_deadline(ts.tv_sec, ts.tv_nsec);
    return 0;
}

/* Writes the time left into a timespec, as Linux's poll_select_finish: not for a zero timeout,
 * and a failed write only turns a restart into EINTR. */
static long put_time_left(uint64_t uts, int64_t deadline, bool zero, long ret)
{
    if (!uts || zero || deadline == WAIT_FOREVER)
        return ret;
    int64_t left = time_left(deadline);
    struct linux_timespec ts = {left / NSEC_PER_SEC, left % NSEC_PER_SEC};
    if (copy_to_user(uts, &ts, sizeof(ts)) && ret == -ERESTARTNOHAND)
        ret = -EINTR;
    return ret;
}

SYSCALL_DEFINE5(ppoll, uint64_t, ufds, uint64_t, nfds, uint64_t, uts, uint64_t, umask, uint64_t,
                masksize)
{
    int64_t deadline;
    bool zero;
    struct poll_sigmask m;
    long ret = poll_timeout_from_user(uts, &deadline, &zero);
    if (ret)
        return ret;
    ret = poll_sigmask_begin(umask, masksize, &m);
    if (ret)
        return ret;
    ret = do_poll(ufds, nfds, deadline);
    poll_sigmask_end(&m, ret == -ERESTARTNOHAND);
    return put_time_left(uts, deadline, zero, ret);
}

/* ---- select ---- */

#define SEL_IN  (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define SEL_OUT (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define SEL_EX  (POLLPRI)
#define WORDS   (FD_MAX / 64)

struct select_set {
    int n;
    uint64_t in[WORDS], out[WORDS], ex[WORDS];
    uint64_t rin[WORDS], rout[WORDS], rex[WORDS];
    long count;
};

static bool select_scan(void *arg)
{
    struct select_set *s = arg;
    long count = 0;
    int nwords = (s->n + 63) / 64;
    for (int w = 0; w < nwords; w++) {
        uint64_t all = s->in[w] | s->out[w] | s->ex[w];
        s->rin[w] = s->rout[w] = s->rex[w] = 0;
        while (all) {
            int bit = __builtin_ctzll(all);
            all &= all - 1;
            uint64_t m = 1ull << bit;
            struct file *f = fd_get(w * 64 + bit);
            if (!f)
                continue; /* closed by another thread while this one waited: never ready */
            wait_on_file(f);
            uint32_t mask = file_poll(f);
            if ((s->in[w] & m) && (mask & SEL_IN)) {
                s->rin[w] |= m;
                count++;
            }
            if ((s->out[w] & m) && (mask & SEL_OUT)) {
                s->rout[w] |= m;
                count++;
            }
            if ((s->ex[w] & m) && (mask & SEL_EX)) {
                s->rex[w] |= m;
                count++;
            }
        }
    }
    s->count = count;
    return count > 0;
}

static long do_select(int n, uint64_t uin, uint64_t uout, uint64_t uex, int64_t deadline)
{
    if (n < 0)
        return -EINVAL;
    /* the sets are this call's own (~800 bytes of its kernel stack): it may block while
     * another thread selects too (process.h, the rule for blocking code) */
    struct select_set sel, *s = &sel;
    s->n = MIN(n, FD_MAX);
    size_t bytes = (size_t)((s->n + 63) / 64) * 8;
    memset(s->in, 0, sizeof(s->in));
    memset(s->out, 0, sizeof(s->out));
    memset(s->ex, 0, sizeof(s->ex));
    if ((uin && copy_from_user(s->in, uin, bytes)) ||
        (uout && copy_from_user(s->out, uout, bytes)) || (uex && copy_from_user(s->ex, uex, bytes)))
        return -EFAULT;
    if (s->n % 64) {
        uint64_t keep = (1ull << (s->n % 64)) - 1;
        s->in[s->n / 64] &= keep;
        s->out[s->n / 64] &= keep;
        s->ex[s->n / 64] &= keep;
    }
    uint32_t events = 0;
    for (int fd = 0; fd < s->n; fd++) {
        if (!(((s->in[fd / 64] | s->out[fd / 64] | s->ex[fd / 64]) >> (fd % 64)) & 1))
            continue;
        struct file *f = fd_get(fd);
        if (!f)
            return -EBADF;
        events |= f->ops->wake_events;
    }
    int r = wait_until(select_scan, s, events, deadline);
    if (r == -EINTR)
        return -ERESTARTNOHAND; /* the sets stay as they were */
    long ret = r == -ETIMEDOUT ? 0 : s->count;
    if ((uin && copy_to_user(uin, s->rin, bytes)) || (uout && copy_to_user(uout, s->rout, bytes)) ||
        (uex && copy_to_user(uex, s->rex, bytes)))
        ret = -EFAULT;
    return ret;
}

SYSCALL_DEFINE5(select, int, n, uint64_t, uin, uint64_t, uout, uint64_t, uex, uint64_t, utv)
{
    int64_t deadline = WAIT_FOREVER;
    bool zero = false;
    if (utv) {
        struct linux_timeval tv;
        if (copy_from_user(&tv, utv, sizeof(tv)))
            return -EFAULT;
        /* Linux folds whole seconds of tv_usec into tv_sec before it checks */
        int64_t sec = tv.tv_sec + tv.tv_usec / USEC_PER_SEC;
        int64_t nsec = (tv.tv_usec % USEC_PER_SEC) * NSEC_PER_USEC;
        if (sec < 0 || nsec < 0)
            return -EINVAL;
        zero = sec == 0 && nsec == 0;
        deadline = poll_deadline(sec, nsec);
    }
    long ret = do_select(n, uin, uout, uex, deadline);
    if (utv && !zero && deadline != WAIT_FOREVER) {
        int64_t left = time_left(deadline);
        struct linux_timeval tv = {left / NSEC_PER_SEC, (left % NSEC_PER_SEC) / NSEC_PER_USEC};
        if (copy_to_user(utv, &tv, sizeof(tv)) && ret == -ERESTARTNOHAND)
            ret = -EINTR;
    }
    return ret;
}

SYSCALL_DEFINE6(pselect6, int, n, uint64_t, uin, uint64_t, uout, uint64_t, uex, uint64_t, uts,
                uint64_t, usig)
{
    struct {
        uint64_t set, size;
    } pack = {0, 0};
    if (usig && copy_from_user(&pack, usig, sizeof(pack)))
        return -EFAULT;
    int64_t deadline;
    bool zero;
    struct poll_sigmask m;
    long ret = poll_timeout_from_user(uts, &deadline, &zero);
    if (ret)
        return ret;
    ret = poll_sigmask_begin(pack.set, pack.size, &m);
    if (ret)
        return ret;
    ret = do_select(n, uin, uout, uex, deadline);
    poll_sigmask_end(&m, ret == -ERESTARTNOHAND);
    return put_time_left(uts, deadline, zero, ret);
}
