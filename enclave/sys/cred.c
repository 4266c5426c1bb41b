/* cred.c: a process's identities (process.h: struct cred) and the set*id family, with Linux's
 * rules.
 *
 * Every enclave starts as root, and a program may give that up (a server dropping to nobody, a
 * test suite checking EPERM). Privilege here is an effective user id of 0: it stands for
 * CAP_SETUID, CAP_SETGID, CAP_KILL, CAP_CHOWN, CAP_FOWNER and CAP_DAC_OVERRIDE together, which
 * is what Linux's root has and what a process loses when it leaves uid 0 (the capability sets
 * are not modelled one by one). What the identities decide is in cred_* below: file access
 * (fs/), signals (sys/signal.c), ownership changes (sys/fs_change.c); and a change of them
 * makes the process undumpable (no core file: kernel/coredump.c).
 */
#include "process.h"
#include "klib.h"
#include "syscall.h"
#include "vfs.h"

#define NOCHANGE 0xffffffffu /* -1: leave this id as it is */

static struct cred *cred(void)
{
    return &current_process()->cred;
}

bool cred_privileged(void)
{
    return cred()->uid[ID_EFF] == 0;
}

/* gid is the group id of this kind (ID_FS or ID_REAL) or a supplementary group. */
static bool in_group(const struct cred *c, int which, uint32_t gid)
{
    if (c->gid[which] == gid)
        return true;
    for (uint32_t i = 0; i < c->ngroups; i++)
        if (c->groups[i] == gid)
            return true;
    return false;
}

bool cred_in_group(uint32_t gid)
{
    return in_group(cred(), ID_FS, gid);
}

/* The check with the ids of one kind: the filesystem ones, or the real ones (access(2)). */
static int may_access(int which, const struct inode *ino, unsigned want)
{
    const struct cred *c = cred();
    uint32_t mode = ino->mode;
    if (c->uid[which] == 0) {
        /* root passes every check but executing a file that nobody may execute */
        if ((want & MAY_EXEC) && !S_ISDIR(mode) && !(mode & 0111))
            return -EACCES;
        return 0;
    }
    unsigned bits = ino->uid == c->uid[which]      ? (mode >> 6) & 7
                    : in_group(c, which, ino->gid) ? (mode >> 3) & 7
                                                   : mode & 7;
    return (want & ~bits) ? -EACCES : 0;
}

int cred_may_access(const struct inode *ino, unsigned want)
{
    return may_access(ID_FS, ino, want);
}

int cred_may_access_real(const struct inode *ino, unsigned want)
{
    return may_access(ID_REAL, ino, want);
}

bool cred_owns(const struct inode *ino)
{
    return cred()->uid[ID_FS] == 0 || cred()->uid[ID_FS] == ino->uid;
}

bool cred_may_signal(const struct process *target)
{
    const struct cred *c = cred(), *t = &target->cred;
    return c->uid[ID_EFF] == 0 || c->uid[ID_REAL] == t->uid[ID_REAL] ||
           c->uid[ID_REAL] == t->uid[ID_SAVED] || c->uid[ID_EFF] == t->uid[ID_REAL] ||
           c->uid[ID_EFF] == t->uid[ID_SAVED];
}

void cred_exec(const struct inode *exe)
{
    struct cred *c = cred();
    bool readable = may_access(ID_FS, exe, MAY_READ) == 0; /* with the ids before the change */
    if (exe->mode & S_ISUID)
        c->uid[ID_EFF] = exe->uid;
    if (exe->mode & S_ISGID)
        c->gid[ID_EFF] = exe->gid;
    c->uid[ID_SAVED] = c->uid[ID_FS] = c->uid[ID_EFF];
    c->gid[ID_SAVED] = c->gid[ID_FS] = c->gid[ID_EFF];
    /* a core file of a set-ID program, or of one its user may not read, would show its caller
     * what only the program may see */
    current_process()->undumpable =
        !readable || c->uid[ID_EFF] != c->uid[ID_REAL] || c->gid[ID_EFF] != c->gid[ID_REAL];
}

/* ---- the system calls ---- */

/* The ids whose change makes a process undumpable (Linux's commit_creds with suid_dumpable 0:
 * its memory may hold what the old ids gave it, and its new owner could read the core). */
struct dump_ids {
    uint32_t euid, fsuid, egid, fsgid;
};

static struct dump_ids ids_now(void)
{
    const struct cred *c = cred();
    return (struct dump_ids){c->uid[ID_EFF], c->uid[ID_FS], c->gid[ID_EFF], c->gid[ID_FS]};
}

/* What a set*id call returns, after the rule above (before: the ids before the call). */
static long changed(long ret, struct dump_ids before)
{
    struct dump_ids now = ids_now();
    if (memcmp(&now, &before, sizeof(now)))
        current_process()->undumpable = true;
    return ret;
}

static bool one_of(uint32_t id, uint32_t a, uint32_t b, uint32_t c)
{
    return id == a || id == b || id == c;
}

/* setresuid and setresgid with Linux's rule: without privilege each new id must be one of the
 * three the process has. ids[ID_FS], which follows the effective one. */
static long set_res(uint32_t *ids, uint32_t r, uint32_t e, uint32_t s)
{
    if (!cred_privileged()) {
        if ((r != NOCHANGE && !one_of(r, ids[ID_REAL], ids[ID_EFF], ids[ID_SAVED])) ||
            (e != NOCHANGE && !one_of(e, ids[ID_REAL], ids[ID_EFF], ids[ID_SAVED])) ||
            (s != NOCHANGE && !one_of(s, ids[ID_REAL], ids[ID_EFF], ids[ID_SAVED])))
            return -EPERM;
    }
    if (r != NOCHANGE)
        ids[ID_REAL] = r;
    if (e != NOCHANGE)
        ids[ID_EFF] = e;
    if (s != NOCHANGE)
        ids[ID_SAVED] = s;
    ids[ID_FS] = ids[ID_EFF];
    return 0;
}

/* setreuid and setregid: the real id may become the real or effective one, the effective one
 * any of the three; the saved id becomes the new effective one when the real one is set or the
 * effective one set to something other than the old real one. */
static long set_re(uint32_t *ids, uint32_t r, uint32_t e)
{
    if (!cred_privileged()) {
        if ((r != NOCHANGE && r != ids[ID_REAL] && r != ids[ID_EFF]) ||
            (e != NOCHANGE && !one_of(e, ids[ID_REAL], ids[ID_EFF], ids[ID_SAVED])))
            return -EPERM;
    }
    uint32_t old_r = ids[ID_REAL];
    if (r != NOCHANGE)
        ids[ID_REAL] = r;
    if (e != NOCHANGE)
        ids[ID_EFF] = e;
    if (r != NOCHANGE || (e != NOCHANGE && e != old_r))
        ids[ID_SAVED] = ids[ID_EFF];
    ids[ID_FS] = ids[ID_EFF];
    return 0;
}

/* setuid and setgid: with privilege all three change, without it only the effective one, to the
 * real or the saved id. */
static long set_one(uint32_t *ids, uint32_t id)
{
    if (id == NOCHANGE)
        return -EINVAL;
    if (cred_privileged())
        ids[ID_REAL] = ids[ID_SAVED] = id;
    else if (id != ids[ID_REAL] && id != ids[ID_SAVED])
        return -EPERM;
    ids[ID_EFF] = ids[ID_FS] = id;
    return 0;
}

/* setfsuid and setfsgid: return the old id whether or not it changed (Linux's interface). */
static long set_fs(uint32_t *ids, uint32_t id)
{
    uint32_t old = ids[ID_FS];
    if (id != NOCHANGE &&
        (cred_privileged() || one_of(id, ids[ID_REAL], ids[ID_EFF], ids[ID_SAVED]) || id == old))
        ids[ID_FS] = id;
    return old;
}

/* The four user ids and the four group ids lie in that order in struct cred. */
static uint32_t *uids(void)
{
    return cred()->uid;
}

static uint32_t *gids(void)
{
    return cred()->gid;
}

SYSCALL_DEFINE0(getuid)
{
    return cred()->uid[ID_REAL];
}

SYSCALL_DEFINE0(geteuid)
{
    return cred()->uid[ID_EFF];
}

SYSCALL_DEFINE0(getgid)
{
    return cred()->gid[ID_REAL];
}

SYSCALL_DEFINE0(getegid)
{
    return cred()->gid[ID_EFF];
}

static long put_three(uint64_t a, uint64_t b, uint64_t c, const uint32_t ids[ID_FS])
{
    if (copy_to_user(a, &ids[ID_REAL], 4) || copy_to_user(b, &ids[ID_EFF], 4) ||
        copy_to_user(c, &ids[ID_SAVED], 4))
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE3(getresuid, uint64_t, r, uint64_t, e, uint64_t, s)
{
    return put_three(r, e, s, uids());
}

SYSCALL_DEFINE3(getresgid, uint64_t, r, uint64_t, e, uint64_t, s)
{
    return put_three(r, e, s, gids());
}

SYSCALL_DEFINE1(setuid, uint32_t, uid)
{
    struct dump_ids before = ids_now();
    return changed(set_one(uids(), uid), before);
}

SYSCALL_DEFINE1(setgid, uint32_t, gid)
{
    struct dump_ids before = ids_now();
    return changed(set_one(gids(), gid), before);
}

SYSCALL_DEFINE2(setreuid, uint32_t, r, uint32_t, e)
{
    struct dump_ids before = ids_now();
    return changed(set_re(uids(), r, e), before);
}

SYSCALL_DEFINE2(setregid, uint32_t, r, uint32_t, e)
{
    struct dump_ids before = ids_now();
    return changed(set_re(gids(), r, e), before);
}

SYSCALL_DEFINE3(setresuid, uint32_t, r, uint32_t, e, uint32_t, s)
{
    struct dump_ids before = ids_now();
    return changed(set_res(uids(), r, e, s), before);
}

SYSCALL_DEFINE3(setresgid, uint32_t, r, uint32_t, e, uint32_t, s)
{
    struct dump_ids before = ids_now();
    return changed(set_res(gids(), r, e, s), before);
}

SYSCALL_DEFINE1(setfsuid, uint32_t, uid)
{
    struct dump_ids before = ids_now();
    return changed(set_fs(uids(), uid), before);
}

SYSCALL_DEFINE1(setfsgid, uint32_t, gid)
{
    struct dump_ids before = ids_now();
    return changed(set_fs(gids(), gid), before);
}

SYSCALL_DEFINE2(getgroups, int, size, uint64_t, list)
{
    const struct cred *c = cred();
    if (size < 0)
        return -EINVAL;
    if (size == 0)
        return c->ngroups;
    if ((uint32_t)size < c->ngroups)
        return -EINVAL;
    if (copy_to_user(list, c->groups, c->ngroups * sizeof(uint32_t)))
        return -EFAULT;
    return c->ngroups;
}

SYSCALL_DEFINE2(setgroups, int, size, uint64_t, list)
{
    if (size < 0 || size > NGROUPS_MAX)
        return -EINVAL;
    if (!cred_privileged())
        return -EPERM;
    if (size > CRED_GROUPS)
        return -ENOMEM; /* the enclave keeps CRED_GROUPS supplementary groups */
    uint32_t groups[CRED_GROUPS];
    if (copy_from_user(groups, list, (size_t)size * sizeof(uint32_t)))
        return -EFAULT;
    struct cred *c = cred();
    memcpy(c->groups, groups, (size_t)size * sizeof(uint32_t));
    c->ngroups = (uint32_t)size;
    return 0;
}
