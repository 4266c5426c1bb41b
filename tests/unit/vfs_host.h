/* vfs_host.h: what enclave/fs/vfs.c, tmpfs.c and mount.c need from the enclave kernel, provided on
 * the host so that path resolution can be unit tested and fuzzed (test_vfs.c, fuzz_vfs.c). */
#ifndef ALCOVE_VFS_HOST_H
#define ALCOVE_VFS_HOST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the C library's stdio.h names these too (same values) */
#undef RENAME_NOREPLACE
#undef RENAME_EXCHANGE
#undef RENAME_WHITEOUT

#include "../../enclave/fs/procfs.h"
#include "process.h"
#include "syscall.h"
#include "vfs.h"

static long g_live_allocs; /* kmalloc'd blocks not yet freed */

void *kmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p)
        g_live_allocs++;
    return p;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void *p)
{
    if (p)
        g_live_allocs--;
    free(p);
}

/* tmpfs's page-aligned pieces (the enclave takes them from its frames) */
void *kpages_alloc(uint64_t len)
{
    void *p = aligned_alloc(4096, len);
    if (p)
        g_live_allocs++;
    return p;
}

void kpages_free(void *p, uint64_t len)
{
    (void)len;
    kfree(p);
}

uint64_t virt_to_phys(const void *kva)
{
    return (uint64_t)(uintptr_t)kva;
}

/* User memory is the test's own (sys/cred.c's system calls copy through these). */
int copy_from_user(void *dst, uint64_t src, size_t len)
{
    memcpy(dst, (const void *)(uintptr_t)src, len);
    return 0;
}

int copy_to_user(uint64_t dst, const void *src, size_t len)
{
    memcpy((void *)(uintptr_t)dst, src, len);
    return 0;
}

/* one process: its working directory and identities are the parts vfs.c and cred.c use */
static struct process g_host_process;

struct process *current_process(void)
{
    return &g_host_process;
}

int64_t time_realtime_ns(void)
{
    return 1700000000ll * 1000000000;
}

/* klib's (Debian 12's C library has none; a newer one's is the same function) */
size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = 0;
    }
    return n;
}

/* /proc's text buffers (fs/mount.c writes the mount table into one) */
void tprintf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = kmalloc(t->len + (size_t)n + 1);
    if (t->len)
        memcpy(p, t->p, t->len);
    va_start(ap, fmt);
    vsnprintf(p + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    kfree(t->p);
    t->p = p;
    t->len += (size_t)n;
    t->cap = t->len + 1;
}

void klog(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

void kpanic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    abort();
}

/* A small image-like tree:
 *   /etc/passwd (file "root:x:0:0"), /usr/bin/sh (file), /bin -> usr/bin, /abs -> /etc,
 *   /loop1 -> loop2, /loop2 -> loop1, /dangling -> nowhere, /tmp (writable tmpfs) */
static struct inode *host_tree(void)
{
    struct inode *root = vfs_root();
    struct inode *etc = vfs_new_inode(S_IFDIR | 0755, DEV_ROOTFS, I_READONLY);
    struct inode *usr = vfs_new_inode(S_IFDIR | 0755, DEV_ROOTFS, I_READONLY);
    struct inode *bin = vfs_new_inode(S_IFDIR | 0755, DEV_ROOTFS, I_READONLY);
    struct inode *passwd = vfs_new_inode(S_IFREG | 0644, DEV_ROOTFS, I_READONLY);
    struct inode *sh = vfs_new_inode(S_IFREG | 0755, DEV_ROOTFS, I_READONLY);
    passwd->data = (uint8_t *)"root:x:0:0";
    passwd->size = 10;
    vfs_link(root, "etc", 3, etc, false);
    vfs_link(root, "usr", 3, usr, false);
    vfs_link(usr, "bin", 3, bin, false);
    vfs_link(etc, "passwd", 6, passwd, false);
    vfs_link(bin, "sh", 2, sh, false);
    static const struct {
        const char *name, *target;
    } links[] = {{"bin", "usr/bin"},
                 {"abs", "/etc"},
                 {"loop1", "loop2"},
                 {"loop2", "loop1"},
                 {"dangling", "nowhere"}};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        struct inode *l = vfs_new_inode(S_IFLNK | 0777, DEV_ROOTFS, I_READONLY);
        l->data = (uint8_t *)links[i].target;
        l->size = strlen(links[i].target);
        vfs_link(root, links[i].name, (uint32_t)strlen(links[i].name), l, false);
    }
    tmpfs_mount("/tmp", 01777);
    return root;
}

#endif
