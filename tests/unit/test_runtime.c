/* test_runtime.c: the runtime directory (common/runtime.c): the modes of what alcove makes there
 * are set explicitly, whatever the umask, and a directory another user owns or may write to is
 * refused. runtime_dir() decides once per process, so each case runs in a child of its own. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/runtime.h"

static char g_tmp[] = "/tmp/test_runtime.XXXXXX";
/* Run as root, the umask cases run again as this unprivileged user, in a directory of its own:
 * root reads and searches any directory whatever its mode, so a directory its owner cannot read
 * (umask 0777 or 0477 leaves mkdir's directory 0000 or 0300) only fails for another user. */
#define UNPRIVILEGED 65534
static char g_tmp_unpriv[] = "/tmp/test_runtime_unpriv.XXXXXX";

/* Runs fn(arg) in a child with ALCOVE_RUNTIME_DIR=<base>/name and the umask mask, as uid (when
 * it differs from ours); the child's exit status is the case's failure (0 when it passed, else
 * the line that failed). */
static void in_child_as(uid_t uid, const char *name, mode_t mask, int (*fn)(const char *dir))
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/%s", uid == geteuid() ? g_tmp : g_tmp_unpriv, name);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (uid != geteuid() && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
            _exit(255);
        setenv("ALCOVE_RUNTIME_DIR", dir, 1);
        umask(mask);
        _exit(fn(dir));
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("case %s (umask %03o, uid %u) failed at line %d", name, (unsigned)mask,
                 (unsigned)uid, WEXITSTATUS(st));
}

static void in_child(const char *name, mode_t mask, int (*fn)(const char *dir))
{
    in_child_as(geteuid(), name, mask, fn);
}

/* The same case as this user and, when we are root, as an unprivileged one. */
static void in_child_users(const char *name, mode_t mask, int (*fn)(const char *dir))
{
    in_child(name, mask, fn);
    if (geteuid() == 0)
        in_child_as(UNPRIVILEGED, name, mask, fn);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return __LINE__ % 256 ? __LINE__ % 256 : 1;                                            \
    } while (0)

static mode_t mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* Made by alcove: 0700, even when the umask would leave the owner without write. */
static int made_0700(const char *dir)
{
    CHECK(runtime_dir() != NULL);
    CHECK(strcmp(runtime_dir(), dir) == 0);
    CHECK(mode_of(dir) == 0700);
    CHECK(runtime_dir_problem() == NULL);
    return 0;
}

static void test_dir_mode_whatever_the_umask(void **state)
{
    (void)state;
    in_child_users("u000", 0, made_0700);
    in_child_users("u022", 022, made_0700);
    in_child_users("u277", 0277, made_0700);
    in_child_users("u477", 0477, made_0700);
    in_child_users("u777", 0777, made_0700);
}

/* A socket made with runtime_listen: 0600 under umask 000 (bind alone gives 0777), and it
 * accepts connections. */
static int socket_0600(const char *dir)
{
    CHECK(runtime_dir() != NULL);
    char path[300];
    snprintf(path, sizeof(path), "%s/5.vsock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK(runtime_listen(fd, path, 4) == 0);
    CHECK(mode_of(path) == RUNTIME_SOCKET_MODE);
    CHECK(RUNTIME_SOCKET_MODE == 0600);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    CHECK(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    /* a second socket on the same path fails and leaves the first one's file alone */
    int fd2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(runtime_listen(fd2, path, 4) == -1 && errno == EADDRINUSE);
    CHECK(mode_of(path) == 0600);
    return 0;
}

static void test_socket_mode(void **state)
{
    (void)state;
    in_child_users("sock000", 0, socket_0600);
    in_child_users("sock077", 077, socket_0600);
    in_child_users("sock777", 0777, socket_0600);
}

/* An enclave's description: 0600 under any umask (the directory may be readable by others). */
static int description_mode(const char *dir)
{
    struct runtime_claim c;
    CHECK(runtime_claim(&c, 0) == 0);
    char path[300];
    snprintf(path, sizeof(path), "%s/%u.json", dir, c.cid);
    CHECK(mode_of(path) == 0600 && RUNTIME_FILE_MODE == 0600);
    runtime_release(&c);
    CHECK(mode_of(path) == (mode_t)-1);
    return 0;
}

static void test_description_mode(void **state)
{
    (void)state;
    in_child_users("desc000", 0, description_mode);
    in_child_users("desc077", 077, description_mode);
    in_child_users("desc777", 0777, description_mode);
}

/* An existing directory that is unsafe: refused (EPERM), with the reason, and left as it was. */
static const char *g_want; /* words the reason must contain */
static int refused(const char *dir)
{
    struct stat before;
    CHECK(lstat(dir, &before) == 0);
    CHECK(runtime_dir() == NULL);
    CHECK(errno == EPERM);
    CHECK(runtime_dir_problem() != NULL);
    CHECK(strstr(runtime_dir_problem(), g_want) != NULL);
    CHECK(strstr(runtime_dir_problem(), dir) != NULL);
    char path[300];
    CHECK(runtime_path(path, sizeof(path), 4, "vsock") == -1);
    struct runtime_claim c;
    CHECK(runtime_claim(&c, 0) < 0);
    struct stat after;
    CHECK(lstat(dir, &after) == 0);
    CHECK(before.st_mode == after.st_mode && before.st_uid == after.st_uid);
    return 0;
}

static const char *g_tmp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", g_tmp, name);
    return path;
}

static void make_dir(const char *name, mode_t mode)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/%s", g_tmp, name);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, mode), 0);
}

static void test_unsafe_dirs_refused(void **state)
{
    (void)state;
    make_dir("world", 0777);
    g_want = "every user";
    in_child("world", 0, refused);
    make_dir("sticky", 01777);
    in_child("sticky", 0, refused);
    make_dir("group", 0770);
    g_want = "its group";
    in_child("group", 0, refused);
    /* its owner's own, but not usable by its owner: refused with the reason, never repaired */
    make_dir("readonly", 0500);
    g_want = "chmod u+rwx";
    in_child("readonly", 0, refused);
    make_dir("nosearch", 0600);
    in_child("nosearch", 0, refused);
    make_dir("target", 0700);
    char link[256];
    snprintf(link, sizeof(link), "%s/link", g_tmp);
    assert_int_equal(symlink("target", link), 0);
    g_want = "symbolic link";
    in_child("link", 0, refused);
    if (geteuid() == 0) {
        make_dir("nobody", 0700);
        char dir[256];
        snprintf(dir, sizeof(dir), "%s/nobody", g_tmp);
        assert_int_equal(chown(dir, 65534, 65534), 0);
        g_want = "owned by uid 65534";
        in_child("nobody", 0, refused);
    }
    /* a safe existing directory, readable by others, is taken as it is; what alcove makes in
     * it is still its owner's alone */
    make_dir("readable", 0755);
    in_child("readable", 0, socket_0600);
    in_child("readable", 0, description_mode);
    assert_int_equal(mode_of(g_tmp_path("readable")), 0755);
}

/* ALCOVE_RUNTIME_DIR spelled with a trailing "/" or "/.", which makes the kernel follow a
 * symbolic link even under O_NOFOLLOW: the directory is still the one named, by its plain path. */
static char g_plain[256]; /* the path without the trailing part */
static int link_refused(const char *dir)
{
    (void)dir;
    CHECK(runtime_dir() == NULL);
    CHECK(errno == EPERM);
    CHECK(strstr(runtime_dir_problem(), "symbolic link") != NULL);
    CHECK(strstr(runtime_dir_problem(), g_plain) != NULL);
    return 0;
}

static int taken_by_plain_path(const char *dir)
{
    (void)dir;
    CHECK(runtime_dir() != NULL);
    CHECK(strcmp(runtime_dir(), g_plain) == 0);
    char path[300];
    CHECK(runtime_path(path, sizeof(path), 5, "vsock") == 0);
    CHECK(strstr(path, "//") == NULL && strstr(path, "/./") == NULL);
    return 0;
}

static int dotdot_refused(const char *dir)
{
    (void)dir;
    CHECK(runtime_dir() == NULL);
    CHECK(errno == EPERM);
    CHECK(strstr(runtime_dir_problem(), "'..'") != NULL);
    return 0;
}

static void test_trailing_slash(void **state)
{
    (void)state;
    make_dir("real", 0700);
    char link[256];
    snprintf(link, sizeof(link), "%s/slashlink", g_tmp);
    assert_int_equal(symlink("real", link), 0);
    snprintf(g_plain, sizeof(g_plain), "%s/slashlink", g_tmp);
    in_child("slashlink/", 0, link_refused);
    in_child("slashlink/.", 0, link_refused);
    in_child("slashlink//./", 0, link_refused);
    snprintf(g_plain, sizeof(g_plain), "%s/real", g_tmp);
    in_child("real/", 0, taken_by_plain_path);
    in_child("real/./.", 0, taken_by_plain_path);
    /* ".." could lead anywhere the directories on the way point to */
    in_child("real/..", 0, dotdot_refused);
    in_child("slashlink/../real", 0, dotdot_refused);
}

/* A shared runtime directory (root's, mode 1770, group SHARED_GID) where member B has planted
 * files at the paths of CIDs 4-8: the claims of member A and of root skip every one of them
 * (an automatic CID) or refuse it (an explicit one), and never adopt B's description. */
#define MEMBER_A   65534
#define MEMBER_B   65533
#define SHARED_GID 65534
static char g_shared[] = "/tmp/test_runtime_shared.XXXXXX";

static void in_shared_as(uid_t uid, int (*fn)(const char *dir))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        gid_t g = SHARED_GID;
        if (uid != 0 && (setgroups(1, &g) || setgid(SHARED_GID) || setuid(uid)))
            _exit(255);
        setenv("ALCOVE_RUNTIME_DIR", g_shared, 1);
        _exit(fn(g_shared));
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("shared case as uid %u failed at line %d", (unsigned)uid, WEXITSTATUS(st));
}

static int plant(const char *dir)
{
    char path[PATH_MAX];
    /* a description anyone may write, one only B may, sockets at 6 and 7, a link at 8 */
    static const char *const files[] = {"4.json", "5.json", "6.ctl", "7.vsock"};
    static const mode_t modes[] = {0666, 0600, 0666, 0666};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
        CHECK(fd >= 0 && fchmod(fd, modes[i]) == 0);
        close(fd);
    }
    snprintf(path, sizeof(path), "%s/8.json", dir);
    CHECK(symlink("4.json", path) == 0);
    return 0;
}

static int claims_skip_planted(const char *dir)
{
    (void)dir;
    struct runtime_claim c;
    CHECK(runtime_dir_shared(NULL) == 1);
    CHECK(runtime_claim(&c, 0) == 0);
    CHECK(c.cid == 9);
    runtime_release(&c);
    for (uint32_t cid = 4; cid <= 8; cid++)
        CHECK(runtime_claim(&c, cid) == -EACCES);
    return 0;
}

static int planted_left_alone(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof(path), "%s/4.json", dir);
    CHECK(lstat(path, &st) == 0 && st.st_uid == MEMBER_B && (st.st_mode & 07777) == 0666);
    snprintf(path, sizeof(path), "%s/9.json", dir);
    CHECK(lstat(path, &st) != 0); /* released */
    return 0;
}

static void test_claims_skip_others_files(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        printf("# not root: cannot act as two members, SKIPPED, not passed\n");
        skip();
    }
    assert_non_null(mkdtemp(g_shared));
    assert_int_equal(chown(g_shared, 0, SHARED_GID), 0);
    assert_int_equal(chmod(g_shared, 01770), 0);
    in_shared_as(MEMBER_B, plant);
    in_shared_as(MEMBER_A, claims_skip_planted);
    in_shared_as(0, claims_skip_planted);
    in_shared_as(0, planted_left_alone);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_shared);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(g_tmp))
        return -1;
    if (geteuid() == 0 &&
        (!mkdtemp(g_tmp_unpriv) || chown(g_tmp_unpriv, UNPRIVILEGED, UNPRIVILEGED) != 0))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'%s%s", g_tmp, geteuid() == 0 ? " " : "",
             geteuid() == 0 ? g_tmp_unpriv : "");
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dir_mode_whatever_the_umask),
        cmocka_unit_test(test_socket_mode),
        cmocka_unit_test(test_description_mode),
        cmocka_unit_test(test_unsafe_dirs_refused),
        cmocka_unit_test(test_trailing_slash),
        cmocka_unit_test(test_claims_skip_others_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
