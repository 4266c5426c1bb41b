/* identity.c: a uid of the monitor's own (see identity.h). */
#include "monitor/identity.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/log.h"

int identity_resolve(const char *name, struct monitor_identity *id, char *why, size_t whylen)
{
    *id = (struct monitor_identity){.change = false, .uid = geteuid(), .gid = getegid()};
    why[0] = 0;
    if (geteuid() != 0)
        return 0; /* an unprivileged operator's monitor is already unprivileged */
    const char *user = name ? name : IDENTITY_DEFAULT_USER;
    struct passwd pw, *found = NULL;
    char buf[4096];
    int r = getpwnam_r(user, &pw, buf, sizeof(buf), &found);
    if (!found && name) { /* a number names a uid without a user (its group is the same) */
        char *end;
        errno = 0;
        unsigned long n = strtoul(name, &end, 10);
        if (*name >= '0' && *name <= '9' && !*end && !errno && n < (uid_t)-1) {
            pw.pw_uid = (uid_t)n;
            pw.pw_gid = (gid_t)n;
            found = &pw;
        }
    }
    if (!found && !name) {
        snprintf(why, whylen,
                 "no user '%s' (scripts/setup.sh --monitor-user makes it): the monitor keeps "
                 "root's uid",
                 user);
        return 0;
    }
    if (!found) {
        snprintf(why, whylen, "no user '%s'%s%s", user, r ? ": " : "", r ? strerror(r) : "");
        return E_INVALID_ARGUMENT;
    }
    if (found->pw_uid == 0 || found->pw_gid == 0) {
        snprintf(why, whylen, "the monitor user '%s' has uid %u and group %u: neither may be 0",
                 user, (unsigned)found->pw_uid, (unsigned)found->pw_gid);
        return E_INVALID_ARGUMENT;
    }
    *id = (struct monitor_identity){.change = true, .uid = found->pw_uid, .gid = found->pw_gid};
    return 0;
}

/* Every thread's status in /proc/self/task shows the four uids and gids of id, no
 * supplementary group, and no effective or permitted capability. 0, or -1 with what differs. */
static int check_threads(const struct monitor_identity *id, char *why, size_t whylen)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        snprintf(why, whylen, "/proc/self/task: %s", strerror(errno));
        return -1;
    }
    int bad = 0, threads = 0;
    char what[256] = "its status lacks a line";
    struct dirent *e;
    while (!bad && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/self/task/%.20s/status", e->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue; /* a thread that ended meanwhile */
        threads++;
        int seen = 0;
        while (!bad && fgets(line, sizeof(line), f)) {
            unsigned a[4];
            unsigned long long caps;
            if (sscanf(line, "Uid: %u %u %u %u", &a[0], &a[1], &a[2], &a[3]) == 4) {
                seen |= 1;
                bad = a[0] != id->uid || a[1] != id->uid || a[2] != id->uid || a[3] != id->uid;
            } else if (sscanf(line, "Gid: %u %u %u %u", &a[0], &a[1], &a[2], &a[3]) == 4) {
                seen |= 2;
                bad = a[0] != id->gid || a[1] != id->gid || a[2] != id->gid || a[3] != id->gid;
            } else if (strncmp(line, "Groups:", 7) == 0) {
                seen |= 4;
                bad = strspn(line + 7, " \t\n") != strlen(line + 7);
            } else if (sscanf(line, "CapEff: %llx", &caps) == 1 ||
                       sscanf(line, "CapPrm: %llx", &caps) == 1) {
                seen |= line[3] == 'E' ? 8 : 16;
                bad = caps != 0;
            }
        }
        fclose(f);
        if (bad)
            snprintf(what, sizeof(what), "%s", line);
        else
            bad = seen != 31;
        if (bad)
            snprintf(why, whylen, "thread %.20s: %s", e->d_name, what);
    }
    closedir(d);
    if (!bad && !threads) {
        snprintf(why, whylen, "no thread in /proc/self/task");
        bad = 1;
    }
    return bad ? -1 : 0;
}

int identity_change(const struct monitor_identity *id)
{
    if (!id->change)
        return 0;
    /* a change of credentials sets dumpable to fs.suid_dumpable until the PR_SET_DUMPABLE below:
     * with 1 ("debug"), another monitor of the same user could open this one's /proc/PID/mem
     * in between and keep reading the guest's memory through it */
    FILE *sd = fopen("/proc/sys/fs/suid_dumpable", "re");
    int dumpable = -1;
    if (sd) {
        if (fscanf(sd, "%d", &dumpable) != 1)
            dumpable = -1;
        fclose(sd);
    }
    if (dumpable < 0) {
        alc_err_report(E_MONITOR_FAILURE,
                       "cannot read fs.suid_dumpable, which decides whether the monitor's memory "
                       "stays private during its uid change");
        return -1;
    }
    if (dumpable == 1) {
        alc_err_report(E_MONITOR_FAILURE,
                       "fs.suid_dumpable is 1: the monitor's uid change would leave its memory "
                       "readable by other monitors for a moment; set it to 0 or 2 (sysctl "
                       "fs.suid_dumpable=0)");
        return -1;
    }
    /* groups and gid first: after the uid, CAP_SETGID is gone */
    if (setgroups(0, NULL) || setresgid(id->gid, id->gid, id->gid) ||
        setresuid(id->uid, id->uid, id->uid)) {
        alc_err_report(E_MONITOR_FAILURE, "cannot change the monitor's uid to %u (group %u): %s",
                       (unsigned)id->uid, (unsigned)id->gid, strerror(errno));
        return -1;
    }
    /* a change of credentials sets dumpable to fs.suid_dumpable (1 on some hosts): another
     * process of the monitor user, another enclave's monitor, must not read this one's memory */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
        alc_err_report(E_MONITOR_FAILURE, "cannot make the monitor non-dumpable: %s",
                       strerror(errno));
        return -1;
    }
    char why[300];
    if (check_threads(id, why, sizeof(why))) {
        alc_err_report(E_MONITOR_FAILURE, "the monitor's uid change did not take everywhere: %s",
                       why);
        return -1;
    }
    return 0;
}
