/* klib.h: the small C library of the enclave kernel (strings, formatting). */
#ifndef ALCOVE_KLIB_H
#define ALCOVE_KLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Copies at most size-1 bytes and always terminates (when size > 0). Returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);
/* The last component of path (a trailing '/' aside): what follows its last inner '/'. */
const char *kbasename(const char *path);

/* printf-style formatting: %d %i %u %x %X %p %s %c %%, with l/ll/z modifiers, width, '0' and
 '-' and '#' flags and precision for %s. Returns the length the full output would have. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
