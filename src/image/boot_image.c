/* boot_image.c: images the monitor can boot (see boot_image.h). */
#include "image/boot_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/errors.h"
#include "elf/elf_parse.h"
#include "image/eif.h"
#include "image/rootfs.h"
#include "image/signing.h"

bool boot_image_is_eif(const void *bytes, size_t size)
{
    return size >= 4 && memcmp(bytes, EIF_MAGIC, 4) == 0;
}

void boot_image_free(struct boot_image *bi)
{
    free(bi->rootfs);
    free(bi->rootfs_iov);
    if (bi->tree) {
        rootfs_free(bi->tree);
        free(bi->tree);
    }
    free(bi->owned);
    memset(bi, 0, sizeof(*bi));
}

static int finish_rootfs(struct boot_image *bi, struct rootfs *fs, char *why, size_t why_size)
{
    int err = rootfs_customer_ramdisk(fs, &bi->rootfs, &bi->rootfs_size, why, why_size);
    rootfs_free(fs);
    return err ? E_EIF_BUILDING : 0;
}

int boot_image_from_binary(struct boot_image *bi, const char *path, const void *elf, size_t size,
                           char *why, size_t why_size)
{
    memset(bi, 0, sizeof(*bi));
    struct elfp_image img;
    if (elfp_parse(elf, size, &img) == ELFP_OK)
        bi->min_app = img.type == ELFP_EXEC ? img.span_end : img.span_end - img.span_start;
    struct rootfs fs;
    rootfs_init(&fs);
    if (rootfs_from_binary(&fs, path, why, why_size)) {
        rootfs_free(&fs);
        return E_READ_FROM_DISK;
    }
    snprintf(bi->exec_path, sizeof(bi->exec_path), "%s", fs.cmd && fs.cmd[0] ? fs.cmd[0] : "");
    return finish_rootfs(bi, &fs, why, why_size);
}

int boot_image_from_dir(struct boot_image *bi, const char *dir, char *const *cmd, int ncmd,
                        char *why, size_t why_size)
{
    return boot_image_from_dir_files(bi, dir, cmd, ncmd, NULL, 0, why, why_size);
}

int boot_image_from_dir_files(struct boot_image *bi, const char *dir, char *const *cmd, int ncmd,
                              const struct boot_image_file *files, int nfiles, char *why,
                              size_t why_size)
{
    memset(bi, 0, sizeof(*bi));
    struct rootfs fs;
    rootfs_init(&fs);
    if (rootfs_from_dir(&fs, dir, NULL, why, why_size) || rootfs_set_cmd(&fs, cmd, ncmd)) {
        rootfs_free(&fs);
        return E_READ_FROM_DISK;
    }
    for (int i = 0; i < nfiles; i++)
        if (rootfs_add_file(&fs, files[i].path, files[i].mode, files[i].data, files[i].size)) {
            snprintf(why, why_size, "%s: out of memory", files[i].path);
            rootfs_free(&fs);
            return E_EIF_BUILDING;
        }
    /* pieces that point into the files (large ones mapped): the monitor copies them into the
     * guest, the one copy of the tree */
    bi->tree = malloc(sizeof(*bi->tree));
    if (!bi->tree) {
        rootfs_free(&fs);
        snprintf(why, why_size, "out of memory");
        return E_EIF_BUILDING;
    }
    *bi->tree = fs;
    uint64_t total;
    if (rootfs_customer_ramdisk_pieces(bi->tree, &bi->rootfs_iov, &bi->rootfs_iovcnt, &bi->rootfs,
                                       &total, why, why_size))
        return E_EIF_BUILDING;
    bi->rootfs_size = (size_t)total;
    bi->rootfs_entries = rootfs_ramdisk_entries(bi->tree);
    return 0;
}

int boot_image_from_eif(struct boot_image *bi, uint8_t *eif, size_t size, char *why,
                        size_t why_size)
{
    memset(bi, 0, sizeof(*bi));
    bi->owned = eif;
    bi->from_eif = true;
    struct eif_image img;
    enum eif_error e = eif_parse(eif, size, &img);
    if (e != EIF_OK) {
        snprintf(why, why_size, "%s", eif_strerror(e));
        return E_EIF_PARSING;
    }
    if (eif_measure(&img, &bi->pcrs)) {
        snprintf(why, why_size, "cannot measure the image (its signature section is unreadable)");
        return E_EIF_PARSING;
    }
    if (img.signature >= 0) {
        struct eif_signature_info info;
        enum eif_sig_error se = eif_signature_verify(&img, bi->pcrs.pcr0, time(NULL), &info);
        if (se != EIF_SIG_OK) {
            snprintf(why, why_size, "the image's signature: %s", eif_sig_strerror(se));
            return E_EIF_SIGNATURE_CHECK;
        }
        bi->signed_image = true;
    }
    const struct eif_section *k = &img.sections[img.kernel];
    bi->kernel = k->data;
    bi->kernel_size = k->size;
    /* the application ramdisk: every ramdisk after the boot ramdisk, one after the other */
    size_t total = 0;
    for (unsigned i = 1; i < img.nramdisks; i++)
        total += (img.sections[img.ramdisks[i]].size + 3) & ~(size_t)3;
    bi->rootfs = calloc(1, total ? total : 1);
    if (!bi->rootfs) {
        snprintf(why, why_size, "out of memory");
        return E_UNSPECIFIED;
    }
    for (unsigned i = 1; i < img.nramdisks; i++) {
        const struct eif_section *s = &img.sections[img.ramdisks[i]];
        memcpy(bi->rootfs + bi->rootfs_size, s->data, s->size);
        bi->rootfs_size += (s->size + 3) & ~(size_t)3;
    }
    if (img.nramdisks < 2) {
        snprintf(why, why_size, "the image has no application ramdisk");
        return E_EIF_PARSING;
    }
    return 0;
}
