/* cpulist.c: CPU sets and the cpulist text form (see cpulist.h). The parser reads sysfs files
 * and the user's cpu_pool, so it checks every byte: digits, one '-' per item, ranges in order,
 * numbers below CPUS_MAX, no empty items between commas. */
#include "allocator/cpulist.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "common/why.h"

void cpuset_clear(struct cpuset *s)
{
    memset(s, 0, sizeof(*s));
}

void cpuset_add(struct cpuset *s, unsigned cpu)
{
    if (cpu < CPUS_MAX)
        s->bits[cpu / 64] |= 1ull << (cpu % 64);
}

void cpuset_del(struct cpuset *s, unsigned cpu)
{
    if (cpu < CPUS_MAX)
        s->bits[cpu / 64] &= ~(1ull << (cpu % 64));
}

bool cpuset_has(const struct cpuset *s, unsigned cpu)
{
    return cpu < CPUS_MAX && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned cpuset_count(const struct cpuset *s)
{
    unsigned n = 0;
    for (size_t i = 0; i < CPUS_MAX / 64; i++)
        n += (unsigned)__builtin_popcountll(s->bits[i]);
    return n;
}

bool cpuset_empty(const struct cpuset *s)
{
    return cpuset_next(s, 0) < 0;
}

int cpuset_next(const struct cpuset *s, unsigned from)
{
    for (unsigned w = from / 64; w < CPUS_MAX / 64; w++) {
        uint64_t bits = s->bits[w];
        if (w == from / 64)
            bits &= ~0ull << (from % 64);
        if (bits)
            return (int)(w * 64 + (unsigned)__builtin_ctzll(bits));
    }
    return -1;
}

void cpuset_or(struct cpuset *a, const struct cpuset *b)
{
    for (size_t i = 0; i < CPUS_MAX / 64; i++)
        a->bits[i] |= b->bits[i];
}

void cpuset_andnot(struct cpuset *a, const struct cpuset *b)
{
    for (size_t i = 0; i < CPUS_MAX / 64; i++)
        a->bits[i] &= ~b->bits[i];
}

bool cpuset_subset(const struct cpuset *a, const struct cpuset *b)
{
    for (size_t i = 0; i < CPUS_MAX / 64; i++)
        if (a->bits[i] & ~b->bits[i])
            return false;
    return true;
}

bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b)
{
    for (size_t i = 0; i < CPUS_MAX / 64; i++)
        if (a->bits[i] & b->bits[i])
            return true;
    return false;
}

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
    return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

/* Reads a decimal CPU number at text[*i]; 0 or -1 (no digit, or too large). */
static int number(const char *text, size_t len, size_t *i, unsigned *out)
{
    size_t start = *i;
    unsigned long v = 0;
    while (*i < len && text[*i] >= '0' && text[*i] <= '9') {
        v = v * 10 + (unsigned long)(text[*i] - '0');
        if (v >= CPUS_MAX)
            return -1;
        (*i)++;
    }
    if (*i == start)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

int cpulist_parse(const char *text, size_t len, struct cpuset *out, char *why, size_t whylen)
{
    cpuset_clear(out);
    while (len > 0 && (text[len - 1] == '\n' || blank(text[len - 1])))
        len--;
    size_t i = 0;
    while (i < len && blank(text[i]))
        i++;
    if (i == len)
        return 0;
    for (;;) {
        size_t item = i;
        unsigned lo, hi;
        if (number(text, len, &i, &lo) != 0)
            goto bad;
        hi = lo;
        if (i < len && text[i] == '-') {
            i++;
            if (number(text, len, &i, &hi) != 0 || hi < lo)
                goto bad;
        }
        for (unsigned c = lo; c <= hi; c++)
            cpuset_add(out, c);
        while (i < len && blank(text[i]))
            i++;
        if (i == len)
            return 0;
        if (text[i] != ',')
            goto bad;
        i++;
        while (i < len && blank(text[i]))
            i++;
        continue;
    bad : {
        size_t end = item;
        while (end < len && text[end] != ',')
            end++;
        why_set(why, whylen,
                "'%.*s' is not a CPU number or range a-b (a <= b, CPUs 0 to %u): a cpulist is like "
                "\"2,3,6-9\"",
                (int)(end - item > 40 ? 40 : end - item), text + item, CPUS_MAX - 1);
        cpuset_clear(out);
        return -1;
    }
    }
}

int cpulist_format(const struct cpuset *s, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return -1;
    buf[0] = 0;
    int c = cpuset_next(s, 0);
    while (c >= 0) {
        int end = c;
        while (end + 1 < (int)CPUS_MAX && cpuset_has(s, (unsigned)end + 1))
            end++;
        int n = end == c ? snprintf(buf + used, size - used, "%s%d", used ? "," : "", c)
                         : snprintf(buf + used, size - used, "%s%d-%d", used ? "," : "", c, end);
        if (n < 0 || (size_t)n >= size - used)
            return -1;
        used += (size_t)n;
        c = end + 1 < (int)CPUS_MAX ? cpuset_next(s, (unsigned)end + 1) : -1;
    }
    return 0;
}
