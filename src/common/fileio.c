/* fileio.c: whole-file reads and all-or-nothing writes (see fileio.h). */
#include "common/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint8_t *read_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
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

int write_file_atomic(const char *path, const void *data, size_t size, unsigned mode)
{
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
    int err = 0;
    const uint8_t *p = data;
    size_t left = size;
    while (left && !err) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            err = -errno;
        else
            p += n, left -= (size_t)n;
    }
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
    free(tmp);
    return err;
}
