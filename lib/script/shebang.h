/* shebang.h: the "#!interpreter [argument]" line of a script, read as Linux's binfmt_script
 * reads it, shared by the enclave kernel's execve (enclave/loader/exec.c) and its tests. Needs
 * no C library and never reads outside the buffer. */
#ifndef ALCOVE_SHEBANG_H
#define ALCOVE_SHEBANG_H

#include <stddef.h>

/* Linux reads this much of a script's first line */
#define SHEBANG_MAX 256

struct shebang {
    const char *interp; /* the interpreter's path: not NUL-terminated, never empty */
    size_t interp_len;
    const char *arg; /* its one optional argument, the rest of the line with the blanks around
                      * it dropped (NULL, 0 when there is none) */
    size_t arg_len;
};

/* Parses the first n bytes of a file (at most SHEBANG_MAX are looked at): 0 and *out, or -1 when
 * they do not start with "#!" followed by an interpreter. The line ends at a newline, a NUL or
 * the SHEBANG_MAX-th byte; blanks are spaces and tabs, and a carriage return at the end of the
 * argument is dropped. The slices point into buf. */
int shebang_parse(const char *buf, size_t n, struct shebang *out);

#endif
