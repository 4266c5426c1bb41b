/* rootfs.c: the application file tree from a directory or a binary, and its cpio ramdisks. */
#include "image/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/progress.h"
#include "image/cpio_write.h"

#define MAX_DEPTH 256 /* directory nesting rootfs_from_dir follows */

/* Directories every customer ramdisk has under rootfs/ (specs/eif.md section 6). */
static const char *const required_dirs[] = {"dev", "run", "sys", "var", "proc", "tmp"};

static const char boot_marker[] = "alcove enclave kernel ramdisk 1\n";

void rootfs_init(struct rootfs *fs)
{
    memset(fs, 0, sizeof(*fs));
}

static void free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

void rootfs_free(struct rootfs *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->nodes[i].path);
        if (fs->nodes[i].mapped)
            munmap(fs->nodes[i].data, fs->nodes[i].size);
        else
            free(fs->nodes[i].data);
    }
    free(fs->nodes);
    free_strv(fs->cmd);
    free_strv(fs->env);
    free_strv(fs->tmpfs);
    free(fs->workflow);
    free(fs->arch);
    free(fs->image_name);
    free(fs->image_version);
    free(fs->config_json);
    rootfs_init(fs);
}

/* A path of the tree: relative, non-empty components, none "." or "..". */
static bool valid_path(const char *p)
{
    if (!*p || *p == '/')
        return false;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

/* Appends a node, taking ownership of path and data (freed here on failure). */
static int add_node(struct rootfs *fs, char *path, uint32_t mode, uint8_t *data, uint64_t size)
{
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 64;
        struct rootfs_node *nn = realloc(fs->nodes, cap * sizeof(*nn));
        if (!nn) {
            free(path);
            free(data);
            return -1;
        }
        fs->nodes = nn;
        fs->cap = cap;
    }
    fs->nodes[fs->n++] =
        (struct rootfs_node){.path = path, .mode = mode, .size = size, .data = data};
    return 0;
}

static int node_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rootfs_node *)a)->path, ((const struct rootfs_node *)b)->path);
}

/* Reads exactly size bytes of an open regular file; data is NULL for an empty file. */
#define MAP_FROM (1u << 20) /* files this large are mapped rather than read */

static int read_all(int fd, uint64_t size, uint8_t **out, const char *shown, char *why,
                    size_t why_size)
{
    *out = NULL;
    if (size == 0)
        return 0;
    if (size > SIZE_MAX) {
        snprintf(why, why_size, "%s: too large", shown);
        return -1;
    }
    uint8_t *buf = malloc((size_t)size);
    if (!buf) {
        snprintf(why, why_size, "%s: out of memory for %llu bytes", shown,
                 (unsigned long long)size);
        return -1;
    }
    uint64_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, (size_t)(size - got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, why_size, "%s: %s", shown, strerror(errno));
            free(buf);
            return -1;
        }
        if (r == 0) {
            snprintf(why, why_size, "%s: the file shrank while it was being read", shown);
            free(buf);
            return -1;
        }
        got += (uint64_t)r;
    }
    *out = buf;
    return 0;
}

struct walk {
    struct rootfs *fs;
    const char *top;
    struct progress *prog;
    char *why;
    size_t why_size;
};

static const char *kind_of(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    return "a file of unknown type";
}

static int walk_dir(struct walk *w, int dfd, const char *rel, int depth);

/* One directory entry: name inside the directory open as dfd, rel its tree path. */
static int walk_entry(struct walk *w, int dfd, const char *name, char *rel, int depth)
{
    char shown[4096];
    snprintf(shown, sizeof(shown), "%s/%s", w->top, rel);
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        snprintf(w->why, w->why_size, "%s: %s", shown, strerror(errno));
        free(rel);
        return -1;
    }
    uint32_t perm = (uint32_t)st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
        if (depth >= MAX_DEPTH) {
            snprintf(w->why, w->why_size, "%s: directories nested deeper than %d levels", shown,
                     MAX_DEPTH);
            free(rel);
            return -1;
        }
        int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            snprintf(w->why, w->why_size, "%s: %s", shown, strerror(errno));
            free(rel);
            return -1;
        }
        if (add_node(w->fs, rel, S_IFDIR | perm, NULL, 0) < 0) {
            close(sub);
            snprintf(w->why, w->why_size, "out of memory");
            return -1;
        }
        return walk_dir(w, sub, rel, depth + 1); /* rel is owned by the tree now */
    }
    if (S_ISREG(st.st_mode)) {
        /* O_NONBLOCK: never wait on a FIFO swapped in since the stat */
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
            snprintf(w->why, w->why_size, "%s: %s", shown, strerror(errno));
            free(rel);
            return -1;
        }
        struct stat st2;
        if (fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode)) {
            snprintf(w->why, w->why_size, "%s: changed while being read", shown);
            close(fd);
            free(rel);
            return -1;
        }
        /* Large files are mapped, not read: the image is written from the page cache with no
         * copy. (A file that shrinks while mapped raises SIGBUS; the CLI reports it.) */
        uint8_t *data = NULL;
        bool mapped = false;
        if ((uint64_t)st2.st_size >= MAP_FROM && (uint64_t)st2.st_size <= SIZE_MAX) {
            void *m = mmap(NULL, (size_t)st2.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m != MAP_FAILED) {
                data = m;
                mapped = true;
                madvise(m, (size_t)st2.st_size, MADV_SEQUENTIAL | MADV_WILLNEED);
            }
        }
        int rc =
            mapped ? 0 : read_all(fd, (uint64_t)st2.st_size, &data, shown, w->why, w->why_size);
        close(fd);
        if (rc < 0) {
            free(rel);
            return -1;
        }
        progress_add(w->prog, (uint64_t)st2.st_size);
        size_t before = w->fs->n;
        if (add_node(w->fs, rel, S_IFREG | perm, mapped ? NULL : data, (uint64_t)st2.st_size) < 0) {
            if (mapped)
                munmap(data, (size_t)st2.st_size);
            snprintf(w->why, w->why_size, "out of memory");
            return -1;
        }
        if (mapped && w->fs->n == before + 1) {
            w->fs->nodes[before].data = data;
            w->fs->nodes[before].mapped = true;
        }
        return 0;
    }
    if (S_ISLNK(st.st_mode)) {
        size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 256;
        for (;;) {
            char *target = malloc(cap);
            if (!target) {
                snprintf(w->why, w->why_size, "out of memory");
                free(rel);
                return -1;
            }
            ssize_t len = readlinkat(dfd, name, target, cap);
            if (len < 0) {
                snprintf(w->why, w->why_size, "%s: %s", shown, strerror(errno));
                free(target);
                free(rel);
                return -1;
            }
            if ((size_t)len < cap) {
                target[len] = '\0';
                if (add_node(w->fs, rel, S_IFLNK | 0777, (uint8_t *)target, (uint64_t)len) < 0) {
                    snprintf(w->why, w->why_size, "out of memory");
                    return -1;
                }
                return 0;
            }
            free(target);
            if (cap > 1 << 20) {
                snprintf(w->why, w->why_size, "%s: symbolic link target too long", shown);
                free(rel);
                return -1;
            }
            cap *= 2;
        }
    }
    snprintf(w->why, w->why_size,
             "%s is %s; an enclave image holds only regular files, directories and symbolic "
             "links",
             shown, kind_of(st.st_mode));
    free(rel);
    return -1;
}

/* Walks the directory open as dfd (closed here); rel is its tree path, NULL for the top. */
static int walk_dir(struct walk *w, int dfd, const char *rel, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        snprintf(w->why, w->why_size, "%s%s%s: %s", w->top, rel ? "/" : "", rel ? rel : "",
                 strerror(errno));
        close(dfd);
        return -1;
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) {
                snprintf(w->why, w->why_size, "%s%s%s: %s", w->top, rel ? "/" : "", rel ? rel : "",
                         strerror(errno));
                rc = -1;
            }
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *child;
        if (rel ? asprintf(&child, "%s/%s", rel, de->d_name) < 0 : !(child = strdup(de->d_name))) {
            snprintf(w->why, w->why_size, "out of memory");
            rc = -1;
            break;
        }
        /* The tree may grow (and move) below, but rel is a node path string: never moved. */
        if (walk_entry(w, dirfd(d), de->d_name, child, depth) < 0) {
            rc = -1;
            break;
        }
    }
    closedir(d);
    return rc;
}

static char **strv_dup(char *const *v, int n)
{
    char **out = calloc((size_t)n + 1, sizeof(*out));
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++) {
        out[i] = strdup(v[i]);
        if (!out[i]) {
            free_strv(out);
            return NULL;
        }
    }
    return out;
}

int rootfs_from_dir(struct rootfs *fs, const char *dir, struct progress *prog, char *why,
                    size_t why_size)
{
    struct rootfs tmp;
    rootfs_init(&tmp);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        snprintf(why, why_size, "%s: %s", dir, strerror(errno));
        return -1;
    }
    /* Reasons name paths as dir/rel, without a doubled slash. */
    size_t tl = strlen(dir);
    while (tl > 0 && dir[tl - 1] == '/')
        tl--;
    char *top = strndup(dir, tl);
    if (!top) {
        close(dfd);
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    struct walk w = {&tmp, top, prog, why, why_size};
    int rc = walk_dir(&w, dfd, NULL, 0);
    free(top);
    if (rc < 0)
        goto fail;
    if (tmp.n) /* an empty tree has no array: qsort's NULL would be undefined */
        qsort(tmp.nodes, tmp.n, sizeof(*tmp.nodes), node_cmp);
    tmp.arch = strdup("amd64");
    if (!tmp.arch) {
        snprintf(why, why_size, "out of memory");
        goto fail;
    }
    rootfs_free(fs);
    *fs = tmp;
    return 0;
fail:
    rootfs_free(&tmp);
    return -1;
}

int rootfs_from_binary(struct rootfs *fs, const char *path, char *why, size_t why_size)
{
    struct rootfs tmp;
    rootfs_init(&tmp);
    /* The base name, without trailing slashes. */
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    char *name = strndup(path + start, end - start);
    if (!name) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    if (!valid_path(name)) {
        snprintf(why, why_size, "%s: not a file name usable in the enclave", path);
        free(name);
        return -1;
    }
    /* O_NONBLOCK: a FIFO opens at once, to be refused below, instead of waiting for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, why_size, "%s: %s", path, strerror(errno));
        free(name);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "%s: not a regular file", path);
        close(fd);
        free(name);
        return -1;
    }
    uint8_t *data;
    int rc = read_all(fd, (uint64_t)st.st_size, &data, path, why, why_size);
    close(fd);
    if (rc < 0) {
        free(name);
        return -1;
    }
    char *argv0;
    if (asprintf(&argv0, "/%s", name) < 0) {
        free(name);
        free(data);
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    if (add_node(&tmp, name, S_IFREG | 0755, data, (uint64_t)st.st_size) < 0 ||
        rootfs_set_cmd(&tmp, &argv0, 1) < 0 || !(tmp.arch = strdup("amd64"))) {
        free(argv0);
        rootfs_free(&tmp);
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    free(argv0);
    rootfs_free(fs);
    *fs = tmp;
    return 0;
}

int rootfs_set_cmd(struct rootfs *fs, char *const *argv, int argc)
{
    if (argc < 0 || (argc > 0 && !argv))
        return -1;
    char **v = strv_dup(argv, argc);
    if (!v)
        return -1;
    free_strv(fs->cmd);
    fs->cmd = v;
    return 0;
}

int rootfs_add_file(struct rootfs *fs, const char *path, uint32_t mode, const void *data,
                    size_t size)
{
    if (!valid_path(path))
        return -1;
    char *p = strdup(path);
    uint8_t *copy = size ? malloc(size) : NULL;
    if (!p || (size && !copy)) {
        free(p);
        free(copy);
        return -1;
    }
    if (size)
        memcpy(copy, data, size);
    return add_node(fs, p, S_IFREG | (mode & 07777), copy, size);
}

int rootfs_add_tmpfs(struct rootfs *fs, const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (path[0] != '/' || len < 2 || strchr(path, '\n'))
        return -1;
    size_t n = 0;
    for (; fs->tmpfs && fs->tmpfs[n]; n++)
        if (strlen(fs->tmpfs[n]) == len && !strncmp(fs->tmpfs[n], path, len))
            return 0;
    char **nv = realloc(fs->tmpfs, (n + 2) * sizeof(*nv));
    if (!nv)
        return -1;
    fs->tmpfs = nv;
    if (!(nv[n] = strndup(path, len)))
        return -1;
    nv[n + 1] = NULL;
    return 0;
}

int rootfs_set_env(struct rootfs *fs, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return -1;
    size_t klen = (size_t)(eq - kv) + 1; /* the key and its '=' */
    size_t n = 0;
    for (; fs->env && fs->env[n]; n++) {
        if (!strncmp(fs->env[n], kv, klen)) {
            char *s = strdup(kv);
            if (!s)
                return -1;
            free(fs->env[n]);
            fs->env[n] = s;
            return 0;
        }
    }
    char *s = strdup(kv);
    if (!s)
        return -1;
    char **nv = realloc(fs->env, (n + 2) * sizeof(*nv));
    if (!nv) {
        free(s);
        return -1;
    }
    nv[n] = s;
    nv[n + 1] = NULL;
    fs->env = nv;
    return 0;
}

/* ---- the customer ramdisk ---- */

struct entry {
    const char *path;
    uint32_t mode;
    const uint8_t *data;
    uint64_t size;
    char *owned; /* path of a directory made here (implicit parent, required directory) */
};

struct entries {
    struct entry *v;
    size_t n, cap;
};

static int entries_push(struct entries *e, struct entry x)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        struct entry *nv = realloc(e->v, cap * sizeof(*nv));
        if (!nv)
            return -1;
        e->v = nv;
        e->cap = cap;
    }
    e->v[e->n++] = x;
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

/* The entry with this path among the first n (sorted), or NULL. */
static const struct entry *find_entry(const struct entries *e, size_t n, const char *path,
                                      size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *p = e->v[mid].path;
        int c = strncmp(p, path, len);
        if (c == 0 && p[len] != '\0')
            c = 1;
        if (c == 0)
            return &e->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int add_dir_entry(struct entries *e, const char *path, size_t len)
{
    char *p = strndup(path, len);
    if (!p || entries_push(e, (struct entry){p, S_IFDIR | 0755, NULL, 0, p}) < 0) {
        free(p);
        return -1;
    }
    return 0;
}

/* Lines of strings, each followed by '\n'; NULL lines give an empty text. */
static char *join_lines(char *const *lines, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; lines && lines[i]; i++)
        total += strlen(lines[i]) + 1;
    char *s = malloc(total + 1);
    if (!s)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; lines && lines[i]; i++) {
        size_t l = strlen(lines[i]);
        memcpy(s + off, lines[i], l);
        s[off + l] = '\n';
        off += l + 1;
    }
    s[off] = '\0';
    *len = total;
    return s;
}

/* Checks cmd and env can be written as the ramdisk's line files. */
static int check_cmd_env(const struct rootfs *fs, char *why, size_t why_size)
{
    if (!fs->cmd || !fs->cmd[0]) {
        snprintf(why, why_size, "the image has no command: give one");
        return -1;
    }
    if (!fs->cmd[0][0]) {
        snprintf(why, why_size, "the command's program name is empty");
        return -1;
    }
    for (size_t i = 0; fs->cmd[i]; i++) {
        if (strchr(fs->cmd[i], '\n')) {
            snprintf(why, why_size,
                     "command argument %zu contains a newline, which the cmd file cannot hold", i);
            return -1;
        }
    }
    for (size_t i = 0; fs->env && fs->env[i]; i++) {
        const char *eq = strchr(fs->env[i], '=');
        if (!eq || eq == fs->env[i]) {
            snprintf(why, why_size, "environment entry '%s' is not KEY=VALUE", fs->env[i]);
            return -1;
        }
        if (strchr(fs->env[i], '\n')) {
            snprintf(why, why_size, "environment entry %zu contains a newline", i);
            return -1;
        }
    }
    return 0;
}

/* The tree's entries, its missing parent directories and the required directories, sorted. */
static int collect_entries(const struct rootfs *fs, struct entries *e, char *why, size_t why_size)
{
    for (size_t i = 0; i < fs->n; i++) {
        const struct rootfs_node *nd = &fs->nodes[i];
        if (!nd->path || !valid_path(nd->path)) {
            snprintf(why, why_size, "invalid path in the file tree: '%s'",
                     nd->path ? nd->path : "(null)");
            return -1;
        }
        uint32_t type = nd->mode & S_IFMT;
        if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK) {
            snprintf(why, why_size, "'%s' is not a regular file, directory or symbolic link",
                     nd->path);
            return -1;
        }
        if (type != S_IFDIR && nd->size && !nd->data) {
            snprintf(why, why_size, "'%s' has a size but no data", nd->path);
            return -1;
        }
        if (entries_push(e, (struct entry){nd->path, nd->mode, nd->data,
                                           type == S_IFDIR ? 0 : nd->size, NULL}) < 0)
            goto oom;
    }
    if (e->n) /* an empty tree (an image of empty layers) has no array yet: qsort's NULL would
                 be undefined (fuzz_oci_layer, UBSan) */
        qsort(e->v, e->n, sizeof(*e->v), entry_cmp);
    size_t real = e->n;
    for (size_t i = 1; i < real; i++) {
        if (!strcmp(e->v[i - 1].path, e->v[i].path)) {
            snprintf(why, why_size, "the file tree has '%s' twice", e->v[i].path);
            return -1;
        }
    }
    for (size_t i = 0; i < real; i++) {
        const char *p = e->v[i].path;
        for (const char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
            if (!find_entry(e, real, p, (size_t)(s - p)) && add_dir_entry(e, p, (size_t)(s - p)))
                goto oom;
        }
    }
    for (size_t i = 0; i < sizeof(required_dirs) / sizeof(required_dirs[0]); i++) {
        const char *d = required_dirs[i];
        if (!find_entry(e, real, d, strlen(d)) && add_dir_entry(e, d, strlen(d)) < 0)
            goto oom;
    }
    qsort(e->v, e->n, sizeof(*e->v), entry_cmp);
    /* Directories made here may repeat (two children of one missing parent): keep one. */
    size_t out = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (out && !strcmp(e->v[out - 1].path, e->v[i].path)) {
            free(e->v[i].owned);
            continue;
        }
        e->v[out++] = e->v[i];
    }
    e->n = out;
    for (size_t i = 0; i < e->n; i++) {
        const char *p = e->v[i].path;
        const char *s = strrchr(p, '/');
        if (!s)
            continue;
        const struct entry *parent = find_entry(e, e->n, p, (size_t)(s - p));
        if (parent && !S_ISDIR(parent->mode)) {
            snprintf(why, why_size, "'%s' is inside '%s', which is not a directory", p,
                     parent->path);
            return -1;
        }
    }
    return 0;
oom:
    snprintf(why, why_size, "out of memory");
    return -1;
}

/* Adds the application ramdisk's entries to w (rootfs/..., cmd, env, tmpfs); the file bytes
 * by reference when w is a writer by reference. 0 or -1 with a reason. */
static int add_customer_entries(const struct rootfs *fs, struct cpio_writer *w, char *why,
                                size_t why_size)
{
    if (check_cmd_env(fs, why, why_size) < 0)
        return -1;
    struct entries e = {0};
    char *path = NULL, *cmd = NULL, *env = NULL, *tmpfs = NULL;
    int rc = -1;
    if (collect_entries(fs, &e, why, why_size) < 0)
        goto out;
    size_t cmd_len, env_len;
    cmd = join_lines(fs->cmd, &cmd_len);
    env = join_lines(fs->env, &env_len);
    size_t tmpfs_len = 0;
    if (fs->tmpfs && fs->tmpfs[0] && !(tmpfs = join_lines(fs->tmpfs, &tmpfs_len))) {
        snprintf(why, why_size, "out of memory");
        goto out;
    }
    size_t path_cap = 0;
    for (size_t i = 0; i < e.n; i++) {
        size_t l = strlen(e.v[i].path);
        if (l > path_cap)
            path_cap = l;
    }
    path = malloc(path_cap + sizeof("rootfs/"));
    if (!cmd || !env || !path) {
        snprintf(why, why_size, "out of memory");
        goto out;
    }
    cpio_add(w, "rootfs", S_IFDIR | 0755, NULL, 0);
    for (size_t i = 0; i < e.n; i++) {
        if (e.v[i].size > UINT32_MAX) {
            snprintf(why, why_size,
                     "'%s' is %llu bytes; a cpio archive holds files of up to 4 GiB - 1",
                     e.v[i].path, (unsigned long long)e.v[i].size);
            goto out;
        }
        sprintf(path, "rootfs/%s", e.v[i].path);
        /* the bytes belong to fs's nodes, which outlive the archive */
        cpio_add_ref(w, path, e.v[i].mode, e.v[i].data, (size_t)e.v[i].size);
    }
    /* these are freed below: always copied */
    cpio_add(w, "cmd", S_IFREG | 0644, cmd, cmd_len);
    cpio_add(w, "env", S_IFREG | 0644, env, env_len);
    if (tmpfs)
        cpio_add(w, "tmpfs", S_IFREG | 0644, tmpfs, tmpfs_len);
    if (fs->workflow)
        cpio_add(w, "alcove.json", S_IFREG | 0644, fs->workflow, strlen(fs->workflow));
    rc = 0;
out:
    for (size_t i = 0; i < e.n; i++)
        free(e.v[i].owned);
    free(e.v);
    free(path);
    free(cmd);
    free(env);
    free(tmpfs);
    return rc;
}

static const char *cpio_error(int err)
{
    return err == -EFBIG ? "a file is larger than 4 GiB" : "out of memory";
}

int rootfs_customer_ramdisk(const struct rootfs *fs, uint8_t **out, size_t *out_size, char *why,
                            size_t why_size)
{
    *out = NULL;
    *out_size = 0;
    struct cpio_writer w;
    cpio_writer_init(&w);
    if (add_customer_entries(fs, &w, why, why_size) < 0) {
        free(w.buf);
        return -1;
    }
    int err = cpio_finish(&w, out, out_size);
    if (err < 0) {
        snprintf(why, why_size, "%s", cpio_error(err));
        return -1;
    }
    return 0;
}

uint64_t rootfs_ramdisk_entries(const struct rootfs *fs)
{
    /* the nodes, the directories above them that collect_entries adds (at most one per path
     * component), "rootfs", cmd, env, tmpfs and alcove.json */
    uint64_t n = 5;
    for (size_t i = 0; i < fs->n; i++) {
        n++;
        for (const char *p = fs->nodes[i].path; *p; p++)
            n += *p == '/';
    }
    return n;
}

int rootfs_customer_ramdisk_pieces(const struct rootfs *fs, struct iovec **iov, int *n,
                                   uint8_t **own, uint64_t *total, char *why, size_t why_size)
{
    *iov = NULL;
    *n = 0;
    *own = NULL;
    *total = 0;
    struct cpio_writer w;
    cpio_writer_init_by_reference(&w);
    if (add_customer_entries(fs, &w, why, why_size) < 0) {
        free(w.buf);
        free(w.iov);
        free(w.in_buf);
        return -1;
    }
    int err = cpio_finish_pieces(&w, iov, n, own, total);
    if (err < 0) {
        snprintf(why, why_size, "%s", cpio_error(err));
        return -1;
    }
    return 0;
}

int rootfs_boot_ramdisk(uint8_t **out, size_t *out_size)
{
    struct cpio_writer w;
    cpio_writer_init(&w);
    cpio_add(&w, "dev", S_IFDIR | 0755, NULL, 0);
    cpio_add(&w, "alcove", S_IFREG | 0644, boot_marker, sizeof(boot_marker) - 1);
    return cpio_finish(&w, out, out_size) < 0 ? -1 : 0;
}
