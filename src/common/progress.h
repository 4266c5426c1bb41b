/* progress.h: progress of long operations (hashing a large rootfs, importing layers), shown on
 * stderr only when it is a terminal, at most a few times a second. */
#ifndef ALCOVE_PROGRESS_H
#define ALCOVE_PROGRESS_H

#include <stdint.h>

struct progress;

/* NULL when stderr is not a terminal (then every call below does nothing with it). */
struct progress *progress_start(const char *what, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_add(struct progress *p, uint64_t delta);
void progress_end(struct progress *p);

#endif
