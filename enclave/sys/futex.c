/* futex.c: the futex syscall: WAIT, WAKE, their BITSET forms, REQUEUE, CMP_REQUEUE and WAKE_OP,
 * private or not (a word in MAP_SHARED memory is named by its frame, so it is the same word in
 * every process and mapping that shares it; any other word by its address in the address space),
 * with relative and absolute timeouts on CLOCK_MONOTONIC or CLOCK_REALTIME; and the
 * priority-inheritance lock operations LOCK_PI, TRYLOCK_PI and UNLOCK_PI with Linux's word
 * protocol (owner tid, FUTEX_WAITERS, FUTEX_OWNER_DIED), which C libraries use for
 * PTHREAD_PRIO_INHERIT mutexes. The enclave's scheduler has no priorities, so there is nothing
 * to inherit: a PI futex is a lock the kernel hands from its owner to the first waiter in
 * arrival order. LOCK_PI2 is LOCK_PI on the clock it names; the requeue-to-PI pair is ENOSYS.
 *
 * Waiters sit in a hash table of queues keyed by the word's name, in arrival order. The
 * value check and the queueing happen under the kernel lock, as does every wake-up, so a
 * FUTEX_WAKE that follows the application's store to the word cannot be missed. */
#include "futex.h"

#include "klib.h"
#include "mm.h"
#include "scheduler.h"
#include "signal.h"
#include "syscall.h"
#include "wait.h"

#define FUTEX_WAIT           0
#define FUTEX_WAKE           1
#define FUTEX_FD             2
#define FUTEX_REQUEUE        3
#define FUTEX_CMP_REQUEUE    4
#define FUTEX_WAKE_OP        5
#define FUTEX_LOCK_PI        6
#define FUTEX_UNLOCK_PI      7
#define FUTEX_TRYLOCK_PI     8
#define FUTEX_WAIT_BITSET    9
#define FUTEX_WAKE_BITSET    10
#define FUTEX_LOCK_PI2       13
#define FUTEX_PRIVATE_FLAG   128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK       (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

/* the word of a PI futex */
#define FUTEX_WAITERS    0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK   0x3fffffffu

#define NBUCKETS 256
#define NSEC     1000000000ll

static struct bucket {
    struct thread *head, *tail;
} g_buckets[NBUCKETS];

/* The bucket of a word: by its shared key when it has one (two mappings of one file put it at
 * different addresses), else by its address. */
static struct bucket *bucket_of(uint64_t uaddr, uint64_t key)
{
    uint64_t x = key ? key : uaddr;
    return &g_buckets[((x >> 2) * 0x9e3779b97f4a7c15ull) >> 56];
}

static void enqueue(struct bucket *b, struct thread *t)
{
    t->futex_next = NULL;
    if (b->tail)
        b->tail->futex_next = t;
    else
        b->head = t;
    b->tail = t;
    t->on_futex = true;
}

static void unlink_waiter(struct bucket *b, struct thread *t)
{
    struct thread *prev = NULL;
    for (struct thread *w = b->head; w; prev = w, w = w->futex_next) {
        if (w != t)
            continue;
        if (prev)
            prev->futex_next = w->futex_next;
        else
            b->head = w->futex_next;
        if (b->tail == w)
            b->tail = prev;
        w->futex_next = NULL;
        w->on_futex = false;
        return;
    }
}

/* What names the futex word at uaddr across processes: its frame's address when it lies in
 * MAP_SHARED memory (the same word for a parent and the children it forked after mapping it),
 * 0 otherwise (the word is the address space's own). */
static uint64_t shared_key(uint64_t uaddr)
{
    const struct vma *v = vms_lookup(mm_space(), uaddr);
    uint64_t pa;
    if (!v || vma_kind(v) != VMA_SHARED || mmu_lookup(&mm_current()->mmu, uaddr, &pa, NULL, NULL))
        return 0;
    return pa;
}

/* A waiter on the word at uaddr (key: shared_key(uaddr)) of the current address space, or on
 * the same shared word from another process or another mapping. */
static bool waits_on(const struct thread *w, uint64_t uaddr, uint64_t key)
{
    if (key)
        return w->futex_key == key;
    return w->futex_addr == uaddr && !w->futex_key && w->proc->mm == current_process()->mm;
}

int futex_wake_addr(uint64_t uaddr, int n, uint32_t bitset)
{
    uint64_t key = shared_key(uaddr);
    struct bucket *b = bucket_of(uaddr, key);
    int woken = 0;
    struct thread *w = b->head;
    while (w && woken < n) {
        struct thread *next = w->futex_next;
        if (waits_on(w, uaddr, key) && (w->futex_bitset & bitset)) {
            unlink_waiter(b, w);
            sched_wake(w);
            woken++;
        }
        w = next;
    }
    return woken;
}

/* The word at uaddr, read once (4-byte aligned, checked). */
static int read_word(uint64_t uaddr, uint32_t *v)
{
    if (!user_range_ok(uaddr, 4, PROT_READ))
        return -EFAULT;
    *v = __atomic_load_n((uint32_t *)uaddr, __ATOMIC_SEQ_CST);
    return 0;
}

/* A timeout as a CLOCK_MONOTONIC deadline: relative (FUTEX_WAIT) or absolute on the clock the
 * op names (FUTEX_WAIT_BITSET). */
static long deadline_of(uint64_t uts, bool absolute, bool realtime, int64_t *out)
{
    *out = WAIT_FOREVER;
    if (!uts)
        return 0;
    struct linux_timespec ts;
    if (copy_from_user(&ts, uts, sizeof(ts)))
        return -EFAULT;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC)
        return -EINVAL;
    int64_t ns = ts.tv_sec > INT64_MAX / NSEC - 1 ? INT64_MAX / 2 : ts.tv_sec * NSEC + ts.tv_nsec;
    int64_t now = time_monotonic_ns();
    if (!absolute)
        *out = now + ns;
    else if (realtime)
        *out = now + (ns - time_realtime_ns());
    else
        *out = ns;
    return 0;
}

static long futex_wait(uint64_t uaddr, uint32_t val, int64_t deadline, uint32_t bitset)
{
    uint32_t cur;
    if (read_word(uaddr, &cur))
        return -EFAULT;
    if (cur != val)
        return -EAGAIN;
    struct thread *t = current();
    t->futex_addr = uaddr;
    t->futex_key = shared_key(uaddr);
    struct bucket *b = bucket_of(uaddr, t->futex_key);
    t->futex_bitset = bitset;
    enqueue(b, t);
    int why = sched_block(0, deadline, true);
    /* Taken off the queue by a FUTEX_WAKE: woken, even if the deadline or a signal came too
     * (the waker counted this thread; returning an error would lose its wake-up). */
    if (!t->on_futex)
        return 0;
    unlink_waiter(bucket_of(t->futex_addr, t->futex_key),
                  t); /* still queued, on its word (or a requeued one) */
    switch (why) {
    case WAKE_TIMEOUT:
        return -ETIMEDOUT;
    default:
        /* a signal: Linux restarts an untimed wait after a handler without SA_RESTART too */
        return deadline == WAIT_FOREVER ? -ERESTARTSYS : -ERESTART_RESTARTBLOCK;
    }
}

/* Wakes nr_wake waiters of uaddr and moves up to nr_requeue of the rest to uaddr2. */
static long futex_requeue(uint64_t uaddr, uint64_t uaddr2, int nr_wake, int nr_requeue,
                          const uint32_t *cmpval)
{
    if (nr_wake < 0 || nr_requeue < 0)
        return -EINVAL;
    if (cmpval) {
        uint32_t cur;
        if (read_word(uaddr, &cur))
            return -EFAULT;
        if (cur != *cmpval)
            return -EAGAIN;
    }
    uint64_t key = shared_key(uaddr), key2 = shared_key(uaddr2);
    struct bucket *b = bucket_of(uaddr, key), *b2 = bucket_of(uaddr2, key2);
    long done = 0;
    int moved = 0;
    struct thread *w = b->head;
    while (w) {
        struct thread *next = w->futex_next;
        if (waits_on(w, uaddr, key)) {
            if (done < nr_wake) {
                unlink_waiter(b, w);
                sched_wake(w);
                done++;
            } else if (moved < nr_requeue) {
                if (uaddr2 != uaddr) { /* onto the same word: it stays where it is */
                    unlink_waiter(b, w);
                    w->futex_addr = uaddr2;
                    w->futex_key = key2;
                    enqueue(b2, w);
                }
                moved++;
            } else {
                break;
            }
        }
        w = next;
    }
    return done + moved; /* both count the requeued too (Linux, unlike its man page) */
}

/* FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2, oparg), wake nr_wake on uaddr, and nr_wake2 on uaddr2
 * when cmp(old value, cmparg) holds. */
static long futex_wake_op(uint64_t uaddr, uint64_t uaddr2, int nr_wake, int nr_wake2, uint32_t op)
{
    uint32_t kind = (op >> 28) & 7, cmp = (op >> 24) & 15;
    int32_t oparg = (int32_t)(op << 8) >> 20, cmparg = (int32_t)(op << 20) >> 20; /* signed */
    if ((op >> 31) & 1) {
        if (oparg < 0 || oparg > 31)
            return -EINVAL; /* Linux's checks on the shift */
        oparg = 1 << oparg;
    }
    if (!user_range_ok(uaddr2, 4, PROT_READ | PROT_WRITE))
        return -EFAULT;
    /* the application's other threads change the word without the kernel lock: one atomic
     * read-modify-write, as Linux does */
    uint32_t *p = (uint32_t *)uaddr2;
    uint32_t old = __atomic_load_n(p, __ATOMIC_SEQ_CST), nv;
    do {
        switch (kind) {
        case 0:
            nv = (uint32_t)oparg;
            break;
        case 1:
            nv = old + (uint32_t)oparg;
            break;
        case 2:
            nv = old | (uint32_t)oparg;
            break;
        case 3:
            nv = old & ~(uint32_t)oparg;
            break;
        case 4:
            nv = old ^ (uint32_t)oparg;
            break;
        default:
            return -ENOSYS;
        }
    } while (!__atomic_compare_exchange_n(p, &old, nv, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    bool hit;
    int32_t o = (int32_t)old;
    switch (cmp) {
    case 0:
        hit = o == cmparg;
        break;
    case 1:
        hit = o != cmparg;
        break;
    case 2:
        hit = o < cmparg;
        break;
    case 3:
        hit = o <= cmparg;
        break;
    case 4:
        hit = o > cmparg;
        break;
    case 5:
        hit = o >= cmparg;
        break;
    default:
        return -ENOSYS;
    }
    long n = futex_wake_addr(uaddr, nr_wake, FUTEX_BITSET_ANY);
    if (hit)
        n += futex_wake_addr(uaddr2, nr_wake2, FUTEX_BITSET_ANY);
    return n;
}

/* ---- priority-inheritance futexes (without priorities) ---- */

/* The first thread queued on the word (uaddr, key) other than skip, or NULL. */
static struct thread *first_waiter(struct bucket *b, uint64_t uaddr, uint64_t key,
                                   const struct thread *skip)
{
    for (struct thread *w = b->head; w; w = w->futex_next)
        if (w != skip && waits_on(w, uaddr, key))
            return w;
    return NULL;
}

static uint32_t load_word(uint64_t uaddr)
{
    return __atomic_load_n((uint32_t *)uaddr, __ATOMIC_SEQ_CST);
}

/* The application's threads change the word without the kernel lock (a locker takes a free word
 * with a compare-and-swap): every change here is one too. */
static bool cas_word(uint64_t uaddr, uint32_t *old, uint32_t nv)
{
    return __atomic_compare_exchange_n((uint32_t *)uaddr, old, nv, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

/* FUTEX_LOCK_PI (deadline: absolute, CLOCK_REALTIME's, or none) and FUTEX_TRYLOCK_PI (try): a
 * word whose owner tid is 0 is taken (keeping FUTEX_OWNER_DIED, which the robust-list walk of a
 * dead owner set, and FUTEX_WAITERS while others wait); otherwise FUTEX_WAITERS is set and the
 * caller waits until FUTEX_UNLOCK_PI hands it the word or a dying owner's robust list frees it. */
static long futex_lock_pi(uint64_t uaddr, int64_t deadline, bool try)
{
    if (!user_range_ok(uaddr, 4, PROT_READ | PROT_WRITE))
        return -EFAULT;
    struct thread *t = current();
    uint32_t tid = (uint32_t)t->tid;
    uint64_t key = shared_key(uaddr);
    struct bucket *b = bucket_of(uaddr, key);
    for (;;) {
        uint32_t v = load_word(uaddr), owner = v & FUTEX_TID_MASK;
        if (owner == tid)
            return -EDEADLK;
        if (!owner) {
            uint32_t nv = (v & FUTEX_OWNER_DIED) | tid;
            if (first_waiter(b, uaddr, key, t))
                nv |= FUTEX_WAITERS;
            if (cas_word(uaddr, &v, nv))
                return 0;
            continue; /* changed meanwhile: look again */
        }
        if (try)
            return -EAGAIN;
        if (!thread_find((int)owner))
            return -ESRCH; /* as Linux, for an owner that no longer exists */
        if (!(v & FUTEX_WAITERS) && !cas_word(uaddr, &v, v | FUTEX_WAITERS))
            continue;
        t->futex_addr = uaddr;
        t->futex_key = key;
        t->futex_bitset = FUTEX_BITSET_ANY;
        enqueue(b, t);
        int why = sched_block(0, deadline, true);
        if (t->on_futex) {
            unlink_waiter(bucket_of(t->futex_addr, t->futex_key), t);
            /* a signal: Linux restarts LOCK_PI after the handler, whatever its flags */
            return why == WAKE_TIMEOUT ? -ETIMEDOUT : -ERESTARTNOINTR;
        }
        /* taken off the queue: handed the word by UNLOCK_PI (it holds our tid), or woken by
         * the robust-list walk of its dead owner (tid 0 now): look again */
        if ((load_word(uaddr) & FUTEX_TID_MASK) == tid)
            return 0;
    }
}

/* FUTEX_UNLOCK_PI: the owner gives the word to the first waiter (its tid, with FUTEX_WAITERS
 * while others still wait, as Linux 6.18 leaves it; that waiter's LOCK_PI returns 0), or frees it
 * (0) when none waits. */
static long futex_unlock_pi(uint64_t uaddr)
{
    if (!user_range_ok(uaddr, 4, PROT_READ | PROT_WRITE))
        return -EFAULT;
    uint32_t tid = (uint32_t)current()->tid;
    uint64_t key = shared_key(uaddr);
    struct bucket *b = bucket_of(uaddr, key);
    uint32_t v = load_word(uaddr);
    for (;;) {
        if ((v & FUTEX_TID_MASK) != tid)
            return -EPERM;
        struct thread *w = first_waiter(b, uaddr, key, NULL);
        uint32_t nv = 0;
        if (w)
            nv = (uint32_t)w->tid | (first_waiter(b, uaddr, key, w) ? FUTEX_WAITERS : 0);
        if (!cas_word(uaddr, &v, nv))
            continue; /* v now holds the word as it is */
        if (w) {
            unlink_waiter(b, w);
            sched_wake(w);
        }
        return 0;
    }
}

SYSCALL_DEFINE6(futex, uint64_t, uaddr, int, op, uint32_t, val, uint64_t, uts, uint64_t, uaddr2,
                uint32_t, val3)
{
    int cmd = op & FUTEX_CMD_MASK;
    bool realtime = op & FUTEX_CLOCK_REALTIME;
    if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_LOCK_PI2)
        return -ENOSYS; /* as Linux since 4.5: FUTEX_WAIT's timeout is relative */
    if (uaddr & 3)
        return -EINVAL;
    /* for the requeue ops the "timeout" argument is a count (val2) */
    int val2 = (int)(uint32_t)uts;
    int64_t deadline;
    long err;
    switch (cmd) {
    case FUTEX_WAIT:
        if ((err = deadline_of(uts, false, false, &deadline)))
            return err;
        return futex_wait(uaddr, val, deadline, FUTEX_BITSET_ANY);
    case FUTEX_WAIT_BITSET:
        if (!val3)
            return -EINVAL;
        if ((err = deadline_of(uts, true, realtime, &deadline)))
            return err;
        return futex_wait(uaddr, val, deadline, val3);
    case FUTEX_WAKE:
        return futex_wake_addr(uaddr, (int)MIN(val, (uint32_t)INT32_MAX), FUTEX_BITSET_ANY);
    case FUTEX_WAKE_BITSET:
        if (!val3)
            return -EINVAL;
        return futex_wake_addr(uaddr, (int)MIN(val, (uint32_t)INT32_MAX), val3);
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
        if (uaddr2 & 3)
            return -EINVAL;
        return futex_requeue(uaddr, uaddr2, (int)val, val2,
                             cmd == FUTEX_CMP_REQUEUE ? &val3 : NULL);
    case FUTEX_WAKE_OP:
        if (uaddr2 & 3)
            return -EINVAL;
        return futex_wake_op(uaddr, uaddr2, (int)val, val2, val3);
    case FUTEX_LOCK_PI:
        /* its timeout is absolute on CLOCK_REALTIME, without the flag */
        if ((err = deadline_of(uts, true, true, &deadline)))
            return err;
        return futex_lock_pi(uaddr, deadline, false);
    case FUTEX_LOCK_PI2:
        /* LOCK_PI with the clock chosen: CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME */
        if ((err = deadline_of(uts, true, realtime, &deadline)))
            return err;
        return futex_lock_pi(uaddr, deadline, false);
    case FUTEX_TRYLOCK_PI:
        return futex_lock_pi(uaddr, WAIT_FOREVER, true);
    case FUTEX_UNLOCK_PI:
        return futex_unlock_pi(uaddr);
    default:
        return -ENOSYS; /* FUTEX_FD (gone from Linux), WAIT_REQUEUE_PI, CMP_REQUEUE_PI */
    }
}
