/* nsm.h: /dev/nsm (dev/nsm.c). */
#ifndef ALCOVE_ENCLAVE_NSM_H
#define ALCOVE_ENCLAVE_NSM_H

struct file_ops;

#define DEVNUM_NSM DEVNUM(10, 144) /* a misc device, as Linux's */

/* The file operations of an open /dev/nsm. */
const struct file_ops *nsm_file_ops(void);

#endif
