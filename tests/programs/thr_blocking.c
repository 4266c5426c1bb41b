/* thr_blocking.c: two threads blocked in the same syscall at once each get their own result.
 * A syscall that blocks keeps its arguments (the iovec array, the descriptor sets, a bounce
 * buffer) across the wait; if the kernel kept them anywhere shared, the second thread's call
 * would overwrite the first's. One subcommand per run, or "all":
 *   readv      two threads readv from two pipes into their own two-part buffers
 *   writev     two threads writev into two full pipes; each pipe gets its own writer's bytes
 *   select     two threads select on two pipes; each sees only its own descriptor ready
 *   sendfile   two threads sendfile from two files into two full pipes
 *   recvmsg P  (AF_VSOCK, in an enclave) two connections to the host's echo server on port P;
 *              two threads block in recvmsg, then sendmsg on each in turn
 *   bigwrite   a reader blocks on an empty pipe; main writes 128 KiB, twice the pipe's
 *              capacity, and nothing else runs: the reader must be woken before the writer
 *              waits for room
 *   heapgrown  40 pipes holding a byte each (the enclave kernel's heap grows), then a thread:
 *              on a second vCPU that is its first one, after the growth
 * Main makes both threads block (it sleeps 100 ms after starting them), then releases the first
 * thread's object, then the second's. Prints "ok NAME" per check group; a wrong result prints
 * "FAIL ..." and exits 1. alarm(60) ends a hung run with SIGALRM (status 142). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define STACK (64u << 10)
#include "thr_common.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
struct vsock_addr {
    unsigned short family, reserved;
    unsigned int port, cid;
    unsigned char zero[4];
};

/* the two threads, their objects and what they saw */
struct job {
    int fd, out; /* what it blocks on (and, for sendfile, where it writes) */
    char a[16], b[16];
    long ret;
    int err;
    atomic_int done;
};

static void start_pair(void *(*fn)(void *), struct job *j1, struct job *j2, pthread_t th[2])
{
    CHECK(pthread_create(&th[0], NULL, fn, j1) == 0);
    CHECK(pthread_create(&th[1], NULL, fn, j2) == 0);
    msleep(100); /* both are now blocked in the kernel */
    CHECK(!atomic_load(&j1->done) && !atomic_load(&j2->done));
}

static void finish(struct job *j, pthread_t th)
{
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(atomic_load(&j->done));
}

static void make_pipe(int p[2])
{
    CHECK(pipe(p) == 0);
}

static void close_pipes(int p1[2], int p2[2])
{
    for (int i = 0; i < 2; i++)
        close(p1[i]), close(p2[i]);
}

/* Fills a pipe until a write would block, then makes it blocking again. */
static void fill(int wfd)
{
    static char junk[4096];
    memset(junk, 'z', sizeof(junk));
    CHECK(fcntl(wfd, F_SETFL, O_NONBLOCK) == 0);
    while (write(wfd, junk, sizeof(junk)) > 0)
        ;
    CHECK(errno == EAGAIN);
    while (write(wfd, junk, 1) > 0)
        ;
    CHECK(fcntl(wfd, F_SETFL, 0) == 0);
}

/* Drains a full pipe's filler ('z') and returns the next n bytes after it in buf. */
static void drain_then_read(int rfd, char *buf, size_t n)
{
    char c;
    do
        CHECK(read(rfd, &c, 1) == 1);
    while (c == 'z');
    buf[0] = c;
    for (size_t got = 1; got < n;) {
        ssize_t r = read(rfd, buf + got, n - got);
        CHECK(r > 0);
        got += (size_t)r;
    }
}

/* ---- readv ---- */
static void *readv_thread(void *arg)
{
    struct job *j = arg;
    struct iovec v[2] = {{j->a, 3}, {j->b, 5}};
    j->ret = readv(j->fd, v, 2);
    atomic_store(&j->done, 1);
    return NULL;
}

static void test_readv(void)
{
    int p1[2], p2[2];
    make_pipe(p1);
    make_pipe(p2);
    struct job j1 = {.fd = p1[0]}, j2 = {.fd = p2[0]};
    pthread_t th[2];
    start_pair(readv_thread, &j1, &j2, th);
    CHECK(write(p1[1], "12345678", 8) == 8);
    finish(&j1, th[0]);
    CHECK_EQ(j1.ret, 8);
    CHECK(memcmp(j1.a, "123", 3) == 0 && memcmp(j1.b, "45678", 5) == 0);
    CHECK(!atomic_load(&j2.done) && j2.a[0] == 0 && j2.b[0] == 0);
    CHECK(write(p2[1], "abcdefgh", 8) == 8);
    finish(&j2, th[1]);
    CHECK_EQ(j2.ret, 8);
    CHECK(memcmp(j2.a, "abc", 3) == 0 && memcmp(j2.b, "defgh", 5) == 0);
    close_pipes(p1, p2);
    printf("ok readv\n");
}

/* ---- writev ---- */
static void *writev_thread(void *arg)
{
    struct job *j = arg;
    struct iovec v[2] = {{j->a, 3}, {j->b, 5}};
    j->ret = writev(j->fd, v, 2);
    atomic_store(&j->done, 1);
    return NULL;
}

static void test_writev(void)
{
    int p1[2], p2[2];
    make_pipe(p1);
    make_pipe(p2);
    fill(p1[1]);
    fill(p2[1]);
    struct job j1 = {.fd = p1[1]}, j2 = {.fd = p2[1]};
    memcpy(j1.a, "ONE", 3), memcpy(j1.b, "first", 5);
    memcpy(j2.a, "TWO", 3), memcpy(j2.b, "other", 5);
    pthread_t th[2];
    start_pair(writev_thread, &j1, &j2, th);
    char got[9] = {0};
    drain_then_read(p1[0], got, 8);
    finish(&j1, th[0]);
    CHECK_EQ(j1.ret, 8);
    CHECK(memcmp(got, "ONEfirst", 8) == 0);
    CHECK(!atomic_load(&j2.done));
    drain_then_read(p2[0], got, 8);
    finish(&j2, th[1]);
    CHECK_EQ(j2.ret, 8);
    CHECK(memcmp(got, "TWOother", 8) == 0);
    close_pipes(p1, p2);
    printf("ok writev\n");
}

/* ---- select ---- */
static void *select_thread(void *arg)
{
    struct job *j = arg;
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(j->fd, &rd);
    j->ret = select(j->fd + 1, &rd, NULL, NULL, NULL);
    j->err = FD_ISSET(j->fd, &rd); /* its own descriptor, reported ready */
    for (int fd = 0; fd < j->fd; fd++)
        if (FD_ISSET(fd, &rd))
            j->err = -fd; /* another descriptor in its result */
    atomic_store(&j->done, 1);
    return NULL;
}

static void test_select(void)
{
    int p1[2], p2[2];
    make_pipe(p1);
    make_pipe(p2);
    /* the second thread's descriptor is the higher one: a shared set would hold it */
    struct job j1 = {.fd = p1[0]}, j2 = {.fd = p2[0]};
    pthread_t th[2];
    start_pair(select_thread, &j1, &j2, th);
    CHECK(write(p1[1], "x", 1) == 1);
    finish(&j1, th[0]);
    CHECK_EQ(j1.ret, 1);
    CHECK_EQ(j1.err, 1);
    msleep(50);
    CHECK(!atomic_load(&j2.done));
    CHECK(write(p2[1], "y", 1) == 1);
    finish(&j2, th[1]);
    CHECK_EQ(j2.ret, 1);
    CHECK_EQ(j2.err, 1);
    close_pipes(p1, p2);
    printf("ok select\n");
}

/* ---- sendfile ---- */
static void *sendfile_thread(void *arg)
{
    struct job *j = arg;
    j->ret = sendfile(j->out, j->fd, NULL, 8);
    atomic_store(&j->done, 1);
    return NULL;
}

static int file_with(const char *text)
{
    char name[] = "/tmp/thr_blocking.XXXXXX";
    int fd = mkstemp(name);
    CHECK(fd >= 0);
    CHECK(unlink(name) == 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    return fd;
}

static void test_sendfile(void)
{
    int p1[2], p2[2];
    make_pipe(p1);
    make_pipe(p2);
    fill(p1[1]);
    fill(p2[1]);
    struct job j1 = {.fd = file_with("AAAAaaaa"), .out = p1[1]};
    struct job j2 = {.fd = file_with("BBBBbbbb"), .out = p2[1]};
    pthread_t th[2];
    start_pair(sendfile_thread, &j1, &j2, th);
    char got[9] = {0};
    drain_then_read(p1[0], got, 8);
    finish(&j1, th[0]);
    CHECK_EQ(j1.ret, 8);
    CHECK(memcmp(got, "AAAAaaaa", 8) == 0);
    drain_then_read(p2[0], got, 8);
    finish(&j2, th[1]);
    CHECK_EQ(j2.ret, 8);
    CHECK(memcmp(got, "BBBBbbbb", 8) == 0);
    close_pipes(p1, p2);
    close(j1.fd), close(j2.fd);
    printf("ok sendfile\n");
}

/* ---- recvmsg and sendmsg (AF_VSOCK, the host's echo server) ---- */
static void *recvmsg_thread(void *arg)
{
    struct job *j = arg;
    struct iovec v[2] = {{j->a, 3}, {j->b, 5}};
    struct msghdr m = {.msg_iov = v, .msg_iovlen = 2};
    j->ret = recvmsg(j->fd, &m, MSG_WAITALL);
    atomic_store(&j->done, 1);
    return NULL;
}

static int connect_host(unsigned port)
{
    int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct vsock_addr a = {.family = AF_VSOCK, .port = port, .cid = 3}; /* the parent */
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    return fd;
}

static void send_two(int fd, const char *x, const char *y)
{
    struct iovec v[2] = {{(void *)x, 3}, {(void *)y, 5}};
    struct msghdr m = {.msg_iov = v, .msg_iovlen = 2};
    CHECK_EQ(sendmsg(fd, &m, 0), 8);
}

static void test_recvmsg(unsigned port)
{
    struct job j1 = {.fd = connect_host(port)}, j2 = {.fd = connect_host(port)};
    pthread_t th[2];
    start_pair(recvmsg_thread, &j1, &j2, th);
    send_two(j1.fd, "one", "first");
    finish(&j1, th[0]);
    CHECK_EQ(j1.ret, 8);
    CHECK(memcmp(j1.a, "one", 3) == 0 && memcmp(j1.b, "first", 5) == 0);
    CHECK(!atomic_load(&j2.done) && j2.a[0] == 0);
    send_two(j2.fd, "two", "other");
    finish(&j2, th[1]);
    CHECK_EQ(j2.ret, 8);
    CHECK(memcmp(j2.a, "two", 3) == 0 && memcmp(j2.b, "other", 5) == 0);
    close(j1.fd), close(j2.fd);
    printf("ok recvmsg\n");
}

/* ---- one big write to a reader that waits ---- */
static char g_big[1 << 17];
static long g_got;

static void *big_reader(void *arg)
{
    int fd = *(int *)arg;
    static char buf[1 << 17];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        g_got += n;
    return NULL;
}

static void test_bigwrite(void)
{
    int p[2];
    make_pipe(p);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, big_reader, &p[0]) == 0);
    msleep(100); /* the reader now waits */
    memset(g_big, 'y', sizeof(g_big));
    CHECK_EQ(write(p[1], g_big, sizeof(g_big)), sizeof(g_big));
    close(p[1]);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_EQ(g_got, sizeof(g_big));
    close(p[0]);
    printf("ok bigwrite\n");
}

/* ---- a vCPU's first thread after the kernel's heap grew ---- */
static void *answer(void *arg)
{
    (void)arg;
    return (void *)42;
}

static void test_heapgrown(void)
{
    static int p[40][2];
    for (int i = 0; i < 40; i++) {
        make_pipe(p[i]);
        CHECK(write(p[i][1], "x", 1) == 1);
    }
    pthread_t t;
    void *r;
    CHECK(pthread_create(&t, NULL, answer, NULL) == 0);
    CHECK(pthread_join(t, &r) == 0);
    CHECK(r == (void *)42);
    for (int i = 0; i < 40; i++)
        close(p[i][0]), close(p[i][1]);
    printf("ok heapgrown\n");
}

int main(int argc, char **argv)
{
    alarm(60);
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *what = argc > 1 ? argv[1] : "all";
    bool all = strcmp(what, "all") == 0;
    if (all || strcmp(what, "readv") == 0)
        test_readv();
    if (all || strcmp(what, "writev") == 0)
        test_writev();
    if (all || strcmp(what, "select") == 0)
        test_select();
    if (all || strcmp(what, "sendfile") == 0)
        test_sendfile();
    if (all || strcmp(what, "bigwrite") == 0)
        test_bigwrite();
    if (all || strcmp(what, "heapgrown") == 0)
        test_heapgrown();
    if (strcmp(what, "recvmsg") == 0)
        test_recvmsg(argc > 2 ? (unsigned)atoi(argv[2]) : 6000);
    return 0;
}
