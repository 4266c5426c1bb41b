/* show.h: how the differential test programs print a call's result, the same way on Linux and in
 * an enclave and with either libc: an errno by its name (strerror's text differs between musl and
 * glibc), a success as "ok" or as the value returned; or a check as a PASS/FAIL line, counted in
 * failures (the program's exit status). */
#ifndef TESTS_SHOW_H
#define TESTS_SHOW_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline const char *errno_name(int e)
{
    static const struct {
        int e;
        const char *name;
    } names[] = {
        {EPERM, "EPERM"},   {ENOENT, "ENOENT"}, {EINTR, "EINTR"},   {EBADF, "EBADF"},
        {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"},
        {EBUSY, "EBUSY"},   {EEXIST, "EEXIST"}, {EINVAL, "EINVAL"}, {EMFILE, "EMFILE"},
        {EFBIG, "EFBIG"},   {ENOSPC, "ENOSPC"}, {ERANGE, "ERANGE"}, {E2BIG, "E2BIG"},
        {ENOSYS, "ENOSYS"}, {ENOMSG, "ENOMSG"}, {EIDRM, "EIDRM"},   {EOPNOTSUPP, "EOPNOTSUPP"},
        {EIO, "EIO"},       {ENOTTY, "ENOTTY"}, {ENXIO, "ENXIO"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].e == e)
            return names[i].name;
    return strerror(e);
}

/* "what: ok" or "what: ENAME" (for calls that return -1 and set errno) */
#define SHOW_OK(what, expr)                                                                        \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(expr);                                                                    \
        printf("%s: %s\n", what, r_ == -1 ? errno_name(errno) : "ok");                             \
    } while (0)

/* "what: VALUE" or "what: ENAME" */
#define SHOW(what, expr)                                                                           \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(expr);                                                                    \
        if (r_ == -1)                                                                              \
            printf("%s: %s\n", what, errno_name(errno));                                           \
        else                                                                                       \
            printf("%s: %ld\n", what, r_);                                                         \
    } while (0)

/* the checks that failed so far */
static int failures __attribute__((unused));

/* "PASS what" or "FAIL what", flushed (a child forked next must not print it again) */
static inline void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "PASS" : "FAIL", what);
    fflush(stdout);
    failures += !ok;
}

/* A system call without the C library's wrapper: its result, or -errno (the errors must be
 * the kernel's, not a libc's). */
static inline long raw(long nr, long a, long b, long c, long d, long e, long f)
{
    long r = syscall(nr, a, b, c, d, e, f);
    return r == -1 ? -errno : r;
}

#endif
