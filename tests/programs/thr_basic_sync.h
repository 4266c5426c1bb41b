/* thr_basic_sync.h: the subcommands of thr_basic that thr_basic_sync.c holds (the
 * synchronisation objects); each prints its "NAME: ... ok" lines, or "FAIL ..." and exits 1. */
#ifndef THR_BASIC_SYNC_H
#define THR_BASIC_SYNC_H

void t_mutex(void);
void t_robust(void);
void t_cond(void);
void t_barrier(void);
void t_rwlock(void);

#endif
