/* vma.c: sorted range list for the application's address space (see vma.h). */
#include "vma.h"

#include "klib.h"
#include "linux_abi.h"

#define PAGE 4096ull

static int aligned(uint64_t x)
{
    return (x & (PAGE - 1)) == 0;
}

void vms_init(struct vmspace *s, uint64_t lo, uint64_t hi, struct vma *storage, uint32_t cap)
{
    s->v = storage;
    s->n = 0;
    s->cap = cap;
    s->lo = lo;
    s->hi = hi;
    s->mapped = 0;
}

/* Index of the first range with end > addr (n if none). */
static uint32_t first_ending_after(const struct vmspace *s, uint64_t addr)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].end > addr)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int vms_is_free(const struct vmspace *s, uint64_t start, uint64_t end)
{
    if (start >= end || start < s->lo || end > s->hi)
        return 0;
    uint32_t i = first_ending_after(s, start);
    return i == s->n || s->v[i].start >= end;
}

const struct vma *vms_lookup(const struct vmspace *s, uint64_t addr)
{
    uint32_t i = first_ending_after(s, addr);
    if (i < s->n && s->v[i].start <= addr)
        return &s->v[i];
    return NULL;
}

const struct vma *vms_next(const struct vmspace *s, uint64_t addr)
{
    uint32_t i = first_ending_after(s, addr);
    return i < s->n ? &s->v[i] : NULL;
}

int vms_overlaps_kind(const struct vmspace *s, uint64_t start, uint64_t end, uint32_t kind)
{
    for (uint32_t i = first_ending_after(s, start); i < s->n && s->v[i].start < end; i++)
        if (s->v[i].kind == kind)
            return 1;
    return 0;
}

int vms_find_free_below(const struct vmspace *s, uint64_t len, uint64_t align, uint64_t top,
                        uint64_t *out)
{
    if (len == 0 || !aligned(len) || align < PAGE || (align & (align - 1)))
        return -ENOMEM;
    if (top > s->hi)
        top = s->hi;
    /* Walk the gaps from the top down. Ranges before index i end at or below top. */
    uint32_t i = first_ending_after(s, top);
    uint64_t gap_end = top;
    if (i < s->n && s->v[i].start < gap_end)
        gap_end = s->v[i].start;
    for (;;) {
        uint64_t gap_start = i > 0 ? s->v[i - 1].end : s->lo;
        if (gap_start < s->lo)
            gap_start = s->lo;
        if (gap_end > gap_start && gap_end - gap_start >= len) {
            uint64_t cand = (gap_end - len) & ~(align - 1);
            if (cand >= gap_start) {
                *out = cand;
                return 0;
            }
        }
        if (i == 0)
            return -ENOMEM;
        i--;
        gap_end = s->v[i].start;
    }
}

static int make_room(struct vmspace *s, uint32_t at, uint32_t count)
{
    if (s->n + count > s->cap)
        return -ENOMEM;
    memmove(&s->v[at + count], &s->v[at], (s->n - at) * sizeof(struct vma));
    s->n += count;
    return 0;
}

static void drop(struct vmspace *s, uint32_t at, uint32_t count)
{
    memmove(&s->v[at], &s->v[at + count], (s->n - at - count) * sizeof(struct vma));
    s->n -= count;
}

static int same_kind(const struct vma *a, uint32_t prot, uint32_t kind)
{
    return a->prot == prot && a->kind == kind;
}

int vms_insert(struct vmspace *s, uint64_t start, uint64_t end, uint32_t prot, uint32_t kind)
{
    if (!aligned(start) || !aligned(end) || !vms_is_free(s, start, end))
        return -EINVAL;
    uint32_t i = first_ending_after(s, start);
    int merge_prev = i > 0 && s->v[i - 1].end == start && same_kind(&s->v[i - 1], prot, kind);
    int merge_next = i < s->n && s->v[i].start == end && same_kind(&s->v[i], prot, kind);
    if (merge_prev && merge_next) {
        s->v[i - 1].end = s->v[i].end;
        drop(s, i, 1);
    } else if (merge_prev) {
        s->v[i - 1].end = end;
    } else if (merge_next) {
        s->v[i].start = start;
    } else {
        if (make_room(s, i, 1))
            return -ENOMEM;
        s->v[i] = (struct vma){start, end, prot, kind};
    }
    s->mapped += end - start;
    return 0;
}

int vms_remove(struct vmspace *s, uint64_t start, uint64_t end)
{
    if (start >= end)
        return 0;
    uint32_t i = first_ending_after(s, start);
    /* one range strictly containing [start, end) needs an extra entry */
    if (i < s->n && s->v[i].start < start && s->v[i].end > end) {
        if (make_room(s, i + 1, 1))
            return -ENOMEM;
        s->v[i + 1] = s->v[i];
        s->v[i].end = start;
        s->v[i + 1].start = end;
        s->mapped -= end - start;
        return 0;
    }
    while (i < s->n && s->v[i].start < end) {
        struct vma *v = &s->v[i];
        uint64_t cut_start = v->start > start ? v->start : start;
        uint64_t cut_end = v->end < end ? v->end : end;
        s->mapped -= cut_end - cut_start;
        if (cut_start == v->start && cut_end == v->end) {
            drop(s, i, 1);
            continue;
        }
        if (cut_start == v->start)
            v->start = cut_end;
        else
            v->end = cut_start;
        i++;
    }
    return 0;
}

int vms_protect(struct vmspace *s, uint64_t start, uint64_t end, uint32_t prot)
{
    if (start >= end)
        return 0;
    /* the whole range must be mapped */
    uint64_t at = start;
    uint32_t i = first_ending_after(s, start);
    uint32_t first = i;
    while (at < end) {
        if (i >= s->n || s->v[i].start > at)
            return -ENOMEM;
        at = s->v[i].end;
        i++;
    }
    /* entries needed: a split at each edge that falls inside a range */
    uint32_t extra = 0;
    if (s->v[first].start < start && s->v[first].prot != prot)
        extra++;
    if (s->v[i - 1].end > end && s->v[i - 1].prot != prot)
        extra++;
    if (s->n + extra > s->cap)
        return -ENOMEM;

    for (uint32_t k = first; k < s->n && s->v[k].start < end; k++) {
        struct vma *v = &s->v[k];
        if (v->prot == prot)
            continue;
        if (v->start < start) {
            make_room(s, k + 1, 1);
            s->v[k + 1] = s->v[k];
            s->v[k].end = start;
            s->v[k + 1].start = start;
            continue; /* the next iteration handles the upper part */
        }
        if (v->end > end) {
            make_room(s, k + 1, 1);
            s->v[k + 1] = s->v[k];
            s->v[k].end = end;
            s->v[k + 1].start = end;
        }
        s->v[k].prot = prot;
    }
    /* merge equal neighbours around the changed span */
    for (uint32_t k = first > 0 ? first - 1 : 0; k + 1 < s->n && s->v[k].start < end;) {
        if (s->v[k].end == s->v[k + 1].start &&
            same_kind(&s->v[k], s->v[k + 1].prot, s->v[k + 1].kind)) {
            s->v[k].end = s->v[k + 1].end;
            drop(s, k + 1, 1);
        } else {
            k++;
        }
    }
    return 0;
}

int vms_accessible(const struct vmspace *s, uint64_t addr, uint64_t len, uint32_t need)
{
    if (len == 0)
        return 1;
    uint64_t end;
    if (__builtin_add_overflow(addr, len, &end))
        return 0;
    uint32_t i = first_ending_after(s, addr);
    uint64_t at = addr;
    while (at < end) {
        if (i >= s->n || s->v[i].start > at || s->v[i].kind == VMA_KERNEL)
            return 0;
        uint32_t prot = s->v[i].prot;
        if ((need && prot == PROT_NONE) || ((need & PROT_WRITE) && !(prot & PROT_WRITE)))
            return 0;
        at = s->v[i].end;
        i++;
    }
    return 1;
}
