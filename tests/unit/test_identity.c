/* test_identity.c: a uid of the monitor's own (src/monitor/identity.c), applied in a forked
 * child as the monitor would apply it: after the capability drop that keeps CAP_SETUID and
 * CAP_SETGID, every thread (one started before, as the control thread is) has the new uid,
 * gid and no supplementary group or capability, the process is still not dumpable, a root-only
 * file cannot be opened, root's uid cannot be taken back, and the system-call filter still
 * loads on top. Without the kept capabilities the change fails with [ E73 ]. The change needs
 * root: as another user those cases are skipped (CI runs them as root). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/errors.h"
#include "monitor/identity.h"
#include "monitor/sandbox.h"

#define TEST_UID 65534 /* nobody's on Debian; a number without a user is as good */

static char g_wdir[] = "/tmp/alcove-identity-wdir-XXXXXX";
static char g_secret[] = "/tmp/alcove-identity-secret-XXXXXX"; /* root's, mode 0600 */

/* A thread started before the change (after the drop), as the monitor's control and device
 * threads are: it
 * reports its own ids (the system call, not glibc's cache) once the main thread has changed. */
static int g_go[2], g_back[2];

static void *early_thread(void *arg)
{
    char c;
    if (read(g_go[0], &c, 1) != 1)
        return arg;
    uid_t ids[6];
    syscall(SYS_getresuid, &ids[0], &ids[1], &ids[2]);
    syscall(SYS_getresgid, &ids[3], &ids[4], &ids[5]);
    if (write(g_back[1], ids, sizeof(ids)) != (ssize_t)sizeof(ids))
        return arg;
    return NULL;
}

/* Runs the change in a child; its exit status (0: every check held), what it wrote to stderr
 * in err. keep: drop with sandbox_drop_privileges_keep_setid (else the plain drop). */
static int run_change(bool keep, char *err, size_t errlen)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 2);
        /* the drop comes before the monitor's first thread: threads take their capabilities
         * from the one that makes them */
        int dropped =
            keep ? sandbox_drop_privileges_keep_setid(g_wdir) : sandbox_drop_privileges(g_wdir);
        if (dropped)
            _exit(91);
        pthread_t t;
        if (pipe(g_go) || pipe(g_back) || pthread_create(&t, NULL, early_thread, NULL))
            _exit(90);
        struct monitor_identity id = {.change = true, .uid = TEST_UID, .gid = TEST_UID};
        if (identity_change(&id))
            _exit(92);
        uid_t r, e, s;
        gid_t gr, ge, gs;
        if (getresuid(&r, &e, &s) || r != TEST_UID || e != TEST_UID || s != TEST_UID)
            _exit(1);
        if (getresgid(&gr, &ge, &gs) || gr != TEST_UID || ge != TEST_UID || gs != TEST_UID)
            _exit(2);
        if (getgroups(0, NULL) != 0)
            _exit(3);
        uid_t ids[6];
        if (write(g_go[1], "x", 1) != 1 || read(g_back[0], ids, sizeof(ids)) != sizeof(ids))
            _exit(4);
        for (int i = 0; i < 6; i++)
            if (ids[i] != TEST_UID)
                _exit(5);
        pthread_join(t, NULL);
        /* root's file is out of reach, root's uid cannot be taken back */
        if (open(g_secret, O_RDONLY | O_CLOEXEC) != -1 || errno != EACCES)
            _exit(6);
        if (setuid(0) != -1 || errno != EPERM || setresuid(-1, 0, -1) != -1)
            _exit(7);
        if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
            _exit(8);
        /* the filter still goes on top, and then refuses identity changes itself */
        if (sandbox_enter())
            _exit(9);
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < errlen && (got = read(p[0], err + n, errlen - 1 - n)) > 0)
        n += (size_t)got;
    err[n] = 0;
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st))
        fail_msg("killed by signal %d (%s)", WTERMSIG(st), err);
    return WEXITSTATUS(st);
}

static void test_change(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    char err[512];
    int st = run_change(true, err, sizeof(err));
    if (st != 0)
        fail_msg("status %d (%s)", st, err);
}

/* Without CAP_SETUID and CAP_SETGID kept, the change is refused with [ E73 ]: the plain drop
 * really leaves none. */
static void test_change_needs_caps(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    char err[512];
    int st = run_change(false, err, sizeof(err));
    if (st != 92)
        fail_msg("status %d, want 92 (%s)", st, err);
    assert_non_null(strstr(err, "[ E73 ] "));
    assert_non_null(strstr(err, "cannot change the monitor's uid to 65534"));
}

/* Which user: none for a non-root operator; a named user or uid; root or a missing named user
 * refused; the default user missing keeps root's uid with a reason to log. */
static void test_resolve(void **state)
{
    (void)state;
    struct monitor_identity id;
    char why[256];
    if (geteuid() == 0) {
        assert_int_equal(identity_resolve("root", &id, why, sizeof(why)), E_INVALID_ARGUMENT);
        assert_false(id.change);
        assert_non_null(strstr(why, "neither may be 0"));
        assert_int_equal(identity_resolve("0", &id, why, sizeof(why)), E_INVALID_ARGUMENT);
        assert_int_equal(identity_resolve("alcove-no-such-user-here", &id, why, sizeof(why)),
                         E_INVALID_ARGUMENT);
        assert_non_null(strstr(why, "no user 'alcove-no-such-user-here'"));
        assert_int_equal(identity_resolve("65534", &id, why, sizeof(why)), 0);
        assert_true(id.change);
        assert_int_equal(id.uid, 65534);
        struct passwd *nobody = getpwnam("nobody");
        if (nobody && nobody->pw_uid && nobody->pw_gid) {
            assert_int_equal(identity_resolve("nobody", &id, why, sizeof(why)), 0);
            assert_true(id.change);
            assert_int_equal(id.uid, nobody->pw_uid);
            assert_int_equal(id.gid, nobody->pw_gid);
        }
        struct passwd *def = getpwnam(IDENTITY_DEFAULT_USER);
        assert_int_equal(identity_resolve(NULL, &id, why, sizeof(why)), 0);
        if (def) {
            assert_true(id.change);
            assert_int_equal(id.uid, def->pw_uid);
        } else {
            assert_false(id.change);
            assert_non_null(strstr(why, "keeps root's uid"));
        }
    }
    /* a non-root operator's monitor keeps its uid, whatever is named */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 &&
            (setresgid(TEST_UID, TEST_UID, TEST_UID) || setresuid(TEST_UID, TEST_UID, TEST_UID)))
            _exit(1);
        struct monitor_identity mine;
        char w[256];
        if (identity_resolve("nobody", &mine, w, sizeof(w)) || mine.change ||
            identity_resolve(NULL, &mine, w, sizeof(w)) || mine.change)
            _exit(2);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    if (!mkdtemp(g_wdir))
        return 1;
    int fd = mkstemp(g_secret); /* 0600, root's when run as root */
    if (fd < 0 || write(fd, "secret\n", 7) != 7 || close(fd))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_change),
        cmocka_unit_test(test_change_needs_caps),
        cmocka_unit_test(test_resolve),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(g_secret);
    rmdir(g_wdir);
    return r;
}
