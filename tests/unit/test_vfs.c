/* test_vfs.c: the enclave's path resolution, directories and tmpfs files, on the host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vfs_host.h"

static struct inode *look(const char *path, unsigned flags, int *err)
{
    struct inode *ino = NULL;
    *err = vfs_lookup(NULL, path, flags, &ino);
    return *err ? NULL : ino;
}

static struct inode *must(const char *path)
{
    int err;
    struct inode *ino = look(path, LOOKUP_FOLLOW, &err);
    assert_int_equal(err, 0);
    return ino;
}

static void test_lookup(void **state)
{
    (void)state;
    int err;
    struct inode *passwd = must("/etc/passwd");
    assert_true(S_ISREG(passwd->mode));
    assert_ptr_equal(must("etc//passwd"), passwd);         /* relative to the cwd (/) */
    assert_ptr_equal(must("/../../etc/./passwd"), passwd); /* ".." stops at the root */
    assert_ptr_equal(must("/abs/passwd"), passwd);         /* an absolute link target */
    assert_ptr_equal(must("/bin/sh"), must("/usr/bin/sh"));
    assert_ptr_equal(must("/usr/bin/.."), must("/usr"));
    assert_ptr_equal(must("/bin/.."), must("/usr")); /* ".." after a link: from its target */
    assert_true(S_ISLNK(look("/bin", 0, &err)->mode));
    assert_true(S_ISDIR(look("/bin/", 0, &err)->mode)); /* a trailing slash follows */
    look("/loop1", LOOKUP_FOLLOW, &err);
    assert_int_equal(err, -ELOOP);
    assert_true(S_ISLNK(look("/loop1", 0, &err)->mode));
    look("/dangling", LOOKUP_FOLLOW, &err);
    assert_int_equal(err, -ENOENT);
    look("/etc/passwd/x", LOOKUP_FOLLOW, &err);
    assert_int_equal(err, -ENOTDIR);
    look("/etc/passwd/", 0, &err);
    assert_int_equal(err, -ENOTDIR);
    look("/etc/passwd", LOOKUP_DIRECTORY, &err);
    assert_int_equal(err, -ENOTDIR);
    look("", 0, &err);
    assert_int_equal(err, -ENOENT);
    look("/nope", 0, &err);
    assert_int_equal(err, -ENOENT);

    char name[300];
    memset(name, 'a', sizeof(name));
    name[0] = '/';
    name[257] = 0; /* a 256-byte component */
    look(name, 0, &err);
    assert_int_equal(err, -ENAMETOOLONG);
    char *longpath = malloc(PATH_MAX_LEN + 10);
    for (int i = 0; i < PATH_MAX_LEN + 8; i += 2)
        memcpy(longpath + i, "/.", 2);
    longpath[PATH_MAX_LEN + 8] = 0;
    look(longpath, 0, &err);
    assert_int_equal(err, -ENAMETOOLONG);
    free(longpath);
}

static void test_lookup_parent(void **state)
{
    (void)state;
    struct inode *dir;
    char name[NAME_MAX_LEN + 1];
    uint32_t len;
    assert_int_equal(vfs_lookup_parent(NULL, "/tmp/new", &dir, name, &len), 0);
    assert_ptr_equal(dir, must("/tmp"));
    assert_string_equal(name, "new");
    assert_int_equal(vfs_lookup_parent(NULL, "/bin/x", &dir, name, &len), 0);
    assert_ptr_equal(dir, must("/usr/bin")); /* links before the last name are followed */
    assert_int_equal(vfs_lookup_parent(NULL, "/tmp/sub/", &dir, name, &len), 0);
    assert_string_equal(name, "sub");
    assert_int_equal(vfs_lookup_parent(NULL, "/", &dir, name, &len), -EEXIST);
    assert_int_equal(len, 0);
    assert_int_equal(vfs_lookup_parent(NULL, "/tmp/..", &dir, name, &len), -EEXIST);
    assert_string_equal(name, "..");
    assert_int_equal(vfs_lookup_parent(NULL, "/nope/x", &dir, name, &len), -ENOENT);
    assert_int_equal(vfs_lookup_parent(NULL, "/etc/passwd/x", &dir, name, &len), -ENOTDIR);
}

static void test_lifetime(void **state)
{
    (void)state;
    struct inode *tmp = must("/tmp");
    long before = g_live_allocs;
    struct inode *f = vfs_new_inode(S_IFREG | 0644, tmp->dev, 0);
    assert_int_equal(vfs_link(tmp, "f", 1, f, true), 0);
    assert_int_equal(f->nlink, 1);
    assert_int_equal(tmpfs_reserve(f, 10000), 0);
    vfs_get(f); /* an open file */
    assert_int_equal(vfs_unlink(tmp, "f", 1), 0);
    assert_int_equal(f->nlink, 0);
    assert_null(vfs_child(tmp, "f", 1));
    assert_int_equal(f->data[9999], 0); /* still usable while open */
    vfs_put(f);                         /* the last user: freed with its data */
    assert_int_equal(g_live_allocs, before);
    assert_int_equal(vfs_unlink(tmp, "f", 1), -ENOENT);

    /* directories count their subdirectories' ".." */
    uint32_t n0 = tmp->nlink;
    struct inode *d = vfs_new_inode(S_IFDIR | 0755, tmp->dev, 0);
    vfs_link(tmp, "d", 1, d, true);
    assert_int_equal(tmp->nlink, n0 + 1);
    assert_int_equal(d->nlink, 2);
    vfs_unlink(tmp, "d", 1);
    assert_int_equal(tmp->nlink, n0);
    assert_int_equal(g_live_allocs, before);

    /* a file with two names loses the one in a directory that then goes: it must not keep
     * pointing at that directory (its path is unknown now, not read from freed memory) */
    d = vfs_new_inode(S_IFDIR | 0755, tmp->dev, 0);
    vfs_link(tmp, "d", 1, d, true);
    f = vfs_new_inode(S_IFREG | 0644, tmp->dev, 0);
    vfs_link(d, "f", 1, f, true);
    vfs_link(tmp, "f2", 2, f, true);
    vfs_unlink(d, "f", 1);
    vfs_unlink(tmp, "d", 1); /* freed */
    char path[64];
    assert_int_equal(vfs_path_of(f, path, sizeof(path)), -ENOENT);
    vfs_unlink(tmp, "f2", 2);
    assert_int_equal(g_live_allocs, before);
}

static void test_big_directory(void **state)
{
    (void)state;
    struct inode *tmp = must("/tmp");
    long before = g_live_allocs;
    char name[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(name, sizeof(name), "file%d", i);
        struct inode *f = vfs_new_inode(S_IFREG | 0644, tmp->dev, 0);
        assert_int_equal(vfs_link(tmp, name, (uint32_t)n, f, true), 0);
    }
    assert_non_null(tmp->buckets);
    for (int i = 0; i < 5000; i += 2) {
        int n = snprintf(name, sizeof(name), "file%d", i);
        assert_int_equal(vfs_unlink(tmp, name, (uint32_t)n), 0);
    }
    uint64_t last_seq = 0;
    int count = 0;
    for (struct dirent_node *d = tmp->children; d; d = d->next, count++) {
        assert_true(d->seq > last_seq); /* listing positions only grow */
        last_seq = d->seq;
    }
    assert_int_equal(count, 2500);
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(name, sizeof(name), "file%d", i);
        assert_true((vfs_child(tmp, name, (uint32_t)n) != NULL) == (i % 2 == 1));
    }
    for (int i = 1; i < 5000; i += 2) {
        int n = snprintf(name, sizeof(name), "file%d", i);
        assert_int_equal(vfs_unlink(tmp, name, (uint32_t)n), 0);
    }
    assert_int_equal(tmp->nchildren, 0);
    assert_int_equal(g_live_allocs, before + 1); /* the directory keeps its hash table */
}

static void test_path_of(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(vfs_path_of(must("/usr/bin"), buf, sizeof(buf)), 8);
    assert_string_equal(buf, "/usr/bin");
    assert_int_equal(vfs_path_of(must("/usr/bin/sh"), buf, sizeof(buf)), 11);
    assert_int_equal(vfs_path_of(vfs_root(), buf, sizeof(buf)), 1);
    assert_string_equal(buf, "/");
    assert_int_equal(vfs_path_of(must("/usr/bin"), buf, 5), -ERANGE);
}

static void test_tmpfs_data(void **state)
{
    (void)state;
    struct inode *f = vfs_new_inode(S_IFREG | 0644, DEV_TMPFS, 0);
    assert_int_equal(tmpfs_truncate(f, 100), 0);
    assert_int_equal(f->size, 100);
    memset(f->data, 'x', 100);
    assert_int_equal(tmpfs_truncate(f, 10), 0);
    assert_int_equal(tmpfs_truncate(f, 200000), 0); /* regrows: the old tail reads as zeros */
    assert_int_equal(f->data[9], 'x');
    assert_int_equal(f->data[10], 0);
    assert_int_equal(f->data[99], 0);
    assert_int_equal(f->data[199999], 0);
    assert_true(f->cap >= 200000);
    assert_int_equal(tmpfs_truncate(f, 0), 0);
    assert_int_equal(tmpfs_reserve(f, 1ull << 41), -EFBIG);
    tmpfs_release_data(f);
    kfree(f);
}

static void test_chunked_file(void **state)
{
    (void)state;
    long before = g_live_allocs;
    struct inode *f = vfs_new_inode(S_IFREG | 0644, DEV_TMPFS, 0);
    const size_t size = 5 * 1024 * 1024 + 12345;
    uint8_t *ref = malloc(size), *got = malloc(size);
    for (size_t i = 0; i < size; i++)
        ref[i] = (uint8_t)(i * 2654435761u >> 13);
    /* written in odd pieces, crossing chunk boundaries, then read back in other pieces */
    for (size_t off = 0; off < size;) {
        size_t n = off % 3 ? 7777 : 100003;
        n = n < size - off ? n : size - off;
        assert_int_equal(inode_write(f, ref + off, n, off), (long)n);
        off += n;
    }
    assert_non_null(f->chunks);
    assert_int_equal(f->size, size);
    for (size_t off = 0; off < size; off += 65536)
        inode_read(f, got + off, 65536, off);
    assert_memory_equal(got, ref, size);
    assert_int_equal(inode_read(f, got, 10, size), 0);
    assert_int_equal(inode_read(f, got, 10, size - 3), 3);
    /* shrink into the second chunk, then grow: the cut bytes read as zeros */
    assert_int_equal(tmpfs_truncate(f, 1500000), 0);
    assert_int_equal(tmpfs_truncate(f, 4000000), 0);
    assert_int_equal(inode_read(f, got, 4000000, 0), 4000000);
    assert_memory_equal(got, ref, 1500000);
    for (size_t i = 1500000; i < 4000000; i++)
        if (got[i])
            fail_msg("byte %zu is %d after truncate and regrow", i, got[i]);
    /* a write far past the end leaves a hole of zeros */
    assert_int_equal(inode_write(f, "x", 1, 9000000), 1);
    assert_int_equal(inode_read(f, got, 1, 8999999), 1);
    assert_int_equal(got[0], 0);
    tmpfs_release_data(f);
    kfree(f);
    assert_int_equal(g_live_allocs, before);
    free(ref);
    free(got);
}

/* The mount table: a tmpfs mounted over a directory hides it until unmounted; what is in use
 * or has a mount inside cannot be unmounted unless detached; the enclave's own mounts stay. */
static void test_mount(void **state)
{
    (void)state;
    struct inode *tmp = must("/tmp");
    long before = g_live_allocs;
    struct inode *m = vfs_new_inode(S_IFDIR | 0755, tmp->dev, 0);
    vfs_link(tmp, "m", 1, m, true);
    struct inode *old = vfs_new_inode(S_IFREG | 0644, tmp->dev, 0);
    vfs_link(m, "old", 3, old, true);

    struct inode *root = tmpfs_new_root(01777);
    assert_int_equal(mount_on(m, root, "none", "tmpfs", "rw"), 0);
    assert_ptr_equal(must("/tmp/m"), root);
    int err;
    assert_null(look("/tmp/m/old", 0, &err)); /* covered */
    assert_int_equal(err, -ENOENT);
    assert_ptr_equal(must("/tmp/m/.."), tmp);
    struct text t = {0};
    mount_gen_list(&t);
    assert_non_null(strstr(t.p, "none /tmp/m tmpfs rw 0 0\n"));
    assert_non_null(strstr(t.p, "tmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n"));
    kfree(t.p);

    /* a file in use inside: busy; a directory inside is removed with it */
    struct inode *f = vfs_new_inode(S_IFREG | 0644, root->dev, 0);
    vfs_link(root, "f", 1, f, true);
    struct inode *sub = vfs_new_inode(S_IFDIR | 0755, root->dev, 0);
    vfs_link(root, "sub", 3, sub, true);
    vfs_link(sub, "g", 1, vfs_new_inode(S_IFREG | 0644, root->dev, 0), true);
    vfs_get(f);
    assert_int_equal(mount_remove(root, false, false), -EBUSY);
    vfs_put(f);
    /* a mount inside: busy, even detached */
    struct inode *inner = tmpfs_new_root(0755);
    assert_int_equal(mount_on(sub, inner, "none", "tmpfs", "rw"), 0);
    assert_int_equal(mount_remove(root, true, false), -EBUSY);
    assert_int_equal(mount_remove(inner, false, false), 0);
    assert_int_equal(mount_remove(sub, false, false), -EINVAL); /* not a mount point */
    /* MNT_EXPIRE: marked first, removed the second time */
    assert_int_equal(mount_remove(root, false, true), -EAGAIN);
    assert_int_equal(mount_remove(root, false, true), 0);
    assert_ptr_equal(must("/tmp/m/old"), old);                 /* uncovered */
    assert_int_equal(mount_remove(tmp, false, false), -EBUSY); /* the enclave's own */

    /* detached while a file inside is open: the file stays usable until its last user */
    root = tmpfs_new_root(01777);
    assert_int_equal(mount_on(m, root, "none", "tmpfs", "rw"), 0);
    f = vfs_new_inode(S_IFREG | 0644, root->dev, 0);
    vfs_link(root, "f", 1, f, true);
    assert_int_equal(tmpfs_reserve(f, 100), 0);
    vfs_get(f);
    assert_int_equal(mount_remove(root, true, false), 0);
    assert_ptr_equal(must("/tmp/m/old"), old);
    assert_int_equal(f->data[99], 0);
    vfs_put(f);

    /* a mount under another: the lower one cannot go first, even detached; the covered
     * directory keeps its links (a process inside it sees a live directory) */
    uint32_t links = m->nlink;
    struct inode *lower = tmpfs_new_root(0755), *upper = tmpfs_new_root(0755);
    assert_int_equal(mount_on(m, lower, "none", "tmpfs", "rw"), 0);
    assert_int_equal(m->nlink, links);
    assert_int_equal(mount_on(lower, upper, "none", "tmpfs", "rw"), 0);
    assert_ptr_equal(must("/tmp/m"), upper);
    vfs_get(lower); /* a descriptor opened before the second mount */
    assert_int_equal(mount_remove(lower, true, false), -EBUSY);
    vfs_put(lower);
    assert_int_equal(mount_remove(upper, false, false), 0);
    assert_ptr_equal(must("/tmp/m"), lower);
    assert_int_equal(mount_remove(lower, false, false), 0);
    assert_ptr_equal(must("/tmp/m"), m);
    assert_int_equal(mount_remove(vfs_root(), false, false), -EBUSY);

    vfs_unlink(m, "old", 3);
    vfs_unlink(tmp, "m", 1);
    assert_int_equal(g_live_allocs, before);
}

int main(void)
{
    host_tree();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),       cmocka_unit_test(test_lookup_parent),
        cmocka_unit_test(test_lifetime),     cmocka_unit_test(test_big_directory),
        cmocka_unit_test(test_path_of),      cmocka_unit_test(test_tmpfs_data),
        cmocka_unit_test(test_chunked_file), cmocka_unit_test(test_mount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
