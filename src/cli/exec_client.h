/* exec_client.h: the host's side of one connection to an enclave's exec service (the frames of
 * lib/execproto, docs/workflow.md "The exec service"), shared by `alcove exec` and `alcove-oci
 * exec`: the request, stdin as frames, the program's stdout and stderr to ours (kept apart), the
 * signals we catch passed on as SIGNAL frames, and the program's status, which becomes ours
 * (128 + N when signal N ended it; a refusal maps to 125, 126 or 127, as docker exec's). With a
 * terminal (the request asks the service for a pty inside) the program's output comes to
 * out_fd alone, and the size of the terminal at winsize_fd is sent again whenever SIGWINCH
 * says it changed. */
#ifndef ALCOVE_EXEC_CLIENT_H
#define ALCOVE_EXEC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "execproto/exec_proto.h"

#define EXEC_STATUS_FAILED   125 /* alcove or the service failed */
#define EXEC_WINSIZE_POLL_MS 500

/* How errors are reported: alc_err_report (alcove) or oci_err (alcove-oci's log). */
typedef void (*exec_report_fn)(int code, const char *fmt, ...);

struct exec_client {
    int sock, in_fd, out_fd, err_fd;
    exec_report_fn report;
    int status;       /* the program's (or a refusal's) status, once done */
    int done;         /* EXIT or FAIL came */
    int started;      /* STARTED came: the program runs */
    int winsize_fd;   /* -1, or a terminal whose size (TIOCGWINSZ) the program's follows */
    int winsize_poll; /* not 0: no SIGWINCH comes for it (not our controlling terminal): its
                       * size is looked at every EXEC_WINSIZE_POLL_MS instead */
    /* private */
    uint8_t *tx, *rx;
    size_t txlen, rxlen;
    int in_eof, out_gone, err_gone;
    int tty;                /* a terminal was asked for */
    struct exec_winsize ws; /* its size as last sent */
};

/* Queues the request (argv[0] an absolute path in the enclave) on c, for a connection sock and
 * stdio descriptors in, out, err; tty not NULL asks for a terminal of that size (set
 * c->winsize_fd after this to follow a terminal's size). 0, or -1 (reported: over the
 * protocol's limits, or out of memory; c is freed). */
int exec_client_init(struct exec_client *c, int sock, int in, int out, int err, char *const *argv,
                     int argc, char *const *env, int envc, const char *cwd,
                     const struct exec_winsize *tty, exec_report_fn report);

/* From now on SIGINT, SIGTERM, SIGHUP and SIGQUIT are caught and passed to the program (as
 * SIGNAL frames, by exec_client_relay), SIGWINCH is caught (a WINSIZE frame when the client
 * follows a terminal's size, else nothing); SIGPIPE is ignored. 0 or -1 (reported). */
int exec_client_catch_signals(exec_report_fn report);

/* Relays until the program ends (c->done, c->status set) or, with until_started, until the
 * service says it started it (c->started) or refused it (c->done). 0, or -1 when the
 * connection failed (reported; the status is then EXEC_STATUS_FAILED). */
int exec_client_relay(struct exec_client *c, int until_started);

void exec_client_free(struct exec_client *c);

/* The size of the terminal at fd (TIOCGWINSZ): 0, or -1 when fd is not one. */
int exec_client_winsize(int fd, struct exec_winsize *ws);

#endif
