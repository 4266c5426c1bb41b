/* msg.c: System V message queues (msgget, msgsnd, msgrcv, msgctl).
 *
 * A queue is a list of messages (a type and up to MSGMAX bytes each) in the kernel heap, found by
 * key or id through ipc.c, holding at most msg_qbytes bytes and as many messages (Linux's
 * msg_fits). msgsnd waits while the queue is full and msgrcv while no message matches (type 0:
 * the first; > 0: the first of that type, or of another with MSG_EXCEPT; < 0: the lowest type up
 * to its absolute value); IPC_NOWAIT makes that EAGAIN and ENOMSG, a signal EINTR (or a restart
 * when no handler runs), the queue's removal EIDRM. A message longer than the buffer is E2BIG and
 * stays, unless MSG_NOERROR cuts it. MSG_COPY (with IPC_NOWAIT) copies the message at an index
 * without taking it.
 *
 * Limits and the order of the checks follow Linux 6.1's ipc/msg.c.
 */
#include "ipc.h"

#include "klib.h"
#include "mm.h"
#include "process.h"
#include "signal.h"
#include "syscall.h"
#include "wait.h"

#define MSG_STAT     11
#define MSG_INFO     12
#define MSG_STAT_ANY 13
#define MSG_NOERROR  010000
#define MSG_EXCEPT   020000
#define MSG_COPY     040000

#define LONG_MAX_VALUE ((long)(~0ul >> 1))
#define LONG_MIN_VALUE (-LONG_MAX_VALUE - 1)

struct msqid64_ds {
    struct ipc64_perm perm;
    int64_t stime, rtime, ctime;
    uint64_t cbytes, qnum, qbytes;
    int32_t lspid, lrpid;
    uint64_t unused4, unused5;
};

struct msginfo {
    int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
    uint16_t msgseg;
};

struct msg {
    struct msg *next;
    long type;
    size_t len;
    char text[];
};

struct msgq {
    struct kipc_perm perm;
    struct msg *head, **tail;
    uint64_t cbytes, qnum, qbytes;
    int64_t stime, rtime, ctime;
    int lspid, lrpid;
    bool removed;
    unsigned waiters; /* threads blocked on it: the last one frees a removed queue */
};

static struct ipc_table g_msg = {.max = MSGMNI};
static uint64_t g_msgs, g_bytes; /* in every queue (MSG_INFO) */

static struct msgq *queue_of(int id)
{
    return (struct msgq *)ipc_lookup(&g_msg, id, NULL);
}

SYSCALL_DEFINE2(msgget, int32_t, key, int, flg)
{
    long idx = ipc_get(&g_msg, key, flg, NULL, 0);
    if (idx != IPC_GET_NEW)
        return idx < 0 ? idx : ipc_id(&g_msg, (int)idx);
    struct msgq *q = mm_memory_low() ? NULL : kzalloc(sizeof(*q));
    if (!q)
        return -ENOMEM;
    int id = ipc_add(&g_msg, &q->perm, key, flg);
    if (id < 0) {
        kfree(q);
        return id;
    }
    q->tail = &q->head;
    q->qbytes = MSGMNB;
    q->ctime = ipc_now();
    return id;
}

/* Waits on q until ready(arg): 0, or -EIDRM (removed meanwhile), -EINTR. */
static int wait_queue(struct msgq *q, int id, bool (*ready)(void *), void *arg)
{
    q->waiters++;
    int err = ipc_wait(q, ready, arg, WAIT_FOREVER);
    q->waiters--;
    if (q->removed || queue_of(id) != q) {
        if (!q->waiters && q->removed)
            kfree(q);
        return -EIDRM;
    }
    return err == -EINTR ? -ERESTARTNOHAND : err; /* restarted unless a handler runs, as Linux */
}

struct send {
    struct msgq *q;
    size_t len;
};

static bool fits(void *arg)
{
    const struct send *s = arg;
    return s->q->removed ||
           (s->len + s->q->cbytes <= s->q->qbytes && 1 + s->q->qnum <= s->q->qbytes);
}

SYSCALL_DEFINE4(msgsnd, int, id, uint64_t, umsg, int64_t, len, int, flg)
{
    long type;
    if (copy_from_user(&type, umsg, sizeof(type)))
        return -EFAULT; /* first, as Linux */
    if (len < 0 || len > MSGMAX || id < 0 || type < 1)
        return -EINVAL;
    if (mm_memory_low())
        return -ENOMEM; /* the kernel's reserve is not the application's */
    struct msg *m = kmalloc(sizeof(*m) + (size_t)len);
    if (!m)
        return -ENOMEM;
    if (copy_from_user(m->text, umsg + sizeof(long), (size_t)len)) {
        kfree(m);
        return -EFAULT;
    }
    m->type = type;
    m->len = (size_t)len;
    m->next = NULL;
    struct msgq *q = queue_of(id);
    long err = !q ? -EINVAL : ipc_may(&q->perm, 0222) ? -EACCES : 0;
    struct send s = {.q = q, .len = (size_t)len};
    if (!err && !fits(&s))
        err = (flg & IPC_NOWAIT) ? -EAGAIN : wait_queue(q, id, fits, &s);
    if (err) {
        kfree(m);
        return err;
    }
    *q->tail = m;
    q->tail = &m->next;
    q->cbytes += (size_t)len;
    q->qnum++;
    q->lspid = current_process()->pid;
    q->stime = ipc_now();
    ipc_wake(q); /* a receiver may wait for it */
    g_msgs++;
    g_bytes += (size_t)len;
    return 0;
}

struct recv {
    struct msgq *q;
    long type;
    int flg;
};

/* The message msgrcv takes (*prevp: the link that points at it), or NULL. */
static struct msg *find(struct msgq *q, long type, int flg, struct msg ***prevp)
{
    struct msg **best = NULL;
    for (struct msg **pp = &q->head; *pp; pp = &(*pp)->next) {
        long t = (*pp)->type;
        if (type == 0 || (type > 0 && ((flg & MSG_EXCEPT) ? t != type : t == type))) {
            best = pp;
            break;
        }
        if (type < 0 && t <= -type && (!best || t < (*best)->type))
            best = pp;
    }
    if (prevp)
        *prevp = best;
    return best ? *best : NULL;
}

static bool has_msg(void *arg)
{
    const struct recv *r = arg;
    return r->q->removed || find(r->q, r->type, r->flg, NULL);
}

static void unlink_msg(struct msgq *q, struct msg **pp)
{
    struct msg *m = *pp;
    *pp = m->next;
    if (q->tail == &m->next)
        q->tail = pp;
    q->cbytes -= m->len;
    q->qnum--;
    g_msgs--;
    g_bytes -= m->len;
}

SYSCALL_DEFINE5(msgrcv, int, id, uint64_t, umsg, int64_t, len, long, type, int, flg)
{
    if (len < 0 || id < 0)
        return -EINVAL;
    if (type == LONG_MIN_VALUE)
        type = -LONG_MAX_VALUE; /* its absolute value would not fit */
    if ((flg & MSG_COPY) && ((flg & MSG_EXCEPT) || !(flg & IPC_NOWAIT)))
        return -EINVAL;
    struct msgq *q = queue_of(id);
    if (!q)
        return -EINVAL;
    if (ipc_may(&q->perm, 0444))
        return -EACCES;
    struct msg **pp = NULL, *m;
    if (flg & MSG_COPY) {
        pp = &q->head;
        for (long i = 0; *pp && i < type; i++)
            pp = &(*pp)->next;
        if (!*pp || type < 0)
            return -ENOMSG;
        m = *pp;
        if (m->len > (uint64_t)len)
            return -EINVAL; /* a copy is never cut, MSG_NOERROR or not (Linux's copy_msg) */
    } else {
        struct recv r = {.q = q, .type = type, .flg = flg};
        while (!(m = find(q, type, flg, &pp))) {
            if (flg & IPC_NOWAIT)
                return -ENOMSG;
            int err = wait_queue(q, id, has_msg, &r);
            if (err)
                return err;
        }
    }
    if (m->len > (uint64_t)len && !(flg & MSG_NOERROR))
        return -E2BIG;
    size_t n = MIN(m->len, (size_t)len);
    if (!(flg & MSG_COPY)) {
        /* taken before it is copied out: a bad buffer loses it, as on Linux */
        unlink_msg(q, pp);
        q->lrpid = current_process()->pid;
        q->rtime = ipc_now();
        ipc_wake(q); /* a sender may wait for room */
    }
    long ret = (long)n;
    if (copy_to_user(umsg, &m->type, sizeof(long)) || copy_to_user(umsg + sizeof(long), m->text, n))
        ret = -EFAULT;
    if (!(flg & MSG_COPY))
        kfree(m);
    return ret;
}

static long stat_of(const struct msgq *q, uint64_t buf)
{
    struct msqid64_ds d = {.stime = q->stime,
                           .rtime = q->rtime,
                           .ctime = q->ctime,
                           .cbytes = q->cbytes,
                           .qnum = q->qnum,
                           .qbytes = q->qbytes,
                           .lspid = q->lspid,
                           .lrpid = q->lrpid};
    ipc_fill(&q->perm, &d.perm);
    return copy_to_user(buf, &d, sizeof(d)) ? -EFAULT : 0;
}

static long info(int cmd, uint64_t buf)
{
    struct msginfo in;
    memset(&in, 0, sizeof(in)); /* its padding too */
    in.msgpool = MSGMNI * MSGMNB / 1024;
    in.msgmap = in.msgtql = MSGMNB;
    in.msgmax = MSGMAX;
    in.msgmnb = MSGMNB;
    in.msgmni = MSGMNI;
    in.msgssz = 16;
    in.msgseg = 0xffff;
    if (cmd == MSG_INFO) {
        in.msgpool = g_msg.used;
        in.msgmap = (int32_t)g_msgs;
        in.msgtql = (int32_t)g_bytes;
    }
    return copy_to_user(buf, &in, sizeof(in)) ? -EFAULT : ipc_max_idx(&g_msg);
}

static void remove_queue(struct msgq *q, int idx)
{
    ipc_remove(&g_msg, idx);
    while (q->head) {
        struct msg *m = q->head;
        unlink_msg(q, &q->head);
        kfree(m);
    }
    q->removed = true;
    ipc_wake(q); /* its waiters see EIDRM */
    if (!q->waiters)
        kfree(q); /* else the last waiter frees it */
}

SYSCALL_DEFINE3(msgctl, int, id, int, cmd, uint64_t, buf)
{
    if (id < 0 || cmd < 0)
        return -EINVAL;
    if (cmd == IPC_INFO || cmd == MSG_INFO)
        return info(cmd, buf);
    int idx = id;
    struct msgq *q;
    if (cmd == MSG_STAT || cmd == MSG_STAT_ANY) {
        if (!(q = (struct msgq *)ipc_slot(&g_msg, id)))
            return -EINVAL;
        if (cmd == MSG_STAT && ipc_may(&q->perm, 0444))
            return -EACCES;
        long err = stat_of(q, buf);
        return err ? err : ipc_id(&g_msg, idx);
    }
    if (cmd != IPC_STAT && cmd != IPC_SET && cmd != IPC_RMID)
        return -EINVAL;
    struct msqid64_ds d;
    if (cmd == IPC_SET && copy_from_user(&d, buf, sizeof(d)))
        return -EFAULT;
    if (!(q = (struct msgq *)ipc_lookup(&g_msg, id, &idx)))
        return -EINVAL;
    if (cmd == IPC_STAT)
        return ipc_may(&q->perm, 0444) ? -EACCES : stat_of(q, buf);
    if (!ipc_owns(&q->perm))
        return -EPERM;
    if (cmd == IPC_RMID) {
        remove_queue(q, idx);
        return 0;
    }
    if (d.qbytes > MSGMNB && !cred_privileged())
        return -EPERM; /* raising the limit past the default needs CAP_SYS_RESOURCE */
    long err = ipc_set(&q->perm, &d.perm);
    if (err)
        return err;
    q->qbytes = d.qbytes;
    q->ctime = ipc_now();
    ipc_wake(q); /* senders may fit now */
    return 0;
}

int msg_line(int *idx, char *buf, size_t size)
{
    for (int i = *idx; i < MSGMNI; i++) {
        const struct msgq *q = (const struct msgq *)ipc_slot(&g_msg, i);
        if (!q)
            continue;
        const struct kipc_perm *p = &q->perm;
        *idx = i;
        return ksnprintf(buf, size,
                         "%10d %10d  %4o  %10lu %10lu %5u %5u %5u %5u %5u %5u %10ld %10ld %10ld\n",
                         p->key, ipc_id(&g_msg, i), p->mode, q->cbytes, q->qnum, q->lspid, q->lrpid,
                         p->uid, p->gid, p->cuid, p->cgid, q->stime, q->rtime, q->ctime) > 0;
    }
    return 0;
}
