/* sysfs.c: reading and writing small sysfs files under a root that tests can move (see
 * sysfs.h). Files are opened without following a final symlink and read in one go, as sysfs
 * attributes are; a write is one write() call, so the kernel sees the whole value at once. */
#include "allocator/sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *sysfs_root(void)
{
    static char root[PATH_MAX];
    const char *env = getenv("ALCOVE_SYSFS_ROOT");
    if (!env || !*env || strlen(env) >= sizeof(root))
        return "/sys";
    strcpy(root, env);
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/')
        root[--len] = 0;
    return root;
}

int sysfs_path(char *buf, size_t size, const char *rel_fmt, ...)
{
    char rel[PATH_MAX];
    va_list ap;
    va_start(ap, rel_fmt);
    int n = vsnprintf(rel, sizeof(rel), rel_fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(rel))
        return -1;
    n = snprintf(buf, size, "%s/%s", sysfs_root(), rel);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

bool sysfs_exists(const char *rel)
{
    char path[PATH_MAX];
    return sysfs_path(path, sizeof(path), "%s", rel) == 0 && access(path, F_OK) == 0;
}

long sysfs_read(const char *rel, char *buf, size_t size)
{
    char path[PATH_MAX];
    if (size == 0 || sysfs_path(path, sizeof(path), "%s", rel) != 0)
        return -ENAMETOOLONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t got = 0;
    while (got < size - 1) {
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            return -err;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    return (long)got;
}

int sysfs_read_u64(const char *rel, uint64_t *out)
{
    char buf[64];
    long n = sysfs_read(rel, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    char *end;
    errno = 0;
    if (buf[0] < '0' || buf[0] > '9')
        return -EINVAL;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || (*end && strcmp(end, "\n") != 0))
        return -EINVAL;
    *out = v;
    return 0;
}

int sysfs_write_u64(const char *rel, uint64_t value)
{
    char path[PATH_MAX], text[32];
    if (sysfs_path(path, sizeof(path), "%s", rel) != 0)
        return -ENAMETOOLONG;
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
    if (fd < 0)
        return -errno;
    int len = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)value);
    ssize_t n = write(fd, text, (size_t)len);
    int err = n < 0 ? errno : 0;
    if (close(fd) != 0 && !err)
        err = errno;
    if (err)
        return -err;
    return n == len ? 0 : -EIO;
}
