/* vma.c: sorted range list for the application's address space (see vma.h). */
#include "vma.h"

#include <stdbool.h>

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
        if (vma_kind(&s->v[i]) == kind)
            return 1;
    return 0;
}

int vms_any_flag(const struct vmspace *s, uint64_t start, uint64_t end, uint32_t flag)
{
    for (uint32_t i = first_ending_after(s, start); i < s->n && s->v[i].start < end; i++)
        if (s->v[i].kind & flag)
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

/* a and b (a below b) can be one range: adjacent, alike, and the same file at adjacent offsets;
 * System V attachments never merge (each piece counts in shm_nattch, as on Linux) */
static int mergeable(const struct vma *a, const struct vma *b)
{
    return a->end == b->start && a->prot == b->prot && a->kind == b->kind && a->file == b->file &&
           (!a->file || a->off + (a->end - a->start) == b->off) && !(a->kind & VMA_F_SHM);
}

/* Moves v's start up to at (a split or a cut), keeping its file offset in step. */
static void set_start(struct vma *v, uint64_t at)
{
    v->off += at - v->start;
    v->start = at;
}

int vms_insert(struct vmspace *s, uint64_t start, uint64_t end, uint32_t prot, uint32_t kind)
{
    return vms_insert_file(s, start, end, prot, kind, NULL, 0);
}

int vms_insert_file(struct vmspace *s, uint64_t start, uint64_t end, uint32_t prot, uint32_t kind,
                    struct inode *file, uint64_t off)
{
    if (!aligned(start) || !aligned(end) || !vms_is_free(s, start, end))
        return -EINVAL;
    uint32_t i = first_ending_after(s, start);
    struct vma n = {start, end, prot, kind, file, file ? off : 0};
    int merge_prev = i > 0 && mergeable(&s->v[i - 1], &n);
    int merge_next = i < s->n && mergeable(&n, &s->v[i]);
    if (merge_prev && merge_next) {
        s->v[i - 1].end = s->v[i].end;
        drop(s, i, 1);
    } else if (merge_prev) {
        s->v[i - 1].end = end;
    } else if (merge_next) {
        s->v[i].start = start;
        s->v[i].off = n.off;
    } else {
        if (make_room(s, i, 1))
            return -ENOMEM;
        s->v[i] = n;
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
        set_start(&s->v[i + 1], end);
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
            set_start(v, cut_end);
        else
            v->end = cut_start;
        i++;
    }
    return 0;
}

/* What [start, end) becomes: its protection (keep_prot: unchanged) and flags set and cleared. */
struct change {
    uint32_t prot;
    bool keep_prot;
    uint32_t set, clear;
};

static struct vma changed(const struct vma *v, const struct change *c)
{
    struct vma n = *v;
    if (!c->keep_prot)
        n.prot = c->prot;
    n.kind = (n.kind | c->set) & ~c->clear;
    return n;
}

static bool changes(const struct vma *v, const struct change *c)
{
    struct vma n = changed(v, c);
    return n.prot != v->prot || n.kind != v->kind;
}

static int apply(struct vmspace *s, uint64_t start, uint64_t end, const struct change *c)
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
    if (s->v[first].start < start && changes(&s->v[first], c))
        extra++;
    if (s->v[i - 1].end > end && changes(&s->v[i - 1], c))
        extra++;
    if (s->n + extra > s->cap)
        return -ENOMEM;

    for (uint32_t k = first; k < s->n && s->v[k].start < end; k++) {
        struct vma *v = &s->v[k];
        if (!changes(v, c))
            continue;
        if (v->start < start) {
            make_room(s, k + 1, 1);
            s->v[k + 1] = s->v[k];
            s->v[k].end = start;
            set_start(&s->v[k + 1], start);
            continue; /* the next iteration handles the upper part */
        }
        if (v->end > end) {
            make_room(s, k + 1, 1);
            s->v[k + 1] = s->v[k];
            s->v[k].end = end;
            set_start(&s->v[k + 1], end);
        }
        s->v[k] = changed(&s->v[k], c);
    }
    /* merge equal neighbours around the changed span */
    for (uint32_t k = first > 0 ? first - 1 : 0; k + 1 < s->n && s->v[k].start < end;) {
        if (mergeable(&s->v[k], &s->v[k + 1])) {
            s->v[k].end = s->v[k + 1].end;
            drop(s, k + 1, 1);
        } else {
            k++;
        }
    }
    return 0;
}

int vms_protect(struct vmspace *s, uint64_t start, uint64_t end, uint32_t prot)
{
    return apply(s, start, end, &(struct change){.prot = prot});
}

int vms_set_flags(struct vmspace *s, uint64_t start, uint64_t end, uint32_t set, uint32_t clear)
{
    return apply(s, start, end, &(struct change){.keep_prot = true, .set = set, .clear = clear});
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
        if (i >= s->n || s->v[i].start > at || vma_kind(&s->v[i]) == VMA_KERNEL)
            return 0;
        uint32_t prot = s->v[i].prot;
        if ((need && prot == PROT_NONE) || ((need & PROT_WRITE) && !(prot & PROT_WRITE)))
            return 0;
        at = s->v[i].end;
        i++;
    }
    return 1;
}
