/* mf_mem.c: memory requests that must fail in a small enclave, and the program goes on.
 *   mf_mem huge     a 10 GiB mmap (and other impossible sizes): ENOMEM, then normal memory works
 * Prints one line per step; exits 0 after the last. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void map(const char *what, size_t len, int flags)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (p == MAP_FAILED) {
        printf("%s: %s\n", what, errno == ENOMEM ? "ENOMEM" : strerror(errno));
    } else {
        printf("%s: mapped\n", what);
        munmap(p, len);
    }
    fflush(stdout);
}

/* Maps LEN bytes, writes every page, checks them, unmaps: 0 on success. */
static int touch(size_t len)
{
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    for (size_t i = 0; i < len; i += 4096)
        p[i] = (unsigned char)(i >> 12);
    for (size_t i = 0; i < len; i += 4096)
        if (p[i] != (unsigned char)(i >> 12))
            return -2;
    return munmap(p, len);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "huge") != 0) {
        fprintf(stderr, "usage: mf_mem huge\n");
        return 2;
    }
    map("mmap 10 GiB", (size_t)10 << 30, 0);
    map("mmap 10 GiB MAP_NORESERVE", (size_t)10 << 30, MAP_NORESERVE);
    map("mmap 1 TiB", (size_t)1 << 40, 0);
    map("mmap 2^63", (size_t)1 << 63, 0);
    map("mmap SIZE_MAX rounded", SIZE_MAX & ~(size_t)4095, 0);
    void *m = malloc((size_t)10 << 30);
    printf("malloc 10 GiB: %s\n", m ? "succeeded" : "NULL");
    free(m);
    void *old = sbrk(0);
    void *r = sbrk((intptr_t)10 << 30);
    printf("sbrk +10 GiB: %s, break unchanged: %s\n", r == (void *)-1 ? "failed" : "succeeded",
           sbrk(0) == old ? "yes" : "no");
    /* ordinary memory still works after all that */
    printf("mmap, touch, munmap 8 MiB: %s\n", touch(8 << 20) == 0 ? "ok" : "failed");
    char *s = malloc(1 << 20);
    if (s) {
        memset(s, 'a', 1 << 20);
        printf("malloc 1 MiB: ok, last byte %c\n", s[(1 << 20) - 1]);
    } else {
        printf("malloc 1 MiB: NULL\n");
    }
    free(s);
    map("mmap 10 GiB again", (size_t)10 << 30, 0);
    printf("still running\n");
    return 0;
}
