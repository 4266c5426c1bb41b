/* stdio.h: the enclave's standard streams on the host side: one I/O thread drains the output
 * ring to stdout/stderr (and the kernel's log lines to the log), and feeds stdin on request. */
#ifndef ALCOVE_STDIO_H
#define ALCOVE_STDIO_H

struct vm;

struct stdio_config {
    int in_fd, out_fd, err_fd; /* host descriptors for the enclave's 0, 1, 2 */
};

/* Creates the doorbells (eventfds) and starts the I/O thread. 0 or an alcove error code. */
int stdio_start(struct vm *vm, const struct stdio_config *cfg);
/* The guest rang doorbell nr (ALC_HC_KICK_CONSOLE or ALC_HC_KICK_STDIN): wake the I/O thread. */
void stdio_doorbell(struct vm *vm, unsigned nr);
/* Drains what is left, stops the thread and frees everything. The drain is given up (and a
 * write blocked on a full pipe interrupted) when the enclave was ended from the host or a
 * terminating signal is pending, so a stdout nobody reads never keeps the process alive. */
void stdio_stop(struct vm *vm);

#endif
