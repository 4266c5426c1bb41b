/* fuzz_vfs.c: path resolution of application-supplied paths (enclave/fs/vfs.c), over a small
 * tree with symbolic links, loops and a tmpfs. Any input must resolve to an inode of the tree or
 * a clean error, never outside the root; creating and removing the resolved name must keep the
 * directory consistent. */
#include <stdint.h>

#include "../unit/vfs_host.h"

static bool in_tree(const struct inode *ino)
{
    for (int depth = 0; depth < 64; depth++) {
        if (ino == vfs_root())
            return true;
        if (!ino->parent)
            return false;
        ino = ino->parent;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        host_tree();
        ready = true;
    }
    char path[PATH_MAX_LEN + 64];
    size_t n = size < sizeof(path) - 1 ? size : sizeof(path) - 1;
    memcpy(path, data, n);
    path[n] = 0;

    for (unsigned flags = 0; flags < 4; flags++) {
        struct inode *ino = NULL;
        int err = vfs_lookup(NULL, path, flags, &ino);
        if (err == 0) {
            if (!S_ISDIR(ino->mode) && !in_tree(ino->parent))
                __builtin_trap();
            if (S_ISDIR(ino->mode) && !in_tree(ino))
                __builtin_trap();
        } else if (err != -ENOENT && err != -ENOTDIR && err != -ELOOP && err != -ENAMETOOLONG) {
            __builtin_trap();
        }
    }
    struct inode *dir;
    char name[NAME_MAX_LEN + 1];
    uint32_t len;
    if (vfs_lookup_parent(NULL, path, &dir, name, &len) == 0 && S_ISDIR(dir->mode) &&
        vfs_writable(dir) && !vfs_child(dir, name, len)) {
        struct inode *f = vfs_new_inode(S_IFREG | 0644, dir->dev, 0);
        if (vfs_link(dir, name, len, f, true) || vfs_child(dir, name, len) != f ||
            vfs_unlink(dir, name, len) || vfs_child(dir, name, len))
            __builtin_trap();
    }
    return 0;
}
