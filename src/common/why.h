/* why.h: filling a caller's "why" buffer, the way the libraries here explain a failure
 * (a NULL or empty buffer is allowed and gets nothing). */
#ifndef ALCOVE_WHY_H
#define ALCOVE_WHY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline void why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void why_set(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* The same, for a function that returns -1 on failure: return why_fail(why, len, ...). */
static inline int why_fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int why_fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

#endif
