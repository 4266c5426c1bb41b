/* syscall.h: how syscall handlers are declared.
 *
 * The table of syscalls is sys/syscalls.def (one line per syscall). A handler is written with
 * SYSCALL_DEFINEn(name, type, arg, ...), which gives it typed arguments and the uniform entry
 * point `long sys_name(long, long, long, long, long, long)` that the table points to. Handlers
 * return a result or -errno, as Linux does.
 */
#ifndef ALCOVE_SYSCALL_H
#define ALCOVE_SYSCALL_H

#include "kernel.h"

#define SC_PARAMS long a0, long a1, long a2, long a3, long a4, long a5
typedef long (*syscall_fn)(SC_PARAMS);

#define SYSCALL(nr, name, nargs) long sys_##name(SC_PARAMS);
#include "syscalls.def"
#undef SYSCALL

#define SC_IGNORE6 (void)a0, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5

#define SYSCALL_DEFINE0(name)                                                                      \
    static long impl_##name(void);                                                                 \
    long sys_##name(SC_PARAMS)                                                                     \
    {                                                                                              \
        SC_IGNORE6;                                                                                \
        return impl_##name();                                                                      \
    }                                                                                              \
    static long impl_##name(void)

#define SYSCALL_DEFINE1(name, t0, n0)                                                              \
    static long impl_##name(t0 n0);                                                                \
    long sys_##name(SC_PARAMS)                                                                     \
    {                                                                                              \
        SC_IGNORE6;                                                                                \
        return impl_##name((t0)a0);                                                                \
    }                                                                                              \
    static long impl_##name(t0 n0)

#define SYSCALL_DEFINE2(name, t0, n0, t1, n1)                                                      \
    static long impl_##name(t0 n0, t1 n1);                                                         \
    long sys_##name(SC_PARAMS)                                                                     \
    {                                                                                              \
        SC_IGNORE6;                                                                                \
        return impl_##name((t0)a0, (t1)a1);                                                        \
    }                                                                                              \
    static long impl_##name(t0 n0, t1 n1)

#define SYSCALL_DEFINE3(name, t0, n0, t1, n1, t2, n2)                                              \
    static long impl_##name(t0 n0, t1 n1, t2 n2);                                                  \
    long sys_##name(SC_PARAMS)                                                                     \
    {                                                                                              \
        SC_IGNORE6;                                                                                \
        return impl_##name((t0)a0, (t1)a1, (t2)a2);                                                \
    }                                                                                              \
    static long impl_##name(t0 n0, t1 n1, t2 n2)

#define SYSCALL_DEFINE4(name, t0, n0, t1, n1, t2, n2, t3, n3)                                      \
    static long impl_##name(t0 n0, t1 n1, t2 n2, t3 n3);                                           \
    long sys_##name(SC_PARAMS)                                                                     \
    {                                                                                              \
        SC_IGNORE6;                                                                                \
        return impl_##name((t0)a0, (t1)a1, (t2)a2, (t3)a3);                                        \
    }                                                                                              \
    static long impl_##name(t0 n0, t1 n1, t2 n2, t3 n3)

#define SYSCALL_DEFINE5(name, t0, n0, t1, n1, t2, n2, t3, n3, t4, n4)                              \
    static long impl_##name(t0 n0, t1 n1, t2 n2, t3 n3, t4 n4);                                    \
    long sys_##name(SC_PARAMS)                                                                     \
    {                                                                                              \
        SC_IGNORE6;                                                                                \
        return impl_##name((t0)a0, (t1)a1, (t2)a2, (t3)a3, (t4)a4);                                \
    }                                                                                              \
    static long impl_##name(t0 n0, t1 n1, t2 n2, t3 n3, t4 n4)

#define SYSCALL_DEFINE6(name, t0, n0, t1, n1, t2, n2, t3, n3, t4, n4, t5, n5)                      \
    static long impl_##name(t0 n0, t1 n1, t2 n2, t3 n3, t4 n4, t5 n5);                             \
    long sys_##name(SC_PARAMS)                                                                     \
    {                                                                                              \
        SC_IGNORE6;                                                                                \
        return impl_##name((t0)a0, (t1)a1, (t2)a2, (t3)a3, (t4)a4, (t5)a5);                        \
    }                                                                                              \
    static long impl_##name(t0 n0, t1 n1, t2 n2, t3 n3, t4 n4, t5 n5)

/* ---- user memory (sys/uaccess.c) ----
 * The application's pointers are checked against its address space before the kernel touches
 * them, so a bad pointer gives EFAULT, as on Linux. */
int copy_from_user(void *dst, uint64_t src, size_t len);
int copy_to_user(uint64_t dst, const void *src, size_t len);
/* Copies a NUL-terminated string of at most max bytes (including the NUL). -EFAULT or
 * -ENAMETOOLONG. */
long strncpy_from_user(char *dst, uint64_t src, size_t max);
/* True when [addr, addr+len) may be read (PROT_READ) or written (PROT_WRITE) by the kernel. */
bool user_range_ok(uint64_t addr, size_t len, uint32_t need);

#endif
