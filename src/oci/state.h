/* state.h: alcove-oci's containers, one directory per id under the state root (--root, default
 * /run/alcove-oci, made 0700):
 *   <root>/<id>/state.json  what `state` prints (runc's fields: ociVersion, id, pid, status,
 *                           bundle, rootfs, created, owner, annotations), plus the monitor's
 *                           start time (alcove.pidStart), so a reused pid is not taken for it
 *   <root>/<id>/exec.fifo   while the container is created: the monitor waits on it, and
 *                           `start` reads it (runc's exec.fifo)
 *   <root>/<id>/killed      the signal `kill` ended the enclave with, when it was SIGKILL
 * Commands that change a container hold flock(LOCK_EX) on its directory. The status is not
 * stored but seen: no live monitor is "stopped", a live one with exec.fifo "created", else
 * "running". */
#ifndef ALCOVE_OCI_STATE_H
#define ALCOVE_OCI_STATE_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

struct cJSON;

#define OCI_STATE_ROOT_DEFAULT "/run/alcove-oci"

struct oci_state {
    char id[256];
    pid_t pid;
    unsigned long long pid_start; /* /proc/<pid>/stat's starttime */
    char bundle[PATH_MAX];
    char rootfs[PATH_MAX];
    char created[48]; /* RFC 3339 */
    struct cJSON *annotations;
};

void oci_state_set_root(const char *root);
const char *oci_state_root(void);
/* A container id is 1 to 255 of [A-Za-z0-9_+.-], not "." or "..". */
int oci_id_valid(const char *id);
/* <root>/<id>[/<name>] into buf; 0, or -1 when it does not fit. */
int oci_state_path(char *buf, size_t size, const char *id, const char *name);

/* Makes <root>/<id> and locks it: the lock's descriptor, -EEXIST when the id is taken, or
 * -errno. */
int oci_state_make(const char *id);
/* Locks an existing container's directory: the descriptor, or -ENOENT (unknown id) or -errno. */
int oci_state_lock(const char *id);
void oci_state_unlock(int fd);

int oci_state_write(const struct oci_state *st);
/* 0, or -ENOENT (unknown id) or -errno. */
int oci_state_read(const char *id, struct oci_state *st);
void oci_state_free(struct oci_state *st);
/* Removes <root>/<id> and everything in it. */
void oci_state_remove(const char *id);

/* The monitor's start time, 0 when pid is not a live process (a zombie is not live). */
unsigned long long oci_pid_start(pid_t pid);
int oci_state_alive(const struct oci_state *st);
const char *oci_state_status(const struct oci_state *st);
/* runc's state object (the caller deletes it). */
struct cJSON *oci_state_json(const struct oci_state *st);

/* Calls fn for every container id under the root, sorted. */
int oci_state_each(int (*fn)(const char *id, void *arg), void *arg);

#endif
