/* sysv_ipc.c: System V semaphores and message queues between processes, printed so that a run on
 * Linux and one in an enclave can be compared line by line (processes.bats): keys, values,
 * atomic semop arrays, IPC_NOWAIT, waiting (woken by another process, a timeout, the set's
 * removal), GETNCNT, SEM_UNDO at exit, the range errors; message types, MSG_EXCEPT, MSG_NOERROR,
 * MSG_COPY, a full queue, waiting receivers, IPC_STAT counts and what an unprivileged process may
 * do. Ids, pids and times differ between runs: only what Linux fixes is printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int wait_child(pid_t pid)
{
    int st;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st);
}

static int op(int id, unsigned short num, short delta, short flg)
{
    struct sembuf b = {.sem_num = num, .sem_op = delta, .sem_flg = flg};
    return semop(id, &b, 1);
}

static void vals(const char *what, int id, int n)
{
    unsigned short v[8];
    semctl(id, 0, GETALL, (union semun){.array = v});
    printf("%s:", what);
    for (int i = 0; i < n; i++)
        printf(" %u", v[i]);
    printf("\n");
}

/* waits until GETNCNT or GETZCNT of semaphore num reaches want (another process blocked) */
static int wait_count(int id, int num, int cmd, int want)
{
    for (int i = 0; i < 2000; i++) {
        if (semctl(id, num, cmd) == want)
            return 1;
        usleep(5000);
    }
    return 0;
}

static void semaphores(void)
{
    key_t key = 0x53450000 | (getpid() & 0xffff);
    SHOW("semget missing key", semget(key, 1, 0600));
    SHOW("semget 0 semaphores", semget(IPC_PRIVATE, 0, 0600));
    SHOW("semget too many", semget(IPC_PRIVATE, 40000, 0600));
    int id = semget(key, 3, IPC_CREAT | IPC_EXCL | 0600);
    printf("semget: %s\n", id >= 0 ? "ok" : errno_name(errno));
    SHOW("again, IPC_EXCL", semget(key, 3, IPC_CREAT | IPC_EXCL | 0600));
    printf("find it: %s\n", semget(key, 2, 0) == id ? "same id" : "other");
    SHOW("find it with more", semget(key, 4, 0));
    struct semid_ds ds;
    semctl(id, 0, IPC_STAT, (union semun){.buf = &ds});
    printf("IPC_STAT: nsems %lu mode %o\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 0777);
    vals("new set", id, 3);

    SHOW("SETVAL 5", semctl(id, 0, SETVAL, (union semun){.val = 5}));
    SHOW("SETVAL too big", semctl(id, 0, SETVAL, (union semun){.val = 40000}));
    SHOW("SETVAL negative", semctl(id, 0, SETVAL, (union semun){.val = -1}));
    SHOW("SETVAL bad number", semctl(id, 7, SETVAL, (union semun){.val = 1}));
    unsigned short all[3] = {1, 2, 3};
    SHOW("SETALL", semctl(id, 0, SETALL, (union semun){.array = all}));
    SHOW("GETVAL 2", semctl(id, 2, GETVAL));
    printf("GETPID is us: %d\n", semctl(id, 1, GETPID) == getpid());

    /* all or nothing */
    struct sembuf two[2] = {{0, -1, 0}, {1, -5, IPC_NOWAIT}};
    SHOW("semop that cannot all happen", semop(id, two, 2));
    vals("unchanged", id, 3);
    struct sembuf ok2[3] = {{0, -1, 0}, {1, 3, 0}, {0, 2, 0}};
    SHOW("semop array", semop(id, ok2, 3));
    vals("after", id, 3);
    SHOW("wait for zero, IPC_NOWAIT", op(id, 2, 0, IPC_NOWAIT));
    SHOW("past SEMVMX", op(id, 2, 32767, 0));
    struct sembuf big = {9, 1, 0};
    SHOW("semaphore out of range", semop(id, &big, 1));
    SHOW("no operations", semop(id, &big, 0));
    struct timespec t = {0, 20 * 1000 * 1000};
    struct sembuf dec = {1, -100, 0};
    SHOW("semtimedop times out", semtimedop(id, &dec, 1, &t));
    t.tv_nsec = 2000000000;
    SHOW("semtimedop bad timeout", semtimedop(id, &dec, 1, &t));

    /* a waiter woken by another process's semop */
    SHOW("SETVAL 0", semctl(id, 0, SETVAL, (union semun){.val = 0}));
    pid_t c = fork();
    if (c == 0) {
        int r = op(id, 0, -2, 0);
        printf("child's decrement: %d, then %d\n", r, semctl(id, 0, GETVAL));
        _exit(0);
    }
    printf("child waits (GETNCNT 1): %d\n", wait_count(id, 0, GETNCNT, 1));
    op(id, 0, 1, 0);
    usleep(20000);
    printf("one is not enough, GETNCNT %d\n", semctl(id, 0, GETNCNT));
    op(id, 0, 1, 0);
    printf("child: %d\n", wait_child(c));
    SHOW("GETNCNT after", semctl(id, 0, GETNCNT));

    /* SEM_UNDO is applied when the process ends */
    SHOW("SETVAL 3", semctl(id, 1, SETVAL, (union semun){.val = 3}));
    c = fork();
    if (c == 0) {
        op(id, 1, -2, SEM_UNDO);
        op(id, 2, 4, SEM_UNDO);
        _exit(semctl(id, 1, GETVAL));
    }
    printf("child saw %d\n", wait_child(c));
    vals("after its exit, undone", id, 3);

    /* a waiter for zero, woken with EIDRM by the removal */
    SHOW("SETVAL 1", semctl(id, 2, SETVAL, (union semun){.val = 1}));
    c = fork();
    if (c == 0) {
        int r = op(id, 2, 0, 0);
        printf("waiter for zero: %s\n", r == 0 ? "ok" : errno_name(errno));
        _exit(0);
    }
    printf("it waits (GETZCNT 1): %d\n", wait_count(id, 2, GETZCNT, 1));

    /* an unprivileged process */
    if (getuid() == 0) {
        pid_t u = fork();
        if (u == 0) {
            if (setuid(65534) != 0)
                _exit(3);
            SHOW("unprivileged GETVAL", semctl(id, 0, GETVAL));
            SHOW("unprivileged semop", op(id, 0, 1, 0));
            SHOW("unprivileged IPC_RMID", semctl(id, 0, IPC_RMID));
            _exit(0);
        }
        printf("unprivileged child: %d\n", wait_child(u));
    }
    int rm = semctl(id, 0, IPC_RMID);
    printf("child: %d\n", wait_child(c)); /* first: the child prints what it got */
    printf("IPC_RMID: %d\n", rm);
    SHOW("GETVAL of the removed set", semctl(id, 0, GETVAL));
    SHOW("bad command", semctl(IPC_PRIVATE, 0, 99));
}

struct m {
    long type;
    char text[64];
};

static int send(int id, long type, const char *text, int flg)
{
    struct m b = {.type = type};
    strcpy(b.text, text);
    return msgsnd(id, &b, strlen(text) + 1, flg);
}

static void recv_show(const char *what, int id, size_t len, long type, int flg)
{
    struct m b = {0};
    errno = 0;
    long n = msgrcv(id, &b, len, type, flg);
    if (n < 0)
        printf("%s: %s\n", what, errno_name(errno));
    else
        printf("%s: %ld bytes, type %ld, %.*s\n", what, n, b.type, (int)n, b.text);
}

static void queues(void)
{
    key_t key = 0x4d530000 | (getpid() & 0xffff);
    SHOW("msgget missing key", msgget(key, 0600));
    int id = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
    printf("msgget: %s\n", id >= 0 ? "ok" : errno_name(errno));
    SHOW("again, IPC_EXCL", msgget(key, IPC_CREAT | IPC_EXCL | 0600));
    printf("find it: %s\n", msgget(key, 0) == id ? "same id" : "other");

    SHOW("type 0", send(id, 0, "x", 0));
    SHOW("too long", msgsnd(id, &(struct m){1}, 100000, 0));
    send(id, 3, "three", 0);
    send(id, 1, "one", 0);
    send(id, 2, "two", 0);
    send(id, 1, "one again", 0);
    struct msqid_ds ds;
    msgctl(id, IPC_STAT, &ds);
    printf("IPC_STAT: qnum %lu cbytes %lu mode %o\n", (unsigned long)ds.msg_qnum,
           (unsigned long)ds.__msg_cbytes, ds.msg_perm.mode & 0777);
    recv_show("MSG_COPY 1", id, 64, 1, MSG_COPY | IPC_NOWAIT);
    SHOW("MSG_COPY without IPC_NOWAIT", msgrcv(id, &(struct m){0}, 64, 1, MSG_COPY));
    recv_show("type 2", id, 64, 2, 0);
    recv_show("type -2 (lowest up to 2)", id, 64, -2, 0);
    recv_show("not type 1 (MSG_EXCEPT)", id, 64, 1, MSG_EXCEPT);
    recv_show("too small a buffer", id, 3, 0, 0);
    recv_show("MSG_NOERROR cuts it", id, 3, 0, MSG_NOERROR);
    recv_show("empty, IPC_NOWAIT", id, 64, 0, IPC_NOWAIT);
    recv_show("no such type", id, 64, 5, IPC_NOWAIT);

    /* a receiver woken by another process's send */
    pid_t c = fork();
    if (c == 0) {
        recv_show("child receives", id, 64, 7, 0);
        _exit(0);
    }
    usleep(50000);
    send(id, 6, "not for it", 0);
    send(id, 7, "for the child", 0);
    printf("child: %d\n", wait_child(c));
    recv_show("left", id, 64, 0, IPC_NOWAIT);

    /* a full queue */
    msgctl(id, IPC_STAT, &ds);
    ds.msg_qbytes = 100;
    SHOW("IPC_SET qbytes 100", msgctl(id, IPC_SET, &ds));
    char fill[60];
    memset(fill, 'f', sizeof(fill) - 1);
    fill[59] = 0;
    SHOW("send 60", send(id, 1, fill, IPC_NOWAIT));
    SHOW("send 60 more, IPC_NOWAIT", send(id, 1, fill, IPC_NOWAIT));
    c = fork();
    if (c == 0) {
        printf("blocked sender: %d\n", send(id, 1, fill, 0));
        _exit(0);
    }
    usleep(50000);
    struct m room;
    long got = msgrcv(id, &room, 64, 0, 0);
    printf("child: %d\n", wait_child(c)); /* first: the child prints what it got */
    printf("made room: %ld bytes\n", got);
    msgctl(id, IPC_STAT, &ds);
    printf("IPC_STAT: qnum %lu cbytes %lu qbytes %lu\n", (unsigned long)ds.msg_qnum,
           (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes);

    if (getuid() == 0) {
        pid_t u = fork();
        if (u == 0) {
            if (setuid(65534) != 0)
                _exit(3);
            SHOW("unprivileged send", send(id, 1, "x", IPC_NOWAIT));
            SHOW("unprivileged IPC_STAT", msgctl(id, IPC_STAT, &ds));
            SHOW("unprivileged IPC_RMID", msgctl(id, IPC_RMID, NULL));
            _exit(0);
        }
        printf("unprivileged child: %d\n", wait_child(u));
    }

    /* the removal wakes a waiting receiver */
    c = fork();
    if (c == 0) {
        recv_show("waiting receiver", id, 64, 99, 0);
        _exit(0);
    }
    usleep(50000);
    int rm = msgctl(id, IPC_RMID, NULL);
    printf("child: %d\n", wait_child(c));
    printf("IPC_RMID: %d\n", rm);
    SHOW("send to the removed queue", send(id, 1, "x", 0));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    semaphores();
    queues();
    return 0;
}
