/* runtime.c: the runtime directory (see runtime.h): where running enclaves describe themselves
 * and keep their sockets. A claim is an flock on "<cid>.json", so a monitor that dies, however it
 * dies, frees its CID: the kernel drops the lock with the process. */
#include "common/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static char g_dir[PATH_MAX];
static int g_dir_errno;
static bool g_shared; /* the directory is a group's (RUNTIME_SHARED_MODE, root's) */
static gid_t g_shared_gid;
static char g_dir_why[PATH_MAX + 160];

/* Records why the directory cannot be used (err: EPERM when it is unsafe). */
static void refuse(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_dir_why, sizeof(g_dir_why), fmt, ap);
    va_end(ap);
    g_dir_errno = err;
}

/* Drops a trailing "/" or "/." (any number of them): with one, the kernel resolves the last
 * component even when it is a symbolic link, so O_NOFOLLOW would not see the link, and every
 * path made from the directory would carry it. -1 when a component is "..". */
static int normalise(char *path)
{
    size_t len = strlen(path);
    for (;;) {
        if (len > 1 && path[len - 1] == '/')
            len--;
        else if (len >= 2 && path[len - 1] == '.' && path[len - 2] == '/')
            len -= 2;
        else
            break;
    }
    if (len == 0) /* "/." */
        path[len++] = '/';
    path[len] = 0;
    for (const char *c = path; *c;) {
        size_t clen = strcspn(c, "/");
        if (clen == 2 && c[0] == '.' && c[1] == '.')
            return -1;
        c += clen + (c[clen] == '/');
    }
    return 0;
}

/* Whether this process is in group gid (its effective or a supplementary group). */
static bool in_group(gid_t gid)
{
    if (getegid() == gid)
        return true;
    int n = getgroups(0, NULL);
    gid_t *groups = n > 0 ? calloc((size_t)n, sizeof(*groups)) : NULL;
    n = groups ? getgroups(n, groups) : 0;
    bool found = false;
    for (int i = 0; !found && i < n; i++)
        found = groups[i] == gid;
    free(groups);
    return found;
}

/* The group's name, or its number when it has none (usermod -aG takes either). */
static const char *group_name(gid_t gid, char *buf, size_t size)
{
    struct group gr, *res = NULL;
    char tmp[4096];
    if (getgrgid_r(gid, &gr, tmp, sizeof(tmp), &res) == 0 && res)
        snprintf(buf, size, "%s", res->gr_name);
    else
        snprintf(buf, size, "%u", (unsigned)gid);
    return buf;
}

/* A shared runtime directory (docs/security.md, "The alcove group"): root's, mode exactly
 * RUNTIME_SHARED_MODE, so its group's members may make their enclaves' files in it, and the
 * sticky bit keeps each from removing or renaming another's. */
static bool is_shared(const struct stat *st)
{
    return S_ISDIR(st->st_mode) && st->st_uid == 0 && (st->st_mode & 07777) == RUNTIME_SHARED_MODE;
}

/* Checks the directory that fd and st describe (not made by us) and records the refusal. */
static void check_existing(const struct stat *st)
{
    char gname[64];
    if (is_shared(st)) {
        if (geteuid() != 0 && !in_group(st->st_gid))
            refuse(EPERM,
                   "%s is shared by the members of group '%s' (root:%s, mode %04o), and this "
                   "user (uid %u) is not one: root adds it with 'usermod -aG %s USER' (it "
                   "takes effect at the next login)",
                   g_dir, group_name(st->st_gid, gname, sizeof(gname)), gname, RUNTIME_SHARED_MODE,
                   (unsigned)geteuid(), gname);
        g_shared = true;
        g_shared_gid = st->st_gid;
        return;
    }
    if (st->st_uid == 0 && geteuid() != 0 && (st->st_mode & 020) && !(st->st_mode & 002)) {
        /* root's and group-writable, but not in the one shared form */
        refuse(EPERM,
               "%s is root's and writable by group '%s' with mode %04o: a shared runtime "
               "directory must be mode %04o exactly (sticky: members cannot remove each "
               "other's files; nothing for other users), as scripts/setup.sh --group makes it",
               g_dir, group_name(st->st_gid, gname, sizeof(gname)), st->st_mode & 07777,
               RUNTIME_SHARED_MODE);
    } else if (st->st_uid != geteuid()) {
        refuse(EPERM, "%s is owned by uid %u, not by this user (uid %u)", g_dir,
               (unsigned)st->st_uid, (unsigned)geteuid());
    } else if (st->st_mode & 022) {
        refuse(EPERM,
               "%s may be written by %s (mode %04o): remove that (chmod go-w), use another "
               "ALCOVE_RUNTIME_DIR, or, for root, share it with a group: chown root:GROUP, "
               "mode %04o exactly",
               g_dir, st->st_mode & 002 ? "every user" : "its group", st->st_mode & 07777,
               RUNTIME_SHARED_MODE);
    } else if ((st->st_mode & 0700) != 0700) {
        /* refused rather than repaired, as the rest: without these bits its owner's commands
         * would fail later, at a socket or a description, with errors that do not say why */
        refuse(EPERM,
               "%s may not be read, written and searched by its owner (mode %04o): chmod u+rwx "
               "it or use another ALCOVE_RUNTIME_DIR",
               g_dir, st->st_mode & 07777);
    }
}

/* Once per process (libalcove may be called from many threads at once). The directory holds the
 * enclaves' sockets and descriptions: whoever may write in it could put their own socket where a
 * client looks for an enclave's, or remove an enclave's, so one that another user owns or may
 * write to is refused, never repaired; so is one its owner may not read, write and search (mode
 * 0500, say), where later steps would fail without saying why. One we create is set to 0700
 * explicitly, whatever the umask. The one group-writable directory accepted is root's shared
 * form (is_shared), for its group's members. */
static void runtime_dir_init(void)
{
    const char *env = getenv("ALCOVE_RUNTIME_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    struct stat st;
    if (env && *env)
        n = snprintf(g_dir, sizeof(g_dir), "%s", env);
    else if (geteuid() == 0 || (lstat(RUNTIME_ROOT_DIR, &st) == 0 && is_shared(&st)))
        /* root's, and every user's where root shares it with a group */
        n = snprintf(g_dir, sizeof(g_dir), RUNTIME_ROOT_DIR);
    else if (xdg && *xdg)
        n = snprintf(g_dir, sizeof(g_dir), "%s/alcove", xdg);
    else
        n = snprintf(g_dir, sizeof(g_dir), "/tmp/alcove-%u", (unsigned)geteuid());
    if (n <= 0 || (size_t)n >= sizeof(g_dir)) {
        g_dir[0] = 0;
        refuse(ENAMETOOLONG, "its path is too long");
        return;
    }
    if (normalise(g_dir) != 0) {
        refuse(EPERM,
               "%s has a '..' component, so which directory it names depends on the "
               "directories it passes through: give the directory's own path",
               g_dir);
        return;
    }
    bool created = mkdir(g_dir, RUNTIME_DIR_MODE) == 0;
    if (!created && errno != EEXIST) {
        refuse(errno, "%s: cannot create it: %s", g_dir, strerror(errno));
        return;
    }
    /* mkdir applied the umask (under 0777 the directory is 0000): set the mode by path, which
     * needs no permission on the directory itself, so it works whatever the umask left; never
     * through a symbolic link that replaced it meanwhile (that is refused below) */
    if (created && fchmodat(AT_FDCWD, g_dir, RUNTIME_DIR_MODE, AT_SYMLINK_NOFOLLOW) != 0 &&
        errno != EOPNOTSUPP) {
        refuse(errno, "%s: chmod: %s", g_dir, strerror(errno));
        return;
    }
    /* checked through a descriptor, so that every check is on one and the same directory.
     * O_PATH: fstat needs no read permission on the directory, which its owner may lack */
    int fd = open(g_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    /* O_NOFOLLOW with O_DIRECTORY says ENOTDIR for a symbolic link */
    if (fd < 0 && (errno == ELOOP || errno == ENOTDIR) && lstat(g_dir, &st) == 0 &&
        S_ISLNK(st.st_mode)) {
        refuse(EPERM,
               "%s is a symbolic link, which could be pointed elsewhere later: give the "
               "directory itself",
               g_dir);
    } else if (fd < 0 || fstat(fd, &st) != 0) {
        refuse(errno, "%s: %s", g_dir, strerror(errno));
    } else if (created && st.st_uid != geteuid()) {
        refuse(EPERM, "%s is owned by uid %u, not by this user (uid %u)", g_dir,
               (unsigned)st.st_uid, (unsigned)geteuid());
    } else if (created && (st.st_mode & 07777) != RUNTIME_DIR_MODE) {
        refuse(EPERM, "%s: made mode %04o, but it is %04o", g_dir, RUNTIME_DIR_MODE,
               st.st_mode & 07777);
    } else if (!created) {
        check_existing(&st);
    }
    if (fd >= 0)
        close(fd);
}

const char *runtime_dir(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, runtime_dir_init);
    if (g_dir_errno) {
        errno = g_dir_errno;
        return NULL;
    }
    return g_dir;
}

int runtime_dir_shared(gid_t *gid)
{
    if (!runtime_dir() || !g_shared)
        return 0;
    if (gid)
        *gid = g_shared_gid;
    return 1;
}

const char *runtime_dir_problem(void)
{
    return runtime_dir() ? NULL : g_dir_why;
}

int runtime_listen(int fd, const char *path, int backlog)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(sa.sun_path)) {
        errno = len ? ENAMETOOLONG : EINVAL;
        return -1;
    }
    memcpy(sa.sun_path, path, len + 1);
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    if (bind(fd, (struct sockaddr *)&sa, salen) != 0)
        return -1;
    /* bind made the file 0777 less the umask (0777 under umask 000): set its mode before
     * listen(), while connecting to it is still refused, so no umask ever lets anyone in */
    if (chmod(path, RUNTIME_SOCKET_MODE) != 0 || listen(fd, backlog) != 0) {
        int err = errno;
        unlink(path);
        errno = err;
        return -1;
    }
    return 0;
}

int runtime_path(char *buf, size_t size, uint32_t cid, const char *suffix)
{
    const char *dir = runtime_dir();
    if (!dir)
        return -1;
    int n = cid == RUNTIME_CID_ANY ? snprintf(buf, size, "%s/any.%s", dir, suffix)
                                   : snprintf(buf, size, "%s/%u.%s", dir, cid, suffix);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Removes the enclave's own socket, "<dir>/<cid>.vsock". The per-port sockets
 * "<cid>.vsock_<port>" belong to the host programs that listen on them. */
/* The enclave's two sockets: its vsock socket and its control socket. */
static void remove_sockets(uint32_t cid)
{
    char path[PATH_MAX];
    if (runtime_path(path, sizeof(path), cid, "vsock") == 0)
        unlink(path);
    if (runtime_path(path, sizeof(path), cid, "ctl") == 0)
        unlink(path);
}

/* The description in fd, parsed; NULL when it is empty or not (yet) JSON. */
static cJSON *read_json_fd(int fd)
{
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            return NULL;
        ssize_t n = pread(fd, buf + len, cap - 1 - len, (off_t)len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == cap - 1) {
            char *grown = cap < (1u << 24) ? realloc(buf, cap * 2) : NULL;
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
    }
    buf[len] = 0;
    cJSON *j = len ? cJSON_Parse(buf) : NULL;
    free(buf);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

cJSON *runtime_read_desc(uint32_t cid)
{
    return runtime_read_desc_owner(cid, NULL);
}

cJSON *runtime_read_desc_owner(uint32_t cid, uid_t *owner)
{
    char path[PATH_MAX];
    if (runtime_path(path, sizeof(path), cid, "json"))
        return NULL;
    /* a monitor may be rewriting it: a torn read is read again */
    for (int attempt = 0; attempt < 20; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
            return NULL;
        /* a description another user made readable is still not this user's enclave (it
         * could claim any name or ID); only root sees every user's. Never a FIFO or a device
         * another member put there, not even for root */
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
            (geteuid() != 0 && st.st_uid != geteuid())) {
            close(fd);
            errno = EACCES;
            return NULL;
        }
        if (owner)
            *owner = st.st_uid;
        cJSON *j = read_json_fd(fd);
        close(fd);
        if (j)
            return j;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static bool is_ended(const cJSON *desc)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(desc, "State");
    return cJSON_IsString(st) && strcmp(st->valuestring, "EMPTY") == 0;
}

/* Whether a file at one of cid's paths (its description, its control or vsock socket) is
 * another user's: in a shared directory a member may make any of them, and a claim must never
 * adopt another's description nor leave its monitor to fail at a socket it cannot bind. */
static bool others_file(uint32_t cid)
{
    static const char *const suffixes[] = {"json", "ctl", "vsock"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char path[PATH_MAX];
        struct stat st;
        if (runtime_path(path, sizeof(path), cid, suffixes[i]) == 0 && lstat(path, &st) == 0 &&
            st.st_uid != geteuid())
            return true;
    }
    return false;
}

/* Opens cid's description for a claim: a new file (O_EXCL), or this user's own plain file
 * already there; never a link, and never another user's file, whatever its mode. The fd, or
 * -errno (-EACCES: another user's). */
static int open_desc(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, RUNTIME_FILE_MODE);
    if (fd >= 0 || errno != EEXIST)
        return fd >= 0 ? fd : errno == ELOOP ? -EACCES : -errno;
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ELOOP ? -EACCES : -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
        close(fd);
        return -EACCES;
    }
    return fd;
}

int runtime_claim(struct runtime_claim *c, uint32_t cid)
{
    c->fd = -1;
    c->cid = 0;
    uint32_t first = cid ? cid : RUNTIME_CID_MIN, last = cid ? cid : UINT32_MAX - 1;
    for (uint32_t id = first; id <= last; id++) {
        char path[PATH_MAX];
        if (runtime_path(path, sizeof(path), id, "json"))
            return -errno;
        if (others_file(id)) {
            if (cid)
                return -EACCES;
            continue;
        }
        int fd = open_desc(path);
        if (fd == -EACCES && !cid)
            continue; /* another user's, or a link: not ours to take */
        if (fd == -ENOENT) {
            id--; /* removed between our two opens: again */
            continue;
        }
        if (fd < 0)
            return fd;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            close(fd);
            if (err != EWOULDBLOCK)
                return -err;
            if (cid)
                return -EADDRINUSE;
            continue;
        }
        /* a cleaner may have removed a file that looked stale between our open and our lock:
         * then it is not the path's any more, and we try again */
        struct stat a, b;
        if (fstat(fd, &a) != 0 || lstat(path, &b) != 0 || a.st_ino != b.st_ino ||
            a.st_dev != b.st_dev) {
            close(fd);
            id--;
            continue;
        }
        /* an enclave whose application ended keeps its description (and so its CID) until
         * terminate-enclave; only an explicit --enclave-cid takes it over */
        if (!cid) {
            cJSON *old = read_json_fd(fd);
            bool ended = is_ended(old);
            cJSON_Delete(old);
            if (ended) {
                close(fd);
                continue;
            }
        }
        /* ours now; whatever a dead monitor left under this CID goes. The mode is set here,
         * not left to the umask. */
        if (ftruncate(fd, 0) != 0 || fchmod(fd, RUNTIME_FILE_MODE) != 0) {
            int err = errno;
            close(fd);
            return -err;
        }
        remove_sockets(id);
        c->fd = fd;
        c->cid = id;
        return 0;
    }
    return -EADDRINUSE;
}

int runtime_describe(struct runtime_claim *c, const char *json)
{
    /* written over the old text, then cut to length: a reader never sees an empty file */
    size_t len = strlen(json);
    if (pwrite(c->fd, json, len, 0) != (ssize_t)len)
        return errno ? -errno : -EIO;
    if (ftruncate(c->fd, (off_t)len) != 0)
        return -errno;
    return 0;
}

void runtime_release(struct runtime_claim *c)
{
    if (c->fd < 0)
        return;
    char path[PATH_MAX];
    remove_sockets(c->cid);
    if (runtime_path(path, sizeof(path), c->cid, "json") == 0)
        unlink(path);
    close(c->fd); /* drops the lock */
    c->fd = -1;
}

void runtime_release_keep(struct runtime_claim *c)
{
    if (c->fd < 0)
        return;
    remove_sockets(c->cid);
    close(c->fd);
    c->fd = -1;
}

void runtime_remove(uint32_t cid)
{
    char json[PATH_MAX];
    if (runtime_path(json, sizeof(json), cid, "json"))
        return;
    /* under the claim's own lock, so that a monitor claiming the CID right now is never
     * robbed of its files: if it holds the lock, there is nothing to remove */
    int fd = open(json, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat(json, &b) == 0 && a.st_ino == b.st_ino) {
        remove_sockets(cid);
        unlink(json);
    }
    close(fd);
}

int runtime_cid_running(uint32_t cid)
{
    char path[PATH_MAX];
    if (runtime_path(path, sizeof(path), cid, "json"))
        return 0;
    /* O_NONBLOCK: a FIFO another member put there must not stop the caller in open() */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno != ENOENT; /* out of descriptors, say: not known to be gone */
    int running = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return running;
}

/* The CID of the running enclave whose description has field == value, or 0: the caller's own
 * first (names are not unique across users); for root, another user's when only one matches. */
static uint32_t find_by(const char *field, const char *value)
{
    const char *dir = runtime_dir();
    if (!dir)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    uint32_t own = 0, other = 0;
    unsigned others = 0;
    struct dirent *e;
    while (!own && (e = readdir(d))) {
        char *end;
        unsigned long cid = strtoul(e->d_name, &end, 10);
        if (end == e->d_name || strcmp(end, ".json") != 0 || cid == 0 || cid > UINT32_MAX)
            continue;
        if (!runtime_cid_running((uint32_t)cid))
            continue;
        uid_t owner = 0;
        cJSON *j = runtime_read_desc_owner((uint32_t)cid, &owner);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, field);
        if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0) {
            if (owner == geteuid())
                own = (uint32_t)cid;
            else if (others++ == 0)
                other = (uint32_t)cid;
        }
        cJSON_Delete(j);
    }
    closedir(d);
    return own ? own : others == 1 ? other : 0;
}

uint32_t runtime_find_name(const char *name)
{
    return find_by("EnclaveName", name);
}
