/* splice.c: data moved in the kernel (copy_file_range, splice, tee, vmsplice), process
 * descriptors (pidfd_open, clone's and clone3's CLONE_PIDFD, pidfd_send_signal, poll and epoll
 * on them, waitid(P_PIDFD)) and the
 * flags of preadv2/pwritev2: the data really moved, the offsets and positions, and each errno.
 * Prints PASS/FAIL lines only, so a native run and an enclave run must agree (differential.bats).
 * Raw syscalls throughout: musl has no wrappers for some, and errors must not be the C
 * library's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_copy_file_range
#define SYS_copy_file_range 326
#endif
#ifndef SYS_preadv2
#define SYS_preadv2  327
#define SYS_pwritev2 328
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#define CLONE_PIDFD_ 0x00001000
#define P_PIDFD_     3
#define RWF_HIPRI_   0x01
#define RWF_DSYNC_   0x02
#define RWF_SYNC_    0x04
#define RWF_NOWAIT_  0x08
#define RWF_APPEND_  0x10
#define SPLICE_NB    0x02 /* SPLICE_F_NONBLOCK */

static long cfr(int in, int64_t *oi, int out, int64_t *oo, size_t len, unsigned flags)
{
    return raw(SYS_copy_file_range, in, (long)oi, out, (long)oo, (long)len, flags);
}

static long spl(int in, int64_t *oi, int out, int64_t *oo, size_t len, unsigned flags)
{
    return raw(SYS_splice, in, (long)oi, out, (long)oo, (long)len, flags);
}

static long tee_(int in, int out, size_t len, unsigned flags)
{
    return raw(SYS_tee, in, out, (long)len, flags, 0, 0);
}

static int has(int fd, off_t off, const char *want)
{
    char buf[256];
    size_t n = strlen(want);
    return pread(fd, buf, sizeof(buf), off) == (ssize_t)n && memcmp(buf, want, n) == 0;
}

static int reads(int fd, const char *want)
{
    char buf[256];
    size_t n = strlen(want);
    return read(fd, buf, sizeof(buf)) == (ssize_t)n && memcmp(buf, want, n) == 0;
}

static char g_dir[] = "/tmp/splice-XXXXXX";

static int make_file(const char *name, const char *content, int flags)
{
    char path[64];
    snprintf(path, sizeof(path), "%s/%s", g_dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (content)
        write(fd, content, strlen(content));
    if (flags != O_RDWR) {
        close(fd);
        fd = open(path, flags);
    }
    return fd;
}

static void test_copy_file_range(void)
{
    int a = make_file("a", "0123456789abcdef", O_RDWR), b = make_file("b", NULL, O_RDWR);
    lseek(a, 0, SEEK_SET);
    int64_t oi = 2, oo = 0;
    check(cfr(a, &oi, b, &oo, 5, 0) == 5, "copy_file_range of 5 bytes at offsets");
    check(oi == 7 && oo == 5, "copy_file_range advances the offsets given");
    check(lseek(a, 0, SEEK_CUR) == 0 && lseek(b, 0, SEEK_CUR) == 0,
          "copy_file_range with offsets leaves the positions");
    check(has(b, 0, "23456"), "copy_file_range: the data is in the output");
    lseek(a, 10, SEEK_SET);
    lseek(b, 5, SEEK_SET);
    check(cfr(a, NULL, b, NULL, 100, 0) == 6, "copy_file_range at the positions stops at the end");
    check(lseek(a, 0, SEEK_CUR) == 16 && lseek(b, 0, SEEK_CUR) == 11,
          "copy_file_range moves the positions");
    check(has(b, 0, "23456abcdef"), "copy_file_range at the positions: the data");
    check(cfr(a, NULL, b, NULL, 10, 0) == 0, "copy_file_range at the end of the input is 0");
    check(cfr(a, NULL, b, NULL, 0, 0) == 0, "copy_file_range of 0 bytes is 0");
    check(cfr(a, NULL, b, NULL, 10, 1) == -EINVAL, "copy_file_range with flags is EINVAL");
    check(cfr(99, NULL, b, NULL, 10, 0) == -EBADF, "copy_file_range from a closed fd is EBADF");
    check(cfr(a, NULL, 99, NULL, 10, 0) == -EBADF, "copy_file_range to a closed fd is EBADF");
    int dir = open(g_dir, O_RDONLY | O_DIRECTORY);
    check(cfr(dir, NULL, b, NULL, 10, 0) == -EISDIR, "copy_file_range from a directory is EISDIR");
    check(cfr(a, NULL, dir, NULL, 10, 0) == -EISDIR, "copy_file_range to a directory is EISDIR");
    int p[2];
    pipe(p);
    check(cfr(p[0], NULL, b, NULL, 10, 0) == -EINVAL, "copy_file_range from a pipe is EINVAL");
    check(cfr(a, NULL, p[1], NULL, 10, 0) == -EINVAL, "copy_file_range to a pipe is EINVAL");
    int wo = make_file("wo", "xyz", O_WRONLY), ro = make_file("ro", "xyz", O_RDONLY);
    int ap = make_file("ap", "xyz", O_WRONLY | O_APPEND);
    oi = 0;
    check(cfr(wo, &oi, b, NULL, 3, 0) == -EBADF, "copy_file_range from a write-only fd is EBADF");
    check(cfr(a, &oi, ro, NULL, 3, 0) == -EBADF, "copy_file_range to a read-only fd is EBADF");
    check(cfr(a, &oi, ap, NULL, 3, 0) == -EBADF, "copy_file_range to an O_APPEND fd is EBADF");
    oi = -1;
    long neg = cfr(a, &oi, b, NULL, 3, 0); /* Linux 6.18 says EOVERFLOW, 6.1 EINVAL */
    check(neg == -EINVAL || neg == -EOVERFLOW, "copy_file_range at a negative offset is refused");
    oi = 0, oo = 4;
    check(cfr(a, &oi, a, &oo, 8, 0) == -EINVAL, "copy_file_range within a file, overlapping");
    oo = 16;
    check(cfr(a, &oi, a, &oo, 8, 0) == 8 && oi == 8 && oo == 24,
          "copy_file_range within a file, apart");
    check(has(a, 0, "0123456789abcdef01234567"), "copy_file_range within a file: the data");
    close(wo), close(ro), close(ap), close(dir), close(p[0]), close(p[1]), close(a), close(b);
}

static void test_splice(void)
{
    int a = make_file("sa", "0123456789", O_RDWR), b = make_file("sb", NULL, O_RDWR);
    int p[2], q[2];
    pipe(p);
    pipe(q);
    write(p[1], "hello world", 11);
    int64_t off = 0;
    check(spl(p[0], NULL, b, &off, 5, 0) == 5 && off == 5, "splice from a pipe to a file offset");
    check(has(b, 0, "hello") && lseek(b, 0, SEEK_CUR) == 0, "splice to a file: the data, no seek");
    check(reads(p[0], " world"), "splice takes only what it moved from the pipe");
    write(p[1], "abc", 3);
    check(spl(p[0], NULL, b, NULL, 100, 0) == 3 && lseek(b, 0, SEEK_CUR) == 3,
          "splice from a pipe gives what it holds, at the file position");
    check(has(b, 0, "abclo"), "splice at the file position: the data");
    off = 3;
    lseek(a, 0, SEEK_SET);
    check(spl(a, &off, p[1], NULL, 4, 0) == 4 && off == 7, "splice from a file offset to a pipe");
    check(lseek(a, 0, SEEK_CUR) == 0 && reads(p[0], "3456"), "splice to a pipe: the data");
    lseek(a, 6, SEEK_SET);
    check(spl(a, NULL, p[1], NULL, 100, 0) == 4 && lseek(a, 0, SEEK_CUR) == 10,
          "splice from the file position to the end");
    check(reads(p[0], "6789"), "splice from the file position: the data");
    check(spl(a, NULL, p[1], NULL, 100, 0) == 0, "splice at the end of a file is 0");
    write(p[1], "xy", 2);
    check(spl(p[0], NULL, q[1], NULL, 100, 0) == 2 && reads(q[0], "xy"), "splice pipe to pipe");
    check(spl(p[0], NULL, q[1], NULL, 100, SPLICE_NB) == -EAGAIN,
          "splice from an empty pipe with SPLICE_F_NONBLOCK is EAGAIN");
    check(spl(p[0], NULL, b, NULL, 0, 0) == 0, "splice of 0 bytes is 0");
    off = 0;
    check(spl(p[0], &off, b, NULL, 10, 0) == -ESPIPE, "splice with an offset for the input pipe");
    check(spl(a, NULL, p[1], &off, 10, 0) == -ESPIPE, "splice with an offset for the output pipe");
    check(spl(a, NULL, b, NULL, 10, 0) == -EINVAL, "splice between two files is EINVAL");
    check(spl(p[0], NULL, p[1], NULL, 10, 0) == -EINVAL, "splice within one pipe is EINVAL");
    check(spl(p[0], NULL, b, NULL, 10, 0x100) == -EINVAL, "splice with unknown flags is EINVAL");
    check(spl(99, NULL, p[1], NULL, 10, 0) == -EBADF, "splice from a closed fd is EBADF");
    check(spl(a, NULL, p[0], NULL, 10, 0) == -EBADF, "splice to a pipe's read end is EBADF");
    int ap = make_file("sap", "", O_WRONLY | O_APPEND);
    write(p[1], "z", 1);
    check(spl(p[0], NULL, ap, NULL, 10, 0) == -EINVAL, "splice to an O_APPEND file is EINVAL");
    off = -1;
    check(spl(a, &off, p[1], NULL, 10, 0) == -EINVAL, "splice from a negative offset is EINVAL");
    /* a full pipe */
    check(fcntl(q[1], F_SETPIPE_SZ, 4096) == 4096, "F_SETPIPE_SZ to one page");
    char page[4096];
    memset(page, 'p', sizeof(page));
    check(write(q[1], page, sizeof(page)) == 4096, "fill the pipe");
    off = 0;
    check(spl(a, &off, q[1], NULL, 4, SPLICE_NB) == -EAGAIN,
          "splice to a full pipe with SPLICE_F_NONBLOCK is EAGAIN");
    fcntl(q[1], F_SETFL, O_NONBLOCK);
    check(spl(a, &off, q[1], NULL, 4, 0) == -EAGAIN, "splice to a full O_NONBLOCK pipe is EAGAIN");
    close(q[0]);
    signal(SIGPIPE, SIG_IGN);
    check(spl(a, &off, q[1], NULL, 4, 0) == -EPIPE, "splice to a pipe with no reader is EPIPE");
    close(q[1]);
    close(p[1]);
    check(reads(p[0], "z"), "the byte the O_APPEND splice refused is still there");
    check(spl(p[0], NULL, b, NULL, 10, 0) == 0, "splice from an empty pipe with no writer is 0");
    close(p[0]), close(ap), close(a), close(b);
}

static void test_tee_vmsplice(void)
{
    int p[2], q[2], a = make_file("ta", "x", O_RDWR);
    pipe(p);
    pipe(q);
    write(p[1], "teedata", 7);
    check(tee_(p[0], q[1], 100, 0) == 7, "tee copies what the pipe holds");
    check(reads(q[0], "teedata"), "tee: the data is in the other pipe");
    check(tee_(p[0], q[1], 3, 0) == 3 && reads(q[0], "tee"), "tee of 3 bytes");
    check(reads(p[0], "teedata"), "tee consumes nothing");
    check(tee_(p[0], q[1], 100, SPLICE_NB) == -EAGAIN, "tee from an empty pipe, non-blocking");
    check(tee_(p[0], q[1], 0, 0) == 0, "tee of 0 bytes is 0");
    check(tee_(p[0], p[1], 10, 0) == -EINVAL, "tee within one pipe is EINVAL");
    check(tee_(a, q[1], 10, 0) == -EINVAL, "tee from a file is EINVAL");
    check(tee_(p[0], q[1], 10, 0x100) == -EINVAL, "tee with unknown flags is EINVAL");
    check(tee_(99, q[1], 10, 0) == -EBADF, "tee from a closed fd is EBADF");
    struct iovec iov[2] = {{(void *)"vm", 2}, {(void *)"splice", 6}};
    check(raw(SYS_vmsplice, p[1], (long)iov, 2, 0, 0, 0) == 8, "vmsplice into a pipe");
    check(reads(p[0], "vmsplice"), "vmsplice into a pipe: the data");
    write(p[1], "back", 4);
    char buf[8] = {0};
    struct iovec rd = {buf, sizeof(buf)};
    check(raw(SYS_vmsplice, p[0], (long)&rd, 1, 0, 0, 0) == 4 && memcmp(buf, "back", 4) == 0,
          "vmsplice out of a pipe's read end");
    check(raw(SYS_vmsplice, p[0], (long)&rd, 1, SPLICE_NB, 0, 0) == -EAGAIN,
          "vmsplice out of an empty pipe, non-blocking");
    check(raw(SYS_vmsplice, a, (long)iov, 1, 0, 0, 0) == -EBADF, "vmsplice on a file is EBADF");
    check(raw(SYS_vmsplice, p[1], (long)iov, 1, 0x100, 0, 0) == -EINVAL,
          "vmsplice with unknown flags is EINVAL");
    close(p[1]);
    check(tee_(p[0], q[1], 10, 0) == 0, "tee from an empty pipe with no writer is 0");
    close(p[0]), close(q[0]), close(q[1]), close(a);
}

static void test_rw2(void)
{
    int a = make_file("rw", "abcdefgh", O_RDWR);
    char buf[16];
    struct iovec iov = {buf, 4};
    memset(buf, 0, sizeof(buf));
    check(raw(SYS_preadv2, a, (long)&iov, 1, 2, 0, RWF_HIPRI_) == 4 && memcmp(buf, "cdef", 4) == 0,
          "preadv2 RWF_HIPRI on a file");
    check(raw(SYS_preadv2, a, (long)&iov, 1, 0, 0, RWF_DSYNC_ | RWF_SYNC_) == 4,
          "preadv2 RWF_DSYNC|RWF_SYNC on a file");
    lseek(a, 1, SEEK_SET);
    check(raw(SYS_preadv2, a, (long)&iov, 1, -1, 0, 0) == 4 && memcmp(buf, "bcde", 4) == 0 &&
              lseek(a, 0, SEEK_CUR) == 5,
          "preadv2 at offset -1 reads at the position and moves it");
    check(raw(SYS_preadv2, a, (long)&iov, 1, 0, 0, 0x10000) == -EOPNOTSUPP,
          "preadv2 with an unknown flag is EOPNOTSUPP");
    check(raw(SYS_preadv2, a, (long)&iov, 1, -2, 0, 0) == -EINVAL,
          "preadv2 at offset -2 is EINVAL");
    struct iovec w = {(void *)"XY", 2};
    check(raw(SYS_pwritev2, a, (long)&w, 1, 0, 0, RWF_APPEND_) == 2 && lseek(a, 0, SEEK_CUR) == 5,
          "pwritev2 RWF_APPEND at offset 0 leaves the position");
    check(has(a, 0, "abcdefghXY"), "pwritev2 RWF_APPEND wrote at the end");
    check(raw(SYS_pwritev2, a, (long)&w, 1, -1, 0, RWF_APPEND_) == 2 && lseek(a, 0, SEEK_CUR) == 12,
          "pwritev2 RWF_APPEND at offset -1 moves the position to the end");
    check(raw(SYS_pwritev2, a, (long)&w, 1, 0, 0, RWF_DSYNC_) == 2 && has(a, 0, "XYcdefghXYXY"),
          "pwritev2 RWF_DSYNC at offset 0 writes there");
    int p[2];
    pipe(p);
    /* Linux 6.1 (the KVM VM's) refuses RWF_NOWAIT on a pipe (EOPNOTSUPP); later kernels (6.18,
     * the build host's) take it, and so does the enclave: either answer, then the same one
     * throughout */
    long r = raw(SYS_preadv2, p[0], (long)&iov, 1, -1, 0, RWF_NOWAIT_);
    int refused = r == -EOPNOTSUPP;
    check(r == -EAGAIN || refused, "preadv2 RWF_NOWAIT on an empty pipe is EAGAIN (or refused)");
    check(raw(SYS_preadv2, p[0], (long)&iov, 1, 0, 0, 0) == -ESPIPE,
          "preadv2 on a pipe at an offset is ESPIPE");
    r = raw(SYS_pwritev2, p[1], (long)&w, 1, -1, 0, RWF_NOWAIT_);
    check(refused ? r == -EOPNOTSUPP : r == 2, "pwritev2 RWF_NOWAIT on a pipe with room");
    r = raw(SYS_preadv2, p[0], (long)&iov, 1, -1, 0, RWF_NOWAIT_);
    check(refused ? r == -EOPNOTSUPP : r == 2 && memcmp(buf, "XY", 2) == 0,
          "preadv2 RWF_NOWAIT on a pipe with data");
    check((fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0, "RWF_NOWAIT leaves the pipe blocking");
    fcntl(p[1], F_SETPIPE_SZ, 4096);
    char page[4096];
    memset(page, 'p', sizeof(page));
    write(p[1], page, sizeof(page));
    r = raw(SYS_pwritev2, p[1], (long)&w, 1, -1, 0, RWF_NOWAIT_);
    check(r == (refused ? -EOPNOTSUPP : -EAGAIN), "pwritev2 RWF_NOWAIT on a full pipe is EAGAIN");
    close(p[0]), close(p[1]), close(a);
}

static long pidfd_open(int pid, unsigned flags)
{
    return raw(SYS_pidfd_open, pid, flags, 0, 0, 0, 0);
}

static long pidfd_signal(int fd, int sig, unsigned flags)
{
    return raw(SYS_pidfd_send_signal, fd, sig, 0, flags, 0, 0);
}

/* A child that waits for end of file on a pipe, then exits with 7. */
static int child_until_eof(int *wr)
{
    int p[2];
    pipe(p);
    int pid = fork();
    if (pid == 0) {
        close(p[1]);
        char c;
        while (read(p[0], &c, 1) > 0)
            ;
        _exit(7);
    }
    close(p[0]);
    *wr = p[1];
    return pid;
}

static void test_pidfd(void)
{
    long self = pidfd_open(getpid(), 0);
    check(self >= 0, "pidfd_open of the caller");
    check(fcntl((int)self, F_GETFD) == FD_CLOEXEC, "a pidfd is close-on-exec");
    check(pidfd_open(getpid(), 1) == -EINVAL, "pidfd_open with unknown flags is EINVAL");
    check(pidfd_open(0, 0) == -EINVAL, "pidfd_open of pid 0 is EINVAL");
    check(pidfd_open(2147483000, 0) == -ESRCH, "pidfd_open of no process is ESRCH");
    check(pidfd_signal((int)self, 0, 0) == 0, "pidfd_send_signal 0 to the caller");
    /* Linux 6.9 takes PIDFD_SIGNAL_THREAD (1), _THREAD_GROUP (2) and _PROCESS_GROUP (4) */
    check(pidfd_signal((int)self, 0, 8) == -EINVAL, "pidfd_send_signal with unknown flags");
    check(pidfd_signal(99, 0, 0) == -EBADF, "pidfd_send_signal on a closed fd is EBADF");
    check(pidfd_signal(1, 0, 0) == -EBADF, "pidfd_send_signal on stdout is EBADF");
    siginfo_t si;
    check(raw(SYS_waitid, P_PIDFD_, self, (long)&si, WEXITED, 0, 0) == -ECHILD,
          "waitid(P_PIDFD) of the caller is ECHILD");
    check(raw(SYS_waitid, P_PIDFD_, 1, (long)&si, WEXITED, 0, 0) == -EBADF,
          "waitid(P_PIDFD) on stdout is EBADF");

    int wr;
    int pid = child_until_eof(&wr);
    long fd = pidfd_open(pid, 0), nb = pidfd_open(pid, O_NONBLOCK);
    check(fd >= 0 && nb >= 0, "pidfd_open of a child, blocking and PIDFD_NONBLOCK");
    struct pollfd pfd = {(int)fd, POLLIN, 0};
    check(poll(&pfd, 1, 0) == 0, "a running child's pidfd is not readable");
    check(pidfd_signal((int)fd, 0, 0) == 0, "pidfd_send_signal 0 to a running child");
    memset(&si, 0, sizeof(si));
    check(raw(SYS_waitid, P_PIDFD_, nb, (long)&si, WEXITED, 0, 0) == -EAGAIN,
          "waitid(P_PIDFD) on a PIDFD_NONBLOCK pidfd of a running child is EAGAIN");
    check(raw(SYS_waitid, P_PIDFD_, fd, (long)&si, WEXITED | WNOHANG, 0, 0) == 0 && si.si_pid == 0,
          "waitid(P_PIDFD, WNOHANG) of a running child is 0");
    close(wr);
    check(poll(&pfd, 1, 10000) == 1 && (pfd.revents & POLLIN),
          "its pidfd is readable once it ends");
    check(pidfd_open(pid, 0) >= 0, "pidfd_open of a child that ended but is not reaped");
    check(pidfd_signal((int)fd, SIGTERM, 0) == 0, "pidfd_send_signal to an unreaped child is 0");
    memset(&si, 0, sizeof(si));
    check(raw(SYS_waitid, P_PIDFD_, fd, (long)&si, WEXITED, 0, 0) == 0 && si.si_pid == pid &&
              si.si_code == CLD_EXITED && si.si_status == 7,
          "waitid(P_PIDFD) reaps it: exited with 7");
    check(pidfd_signal((int)fd, 0, 0) == -ESRCH, "pidfd_send_signal to a reaped child is ESRCH");
    check(raw(SYS_waitid, P_PIDFD_, fd, (long)&si, WEXITED, 0, 0) == -ECHILD,
          "waitid(P_PIDFD) of a reaped child is ECHILD");
    pfd.revents = 0;
    check(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN), "a reaped child's pidfd is readable");
    close((int)fd);
    close((int)nb);

    /* epoll, and a signal through the pidfd */
    pid = child_until_eof(&wr);
    fd = pidfd_open(pid, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 42}, out;
    check(epoll_ctl(ep, EPOLL_CTL_ADD, (int)fd, &ev) == 0, "epoll watches a pidfd");
    check(epoll_wait(ep, &out, 1, 0) == 0, "epoll: a running child's pidfd is not ready");
    check(pidfd_signal((int)fd, SIGKILL, 0) == 0, "pidfd_send_signal SIGKILL");
    check(epoll_wait(ep, &out, 1, 10000) == 1 && (out.events & EPOLLIN) && out.data.u32 == 42,
          "epoll: the pidfd is ready once the child is killed");
    memset(&si, 0, sizeof(si));
    check(raw(SYS_waitid, P_PIDFD_, fd, (long)&si, WEXITED, 0, 0) == 0 &&
              si.si_code == CLD_KILLED && si.si_status == SIGKILL,
          "waitid(P_PIDFD): killed by SIGKILL");
    close(wr), close(ep), close((int)fd), close((int)self);
}

/* clone3's arguments (linux/sched.h, version 0) */
struct clone_args_ {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* The child's exit status through its CLONE_PIDFD descriptor, or -1. */
static int pidfd_status(int fd, int pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    long r = raw(SYS_waitid, P_PIDFD_, fd, (long)&si, WEXITED, 0, 0);
    return r == 0 && si.si_pid == pid && si.si_code == CLD_EXITED ? si.si_status : -1;
}

static void test_clone_pidfd(void)
{
    int fd = -1;
    struct clone_args_ a = {.flags = CLONE_PIDFD_, .pidfd = (uintptr_t)&fd, .exit_signal = SIGCHLD};
    long pid = raw(SYS_clone3, (long)&a, sizeof(a), 0, 0, 0, 0);
    if (pid == 0)
        _exit(9);
    check(pid > 0 && fd >= 0, "clone3 with CLONE_PIDFD: a child and a descriptor");
    check(fcntl(fd, F_GETFD) == FD_CLOEXEC, "clone3's pidfd is close-on-exec");
    check(pidfd_status(fd, (int)pid) == 9, "waitid(P_PIDFD) on it: the child exited with 9");
    close(fd);

    fd = -1;
    pid = raw(SYS_clone, CLONE_PIDFD_ | SIGCHLD, 0, (long)&fd, 0, 0, 0);
    if (pid == 0)
        _exit(4);
    check(pid > 0 && fd >= 0, "clone with CLONE_PIDFD: the descriptor where the parent's tid goes");
    check(pidfd_status(fd, (int)pid) == 4, "waitid(P_PIDFD) on it: the child exited with 4");
    close(fd);

    /* clone's flags are 32 bits: Linux ignores the others */
    pid = raw(SYS_clone, (1L << 40) | SIGCHLD, 0, 0, 0, 0, 0);
    if (pid == 0)
        _exit(6);
    int st = 0;
    check(pid > 0 && waitpid((int)pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 6,
          "clone with a flag above bit 31: the bit is ignored");
    check(raw(SYS_clone, CLONE_PIDFD_ | CLONE_PARENT_SETTID | SIGCHLD, 0, (long)&fd, 0, 0, 0) ==
              -EINVAL,
          "clone with CLONE_PIDFD and CLONE_PARENT_SETTID is EINVAL");
    a.flags = CLONE_PIDFD_ | CLONE_DETACHED;
    check(raw(SYS_clone3, (long)&a, sizeof(a), 0, 0, 0, 0) == -EINVAL,
          "clone3 with CLONE_PIDFD and CLONE_DETACHED is EINVAL");
    a.flags = CLONE_DETACHED;
    check(raw(SYS_clone3, (long)&a, sizeof(a), 0, 0, 0, 0) == -EINVAL,
          "clone3 with CLONE_DETACHED is EINVAL");
    a.flags = CLONE_PIDFD_ | CLONE_PARENT_SETTID;
    a.parent_tid = a.pidfd;
    check(raw(SYS_clone3, (long)&a, sizeof(a), 0, 0, 0, 0) == -EINVAL,
          "clone3 with the pidfd and the parent's tid to one place is EINVAL");
    int ptid = 0;
    a.parent_tid = (uintptr_t)&ptid;
    fd = -1;
    pid = raw(SYS_clone3, (long)&a, sizeof(a), 0, 0, 0, 0);
    if (pid == 0)
        _exit(5);
    check(pid > 0 && fd >= 0 && ptid == pid,
          "clone3 with CLONE_PIDFD and CLONE_PARENT_SETTID to two places: both written");
    check(pidfd_status(fd, (int)pid) == 5, "waitid(P_PIDFD) on it: the child exited with 5");
    close(fd);
    a.parent_tid = 0;
    a.flags = CLONE_PIDFD_;
    a.pidfd = 8; /* not writable: no child at all */
    pid = raw(SYS_clone3, (long)&a, sizeof(a), 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    check(pid == -EFAULT, "clone3 with CLONE_PIDFD to an address that cannot be written is EFAULT");
    check(raw(SYS_wait4, -1, 0, WNOHANG, 0, 0, 0) == -ECHILD, "and no child was made");
}

int main(void)
{
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_copy_file_range();
    test_splice();
    test_tee_vmsplice();
    test_rw2();
    test_pidfd();
    test_clone_pidfd();
    const char *names[] = {"a", "b", "wo", "ro", "ap", "sa", "sb", "sap", "ta", "rw"};
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        char path[64];
        snprintf(path, sizeof(path), "%s/%s", g_dir, names[i]);
        unlink(path);
    }
    rmdir(g_dir);
    printf("failures=%d\n", failures);
    return failures ? 1 : 0;
}
