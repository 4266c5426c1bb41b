/* keeper.h: the process that keeps an enclave's host records (docs/security.md, "A uid of the
 * monitor's own").
 *
 * Once the CID is claimed, the description written and the pool's lease taken, the monitor
 * forks a keeper: a child that keeps the claim, the lease and the launch's report pipe, and
 * nothing else (no guest memory: the lease's mapping is not inherited; no published port). The
 * monitor stays the process the operator, the engine and the description know (ProcessID);
 * the keeper ignores every signal it can and waits on a socket pair for one thing: the record
 * of how the enclave ended (or the monitor's end, its pidfd's word, when it died without one).
 * It then describes the end (a detached enclave that ended by itself), removes the runtime
 * files, reports a launch that was not reported and answers "done"; the monitor waits for that
 * answer before it returns, so no file is left when `alcove run` or the detached monitor ends.
 * The lease goes once the monitor has ended; a monitor killed with -9 is cleaned up after at
 * once.
 *
 * While the enclave runs, the keeper also connects the guest's connections to host listeners
 * for the monitor (keeper_connect): a monitor that gave up root's uid can no longer reach the
 * runtime directory, and the keeper reaches only its own CID's listeners there.
 *
 * The keeper is not the monitor's parent: a monitor that sees the keeper's end of the pair
 * close ends its enclave (nothing would clean up after it). */
#ifndef ALCOVE_KEEPER_H
#define ALCOVE_KEEPER_H

#include <stdint.h>
#include <sys/types.h>

struct vm;
struct enclave_config;

/* What the monitor sends its keeper, each a fixed-size datagram starting with its kind. */
enum { KEEPER_CONNECT = 1, KEEPER_END = 2 };

/* How the enclave ended. */
struct keeper_record {
    int32_t kind;     /* KEEPER_END */
    int32_t err;      /* the launch's error code; 0: it launched */
    int32_t reported; /* the launch's success was sent on cfg->ready_fd (1), or not (0) */
    int32_t finish;   /* describe the end (a detached enclave whose application ended) */
    int32_t status;   /* ... its exit status (0-255) */
    char why[600];    /* the reason the description shows (finish) */
};

struct keeper {
    pid_t pid;        /* the keeper (in the monitor); -1: none */
    int fd;           /* the monitor's end of the socket pair; -1: none */
    int oom_fd;       /* keeper_prepare's /proc/self/oom_score_adj, or -1 */
    char oom_old[16]; /* ... and the monitor's own value, given back after the fork */
};

/* First thing, while the process may still lower its OOM score (CAP_SYS_RESOURCE): the keeper
 * forked later is never the OOM killer's choice (its end would free nothing and leave a live
 * enclave without records); keeper_start gives the monitor its own score back. */
void keeper_prepare(struct keeper *k);
/* No keeper after all (a launch that failed before keeper_start): the monitor's own OOM score
 * back. keeper_start does it itself. */
void keeper_cancel(struct keeper *k);

/* Forks the keeper (in the monitor, after registry_enter). The keeper never returns from
 * here: it waits, cleans up and exits. 0 in the monitor, or an alcove error code (reported;
 * no keeper then). */
int keeper_start(struct vm *vm, const struct enclave_config *cfg, struct keeper *k);

/* In the monitor, once the enclave's memory is unmapped and its threads joined: sends rec and
 * waits for the keeper's answer. The description and the runtime files are gone then; the
 * lease goes once this process has ended (the keeper watches its pidfd). */
void keeper_finish(struct keeper *k, const struct keeper_record *rec);

/* For the vsock device thread (the keeper's only user while the enclave runs): a connection to
 * the host listener for the guest's port (devices/vsock.h, vsock_listener_connect), made by the
 * keeper and passed back. The same answer as vsock_listener_connect: 0 connected, 1 under way,
 * -1 with errno (ECONNREFUSED when the keeper is gone). */
int keeper_connect(struct keeper *k, uint32_t port, int *fd);

/* Whether the keeper has gone (its end of the pair closed): the monitor's wait polls it. */
int keeper_gone(const struct keeper *k);

#endif
