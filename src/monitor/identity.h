/* identity.h: a uid of the monitor's own (docs/security.md, "A uid of the monitor's own").
 *
 * A monitor started by root gives up root's uid for the monitor user's, once its set-up that
 * needs root is done and before the system-call filter (which refuses identity changes):
 * every thread of the process changes (threads share memory, so a per-thread uid would be no
 * boundary), and every capability goes with root's uid. What it can no longer do itself (keep
 * root's records, reach the runtime directory) its keeper does (monitor/keeper.h). */
#ifndef ALCOVE_IDENTITY_H
#define ALCOVE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The user a root monitor runs as when the operator names none. */
#define IDENTITY_DEFAULT_USER "alcove-monitor"

struct monitor_identity {
    bool change; /* false: the monitor keeps its uid (not root, or no monitor user) */
    uid_t uid;
    gid_t gid;
};

/* Which identity a monitor of this process takes (monitor_run, first thing). name: the user the
 * operator named (a name or a number), or NULL for IDENTITY_DEFAULT_USER. Not root: no change (an
 * unprivileged operator's monitor keeps its uid). Root: the user's uid and primary group; a named
 * user that does not exist, or one whose uid or group is 0, is refused (E_INVALID_ARGUMENT, the
 * reason in why); the default user missing keeps root's uid, the reason in why (the caller logs it:
 * scripts/setup.sh makes the user). 0 or an alcove error code. */
int identity_resolve(const char *name, struct monitor_identity *id, char *why, size_t whylen);

/* Changes every thread of the process to id (supplementary groups emptied, then the real,
 * effective and saved gid, then uid: glibc applies each to all threads), makes the process
 * non-dumpable again (a change of credentials resets that to fs.suid_dumpable), then checks
 * in /proc/self/task that every thread has the new ids and no capability left. Needs
 * CAP_SETUID and CAP_SETGID (sandbox_drop_privileges_keep_setid keeps them), and must come
 * before sandbox_enter. Nothing to do when !id->change. 0, or -1 with an [ E73 ] message
 * printed (the caller must end the process: some threads may have changed). */
int identity_change(const struct monitor_identity *id);

#endif
