/* wf_started.h: the record of the enclave `alcove start` launched for an `alcove init`
 * directory (DIR/build/started.json, docs/workflow.md "start, exec, stop"), and the lock that
 * start, stop and a removal by exec take (DIR/build/started.lock). The record names the
 * enclave (EnclaveID, name, CID) and the directory it was written for (its device and inode,
 * and its path for messages): a copy of the directory (cp -a) carries the file, but the file is
 * not the copy's, so the copy never drives or stops the original's enclave. */
#ifndef ALCOVE_WF_STARTED_H
#define ALCOVE_WF_STARTED_H

#include <stdint.h>

#define WF_STARTED_PATH "build/started.json" /* under the directory */
#define WF_START_LOCK   "build/started.lock"

struct wf_started {
    uint32_t cid;
    char id[128];
    char name[160];
    char dir[4096]; /* the directory the record was written for (its real path then) */
    int listed;     /* WF_STARTED_GONE: the enclave's description is still there (its program,
                       the exec service, ended): terminate-enclave removes it */
};

enum wf_started_state {
    WF_STARTED_NONE,    /* no record */
    WF_STARTED_LIVE,    /* the record's enclave runs */
    WF_STARTED_GONE,    /* it is known not to run: its monitor is gone, or its program ended,
                           or the record cannot be read (it names nothing) */
    WF_STARTED_FOREIGN, /* the record was written for another directory (copied with it), or by
                           an alcove that did not say for which */
};

/* Reads DIR's record and checks it against the enclaves that run (s filled as the record
 * says). A state, or -code (reported: the enclaves could not be listed, or the record's CID is
 * held by a description this user cannot read), when whether the enclave runs is unknown: only
 * WF_STARTED_GONE and WF_STARTED_FOREIGN allow removing the record. */
int wf_started_load(const char *dir, struct wf_started *s);
/* Writes the record for DIR. 0, or -errno. */
int wf_started_save(const char *dir, const struct wf_started *s);
void wf_started_remove(const char *dir);

/* Takes DIR's lock (exclusive; with nonblock, -2 when another holds it). The descriptor
 * (close-on-exec), or -1 (reported). */
int wf_started_lock(const char *dir, int nonblock);

#endif
