/* boot_image.h: what the monitor boots, made from what the user gave: a static binary, a
 * directory tree, or an EIF (checked: structure, CRC, signature, and that its kernel is alcove's).
 * The result is an enclave kernel image and the application ramdisk. */
#ifndef ALCOVE_BOOT_IMAGE_H
#define ALCOVE_BOOT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "image/measure.h"

struct boot_image {
    const uint8_t *kernel; /* the EIF's kernel section, or NULL: the built-in kernel */
    size_t kernel_size;
    uint8_t *rootfs; /* the application ramdisk (owned) */
    size_t rootfs_size;
    /* or (directories): the ramdisk as pieces pointing into tree's files; rootfs then holds
     * the bytes of the pieces that are not the files' */
    struct iovec *rootfs_iov;
    int rootfs_iovcnt;
    uint64_t rootfs_entries;
    struct rootfs *tree;
    char exec_path[4096]; /* the program's path in the enclave, or "" for the ramdisk's cmd */
    uint64_t min_app;     /* bytes the program's load span needs, when known */
    bool from_eif;
    bool signed_image;
    struct eif_pcrs pcrs; /* EIF images only */
    uint8_t *owned;       /* a buffer to free with the image */
};

/* Each returns 0, or an alcove error code (E..) with a reason in why. */
int boot_image_from_binary(struct boot_image *bi, const char *path, const void *elf, size_t size,
                           char *why, size_t why_size);
int boot_image_from_dir(struct boot_image *bi, const char *dir, char *const *cmd, int ncmd,
                        char *why, size_t why_size);
/* A file added to a directory's tree (alcove-oci's exec service and its rules). */
struct boot_image_file {
    const char *path; /* relative */
    uint32_t mode;
    const void *data;
    size_t size;
};
/* boot_image_from_dir, with files added to the tree (a path the tree has too is refused). */
int boot_image_from_dir_files(struct boot_image *bi, const char *dir, char *const *cmd, int ncmd,
                              const struct boot_image_file *files, int nfiles, char *why,
                              size_t why_size);
/* Takes ownership of eif (malloc'd). */
int boot_image_from_eif(struct boot_image *bi, uint8_t *eif, size_t size, char *why,
                        size_t why_size);
void boot_image_free(struct boot_image *bi);

/* True when the bytes start like an EIF (".eif"). */
bool boot_image_is_eif(const void *bytes, size_t size);

#endif
