/* lease.c: the accounting of the reservation between enclaves (see lease.h). Everything that
 * changes the leases holds the allocator's lock (state.h), so choosing CPUs and pages and
 * writing the lease file is one step for the other processes (status only reads them). A lease file
 * is alive while somebody holds an flock on it: a scanner's own non-blocking shared lock fails on a
 * live one (flock locks belong to open files, so this holds within one process too). */
#include "allocator/lease.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "allocator/state.h"
#include "common/errors.h"
#include "common/runtime.h"
#include "common/why.h"

#define LEASES_DIR     "leases"
#define LEASE_MAX_SIZE 65536

/* Index of page size kib in the reservation, or -1. */
static int size_index(const struct pool_state *st, uint64_t kib)
{
    for (unsigned i = 0; i < st->pages.nsizes; i++)
        if (st->pages.sizes[i].kib == kib)
            return (int)i;
    return -1;
}

/* Parses one lease file's text (file: its fstat) into info and adds it to u. 0 or -1
 * (malformed). */
static int add_lease(const struct pool_state *st, const char *text, const struct stat *file,
                     struct pool_usage *u)
{
    cJSON *o = cJSON_Parse(text);
    if (!o)
        return -1;
    struct lease_info info = {.uid = file->st_uid, .ino = file->st_ino};
    uint64_t pages[HP_MAX_SIZES] = {0};
    int rc = -1;
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "ProcessID");
    const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(o, "CPUs");
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(o, "HugePages");
    const cJSON *e;
    if (!cJSON_IsNumber(pid) || !cJSON_IsArray(cpus) || !cJSON_IsArray(hp))
        goto out;
    info.pid = (long)pid->valuedouble;
    cJSON_ArrayForEach(e, cpus)
    {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= CPUS_MAX)
            goto out;
        cpuset_add(&info.cpus, (unsigned)e->valuedouble);
    }
    cJSON_ArrayForEach(e, hp)
    {
        const cJSON *kib = cJSON_GetObjectItemCaseSensitive(e, "SizeKiB");
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(e, "Count");
        if (!cJSON_IsNumber(kib) || !cJSON_IsNumber(count) || count->valuedouble < 0 ||
            count->valuedouble > 1e12)
            goto out;
        int i = size_index(st, (uint64_t)kib->valuedouble);
        if (i < 0) /* a size the reservation does not have: an old lease, not ours to count */
            continue;
        pages[i] += (uint64_t)count->valuedouble;
        info.mem_mib += (uint64_t)count->valuedouble * (uint64_t)kib->valuedouble / 1024;
    }
    struct lease_info *grown = realloc(u->leases, (u->nleases + 1) * sizeof(*grown));
    if (!grown)
        goto out;
    u->leases = grown;
    u->leases[u->nleases++] = info;
    cpuset_or(&u->cpus, &info.cpus);
    for (unsigned i = 0; i < HP_MAX_SIZES; i++)
        u->pages[i] += pages[i];
    u->mem_mib += info.mem_mib;
    rc = 0;
out:
    cJSON_Delete(o);
    return rc;
}

/* Root, before it makes the shared leases directory: what a member put at its path before
 * root's first apply is taken away, so that it does not stop the pool: a file or link removed,
 * a directory of the member's moved aside (never emptied by root, which links in it could lead
 * elsewhere). 0 or an errno. */
static int clear_planted(const char *path)
{
    struct stat ls;
    if (lstat(path, &ls) != 0 || (S_ISDIR(ls.st_mode) && ls.st_uid == 0))
        return 0;
    char aside[PATH_MAX + 64];
    snprintf(aside, sizeof(aside), "%s.uid%u-%ld.removed", path, (unsigned)ls.st_uid,
             (long)getpid());
    if (S_ISDIR(ls.st_mode) ? rename(path, aside) : unlink(path))
        return errno;
    return 0;
}

static int leases_dir(char *buf, size_t size, int create, char *why, size_t whylen)
{
    if (state_path(buf, size, LEASES_DIR, why, whylen))
        return -1;
    gid_t gid;
    if (!runtime_dir_shared(&gid)) {
        if (create && mkdir(buf, 0700) != 0 && errno != EEXIST) {
            why_set(why, whylen, "cannot make %s: %s", buf, strerror(errno));
            return -1;
        }
        return 0;
    }
    /* a shared runtime directory: every member's monitor writes its lease here, so it is
     * root's and shared as the runtime directory is (made, or put right, by root's apply) */
    if (!create)
        return 0;
    if (geteuid() == 0) {
        /* through a descriptor of the directory itself: a member may have put a link (or a
         * directory of its own) there meanwhile, and chmod or chown by name would follow or
         * keep it */
        int dfd = -1, e = clear_planted(buf);
        struct stat ds;
        if (!e && mkdir(buf, 0700) != 0 && errno != EEXIST)
            e = errno;
        if (!e && (dfd = open(buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
            e = errno;
        if (!e && fstat(dfd, &ds) != 0)
            e = errno;
        if (!e && ds.st_uid != 0)
            e = EPERM; /* a member's directory: not made shared */
        if (!e && (fchown(dfd, 0, gid) != 0 || fchmod(dfd, RUNTIME_SHARED_MODE) != 0))
            e = errno;
        if (dfd >= 0)
            close(dfd);
        if (e) {
            why_set(why, whylen, "cannot make %s shared (it must be root's own directory): %s", buf,
                    strerror(e));
            return -1;
        }
    }
    struct stat st;
    if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || st.st_gid != gid ||
        (st.st_mode & 07777) != RUNTIME_SHARED_MODE) {
        why_set(why, whylen,
                "%s is not root's with mode %04o: root makes it so with 'alcove allocator "
                "apply'",
                buf, RUNTIME_SHARED_MODE);
        return -1;
    }
    return 0;
}

int pool_leases_prepare(char *why, size_t whylen)
{
    char dir[PATH_MAX];
    return leases_dir(dir, sizeof(dir), 1, why, whylen);
}

int pool_usage_read(const struct pool_state *st, int remove_dead, struct pool_usage *u, char *why,
                    size_t whylen)
{
    memset(u, 0, sizeof(*u));
    char dir[PATH_MAX];
    if (leases_dir(dir, sizeof(dir), 0, why, whylen))
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : (why_set(why, whylen, "cannot read %s", dir), -1);
    char *text = malloc(LEASE_MAX_SIZE + 1);
    if (!text) {
        closedir(d);
        why_set(why, whylen, "out of memory");
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        /* O_NONBLOCK: a FIFO a member put there must not stop every launch in open() */
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
            continue;
        /* only a plain file is a lease, and it is its owner's: a link or a FIFO is not
         * counted (root removes it), a second name of a lease is counted once */
        struct stat fst;
        if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
            if (remove_dead && geteuid() == 0)
                unlinkat(dirfd(d), e->d_name, 0);
            close(fd);
            continue;
        }
        bool seen = false;
        for (unsigned i = 0; i < u->nleases && !seen; i++)
            seen = u->leases[i].ino == fst.st_ino;
        if (seen) {
            close(fd);
            continue;
        }
        if (flock(fd, LOCK_SH | LOCK_NB) == 0) { /* nobody holds it: its owner is gone */
            if (remove_dead)
                unlinkat(dirfd(d), e->d_name, 0);
            close(fd);
            continue;
        }
        ssize_t n = read(fd, text, LEASE_MAX_SIZE);
        close(fd);
        if (n <= 0)
            continue;
        text[n] = 0;
        add_lease(st, text, &fst, u);
    }
    free(text);
    closedir(d);
    return 0;
}

void pool_usage_free(struct pool_usage *u)
{
    free(u->leases);
    u->leases = NULL;
    u->nleases = 0;
}

/* The pool's core of cpu: the pool CPUs with its core_first. */
static void core_of(const struct pool_state *st, unsigned cpu, struct cpuset *core)
{
    cpuset_clear(core);
    for (int c = cpuset_next(&st->cpus, 0); c >= 0; c = cpuset_next(&st->cpus, c + 1))
        if (st->core_first[c] == st->core_first[cpu])
            cpuset_add(core, (unsigned)c);
}

static const struct lease_info *user_of(const struct pool_usage *u, unsigned cpu)
{
    for (unsigned i = 0; i < u->nleases; i++)
        if (cpuset_has(&u->leases[i].cpus, cpu))
            return &u->leases[i];
    return NULL;
}

static int choose_cpus(const struct pool_state *st, const struct pool_usage *u, unsigned ncpu,
                       const uint32_t *cpu_ids, struct pool_lease *out, char *why, size_t whylen)
{
    struct cpuset free_cpus = st->cpus, got;
    cpuset_andnot(&free_cpus, &u->cpus);
    cpuset_clear(&got);
    char list[256], freel[256];
    cpulist_format(&st->cpus, list, sizeof(list));
    cpulist_format(&free_cpus, freel, sizeof(freel));
    if (cpu_ids) {
        for (unsigned i = 0; i < ncpu; i++) {
            uint32_t c = cpu_ids[i];
            if (!cpuset_has(&st->cpus, c)) {
                why_set(why, whylen, "CPU %u is not in the enclaves' pool (pool: %s)", c, list);
                return E_NO_SUCH_CPU_AVAILABLE;
            }
            if (cpuset_has(&got, c)) { /* nitro-cli's code for it */
                why_set(why, whylen, "CPU %u is given twice", c);
                return E_INVALID_CPU_CONFIGURATION;
            }
            if (!cpuset_has(&free_cpus, c)) {
                const struct lease_info *l = user_of(u, c);
                why_set(why, whylen,
                        "CPU %u is used by another enclave (process %ld of uid %u); free: %s", c,
                        l ? l->pid : 0, l ? (unsigned)l->uid : 0, freel[0] ? freel : "none");
                return E_NO_SUCH_CPU_AVAILABLE;
            }
            cpuset_add(&got, c);
            out->cpu_ids[i] = c;
        }
        for (unsigned i = 0; i < ncpu; i++) {
            struct cpuset core;
            core_of(st, cpu_ids[i], &core);
            if (!cpuset_subset(&core, &got)) {
                struct cpuset missing = core;
                cpuset_andnot(&missing, &got);
                cpulist_format(&core, list, sizeof(list));
                why_set(why, whylen,
                        "CPU %u is asked for without its sibling CPU %d: an enclave takes whole "
                        "cores (CPU %u's core: %s)",
                        cpu_ids[i], cpuset_next(&missing, 0), cpu_ids[i], list);
                return E_INVALID_CPU_CONFIGURATION;
            }
        }
        out->ncpu = ncpu;
        return 0;
    }
    unsigned tpc = st->threads_per_core ? st->threads_per_core : 1;
    if (ncpu % tpc != 0) {
        why_set(why, whylen,
                "%u CPUs is not a multiple of the pool's %u threads per core: an enclave takes "
                "whole cores",
                ncpu, tpc);
        return E_INVALID_CPU_CONFIGURATION;
    }
    unsigned have = 0;
    for (int c = cpuset_next(&st->cpus, 0); c >= 0 && have < ncpu;
         c = cpuset_next(&st->cpus, c + 1)) {
        if (st->core_first[c] != c)
            continue;
        struct cpuset core;
        core_of(st, (unsigned)c, &core);
        unsigned size = cpuset_count(&core);
        if (cpuset_subset(&core, &free_cpus) && have + size <= ncpu) {
            cpuset_or(&got, &core);
            have += size;
        }
    }
    if (have < ncpu) {
        why_set(why, whylen, "%u CPUs requested, %u free of %u in the pool (free: %s)", ncpu,
                cpuset_count(&free_cpus), cpuset_count(&st->cpus), freel[0] ? freel : "none");
        return E_INSUFFICIENT_CPUS_AVAILABLE;
    }
    out->ncpu = 0;
    for (int c = cpuset_next(&got, 0); c >= 0; c = cpuset_next(&got, c + 1))
        out->cpu_ids[out->ncpu++] = (uint32_t)c;
    return 0;
}

/* Chooses pages: the largest that fit first, then whatever covers the remainder, smallest
 * first (so 2 MiB pages round a request up before a 1 GiB page does). */
static int choose_pages(const struct pool_state *st, const struct pool_usage *u, uint64_t mem_mib,
                        struct pool_lease *out, char *why, size_t whylen)
{
    unsigned n = st->pages.nsizes;
    uint64_t freep[HP_MAX_SIZES], take[HP_MAX_SIZES] = {0}, total_kib = 0, free_kib = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct hp_size *s = &st->pages.sizes[i];
        freep[i] = s->count > u->pages[i] ? s->count - u->pages[i] : 0;
        total_kib += s->count * s->kib;
        free_kib += freep[i] * s->kib;
    }
    uint64_t left = mem_mib * 1024;
    for (unsigned i = 0; i < n; i++) {
        uint64_t kib = st->pages.sizes[i].kib;
        take[i] = left / kib < freep[i] ? left / kib : freep[i];
        left -= take[i] * kib;
    }
    for (unsigned i = n; i-- > 0 && left > 0;) {
        while (left > 0 && take[i] < freep[i]) {
            uint64_t kib = st->pages.sizes[i].kib;
            take[i]++;
            left = left > kib ? left - kib : 0;
        }
    }
    if (left > 0) {
        why_set(why, whylen, "%llu MiB requested, %llu MiB free of %llu in the pool",
                (unsigned long long)mem_mib, (unsigned long long)(free_kib / 1024),
                (unsigned long long)(total_kib / 1024));
        return E_INSUFFICIENT_MEMORY_AVAILABLE;
    }
    out->nsizes = 0;
    out->mem_mib = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!take[i])
            continue;
        out->pages[out->nsizes].kib = st->pages.sizes[i].kib;
        out->pages[out->nsizes].count = take[i];
        out->nsizes++;
        out->mem_mib += take[i] * st->pages.sizes[i].kib / 1024;
    }
    return 0;
}

/* Creates, locks and fills the lease file. 0 or E_FILE_OPERATION. */
static int write_lease(struct pool_lease *l, char *why, size_t whylen)
{
    static unsigned seq;
    char dir[PATH_MAX];
    if (leases_dir(dir, sizeof(dir), 1, why, whylen))
        return E_FILE_OPERATION;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 1000; tries++) {
        unsigned n = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
        int w = snprintf(l->path, sizeof(l->path), "%s/%ld-%u.json", dir, (long)getpid(), n);
        if (w < 0 || (size_t)w >= sizeof(l->path)) {
            why_set(why, whylen, "the runtime directory's path is too long");
            return E_FILE_OPERATION;
        }
        fd = open(l->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        /* 0644 whatever the umask: every monitor counts every lease (a shared directory's
         * members included), and one it cannot read would let two enclaves take one CPU */
        if (fd >= 0 && fchmod(fd, 0644) != 0) {
            why_set(why, whylen, "cannot set the mode of %s: %s", l->path, strerror(errno));
            unlink(l->path);
            close(fd);
            return E_FILE_OPERATION;
        }
        if (fd < 0 && errno != EEXIST) {
            why_set(why, whylen, "cannot create %s: %s", l->path, strerror(errno));
            return E_FILE_OPERATION;
        }
    }
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        why_set(why, whylen, "cannot create and lock a lease file in %s", dir);
        if (fd >= 0) {
            unlink(l->path);
            close(fd);
        }
        return E_FILE_OPERATION;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ProcessID", (double)getpid());
    cJSON_AddNumberToObject(o, "MemoryMiB", (double)l->mem_mib);
    cJSON *cpus = cJSON_AddArrayToObject(o, "CPUs");
    for (unsigned i = 0; i < l->ncpu; i++)
        cJSON_AddItemToArray(cpus, cJSON_CreateNumber(l->cpu_ids[i]));
    cJSON *hp = cJSON_AddArrayToObject(o, "HugePages");
    for (unsigned i = 0; i < l->nsizes; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "SizeKiB", (double)l->pages[i].kib);
        cJSON_AddNumberToObject(p, "Count", (double)l->pages[i].count);
        cJSON_AddItemToArray(hp, p);
    }
    cJSON_AddNumberToObject(o, "Created", (double)time(NULL));
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    size_t len = text ? strlen(text) : 0;
    if (!text || write(fd, text, len) != (ssize_t)len) {
        free(text);
        why_set(why, whylen, "cannot write %s", l->path);
        unlink(l->path);
        close(fd);
        return E_FILE_OPERATION;
    }
    free(text);
    l->fd = fd;
    return 0;
}

/* Whether a counted lease's process (ProcessID) has ended: its keeper is about to give it back.
 * Only a reason to wait, never to count a lease as free (a pid of another namespace looks
 * ended here). */
static bool holder_ended(const struct pool_usage *u)
{
    for (unsigned i = 0; i < u->nleases; i++)
        if (u->leases[i].pid > 0 && kill((pid_t)u->leases[i].pid, 0) != 0 && errno == ESRCH)
            return true;
    return false;
}

int pool_acquire(uint64_t mem_mib, unsigned ncpu, const uint32_t *cpu_ids, struct pool_lease *out,
                 char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    out->node = -1;
    if (mem_mib == 0 || mem_mib > (1ull << 40) || ncpu > POOL_LEASE_MAX_CPUS) {
        why_set(why, whylen, "%llu MiB and %u CPUs: expected 1 MiB or more and at most %d CPUs",
                (unsigned long long)mem_mib, ncpu, POOL_LEASE_MAX_CPUS);
        return E_INVALID_ARGUMENT;
    }
    struct pool_state *st = malloc(sizeof(*st));
    struct pool_usage u = {0};
    int rc;
    /* first without the lock (the record is replaced by a rename, so it is read whole): an
     * enclave that does not use the pool never waits for the lock another user may hold */
    int loaded = st ? state_load(st, why, whylen) : -1;
    int lock = -1;
    if (loaded > 0) {
        lock = state_lock(LOCK_EX, why, whylen);
        if (lock < 0) {
            free(st);
            return -lock;
        }
        loaded = state_load(st, why, whylen); /* as it is now, under the lock */
    }
    if (loaded < 0) {
        rc = E_FILE_OPERATION;
        goto out;
    }
    if (loaded == 0) {
        why_set(why, whylen,
                "no hugepages and CPU pool are reserved for enclaves ('alcove allocator apply'): "
                "ordinary memory and any CPU are used");
        rc = E_ALLOCATOR_NO_RESERVATION;
        goto out;
    }
    /* a lease whose monitor has ended is given back by its keeper a moment later
     * (monitor/keeper.h): a request that does not fit waits for that, a second at most */
    for (int tries = 0;; tries++) {
        if (pool_usage_read(st, 1, &u, why, whylen)) {
            rc = E_FILE_OPERATION;
            goto out;
        }
        rc = choose_cpus(st, &u, ncpu, cpu_ids, out, why, whylen);
        if (rc == 0)
            rc = choose_pages(st, &u, mem_mib, out, why, whylen);
        if (rc == 0 || tries == 50 || !holder_ended(&u))
            break;
        pool_usage_free(&u);
        memset(out, 0, sizeof(*out));
        out->fd = -1;
        out->node = -1;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc == 0) {
        out->node = st->pages.node;
        rc = write_lease(out, why, whylen);
    }
out:
    if (rc) {
        int keep_node = out->node;
        memset(out, 0, sizeof(*out));
        out->fd = -1;
        out->node = keep_node;
    }
    pool_usage_free(&u);
    free(st);
    state_unlock(lock);
    return rc;
}

void pool_lease_release(struct pool_lease *l)
{
    if (l->fd < 0)
        return;
    unlink(l->path);
    close(l->fd);
    l->fd = -1;
}
