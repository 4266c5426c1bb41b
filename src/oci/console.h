/* console.h: a container's terminal (process.terminal): a pty whose master goes to the engine
 * over --console-socket (SCM_RIGHTS, with the pty's name as the message, as runc sends it) and
 * whose slave is the monitor's stdin, stdout and stderr, so the workload's console is the
 * engine's terminal. For the workload (create) the enclave's console is a terminal inside
 * (ALC_BOOT_CONSOLE_TTY), and for exec --tty the exec service makes a pty inside for the
 * program: either way this pty is raw, the line discipline inside the only one. */
#ifndef ALCOVE_OCI_CONSOLE_H
#define ALCOVE_OCI_CONSOLE_H

/* Makes the pty, sends its master to the Unix socket at socket_path, sets its size when rows
 * and cols are not 0, and makes its slave raw when raw is not 0. The slave's descriptor, or -1
 * (reported). */
int oci_console_make(const char *socket_path, unsigned rows, unsigned cols, int raw);

#endif
