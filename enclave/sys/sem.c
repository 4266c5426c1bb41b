/* sem.c: System V semaphores (semget, semop, semtimedop, semctl).
 *
 * A set is an array of counters in the kernel heap, found by key or id through ipc.c. semop
 * applies all its operations at once or none: when one cannot proceed (a decrement below zero,
 * a wait for zero on a non-zero value) the thread waits (ipc_wait, woken by whatever changes
 * the set: an operation, SETVAL, SETALL, SEM_UNDO applied at a process's end, the removal) and
 * tries the whole array again; IPC_NOWAIT makes that EAGAIN, a timeout (semtimedop) EAGAIN,
 * a signal EINTR (semop is never restarted, as on Linux), and the set's removal EIDRM. A waiting
 * thread counts in GETNCNT or GETZCNT for the operation it waits on.
 *
 * SEM_UNDO: each process keeps, per set it touched that way, the sum of what it must give back;
 * at its end (sem_exit) the values move back by that much, clamped to [0, SEMVMX], as on Linux.
 * A fork's child starts with none; threads share their process's.
 *
 * Limits and the order of the checks follow Linux 6.1's ipc/sem.c. What differs: a waiter's
 * operations happen when it runs again, not inside the call that made them possible (so a
 * GETVAL right after shows the value before them), and CLONE_SYSVSEM is not looked at: a
 * process's threads share one undo list, a fork's child never does.
 */
#include "ipc.h"

#include "klib.h"
#include "mm.h"
#include "process.h"
#include "scheduler.h"
#include "syscall.h"
#include "wait.h"

#define SEM_UNDO 0x1000

#define GETPID       11
#define GETVAL       12
#define GETALL       13
#define GETNCNT      14
#define GETZCNT      15
#define SETVAL       16
#define SETALL       17
#define SEM_STAT     18
#define SEM_INFO     19
#define SEM_STAT_ANY 20

struct sembuf {
    uint16_t num;
    int16_t op;
    int16_t flg;
};

struct semid64_ds {
    struct ipc64_perm perm;
    int64_t otime;
    uint64_t unused1;
    int64_t ctime;
    uint64_t unused2;
    uint64_t nsems, unused3, unused4;
};

struct seminfo {
    int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};

struct sem {
    int val, pid;
};

struct semset {
    struct kipc_perm perm;
    int nsems;
    int64_t otime, ctime;
    bool removed; /* waiters see EIDRM */
    unsigned waiters;
    struct sem sems[];
};

/* A process's SEM_UNDO sums for one set (process.h: struct process.sem_undo). */
struct sem_undo {
    struct sem_undo *next;
    int id; /* the set's id: a set removed since is not found again */
    int nsems;
    int16_t adj[];
};

/* A thread in semop, waiting: what it asks and where it stopped (GETNCNT, GETZCNT). */
struct sem_waiter {
    struct sem_waiter *next;
    struct semset *set;
    const struct sembuf *ops;
    unsigned nops;
    int blocked; /* the operation it waits on */
    int id;
    long result;
};

static struct ipc_table g_sem = {.max = SEMMNI};
static long g_used_sems;
static struct sem_waiter *g_waiters;

static struct semset *set_of(int id, int *idx)
{
    return (struct semset *)ipc_lookup(&g_sem, id, idx);
}

static int enough_sems(struct kipc_perm *p, long nsems)
{
    return nsems > ((struct semset *)p)->nsems ? -EINVAL : 0;
}

SYSCALL_DEFINE3(semget, int32_t, key, int, nsems, int, flg)
{
    if (nsems < 0 || nsems > SEMMSL)
        return -EINVAL;
    long idx = ipc_get(&g_sem, key, flg, enough_sems, nsems);
    if (idx != IPC_GET_NEW)
        return idx < 0 ? idx : ipc_id(&g_sem, (int)idx);
    if (!nsems)
        return -EINVAL;
    if (g_used_sems + nsems > SEMMNS)
        return -ENOSPC;
    if (mm_memory_low())
        return -ENOMEM; /* the kernel's reserve is not the application's */
    struct semset *s = kzalloc(sizeof(*s) + (size_t)nsems * sizeof(struct sem));
    if (!s)
        return -ENOMEM;
    int id = ipc_add(&g_sem, &s->perm, key, flg);
    if (id < 0) {
        kfree(s);
        return id;
    }
    s->nsems = nsems;
    s->ctime = ipc_now();
    g_used_sems += nsems;
    return id;
}

/* The undo record of the current process for set id, made when make (NULL: none, or no memory
 * when make; ENOMEM then). */
static struct sem_undo *undo_of(int id, int nsems, bool make)
{
    struct process *p = current_process();
    for (struct sem_undo *u = p->sem_undo; u; u = u->next)
        if (u->id == id && u->nsems == nsems)
            return u;
    if (!make || mm_memory_low())
        return NULL;
    struct sem_undo *u = kzalloc(sizeof(*u) + (size_t)nsems * sizeof(int16_t));
    if (u) {
        u->id = id;
        u->nsems = nsems;
        u->next = p->sem_undo;
        p->sem_undo = u;
    }
    return u;
}

/* Every process forgets its undo record of set id (the set is removed: Linux's freeary). */
static void forget_undo(int id)
{
    for (struct process *p = process_list(); p; p = p->all_next) {
        for (struct sem_undo **pp = &p->sem_undo; *pp;) {
            struct sem_undo *u = *pp;
            if (u->id == id) {
                *pp = u->next;
                kfree(u);
            } else {
                pp = &u->next;
            }
        }
    }
}

/* Applies ops to s if all of them can proceed now: 0. Else, in the order of the operations as
 * Linux checks them: -EAGAIN with *blocked the one that cannot proceed yet, or -ERANGE when a
 * value would pass SEMVMX or an undo sum its range; -ENOMEM (no undo record). */
static int try_ops(struct semset *s, const struct sembuf *ops, unsigned n, int id, int *blocked)
{
    struct sem_undo *u = NULL;
    for (unsigned i = 0; i < n && !u; i++)
        if ((ops[i].flg & SEM_UNDO) && !(u = undo_of(id, s->nsems, true)))
            return -ENOMEM;
    /* each operation's value and undo sum after it: a semaphore may appear more than once */
    int vals[SEMOPM], adjs[SEMOPM];
    for (unsigned i = 0; i < n; i++) {
        int num = ops[i].num, op = ops[i].op;
        int v = s->sems[num].val, adj = u ? u->adj[num] : 0;
        for (unsigned k = 0; k < i; k++) {
            if (ops[k].num == num) {
                v = vals[k];
                adj = adjs[k];
            }
        }
        if ((op == 0 && v != 0) || v + op < 0) {
            *blocked = (int)i;
            return -EAGAIN;
        }
        if (v + op > SEMVMX)
            return -ERANGE;
        if (ops[i].flg & SEM_UNDO) {
            adj -= op;
            if (adj < -(SEMVMX + 1) || adj > SEMVMX)
                return -ERANGE;
        }
        vals[i] = v + op;
        adjs[i] = adj;
    }
    int pid = current_process()->pid;
    for (unsigned i = 0; i < n; i++) {
        s->sems[ops[i].num].val = vals[i];
        s->sems[ops[i].num].pid = pid;
        if (u)
            u->adj[ops[i].num] = (int16_t)adjs[i];
    }
    s->otime = ipc_now();
    ipc_wake(s); /* what others wait for may be there now */
    return 0;
}

static bool sem_ready(void *arg)
{
    struct sem_waiter *w = arg;
    if (w->set->removed || set_of(w->id, NULL) != w->set) {
        w->result = -EIDRM;
        return true;
    }
    int err = try_ops(w->set, w->ops, w->nops, w->id, &w->blocked);
    if (err == -EAGAIN)
        return false;
    w->result = err;
    return true;
}

static void unlink_waiter(struct sem_waiter *w)
{
    for (struct sem_waiter **pp = &g_waiters; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            return;
        }
    }
}

/* A timeout's deadline on CLOCK_MONOTONIC: 0, or -EINVAL. */
static int deadline_of(const struct linux_timespec *ts, int64_t *deadline)
{
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
        return -EINVAL;
    int64_t ns = ts->tv_sec > 1000000000ll ? 1000000000ll * 1000000000ll
                                           : ts->tv_sec * 1000000000ll + ts->tv_nsec;
    *deadline = (int64_t)time_since_boot_ns() + ns;
    return 0;
}

static long do_semop(int id, uint64_t uops, unsigned n, uint64_t uts)
{
    struct linux_timespec ts;
    if (uts && copy_from_user(&ts, uts, sizeof(ts)))
        return -EFAULT; /* Linux reads the timeout first */
    if (id < 0 || n == 0)
        return -EINVAL;
    if (n > SEMOPM)
        return -E2BIG;
    struct sembuf *ops = kmalloc(n * sizeof(*ops));
    if (!ops)
        return -ENOMEM;
    int64_t deadline = WAIT_FOREVER;
    long ret = copy_from_user(ops, uops, n * sizeof(*ops)) ? -EFAULT
               : uts                                       ? deadline_of(&ts, &deadline)
                                                           : 0;
    int max = 0;
    bool alter = false;
    for (unsigned i = 0; !ret && i < n; i++) {
        max = MAX(max, (int)ops[i].num);
        alter |= ops[i].op != 0;
    }
    struct semset *s = ret ? NULL : set_of(id, NULL);
    if (!ret && !s)
        ret = -EINVAL;
    if (!ret && max >= s->nsems)
        ret = -EFBIG;
    if (!ret && ipc_may(&s->perm, alter ? 0222 : 0444))
        ret = -EACCES;
    struct sem_waiter w = {.set = s, .ops = ops, .nops = n, .id = id};
    if (!ret && (ret = try_ops(s, ops, n, id, &w.blocked)) == -EAGAIN &&
        !(ops[w.blocked].flg & IPC_NOWAIT)) {
        w.next = g_waiters;
        g_waiters = &w;
        s->waiters++;
        int err = ipc_wait(s, sem_ready, &w, deadline);
        unlink_waiter(&w);
        s->waiters--;
        ret = err == -ETIMEDOUT ? -EAGAIN : err ? err : w.result;
        if (s->removed && !s->waiters)
            kfree(s); /* the last waiter of a removed set frees it */
    }
    kfree(ops);
    return ret;
}

SYSCALL_DEFINE3(semop, int, id, uint64_t, ops, uint32_t, n)
{
    return do_semop(id, ops, n, 0);
}

SYSCALL_DEFINE4(semtimedop, int, id, uint64_t, ops, uint32_t, n, uint64_t, uts)
{
    return do_semop(id, ops, n, uts);
}

/* Threads waiting on semaphore num of s to decrease (GETNCNT) or to be zero (GETZCNT). */
static long count_waiting(const struct semset *s, int num, bool zero)
{
    long n = 0;
    for (const struct sem_waiter *w = g_waiters; w; w = w->next) {
        const struct sembuf *op = &w->ops[w->blocked];
        n += w->set == s && op->num == num && (zero ? op->op == 0 : op->op < 0);
    }
    return n;
}

/* SETVAL and SETALL: every process's undo sums for the semaphores set are forgotten. */
static void clear_undo(int id, int num)
{
    for (struct process *p = process_list(); p; p = p->all_next)
        for (struct sem_undo *u = p->sem_undo; u; u = u->next)
            if (u->id == id)
                for (int i = 0; i < u->nsems; i++)
                    if (num < 0 || i == num)
                        u->adj[i] = 0;
}

static void remove_set(struct semset *s, int idx)
{
    forget_undo(ipc_id(&g_sem, idx));
    ipc_remove(&g_sem, idx);
    g_used_sems -= s->nsems;
    s->removed = true;
    ipc_wake(s); /* its waiters see EIDRM */
    if (!s->waiters)
        kfree(s); /* else the last waiter frees it */
}

static long stat_of(const struct semset *s, uint64_t buf)
{
    struct semid64_ds d = {.otime = s->otime, .ctime = s->ctime, .nsems = (uint64_t)s->nsems};
    ipc_fill(&s->perm, &d.perm);
    return copy_to_user(buf, &d, sizeof(d)) ? -EFAULT : 0;
}

static long info(int cmd, uint64_t buf)
{
    struct seminfo in = {.semmap = SEMMNS,
                         .semmni = SEMMNI,
                         .semmns = SEMMNS,
                         .semmnu = SEMMNS,
                         .semmsl = SEMMSL,
                         .semopm = SEMOPM,
                         .semume = SEMOPM,
                         .semusz = 20,
                         .semvmx = SEMVMX,
                         .semaem = SEMVMX};
    if (cmd == SEM_INFO) {
        in.semusz = g_sem.used;
        in.semaem = (int32_t)g_used_sems;
    }
    return copy_to_user(buf, &in, sizeof(in)) ? -EFAULT : ipc_max_idx(&g_sem);
}

static long get_all(const struct semset *s, uint64_t buf)
{
    for (int i = 0; i < s->nsems; i++) {
        uint16_t v = (uint16_t)s->sems[i].val;
        if (copy_to_user(buf + (uint64_t)i * 2, &v, 2))
            return -EFAULT;
    }
    return 0;
}

static long set_all(struct semset *s, int id, uint64_t buf)
{
    uint16_t *v = kmalloc((size_t)s->nsems * 2);
    if (!v)
        return -ENOMEM;
    long err = copy_from_user(v, buf, (size_t)s->nsems * 2) ? -EFAULT : 0;
    for (int i = 0; !err && i < s->nsems; i++)
        if (v[i] > SEMVMX)
            err = -ERANGE;
    int pid = current_process()->pid;
    for (int i = 0; !err && i < s->nsems; i++) {
        s->sems[i].val = v[i];
        s->sems[i].pid = pid;
    }
    kfree(v);
    if (!err) {
        clear_undo(id, -1);
        s->ctime = ipc_now();
        ipc_wake(s);
    }
    return err;
}

SYSCALL_DEFINE4(semctl, int, id, int, num, int, cmd, uint64_t, arg)
{
    if (id < 0 || cmd < 0)
        return -EINVAL;
    if (cmd == IPC_INFO || cmd == SEM_INFO)
        return info(cmd, arg);
    int idx = id;
    struct semset *s;
    if (cmd == SEM_STAT || cmd == SEM_STAT_ANY) {
        if (!(s = (struct semset *)ipc_slot(&g_sem, id)))
            return -EINVAL;
        if (cmd == SEM_STAT && ipc_may(&s->perm, 0444))
            return -EACCES;
        long err = stat_of(s, arg);
        return err ? err : ipc_id(&g_sem, idx);
    }
    if (cmd > SETALL || (cmd > IPC_INFO && cmd < GETPID))
        return -EINVAL;
    if (cmd == SETVAL && ((int)arg < 0 || (int)arg > SEMVMX))
        return -ERANGE; /* Linux checks the value first */
    struct semid64_ds d;
    if (cmd == IPC_SET && copy_from_user(&d, arg, sizeof(d)))
        return -EFAULT; /* before the lookup, as Linux */
    if (!(s = set_of(id, &idx)))
        return -EINVAL;
    switch (cmd) {
    case IPC_RMID:
        if (!ipc_owns(&s->perm))
            return -EPERM;
        remove_set(s, idx);
        return 0;
    case IPC_SET: {
        long err = ipc_set(&s->perm, &d.perm);
        if (!err)
            s->ctime = ipc_now();
        return err;
    }
    case SETALL:
        return ipc_may(&s->perm, 0222) ? -EACCES : set_all(s, id, arg);
    case SETVAL:
        if (num < 0 || num >= s->nsems)
            return -EINVAL;
        if (ipc_may(&s->perm, 0222))
            return -EACCES;
        s->sems[num].val = (int)arg;
        s->sems[num].pid = current_process()->pid;
        clear_undo(id, num);
        s->ctime = ipc_now();
        ipc_wake(s);
        return 0;
    default:
        break;
    }
    if (ipc_may(&s->perm, 0444))
        return -EACCES;
    if (cmd == IPC_STAT)
        return stat_of(s, arg);
    if (cmd == GETALL)
        return get_all(s, arg);
    if (num < 0 || num >= s->nsems)
        return -EINVAL;
    switch (cmd) {
    case GETVAL:
        return s->sems[num].val;
    case GETPID:
        return s->sems[num].pid;
    case GETNCNT:
        return count_waiting(s, num, false);
    default: /* GETZCNT */
        return count_waiting(s, num, true);
    }
}

void sem_exit(struct process *p)
{
    while (p->sem_undo) {
        struct sem_undo *u = p->sem_undo;
        p->sem_undo = u->next;
        struct semset *s = set_of(u->id, NULL);
        for (int i = 0; s && i < u->nsems && i < s->nsems; i++) {
            if (!u->adj[i])
                continue;
            int v = s->sems[i].val + u->adj[i];
            s->sems[i].val = v < 0 ? 0 : v > SEMVMX ? SEMVMX : v;
            s->sems[i].pid = p->pid;
        }
        if (s) {
            s->otime = ipc_now();
            ipc_wake(s);
        }
        kfree(u);
    }
}

int sem_line(int *idx, char *buf, size_t size)
{
    for (int i = *idx; i < SEMMNI; i++) {
        const struct semset *s = (const struct semset *)ipc_slot(&g_sem, i);
        if (!s)
            continue;
        const struct kipc_perm *p = &s->perm;
        *idx = i;
        return ksnprintf(buf, size, "%10d %10d  %4o %10u %5u %5u %5u %5u %10ld %10ld\n", p->key,
                         ipc_id(&g_sem, i), p->mode, (unsigned)s->nsems, p->uid, p->gid, p->cuid,
                         p->cgid, s->otime, s->ctime) > 0;
    }
    return 0;
}
