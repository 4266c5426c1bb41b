/* test_cred.c: identities (enclave/sys/cred.c): the set*id rules and what the ids allow in the
 * file tree, on the host. The expected answers are Linux's (credentials(7), setresuid(2),
 * setreuid(2), path_resolution(7)). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vfs_host.h"

#define NOCHANGE 0xffffffffull

static struct cred *me(void)
{
    return &g_host_process.cred;
}

static void become_root(void)
{
    memset(me(), 0, sizeof(*me()));
}

/* sys_* take the six raw argument registers. */
static long call1(long (*fn)(SC_PARAMS), uint64_t a)
{
    return fn(a, 0, 0, 0, 0, 0);
}

static long call2(long (*fn)(SC_PARAMS), uint64_t a, uint64_t b)
{
    return fn(a, b, 0, 0, 0, 0);
}

static long call3(long (*fn)(SC_PARAMS), uint64_t a, uint64_t b, uint64_t c)
{
    return fn(a, b, c, 0, 0, 0);
}

static void expect_uids(uint32_t r, uint32_t e, uint32_t s, uint32_t fs)
{
    assert_int_equal(me()->uid[ID_REAL], r);
    assert_int_equal(me()->uid[ID_EFF], e);
    assert_int_equal(me()->uid[ID_SAVED], s);
    assert_int_equal(me()->uid[ID_FS], fs);
}

static void test_setuid(void **state)
{
    (void)state;
    become_root();
    assert_int_equal(call1(sys_setuid, NOCHANGE), -EINVAL);
    /* root: all of them change, and root is gone for good */
    assert_int_equal(call1(sys_setuid, 1000), 0);
    expect_uids(1000, 1000, 1000, 1000);
    assert_int_equal(call1(sys_setuid, 0), -EPERM);
    assert_int_equal(call1(sys_setuid, 1000), 0); /* to its own real id: allowed */
}

static void test_saved_id(void **state)
{
    (void)state;
    become_root();
    /* a set-user-ID program's pattern: drop the effective id, keep the saved one, go back */
    assert_int_equal(call3(sys_setresuid, 1000, 1000, 0), 0);
    expect_uids(1000, 1000, 0, 1000);
    assert_int_equal(call1(sys_setuid, 0), 0); /* unprivileged: to the saved id */
    expect_uids(1000, 0, 0, 0);
    /* privileged again: setuid changes all three */
    assert_int_equal(call1(sys_setuid, 2000), 0);
    expect_uids(2000, 2000, 2000, 2000);
    assert_int_equal(call3(sys_setresuid, 1000, NOCHANGE, NOCHANGE), -EPERM);
    assert_int_equal(call3(sys_setresuid, NOCHANGE, 2000, 2000), 0);
}

static void test_setreuid(void **state)
{
    (void)state;
    become_root();
    assert_int_equal(call2(sys_setreuid, 1000, 2000), 0);
    /* the real id was set: the saved id follows the new effective one */
    expect_uids(1000, 2000, 2000, 2000);
    /* unprivileged: swapping real and effective is allowed */
    assert_int_equal(call2(sys_setreuid, 2000, 1000), 0);
    expect_uids(2000, 1000, 1000, 1000);
    assert_int_equal(call2(sys_setreuid, 3000, NOCHANGE), -EPERM);
    assert_int_equal(call2(sys_setreuid, NOCHANGE, 3000), -EPERM);
    /* the effective id set to the real one: the saved id stays */
    assert_int_equal(call2(sys_setreuid, NOCHANGE, 2000), 0);
    expect_uids(2000, 2000, 1000, 2000);
}

static void test_setfsuid(void **state)
{
    (void)state;
    become_root();
    assert_int_equal(call1(sys_setfsuid, 1000), 0); /* returns the old one */
    assert_int_equal(call1(sys_setfsuid, 0), 1000);
    assert_int_equal(call3(sys_setresuid, 1000, 1000, 1000), 0);
    assert_int_equal(call1(sys_setfsuid, 0), 1000); /* refused: stays 1000 */
    assert_int_equal(me()->uid[ID_FS], 1000);
}

static void test_groups(void **state)
{
    (void)state;
    become_root();
    uint32_t in[3] = {10, 20, 30}, out[3] = {0};
    assert_int_equal(call2(sys_setgroups, 3, (uint64_t)(uintptr_t)in), 0);
    assert_int_equal(call2(sys_getgroups, 0, 0), 3);
    assert_int_equal(call2(sys_getgroups, 2, (uint64_t)(uintptr_t)out), -EINVAL);
    assert_int_equal(call2(sys_getgroups, 3, (uint64_t)(uintptr_t)out), 3);
    assert_memory_equal(in, out, sizeof(in));
    assert_int_equal(call2(sys_setgroups, NGROUPS_MAX + 1, (uint64_t)(uintptr_t)in), -EINVAL);
    assert_int_equal(call3(sys_setresgid, 5, 5, 5), 0);
    assert_int_equal(call3(sys_setresgid, 6, NOCHANGE, NOCHANGE), 0); /* still root */
    assert_int_equal(call1(sys_setuid, 1000), 0);
    assert_int_equal(call2(sys_setgroups, 1, (uint64_t)(uintptr_t)in), -EPERM);
    assert_int_equal(call1(sys_setgid, 7), -EPERM);
    assert_int_equal(call1(sys_setgid, 5), 0); /* the saved group id */
    assert_true(cred_in_group(20));
    assert_false(cred_in_group(40));
}

static struct inode *node(uint32_t mode, uint32_t uid, uint32_t gid)
{
    struct inode *ino = vfs_new_inode(mode, DEV_TMPFS, 0);
    ino->uid = uid;
    ino->gid = gid;
    return ino;
}

static void test_access(void **state)
{
    (void)state;
    become_root();
    struct inode *f = node(S_IFREG | 0640, 1000, 50), *noexec = node(S_IFREG | 0644, 0, 0);
    struct inode *dir = node(S_IFDIR | 0755, 0, 0);
    assert_int_equal(cred_may_access(f, MAY_READ | MAY_WRITE), 0); /* root reads and writes */
    assert_int_equal(cred_may_access(noexec, MAY_EXEC), -EACCES);  /* but runs only x files */
    assert_int_equal(cred_may_access(dir, MAY_EXEC), 0);
    me()->uid[ID_FS] = 1000; /* the owner */
    assert_int_equal(cred_may_access(f, MAY_READ | MAY_WRITE), 0);
    assert_int_equal(cred_may_access(f, MAY_EXEC), -EACCES);
    me()->uid[ID_FS] = 2000; /* the group */
    me()->gid[ID_FS] = 50;
    assert_int_equal(cred_may_access(f, MAY_READ), 0);
    assert_int_equal(cred_may_access(f, MAY_WRITE), -EACCES);
    me()->gid[ID_FS] = 51; /* others */
    assert_int_equal(cred_may_access(f, MAY_READ), -EACCES);
    assert_true(cred_owns(noexec) == false);
    free(f);
    free(noexec);
    free(dir);
}

/* Path resolution needs search permission on each directory on the way. */
static void test_search_permission(void **state)
{
    (void)state;
    become_root();
    struct inode *tmp, *dir, *ino;
    assert_int_equal(vfs_lookup(NULL, "/tmp", LOOKUP_FOLLOW, &tmp), 0);
    assert_int_equal(vfs_create(tmp, "private", 7, S_IFDIR | 0700, &dir), 0);
    assert_int_equal(vfs_create(dir, "f", 1, S_IFREG | 0644, &ino), 0);
    assert_int_equal(ino->uid, 0);
    assert_int_equal(vfs_lookup(NULL, "/tmp/private/f", LOOKUP_FOLLOW, &ino), 0);
    assert_int_equal(call1(sys_setuid, 1000), 0);
    assert_int_equal(vfs_lookup(NULL, "/tmp/private/f", LOOKUP_FOLLOW, &ino), -EACCES);
    assert_int_equal(vfs_lookup(NULL, "/tmp/private", LOOKUP_FOLLOW, &ino), 0); /* itself: yes */
    /* what a user makes is theirs */
    struct inode *mine;
    assert_int_equal(vfs_create(tmp, "mine", 4, S_IFREG | 0600, &mine), 0);
    assert_int_equal(mine->uid, 1000);
    become_root();
    vfs_unlink(dir, "f", 1);
    vfs_unlink(tmp, "private", 7);
    vfs_unlink(tmp, "mine", 4);
}

int main(void)
{
    host_tree();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setuid),
        cmocka_unit_test(test_saved_id),
        cmocka_unit_test(test_setreuid),
        cmocka_unit_test(test_setfsuid),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_search_permission),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
