/* syscalls.c: the syscalls a static program uses at start-up and for plain I/O, with their
 * error cases. Prints PASS/FAIL lines only, so a native run and an enclave run must agree. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include "show.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* a raw syscall's -errno, bypassing the C library's wrappers */
static void test_fds(void)
{
    errno = 0;
    const char *volatile null_buf = NULL; /* hide it from the compiler's checks */
    check(write(1, null_buf, 1) == -1 && errno == EFAULT, "write from NULL is EFAULT");
    errno = 0;
    check(write(99, "x", 1) == -1 && errno == EBADF, "write to a closed fd is EBADF");
    char c;
    errno = 0;
    check(read(99, &c, 1) == -1 && errno == EBADF, "read from a closed fd is EBADF");
    errno = 0;
    check(close(99) == -1 && errno == EBADF, "close of a closed fd is EBADF");
    check(write(1, "", 0) == 0, "write of 0 bytes returns 0");
    int d = dup(1);
    check(d >= 3, "dup gives a new descriptor");
    check(write(d, "via dup\n", 8) == 8, "write through the dup");
    check(close(d) == 0, "close the dup");
    errno = 0;
    check(write(d, "x", 1) == -1 && errno == EBADF, "the closed dup is EBADF");
    check(dup2(1, 10) == 10, "dup2 to 10");
    check(dup2(10, 10) == 10, "dup2 onto itself");
    errno = 0;
    check(dup3(10, 10, 0) == -1 && errno == EINVAL, "dup3 onto itself is EINVAL");
    check(raw(SYS_dup3, 1, 11, 0x1, 0, 0, 0) == -EINVAL, "dup3 with bad flags is EINVAL");
    check(fcntl(10, F_GETFD) == 0, "F_GETFD of a fresh dup is 0");
    check(fcntl(10, F_SETFD, FD_CLOEXEC) == 0 && fcntl(10, F_GETFD) == FD_CLOEXEC,
          "F_SETFD/F_GETFD FD_CLOEXEC");
    check(fcntl(10, F_DUPFD, 20) == 20, "F_DUPFD from 20");
    check((fcntl(1, F_GETFL) & O_ACCMODE) != O_RDONLY, "stdout is writable");
    errno = 0;
    check(fcntl(99, F_GETFD) == -1 && errno == EBADF, "fcntl on a closed fd is EBADF");
    close(10);
    close(20);
    struct termios t;
    errno = 0;
    check(ioctl(1, TCGETS, &t) == -1 && errno == ENOTTY, "TCGETS on stdout is ENOTTY");
    struct winsize ws;
    errno = 0;
    check(ioctl(1, TIOCGWINSZ, &ws) == -1 && errno == ENOTTY, "TIOCGWINSZ is ENOTTY");
    const char a[] = "iov-a ", b[] = "iov-b\n";
    struct iovec iov[2] = {{(void *)a, 6}, {(void *)b, 6}};
    check(writev(1, iov, 2) == 12, "writev of two buffers");
    volatile int negative = -1;
    errno = 0;
    check(writev(1, iov, negative) == -1 && errno == EINVAL,
          "writev with a negative count is EINVAL");
}

static void test_memory(void)
{
    /* raw brk: musl's sbrk only answers sbrk(0) */
    long b0 = raw(SYS_brk, 0, 0, 0, 0, 0, 0);
    check(b0 > 0, "brk(0) gives the current break");
    check(raw(SYS_brk, b0 + (1 << 20), 0, 0, 0, 0, 0) == b0 + (1 << 20), "brk grows the heap");
    memset((void *)b0, 0x5a, 1 << 20);
    check(raw(SYS_brk, b0, 0, 0, 0, 0, 0) == b0, "brk shrinks it back");
    check(raw(SYS_brk, 1, 0, 0, 0, 0, 0) == b0, "brk below the start is refused");

    size_t len = 3 << 20;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(p != MAP_FAILED && ((uintptr_t)p & 4095) == 0, "anonymous mmap is page aligned");
    int zero = 1;
    for (size_t i = 0; i < len; i += 4096)
        zero &= p[i] == 0;
    check(zero, "fresh anonymous memory is zero");
    memset(p, 0xab, len);
    check(munmap(p + 4096, 4096) == 0, "munmap of one page inside a mapping");
    check(munmap(p, len) == 0, "munmap of the rest");
    unsigned char *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    zero = 1;
    for (size_t i = 0; i < len; i += 512)
        zero &= q[i] == 0;
    check(zero, "memory mapped again is zero");
    errno = 0;
    check(munmap(q + 1, 4096) == -1 && errno == EINVAL, "munmap of an unaligned address");
    errno = 0;
    check(munmap(q, 0) == -1 && errno == EINVAL, "munmap of 0 bytes is EINVAL");
    errno = 0;
    check(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
              errno == EINVAL,
          "mmap of 0 bytes is EINVAL");
    errno = 0;
    check(mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL,
          "mmap without MAP_PRIVATE or MAP_SHARED is EINVAL");
    errno = 0;
    check(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0) == MAP_FAILED && errno == EBADF,
          "mmap of fd -1 without MAP_ANONYMOUS is EBADF");
    errno = 0;
    check(mmap(q, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
                  MAP_FAILED &&
              errno == EEXIST,
          "MAP_FIXED_NOREPLACE over a mapping is EEXIST");
    check(mmap(q, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
              q,
          "MAP_FIXED over a mapping replaces it");
    check(mprotect(q, 4096, PROT_READ) == 0, "mprotect to read-only");
    check(raw(SYS_mprotect, (long)(q + 1), 4096, PROT_READ, 0, 0, 0) == -EINVAL,
          "mprotect of an unaligned address is EINVAL");
    check(raw(SYS_mprotect, (long)q, 4096, 0x80, 0, 0, 0) == -EINVAL,
          "mprotect with unknown bits is EINVAL");
    memset(q + 4096, 7, 4096);
    unsigned char *r = mremap(q + 4096, 4096, 8 << 20, MREMAP_MAYMOVE);
    check(r != MAP_FAILED && r[0] == 7 && r[4095] == 7 && r[(8 << 20) - 1] == 0,
          "mremap grows a mapping and keeps its contents");
    check(munmap(r, 8 << 20) == 0, "munmap the moved mapping");
    check(munmap(q, len) == 0, "munmap what is left");
    void *big = malloc(24 << 20);
    check(big != NULL, "malloc of 24 MiB");
    free(big);
}

static void test_process(void)
{
    struct utsname u;
    check(uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0,
          "uname is Linux on x86_64");
    check(getpid() == (pid_t)syscall(SYS_gettid), "getpid equals gettid in one thread");
    check(getuid() == geteuid() && getgid() == getegid(), "real and effective ids agree");
    uint64_t fs = 0;
    check(raw(SYS_arch_prctl, 0x1003, (long)&fs, 0, 0, 0, 0) == 0 && fs != 0,
          "ARCH_GET_FS gives the TLS base");
    uint64_t self;
    __asm__("mov %%fs:0, %0" : "=r"(self));
    check(self == fs, "the TLS base points to the thread's own block");
    check(raw(SYS_arch_prctl, 0x9999, 0, 0, 0, 0, 0) == -EINVAL, "bad arch_prctl code is EINVAL");
    struct rlimit rl;
    check(getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur > 0, "RLIMIT_STACK is set");
    check(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 64, "RLIMIT_NOFILE is set");
    check(raw(SYS_prlimit64, 0, 999, 0, (long)&rl, 0, 0) == -EINVAL,
          "prlimit64 of an unknown resource is EINVAL");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    check(n > 0, "readlink /proc/self/exe");
    exe[n > 0 ? n : 0] = 0;
    check(strstr(basename(exe), "syscalls") != NULL, "/proc/self/exe names this program");
    check(raw(SYS_readlink, (long)"/proc/self/exe", (long)exe, 0, 0, 0, 0) == -EINVAL,
          "readlink into 0 bytes is EINVAL");
    cpu_set_t set;
    CPU_ZERO(&set);
    check(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 1,
          "sched_getaffinity gives at least one CPU");
    check(sched_yield() == 0, "sched_yield");
    /* no children: the wait family checks its flags, then says ECHILD */
    int st = 12345;
    check(raw(SYS_wait4, -1, (long)&st, 0, 0, 0, 0) == -ECHILD && st == 12345,
          "wait4(-1) without children is ECHILD, the status untouched");
    check(raw(SYS_wait4, -1, (long)&st, WNOHANG, 0, 0, 0) == -ECHILD,
          "wait4 with WNOHANG without children is ECHILD");
    check(raw(SYS_wait4, getpid(), 0, 0, 0, 0, 0) == -ECHILD, "wait4 of itself is ECHILD");
    check(raw(SYS_wait4, -1, 0, 0x100, 0, 0, 0) == -EINVAL, "wait4 with an unknown flag is EINVAL");
    siginfo_t si;
    check(raw(SYS_waitid, P_ALL, 0, (long)&si, WEXITED, 0, 0) == -ECHILD,
          "waitid(P_ALL, WEXITED) without children is ECHILD");
    check(raw(SYS_waitid, P_ALL, 0, (long)&si, WNOHANG, 0, 0) == -EINVAL,
          "waitid without WEXITED, WSTOPPED or WCONTINUED is EINVAL");
    check(raw(SYS_waitid, 9, 0, (long)&si, WEXITED, 0, 0) == -EINVAL,
          "waitid of an unknown id type is EINVAL");
    check(raw(SYS_waitid, P_PID, 0, (long)&si, WEXITED, 0, 0) == -EINVAL,
          "waitid(P_PID, 0) is EINVAL");
}

static void on_usr1(int sig)
{
    (void)sig;
}

static void test_signals(void)
{
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_usr1;
    check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction installs a handler");
    check(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == on_usr1,
          "sigaction reads it back");
    errno = 0;
    check(sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL, "SIGKILL cannot be caught");
    errno = 0;
    check(raw(SYS_rt_sigaction, 0, 0, 0, 8, 0, 0) == -EINVAL, "signal 0 is EINVAL");
    check(raw(SYS_rt_sigaction, SIGUSR1, 0, 0, 4, 0, 0) == -EINVAL, "a bad sigset size is EINVAL");
    sigset_t s, o;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    check(sigprocmask(SIG_BLOCK, &s, NULL) == 0, "block SIGUSR2");
    check(sigprocmask(SIG_BLOCK, NULL, &o) == 0 && sigismember(&o, SIGUSR2), "the mask has it");
    check(sigprocmask(SIG_UNBLOCK, &s, &o) == 0, "unblock SIGUSR2");
    check(raw(SYS_rt_sigprocmask, 99, (long)&s, 0, 8, 0, 0) == -EINVAL, "bad 'how' is EINVAL");
}

/* what CPython's own tests asked of the scheduler, the clocks and files (scripts/cpython-tests.sh)
 */
static void test_queries(void)
{
    struct sched_param sp = {.sched_priority = 7};
    /* raw: musl's wrappers of these two are ENOSYS by design */
    check(raw(SYS_sched_getscheduler, 0, 0, 0, 0, 0, 0) == SCHED_OTHER,
          "sched_getscheduler: SCHED_OTHER");
    check(raw(SYS_sched_getparam, 0, (long)&sp, 0, 0, 0, 0) == 0 && sp.sched_priority == 0,
          "sched_getparam: priority 0");
    check(raw(SYS_sched_getscheduler, -1, 0, 0, 0, 0, 0) == -EINVAL, "a negative pid is EINVAL");
    check(raw(SYS_sched_getscheduler, 4000000, 0, 0, 0, 0, 0) == -ESRCH, "no such pid is ESRCH");
    check(raw(SYS_sched_getparam, 0, 0, 0, 0, 0, 0) == -EINVAL, "sched_getparam(NULL) is EINVAL");
    check(sched_get_priority_min(SCHED_FIFO) == 1 && sched_get_priority_max(SCHED_FIFO) == 99 &&
              sched_get_priority_min(SCHED_RR) == 1 && sched_get_priority_max(SCHED_RR) == 99,
          "real-time priorities 1-99");
    check(sched_get_priority_min(SCHED_OTHER) == 0 && sched_get_priority_max(SCHED_OTHER) == 0 &&
              sched_get_priority_max(SCHED_BATCH) == 0 && sched_get_priority_max(SCHED_IDLE) == 0,
          "other policies: priority 0");
    check(raw(SYS_sched_get_priority_max, 42, 0, 0, 0, 0, 0) == -EINVAL, "unknown policy: EINVAL");
    sp.sched_priority = 0;
    check(raw(SYS_sched_setscheduler, 0, SCHED_OTHER, (long)&sp, 0, 0, 0) == 0,
          "sched_setscheduler: SCHED_OTHER at priority 0");
    check(raw(SYS_sched_setparam, 0, (long)&sp, 0, 0, 0, 0) == 0, "sched_setparam: priority 0");
    sp.sched_priority = 5;
    check(raw(SYS_sched_setparam, 0, (long)&sp, 0, 0, 0, 0) == -EINVAL,
          "sched_setparam: priority 5 under SCHED_OTHER is EINVAL");
    check(raw(SYS_sched_setscheduler, 0, 42, (long)&sp, 0, 0, 0) == -EINVAL,
          "sched_setscheduler of an unknown policy is EINVAL");
    check(raw(SYS_sched_setscheduler, -1, SCHED_OTHER, (long)&sp, 0, 0, 0) == -EINVAL,
          "sched_setscheduler of pid -1 is EINVAL");
    check(raw(SYS_sched_setparam, 0, 0, 0, 0, 0, 0) == -EINVAL, "sched_setparam(NULL) is EINVAL");
    struct timespec ts = {0, 0};
    check(sched_rr_get_interval(0, &ts) == 0 && ts.tv_sec >= 0 && ts.tv_nsec >= 0,
          "sched_rr_get_interval");
    struct timespec bad = {0, 2000000000L};
    check(raw(SYS_clock_settime, CLOCK_MONOTONIC, (long)&ts, 0, 0, 0, 0) == -EINVAL,
          "clock_settime of CLOCK_MONOTONIC is EINVAL");
    check(raw(SYS_clock_settime, CLOCK_REALTIME, (long)&bad, 0, 0, 0, 0) == -EINVAL,
          "clock_settime with 2e9 ns is EINVAL");
    check(raw(SYS_clock_settime, 12345, (long)&ts, 0, 0, 0, 0) == -EINVAL,
          "clock_settime of an unknown clock is EINVAL");
    int p[2];
    check(pipe(p) == 0, "pipe");
    char tmpl[] = "/tmp/syscalls-XXXXXX";
    int fd = mkstemp(tmpl);
    check(fd >= 0 && write(fd, "0123456789", 10) == 10, "a file of 10 bytes");
    check(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0, "fadvise SEQUENTIAL");
    check(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0, "fadvise DONTNEED");
    check(posix_fadvise(fd, 0, 0, 99) == EINVAL, "fadvise of unknown advice is EINVAL");
    check(posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL) == EINVAL, "fadvise of len -1 is EINVAL");
    check(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL) == ESPIPE, "fadvise of a pipe is ESPIPE");
    check(posix_fadvise(99, 0, 0, POSIX_FADV_NORMAL) == EBADF, "fadvise of a closed fd is EBADF");
    errno = 0;
    check(lseek(fd, 0, SEEK_HOLE) == 10, "SEEK_HOLE from 0: the end");
    errno = 0;
    check(lseek(fd, 10, SEEK_HOLE) == -1 && errno == ENXIO, "SEEK_HOLE at the end is ENXIO");
    errno = 0;
    check(lseek(fd, 10, SEEK_DATA) == -1 && errno == ENXIO, "SEEK_DATA at the end is ENXIO");
    check(lseek(fd, 3, SEEK_DATA) == 3, "SEEK_DATA inside: the offset");
    unlink(tmpl);
    close(fd);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    test_fds();
    test_memory();
    test_process();
    test_signals();
    test_queries();
    printf("failures=%d\n", failures);
    return failures ? 1 : 0;
}
