/* lock.c: the allocator's lock (see state.h). Two rules make it safe in a runtime directory
 * root shares with a group (docs/security.md, "The alcove group"): only the directory's owner
 * (root there) ever creates allocator.lock, and a file at that path that is not the owner's
 * plain file is never locked (root removes it and makes its own); and nobody waits for the lock
 * for ever: a process that holds it longer than LOCK_WAIT_MS (a member's `flock`, say) makes
 * the others fail with an error that names it, not hang. */
#include "allocator/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/runtime.h"
#include "common/why.h"

#define LOCK_NAME    "allocator.lock"
#define LOCK_WAIT_MS 10000
#define LOCK_MODE    0644 /* every member locks it, through a read-only descriptor */

/* Who holds a lock on the file st describes, from /proc/locks: "process 12 'sleep' of uid
 * 1000", or "" when it cannot tell (another pid namespace, no /proc). */
static void lock_holder(const struct stat *st, char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen("/proc/locks", "re");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        int pid;
        unsigned maj, min;
        unsigned long ino;
        /* "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; waiters are "1: -> FLOCK ..." */
        if (strstr(line, "->") ||
            sscanf(line, "%*d: %*s %*s %*s %d %x:%x:%lu", &pid, &maj, &min, &ino) != 4 ||
            maj != major(st->st_dev) || min != minor(st->st_dev) || ino != st->st_ino ||
            pid == getpid())
            continue;
        char path[64], comm[32] = "";
        struct stat ps;
        snprintf(path, sizeof(path), "/proc/%d/comm", pid);
        FILE *c = fopen(path, "re");
        if (c) {
            if (fgets(comm, sizeof(comm), c))
                comm[strcspn(comm, "\n")] = 0;
            fclose(c);
        }
        snprintf(path, sizeof(path), "/proc/%d", pid);
        if (stat(path, &ps) == 0)
            snprintf(buf, size, "process %d '%s' of uid %u", pid, comm, (unsigned)ps.st_uid);
        else /* flock locks belong to the open file: it passed to a process it started */
            snprintf(buf, size, "taken by process %d, which has ended", pid);
        break;
    }
    fclose(f);
}

/* Opens the lock file, which must be owner's plain file (one link). The owner creates it when
 * it is missing and replaces anything else found there; anyone else is refused. The fd, or
 * -(alcove code) with why set. */
static int open_lock(const char *path, uid_t owner, char *why, size_t whylen)
{
    for (int tries = 0; tries < 5; tries++) {
        /* O_NONBLOCK: a FIFO put there must not block the open */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT && geteuid() == owner) {
            fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, LOCK_MODE);
            if (fd < 0 && errno == EEXIST)
                continue;                                /* another process made it meanwhile */
            if (fd >= 0 && fchmod(fd, LOCK_MODE) != 0) { /* whatever the umask */
                why_set(why, whylen, "cannot set the mode of %s: %s", path, strerror(errno));
                close(fd);
                return -E_LOCK_ACQUIRE;
            }
        }
        if (fd < 0 && errno == ENOENT) {
            why_set(why, whylen,
                    "%s is missing: in a shared runtime directory only root makes it "
                    "('alcove allocator apply' or scripts/setup.sh --group)",
                    path);
            return -E_LOCK_ACQUIRE;
        }
        struct stat st;
        int err = fd < 0 ? errno : fstat(fd, &st) != 0 ? errno : 0;
        if (fd >= 0 && !err && S_ISREG(st.st_mode) && st.st_uid == owner && st.st_nlink == 1)
            return fd;
        if (fd >= 0)
            close(fd);
        if (err && err != ELOOP) {
            why_set(why, whylen, "cannot open %s: %s", path, strerror(err));
            return -E_LOCK_ACQUIRE;
        }
        /* a link, or a file that is not the owner's (a member made it before root did) */
        if (geteuid() != owner) {
            why_set(why, whylen,
                    "%s is not uid %u's own plain file: it is not locked (root's next "
                    "'alcove allocator apply', or launch, replaces it)",
                    path, (unsigned)owner);
            return -E_FILE_PERMISSIONS;
        }
        if (unlink(path) != 0 && errno != ENOENT) {
            why_set(why, whylen, "cannot remove %s, which is not this user's: %s", path,
                    strerror(errno));
            return -E_LOCK_ACQUIRE;
        }
    }
    why_set(why, whylen, "cannot make %s: it keeps being replaced", path);
    return -E_LOCK_ACQUIRE;
}

int state_lock(int how, char *why, size_t whylen)
{
    char path[PATH_MAX];
    if (state_path(path, sizeof(path), LOCK_NAME, why, whylen))
        return -E_LOCK_ACQUIRE;
    /* the directory's owner: root for a shared one, else this user (runtime.c checks it) */
    uid_t owner = runtime_dir_shared(NULL) ? 0 : geteuid();
    int fd = open_lock(path, owner, why, whylen);
    if (fd < 0)
        return fd;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (flock(fd, how | LOCK_NB) == 0)
            return fd;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            why_set(why, whylen, "cannot lock %s: %s", path, strerror(errno));
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (ms >= LOCK_WAIT_MS) {
            struct stat st;
            char who[128] = "";
            if (fstat(fd, &st) == 0)
                lock_holder(&st, who, sizeof(who));
            why_set(why, whylen,
                    "the allocator lock %s is held by another process%s%s%s for more than %d s: "
                    "end that process",
                    path, who[0] ? " (" : "", who, who[0] ? ")" : "", LOCK_WAIT_MS / 1000);
            break;
        }
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return -E_LOCK_ACQUIRE;
}

void state_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
