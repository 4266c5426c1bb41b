/* fdpass.h: a descriptor sent along with a message on a Unix socket (SCM_RIGHTS). */
#ifndef ALCOVE_FDPASS_H
#define ALCOVE_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* Sends data[0..len) on sock with descriptor fd attached (fd < 0: none), sendmsg's flags
 * (MSG_NOSIGNAL is always added). What sendmsg returns. */
ssize_t fd_send(int sock, const void *data, size_t len, int fd, int flags);

#endif
