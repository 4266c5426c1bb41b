/* console.h: the enclave's standard streams, carried by shared rings to the monitor. */
#ifndef ALCOVE_CONSOLE_H
#define ALCOVE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

void console_init(void);
/* Writes all of buf as records of the given stream (enum alc_stream); blocks while the ring is
 * full. */
void console_write(unsigned stream, const void *buf, size_t len);
/* Reads up to len bytes of the host's stdin into buf (a kernel or already validated user
 * buffer): blocks until at least one byte, end of input (0) or an error (-errno). */
long console_read_stdin(void *buf, size_t len);

#endif
