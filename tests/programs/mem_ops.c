/* mem_ops.c: the memory syscalls (mmap, munmap, mremap, mprotect, madvise, brk) with their error
 * cases; prints calls and results only (no addresses), so native and enclave runs must agree. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PG 4096ul

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%-60s = -%s\n", what,
               r == -ENOMEM   ? "ENOMEM"
               : r == -EINVAL ? "EINVAL"
               : r == -EEXIST ? "EEXIST"
               : r == -EFAULT ? "EFAULT"
               : r == -EBADF  ? "EBADF"
                              : "E?");
    else
        printf("%-60s = %ld\n", what, r);
}

#define T(expr) show(#expr, (long)(expr))

static long sc(long nr, long a, long b, long c, long d, long e, long f)
{
    long r = syscall(nr, a, b, c, d, e, f);
    return r == -1 ? -errno : r;
}

static int filled(const char *p, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* argument errors */
    T(sc(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    T(sc(SYS_mmap, 0, PG, PROT_READ, MAP_ANONYMOUS, -1, 0));
    T(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1));
    T(sc(SYS_mmap, 123, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    T(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, -1, 0));
    T(sc(SYS_munmap, 123, PG, 0, 0, 0, 0));
    T(sc(SYS_munmap, 0x10000000, 0, 0, 0, 0, 0));
    T(sc(SYS_mprotect, 123, PG, PROT_READ, 0, 0, 0));
    T(sc(SYS_madvise, 123, PG, MADV_DONTNEED, 0, 0, 0));

    /* anonymous memory is zeroed; partial munmap keeps the rest */
    char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T(p != MAP_FAILED);
    T(filled(p, 16 * PG, 0));
    memset(p, 'a', 16 * PG);
    T(munmap(p + 4 * PG, 4 * PG));
    T(filled(p, 4 * PG, 'a') && filled(p + 8 * PG, 8 * PG, 'a'));
    T(sc(SYS_mprotect, (long)(p + 4 * PG), PG, PROT_READ, 0, 0, 0));
    T(mprotect(p, 4 * PG, PROT_READ));
    T(mprotect(p, 4 * PG, PROT_READ | PROT_WRITE));
    T(sc(SYS_mprotect, (long)p, PG, 0x80, 0, 0, 0));

    /* MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses */
    char *q = mmap(p + 4 * PG, 4 * PG, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    T(q == p + 4 * PG);
    T(filled(q, 4 * PG, 0));
    T(sc(SYS_mmap, (long)(p + 2 * PG), 4 * PG, PROT_READ,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
    q = mmap(p + 2 * PG, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
             -1, 0);
    T(q == p + 2 * PG);
    T(filled(p + 2 * PG, 4 * PG, 0) && filled(p, 2 * PG, 'a'));

    /* madvise(DONTNEED) gives zeroes back */
    memset(p, 'b', 16 * PG);
    T(madvise(p + PG, 2 * PG, MADV_DONTNEED));
    T(filled(p + PG, 2 * PG, 0) && filled(p, PG, 'b') && filled(p + 3 * PG, PG, 'b'));
    T(madvise(p, PG, MADV_WILLNEED));
    T(munmap(p, 16 * PG));

    /* mremap: grow in place or move, shrink, fixed */
    p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(p, 'c', 4 * PG);
    char *r = mremap(p, 4 * PG, 64 * PG, MREMAP_MAYMOVE);
    T(r != MAP_FAILED);
    T(filled(r, 4 * PG, 'c') && filled(r + 4 * PG, 60 * PG, 0));
    char *s = mremap(r, 64 * PG, 2 * PG, 0);
    T(s == r);
    T(filled(s, 2 * PG, 'c'));
    T(sc(SYS_mremap, (long)s, 2 * PG, 4 * PG, 0x80, 0, 0));
    T(sc(SYS_mremap, (long)s, 2 * PG, 4 * PG, MREMAP_FIXED, 0, 0));
    T(sc(SYS_mremap, (long)s + 1, 2 * PG, 4 * PG, MREMAP_MAYMOVE, 0, 0));
    char *dst = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *t = mremap(s, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4 * PG);
    T(t == dst + 4 * PG);
    T(filled(t, 2 * PG, 'c'));
    munmap(dst, 8 * PG);

    /* brk, through the raw syscall (musl's sbrk refuses to move the break) */
    char *b0 = (char *)sc(SYS_brk, 0, 0, 0, 0, 0, 0);
    T(sc(SYS_brk, (long)(b0 + 16 * PG), 0, 0, 0, 0, 0) == (long)(b0 + 16 * PG));
    memset(b0, 'd', 16 * PG);
    T(sc(SYS_brk, (long)(b0 + 8 * PG), 0, 0, 0, 0, 0) == (long)(b0 + 8 * PG));
    T(filled(b0, 8 * PG, 'd'));
    T(sc(SYS_brk, 0, 0, 0, 0, 0, 0) == (long)(b0 + 8 * PG));
    T(sc(SYS_brk, 1, 0, 0, 0, 0, 0) == (long)(b0 + 8 * PG)); /* below the start: unchanged */

    /* many mappings in and out */
    long ok = 1;
    for (int i = 0; i < 2000; i++) {
        char *m = mmap(NULL, (size_t)(i % 7 + 1) * PG, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED || m[0] != 0) {
            ok = 0;
            break;
        }
        m[0] = 1;
        if (i % 3)
            munmap(m, (size_t)(i % 7 + 1) * PG);
    }
    T(ok);
    return 0;
}
