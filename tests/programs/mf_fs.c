/* mf_fs.c: file system calls that must fail, each with the errno Linux gives. One line per call:
 * "what: ok" or "what: ENAME" (names from our own table, so musl and glibc print the same).
 *   mf_fs rofs FILE DIR    writes to FILE and DIR (which holds a subdirectory sub/) on a read-only
 *                          file system (EROFS, EEXIST, ...)
 *   mf_fs escape           paths and links with ".." that try to leave the root
 *   mf_fs eof FILE         reads at and past the end of FILE (0 bytes, never an error)
 *   mf_fs badfd FILE       a closed descriptor and descriptors that were never open (EBADF)
 *   mf_fs fill DIR         writes DIR/fill 1 MiB at a time until the file system is full
 *                          (ENOSPC), then deletes it and writes again
 *   mf_fs fds FILE         opens FILE until no descriptor is left (EMFILE, at RLIMIT_NOFILE)
 * Exits 0 after the last line: the program goes on after every failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *errname(int e)
{
    static const struct {
        int e;
        const char *name;
    } names[] = {
        {EPERM, "EPERM"},
        {ENOENT, "ENOENT"},
        {EIO, "EIO"},
        {EBADF, "EBADF"},
        {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"},
        {EFAULT, "EFAULT"},
        {EBUSY, "EBUSY"},
        {EEXIST, "EEXIST"},
        {EXDEV, "EXDEV"},
        {ENOTDIR, "ENOTDIR"},
        {EISDIR, "EISDIR"},
        {EINVAL, "EINVAL"},
        {EMFILE, "EMFILE"},
        {EFBIG, "EFBIG"},
        {ENOSPC, "ENOSPC"},
        {ESPIPE, "ESPIPE"},
        {EROFS, "EROFS"},
        {EMLINK, "EMLINK"},
        {ENOSYS, "ENOSYS"},
        {ELOOP, "ELOOP"},
        {ENOTEMPTY, "ENOTEMPTY"},
        {ENAMETOOLONG, "ENAMETOOLONG"},
        {EOPNOTSUPP, "EOPNOTSUPP"},
        {ETXTBSY, "ETXTBSY"},
        {EOVERFLOW, "EOVERFLOW"},
    };
    static char other[32];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].e == e)
            return names[i].name;
    snprintf(other, sizeof(other), "errno %d", e);
    return other;
}

/* report("what", r): r < 0 means the call failed with errno. */
static void report(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: ok\n", what);
    fflush(stdout);
}

/* An open that succeeded is closed again: only the outcome matters. */
static void try_open(const char *what, const char *path, int flags)
{
    int fd = open(path, flags, 0644);
    report(what, fd);
    if (fd >= 0)
        close(fd);
}

static char *join(const char *a, const char *b)
{
    static char buf[4][512];
    static int n;
    char *p = buf[n++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", a, b);
    return p;
}

static int rofs(const char *file, const char *dir)
{
    try_open("open O_WRONLY", file, O_WRONLY);
    try_open("open O_RDWR", file, O_RDWR);
    try_open("open O_WRONLY|O_APPEND", file, O_WRONLY | O_APPEND);
    try_open("open O_RDONLY|O_TRUNC", file, O_RDONLY | O_TRUNC);
    try_open("open O_CREAT existing", file, O_CREAT | O_WRONLY);
    try_open("open O_CREAT|O_EXCL existing", file, O_CREAT | O_EXCL | O_WRONLY);
    try_open("open O_CREAT new", join(dir, "new-file"), O_CREAT | O_WRONLY);
    try_open("open O_CREAT in a missing directory", join(dir, "no-such-dir/f"), O_CREAT | O_WRONLY);
    try_open("open O_CREAT under a file", join(file, "f"), O_CREAT | O_WRONLY);
    try_open("open a directory O_WRONLY", dir, O_WRONLY);
    try_open("open O_RDONLY (still fine)", file, O_RDONLY);
    report("creat", creat(join(dir, "creat-file"), 0644));
    report("mkdir new", mkdir(join(dir, "new-dir"), 0755));
    report("mkdir existing", mkdir(dir, 0755));
    report("mkdir existing subdirectory", mkdir(join(dir, "sub"), 0755));
    report("rmdir", rmdir(join(dir, "sub")));
    report("unlink", unlink(file));
    report("unlink a missing file", unlink(join(dir, "missing")));
    report("rename", rename(file, join(dir, "renamed")));
    report("link", link(file, join(dir, "hard-link")));
    report("symlink", symlink("target", join(dir, "sym-link")));
    report("truncate", truncate(file, 0));
    report("chmod", chmod(file, 0600));
    report("chown", chown(file, 0, 0));
    report("utimensat", utimensat(AT_FDCWD, file, NULL, 0));
    report("access W_OK file", access(file, W_OK));
    report("access W_OK dir", access(dir, W_OK));
    report("access R_OK file", access(file, R_OK));

    /* a descriptor open for reading cannot write, and cannot be mapped shared and writable */
    int fd = open(file, O_RDONLY);
    report("open for reading", fd);
    report("write to a read-only descriptor", write(fd, "x", 1));
    report("ftruncate a read-only descriptor", ftruncate(fd, 0));
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    report("mmap shared writable", p == MAP_FAILED ? -1 : 0);
    if (p != MAP_FAILED)
        munmap(p, 4096);
    /* a private writable mapping is fine, and writing to it leaves the file as it was */
    char before[16], after[16];
    report("pread", pread(fd, before, sizeof(before), 0));
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    report("mmap private writable", p == MAP_FAILED ? -1 : 0);
    if (p != MAP_FAILED) {
        memset(p, 'Z', 16);
        munmap(p, 4096);
    }
    report("pread again", pread(fd, after, sizeof(after), 0));
    printf("file unchanged: %s\n", memcmp(before, after, sizeof(before)) ? "no" : "yes");
    close(fd);
    return 0;
}

/* Prints the first line of PATH, or why it cannot be read. */
static void show(const char *what, int dirfd, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    printf("%s: %s\n", what, buf);
}

static int escape(void)
{
    show("/../../etc/passwd", AT_FDCWD, "/../../etc/passwd");
    show("../../../../../../etc/passwd", AT_FDCWD, "../../../../../../etc/passwd");
    show("/etc/../../../etc/passwd", AT_FDCWD, "/etc/../../../etc/passwd");
    show("/..//.././etc/./passwd", AT_FDCWD, "/..//.././etc/./passwd");
    show("/../../etc/hostname", AT_FDCWD, "/../../etc/hostname");
    show("link to ../../../../etc/passwd", AT_FDCWD, "/data/escape-rel");
    show("link to /etc/hostname", AT_FDCWD, "/data/escape-abs");
    show("link to ../../../../../etc/hostname", AT_FDCWD, "/data/escape-host");
    int d = open("/data", O_RDONLY | O_DIRECTORY);
    show("openat(/data, ../../../../etc/passwd)", d, "../../../../etc/passwd");
    close(d);
    /* the working directory cannot leave the root either */
    char cwd[256];
    for (int i = 0; i < 5; i++)
        if (chdir("..") != 0)
            printf("chdir ..: %s\n", errname(errno));
    printf("cwd after 5 x chdir(\"..\"): %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : errname(errno));
    show("then etc/passwd", AT_FDCWD, "etc/passwd");
    struct stat root, dotdot;
    if (stat("/", &root) == 0 && stat("/..", &dotdot) == 0)
        printf("/.. is /: %s\n",
               root.st_ino == dotdot.st_ino && root.st_dev == dotdot.st_dev ? "yes" : "no");
    return 0;
}

static int eof(const char *file)
{
    char buf[4096];
    int fd = open(file, O_RDONLY);
    report("open", fd);
    struct stat st;
    report("fstat", fstat(fd, &st));
    off_t size = st.st_size;
    printf("pread at size: %zd\n", pread(fd, buf, sizeof(buf), size));
    printf("pread at size + 1: %zd\n", pread(fd, buf, sizeof(buf), size + 1));
    printf("pread at 1 TiB: %zd\n", pread(fd, buf, sizeof(buf), (off_t)1 << 40));
    if (size >= 10)
        printf("pread straddling the end: %zd\n", pread(fd, buf, sizeof(buf), size - 10));
    printf("lseek SEEK_END: %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("read at the end: %zd\n", read(fd, buf, sizeof(buf)));
    printf("read again: %zd\n", read(fd, buf, sizeof(buf)));
    printf("lseek 1000 past the end: %lld\n", (long long)lseek(fd, 1000, SEEK_END));
    printf("read past the end: %zd\n", read(fd, buf, sizeof(buf)));
    printf("lseek SEEK_CUR: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    struct iovec iov[2] = {{buf, 100}, {buf + 100, 100}};
    printf("readv past the end: %zd\n", readv(fd, iov, 2));
    printf("read of 0 bytes: %zd\n", read(fd, buf, 0));
    report("lseek to -1", lseek(fd, -1, SEEK_SET));
    printf("lseek 5 from the start: %lld\n", (long long)lseek(fd, 5, SEEK_SET));
    /* read everything: the total is the file's size, then 0 */
    lseek(fd, 0, SEEK_SET);
    long long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        total += n;
    printf("read to the end: %lld bytes (size %lld), last read %zd\n", total, (long long)size, n);
    close(fd);
    return 0;
}

static int badfd(const char *file)
{
    char buf[64];
    struct stat st;
    int fd = open(file, O_RDONLY);
    report("open", fd);
    report("close", close(fd));
    report("read after close", read(fd, buf, sizeof(buf)));
    report("write after close", write(fd, "x", 1));
    report("pread after close", pread(fd, buf, sizeof(buf), 0));
    report("lseek after close", lseek(fd, 0, SEEK_SET));
    report("fstat after close", fstat(fd, &st));
    report("fcntl F_GETFD after close", fcntl(fd, F_GETFD));
    report("dup after close", dup(fd));
    report("dup2 from a closed descriptor", dup2(fd, 100));
    report("close again", close(fd));
    report("read(-1)", read(-1, buf, sizeof(buf)));
    report("write(-1)", write(-1, "x", 1));
    report("close(-1)", close(-1));
    report("read(1000000)", read(1000000, buf, sizeof(buf)));
    report("fstat(123456)", fstat(123456, &st));
    report("close(INT_MAX)", close(0x7fffffff));
    report("mmap of a closed descriptor",
           mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);
    /* a descriptor closed by dup2 over it, then the standard ones still work */
    int a = open(file, O_RDONLY), b = open(file, O_RDONLY);
    report("dup2 over an open descriptor", dup2(a, b));
    report("read through the duplicate", read(b, buf, 4));
    close(a);
    report("read after closing the original", read(b, buf, 4));
    close(b);
    report("read after closing both", read(b, buf, 4));
    return 0;
}

static int fill(const char *dir)
{
    static char chunk[1 << 20];
    memset(chunk, 'f', sizeof(chunk));
    const char *path = join(dir, "fill");
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    report("create", fd);
    long long total = 0;
    ssize_t n;
    int e = 0;
    for (int i = 0; i < 1 << 20; i++) { /* at most 1 TiB */
        n = write(fd, chunk, sizeof(chunk));
        if (n < 0) {
            e = errno;
            break;
        }
        total += n;
        if (n < (ssize_t)sizeof(chunk)) { /* a short write: the next one says why */
            n = write(fd, chunk, sizeof(chunk));
            e = n < 0 ? errno : 0;
            break;
        }
    }
    printf("full after some MiB: %s, then %s\n", total >= (1 << 20) ? "yes" : "no",
           e ? errname(e) : "no error");
    struct stat st;
    report("fstat", fstat(fd, &st));
    printf("size is what was written: %s\n", st.st_size == total ? "yes" : "no");
    report("close", close(fd));
    report("unlink", unlink(path));
    /* the space is free again */
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    report("create again", fd);
    printf("write 1 MiB again: %s\n",
           write(fd, chunk, sizeof(chunk)) == sizeof(chunk) ? "ok" : errname(errno));
    close(fd);
    report("unlink again", unlink(path));
    return 0;
}

static int fds(const char *file)
{
    struct rlimit rl;
    report("getrlimit", getrlimit(RLIMIT_NOFILE, &rl));
    int n = 0, fd, last = -1;
    while ((fd = open(file, O_RDONLY)) >= 0) {
        last = fd;
        if (++n > 1 << 20)
            break;
    }
    int e = errno;
    printf("open until it fails: %s\n", errname(e));
    printf("the last descriptor is RLIMIT_NOFILE - 1: %s\n",
           (rlim_t)last + 1 == rl.rlim_cur ? "yes" : "no");
    report("close one", close(last));
    fd = open(file, O_RDONLY);
    printf("open after closing one: %s\n", fd == last ? "the same number" : "another number");
    report("dup when full", dup(0));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "rofs") == 0)
        return rofs(argv[2], argv[3]);
    if (argc >= 2 && strcmp(argv[1], "escape") == 0)
        return escape();
    if (argc >= 3 && strcmp(argv[1], "eof") == 0)
        return eof(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "badfd") == 0)
        return badfd(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "fill") == 0)
        return fill(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "fds") == 0)
        return fds(argv[2]);
    fprintf(stderr,
            "usage: mf_fs rofs FILE DIR | escape | eof FILE | badfd FILE | fill DIR | fds FILE\n");
    return 2;
}
