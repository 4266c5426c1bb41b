/* frame.h: the physical memory of the application region, in 4 KiB frames.
 *
 * Every page an address space maps and every piece the kernel heap grows by is a frame taken
 * here; virtual addresses are the address spaces' business (mm.h). The allocator keeps one bit
 * per frame (used) and one more (dirty: handed out before, so it must be zeroed before it is
 * handed out again), and the number of used frames in each 2 MiB chunk, so that:
 * - a 2 MiB page for an application takes an empty chunk, lowest first;
 * - a single frame comes from a chunk that is in use already (the one used last, else the
 *   lowest), keeping empty chunks whole for 2 MiB pages;
 * - the kernel's contiguous runs come from the top down, away from both.
 *
 * A frame that several address spaces map (MAP_SHARED after fork) counts its extra references;
 * it is free again when the last goes.
 *
 * Pure code, with no knowledge of page tables or the host: the caller backs (ALC_HC_POPULATE)
 * and zeroes what it takes (frames_clean says which parts were used before). Unit tested on the
 * host (tests/unit/test_frame.c). Locking: the caller's (the kernel lock).
 */
#ifndef ALCOVE_FRAME_H
#define ALCOVE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_SIZE       4096ull
#define FRAME_CHUNK      (2ull << 20)
#define FRAMES_PER_CHUNK 512u

struct frames {
    uint64_t base;    /* physical address of frame 0 (2 MiB aligned) */
    uint64_t nchunks; /* 2 MiB chunks covered */
    uint64_t *used;   /* one bit per frame */
    uint64_t *dirty;  /* one bit per frame */
    uint16_t *inuse;  /* used frames per chunk */
    uint16_t *refs;   /* per frame: references beyond the first (a page shared by mappings) */
    uint64_t total;   /* frames that can be handed out */
    uint64_t nfree;   /* of which free now */
    uint64_t hint;    /* the chunk single frames came from last */
};

/* Bytes of storage frames_init needs for [lo, hi). */
size_t frames_storage(uint64_t lo, uint64_t hi);
/* Manages the frames of [lo, hi) (4 KiB aligned), all free and clean, with storage of
 * frames_storage(lo, hi) bytes (zeroed by the caller). */
void frames_init(struct frames *f, uint64_t lo, uint64_t hi, void *storage);

/* One frame: 0 and *pa, or -ENOMEM. */
int frames_alloc_page(struct frames *f, uint64_t *pa);
/* A whole 2 MiB chunk (2 MiB aligned): 0 and *pa, or -ENOMEM. */
int frames_alloc_chunk(struct frames *f, uint64_t *pa);
/* n contiguous frames, as high as they fit (whole chunks for a multiple of 512): 0 and *pa, or
 * -ENOMEM. */
int frames_alloc_run(struct frames *f, uint64_t n, uint64_t *pa);
/* Gives back n frames from pa, which were taken (a run may be given back in parts); a frame
 * with more references loses one instead. */
void frames_free(struct frames *f, uint64_t pa, uint64_t n);
/* One more reference to each of the n taken frames from pa (a shared mapping in one more
 * address space): frames_free must be called once more for them. 0, or -ENOMEM when a count
 * would overflow (nothing changed). */
int frames_ref(struct frames *f, uint64_t pa, uint64_t n);

/* For the taken frames [pa, pa + n pages): calls zero(ctx, at, len) for every run of them that
 * was handed out before, and marks them all as handed out. */
void frames_clean(struct frames *f, uint64_t pa, uint64_t n,
                  void (*zero)(void *ctx, uint64_t pa, uint64_t len), void *ctx);

/* True when the frame at pa is taken. */
bool frames_is_used(const struct frames *f, uint64_t pa);
/* The references to the taken frame at pa beyond the first. */
uint16_t frames_extra_refs(const struct frames *f, uint64_t pa);

#endif
