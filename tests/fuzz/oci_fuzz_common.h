/* oci_fuzz_common.h: what the OCI/docker archive fuzz targets share: the input as a file the
 * readers can open by name (a memfd, named through /proc/self/fd), and the checks on what they
 * return. */
#ifndef ALCOVE_OCI_FUZZ_COMMON_H
#define ALCOVE_OCI_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/rootfs.h"

#define FUZZ_CHECK(c)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "check failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* data as a file: its descriptor (the path in path), or -1. */
static inline int fuzz_file(const void *data, size_t size, char *path, size_t path_size)
{
    int fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, (const char *)data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

/* What a reader returns, whatever its input: relative clean paths, sorted and distinct, file data
 * of the stated size, and an application ramdisk that can be made from it. */
static inline void fuzz_check_rootfs(struct rootfs *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        const struct rootfs_node *n = &fs->nodes[i];
        FUZZ_CHECK(n->path && n->path[0] && n->path[0] != '/');
        FUZZ_CHECK(strstr(n->path, "//") == NULL);
        FUZZ_CHECK(n->path[strlen(n->path) - 1] != '/');
        for (const char *p = n->path; p; p = strchr(p, '/')) {
            if (*p == '/')
                p++;
            FUZZ_CHECK(strncmp(p, "../", 3) != 0 && strcmp(p, "..") != 0);
            FUZZ_CHECK(strncmp(p, "./", 2) != 0 && strcmp(p, ".") != 0);
        }
        if (i)
            FUZZ_CHECK(strcmp(fs->nodes[i - 1].path, n->path) < 0);
        unsigned type = n->mode & S_IFMT;
        FUZZ_CHECK(type == S_IFREG || type == S_IFDIR || type == S_IFLNK);
        if (n->size) {
            FUZZ_CHECK(n->data != NULL);
            volatile uint8_t last = n->data[n->size - 1]; /* ASan: the data is that long */
            (void)last;
        }
    }
    if (!fs->cmd) {
        char *argv[] = {(char *)"/bin/true"};
        FUZZ_CHECK(rootfs_set_cmd(fs, argv, 1) == 0);
    }
    uint8_t *ramdisk = NULL;
    size_t size = 0;
    char why[512];
    if (rootfs_customer_ramdisk(fs, &ramdisk, &size, why, sizeof(why)) == 0)
        FUZZ_CHECK(ramdisk != NULL && size > 0);
    free(ramdisk);
}

#endif
