/* runtime.h: the runtime directory, where running enclaves are found.
 *
 * One directory per host (ALCOVE_RUNTIME_DIR, else /run/alcove for root and, when root shares
 * it with a group, for every user, else $XDG_RUNTIME_DIR/alcove, else /tmp/alcove-<uid>), made
 * 0700 on first use and refused when another user owns it or may write to it, or its owner may
 * not read, write and search it. The one exception is a shared directory: root's, mode
 * RUNTIME_SHARED_MODE exactly, whose group's members (Nitro's `ne` group; setup.sh --group
 * makes `alcove`) may use it; anyone else is refused with a message naming the group.
 * Each running enclave owns, by its CID:
 *   <dir>/<cid>.json     its description (nitro-cli's fields: EnclaveName, EnclaveID, ProcessID,
 *                        EnclaveCID, ...), locked (flock LOCK_EX) by the monitor for its whole
 *                        life: a file nobody holds the lock on is stale and may be taken over
 *   <dir>/<cid>.ctl      the control socket of a detached enclave (src/monitor/control.c)
 *   <dir>/<cid>.vsock    the hybrid vsock Unix socket (Firecracker's protocol, docs/vsock.md);
 *                        connections the enclave makes to CID 3 port P go to "<dir>/<cid>.vsock_P"
 */
#ifndef ALCOVE_RUNTIME_H
#define ALCOVE_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The lowest CID an enclave gets automatically (0-2 are reserved by vsock, 3 is the parent). */
#define RUNTIME_CID_MIN 4u

/* Modes, set explicitly (never left to the umask): the directory 0700 when alcove creates it;
 * sockets and descriptions for the owner (and root) only, so that a directory its owner lets
 * others read (0755 is accepted) shows them file names, never an enclave's description or a
 * way into its ports. */
/* Every enclave (vsock's VMADDR_CID_ANY): a host listener at "<dir>/any.vsock_<port>" gets
 * the connections to the parent on that port of every enclave that has no listener of its own
 * there (alcove vsock-proxy without an enclave, as Nitro's vsock-proxy serves them all). */
#define RUNTIME_CID_ANY 0xFFFFFFFFu

#define RUNTIME_DIR_MODE    0700
#define RUNTIME_SOCKET_MODE 0600
#define RUNTIME_FILE_MODE   0600
/* A runtime directory root shares with a group: its members make their files in it, the sticky
 * bit keeps each from removing or renaming another's files, other users may not enter. */
#define RUNTIME_SHARED_MODE 01770
#define RUNTIME_ROOT_DIR    "/run/alcove"

/* The runtime directory, created (RUNTIME_DIR_MODE) if missing. NULL with errno set when it
 * cannot be made or is unsafe: EPERM when another user owns it, its group or others may write in
 * it, its owner lacks one of rwx, it is a symbolic link (it is refused, never changed), or its
 * path has a ".." component; ENOTDIR when it is not a directory. A trailing "/" or "/." is
 * dropped from the path. */
const char *runtime_dir(void);
/* 1 (and its group in *gid, when gid is not NULL) when the runtime directory is a shared one
 * (root's, RUNTIME_SHARED_MODE) this process may use, else 0. */
int runtime_dir_shared(gid_t *gid);
/* Why runtime_dir() fails, in words (path and reason), or NULL when it does not. */
const char *runtime_dir_problem(void);

/* Binds the Unix socket fd to path, sets the file's mode to RUNTIME_SOCKET_MODE and listens.
 * 0, or -1 with errno (and no file left behind once it was bound). */
int runtime_listen(int fd, const char *path, int backlog);

/* Writes "<dir>/<cid>.<suffix>" into buf ("<dir>/any.<suffix>" for RUNTIME_CID_ANY). 0, or -1
 * when it does not fit (errno ENAMETOOLONG). */
int runtime_path(char *buf, size_t size, uint32_t cid, const char *suffix);

/* A claim on a CID: the locked description file. */
struct runtime_claim {
    uint32_t cid;
    int fd; /* the locked <cid>.json */
};

/* Claims cid (0: the lowest free one >= RUNTIME_CID_MIN, skipping the CIDs of enclaves whose
 * application ended and whose description is still there, and CIDs where any file (the
 * description, "<cid>.ctl", "<cid>.vsock") is another user's or the description is a link).
 * The description is made with O_EXCL, or is this user's own plain file: another user's is
 * never adopted, whatever its mode. A stale claim of this user (its monitor died) is taken
 * over and its sockets removed. 0, -EADDRINUSE when cid is held by a running enclave, or
 * -errno (-EACCES: a file at cid's paths is another user's). */
int runtime_claim(struct runtime_claim *c, uint32_t cid);
/* Replaces the description (a JSON object, NUL-terminated). 0 or -errno. */
int runtime_describe(struct runtime_claim *c, const char *json);
/* Removes the claim's files (the description, the vsock and control sockets), drops the lock. */
void runtime_release(struct runtime_claim *c);

/* Drops the lock but keeps the description (an enclave whose application has ended: describe
 * shows its exit until terminate-enclave removes it); the vsock and control sockets go. */
void runtime_release_keep(struct runtime_claim *c);
/* Removes what the runtime directory holds for cid (description and sockets), unless a monitor
 * holds its claim: only what a dead or ended enclave left goes. */
void runtime_remove(uint32_t cid);

/* The description of cid (parsed JSON, the caller deletes it), read again while a monitor is
 * rewriting it; NULL when there is none or it is not trusted (below). */
struct cJSON;
struct cJSON *runtime_read_desc(uint32_t cid);
/* The same, with the description file's owner in *owner (when not NULL). A description that is
 * not a regular file, or (for a caller other than root) not the caller's own, is not read: NULL
 * with errno EACCES. Root reads every user's: its owner tells whose enclave it is. */
struct cJSON *runtime_read_desc_owner(uint32_t cid, uid_t *owner);

/* Finds a running enclave by name (the EnclaveName of its description), for libalcove (the CLI
 * has cli/enclaves.h): the caller's own first, for root another user's when only one matches.
 * Returns its CID, or 0 when none (or several other users') match. */
uint32_t runtime_find_name(const char *name);
/* Whether an enclave with this CID is running now. */
int runtime_cid_running(uint32_t cid);

#endif
