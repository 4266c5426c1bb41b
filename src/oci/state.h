/* state.h: alcove-oci's containers, one directory per id under the state root (--root, default
 * /run/alcove-oci, made 0700; one owned by another user, or that its group or other users may
 * write in, is refused with [ E18 ]):
 *   <root>/<id>/state.json  what `state` prints (runc's fields: ociVersion, id, pid, status,
 *                           bundle, rootfs, created, owner, annotations), plus the monitor's
 *                           start time (alcove.pidStart), so a reused pid is not taken for it
 *   <root>/<id>/exec.fifo   while the container is created: the monitor waits on it, and
 *                           `start` reads it (runc's exec.fifo)
 *   <root>/<id>/killed      the signal `kill` asked for when the monitor was given another one
 *                           (KILL is delivered as TERM, so that the teardown runs): the monitor
 *                           exits 128 + that signal
 * create makes the directory under a name no id has, locks it, and only then renames it to the
 * id (never over another), so two creates of one id cannot both have it. Commands that change a
 * container hold flock(LOCK_EX) on its directory, and every file in it is reached through the
 * directory's descriptor, never by path and never through a link. The status is not stored but
 * seen: no live monitor is "stopped", a live one with exec.fifo "created", a stopped one (SIGSTOP:
 * `pause`) "paused", else "running". */
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
    int dir; /* the container's directory (not owned: the caller's descriptor) */
};

void oci_state_set_root(const char *root);
const char *oci_state_root(void);
/* A container id is 1 to 255 of [A-Za-z0-9_+.-], not "." or "..". */
int oci_id_valid(const char *id);

/* The state root's descriptor (opened once, then cached), after checking that this user owns
 * it and that no one else may write in it; create: makes it (and its parents) 0700 when
 * missing. -ENOENT when it is missing (not create), else -errno (reported). */
int oci_root_open(int create);
/* Closes the root's cached descriptor (the monitor, once create is done). */
void oci_root_forget(void);

/* Makes <root>/<id> and locks it: the lock's descriptor (the directory's), -EEXIST when the id
 * is taken, or -errno. */
int oci_state_make(const char *id);
/* An existing container's directory, unlocked (for reading): the descriptor, or -ENOENT
 * (unknown id) or -errno. */
int oci_state_open(const char *id);
/* Locks an existing container's directory: the descriptor, or -ENOENT (unknown id) or -errno. */
int oci_state_lock(const char *id);
void oci_state_unlock(int fd);
/* Removes everything in the directory dfd, then <root>/<id> when it is still that directory.
 * 0 or -errno. */
int oci_state_remove(int dfd, const char *id);
/* Removes <root>/<id> when it is not a directory (a link or file a damaged state left): never
 * what a link names. 0, -EISDIR, or -errno. */
int oci_state_remove_other(const char *id);

/* A file of the directory dfd (a regular file, never through a link, at most 1 MiB), NUL
 * terminated (the caller frees it), or NULL with errno. */
char *oci_state_get(int dfd, const char *name, size_t *size);
/* Writes a file of the directory dfd atomically (a new file renamed over the old, 0600). 0 or
 * -errno. */
int oci_state_put(int dfd, const char *name, const char *text);

/* st->dir must be set. */
int oci_state_write(const struct oci_state *st);
/* Reads the state in the container's directory dfd: 0, or -ENOENT (no state.json),
 * -EMEDIUMTYPE (another runtime's state: no alcove.pidStart; dockerd gives runc and alcove-oci
 * one root) or -errno. */
int oci_state_read(int dfd, const char *id, struct oci_state *st);
void oci_state_free(struct oci_state *st);
/* The state of container id, under its lock when lock is set (oci_state_unlock(st->dir) then),
 * else with st->dir open for the caller to close: 0, or -1 after an error in the log naming a
 * missing container, another runtime's or an unreadable state. */
int oci_state_load(const char *id, struct oci_state *st, int lock);

/* Writes pid to path (--pid-file), atomically: 0 or -errno. */
int oci_write_pid_file(const char *path, pid_t pid);

/* The monitor's start time, 0 when pid is not a live process (a zombie is not live). */
unsigned long long oci_pid_start(pid_t pid);
int oci_state_alive(const struct oci_state *st);
/* The monitor lives and is stopped (SIGSTOP: `pause`). */
int oci_state_paused(const struct oci_state *st);
const char *oci_state_status(const struct oci_state *st);
/* runc's state object (the caller deletes it). */
struct cJSON *oci_state_json(const struct oci_state *st);

/* Calls fn for every container id under the root, sorted. */
int oci_state_each(int (*fn)(const char *id, void *arg), void *arg);

#endif
