/* anon_inode.h: what fstat says of files that have no inode of their own (eventfd, epoll), as
 * Linux says of its anonymous inode: one shared inode, mode 0600 and no file type. */
#ifndef ALCOVE_ANON_INODE_H
#define ALCOVE_ANON_INODE_H

#include "klib.h"
#include "linux_abi.h"

static inline int anon_inode_stat(struct linux_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = 0xe;
    st->st_ino = 1;
    st->st_nlink = 1;
    st->st_mode = 0600;
    st->st_blksize = 4096;
    return 0;
}

#endif
