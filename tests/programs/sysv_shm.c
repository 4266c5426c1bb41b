/* sysv_shm.c: System V shared memory between processes, printed so that a run on Linux and one in
 * an enclave can be compared line by line (processes.bats): shmget's key rules, shmat at chosen
 * and rounded addresses, SHM_RDONLY and SHM_REMAP, sharing with a forked child and with a process
 * that attaches by id, shmdt, IPC_STAT's counts, IPC_SET, IPC_RMID while attached,
 * /proc/sysvipc/shm, and what an unprivileged process may do. Ids, pids and times differ between
 * runs: only what Linux fixes is printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static void stat_line(const char *what, int id)
{
    struct shmid_ds d;
    if (shmctl(id, IPC_STAT, &d) == -1) {
        printf("%s: stat %s\n", what, errno_name(errno));
        return;
    }
    printf("%s: size %zu nattch %lu mode %o key %s\n", what, (size_t)d.shm_segsz,
           (unsigned long)d.shm_nattch, (unsigned)d.shm_perm.mode & 03777,
           d.shm_perm.__key == IPC_PRIVATE ? "private" : "set");
    fflush(stdout);
}

static int wait_child(pid_t pid)
{
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        return 1000 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

static void in_proc(const char *id_text)
{
    int id = atoi(id_text);
    char *p = shmat(id, NULL, 0);
    if (p == (void *)-1) {
        printf("exec'd attach: %s\n", errno_name(errno));
        exit(1);
    }
    printf("exec'd process reads: %s\n", p);
    strcpy(p, "written by the exec'd process");
    stat_line("exec'd process sees", id);
    exit(shmdt(p) == 0 ? 0 : 2);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 3 && strcmp(argv[1], "attach") == 0)
        in_proc(argv[2]);
    key_t key = 0x53480000 | (getpid() & 0xffff);

    /* keys */
    SHOW_OK("get missing key", shmget(key, 4096, 0600));
    int id = shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0600);
    printf("create: %s\n", id >= 0 ? "ok" : errno_name(errno));
    SHOW_OK("create again, IPC_EXCL", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600));
    printf("find it: %s\n", shmget(key, 0, 0) == id ? "same id" : "other");
    printf("find it, IPC_CREAT: %s\n",
           shmget(key, 5000, IPC_CREAT | 0600) == id ? "same id" : "other");
    SHOW_OK("find it larger", shmget(key, 20000, 0));
    SHOW_OK("size 0", shmget(IPC_PRIVATE, 0, 0600));
    SHOW_OK("negative id", shmctl(-1, IPC_RMID, NULL));
    stat_line("new", id);

    /* attach, share with a forked child */
    char *p = shmat(id, NULL, 0);
    printf("attach: %s, page aligned %d\n", p == (void *)-1 ? errno_name(errno) : "ok",
           ((unsigned long)p & 4095) == 0);
    printf("new segment reads zeros: %d\n", p[0] == 0 && p[9999] == 0 && p[12287] == 0);
    strcpy(p, "from the parent");
    stat_line("attached once", id);
    pid_t c = fork();
    if (c == 0) {
        stat_line("child inherits", id);
        printf("child reads: %s\n", p);
        strcpy(p, "from the child");
        char *q = shmat(id, NULL, SHM_RDONLY);
        printf("child's second attach shows it: %s\n", q);
        stat_line("child attached twice", id);
        _exit(0);
    }
    printf("child: %d\n", wait_child(c));
    printf("parent reads: %s\n", p);
    stat_line("child gone", id);

    /* another program attaching by id */
    c = fork();
    if (c == 0) {
        char idt[16];
        snprintf(idt, sizeof(idt), "%d", id);
        execl("/proc/self/exe", argv[0], "attach", idt, (char *)NULL);
        _exit(127);
    }
    printf("exec'd process: %d\n", wait_child(c));
    printf("parent reads: %s\n", p);

    /* read-only attach: a write is SIGSEGV */
    c = fork();
    if (c == 0) {
        char *r = shmat(id, NULL, SHM_RDONLY);
        printf("read-only attach reads: %s\n", r);
        r[0] = 'x';
        _exit(0);
    }
    printf("write to a read-only attach: %d\n", wait_child(c));

    /* addresses: rounding, occupied ranges, SHM_REMAP */
    char *area = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(area, 8 * 4096);
    SHOW_OK("unaligned address", shmat(id, area + 100, 0));
    char *r = shmat(id, area + 100, SHM_RND);
    printf("SHM_RND: %s\n", r == area ? "rounded down" : "elsewhere");
    SHOW_OK("over an attach", shmat(id, area, 0));
    char *m =
        mmap(area + 4 * 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    SHOW_OK("over a mapping", shmat(id, area + 4 * 4096, 0));
    char *rm = shmat(id, area + 4 * 4096, SHM_REMAP);
    printf("SHM_REMAP: %s, reads %s\n", rm == m ? "there" : "elsewhere", rm);
    SHOW_OK("SHM_REMAP at 0", shmat(id, NULL, SHM_REMAP));
    stat_line("three attaches", id);
    SHOW_OK("detach a non-attach address", shmdt(area + 4096));
    SHOW_OK("detach unaligned", shmdt(area + 1));
    SHOW_OK("detach", shmdt(r));
    SHOW_OK("detach again", shmdt(r));
    SHOW_OK("detach the remap", shmdt(rm));
    stat_line("one attach", id);

    /* IPC_SET */
    struct shmid_ds d;
    shmctl(id, IPC_STAT, &d);
    d.shm_perm.mode = 0640;
    SHOW_OK("IPC_SET", shmctl(id, IPC_SET, &d));
    stat_line("after IPC_SET", id);
    SHOW_OK("IPC_STAT bad buffer", shmctl(id, IPC_STAT, (struct shmid_ds *)8));
    SHOW_OK("bad command", shmctl(id, 99, &d));

    /* /proc/sysvipc/shm lists it */
    FILE *f = fopen("/proc/sysvipc/shm", "r");
    char line[512];
    int listed = 0, header = 0;
    while (f && fgets(line, sizeof(line), f)) {
        int k, i;
        if (strstr(line, "shmid perms"))
            header = 1;
        else if (sscanf(line, "%d %d", &k, &i) == 2 && i == id)
            listed = 1;
    }
    if (f)
        fclose(f);
    printf("/proc/sysvipc/shm: header %d, listed %d\n", header, listed);

    /* an unprivileged process */
    if (getuid() == 0) {
        int priv = shmget(IPC_PRIVATE, 4096, 0600);
        c = fork();
        if (c == 0) {
            if (setuid(65534) != 0)
                _exit(3);
            SHOW_OK("unprivileged attach", shmat(priv, NULL, 0));
            SHOW_OK("unprivileged IPC_STAT", shmctl(priv, IPC_STAT, &d));
            SHOW_OK("unprivileged IPC_RMID", shmctl(priv, IPC_RMID, NULL));
            SHOW_OK("unprivileged IPC_SET", shmctl(priv, IPC_SET, &d));
            int mine = shmget(IPC_PRIVATE, 4096, 0600);
            SHOW_OK("own segment, attach", shmat(mine, NULL, 0));
            SHOW_OK("own segment, remove", shmctl(mine, IPC_RMID, NULL));
            _exit(0);
        }
        printf("unprivileged child: %d\n", wait_child(c));
        shmctl(priv, IPC_RMID, NULL);
    }

    /* IPC_RMID while attached: still there until the last detach, the key forgotten */
    SHOW_OK("IPC_RMID", shmctl(id, IPC_RMID, NULL));
    stat_line("removed, attached", id);
    SHOW_OK("find the removed key", shmget(key, 0, 0));
    printf("still reads: %s\n", p);
    c = fork();
    if (c == 0) {
        SHOW_OK("child attaches a removed segment", shmat(id, NULL, 0));
        _exit(0);
    }
    printf("child: %d\n", wait_child(c));
    SHOW_OK("last detach", shmdt(p));
    stat_line("gone", id);
    SHOW_OK("attach it now", shmat(id, NULL, 0));

    /* a segment the process ends attached to, removed afterwards */
    int id2 = shmget(IPC_PRIVATE, 3 * 4096, 0600);
    c = fork();
    if (c == 0) {
        char *x = shmat(id2, NULL, 0);
        memset(x, 'z', 3 * 4096);
        _exit(0); /* exit detaches */
    }
    wait_child(c);
    stat_line("after the child's exit", id2);
    char *y = shmat(id2, NULL, 0);
    printf("the child's bytes stay: %c%c\n", y[0], y[3 * 4096 - 1]);
    shmctl(id2, IPC_RMID, NULL);
    stat_line("removed while attached", id2);
    c = fork();
    if (c == 0)
        _exit(0); /* a child inherits the attachment and ends */
    wait_child(c);
    stat_line("after another child", id2);
    munmap(y, 3 * 4096); /* unmapping without shmdt lets it go too */
    stat_line("unmapped", id2);
    return 0;
}
