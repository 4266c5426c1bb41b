/* hugepages.c: reserving and giving back hugepages (see hugepages.h). Writing nr_hugepages
 * asks the kernel for pages; it gives what it can find (compaction may fail for 1 GiB pages
 * on a fragmented host), and reading the file back says how many it gave. Whatever a larger
 * size could not give is asked of the next smaller size; whatever the smallest size cannot
 * give is a shortfall, and then every count goes back to its previous value. */
#include "allocator/hugepages.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocator/sysfs.h"
#include "common/errors.h"
#include "common/why.h"

static void dir_rel(int node, char *buf, size_t size)
{
    if (node >= 0)
        snprintf(buf, size, "devices/system/node/node%d/hugepages", node);
    else
        snprintf(buf, size, "kernel/mm/hugepages");
}

void hugepages_rel(int node, uint64_t kib, const char *file, char *buf, size_t size)
{
    char dir[96];
    dir_rel(node, dir, sizeof(dir));
    snprintf(buf, size, "%s/hugepages-%llukB/%s", dir, (unsigned long long)kib, file);
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x > y ? -1 : x < y;
}

int hugepages_sizes(int node, uint64_t *kib, unsigned max, char *why, size_t whylen)
{
    char rel[96], path[PATH_MAX];
    dir_rel(node, rel, sizeof(rel));
    if (sysfs_path(path, sizeof(path), "%s", rel) != 0) {
        why_set(why, whylen, "sysfs root path too long");
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        why_set(why, whylen, "the host offers no hugepages (%s: %s)", path, strerror(errno));
        return -1;
    }
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        unsigned long long k;
        char tail[8];
        if (sscanf(e->d_name, "hugepages-%llu%7s", &k, tail) != 2 || strcmp(tail, "kB") != 0)
            continue;
        if (k < 2048 || (k & (k - 1)) != 0)
            continue;
        kib[n++] = k;
    }
    closedir(d);
    qsort(kib, n, sizeof(*kib), cmp_desc);
    if (n == 0)
        why_set(why, whylen, "the host offers no hugepage size of 2 MiB or more in %s", path);
    return (int)n;
}

uint64_t hugepages_bytes(const struct hp_reservation *r)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < r->nsizes; i++)
        total += r->sizes[i].count * r->sizes[i].kib * 1024;
    return total;
}

/* Puts every count written so far back to its previous value. */
static void rollback(const struct hp_reservation *r, unsigned upto)
{
    char rel[160];
    for (unsigned i = 0; i < upto; i++) {
        hugepages_rel(r->node, r->sizes[i].kib, "nr_hugepages", rel, sizeof(rel));
        sysfs_write_u64(rel, r->sizes[i].previous);
    }
}

static void describe(const struct hp_reservation *r, unsigned upto, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < upto; i++) {
        uint64_t kib = r->sizes[i].kib;
        int n = snprintf(buf + used, size - used, "%s%llu of %llu %s", used ? ", " : "",
                         (unsigned long long)r->sizes[i].count,
                         (unsigned long long)(kib >= 1048576 ? kib >> 20 : kib >> 10),
                         kib >= 1048576 ? "GiB" : "MiB");
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
}

int hugepages_reserve(int node, uint64_t mib, struct hp_reservation *r, char *why, size_t whylen)
{
    memset(r, 0, sizeof(*r));
    r->node = node;
    uint64_t kib[HP_MAX_SIZES];
    int n = hugepages_sizes(node, kib, HP_MAX_SIZES, why, whylen);
    if (n <= 0)
        return E_INSUFFICIENT_MEMORY_AVAILABLE;
    uint64_t smallest = kib[n - 1];
    uint64_t want_kib = (mib * 1024 + smallest - 1) / smallest * smallest;
    uint64_t left = want_kib;
    char rel[160];
    for (int i = 0; i < n; i++) {
        struct hp_size *s = &r->sizes[r->nsizes];
        s->kib = kib[i];
        hugepages_rel(node, kib[i], "nr_hugepages", rel, sizeof(rel));
        uint64_t pages = left / kib[i];
        if (pages == 0)
            continue;
        int rc = sysfs_read_u64(rel, &s->previous);
        if (rc != 0) {
            rollback(r, r->nsizes);
            why_set(why, whylen, "cannot read %s/%s: %s", sysfs_root(), rel, strerror(-rc));
            return E_FILE_OPERATION;
        }
        r->nsizes++;
        rc = sysfs_write_u64(rel, s->previous + pages);
        uint64_t now = s->previous;
        if (rc == 0)
            rc = sysfs_read_u64(rel, &now);
        if (rc != 0) {
            rollback(r, r->nsizes);
            why_set(why, whylen, "cannot write %s/%s: %s%s", sysfs_root(), rel, strerror(-rc),
                    rc == -EACCES || rc == -EPERM || rc == -EROFS
                        ? " (reserving hugepages needs root)"
                        : "");
            return E_FILE_OPERATION;
        }
        s->count = now > s->previous ? now - s->previous : 0;
        if (s->count > pages) /* more than asked for: keep only ours */
            s->count = pages;
        left -= s->count * kib[i];
    }
    if (left > 0) {
        char got[256];
        describe(r, r->nsizes, got, sizeof(got));
        uint64_t have = want_kib - left;
        rollback(r, r->nsizes);
        char where[32] = "the host";
        if (node >= 0)
            snprintf(where, sizeof(where), "node %d", node);
        why_set(why, whylen,
                "the host could give %llu MiB of the %llu MiB asked for in hugepages on %s (%s "
                "pages); every count is back to what it was",
                (unsigned long long)(have >> 10), (unsigned long long)(want_kib >> 10), where, got);
        memset(r, 0, sizeof(*r));
        r->node = node;
        return E_INSUFFICIENT_MEMORY_AVAILABLE;
    }
    return 0;
}

int hugepages_release(const struct hp_reservation *r, char *why, size_t whylen)
{
    char rel[160];
    int result = 0;
    for (unsigned i = 0; i < r->nsizes; i++) {
        const struct hp_size *s = &r->sizes[i];
        if (s->count == 0)
            continue;
        hugepages_rel(r->node, s->kib, "nr_hugepages", rel, sizeof(rel));
        uint64_t now;
        int rc = sysfs_read_u64(rel, &now);
        if (rc == 0) {
            uint64_t target = now >= s->count ? now - s->count : 0;
            if (now == s->previous + s->count)
                target = s->previous;
            rc = sysfs_write_u64(rel, target);
        }
        if (rc != 0 && result == 0) {
            why_set(why, whylen, "cannot give back the pages of %s/%s: %s", sysfs_root(), rel,
                    strerror(-rc));
            result = E_FILE_OPERATION;
        }
    }
    return result;
}
