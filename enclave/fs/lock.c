/* lock.c: advisory file locks between the enclave's processes (see lock.h).
 *
 * An inode keeps a list of the locks on it. A lock has an owner: the process for a POSIX record
 * lock (fcntl F_SETLK), the open file description for an open-file-description lock
 * (F_OFD_SETLK) and for a flock(2) lock. Record locks of the two kinds conflict with each other
 * and never with flock locks, as on Linux: two locks conflict when they are of one family, have
 * different owners, overlap, and one of them is a write lock. An owner's new record lock
 * replaces what it held in the range (splitting its locks at the ends) and merges with its
 * adjacent locks of the same type. A lock that cannot be granted at once waits (F_SETLKW, flock
 * without LOCK_NB) until no conflicting lock is left; every removal wakes the inode's waiters.
 * Deadlocks between waiting processes are not detected (Linux's EDEADLK).
 */
#include "lock.h"

#include "file.h"
#include "klib.h"
#include "process.h"
#include "vfs.h"
#include "wait.h"

#define LOCK_TO_END UINT64_MAX /* a range that runs to the end of any file */

enum { LK_POSIX = 1, LK_OFD, LK_FLOCK };

struct file_lock {
    struct file_lock *next;
    uint8_t kind;        /* LK_* */
    uint8_t type;        /* F_RDLCK or F_WRLCK */
    const void *owner;   /* struct process * (LK_POSIX) or struct file * */
    int pid;             /* what F_GETLK reports: the owner's pid, or -1 */
    uint64_t start, end; /* [start, end] */
};

static bool record(uint8_t kind)
{
    return kind != LK_FLOCK;
}

/* The first lock on ino that keeps owner from taking a lock of this kind, type and range. */
static struct file_lock *conflict(struct inode *ino, const void *owner, uint8_t kind, uint8_t type,
                                  uint64_t start, uint64_t end)
{
    for (struct file_lock *l = ino->locks; l; l = l->next)
        if (record(l->kind) == record(kind) && l->owner != owner && l->start <= end &&
            start <= l->end && (l->type == F_WRLCK || type == F_WRLCK))
            return l;
    return NULL;
}

static void removed(struct inode *ino)
{
    waitq_wake(&ino->lock_waiters); /* a waiting lock may be free now */
}

/* Removes owner's locks of kind over [start, end]: those inside go, those across an edge are cut
 * (one across both is split in two). -ENOLCK when a split finds no memory (nothing changed). */
static int remove_range(struct inode *ino, const void *owner, uint8_t kind, uint64_t start,
                        uint64_t end)
{
    bool any = false;
    for (struct file_lock **pp = &ino->locks; *pp;) {
        struct file_lock *l = *pp;
        if (l->owner != owner || l->kind != kind || l->end < start || l->start > end) {
            pp = &l->next;
            continue;
        }
        any = true;
        if (l->start < start && l->end > end) {
            struct file_lock *upper = kmalloc(sizeof(*upper));
            if (!upper)
                return -ENOLCK;
            *upper = *l;
            upper->start = end + 1;
            l->end = start - 1;
            l->next = upper;
            break;
        }
        if (l->start < start) {
            l->end = start - 1;
        } else if (l->end > end) {
            l->start = end + 1;
        } else {
            *pp = l->next;
            kfree(l);
            continue;
        }
        pp = &l->next;
    }
    if (any)
        removed(ino);
    return 0;
}

struct lock_wait {
    struct inode *ino;
    const void *owner;
    uint8_t kind, type;
    uint64_t start, end;
};

static bool grantable(void *arg)
{
    struct lock_wait *w = arg;
    wait_on(&w->ino->lock_waiters); /* every removal of a lock on it wakes the queue */
    return !conflict(w->ino, w->owner, w->kind, w->type, w->start, w->end);
}

/* Takes a lock of kind and type over [start, end] for owner, waiting when wait. */
static long take(struct lock_wait *w, int pid, bool wait)
{
    while (conflict(w->ino, w->owner, w->kind, w->type, w->start, w->end)) {
        if (!wait)
            return -EAGAIN;
        if (wait_until(grantable, w, 0, WAIT_FOREVER))
            return -ERESTARTSYS;
    }
    struct file_lock *n = kmalloc(sizeof(*n));
    if (!n)
        return -ENOLCK;
    if (remove_range(w->ino, w->owner, w->kind, w->start, w->end)) {
        kfree(n);
        return -ENOLCK;
    }
    *n = (struct file_lock){NULL, w->kind, w->type, w->owner, pid, w->start, w->end};
    /* merge with the owner's adjacent locks of the same type */
    for (struct file_lock **pp = &w->ino->locks; *pp;) {
        struct file_lock *l = *pp;
        bool adjacent = (l->end != LOCK_TO_END && l->end + 1 == n->start) ||
                        (n->end != LOCK_TO_END && n->end + 1 == l->start);
        if (l->owner == n->owner && l->kind == n->kind && l->type == n->type && adjacent) {
            n->start = MIN(n->start, l->start);
            n->end = MAX(n->end, l->end);
            *pp = l->next;
            kfree(l);
            continue;
        }
        pp = &l->next;
    }
    n->next = w->ino->locks;
    w->ino->locks = n;
    return 0;
}

/* The range *fl names in f: [*start, *end]. */
static long range_of(struct file *f, const struct linux_flock *fl, uint64_t *start, uint64_t *end)
{
    int64_t base = fl->l_whence == SEEK_CUR   ? (int64_t)f->pos
                   : fl->l_whence == SEEK_END ? (int64_t)f->inode->size
                                              : 0;
    int64_t s, e;
    if (__builtin_add_overflow(base, fl->l_start, &s))
        return -EOVERFLOW;
    if (fl->l_len > 0) {
        if (__builtin_add_overflow(s, fl->l_len - 1, &e))
            return -EOVERFLOW;
    } else if (fl->l_len < 0) {
        e = s - 1;
        if (__builtin_add_overflow(s, fl->l_len, &s))
            return -EINVAL;
    } else {
        e = INT64_MAX;
    }
    if (s < 0)
        return -EINVAL;
    *start = (uint64_t)s;
    *end = e == INT64_MAX ? LOCK_TO_END : (uint64_t)e;
    return 0;
}

long lock_record(struct file *f, int cmd, struct linux_flock *fl)
{
    bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
    if (!f->inode) { /* a pipe or the console: no other process can lock it */
        if (get)
            fl->l_type = F_UNLCK;
        return 0;
    }
    bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
    struct process *p = current_process();
    struct lock_wait w = {f->inode,
                          ofd ? (const void *)f : (const void *)p,
                          ofd ? LK_OFD : LK_POSIX,
                          (uint8_t)fl->l_type,
                          0,
                          0};
    long err = range_of(f, fl, &w.start, &w.end);
    if (err)
        return err;
    if (get) {
        struct file_lock *c =
            fl->l_type == F_UNLCK ? NULL : conflict(w.ino, w.owner, w.kind, w.type, w.start, w.end);
        if (!c) {
            fl->l_type = F_UNLCK;
            return 0;
        }
        fl->l_type = c->type;
        fl->l_whence = SEEK_SET;
        fl->l_start = (int64_t)c->start;
        fl->l_len = c->end == LOCK_TO_END ? 0 : (int64_t)(c->end - c->start + 1);
        fl->l_pid = c->pid;
        return 0;
    }
    if (fl->l_type == F_UNLCK)
        return remove_range(w.ino, w.owner, w.kind, w.start, w.end);
    return take(&w, ofd ? -1 : p->pid, cmd == F_SETLKW || cmd == F_OFD_SETLKW);
}

long lock_flock(struct file *f, int op)
{
    if (!f->inode)
        return 0; /* a pipe or the console: nothing else can lock it */
    int kind = op & ~LOCK_NB;
    if (kind == LOCK_UN)
        return remove_range(f->inode, f, LK_FLOCK, 0, LOCK_TO_END);
    /* a conversion drops the old lock first (Linux's flock is not atomic there either) */
    struct lock_wait w = {f->inode, f,          LK_FLOCK, kind == LOCK_EX ? F_WRLCK : F_RDLCK,
                          0,        LOCK_TO_END};
    if (remove_range(f->inode, f, LK_FLOCK, 0, LOCK_TO_END))
        return -ENOLCK;
    return take(&w, current_process()->pid, !(op & LOCK_NB));
}

static void drop_where(struct inode *ino, bool (*match)(const struct file_lock *, const void *),
                       const void *arg)
{
    bool any = false;
    for (struct file_lock **pp = &ino->locks; *pp;) {
        struct file_lock *l = *pp;
        if (match(l, arg)) {
            *pp = l->next;
            kfree(l);
            any = true;
        } else {
            pp = &l->next;
        }
    }
    if (any)
        removed(ino);
}

static bool posix_of(const struct file_lock *l, const void *p)
{
    return l->kind == LK_POSIX && l->owner == p;
}

static bool owned_by_file(const struct file_lock *l, const void *f)
{
    return l->kind != LK_POSIX && l->owner == f;
}

void lock_close(struct inode *ino, const struct process *p)
{
    if (ino->locks)
        drop_where(ino, posix_of, p);
}

void lock_release_file(struct file *f)
{
    if (f->inode && f->inode->locks)
        drop_where(f->inode, owned_by_file, f);
}
