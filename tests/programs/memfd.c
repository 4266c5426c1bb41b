/* memfd.c: memfd_create and file seals, printed so that a run on Linux and one in an enclave can
 * be compared line by line (processes.bats): flags and names, what /proc/self/fd shows, reading,
 * writing, ftruncate, shared mappings seen by a forked child, and each seal's effect on write,
 * ftruncate, fallocate and mmap. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC       1u
#define MFD_ALLOW_SEALING 2u
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS   1033
#define F_GET_SEALS   1034
#define F_SEAL_SEAL   1
#define F_SEAL_SHRINK 2
#define F_SEAL_GROW   4
#define F_SEAL_WRITE  8
#endif

static int mfd(const char *name, unsigned flags)
{
    return (int)syscall(SYS_memfd_create, name, flags);
}

static void show_link(const char *what, int fd)
{
    char path[64], target[512];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    target[n < 0 ? 0 : n] = 0;
    printf("%s: %s\n", what, target);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char longname[300];

    /* flags and names */
    SHOW("unknown flag", mfd("x", 0x100));
    SHOW("all bits", mfd("x", ~0u));
    SHOW("NULL name", mfd(NULL, 0));
    memset(longname, 'n', sizeof(longname));
    longname[250] = 0;
    SHOW("250-byte name", mfd(longname, 0));
    longname[249] = 0;
    int lf = mfd(longname, 0);
    printf("249-byte name: %s\n", lf >= 0 ? "ok" : errno_name(errno));
    close(lf);
    int e = mfd("", 0);
    show_link("empty name", e);

    int fd = mfd("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    printf("create: %s, cloexec %d, flags O_RDWR %d\n", fd >= 0 ? "ok" : errno_name(errno),
           fcntl(fd, F_GETFD) & FD_CLOEXEC, (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    show_link("link", fd);
    struct stat st;
    fstat(fd, &st);
    printf("fstat: regular %d, mode %o, size %ld\n", S_ISREG(st.st_mode), st.st_mode & 07777,
           (long)st.st_size);

    /* bytes */
    SHOW("write", write(fd, "hello, memfd", 12));
    char buf[64] = {0};
    SHOW("pread", pread(fd, buf, sizeof(buf) - 1, 0));
    printf("reads: %s\n", buf);
    SHOW("ftruncate 8192", ftruncate(fd, 8192));
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("shared mapping: %s, reads %s\n", m == MAP_FAILED ? errno_name(errno) : "ok", m);
    strcpy(m + 4096, "through the mapping");
    pid_t c = fork();
    if (c == 0) {
        strcpy(m, "the child was here");
        _exit(0);
    }
    waitpid(c, NULL, 0);
    memset(buf, 0, sizeof(buf));
    pread(fd, buf, 30, 4096);
    printf("pread after a mapping's write: %s\n", buf);
    pread(fd, buf, 30, 0);
    printf("after the child: %s\n", buf);
    int again = open("/proc/self/fd/0", O_RDONLY); /* a path open of another file works */
    close(again);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    int ro = open(path, O_RDONLY);
    printf("reopen through /proc read-only: %s\n", ro >= 0 ? "ok" : errno_name(errno));

    /* seals */
    SHOW("seals at first", fcntl(fd, F_GET_SEALS));
    SHOW("seal from a read-only open", fcntl(ro, F_ADD_SEALS, F_SEAL_SHRINK));
    SHOW("unknown seal", fcntl(fd, F_ADD_SEALS, 0x100));
    SHOW("F_SEAL_WRITE while mapped writable", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    munmap(m, 8192);
    SHOW("F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    SHOW("shrink", ftruncate(fd, 4096));
    SHOW("grow", ftruncate(fd, 12288));
    SHOW("F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    SHOW("grow now", ftruncate(fd, 16384));
    SHOW("same size", ftruncate(fd, 12288));
    SHOW("write past the end", pwrite(fd, "x", 1, 12288));
    SHOW("write inside", pwrite(fd, "y", 1, 100));
    SHOW("fallocate past the end", fallocate(fd, 0, 0, 16384));
    SHOW("fallocate inside", fallocate(fd, 0, 0, 4096));
    SHOW("write across the end", pwrite(fd, longname, 100, 12288 - 4));
    SHOW("punch a hole", fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, 4096));
    SHOW("punch without KEEP_SIZE", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
    pread(fd, buf, 5, 100);
    printf("the hole reads zeros: %d\n", buf[0] == 0);
    char *pre = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    SHOW("F_SEAL_WRITE, a read-only shared mapping there", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    munmap(pre, 4096);
    SHOW("F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    SHOW("write", pwrite(fd, "z", 1, 0));
    SHOW("punch a hole", fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, 4096));
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("shared writable mapping: %s\n", m == MAP_FAILED ? errno_name(errno) : "ok");
    /* a read-only shared mapping now is EPERM before Linux 6.7 and allowed after: not shown */
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("private writable mapping: %s\n", p == MAP_FAILED ? errno_name(errno) : "ok");
    p[0] = 'P';
    pread(fd, buf, 5, 0);
    printf("the file after a private write: %.5s\n", buf);
    SHOW("F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    SHOW("seals now", fcntl(fd, F_GET_SEALS));
    SHOW("another seal", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));

    /* without MFD_ALLOW_SEALING */
    int ns = mfd("nosealing", 0);
    SHOW("seals without MFD_ALLOW_SEALING", fcntl(ns, F_GET_SEALS));
    SHOW("add one", fcntl(ns, F_ADD_SEALS, F_SEAL_WRITE));
    printf("not close-on-exec: %d\n", fcntl(ns, F_GETFD) & FD_CLOEXEC);
    int exe = open("/proc/self/exe", O_RDONLY);
    SHOW("seals of the program's file", fcntl(exe, F_GET_SEALS) == -1 && errno == EINVAL ? -1 : 0);
    return 0;
}
