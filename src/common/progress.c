/* progress.c: a one-line progress reporter on stderr, shown only when stderr is a terminal. */
#include "common/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_INTERVAL_NS 200000000ull /* at most five redraws a second */
#define MIB                  (1024.0 * 1024.0)

struct progress {
    char *what;
    uint64_t total, done;
    uint64_t last_ns; /* when the line was last drawn; 0 = never */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void draw(struct progress *p)
{
    if (p->total) {
        uint64_t done = p->done > p->total ? p->total : p->done;
        unsigned pct = (unsigned)(done * 100 / p->total);
        fprintf(stderr, "\r%s: %.1f MiB / %.1f MiB (%u%%)\033[K", p->what, (double)p->done / MIB,
                (double)p->total / MIB, pct);
    } else {
        fprintf(stderr, "\r%s: %.1f MiB\033[K", p->what, (double)p->done / MIB);
    }
    fflush(stderr);
}

struct progress *progress_start(const char *what, uint64_t total)
{
    if (!isatty(STDERR_FILENO))
        return NULL;
    struct progress *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->what = strdup(what ? what : "");
    if (!p->what) {
        free(p);
        return NULL;
    }
    p->total = total;
    draw(p);
    p->last_ns = now_ns();
    return p;
}

static void maybe_draw(struct progress *p)
{
    uint64_t t = now_ns();
    if (t - p->last_ns < PROGRESS_INTERVAL_NS)
        return;
    draw(p);
    p->last_ns = t;
}

void progress_update(struct progress *p, uint64_t done)
{
    if (!p)
        return;
    p->done = done;
    maybe_draw(p);
}

void progress_add(struct progress *p, uint64_t delta)
{
    if (!p)
        return;
    p->done += delta;
    maybe_draw(p);
}

void progress_end(struct progress *p)
{
    if (!p)
        return;
    draw(p);
    fputc('\n', stderr);
    fflush(stderr);
    free(p->what);
    free(p);
}
