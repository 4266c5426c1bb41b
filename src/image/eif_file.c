/* eif_file.c: reading an EIF from disk, its header checked first (see eif_file.h). */
#include "image/eif_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "image/eif.h"

/* Reads exactly len bytes at offset off. 0, or -errno (-EIO when the file ends first: it shrank
 * since its size was taken). */
static int read_at(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        done += (size_t)n;
    }
    return 0;
}

int eif_read_fd(int fd, uint64_t file_size, uint8_t **out)
{
    *out = NULL;
    uint8_t head[EIF_HEADER_SIZE];
    size_t head_len = file_size < EIF_HEADER_SIZE ? (size_t)file_size : EIF_HEADER_SIZE;
    int r = read_at(fd, head, head_len, 0);
    if (r)
        return r;
    enum eif_error e = eif_check_header(head, file_size);
    if (e != EIF_OK)
        return (int)e;
    /* then the section headers, at most 32 of 12 bytes: a forged header whose table is
     * consistent must not cost a read of the whole file before a bad type says it is no image */
    uint64_t offsets[EIF_MAX_SECTIONS];
    uint8_t sh[EIF_MAX_SECTIONS][EIF_SECTION_HEADER_SIZE];
    unsigned n = eif_section_offsets(head, offsets);
    for (unsigned i = 0; i < n; i++)
        if ((r = read_at(fd, sh[i], EIF_SECTION_HEADER_SIZE, offsets[i])) != 0)
            return r;
    e = eif_check_sections(head, (const uint8_t(*)[EIF_SECTION_HEADER_SIZE])sh);
    if (e != EIF_OK)
        return (int)e;
    if (file_size >= SIZE_MAX)
        return -EFBIG;
    /* the table now accounts for every byte, so the size asked for is the image's own */
    uint8_t *buf = malloc((size_t)file_size);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, head, head_len);
    r = read_at(fd, buf + head_len, (size_t)file_size - head_len, head_len);
    if (r) {
        free(buf);
        return r;
    }
    *out = buf;
    return 0;
}

int eif_read_file(const char *path, uint8_t **buf, size_t *size)
{
    *buf = NULL;
    int fd = open_regular(path);
    if (fd < 0)
        return -errno;
    struct stat st;
    int r = fstat(fd, &st) ? -errno : eif_read_fd(fd, (uint64_t)st.st_size, buf);
    close(fd);
    if (r == 0)
        *size = (size_t)st.st_size;
    return r;
}
