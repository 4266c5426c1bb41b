/* ipc.h: what the three kinds of System V IPC (shm.c, sem.c, msg.c) share: a table of objects
 * found by key or by id, with Linux's ids, permission checks and the struct ipc64_perm that
 * IPC_STAT gives. Not a boundary: only sys/shm.c, sem.c, msg.c and ipc.c include it. */
#ifndef ALCOVE_SYS_IPC_H
#define ALCOVE_SYS_IPC_H

#include "kernel.h"

#define IPC_PRIVATE 0
#define IPC_CREAT   01000
#define IPC_EXCL    02000
#define IPC_NOWAIT  04000
#define IPC_RMID    0
#define IPC_SET     1
#define IPC_STAT    2
#define IPC_INFO    3

/* Limits: Linux's defaults (/proc/sys/kernel shows them, read-only). */
#define SHMMNI 4096                 /* segments */
#define SHMMIN 1ul                  /* bytes in a segment, at least */
#define SHMMAX (~0ul - (1ul << 24)) /* bytes in a segment, at most */
#define SHMALL (~0ul - (1ul << 24)) /* pages in all segments */
#define SEMMNI 32000                /* semaphore sets */
#define SEMMSL 32000                /* semaphores in a set */
#define SEMMNS (SEMMNI * SEMMSL)    /* semaphores in all */
#define SEMOPM 500                  /* operations in one semop */
#define SEMVMX 32767                /* a semaphore's value, at most */
#define MSGMNI 32000                /* message queues */
#define MSGMAX 8192                 /* bytes in a message */
#define MSGMNB 16384                /* a new queue's msg_qbytes */

/* struct ipc64_perm, x86-64 */
struct ipc64_perm {
    int32_t key;
    uint32_t uid, gid, cuid, cgid, mode;
    uint16_t seq, pad2;
    uint64_t unused1, unused2;
};

/* The head of every object: its key, ids, mode (permission bits and the kind's own flags above
 * them) and the sequence number that makes its id. */
struct kipc_perm {
    int32_t key;
    uint16_t seq;
    uint32_t uid, gid, cuid, cgid, mode;
};

/* A table of at most max objects (ids: slot + seq * 32768, so a stale id is never another
 * object). */
struct ipc_table {
    struct kipc_perm **slot; /* max entries, allocated at the first object */
    int max, used;
    uint16_t seq;
};

/* The id of the object in slot idx. */
int ipc_id(const struct ipc_table *t, int idx);
/* The object with this id (and *idx its slot when idx is not NULL), or NULL. */
struct kipc_perm *ipc_lookup(const struct ipc_table *t, int id, int *idx);
/* The object in slot idx (SHM_STAT and the like take a slot, not an id), or NULL. */
struct kipc_perm *ipc_slot(const struct ipc_table *t, int idx);
/* The highest slot in use, or 0: what IPC_INFO and *_INFO return. */
int ipc_max_idx(const struct ipc_table *t);

/* The common part of shmget, semget and msgget (Linux's ipcget): the slot of the object that key
 * names once it passed IPC_EXCL, more(obj, arg) (the kind's own checks, first) and the
 * permissions that flg asks for; IPC_GET_NEW when a new object should be made (IPC_PRIVATE, or
 * no object has key and flg has IPC_CREAT); or -EEXIST, -ENOENT, -EACCES, more's error. */
#define IPC_GET_NEW (-1000)
long ipc_get(const struct ipc_table *t, int32_t key, int flg,
             int (*more)(struct kipc_perm *obj, long arg), long arg);
/* Puts a new object p in a free slot with key, the caller's ids and flg's permission bits:
 * its id, or -ENOSPC (the table is full) or -ENOMEM. */
int ipc_add(struct ipc_table *t, struct kipc_perm *p, int32_t key, int flg);
/* Empties slot idx (the caller frees the object). */
void ipc_remove(struct ipc_table *t, int idx);

/* Linux's ipcperms: 0 when the class of p's mode that applies to the caller (owner or creator,
 * then group, then others) has every r, w, x bit want asks for in any class, or the caller is
 * privileged; else -EACCES. */
int ipc_may(const struct kipc_perm *p, uint32_t want);
/* IPC_SET and IPC_RMID: the owner, the creator, or a privileged caller. */
bool ipc_owns(const struct kipc_perm *p);
/* IPC_STAT's view of p. */
void ipc_fill(const struct kipc_perm *p, struct ipc64_perm *out);
/* IPC_SET: the owner's uid and gid and the permission bits from in; -EPERM unless ipc_owns. */
int ipc_set(struct kipc_perm *p, const struct ipc64_perm *in);

/* /proc/sysvipc's line of each kind (sysvipc.h's sysvipc_line). */
int shm_line(int *idx, char *buf, size_t size);
int sem_line(int *idx, char *buf, size_t size);
int msg_line(int *idx, char *buf, size_t size);

/* Blocking on an object (a semaphore set, a message queue): waits until ready(arg), which is
 * asked first and after each ipc_wake(obj), the CLOCK_MONOTONIC deadline (WAIT_FOREVER: none;
 * -ETIMEDOUT) or a signal (-EINTR). Only ipc_wake(obj) wakes it, not every syscall (so /proc says
 * S while it waits, and it costs nothing while others run). */
int ipc_wait(const void *obj, bool (*ready)(void *arg), void *arg, int64_t deadline);
/* obj changed: the threads waiting on it look again. */
void ipc_wake(const void *obj);

/* Seconds since the epoch (the *_time fields). */
int64_t ipc_now(void);

#endif
