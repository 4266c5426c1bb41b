/* frame.c: the application region's physical frames (see frame.h). */
#include "frame.h"

#include "linux_abi.h"

static uint64_t frame_of(const struct frames *f, uint64_t pa)
{
    return (pa - f->base) / FRAME_SIZE;
}

static bool bit(const uint64_t *map, uint64_t i)
{
    return (map[i / 64] >> (i % 64)) & 1;
}

static void set_used(struct frames *f, uint64_t i, bool on)
{
    if (on)
        f->used[i / 64] |= 1ull << (i % 64);
    else
        f->used[i / 64] &= ~(1ull << (i % 64));
    uint64_t c = i / FRAMES_PER_CHUNK;
    f->inuse[c] = (uint16_t)(on ? f->inuse[c] + 1 : f->inuse[c] - 1);
}

/* Marks n frames from frame i used (they are free). */
static void take(struct frames *f, uint64_t i, uint64_t n)
{
    for (uint64_t k = i; k < i + n; k++)
        set_used(f, k, true);
    f->nfree -= n;
}

size_t frames_storage(uint64_t lo, uint64_t hi)
{
    uint64_t nchunks = (hi - (lo & ~(FRAME_CHUNK - 1)) + FRAME_CHUNK - 1) / FRAME_CHUNK;
    return (size_t)(2 * nchunks * (FRAMES_PER_CHUNK / 8) + nchunks * sizeof(uint16_t) +
                    nchunks * FRAMES_PER_CHUNK * sizeof(uint16_t));
}

void frames_init(struct frames *f, uint64_t lo, uint64_t hi, void *storage)
{
    f->base = lo & ~(FRAME_CHUNK - 1);
    f->nchunks = (hi - f->base + FRAME_CHUNK - 1) / FRAME_CHUNK;
    uint64_t words = f->nchunks * FRAMES_PER_CHUNK / 64;
    f->used = storage;
    f->dirty = f->used + words;
    f->inuse = (uint16_t *)(f->dirty + words);
    f->refs = f->inuse + f->nchunks;
    f->hint = 0;
    uint64_t n = f->nchunks * FRAMES_PER_CHUNK;
    f->nfree = n;
    /* what lies outside [lo, hi) is never handed out */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pa = f->base + i * FRAME_SIZE;
        if (pa < lo || pa + FRAME_SIZE > hi)
            take(f, i, 1);
    }
    f->total = f->nfree;
}

int frames_alloc_page(struct frames *f, uint64_t *pa)
{
    uint64_t c = f->hint;
    if (c >= f->nchunks || f->inuse[c] == 0 || f->inuse[c] == FRAMES_PER_CHUNK) {
        /* the lowest chunk in use with room, else the lowest empty one */
        uint64_t empty = f->nchunks;
        for (c = 0; c < f->nchunks; c++) {
            if (f->inuse[c] && f->inuse[c] < FRAMES_PER_CHUNK)
                break;
            if (!f->inuse[c] && empty == f->nchunks)
                empty = c;
        }
        if (c == f->nchunks)
            c = empty;
        if (c == f->nchunks)
            return -ENOMEM;
    }
    f->hint = c;
    for (uint64_t w = c * FRAMES_PER_CHUNK / 64; w < (c + 1) * FRAMES_PER_CHUNK / 64; w++) {
        if (f->used[w] != ~0ull) {
            uint64_t i = w * 64 + (uint64_t)__builtin_ctzll(~f->used[w]);
            take(f, i, 1);
            *pa = f->base + i * FRAME_SIZE;
            return 0;
        }
    }
    return -ENOMEM; /* not reached: inuse said there was room */
}

int frames_alloc_chunk(struct frames *f, uint64_t *pa)
{
    for (uint64_t c = 0; c < f->nchunks; c++) {
        if (f->inuse[c] == 0) {
            take(f, c * FRAMES_PER_CHUNK, FRAMES_PER_CHUNK);
            *pa = f->base + c * FRAME_CHUNK;
            return 0;
        }
    }
    return -ENOMEM;
}

int frames_alloc_run(struct frames *f, uint64_t n, uint64_t *pa)
{
    if (n == 0 || n > f->nfree)
        return -ENOMEM;
    uint64_t total = f->nchunks * FRAMES_PER_CHUNK;
    if (n % FRAMES_PER_CHUNK == 0) {
        /* whole empty chunks, the highest run */
        uint64_t want = n / FRAMES_PER_CHUNK, run = 0;
        for (uint64_t c = f->nchunks; c-- > 0;) {
            run = f->inuse[c] ? 0 : run + 1;
            if (run == want) {
                take(f, c * FRAMES_PER_CHUNK, n);
                *pa = f->base + c * FRAME_CHUNK;
                return 0;
            }
        }
        return -ENOMEM;
    }
    uint64_t run = 0;
    for (uint64_t i = total; i-- > 0;) {
        if (i % 64 == 63 && f->used[i / 64] == ~0ull) {
            run = 0;
            i -= 63;
            continue;
        }
        run = bit(f->used, i) ? 0 : run + 1;
        if (run == n) {
            take(f, i, n);
            *pa = f->base + i * FRAME_SIZE;
            return 0;
        }
    }
    return -ENOMEM;
}

void frames_free(struct frames *f, uint64_t pa, uint64_t n)
{
    for (uint64_t i = frame_of(f, pa); n > 0; i++, n--) {
        if (!bit(f->used, i))
            continue; /* never taken: the caller's bug, but not a reason to corrupt counts */
        if (f->refs[i]) {
            f->refs[i]--; /* another mapping still has it */
            continue;
        }
        set_used(f, i, false);
        f->nfree++;
    }
}

int frames_ref(struct frames *f, uint64_t pa, uint64_t n)
{
    uint64_t first = frame_of(f, pa);
    for (uint64_t i = first; i < first + n; i++)
        if (f->refs[i] == UINT16_MAX)
            return -ENOMEM;
    for (uint64_t i = first; i < first + n; i++)
        f->refs[i]++;
    return 0;
}

void frames_clean(struct frames *f, uint64_t pa, uint64_t n,
                  void (*zero)(void *ctx, uint64_t pa, uint64_t len), void *ctx)
{
    uint64_t i = frame_of(f, pa), end = i + n;
    while (i < end) {
        if (!bit(f->dirty, i)) {
            f->dirty[i / 64] |= 1ull << (i % 64);
            i++;
            continue;
        }
        uint64_t run = i;
        while (run < end && bit(f->dirty, run))
            run++;
        zero(ctx, f->base + i * FRAME_SIZE, (run - i) * FRAME_SIZE);
        i = run;
    }
}

bool frames_is_used(const struct frames *f, uint64_t pa)
{
    return pa >= f->base && pa < f->base + f->nchunks * FRAME_CHUNK &&
           bit(f->used, frame_of(f, pa));
}

uint16_t frames_extra_refs(const struct frames *f, uint64_t pa)
{
    return f->refs[frame_of(f, pa)];
}
