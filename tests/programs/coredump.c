/* coredump.c: core dumps of processes killed by a signal whose default action is "core": the
 * wait status's WCOREDUMP, CLD_DUMPED in waitid and in SIGCHLD's siginfo, and the file "core"
 * in the working directory read back as an ELF core (its notes, the killed thread's registers,
 * the child's memory), under RLIMIT_CORE's rules (0 and less than a page: no core; a page: a
 * core cut at the limit), for abort, kill from the parent, a fault, a process with two threads,
 * a signal that does not dump, and a directory the process may not write.
 *
 * Run as root. Prints facts, never pids or addresses, so that a native run and an enclave run
 * print the same where the host keeps Linux's defaults (core_pattern "core", core_uses_pid 0);
 * where it does not (a crash handler behind a pipe), the file checks are skipped and it says so.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/procfs.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the child leaves in its memory, for the parent to find in the core. */
static struct {
    char text[32];
    char *heap;
} g_marker = {"set before the fork", NULL};

static char g_argv[256]; /* the command line as pr_psargs shows it */
static size_t g_argv_len;
static bool g_files = true; /* the host writes "core" files as Linux does by default */

static void say(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%-44s: ", what);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static const char *yes(bool b)
{
    return b ? "yes" : "no";
}

static const char *code_name(int code)
{
    switch (code) {
    case CLD_EXITED:
        return "CLD_EXITED";
    case CLD_KILLED:
        return "CLD_KILLED";
    case CLD_DUMPED:
        return "CLD_DUMPED";
    default:
        return "other";
    }
}

static void first_line(const char *path, char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)size, f))
        buf[strcspn(buf, "\n")] = 0;
    fclose(f);
}

static void set_core_limit(rlim_t cur)
{
    struct rlimit rl;
    getrlimit(RLIMIT_CORE, &rl);
    rl.rlim_cur = cur == RLIM_INFINITY ? rl.rlim_max : cur;
    if (setrlimit(RLIMIT_CORE, &rl))
        perror("setrlimit");
}

/* ---- the children ---- */

static void mark_memory(void)
{
    strcpy(g_marker.text, "written by the child");
    g_marker.heap = malloc(64);
    strcpy(g_marker.heap, "the child's heap");
}

static void child_abort(void)
{
    mark_memory();
    abort();
}

static void child_pause(void)
{
    for (;;)
        pause();
}

static int *volatile g_bad = (int *)8; /* volatile: the compiler keeps the write */

static void child_fault(void)
{
    mark_memory();
    *g_bad = 1;
}

static void child_term(void)
{
    raise(SIGTERM);
}

static int g_pipe[2];

static void *blocked_reader(void *arg)
{
    (void)arg;
    char c;
    if (read(g_pipe[0], &c, 1) < 0)
        perror("read");
    return NULL;
}

static void child_threads(void)
{
    pthread_t t;
    pthread_create(&t, NULL, blocked_reader, NULL);
    usleep(100000); /* the other thread blocks in read */
    abort();
}

/* A process that changes its ids is no longer dumpable (Linux's suid_dumpable 0), until
 * PR_SET_DUMPABLE makes it so again. */
static void drop_root(void)
{
    if (setgid(65534) || setuid(65534))
        perror("drop_root");
}

static void child_unprivileged(void)
{
    drop_root();
    say("  PR_GET_DUMPABLE after setuid", "%d", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    abort();
}

static void child_unprivileged_dumpable(void)
{
    drop_root();
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    say("  PR_GET_DUMPABLE after PR_SET_DUMPABLE 1", "%d", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    abort();
}

/* ---- the parent ---- */

/* Runs child in a new process; kill_with: a signal the parent sends it (0: none). Reports the
 * SIGCHLD siginfo, waitid's and the wait status. Returns the child's pid. */
static pid_t run_child(void (*child)(void), int kill_with, int *status)
{
    unlink("core");
    pid_t pid = fork();
    if (pid == 0) {
        child();
        _exit(99);
    }
    if (kill_with) {
        usleep(100000);
        kill(pid, kill_with);
    }
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    siginfo_t si;
    if (sigwaitinfo(&chld, &si) < 0)
        perror("sigwaitinfo");
    say("  SIGCHLD si_code, si_status", "%s, %d", code_name(si.si_code), si.si_status);
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT))
        perror("waitid");
    say("  waitid si_code, si_status", "%s, %d", code_name(si.si_code), si.si_status);
    if (waitpid(pid, status, 0) != pid)
        perror("waitpid");
    say("  WIFSIGNALED, WTERMSIG, WCOREDUMP", "%s, %d, %s", yes(WIFSIGNALED(*status)),
        WTERMSIG(*status), yes(WCOREDUMP(*status)));
    return pid;
}

static char *slurp_core(size_t *size)
{
    int fd = open("core", O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    *size = got;
    return buf;
}

/* The PT_LOAD holding [va, va + len) with its bytes in the file, or NULL. */
static const Elf64_Phdr *segment_of(const char *core, size_t size, uint64_t va, size_t len,
                                    bool with_bytes)
{
    const Elf64_Ehdr *e = (const Elf64_Ehdr *)core;
    for (int i = 0; i < e->e_phnum; i++) {
        const Elf64_Phdr *p = (const Elf64_Phdr *)(core + e->e_phoff) + i;
        if (p->p_type != PT_LOAD || va < p->p_vaddr || va + len > p->p_vaddr + p->p_memsz)
            continue;
        if (!with_bytes)
            return p;
        if (va + len <= p->p_vaddr + p->p_filesz && p->p_offset + p->p_filesz <= size)
            return p;
    }
    return NULL;
}

static const char *memory_at(const char *core, size_t size, uint64_t va, size_t len)
{
    const Elf64_Phdr *p = segment_of(core, size, va, len, true);
    return p ? core + p->p_offset + (va - p->p_vaddr) : NULL;
}

/* Reads the core back: the header, the notes, the killed thread's registers, the memory. */
static void check_core(pid_t pid, int sig, bool memory)
{
    struct stat st;
    if (stat("core", &st)) {
        say("  core file", "missing (%s)", strerror(errno));
        return;
    }
    say("  core file: regular, mode, owner", "%s, %04o, %u:%u", yes(S_ISREG(st.st_mode)),
        st.st_mode & 07777, st.st_uid, st.st_gid);
    size_t size;
    char *core = slurp_core(&size);
    const Elf64_Ehdr *e = (const Elf64_Ehdr *)core;
    if (!core || size < sizeof(*e) || memcmp(e->e_ident, ELFMAG, SELFMAG) ||
        e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_phoff + e->e_phnum * sizeof(Elf64_Phdr) > size) {
        say("  core file", "not an ELF file of 64 bits");
        free(core);
        return;
    }
    say("  ELF type, machine", "%s, %s", e->e_type == ET_CORE ? "ET_CORE" : "other",
        e->e_machine == EM_X86_64 ? "x86-64" : "other");
    int notes = 0, loads = 0, prstatus = 0;
    unsigned uid = 0;
    bool first_ok = false, psinfo_ok = false, args_ok = false, rip_ok = false, rsp_ok = false;
    int code = -1000, pagesz = 0;
    uint64_t addr = 0;
    for (int i = 0; i < e->e_phnum; i++) {
        const Elf64_Phdr *p = (const Elf64_Phdr *)(core + e->e_phoff) + i;
        loads += p->p_type == PT_LOAD;
        if (p->p_type != PT_NOTE || p->p_offset + p->p_filesz > size)
            continue;
        notes++;
        for (size_t at = p->p_offset; at + sizeof(Elf64_Nhdr) <= p->p_offset + p->p_filesz;) {
            const Elf64_Nhdr *n = (const Elf64_Nhdr *)(core + at);
            const char *desc = core + at + sizeof(*n) + ((n->n_namesz + 3) & ~3u);
            at = (size_t)(desc - core) + ((n->n_descsz + 3) & ~3u);
            if (at > size)
                break;
            if (n->n_type == NT_PRSTATUS && n->n_descsz == sizeof(struct elf_prstatus)) {
                const struct elf_prstatus *ps = (const struct elf_prstatus *)desc;
                const struct user_regs_struct *r = (const struct user_regs_struct *)&ps->pr_reg;
                if (prstatus++ == 0) {
                    first_ok = ps->pr_cursig == sig && ps->pr_pid == pid;
                    const Elf64_Phdr *x = segment_of(core, size, r->rip, 1, false);
                    const Elf64_Phdr *w = segment_of(core, size, r->rsp, 8, false);
                    rip_ok = x && (x->p_flags & PF_X);
                    rsp_ok = w && (w->p_flags & PF_W);
                }
            } else if (n->n_type == NT_PRPSINFO && n->n_descsz == sizeof(struct elf_prpsinfo)) {
                const struct elf_prpsinfo *ps = (const struct elf_prpsinfo *)desc;
                char expect[ELF_PRARGSZ] = {0};
                memcpy(expect, g_argv, g_argv_len < ELF_PRARGSZ ? g_argv_len : ELF_PRARGSZ - 1);
                psinfo_ok = ps->pr_pid == pid && ps->pr_ppid == getpid();
                uid = ps->pr_uid;
                args_ok = memcmp(ps->pr_psargs, expect, ELF_PRARGSZ) == 0;
            } else if (n->n_type == NT_SIGINFO && n->n_descsz == sizeof(siginfo_t)) {
                const siginfo_t *si = (const siginfo_t *)desc;
                code = si->si_signo == sig ? si->si_code : -1000;
                addr = (uint64_t)(uintptr_t)si->si_addr;
            } else if (n->n_type == NT_AUXV) {
                for (const uint64_t *a = (const uint64_t *)desc;
                     (const char *)(a + 2) <= desc + n->n_descsz && a[0] != AT_NULL; a += 2)
                    if (a[0] == AT_PAGESZ)
                        pagesz = (int)a[1];
            }
        }
    }
    say("  PT_NOTE, PT_LOADs", "%d, %s", notes, loads > 0 ? "some" : "none");
    say("  NT_PRSTATUS: threads, first one the killed", "%d, %s", prstatus, yes(first_ok));
    say("  its rip executable, its rsp writable", "%s, %s", yes(rip_ok), yes(rsp_ok));
    say("  NT_PRPSINFO: pids, uid, psargs from argv", "%s, %u, %s", yes(psinfo_ok), uid,
        yes(args_ok));
    if (code == SEGV_MAPERR)
        say("  NT_SIGINFO: si_code, si_addr", "SEGV_MAPERR, %#lx", (unsigned long)addr);
    else
        say("  NT_SIGINFO: si_code", "%s",
            code == SI_TKILL  ? "SI_TKILL"
            : code == SI_USER ? "SI_USER"
                              : "other");
    say("  NT_AUXV: AT_PAGESZ", "%d", pagesz);
    if (memory) {
        const char *m = memory_at(core, size, (uint64_t)(uintptr_t)&g_marker, sizeof(g_marker));
        char *heap = NULL;
        if (m)
            memcpy(&heap, m + offsetof(__typeof__(g_marker), heap), sizeof(heap));
        const char *h = heap ? memory_at(core, size, (uint64_t)(uintptr_t)heap, 17) : NULL;
        say("  the child's global in the core", "%s", m ? m : "(not there)");
        say("  the child's heap in the core", "%s", h ? h : "(not there)");
    }
    free(core);
}

static void no_core(void)
{
    say("  core file", "%s", access("core", F_OK) == 0 ? "there" : "none");
}

static void dumps(const char *title, void (*child)(void), int kill_with, int sig, bool memory)
{
    printf("%s\n", title);
    int status;
    pid_t pid = run_child(child, kill_with, &status);
    if (g_files)
        check_core(pid, sig, memory);
}

static void no_dump(const char *title, void (*child)(void), int kill_with)
{
    printf("%s\n", title);
    int status;
    run_child(child, kill_with, &status);
    if (g_files)
        no_core();
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* a shell's background job starts with SIGQUIT ignored, and its children would inherit
     * that: the child this sends SIGQUIT to must get the default action */
    signal(SIGQUIT, SIG_DFL);
    for (int i = 0; i < argc && g_argv_len < sizeof(g_argv); i++) {
        size_t n = strlen(argv[i]) + 1;
        if (g_argv_len + n > sizeof(g_argv))
            n = sizeof(g_argv) - g_argv_len;
        memcpy(g_argv + g_argv_len, argv[i], n);
        g_argv_len += n;
    }
    for (size_t i = 0; i < g_argv_len; i++)
        if (!g_argv[i])
            g_argv[i] = ' ';

    char pattern[256], uses_pid[32];
    first_line("/proc/sys/kernel/core_pattern", pattern, sizeof(pattern));
    first_line("/proc/sys/kernel/core_uses_pid", uses_pid, sizeof(uses_pid));
    g_files = strcmp(pattern, "core") == 0 && strcmp(uses_pid, "0") == 0;
    if (g_files)
        say("core_pattern, core_uses_pid", "%s, %s", pattern, uses_pid);
    else
        say("core_pattern, core_uses_pid", "not Linux's defaults (%s, %s): no file checks", pattern,
            uses_pid);

    char dir[] = "/tmp/coredump.XXXXXX";
    if (!mkdtemp(dir) || chmod(dir, 0755) || chdir(dir)) {
        perror(dir);
        return 1;
    }
    umask(022);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    pipe(g_pipe);

    struct rlimit rl;
    getrlimit(RLIMIT_CORE, &rl);
    set_core_limit(RLIM_INFINITY);
    dumps("abort() with RLIMIT_CORE at its hard limit", child_abort, 0, SIGABRT, true);
    dumps("SIGQUIT from the parent", child_pause, SIGQUIT, SIGQUIT, false);
    dumps("a NULL pointer write", child_fault, 0, SIGSEGV, true);
    dumps("abort() with another thread blocked in read", child_threads, 0, SIGABRT, false);
    no_dump("SIGTERM (its default action is not core)", child_term, 0);
    /* a directory anyone may write, then one only root may: the children give up root */
    mkdir("open", 0777);
    chmod("open", 0777);
    chdir("open");
    no_dump("abort() after setuid(65534)", child_unprivileged, 0);
    dumps("abort() after setuid(65534) and PR_SET_DUMPABLE", child_unprivileged_dumpable, 0,
          SIGABRT, false);
    unlink("core");
    chdir("..");
    rmdir("open");
    mkdir("unwritable", 0755);
    chdir("unwritable");
    no_dump("the same in a directory it may not write", child_unprivileged_dumpable, 0);
    chdir("..");
    rmdir("unwritable");

    set_core_limit(4096);
    printf("abort() with RLIMIT_CORE 4096\n");
    int status;
    pid_t pid = run_child(child_abort, 0, &status);
    struct stat st;
    if (g_files) {
        bool there = stat("core", &st) == 0;
        say("  core file, at most 4096 bytes", "%s, %s", there ? "there" : "none",
            yes(there && st.st_size <= 4096));
        size_t size = 0;
        char *core = there ? slurp_core(&size) : NULL;
        say("  it starts with the ELF magic", "%s",
            yes(core && size >= 4 && memcmp(core, ELFMAG, SELFMAG) == 0));
        free(core);
    }
    (void)pid;

    set_core_limit(1000);
    no_dump("abort() with RLIMIT_CORE 1000 (less than a page)", child_abort, 0);
    set_core_limit(0);
    no_dump("abort() with RLIMIT_CORE 0", child_abort, 0);

    setrlimit(RLIMIT_CORE, &rl);
    unlink("core");
    chdir("/");
    rmdir(dir);
    return 0;
}
