/* statedir.c: the state root and the containers' directories, reached through descriptors (see
 * state.h). Every path operation below a container's directory is relative to that directory's
 * descriptor (openat, unlinkat, renameat) and never follows a symbolic link, so what a command
 * locked is what it reads, writes and removes, whatever is renamed or replaced meanwhile. */
#include "oci/state.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "oci/log.h"

/* create's directory before it takes the container's id: no id has '~' (oci_id_valid) */
#define CLAIM_PREFIX   "~create."
#define STATE_FILE_MAX (1u << 20)

static const char *g_root = OCI_STATE_ROOT_DEFAULT;
static int g_root_fd = -1;

void oci_state_set_root(const char *root)
{
    g_root = root;
}

const char *oci_state_root(void)
{
    return g_root;
}

int oci_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 255 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("_+.-", *p)))
            return 0;
    return 1;
}

/* mkdir -p of the root's parents and the root, each made 0700 whatever the umask. 1 when the
 * root itself was made, 0 when it was there, -errno. */
static int make_root(void)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s", g_root) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    int made = 0;
    for (char *p = path + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            made = mkdir(path, 0700) == 0;
            if (!made && errno != EEXIST)
                return -errno;
            if (made && fchmodat(AT_FDCWD, path, 0700, AT_SYMLINK_NOFOLLOW) && errno != ENOTSUP)
                return -errno;
            *p = c;
            if (!c)
                break;
        }
    }
    return made;
}

int oci_root_open(int create)
{
    if (g_root_fd >= 0)
        return g_root_fd;
    if (!*g_root) {
        oci_err(E_INVALID_ARGUMENT, "--root is empty");
        return -EINVAL;
    }
    if (create) {
        int r = make_root();
        if (r < 0) {
            oci_err(E_FILE_OPERATION, "--root %s: cannot make it: %s", g_root, strerror(-r));
            return r;
        }
    }
    int fd = open(g_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        struct stat sb;
        if (e == ENOENT && !create)
            return -ENOENT; /* no container was ever made there */
        if ((e == ELOOP || e == ENOTDIR) && lstat(g_root, &sb) == 0 && S_ISLNK(sb.st_mode))
            oci_err(E_FILE_PERMISSIONS,
                    "--root %s is a symbolic link, which could be pointed elsewhere later: give "
                    "the directory itself",
                    g_root);
        else
            oci_err(E_FILE_OPERATION, "--root %s: %s", g_root, strerror(e));
        return -e;
    }
    /* the root decides which container an id names, and holds the monitors' pids: whoever else
     * may write in it could make a command signal or remove what it chooses */
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st))
        why = strerror(errno);
    else if (st.st_uid != geteuid())
        why = "it is owned by another user";
    else if (st.st_mode & 022)
        why = st.st_mode & 002 ? "every user may write in it" : "its group may write in it";
    if (why) {
        oci_err(E_FILE_PERMISSIONS,
                "--root %s: %s (owner uid %u, mode %04o); alcove-oci needs a directory of its "
                "own user's that no one else may write in (it makes one 0700 when it is missing)",
                g_root, why, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        close(fd);
        return -EPERM;
    }
    g_root_fd = fd;
    return fd;
}

void oci_root_forget(void)
{
    if (g_root_fd >= 0)
        close(g_root_fd);
    g_root_fd = -1;
}

/* Removes everything below the directory dfd (never following a link). 0 or -errno. */
static int empty_dir(int dfd, int depth)
{
    int dup_fd = dup(dfd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return -errno;
    }
    int r = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dfd, e->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno != EISDIR && errno != EPERM) {
            r = -errno;
            continue;
        }
        /* a directory (nothing of ours is one: a damaged or hostile state has it) */
        int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 || depth > 32) {
            r = sub < 0 ? -errno : -ELOOP;
            if (sub >= 0)
                close(sub);
            continue;
        }
        int s = empty_dir(sub, depth + 1);
        close(sub);
        if (s)
            r = s;
        else if (unlinkat(dfd, e->d_name, AT_REMOVEDIR) && errno != ENOENT)
            r = -errno;
    }
    closedir(d);
    return r;
}

/* Removes the entry name of the root when it is still the directory dfd. */
static int remove_entry(int dfd, const char *name)
{
    struct stat a, b;
    int root = oci_root_open(0);
    if (root < 0 || fstat(dfd, &a) || fstatat(root, name, &b, AT_SYMLINK_NOFOLLOW))
        return root < 0 ? root : (errno == ENOENT ? 0 : -errno);
    if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return 0; /* another container's now */
    return unlinkat(root, name, AT_REMOVEDIR) && errno != ENOENT ? -errno : 0;
}

/* Removes what is left of creates that died before their directory took its id. */
static void sweep_claims(int root)
{
    int dup_fd = dup(root);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, CLAIM_PREFIX, strlen(CLAIM_PREFIX)) != 0)
            continue;
        /* its create's pid is in its name: a live one (or one that reused the pid) may not have
         * locked it yet */
        long pid = strtol(e->d_name + strlen(CLAIM_PREFIX), NULL, 10);
        if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno == EPERM)
            continue;
        int fd = openat(root, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && empty_dir(fd, 0) == 0)
            remove_entry(fd, e->d_name); /* unlocked: its create is gone */
        close(fd);
    }
    closedir(d);
}

int oci_state_make(const char *id)
{
    if (!oci_id_valid(id))
        return -EINVAL;
    int root = oci_root_open(1);
    if (root < 0)
        return root;
    sweep_claims(root);
    /* the directory is made and locked under a name no id has, then renamed to the id (never
     * over another): no other command ever sees the id's directory unlocked before create has
     * done with it */
    char claim[64];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(claim, sizeof(claim), CLAIM_PREFIX "%d.%ld", (int)getpid(), ts.tv_nsec);
    if (mkdirat(root, claim, 0700))
        return -errno;
    int fd = openat(root, claim, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = 0;
    if (fd < 0 || flock(fd, LOCK_EX) || fchmod(fd, 0700))
        e = errno;
    else if (renameat2(root, claim, root, id, RENAME_NOREPLACE))
        e = errno == ENOTEMPTY ? EEXIST : errno;
    if (e) {
        if (fd >= 0)
            close(fd);
        unlinkat(root, claim, AT_REMOVEDIR);
        return -e;
    }
    return fd;
}

int oci_state_open(const char *id)
{
    if (!oci_id_valid(id))
        return -ENOENT; /* an id that cannot be a container's */
    int root = oci_root_open(0);
    if (root < 0)
        return root;
    int fd = openat(root, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int oci_state_lock(const char *id)
{
    int fd = oci_state_open(id);
    if (fd < 0)
        return fd;
    if (flock(fd, LOCK_EX)) {
        int e = errno;
        close(fd);
        return -e;
    }
    /* removed while we waited for the lock: it is gone */
    struct stat st;
    if (fstat(fd, &st) || st.st_nlink == 0) {
        close(fd);
        return -ENOENT;
    }
    return fd;
}

void oci_state_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

int oci_state_remove(int dfd, const char *id)
{
    int r = empty_dir(dfd, 0);
    int s = remove_entry(dfd, id);
    return r ? r : s;
}

int oci_state_remove_other(const char *id)
{
    int root = oci_root_open(0);
    if (!oci_id_valid(id) || root < 0)
        return root < 0 ? root : -ENOENT;
    struct stat st;
    if (fstatat(root, id, &st, AT_SYMLINK_NOFOLLOW))
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    return unlinkat(root, id, 0) ? -errno : 0; /* a link itself, never what it names */
}

char *oci_state_get(int dfd, const char *name, size_t *size)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size > STATE_FILE_MAX) {
        errno = fstat(fd, &st) ? errno : EINVAL;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        goto out;
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    if (size)
        *size = n;
out:
    close(fd);
    return buf;
}

int oci_state_put(int dfd, const char *name, const char *text)
{
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", name);
    unlinkat(dfd, tmp, 0); /* whatever was there, a link included, goes: the new file is ours */
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text), n = 0;
    while (n < len) {
        ssize_t w = write(fd, text + n, len - n);
        if (w <= 0)
            break;
        n += (size_t)w;
    }
    int e = n == len ? 0 : (errno ? errno : EIO);
    if (close(fd) && !e)
        e = errno;
    if (!e && renameat(dfd, tmp, dfd, name)) /* replaces a link, never writes through one */
        e = errno;
    if (e)
        unlinkat(dfd, tmp, 0);
    return -e;
}
