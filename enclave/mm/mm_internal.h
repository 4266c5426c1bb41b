/* mm_internal.h: what mm.c and image_pages.c share inside enclave/mm (not for the rest of the
 * kernel: mm.h is the boundary). Locking: the kernel lock. */
#ifndef ALCOVE_MM_INTERNAL_H
#define ALCOVE_MM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

struct mm;
struct vma;

extern struct frames g_frames; /* the application region's frames (mm.c) */

/* mm.c: frames just taken made usable (backed; zeroed when zero), given back on failure;
 * whether the application may take n more frames now (has_room), or after the image's unused
 * frames went back (may_take); mmu_unmap's release of a mapping's frames (ctx: its mm). */
int mm_prepare(uint64_t pa, uint64_t len, bool zero);
bool mm_has_room(uint64_t n);
bool mm_may_take(uint64_t n);
void mm_release_frames(void *ctx, uint64_t pa, uint64_t len);

/* image_pages.c: the image's files' frames (see there). Gives back those no mapping holds
 * (cheap when nothing was released since the last time: image_released says so). */
void image_reclaim(void);
void image_released(void);
/* v maps a file of the image. */
bool image_backed(const struct vma *v);
/* pa, mapped at va of image-backed mapping v, is the file's frame (not a copy). */
bool is_image_frame(const struct vma *v, uint64_t va, uint64_t pa);
/* Maps the untouched page at va (file offset off) of image-backed v with perm. */
int map_image_page(struct mm *mm, const struct vma *v, uint64_t va, uint64_t off, uint64_t perm);
/* The image's frames mapped in [start, end) become private copies. 0 or -ENOMEM. */
int privatize(struct mm *mm, uint64_t start, uint64_t end);

#endif
