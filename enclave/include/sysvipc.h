/* sysvipc.h: System V IPC (sys/ipc.c, shm.c, sem.c, msg.c) as the rest of the kernel sees it:
 * the address space code tells shared memory when a segment may have lost its last attachment,
 * and /proc lists every object and the limits. */
#ifndef ALCOVE_SYSVIPC_H
#define ALCOVE_SYSVIPC_H

#include "kernel.h"

struct inode;

/* Frees the segments removed with IPC_RMID that no address space maps any more (mm.c calls it
 * when a space lets files go). Cheap when nothing is waiting to be freed. */
void shm_sweep(void);
/* The attachments of the segment whose file this is, over every address space. */
unsigned long shm_nattch(const struct inode *file);

/* /proc/sysvipc/{shm,sem,msg}: the header line of a kind, and the line of the object in slot
 * *idx or the first one after it (1, with *idx its slot; 0 past the last), in Linux's format. */
enum sysvipc_kind { SYSVIPC_SHM, SYSVIPC_SEM, SYSVIPC_MSG };
const char *sysvipc_header(enum sysvipc_kind kind);
int sysvipc_line(enum sysvipc_kind kind, int *idx, char *buf, size_t size);
/* /proc/sys/kernel/{shmmax,shmall,shmmni,sem,msgmax,msgmnb,msgmni}: the limit called name. */
int sysvipc_limit(const char *name, char *buf, size_t size);

#endif
