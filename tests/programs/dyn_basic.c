/* dyn_basic.c: a dynamically linked program (glibc's or musl's loader maps it and its
 * libraries), natively and in an enclave (dynamic.bats): the same output and exit status.
 *
 *   dyn_basic            the auxiliary vector's view of the loader and the program, shared
 *                        libraries loaded with dlopen, a fork whose child runs this program
 *                        again with execve (through the interpreter, as a new image), errnos
 *   dyn_basic child N    what the child prints; exits with N
 *   dyn_basic loop N     N getppid() through libc's wrapper, N through its generic syscall()
 *                        and N 1-byte reads: syscall sites in a shared library (dynamic.bats
 *                        counts how many of them trap)
 *
 * Addresses are never printed: natively they are randomized. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char _start[];

static const char *yes(int b)
{
    return b ? "yes" : "no";
}

/* dl_iterate_phdr: counts the objects and finds the one holding the interpreter (AT_BASE) */
struct walk {
    int objects;
    int base_found;
    int exe_phdr_found;
};

static int walk_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct walk *w = arg;
    w->objects++;
    if (info->dlpi_addr == getauxval(AT_BASE))
        w->base_found = 1;
    if ((uintptr_t)info->dlpi_phdr == getauxval(AT_PHDR))
        w->exe_phdr_found = 1;
    return 0;
}

static void auxv_checks(void)
{
    unsigned long base = getauxval(AT_BASE), entry = getauxval(AT_ENTRY);
    printf("AT_BASE set (an interpreter was loaded): %s\n", yes(base != 0));
    printf("AT_ENTRY is the program's _start: %s\n", yes(entry == (uintptr_t)_start));
    printf("AT_PHENT %lu\n", getauxval(AT_PHENT));
    printf("AT_PAGESZ %lu\n", getauxval(AT_PAGESZ));
    printf("AT_RANDOM set: %s\n", yes(getauxval(AT_RANDOM) != 0));
    const char *fn = (const char *)getauxval(AT_EXECFN);
    printf("AT_EXECFN ends in dyn_basic: %s\n",
           yes(fn && strstr(fn, "dyn_basic") && strlen(strstr(fn, "dyn_basic")) > 8));
    /* the interpreter lies apart from the program */
    Dl_info di;
    int ok = dladdr((void *)auxv_checks, &di);
    printf("dladdr of main's code names the program: %s\n",
           yes(ok && di.dli_fname && (strstr(di.dli_fname, "dyn_basic") || !*di.dli_fname)));
    struct walk w = {0};
    dl_iterate_phdr(walk_one, &w);
    printf("dl_iterate_phdr: the interpreter at AT_BASE %s, the program's headers at AT_PHDR %s, "
           "at least two objects %s\n",
           yes(w.base_found), yes(w.exe_phdr_found), yes(w.objects >= 2));
}

static void dlopen_checks(void)
{
#ifdef __GLIBC__
    const char *lib = "libm.so.6";
#else
    const char *lib = "libc.so"; /* musl: one library holds libc and libm */
#endif
    void *h = dlopen(lib, RTLD_NOW);
    printf("dlopen(%s): %s\n", lib, yes(h != NULL));
    if (h) {
        double (*cosp)(double) = (double (*)(double))dlsym(h, "cos");
        printf("cos(0) through dlsym = %.1f\n", cosp ? cosp(0.0) : -1.0);
        printf("dlclose = %d\n", dlclose(h));
    }
    void *missing = dlopen("libdoes-not-exist.so.7", RTLD_NOW);
    printf("dlopen of a missing library fails: %s\n", yes(missing == NULL));
}

static void child_checks(const char *self)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"dyn_basic", "child", "7", NULL};
        char *envp[] = {"DYN_FROM_PARENT=1", NULL};
        execve(self, argv, envp);
        _exit(99);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("the child ran the program again and exited with %d\n",
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    /* an executable whose interpreter is missing: execve fails, the caller stays */
    char path[] = "/tmp/dyn_basic_badinterp_XXXXXX";
    int fd = mkstemp(path);
    int in = open(self, O_RDONLY);
    char buf[65536];
    ssize_t n;
    size_t total = 0;
    static char copy[8 << 20];
    while ((n = read(in, buf, sizeof(buf))) > 0 && total + (size_t)n <= sizeof(copy)) {
        memcpy(copy + total, buf, (size_t)n);
        total += (size_t)n;
    }
    close(in);
    /* point PT_INTERP at a path that does not exist */
    Elf64_Ehdr *eh = (Elf64_Ehdr *)copy;
    Elf64_Phdr *ph = (Elf64_Phdr *)(copy + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_INTERP && ph[i].p_filesz > 3)
            memcpy(copy + ph[i].p_offset, "/no", 3);
    if (write(fd, copy, total) != (ssize_t)total)
        printf("write failed\n");
    fchmod(fd, 0755);
    close(fd);
    char *argv[] = {"bad", NULL};
    errno = 0;
    int r = execve(path, argv, argv + 1);
    printf("execve with a missing interpreter = %d errno %d\n", r, errno);
    unlink(path);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "loop") == 0) {
        long n = atol(argv[2]), sum = 0;
        int fd = open("/proc/self/exe", O_RDONLY);
        char c;
        for (long i = 0; i < n; i++) {
            sum += getppid() == syscall(SYS_getppid);
            sum += pread(fd, &c, 1, 0) == 1 && c == 0x7f;
        }
        printf("loop: %ld of %ld agree\n", sum, 2 * n);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "child") == 0) {
        printf("child: AT_BASE set %s, DYN_FROM_PARENT=%s\n", yes(getauxval(AT_BASE) != 0),
               getenv("DYN_FROM_PARENT") ? getenv("DYN_FROM_PARENT") : "(unset)");
        return atoi(argv[2]);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    auxv_checks();
    dlopen_checks();
    child_checks("/proc/self/exe");
    errno = 0;
    int r = open("/nonexistent/file", O_RDONLY);
    printf("open of a missing file = %d errno %d\n", r, errno);
    void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 1 MiB: %s\n", yes(m != MAP_FAILED));
    printf("done\n");
    return 3;
}
