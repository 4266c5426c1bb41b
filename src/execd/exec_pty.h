/* exec_pty.h: a session's terminal in the exec service (docs/workflow.md "A terminal"): a pty
 * made inside the enclave (its kernel's /dev/ptmx; natively Linux's) when the request asks for
 * one, whose slave is the program's controlling terminal and stdin, stdout and stderr, and
 * whose master the session relays to the host. */
#ifndef ALCOVE_EXEC_PTY_H
#define ALCOVE_EXEC_PTY_H

#include <stddef.h>

#include "execproto/exec_proto.h"

/* Opens a pty sized ws: its master (O_CLOEXEC) and the slave's path in name (n bytes). The
 * master, or -1 with errno. */
int exec_pty_open(const struct exec_winsize *ws, char *name, size_t n);

/* In the forked child before its exec: a session of its own whose controlling terminal is the
 * slave at name, on stdin, stdout and stderr. 0, or -1 with errno. */
int exec_pty_take(const char *name);

/* The terminal's new size (TIOCSWINSZ on the master: the line discipline sends SIGWINCH to the
 * foreground group when it changes). */
void exec_pty_resize(int master, const struct exec_winsize *ws);

/* The end of the host's stdin: the terminal's end-of-file character (VEOF, ^D unless the
 * program changed it), to be typed on the master after the input before it, as a person at a
 * terminal would end input. */
unsigned char exec_pty_eof_char(int master);

#endif
