/* fs_mount.c: mount and umount2 of a tmpfs: the mount hides the directory's contents until it
 * goes, /proc/self/mounts lists it, what is in use is EBUSY unless detached, and the errors
 * (an unknown type, a bad option, no mount point, no privilege, read-only). Prints facts, never
 * paths or numbers that differ between runs, so a native run (as root, in a mount namespace of
 * its own: unshare -m) and an enclave run must print the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define TMPFS_MAGIC 0x01021994

static const char *res(int r)
{
    static const struct {
        int e;
        const char *name;
    } names[] = {{EPERM, "EPERM"}, {ENOENT, "ENOENT"},   {EINVAL, "EINVAL"},
                 {EBUSY, "EBUSY"}, {ENODEV, "ENODEV"},   {EAGAIN, "EAGAIN"},
                 {EROFS, "EROFS"}, {ENOTDIR, "ENOTDIR"}, {EACCES, "EACCES"}};
    if (r == 0)
        return "ok";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].e == errno)
            return names[i].name;
    return strerror(errno);
}

static int listed(const char *dir)
{
    FILE *f = fopen("/proc/self/mounts", "r");
    char line[4096];
    int found = 0;
    while (f && fgets(line, sizeof(line), f)) {
        char src[256], path[4096], type[64];
        if (sscanf(line, "%255s %4095s %63s", src, path, type) == 3 && strcmp(path, dir) == 0 &&
            strcmp(type, "tmpfs") == 0)
            found = 1;
    }
    if (f)
        fclose(f);
    return found;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/fs_mount.XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    chdir(dir);
    mkdir("m", 0755);
    close(open("m/old", O_CREAT | O_WRONLY, 0644));
    struct stat before, st;
    stat("m", &before);
    snprintf(path, sizeof(path), "%s/m", dir);

    printf("mount an unknown type: %s\n", res(mount("none", "m", "nosuchfs", 0, NULL)));
    printf("mount with an unknown option: %s\n", res(mount("none", "m", "tmpfs", 0, "bogus=1")));
    printf("mount on a missing directory: %s\n", res(mount("none", "nowhere", "tmpfs", 0, NULL)));
    printf("umount of a plain directory: %s\n", res(umount("m")));
    printf("MS_PRIVATE on a plain directory: %s\n", res(mount(NULL, "m", NULL, MS_PRIVATE, NULL)));

    printf("mount a tmpfs (mode=0700): %s\n", res(mount("none", "m", "tmpfs", 0, "mode=0700")));
    stat("m", &st);
    printf("its mode %o, another device: %s, the old file hidden: %s\n", st.st_mode & 07777,
           st.st_dev != before.st_dev ? "yes" : "no", access("m/old", F_OK) ? "yes" : "no");
    struct statfs sf;
    statfs("m", &sf);
    printf("statfs says tmpfs: %s; /proc/self/mounts lists it: %s\n",
           sf.f_type == TMPFS_MAGIC ? "yes" : "no", listed(path) ? "yes" : "no");
    printf("MS_PRIVATE on it: %s\n", res(mount(NULL, "m", NULL, MS_PRIVATE, NULL)));
    printf("rmdir of the mount point: %s\n", res(rmdir("m")));

    int fd = open("m/new", O_CREAT | O_RDWR, 0600);
    write(fd, "kept", 4);
    printf("umount while a file is open: %s\n", res(umount("m")));
    chdir("m");
    close(fd);
    printf("umount while it is the working directory: %s\n", res(umount(path)));
    chdir(dir);
    printf("MNT_EXPIRE, first: %s", res(umount2("m", MNT_EXPIRE)));
    printf(", second: %s\n", res(umount2("m", MNT_EXPIRE)));
    printf("after umount the old file is back: %s, the new one gone: %s\n",
           access("m/old", F_OK) == 0 ? "yes" : "no", access("m/new", F_OK) ? "yes" : "no");

    /* detached while a file is open: still readable */
    mount("none", "m", "tmpfs", 0, NULL);
    fd = open("m/f", O_CREAT | O_RDWR, 0600);
    write(fd, "still here", 10);
    printf("umount2 MNT_DETACH with a file open: %s", res(umount2("m", MNT_DETACH)));
    char buf[16] = {0};
    printf(", the file reads: %s\n", pread(fd, buf, 10, 0) == 10 ? buf : "nothing");
    close(fd);
    printf("/proc/self/mounts lists it after: %s\n", listed(path) ? "yes" : "no");

    /* read-only, and two mounts stacked */
    printf("mount read-only: %s", res(mount("none", "m", "tmpfs", MS_RDONLY, NULL)));
    printf(", create a file in it: %s\n", res(open("m/x", O_CREAT | O_WRONLY, 0600) < 0 ? -1 : 0));
    printf("a second mount over it: %s", res(mount("none", "m", "tmpfs", 0, NULL)));
    printf(", writable: %s\n", res(mkdir("m/d", 0755)));
    printf("umount twice: %s", res(umount("m")));
    printf(" %s", res(umount("m")));
    printf(", a third time: %s\n", res(umount("m")));

    /* privilege (the directory searchable: a lookup's EACCES would come first) */
    chmod(dir, 0755);
    pid_t pid = fork();
    if (pid == 0) {
        setgid(1000);
        setuid(1000);
        printf("unprivileged mount: %s", res(mount("none", "m", "tmpfs", 0, NULL)));
        printf(", umount: %s\n", res(umount("m")));
        _exit(0);
    }
    waitpid(pid, NULL, 0);

    unlink("m/old");
    rmdir("m");
    chdir("/");
    rmdir(dir);
    printf("done\n");
    return 0;
}
