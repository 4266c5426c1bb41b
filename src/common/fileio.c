/* fileio.c: whole-file reads and all-or-nothing writes (see fileio.h). */
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* errno for a file that is not regular */
static int not_regular(mode_t mode)
{
    return S_ISDIR(mode) ? EISDIR : EINVAL;
}

int open_regular(const char *path)
{
    /* the type is checked before the open: opening a device can act (a watchdog starts
     * counting, a tape rewinds), and opening a FIFO's read end releases a writer waiting on it */
    struct stat before;
    if (stat(path, &before))
        return -1;
    if (!S_ISREG(before.st_mode)) {
        errno = not_regular(before.st_mode);
        return -1;
    }
    /* O_NONBLOCK: should the path be replaced by a FIFO after the stat, the open still returns
     * at once (and the identity check below refuses it). O_NOCTTY: nor does a terminal become
     * our controlling one. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    struct stat st;
    int err = 0;
    if (fstat(fd, &st))
        err = errno;
    else if (!S_ISREG(st.st_mode))
        err = not_regular(st.st_mode);
    else if (st.st_dev != before.st_dev || st.st_ino != before.st_ino)
        err = EAGAIN; /* replaced between the stat and the open */
    /* a regular file now: back to ordinary blocking reads for whoever uses the descriptor */
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        err = errno;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

const char *fileio_strerror(int err)
{
    return err == EINVAL ? "not a regular file (a FIFO, socket or device)" : strerror(err);
}

uint8_t *read_file(const char *path, size_t *size)
{
    int fd = open_regular(path);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    size_t len = (size_t)st.st_size, done = 0;
    uint8_t *buf = malloc(len + 1);
    while (buf && done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(buf);
            buf = NULL;
            errno = e;
            break;
        }
        done += (size_t)n;
    }
    close(fd);
    if (buf) {
        buf[len] = 0;
        *size = len;
    }
    return buf;
}

/* ---- inputs read through mappings (image/rootfs.c) ----
 * A mapped file that shrinks raises SIGBUS when its lost pages are read. The handler says so and
 * removes the temporary file a write_file_atomic* call was filling, so nothing is left behind. */
static char g_tmp_path[4096];
static volatile sig_atomic_t g_tmp_live;
static int g_bus_status = 1;

static void on_sigbus(int sig)
{
    (void)sig;
    static const char msg[] =
        "[ E07 ] Read from disk failure: an input file shrank while alcove was reading it\n";
    ssize_t ignored = write(2, msg, sizeof(msg) - 1);
    (void)ignored;
    if (g_tmp_live)
        unlink(g_tmp_path);
    _exit(g_bus_status);
}

void fileio_guard_mapped_inputs(int exit_status)
{
    g_bus_status = exit_status;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigbus;
    sigaction(SIGBUS, &sa, NULL);
}

void fileio_unguard_mapped_inputs(void)
{
    signal(SIGBUS, SIG_DFL);
}

int output_path_check(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    return S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ? 0 : -not_regular(st.st_mode);
}

int write_file_atomic_with(const char *path, unsigned mode, int (*fill)(int fd, void *arg),
                           void *arg)
{
    int checked = output_path_check(path);
    if (checked)
        return checked;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return -ENOMEM;
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return -e;
    }
    if (strlen(tmp) < sizeof(g_tmp_path)) {
        memcpy(g_tmp_path, tmp, strlen(tmp) + 1);
        g_tmp_live = 1;
    }
    int err = fill(fd, arg);
    if (!err && fchmod(fd, mode))
        err = -errno;
    if (!err && fsync(fd))
        err = -errno;
    if (close(fd) && !err)
        err = -errno;
    if (!err && rename(tmp, path))
        err = -errno;
    if (err)
        unlink(tmp);
    g_tmp_live = 0;
    free(tmp);
    return err;
}

struct bytes {
    const uint8_t *p;
    size_t left;
};

static int fill_bytes(int fd, void *arg)
{
    struct bytes *b = arg;
    while (b->left) {
        ssize_t n = write(fd, b->p, b->left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        b->p += n;
        b->left -= (size_t)n;
    }
    return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, unsigned mode)
{
    struct bytes b = {data, size};
    return write_file_atomic_with(path, mode, fill_bytes, &b);
}
