/* control.h: the control socket of a detached enclave ("<runtime dir>/<cid>.ctl"), through which
 * the CLI describes and terminates it and reads its console, and the console itself: in debug
 * mode the enclave's output goes to a bounded backlog and to every attached reader; otherwise
 * nowhere, as on Nitro. The protocol is in control.c and docs/cli.md. */
#ifndef ALCOVE_CONTROL_H
#define ALCOVE_CONTROL_H

#include <stdbool.h>

struct vm;
struct control;

/* Listens on the enclave's control socket and starts the control thread. describe makes the
 * enclave's description (malloc'd JSON) for DESCRIBE. *console_fd receives the write end of the
 * console: the enclave's stdout and stderr go there. NULL (logged) on failure. */
struct control *control_start(struct vm *vm, bool debug, char *(*describe)(struct vm *),
                              int *console_fd);
/* Delivers what is left of the console, stops the thread, closes and removes the socket. Clients
 * that asked to TERMINATE stay connected until the process exits. */
void control_stop(struct control *c);

#endif
