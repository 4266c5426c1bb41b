/* test_rootfs.c: the application file tree from a directory, a binary, an OCI image layout and a
 * `docker save` archive (all written here), and the exact bytes of its cpio ramdisks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/progress.h"
#include "cpio/cpio.h"
#include "image/cpio_write.h"
#include "image/rootfs.h"

static char g_tmp[] = "/tmp/alcove-test-rootfs-XXXXXX";

/* ---- files ---- */

static const char *tpath(const char *rel)
{
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", g_tmp, rel);
    return p;
}

static void wfile(const char *rel, const void *data, size_t len, mode_t mode)
{
    int fd = open(tpath(rel), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chmod(tpath(rel), mode), 0);
}

static void wtext(const char *rel, const char *text, mode_t mode)
{
    wfile(rel, text, strlen(text), mode);
}

static void mkd(const char *rel, mode_t mode)
{
    assert_int_equal(mkdir(tpath(rel), 0700), 0);
    assert_int_equal(chmod(tpath(rel), mode), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        chmod(p, 0700);
    return remove(p);
}

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(g_tmp) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    /* Directories that are not writable are made writable before their contents go. */
    chmod(g_tmp, 0700);
    return nftw(g_tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- cpio checks ---- */

struct want {
    const char *name;
    uint32_t mode;
    const char *data; /* file contents or link target; NULL for directories */
};

static void check_cpio(const uint8_t *buf, size_t len, const struct want *w, size_t n)
{
    size_t pos = 0;
    struct cpio_entry e;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cpio_next(buf, len, &pos, &e), CPIO_ENTRY);
        char name[512];
        snprintf(name, sizeof(name), "%.*s", (int)e.name_len, e.name);
        assert_string_equal(name, w[i].name);
        if (e.mode != w[i].mode)
            fail_msg("%s: mode %o, expected %o", name, e.mode, w[i].mode);
        assert_int_equal(e.uid, 0);
        assert_int_equal(e.gid, 0);
        assert_int_equal(e.mtime, 0);
        assert_int_equal(e.nlink, S_ISDIR(w[i].mode) ? 2 : 1);
        if (w[i].data) {
            assert_int_equal(e.size, strlen(w[i].data));
            assert_memory_equal(e.data, w[i].data, e.size);
        } else {
            assert_int_equal(e.size, 0);
        }
    }
    assert_int_equal(cpio_next(buf, len, &pos, &e), CPIO_END);
    assert_int_equal(pos, len);
    assert_int_equal(len % 4, 0);
}

#define D(p, m)                                                                                    \
    {                                                                                              \
        p, S_IFDIR | (m), NULL                                                                     \
    }
#define F(p, m, d)                                                                                 \
    {                                                                                              \
        p, S_IFREG | (m), d                                                                        \
    }
#define L(p, t)                                                                                    \
    {                                                                                              \
        p, S_IFLNK | 0777, t                                                                       \
    }
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Checks the tree's nodes against an expected list (same order). */
static void check_tree(const struct rootfs *fs, const struct want *w, size_t n)
{
    for (size_t i = 0; i < fs->n && i < n; i++) {
        const struct rootfs_node *nd = &fs->nodes[i];
        assert_string_equal(nd->path, w[i].name);
        if (nd->mode != w[i].mode)
            fail_msg("%s: mode %o, expected %o", nd->path, nd->mode, w[i].mode);
        if (w[i].data) {
            assert_int_equal(nd->size, strlen(w[i].data));
            if (nd->size)
                assert_memory_equal(nd->data, w[i].data, nd->size);
        } else {
            assert_int_equal(nd->size, 0);
        }
    }
    assert_int_equal(fs->n, n);
}

static void check_strv(char *const *v, const char *const *want, size_t n)
{
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(v[i]);
        assert_string_equal(v[i], want[i]);
    }
    assert_null(v[n]);
}

/* ---- cpio writer ---- */

static void test_cpio_writer_bytes(void **state)
{
    (void)state;
    struct cpio_writer w;
    cpio_writer_init(&w);
    cpio_add(&w, "a", S_IFDIR | 0755, NULL, 0);
    cpio_add(&w, "f", S_IFREG | 0644, "hi", 2);
    uint8_t *out;
    size_t len;
    assert_int_equal(cpio_finish(&w, &out, &len), 0);
    /* clang-format off */
    static const char want[] =
        "070701" "00000001" "000041ED" "00000000" "00000000" "00000002" "00000000" "00000000"
        "00000000" "00000000" "00000000" "00000000" "00000002" "00000000" "a\0"
        "070701" "00000002" "000081A4" "00000000" "00000000" "00000001" "00000000" "00000002"
        "00000000" "00000000" "00000000" "00000000" "00000002" "00000000" "f\0" "hi\0\0"
        "070701" "00000000" "00000000" "00000000" "00000000" "00000001" "00000000" "00000000"
        "00000000" "00000000" "00000000" "00000000" "0000000B" "00000000" "TRAILER!!!\0\0\0\0";
    /* clang-format on */
    assert_int_equal(len, sizeof(want) - 1);
    assert_int_equal(len, 352);
    assert_memory_equal(out, want, len);
    free(out);

    /* An empty archive is just the trailer. */
    cpio_writer_init(&w);
    assert_int_equal(cpio_finish(&w, &out, &len), 0);
    assert_int_equal(len, 124);
    check_cpio(out, len, NULL, 0);
    free(out);
}

/* ---- directory ---- */

static void make_tree1(void)
{
    mkd("tree1", 0755);
    mkd("tree1/bin", 0755);
    wtext("tree1/bin/app", "#!app\n", 0755);
    mkd("tree1/etc", 0755);
    wtext("tree1/etc/config", "key=value\n", 0600);
    mkd("tree1/etc/nested", 0755);
    mkd("tree1/etc/nested/deep", 0750);
    wtext("tree1/etc/nested/deep/file.txt", "deep\n", 0644);
    mkd("tree1/empty", 0700);
    assert_int_equal(symlink("etc/config", tpath("tree1/link")), 0);
    assert_int_equal(symlink("/etc/passwd", tpath("tree1/abs")), 0);
    mkd("tree1/tmp", 01777);
    wtext("tree1/zero", "", 0644);
}

static const struct want tree1_nodes[] = {
    L("abs", "/etc/passwd"),
    D("bin", 0755),
    F("bin/app", 0755, "#!app\n"),
    D("empty", 0700),
    D("etc", 0755),
    F("etc/config", 0600, "key=value\n"),
    D("etc/nested", 0755),
    D("etc/nested/deep", 0750),
    F("etc/nested/deep/file.txt", 0644, "deep\n"),
    L("link", "etc/config"),
    D("tmp", 01777),
    F("zero", 0644, ""),
};

static void test_dir_tree(void **state)
{
    (void)state;
    make_tree1();
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    assert_int_equal(rootfs_from_dir(&fs, tpath("tree1"), NULL, why, sizeof(why)), 0);
    check_tree(&fs, tree1_nodes, N(tree1_nodes));
    assert_null(fs.cmd);
    assert_string_equal(fs.arch, "amd64");

    char *argv[] = {(char *)"/bin/app", (char *)"--flag", (char *)"two words"};
    assert_int_equal(rootfs_set_cmd(&fs, argv, 3), 0);
    assert_int_equal(rootfs_set_env(&fs, "A=1"), 0);
    assert_int_equal(rootfs_set_env(&fs, "B=2"), 0);
    assert_int_equal(rootfs_set_env(&fs, "A=3"), 0);
    assert_int_equal(rootfs_set_env(&fs, "AB=4"), 0);
    assert_int_equal(rootfs_set_env(&fs, "novalue"), -1);
    assert_int_equal(rootfs_set_env(&fs, "=x"), -1);
    static const char *const env[] = {"A=3", "B=2", "AB=4"};
    check_strv(fs.env, env, 3);

    uint8_t *r1, *r2;
    size_t l1, l2;
    assert_int_equal(rootfs_customer_ramdisk(&fs, &r1, &l1, why, sizeof(why)), 0);
    assert_int_equal(rootfs_customer_ramdisk(&fs, &r2, &l2, why, sizeof(why)), 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(r1, r2, l1);

    /* A second import of the same directory gives the same bytes too. */
    struct rootfs fs2;
    rootfs_init(&fs2);
    assert_int_equal(rootfs_from_dir(&fs2, tpath("tree1"), NULL, why, sizeof(why)), 0);
    assert_int_equal(rootfs_set_cmd(&fs2, argv, 3), 0);
    assert_int_equal(rootfs_set_env(&fs2, "A=3"), 0);
    assert_int_equal(rootfs_set_env(&fs2, "B=2"), 0);
    assert_int_equal(rootfs_set_env(&fs2, "AB=4"), 0);
    uint8_t *r3;
    size_t l3;
    assert_int_equal(rootfs_customer_ramdisk(&fs2, &r3, &l3, why, sizeof(why)), 0);
    assert_int_equal(l1, l3);
    assert_memory_equal(r1, r3, l1);

    static const struct want want[] = {
        D("rootfs", 0755),
        L("rootfs/abs", "/etc/passwd"),
        D("rootfs/bin", 0755),
        F("rootfs/bin/app", 0755, "#!app\n"),
        D("rootfs/dev", 0755),
        D("rootfs/empty", 0700),
        D("rootfs/etc", 0755),
        F("rootfs/etc/config", 0600, "key=value\n"),
        D("rootfs/etc/nested", 0755),
        D("rootfs/etc/nested/deep", 0750),
        F("rootfs/etc/nested/deep/file.txt", 0644, "deep\n"),
        L("rootfs/link", "etc/config"),
        D("rootfs/proc", 0755),
        D("rootfs/run", 0755),
        D("rootfs/sys", 0755),
        D("rootfs/tmp", 01777),
        D("rootfs/var", 0755),
        F("rootfs/zero", 0644, ""),
        F("cmd", 0644, "/bin/app\n--flag\ntwo words\n"),
        F("env", 0644, "A=3\nB=2\nAB=4\n"),
    };
    check_cpio(r1, l1, want, N(want));
    /* Inode numbers count from 1 in order: the third entry's header says 3. */
    size_t pos = 0;
    struct cpio_entry e;
    for (int i = 0; i < 2; i++)
        assert_int_equal(cpio_next(r1, l1, &pos, &e), CPIO_ENTRY);
    assert_memory_equal(r1 + pos, "07070100000003", 14);

    free(r1);
    free(r2);
    free(r3);
    rootfs_free(&fs);
    rootfs_free(&fs2);
    assert_int_equal(fs.n, 0);
    assert_null(fs.nodes);
}

/* The application ramdisk made by reference (pieces pointing into the files, large ones mapped)
 * has the same bytes as the one copied into a buffer, and so the same PCR2. */
static void test_ramdisk_pieces(void **state)
{
    (void)state;
    mkd("pieces", 0755);
    static uint8_t big[3 * 1024 * 1024 + 7], mid[5000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 131 + 7);
    for (size_t i = 0; i < sizeof(mid); i++)
        mid[i] = (uint8_t)(i * 17);
    wfile("pieces/big.bin", big, sizeof(big), 0644); /* mapped */
    wfile("pieces/mid.bin", mid, sizeof(mid), 0644); /* by reference */
    wtext("pieces/small.txt", "small\n", 0600);      /* copied */
    wfile("pieces/odd.bin", mid, 4099, 0644);        /* a size that needs padding */
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    assert_int_equal(rootfs_from_dir(&fs, tpath("pieces"), NULL, why, sizeof(why)), 0);
    char *argv[] = {(char *)"/small.txt"};
    assert_int_equal(rootfs_set_cmd(&fs, argv, 1), 0);
    bool mapped = false;
    for (size_t i = 0; i < fs.n; i++)
        mapped |= fs.nodes[i].mapped;
    assert_true(mapped);

    uint8_t *buf, *own;
    size_t len;
    struct iovec *iov;
    int n;
    uint64_t total;
    assert_int_equal(rootfs_customer_ramdisk(&fs, &buf, &len, why, sizeof(why)), 0);
    assert_int_equal(rootfs_customer_ramdisk_pieces(&fs, &iov, &n, &own, &total, why, sizeof(why)),
                     0);
    assert_int_equal(total, len);
    assert_true(n > 3);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        assert_true(at + iov[i].iov_len <= len);
        assert_memory_equal(buf + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    assert_int_equal(at, len);
    free(buf);
    free(own);
    free(iov);
    rootfs_free(&fs);
}

static void test_missing_cmd(void **state)
{
    (void)state;
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    mkd("tree3", 0755);
    wtext("tree3/prog", "x", 0755);
    assert_int_equal(rootfs_from_dir(&fs, tpath("tree3"), NULL, why, sizeof(why)), 0);
    uint8_t *out = (uint8_t *)"sentinel";
    size_t len = 1;
    assert_int_equal(rootfs_customer_ramdisk(&fs, &out, &len, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no command"));
    assert_null(out);

    /* An empty argv is no command either; nor is a newline inside an argument. */
    assert_int_equal(rootfs_set_cmd(&fs, NULL, 0), 0);
    assert_int_equal(rootfs_customer_ramdisk(&fs, &out, &len, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no command"));
    char *bad[] = {(char *)"/prog", (char *)"two\nlines"};
    assert_int_equal(rootfs_set_cmd(&fs, bad, 2), 0);
    assert_int_equal(rootfs_customer_ramdisk(&fs, &out, &len, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "newline"));
    rootfs_free(&fs);
}

static void test_fifo_refused(void **state)
{
    (void)state;
    mkd("tree2", 0755);
    wtext("tree2/ok", "ok", 0644);
    mkd("tree2/sub", 0755);
    assert_int_equal(mkfifo(tpath("tree2/sub/pipe"), 0644), 0);
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    assert_int_equal(rootfs_from_dir(&fs, tpath("tree2"), NULL, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "tree2/sub/pipe"));
    char slashed[600];
    snprintf(slashed, sizeof(slashed), "%s/", tpath("tree2"));
    assert_int_equal(rootfs_from_dir(&fs, slashed, NULL, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "tree2/sub/pipe"));
    assert_non_null(strstr(why, "FIFO"));
    assert_int_equal(fs.n, 0);

    assert_int_equal(rootfs_from_dir(&fs, tpath("no-such-dir"), NULL, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no-such-dir"));
    rootfs_free(&fs);
}

static void test_binary(void **state)
{
    (void)state;
    static const uint8_t bin[] = {0x7f, 'E', 'L', 'F', 0, 1, 2, 3, 0xff};
    wfile("mybin", bin, sizeof(bin), 0600);
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    assert_int_equal(rootfs_from_binary(&fs, tpath("mybin"), why, sizeof(why)), 0);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.nodes[0].path, "mybin");
    assert_int_equal(fs.nodes[0].mode, S_IFREG | 0755);
    assert_int_equal(fs.nodes[0].size, sizeof(bin));
    assert_memory_equal(fs.nodes[0].data, bin, sizeof(bin));
    static const char *const cmd[] = {"/mybin"};
    check_strv(fs.cmd, cmd, 1);

    uint8_t *out;
    size_t len;
    assert_int_equal(rootfs_customer_ramdisk(&fs, &out, &len, why, sizeof(why)), 0);
    static const struct want want[] = {
        D("rootfs", 0755),
        D("rootfs/dev", 0755),
        {"rootfs/mybin", S_IFREG | 0755, NULL}, /* contents checked below */
        D("rootfs/proc", 0755),
        D("rootfs/run", 0755),
        D("rootfs/sys", 0755),
        D("rootfs/tmp", 0755),
        D("rootfs/var", 0755),
        F("cmd", 0644, "/mybin\n"),
        F("env", 0644, ""),
    };
    size_t pos = 0;
    struct cpio_entry e;
    for (size_t i = 0; i < N(want); i++) {
        assert_int_equal(cpio_next(out, len, &pos, &e), CPIO_ENTRY);
        assert_int_equal(e.name_len, strlen(want[i].name));
        assert_memory_equal(e.name, want[i].name, e.name_len);
        assert_int_equal(e.mode, want[i].mode);
        if (i == 2) {
            assert_int_equal(e.size, sizeof(bin));
            assert_memory_equal(e.data, bin, sizeof(bin));
        } else if (want[i].data) {
            assert_int_equal(e.size, strlen(want[i].data));
            assert_memory_equal(e.data, want[i].data, e.size);
        }
    }
    assert_int_equal(cpio_next(out, len, &pos, &e), CPIO_END);
    free(out);
    rootfs_free(&fs);

    assert_int_equal(rootfs_from_binary(&fs, g_tmp, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "not a regular file"));
    assert_int_equal(rootfs_from_binary(&fs, tpath("absent"), why, sizeof(why)), -1);
    assert_non_null(strstr(why, "absent"));
    rootfs_free(&fs);
}

/* A tree made by hand: nodes in any order, missing parents. */
static void set_nodes(struct rootfs *fs, const struct want *w, size_t n)
{
    rootfs_free(fs);
    fs->nodes = calloc(n, sizeof(*fs->nodes));
    assert_non_null(fs->nodes);
    fs->n = fs->cap = n;
    for (size_t i = 0; i < n; i++) {
        fs->nodes[i].path = strdup(w[i].name);
        fs->nodes[i].mode = w[i].mode;
        if (w[i].data) {
            fs->nodes[i].size = strlen(w[i].data);
            fs->nodes[i].data = (uint8_t *)strdup(w[i].data);
        }
    }
    char *argv[] = {(char *)"/x"};
    assert_int_equal(rootfs_set_cmd(fs, argv, 1), 0);
}

static void test_implicit_parents_and_bad_trees(void **state)
{
    (void)state;
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    uint8_t *out;
    size_t len;
    static const struct want nodes[] = {
        D("x/y", 0700),
        F("a/b/c", 0600, "c"),
        F("a-b", 0644, "dash"),
        D("dev", 0711),
    };
    set_nodes(&fs, nodes, N(nodes));
    assert_int_equal(rootfs_customer_ramdisk(&fs, &out, &len, why, sizeof(why)), 0);
    static const struct want want[] = {
        D("rootfs", 0755),      D("rootfs/a", 0755),          F("rootfs/a-b", 0644, "dash"),
        D("rootfs/a/b", 0755),  F("rootfs/a/b/c", 0600, "c"), D("rootfs/dev", 0711),
        D("rootfs/proc", 0755), D("rootfs/run", 0755),        D("rootfs/sys", 0755),
        D("rootfs/tmp", 0755),  D("rootfs/var", 0755),        D("rootfs/x", 0755),
        D("rootfs/x/y", 0700),  F("cmd", 0644, "/x\n"),       F("env", 0644, ""),
    };
    check_cpio(out, len, want, N(want));
    free(out);

    static const char *const bad[] = {"../evil", "/abs", "a/./b", "a//b", "", "a/..", "b/"};
    for (size_t i = 0; i < N(bad); i++) {
        struct want w[] = {F(bad[i], 0644, "x")};
        set_nodes(&fs, w, 1);
        assert_int_equal(rootfs_customer_ramdisk(&fs, &out, &len, why, sizeof(why)), -1);
        assert_non_null(strstr(why, "invalid path"));
    }
    static const struct want dup[] = {F("same", 0644, "1"), D("same", 0755)};
    set_nodes(&fs, dup, N(dup));
    assert_int_equal(rootfs_customer_ramdisk(&fs, &out, &len, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "twice"));
    static const struct want under_file[] = {F("f", 0644, "1"), F("f/g", 0644, "2")};
    set_nodes(&fs, under_file, N(under_file));
    assert_int_equal(rootfs_customer_ramdisk(&fs, &out, &len, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "not a directory"));
    static const struct want fifo[] = {{"p", S_IFIFO | 0644, NULL}};
    set_nodes(&fs, fifo, N(fifo));
    assert_int_equal(rootfs_customer_ramdisk(&fs, &out, &len, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "not a regular file"));
    rootfs_free(&fs);
}

static void test_boot_ramdisk(void **state)
{
    (void)state;
    uint8_t *a, *b;
    size_t la, lb;
    assert_int_equal(rootfs_boot_ramdisk(&a, &la), 0);
    assert_int_equal(rootfs_boot_ramdisk(&b, &lb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    static const struct want want[] = {
        D("dev", 0755),
        F("alcove", 0644, "alcove enclave kernel ramdisk 1\n"),
    };
    check_cpio(a, la, want, N(want));
    free(a);
    free(b);
}

/* ---- building tar archives ---- */

struct mbuf {
    uint8_t *p;
    size_t len, cap;
};

static void mb_put(struct mbuf *m, const void *d, size_t n)
{
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2 + 4096;
        m->p = realloc(m->p, m->cap);
        assert_non_null(m->p);
    }
    memcpy(m->p + m->len, d, n);
    m->len += n;
}

static la_ssize_t mb_write(struct archive *a, void *ud, const void *buf, size_t n)
{
    (void)a;
    mb_put(ud, buf, n);
    return (la_ssize_t)n;
}

static struct archive *tar_begin(struct mbuf *m, bool ustar)
{
    memset(m, 0, sizeof(*m));
    struct archive *a = archive_write_new();
    assert_non_null(a);
    assert_int_equal(ustar ? archive_write_set_format_ustar(a)
                           : archive_write_set_format_pax_restricted(a),
                     ARCHIVE_OK);
    archive_write_set_bytes_in_last_block(a, 1);
    assert_int_equal(archive_write_open(a, m, NULL, mb_write, NULL), ARCHIVE_OK);
    return a;
}

/* type: 'f' file, 'd' directory, 'l' symbolic link (data = target), 'h' hard link (data =
 * target), 'p' FIFO, 'c' character device */
static void tar_add(struct archive *a, const char *name, char type, unsigned mode, const void *data,
                    size_t len)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_mtime(e, 1700000000, 0);
    archive_entry_set_uid(e, 1000);
    archive_entry_set_gid(e, 1000);
    switch (type) {
    case 'f':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)len);
        break;
    case 'd':
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
    case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, data);
        break;
    case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, data);
        archive_entry_set_size(e, 0);
        break;
    case 'p':
        archive_entry_set_filetype(e, AE_IFIFO);
        break;
    case 'c':
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdevmajor(e, 1);
        archive_entry_set_rdevminor(e, 3);
        break;
    default:
        fail();
    }
    archive_entry_set_perm(e, mode);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (type == 'f' && len)
        assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
    archive_entry_free(e);
}

static void tar_end(struct archive *a)
{
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

struct tent {
    const char *path;
    char type;
    unsigned mode;
    const char *data;
};

static void build_layer(const struct tent *e, size_t n, struct mbuf *out)
{
    struct archive *a = tar_begin(out, false);
    for (size_t i = 0; i < n; i++)
        tar_add(a, e[i].path, e[i].type, e[i].mode, e[i].data, e[i].data ? strlen(e[i].data) : 0);
    tar_end(a);
}

static void gzip_buf(const struct mbuf *in, struct mbuf *out)
{
    memset(out, 0, sizeof(*out));
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
    assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    archive_write_set_bytes_in_last_block(a, 1);
    assert_int_equal(archive_write_open(a, out, NULL, mb_write, NULL), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "data");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, (la_int64_t)in->len);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, in->p, in->len), (la_ssize_t)in->len);
    archive_entry_free(e);
    tar_end(a);
    assert_true(out->len > 2 && out->p[0] == 0x1f && out->p[1] == 0x8b);
}

static void sha256_hex(const void *d, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen;
    assert_true(EVP_Digest(d, n, md, &mdlen, EVP_sha256(), NULL));
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

/* An outer archive: members by name. */
struct member {
    char name[128];
    struct mbuf data;
    const char *link; /* a symbolic link instead of data */
};

static void write_outer(const char *path, struct member *m, size_t n, bool ustar)
{
    struct mbuf out;
    struct archive *a = tar_begin(&out, ustar);
    for (size_t i = 0; i < n; i++) {
        if (m[i].link)
            tar_add(a, m[i].name, 'l', 0777, m[i].link, 0);
        else
            tar_add(a, m[i].name, 'f', 0644, m[i].data.p, m[i].data.len);
    }
    tar_end(a);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, out.p, out.len), (ssize_t)out.len);
    close(fd);
    free(out.p);
}

static void text_member(struct member *m, const char *name, const char *text)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", name);
    mb_put(&m->data, text, strlen(text));
}

/* ---- the layers every image test uses ---- */

static const struct tent layer1[] = {
    {"etc/", 'd', 0755, NULL},           {"etc/app.conf", 'f', 0644, "v1\n"},
    {"etc/keep", 'f', 0600, "keep\n"},   {"opaque/", 'd', 0755, NULL},
    {"opaque/a", 'f', 0644, "a"},        {"opaque/sub/", 'd', 0755, NULL},
    {"opaque/sub/b", 'f', 0644, "b"},    {"gone.txt", 'f', 0644, "gone"},
    {"gonedir/", 'd', 0755, NULL},       {"gonedir/f", 'f', 0644, "f"},
    {"replaced/", 'd', 0755, NULL},      {"replaced/inner", 'f', 0644, "inner"},
    {"f2d", 'f', 0644, "file"},          {"bin/", 'd', 0755, NULL},
    {"bin/tool", 'f', 0755, "tool-v1"},  {"bin/tool2", 'h', 0755, "bin/tool"},
    {"pipe", 'p', 0644, NULL},           {"null", 'c', 0666, NULL},
    {"lnk", 'l', 0777, "/etc/app.conf"}, {"usr/", 'd', 0755, NULL},
    {"usr/lib/", 'd', 0755, NULL},       {"lib", 'l', 0777, "usr/lib"},
};

static const struct tent layer2[] = {
    {"./etc/app.conf", 'f', 0640, "v2\n"}, {"./.wh.gone.txt", 'f', 0644, ""},
    {"./.wh.gonedir", 'f', 0644, ""},      {"./opaque/.wh..wh..opq", 'f', 0644, ""},
    {"./opaque/c", 'f', 0644, "c"},        {"./replaced", 'f', 0644, "now a file"},
    {"./newfile", 'f', 0644, "new"},
};

static const struct tent layer3[] = {
    {"./", 'd', 0755, NULL},
    {"./f2d/", 'd', 0755, NULL},
    {"./f2d/child", 'f', 0644, "child"},
    {"bin/tool", 'f', 0755, "tool-v3"},
    {"lib/libx.so", 'f', 0644, "x"},
};

static const struct want three_layers[] = {
    D("bin", 0755),
    F("bin/tool", 0755, "tool-v3"),
    F("bin/tool2", 0755, "tool-v1"),
    D("etc", 0755),
    F("etc/app.conf", 0640, "v2\n"),
    F("etc/keep", 0600, "keep\n"),
    D("f2d", 0755),
    F("f2d/child", 0644, "child"),
    L("lib", "usr/lib"),
    L("lnk", "/etc/app.conf"),
    F("newfile", 0644, "new"),
    D("opaque", 0755),
    F("opaque/c", 0644, "c"),
    F("replaced", 0644, "now a file"),
    D("usr", 0755),
    D("usr/lib", 0755),
    F("usr/lib/libx.so", 0644, "x"),
};

/* The three layers, uncompressed, and their diff_ids. */
static void build_layers(struct mbuf raw[3], char diff[3][72])
{
    build_layer(layer1, N(layer1), &raw[0]);
    build_layer(layer2, N(layer2), &raw[1]);
    build_layer(layer3, N(layer3), &raw[2]);
    for (int i = 0; i < 3; i++) {
        char hex[65];
        sha256_hex(raw[i].p, raw[i].len, hex);
        snprintf(diff[i], 72, "sha256:%s", hex);
    }
}

/* ---- OCI image layout ---- */

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define OCI_CONFIG   "application/vnd.oci.image.config.v1+json"
#define OCI_TAR      "application/vnd.oci.image.layer.v1.tar"
#define OCI_TGZ      "application/vnd.oci.image.layer.v1.tar+gzip"

struct oci_opts {
    const char *arch;
    const char *layer2_type; /* NULL: the OCI tar type */
    bool corrupt_layer2;     /* its bytes change after the digest was taken */
    bool drop_layer2;        /* its blob is not in the archive */
    bool manifest_not_json;
    bool nested_index; /* index.json -> index blob -> (arm64, amd64) manifests */
    bool dotslash;     /* member names start with "./" */
};

struct oci_blob {
    char hex[65];
    struct mbuf data;
};

static void blob_of(struct oci_blob *b, struct mbuf data)
{
    b->data = data;
    sha256_hex(data.p, data.len, b->hex);
}

static void blob_text(struct oci_blob *b, const char *text)
{
    struct mbuf m = {0};
    mb_put(&m, text, strlen(text));
    blob_of(b, m);
}

static const char image_config[] =
    "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/tool\",\"--serve\"],"
    "\"Entrypoint\":[\"/entry\"],\"Env\":[\"PATH=/usr/bin:/bin\",\"MODE=prod\"],"
    "\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\",\"%s\"]}}";

static void write_oci(const char *path, const struct oci_opts *o)
{
    struct mbuf raw[3];
    char diff[3][72];
    build_layers(raw, diff);
    struct oci_blob blobs[8];
    size_t nb = 0;
    /* layers 1 and 3 gzip, layer 2 plain */
    struct mbuf gz1, gz3;
    gzip_buf(&raw[0], &gz1);
    gzip_buf(&raw[2], &gz3);
    free(raw[0].p);
    free(raw[2].p);
    struct oci_blob *l1 = &blobs[nb++], *l2 = &blobs[nb++], *l3 = &blobs[nb++];
    blob_of(l1, gz1);
    blob_of(l2, raw[1]);
    blob_of(l3, gz3);

    char text[4096];
    snprintf(text, sizeof(text), image_config, o->arch ? o->arch : "amd64", diff[0], diff[1],
             diff[2]);
    struct oci_blob *cfg = &blobs[nb++];
    blob_text(cfg, text);

    if (o->manifest_not_json)
        snprintf(text, sizeof(text), "this is not JSON {");
    else
        snprintf(text, sizeof(text),
                 "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST "\","
                 "\"config\":{\"mediaType\":\"" OCI_CONFIG "\",\"digest\":\"sha256:%s\","
                 "\"size\":%zu},\"layers\":["
                 "{\"mediaType\":\"" OCI_TGZ "\",\"digest\":\"sha256:%s\",\"size\":%zu},"
                 "{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu},"
                 "{\"mediaType\":\"" OCI_TGZ "\",\"digest\":\"sha256:%s\",\"size\":%zu}]}",
                 cfg->hex, cfg->data.len, l1->hex, l1->data.len,
                 o->layer2_type ? o->layer2_type : OCI_TAR, l2->hex, l2->data.len, l3->hex,
                 l3->data.len);
    struct oci_blob *man = &blobs[nb++];
    blob_text(man, text);

    char index[4096];
    if (o->nested_index) {
        /* The arm64 entry names a blob that is not there: it must not be looked at. */
        snprintf(text, sizeof(text),
                 "{\"schemaVersion\":2,\"mediaType\":\"" OCI_INDEX "\",\"manifests\":["
                 "{\"mediaType\":\"" OCI_MANIFEST "\",\"digest\":\"sha256:%064d\",\"size\":1,"
                 "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
                 "{\"mediaType\":\"" OCI_MANIFEST "\",\"digest\":\"sha256:%s\",\"size\":%zu,"
                 "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
                 0, man->hex, man->data.len);
        struct oci_blob *idx = &blobs[nb++];
        blob_text(idx, text);
        snprintf(index, sizeof(index),
                 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_INDEX "\","
                 "\"digest\":\"sha256:%s\",\"size\":%zu,\"annotations\":{"
                 "\"io.containerd.image.name\":\"docker.io/library/app:latest\","
                 "\"org.opencontainers.image.ref.name\":\"latest\"}}]}",
                 idx->hex, idx->data.len);
    } else {
        snprintf(index, sizeof(index),
                 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MANIFEST "\","
                 "\"digest\":\"sha256:%s\",\"size\":%zu,\"annotations\":{"
                 "\"org.opencontainers.image.ref.name\":"
                 "\"registry.example:5000/team/app:1.2\"}}]}",
                 man->hex, man->data.len);
    }
    if (o->corrupt_layer2)
        l2->data.p[600] ^= 1;

    struct member m[10];
    size_t nm = 0;
    const char *pre = o->dotslash ? "./" : "";
    char name[128];
    snprintf(name, sizeof(name), "%soci-layout", pre);
    text_member(&m[nm++], name, "{\"imageLayoutVersion\":\"1.0.0\"}");
    snprintf(name, sizeof(name), "%sindex.json", pre);
    text_member(&m[nm++], name, index);
    for (size_t i = 0; i < nb; i++) {
        if (o->drop_layer2 && &blobs[i] == l2) {
            free(l2->data.p);
            continue;
        }
        memset(&m[nm], 0, sizeof(m[nm]));
        snprintf(m[nm].name, sizeof(m[nm].name), "%sblobs/sha256/%.64s", pre, blobs[i].hex);
        m[nm++].data = blobs[i].data;
    }
    write_outer(path, m, nm, false);
    for (size_t i = 0; i < nm; i++)
        free(m[i].data.p);
}

static void test_oci_layers(void **state)
{
    (void)state;
    const char *path = tpath("image-oci.tar");
    struct oci_opts o = {0};
    write_oci(path, &o);
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    int rc = rootfs_from_oci_archive(&fs, path, NULL, why, sizeof(why));
    if (rc)
        fail_msg("%s", why);
    check_tree(&fs, three_layers, N(three_layers));
    static const char *const cmd[] = {"/bin/tool", "--serve"};
    check_strv(fs.cmd, cmd, 2);
    static const char *const env[] = {"PATH=/usr/bin:/bin", "MODE=prod"};
    check_strv(fs.env, env, 2);
    assert_string_equal(fs.arch, "amd64");
    assert_string_equal(fs.image_name, "registry.example:5000/team/app");
    assert_string_equal(fs.image_version, "1.2");
    assert_non_null(fs.config_json);
    assert_non_null(strstr(fs.config_json, "\"Entrypoint\":[\"/entry\"]"));

    uint8_t *r1, *r2;
    size_t l1, l2;
    assert_int_equal(rootfs_customer_ramdisk(&fs, &r1, &l1, why, sizeof(why)), 0);
    rootfs_free(&fs);
    /* Importing again (a fresh archive: gzip headers differ) gives the same ramdisk. */
    write_oci(path, &o);
    assert_int_equal(rootfs_from_oci_archive(&fs, path, NULL, why, sizeof(why)), 0);
    assert_int_equal(rootfs_customer_ramdisk(&fs, &r2, &l2, why, sizeof(why)), 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(r1, r2, l1);
    static const struct want want[] = {
        D("rootfs", 0755),
        D("rootfs/bin", 0755),
        F("rootfs/bin/tool", 0755, "tool-v3"),
        F("rootfs/bin/tool2", 0755, "tool-v1"),
        D("rootfs/dev", 0755),
        D("rootfs/etc", 0755),
        F("rootfs/etc/app.conf", 0640, "v2\n"),
        F("rootfs/etc/keep", 0600, "keep\n"),
        D("rootfs/f2d", 0755),
        F("rootfs/f2d/child", 0644, "child"),
        L("rootfs/lib", "usr/lib"),
        L("rootfs/lnk", "/etc/app.conf"),
        F("rootfs/newfile", 0644, "new"),
        D("rootfs/opaque", 0755),
        F("rootfs/opaque/c", 0644, "c"),
        D("rootfs/proc", 0755),
        F("rootfs/replaced", 0644, "now a file"),
        D("rootfs/run", 0755),
        D("rootfs/sys", 0755),
        D("rootfs/tmp", 0755),
        D("rootfs/usr", 0755),
        D("rootfs/usr/lib", 0755),
        F("rootfs/usr/lib/libx.so", 0644, "x"),
        D("rootfs/var", 0755),
        F("cmd", 0644, "/bin/tool\n--serve\n"),
        F("env", 0644, "PATH=/usr/bin:/bin\nMODE=prod\n"),
    };
    check_cpio(r1, l1, want, N(want));
    free(r1);
    free(r2);
    rootfs_free(&fs);
}

static void test_oci_nested_index(void **state)
{
    (void)state;
    const char *path = tpath("image-oci-index.tar");
    struct oci_opts o = {.nested_index = true,
                         .dotslash = true,
                         .layer2_type = "application/vnd.docker.image.rootfs.diff.tar.gzip"};
    write_oci(path, &o);
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    int rc = rootfs_from_oci_archive(&fs, path, NULL, why, sizeof(why));
    if (rc)
        fail_msg("%s", why);
    check_tree(&fs, three_layers, N(three_layers));
    assert_string_equal(fs.image_name, "docker.io/library/app");
    assert_string_equal(fs.image_version, "latest");
    rootfs_free(&fs);
}

static void expect_oci_failure(const struct oci_opts *o, const char *needle1, const char *needle2)
{
    const char *path = tpath("image-bad.tar");
    write_oci(path, o);
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    assert_int_equal(rootfs_from_oci_archive(&fs, path, NULL, why, sizeof(why)), -1);
    if (!strstr(why, needle1) || (needle2 && !strstr(why, needle2)))
        fail_msg("unexpected reason: %s", why);
    assert_int_equal(fs.n, 0);
    assert_null(fs.cmd);
    rootfs_free(&fs);
}

static void test_oci_must_fail(void **state)
{
    (void)state;
    expect_oci_failure(&(struct oci_opts){.corrupt_layer2 = true}, "digest mismatch", "layer 2");
    expect_oci_failure(&(struct oci_opts){.drop_layer2 = true}, "missing", "layer 2");
    expect_oci_failure(&(struct oci_opts){.arch = "arm64"}, "arm64", "amd64");
    expect_oci_failure(&(struct oci_opts){.manifest_not_json = true}, "not valid JSON", "manifest");
    expect_oci_failure(&(struct oci_opts){.layer2_type = "application/vnd.example.weird"},
                       "unsupported media type", "weird");

    /* The digest mismatch names both digests. */
    const char *path = tpath("image-bad.tar");
    write_oci(path, &(struct oci_opts){.corrupt_layer2 = true});
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    assert_int_equal(rootfs_from_oci_archive(&fs, path, NULL, why, sizeof(why)), -1);
    const char *first = strstr(why, "sha256:");
    assert_non_null(first);
    assert_non_null(strstr(first + 7, "sha256:"));

    /* Not an archive at all; no such file; a docker archive given as OCI. */
    wtext("garbage.tar", "garbage garbage garbage", 0644);
    assert_int_equal(rootfs_from_oci_archive(&fs, tpath("garbage.tar"), NULL, why, sizeof(why)),
                     -1);
    assert_int_equal(rootfs_from_oci_archive(&fs, tpath("nonexistent.tar"), NULL, why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "nonexistent.tar"));
    struct member m[1];
    text_member(&m[0], "manifest.json", "[]");
    write_outer(tpath("docker-as-oci.tar"), m, 1, true);
    free(m[0].data.p);
    assert_int_equal(
        rootfs_from_oci_archive(&fs, tpath("docker-as-oci.tar"), NULL, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "oci-layout"));
    rootfs_free(&fs);
}

/* A layer with an entry that climbs out of the root is refused. */
static void test_layer_escape(void **state)
{
    (void)state;
    static const struct tent evil[] = {{"../../etc/passwd", 'f', 0644, "x"}};
    struct mbuf layer;
    build_layer(evil, 1, &layer);
    char hex[65], ldig[72];
    sha256_hex(layer.p, layer.len, hex);
    snprintf(ldig, sizeof(ldig), "sha256:%s", hex);
    char cfg[512];
    snprintf(cfg, sizeof(cfg),
             "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/x\"]},"
             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
             ldig);
    char chex[65];
    sha256_hex(cfg, strlen(cfg), chex);
    char manifest[512];
    snprintf(manifest, sizeof(manifest),
             "[{\"Config\":\"%s.json\",\"RepoTags\":null,\"Layers\":[\"l1/layer.tar\"]}]", chex);
    struct member m[3];
    text_member(&m[0], "manifest.json", manifest);
    char cname[80];
    snprintf(cname, sizeof(cname), "%s.json", chex);
    text_member(&m[1], cname, cfg);
    memset(&m[2], 0, sizeof(m[2]));
    snprintf(m[2].name, sizeof(m[2].name), "l1/layer.tar");
    m[2].data = layer;
    write_outer(tpath("escape.tar"), m, 3, true);
    for (int i = 0; i < 3; i++)
        free(m[i].data.p);
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    assert_int_equal(rootfs_from_docker_archive(&fs, tpath("escape.tar"), NULL, why, sizeof(why)),
                     -1);
    if (!strstr(why, "outside the root"))
        fail_msg("unexpected reason: %s", why);
    rootfs_free(&fs);
}

/* ---- docker save ---- */

struct docker_opts {
    const char *arch;
    bool manifest_not_json;
    bool drop_layer2;
    bool corrupt_layer2; /* no longer matches its diff_id */
    bool corrupt_config; /* no longer matches its name */
};

static void write_docker(const char *path, const struct docker_opts *o)
{
    struct mbuf raw[3];
    char diff[3][72];
    build_layers(raw, diff);
    char cfg[4096];
    snprintf(cfg, sizeof(cfg),
             "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":null,"
             "\"Entrypoint\":[\"/entry\",\"arg\"],\"Env\":[\"HOME=/root\"]},"
             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\",\"%s\"]}}",
             o->arch ? o->arch : "amd64", diff[0], diff[1], diff[2]);
    char chex[65];
    sha256_hex(cfg, strlen(cfg), chex);
    char manifest[1024];
    if (o->manifest_not_json)
        snprintf(manifest, sizeof(manifest), "{{ not json");
    else
        snprintf(manifest, sizeof(manifest),
                 "[{\"Config\":\"%s.json\",\"RepoTags\":[\"myapp:v3\",\"myapp:latest\"],"
                 "\"Layers\":[\"aaa/layer.tar\",\"bbb/layer.tar\",\"ccc/layer.tar\"]}]",
                 chex);
    struct member m[8];
    size_t n = 0;
    text_member(&m[n++], "manifest.json", manifest);
    text_member(&m[n++], "repositories", "{\"myapp\":{\"v3\":\"aaa\"}}");
    char cname[80];
    snprintf(cname, sizeof(cname), "%s.json", chex);
    text_member(&m[n++], cname, cfg);
    if (o->corrupt_config)
        m[n - 1].data.p[2] = 'A';
    static const char *const lnames[] = {"aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"};
    for (int i = 0; i < 3; i++) {
        if (i == 1 && o->drop_layer2) {
            free(raw[i].p);
            continue;
        }
        memset(&m[n], 0, sizeof(m[n]));
        snprintf(m[n].name, sizeof(m[n].name), "%s", lnames[i]);
        m[n].data = raw[i];
        if (i == 1 && o->corrupt_layer2)
            m[n].data.p[600] ^= 1;
        n++;
    }
    write_outer(path, m, n, true);
    for (size_t i = 0; i < n; i++)
        free(m[i].data.p);
}

static void test_docker_save(void **state)
{
    (void)state;
    const char *path = tpath("image-docker.tar");
    write_docker(path, &(struct docker_opts){0});
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    int rc = rootfs_from_docker_archive(&fs, path, NULL, why, sizeof(why));
    if (rc)
        fail_msg("%s", why);
    check_tree(&fs, three_layers, N(three_layers));
    /* No Cmd: the Entrypoint alone. */
    static const char *const cmd[] = {"/entry", "arg"};
    check_strv(fs.cmd, cmd, 2);
    static const char *const env[] = {"HOME=/root"};
    check_strv(fs.env, env, 1);
    assert_string_equal(fs.image_name, "myapp");
    assert_string_equal(fs.image_version, "v3");
    assert_non_null(strstr(fs.config_json, "\"diff_ids\""));
    uint8_t *r;
    size_t l;
    assert_int_equal(rootfs_customer_ramdisk(&fs, &r, &l, why, sizeof(why)), 0);
    free(r);
    rootfs_free(&fs);
}

static void expect_docker_failure(const struct docker_opts *o, const char *needle1,
                                  const char *needle2)
{
    const char *path = tpath("docker-bad.tar");
    write_docker(path, o);
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    assert_int_equal(rootfs_from_docker_archive(&fs, path, NULL, why, sizeof(why)), -1);
    if (!strstr(why, needle1) || (needle2 && !strstr(why, needle2)))
        fail_msg("unexpected reason: %s", why);
    assert_int_equal(fs.n, 0);
    rootfs_free(&fs);
}

static void test_docker_must_fail(void **state)
{
    (void)state;
    expect_docker_failure(&(struct docker_opts){.manifest_not_json = true}, "manifest.json",
                          "not valid JSON");
    expect_docker_failure(&(struct docker_opts){.drop_layer2 = true}, "missing", "bbb/layer.tar");
    expect_docker_failure(&(struct docker_opts){.arch = "arm64"}, "arm64", "amd64");
    expect_docker_failure(&(struct docker_opts){.corrupt_layer2 = true}, "digest mismatch",
                          "layer 2");
    expect_docker_failure(&(struct docker_opts){.corrupt_config = true}, "digest mismatch",
                          "config");
    /* An OCI layout given as a docker archive. */
    write_oci(tpath("oci-as-docker.tar"), &(struct oci_opts){0});
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    assert_int_equal(
        rootfs_from_docker_archive(&fs, tpath("oci-as-docker.tar"), NULL, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "manifest.json"));
    rootfs_free(&fs);
}

/* ---- progress ---- */

static void test_progress(void **state)
{
    (void)state;
    mkd("tree4", 0755);
    static uint8_t big[3 << 20];
    wfile("tree4/big", big, sizeof(big), 0644);

    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    /* Not a terminal: nothing, and NULL is accepted everywhere. */
    int nul = open("/dev/null", O_WRONLY);
    assert_true(nul >= 0);
    dup2(nul, STDERR_FILENO);
    close(nul);
    struct progress *none = progress_start("x", 1);
    progress_add(none, 1);
    progress_update(none, 1);
    progress_end(none);

    /* A terminal: a line redrawn with \r, a newline at the end. */
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    dup2(slave, STDERR_FILENO);
    close(slave);
    struct progress *p = progress_start("Importing", 4 << 20);
    progress_add(p, 1 << 20);
    progress_update(p, 2 << 20);
    progress_end(p);
    struct progress *q = progress_start("Reading", 0);
    struct rootfs fs;
    rootfs_init(&fs);
    char why[512] = "";
    int rc = rootfs_from_dir(&fs, tpath("tree4"), q, why, sizeof(why));
    progress_end(q);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);

    assert_null(none);
    assert_non_null(p);
    assert_non_null(q);
    assert_int_equal(rc, 0);
    rootfs_free(&fs);
    char out[4096];
    size_t len = 0;
    int fl = fcntl(master, F_GETFL);
    fcntl(master, F_SETFL, fl | O_NONBLOCK);
    for (;;) {
        ssize_t r = read(master, out + len, sizeof(out) - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(master);
    out[len] = '\0';
    assert_non_null(strstr(out, "\rImporting: 0.0 MiB / 4.0 MiB (0%)"));
    assert_non_null(strstr(out, "\rImporting: 2.0 MiB / 4.0 MiB (50%)"));
    assert_non_null(strstr(out, "\rReading: 3.0 MiB"));
    assert_non_null(strchr(out, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpio_writer_bytes),
        cmocka_unit_test(test_dir_tree),
        cmocka_unit_test(test_ramdisk_pieces),
        cmocka_unit_test(test_missing_cmd),
        cmocka_unit_test(test_fifo_refused),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_implicit_parents_and_bad_trees),
        cmocka_unit_test(test_boot_ramdisk),
        cmocka_unit_test(test_oci_layers),
        cmocka_unit_test(test_oci_nested_index),
        cmocka_unit_test(test_oci_must_fail),
        cmocka_unit_test(test_layer_escape),
        cmocka_unit_test(test_docker_save),
        cmocka_unit_test(test_docker_must_fail),
        cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
