/* fmt.c: printf-style formatting for the enclave kernel's log lines (see klib.h). */
#include "klib.h"

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, int left, char pad)
{
    int fill = width > (int)n ? width - (int)n : 0;
    if (!left)
        while (fill-- > 0)
            put(o, pad);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (left)
        while (fill-- > 0)
            put(o, ' ');
}

static size_t utoa(unsigned long long v, unsigned base, int upper, char *tmp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    /* reverse in place */
    for (size_t i = 0; i < n / 2; i++) {
        char c = tmp[i];
        tmp[i] = tmp[n - 1 - i];
        tmp[n - 1 - i] = c;
    }
    return n;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    char tmp[24];

    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        int left = 0, width = 0, prec = -1, lng = 0, alt = 0;
        char pad = ' ';
        for (; *p == '-' || *p == '0' || *p == '#'; p++) {
            if (*p == '-')
                left = 1;
            else if (*p == '#')
                alt = 1;
            else
                pad = '0';
        }
        /* '*' takes the width or precision from an int argument, as C's printf does: a
         * negative width means left-justified, a negative precision means none (the kernel
         * prints names that are not NUL-terminated with "%.*s", the length first) */
        if (*p == '*') {
            int w = va_arg(ap, int);
            if (w < 0)
                left = 1;
            width = w == INT32_MIN ? 0 : w < 0 ? -w : w;
            p++;
        } else {
            for (; *p >= '0' && *p <= '9'; p++)
                width = width * 10 + (*p - '0');
        }
        if (*p == '.') {
            prec = 0;
            p++;
            if (*p == '*') {
                int q = va_arg(ap, int);
                prec = q < 0 ? -1 : q;
                p++;
            } else {
                for (; *p >= '0' && *p <= '9'; p++)
                    prec = prec * 10 + (*p - '0');
            }
        }
        for (; *p == 'l' || *p == 'z'; p++)
            lng++;
        switch (*p) {
        case 'd':
        case 'i': {
            long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            size_t n = 0;
            if (v < 0)
                tmp[n++] = '-';
            n += utoa(mag, 10, 0, tmp + n);
            put_padded(&o, tmp, n, width, left, pad);
            break;
        }
        case 'u':
        case 'o':
        case 'x':
        case 'X': {
            unsigned long long v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            size_t n = 0;
            if (alt && *p == 'o' && v) {
                tmp[n++] = '0';
            } else if (alt && *p != 'u' && *p != 'o') {
                tmp[n++] = '0';
                tmp[n++] = 'x';
            }
            n += utoa(v, *p == 'u' ? 10 : *p == 'o' ? 8 : 16, *p == 'X', tmp + n);
            put_padded(&o, tmp, n, width, left, pad);
            break;
        }
        case 'p': {
            unsigned long long v = (unsigned long long)(uintptr_t)va_arg(ap, void *);
            tmp[0] = '0';
            tmp[1] = 'x';
            size_t n = 2 + utoa(v, 16, 0, tmp + 2);
            put_padded(&o, tmp, n, width, left, pad);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            put_padded(&o, s, n, width, left, ' ');
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(&o, &c, 1, width, left, ' ');
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case 0:
            put(&o, '%'); /* a lone '%' at the end */
            p--;
            break;
        default:
            put(&o, '%');
            put(&o, *p);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
