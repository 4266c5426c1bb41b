/* rootfs.h: the application's file tree, from a directory, a single static binary, an OCI image
 * layout tarball or a `docker save` tarball, and the application ramdisk made from it (Nitro's
 * customer ramdisk layout, specs/eif.md section 6): rootfs/<tree>, the directories
 * rootfs/{dev,run,sys,var,proc,tmp}, and the files cmd (one argv element per line) and env
 * (one K=V per line), and alcove.json for images built by `alcove build`. Everything is
 * deterministic: the same input gives the same bytes. */
#ifndef ALCOVE_ROOTFS_H
#define ALCOVE_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct progress;

struct rootfs_node {
    char *path;    /* relative, no leading '/', no "." or ".." components */
    uint32_t mode; /* S_IFREG, S_IFDIR or S_IFLNK | permission bits */
    uint64_t size;
    uint8_t *data; /* file bytes or symlink target (owned); NULL for directories */
    bool mapped;   /* data is a read-only mapping of the file (large files of a directory) */
};

struct rootfs {
    struct rootfs_node *nodes; /* sorted by path (byte order) after rootfs_finish */
    size_t n, cap;
    char **cmd;       /* argv, NULL-terminated; NULL when the source says nothing */
    char **env;       /* K=V, NULL-terminated */
    char **tmpfs;     /* absolute paths that get a writable tmpfs in the enclave; may be NULL */
    char *arch;       /* "amd64" (x86-64) or what the image config says */
    char *image_name; /* for the metadata: a name and a version when known */
    char *image_version;
    char *config_json; /* the image config (OCI/docker), for DockerInfo; may be NULL */
    char *workflow;    /* alcove.json as `alcove build` measured it (top-level file
                        * "alcove.json" of the ramdisk, beside cmd and env); may be NULL */
};

void rootfs_init(struct rootfs *fs);
void rootfs_free(struct rootfs *fs);

/* Each returns 0 or -1 with a reason in why. prog (may be NULL) reports progress. */
int rootfs_from_dir(struct rootfs *fs, const char *dir, struct progress *prog, char *why,
                    size_t why_size);
/* The binary as /<basename>, cmd = ["/<basename>"]. */
int rootfs_from_binary(struct rootfs *fs, const char *path, char *why, size_t why_size);
int rootfs_from_oci_archive(struct rootfs *fs, const char *tar, struct progress *prog, char *why,
                            size_t why_size);
int rootfs_from_docker_archive(struct rootfs *fs, const char *tar, struct progress *prog, char *why,
                               size_t why_size);

/* Replaces cmd (argv) or adds/overrides K=V environment entries. */
int rootfs_set_cmd(struct rootfs *fs, char *const *argv, int argc);
int rootfs_set_env(struct rootfs *fs, const char *kv);
/* Adds a regular file (a copy of data) at the relative path, as if the source had it; a path the
 * source has too is refused when the ramdisk is made ("twice"). 0, or -1 (out of memory, a path
 * that is not relative and clean). */
int rootfs_add_file(struct rootfs *fs, const char *path, uint32_t mode, const void *data,
                    size_t size);
/* Asks for a writable tmpfs at an absolute path (image configuration: --tmpfs, OCI Volumes).
 * The enclave always has one at /tmp. */
int rootfs_add_tmpfs(struct rootfs *fs, const char *path);

/* The application ramdisk (newc cpio, uncompressed), malloc'd. Fails when there is no cmd. */
int rootfs_customer_ramdisk(const struct rootfs *fs, uint8_t **out, size_t *out_size, char *why,
                            size_t why_size);
/* The same archive as pieces (cpio_write.h) that point into fs's file data, which must outlive
 * them: no copy of the files, for large images. */
int rootfs_customer_ramdisk_pieces(const struct rootfs *fs, struct iovec **iov, int *n,
                                   uint8_t **own, uint64_t *total, char *why, size_t why_size);
/* The number of entries the application ramdisk of fs has (what the enclave kernel allots
 * memory for). */
uint64_t rootfs_ramdisk_entries(const struct rootfs *fs);
/* alcove's boot ramdisk (ramdisk 0): the same for every image of an alcove version. */
int rootfs_boot_ramdisk(uint8_t **out, size_t *out_size);

#endif
