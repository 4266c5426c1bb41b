/* ipc.c: the table of System V IPC objects and Linux's rules for keys, ids and permissions,
 * shared by shared memory (shm.c), semaphores (sem.c) and message queues (msg.c). Linux 6.1's
 * ipc/util.c is the reference for the order of the checks. */
#include "ipc.h"

#include "klib.h"
#include "process.h"
#include "scheduler.h"
#include "signal.h"
#include "sysvipc.h"
#include "wait.h"

#define ID_SPAN 32768

/* Threads in ipc_wait, each with the object it waits on (on their kernel stacks). */
struct ipc_waiter {
    struct ipc_waiter *next;
    const void *obj;
    struct thread *t;
};
static struct ipc_waiter *g_waiters;

int ipc_wait(const void *obj, bool (*ready)(void *arg), void *arg, int64_t deadline)
{
    struct ipc_waiter w = {g_waiters, obj, current()};
    g_waiters = &w;
    int err = 0;
    while (!ready(arg)) {
        if (signal_pending()) {
            err = -EINTR;
            break;
        }
        if (deadline != WAIT_FOREVER && time_monotonic_ns() >= deadline) {
            err = -ETIMEDOUT;
            break;
        }
        sched_block(0, deadline, true);
    }
    for (struct ipc_waiter **pp = &g_waiters; *pp; pp = &(*pp)->next) {
        if (*pp == &w) {
            *pp = w.next;
            break;
        }
    }
    return err;
}

void ipc_wake(const void *obj)
{
    for (struct ipc_waiter *w = g_waiters; w; w = w->next)
        if (w->obj == obj)
            sched_wake(w->t);
}

int64_t ipc_now(void)
{
    return time_realtime_ns() / 1000000000;
}

int ipc_id(const struct ipc_table *t, int idx)
{
    return (int)t->slot[idx]->seq * ID_SPAN + idx;
}

struct kipc_perm *ipc_slot(const struct ipc_table *t, int idx)
{
    return t->slot && idx >= 0 && idx < t->max ? t->slot[idx] : NULL;
}

struct kipc_perm *ipc_lookup(const struct ipc_table *t, int id, int *idx)
{
    if (id < 0)
        return NULL;
    struct kipc_perm *p = ipc_slot(t, id % ID_SPAN);
    if (!p || p->seq != id / ID_SPAN)
        return NULL;
    if (idx)
        *idx = id % ID_SPAN;
    return p;
}

int ipc_max_idx(const struct ipc_table *t)
{
    for (int i = t->max - 1; t->used && i >= 0; i--)
        if (t->slot[i])
            return i;
    return 0;
}

int ipc_may(const struct kipc_perm *p, uint32_t want)
{
    const struct cred *c = &current_process()->cred;
    uint32_t req = ((want >> 6) | (want >> 3) | want) & 7, granted = p->mode;
    if (c->uid[1] == p->uid || c->uid[1] == p->cuid)
        granted >>= 6;
    else if (cred_in_group(p->gid) || cred_in_group(p->cgid))
        granted >>= 3;
    return (req & ~granted & 7) && !cred_privileged() ? -EACCES : 0;
}

bool ipc_owns(const struct kipc_perm *p)
{
    uint32_t euid = current_process()->cred.uid[1];
    return euid == p->uid || euid == p->cuid || cred_privileged();
}

long ipc_get(const struct ipc_table *t, int32_t key, int flg,
             int (*more)(struct kipc_perm *obj, long arg), long arg)
{
    if (key == IPC_PRIVATE)
        return IPC_GET_NEW;
    for (int i = 0; t->slot && i < t->max; i++) {
        struct kipc_perm *p = t->slot[i];
        if (!p || p->key != key)
            continue;
        if ((flg & IPC_CREAT) && (flg & IPC_EXCL))
            return -EEXIST;
        int err = more ? more(p, arg) : 0;
        if (!err)
            err = ipc_may(p, (uint32_t)flg & 0777);
        return err ? err : i;
    }
    return (flg & IPC_CREAT) ? IPC_GET_NEW : -ENOENT;
}

int ipc_add(struct ipc_table *t, struct kipc_perm *p, int32_t key, int flg)
{
    if (!t->slot && !(t->slot = kzalloc((size_t)t->max * sizeof(*t->slot))))
        return -ENOMEM;
    if (t->used >= t->max)
        return -ENOSPC;
    int idx = 0;
    while (t->slot[idx])
        idx++;
    const struct process *me = current_process();
    p->key = key;
    p->seq = t->seq++ % (0x7fffffff / ID_SPAN);
    p->uid = p->cuid = me->cred.uid[1];
    p->gid = p->cgid = me->cred.gid[1];
    p->mode = (uint32_t)flg & 0777;
    t->slot[idx] = p;
    t->used++;
    return ipc_id(t, idx);
}

void ipc_remove(struct ipc_table *t, int idx)
{
    t->slot[idx] = NULL;
    t->used--;
}

void ipc_fill(const struct kipc_perm *p, struct ipc64_perm *out)
{
    memset(out, 0, sizeof(*out));
    out->key = p->key;
    out->uid = p->uid;
    out->gid = p->gid;
    out->cuid = p->cuid;
    out->cgid = p->cgid;
    out->mode = p->mode;
    out->seq = p->seq;
}

int ipc_set(struct kipc_perm *p, const struct ipc64_perm *in)
{
    if (!ipc_owns(p))
        return -EPERM;
    if (in->uid == ~0u || in->gid == ~0u)
        return -EINVAL; /* not an id (Linux's ipc_update_perm) */
    p->uid = in->uid;
    p->gid = in->gid;
    p->mode = (p->mode & ~0777u) | (in->mode & 0777);
    return 0;
}

const char *sysvipc_header(enum sysvipc_kind kind)
{
    switch (kind) {
    case SYSVIPC_SHM:
        return "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  "
               "cuid  cgid      atime      dtime      ctime                   rss                  "
               "swap\n";
    case SYSVIPC_SEM:
        return "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      "
               "ctime\n";
    default:
        return "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  "
               "cgid      stime      rtime      ctime\n";
    }
}

int sysvipc_line(enum sysvipc_kind kind, int *idx, char *buf, size_t size)
{
    return kind == SYSVIPC_SHM   ? shm_line(idx, buf, size)
           : kind == SYSVIPC_SEM ? sem_line(idx, buf, size)
                                 : msg_line(idx, buf, size);
}

int sysvipc_limit(const char *name, char *buf, size_t size)
{
    if (!strcmp(name, "shmmax") || !strcmp(name, "shmall"))
        return ksnprintf(buf, size, "%lu\n", SHMMAX);
    if (!strcmp(name, "shmmni"))
        return ksnprintf(buf, size, "%d\n", SHMMNI);
    if (!strcmp(name, "sem")) /* SEMMSL SEMMNS SEMOPM SEMMNI */
        return ksnprintf(buf, size, "%d\t%d\t%d\t%d\n", SEMMSL, SEMMNS, SEMOPM, SEMMNI);
    if (!strcmp(name, "msgmax"))
        return ksnprintf(buf, size, "%d\n", MSGMAX);
    if (!strcmp(name, "msgmnb"))
        return ksnprintf(buf, size, "%d\n", MSGMNB);
    return ksnprintf(buf, size, "%d\n", MSGMNI);
}
