/* console.h: the enclave's standard streams, carried by shared rings to the monitor. */
#ifndef ALCOVE_CONSOLE_H
#define ALCOVE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void console_init(void);
/* Writes all of buf as records of the given stream (enum alc_stream); blocks while the ring is
 * full. */
void console_write(unsigned stream, const void *buf, size_t len);
/* Reads up to len bytes of the host's stdin into buf (a kernel or already validated user
 * buffer): blocks until at least one byte, end of input (0) or an error (-errno); -ERESTARTSYS
 * when a signal comes first. nonblock: -EAGAIN when the host has nothing to give at once. */
long console_read_stdin(void *buf, size_t len, bool nonblock);
/* stdin's readiness as a pipe's read end: POLLIN when bytes are in the ring, POLLHUP at the end
 * of the input, POLLERR after a failed host read. When the ring says nothing, it asks the
 * monitor for input (a read of the host's stdin, as a later read() would) and waits briefly
 * for the answer; ALC_EV_STDIN says when the answer comes. */
uint32_t console_stdin_poll(void);
/* For the console's terminal (dev/console_tty.c), which must never wait: what the ring holds
 * (up to len bytes), 0 at the end of the host's input, -errno after a failed host read, or
 * -EAGAIN after asking the monitor for more (ALC_EV_STDIN says when it answers). */
long console_stdin_pull(void *buf, size_t len);
/* ALC_BOOT_CONSOLE_TTY (dev/console_tty.c): after the file systems are mounted, the first
 * process's stdin, stdout and stderr become the slave of a pty whose master is the console. */
int console_tty_init(void);
/* sched_poll: the host's input or window size arrived (events: ALC_EV_STDIN, ALC_EV_WINSIZE). */
void console_tty_event(uint32_t events);
/* The events the console's terminal waits for (0 without one). */
uint32_t console_tty_events(void);
/* FIONREAD: the bytes of stdin the enclave holds (after asking the monitor, as poll does). */
long console_stdin_nread(void);

#endif
