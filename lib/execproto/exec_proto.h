/* exec_proto.h: the exec service's wire format (docs/workflow.md, "start, exec, stop"), shared by
 * the host's `alcove exec` and the enclave's service (src/execd/). Every message is a frame: one
 * type byte, a 4-byte little-endian payload length (at most EXEC_FRAME_MAX), the payload.
 *
 * host → enclave: REQUEST (first, once: the program), STDIN (bytes; an empty one is end of
 * file), SIGNAL (one byte: a signal number for the program's process group), WINSIZE (four
 * bytes: rows and columns, each 16-bit little-endian: the terminal's new size, for a session
 * that asked for a terminal; ignored by one that did not), PING (first, instead of a request:
 * the service answers PING and closes).
 * enclave → host: STARTED (empty: the program runs, sent once before its output; what
 * alcove-oci exec --detach waits for), STDOUT, STDERR (bytes), then EXIT (two bytes: EXEC_EXIT_CODE
 * or EXEC_EXIT_SIGNAL, and the number) or FAIL (one byte, an enum exec_fail, then a message).
 *
 * A REQUEST's payload is a list of items, each a tag byte, text and a NUL: 'A' an argument (the
 * first is the program's absolute path), 'E' NAME=VALUE, 'W' the working directory (absolute,
 * at most once), 'T' a terminal: "ROWS COLS" in decimal, each at most 65535 (at most once; the
 * program then runs on a pty inside, its stdout and stderr both come as STDOUT, and an empty
 * STDIN is the terminal's end-of-file character). Everything here is pure and takes the bytes
 * as untrusted. */
#ifndef ALCOVE_EXEC_PROTO_H
#define ALCOVE_EXEC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define EXEC_PORT        0xA1CEu /* the service's vsock port (41422) */
#define EXEC_FRAME_HDR   5u
#define EXEC_FRAME_MAX   65536u
#define EXEC_MAX_ARGS    1024
#define EXEC_MAX_ENV     256
#define EXEC_FAIL_TEXT   512 /* the longest message a FAIL frame carries */
#define EXEC_WINSIZE_LEN 4u  /* a WINSIZE frame's payload */

enum exec_frame_type {
    EXEC_F_REQUEST = 'R',
    EXEC_F_STDIN = 'I',
    EXEC_F_SIGNAL = 'K',
    EXEC_F_WINSIZE = 'W',
    EXEC_F_PING = 'P',
    EXEC_F_STDOUT = 'O',
    EXEC_F_STDERR = 'E',
    EXEC_F_EXIT = 'X',
    EXEC_F_FAIL = 'F',
    EXEC_F_STARTED = 'S',
};

enum exec_exit_kind { EXEC_EXIT_CODE = 0, EXEC_EXIT_SIGNAL = 1 };

/* why the service did not run the program: each maps to alcove exec's status and error code */
enum exec_fail {
    EXEC_FAIL_REQUEST = 1,   /* a malformed request (125) */
    EXEC_FAIL_ENTRY = 2,     /* not an entry point (126, [ E86 ]) */
    EXEC_FAIL_ENV = 3,       /* a variable env.untrusted does not list (125, [ E87 ]) */
    EXEC_FAIL_NOT_FOUND = 4, /* no such file (127) */
    EXEC_FAIL_CANNOT = 5,    /* cannot execute it (126) */
    EXEC_FAIL_CWD = 6,       /* the working directory (125) */
    EXEC_FAIL_SERVICE = 7,   /* the service could not (fork, pipes: 125) */
};

struct exec_frame {
    uint8_t type;
    uint32_t len;
    const uint8_t *payload; /* inside the buffer given to exec_frame_next */
};

/* Which side a frame comes from: what types are allowed. */
enum exec_dir { EXEC_TO_ENCLAVE, EXEC_TO_HOST };

/* The next frame in buf[0..len): its size (> 0) with *f set, 0 when more bytes are needed, -1
 * for bytes that are no frame of this direction (an unknown type, a length over
 * EXEC_FRAME_MAX, a SIGNAL or EXIT of the wrong size). */
long exec_frame_next(const uint8_t *buf, size_t len, enum exec_dir dir, struct exec_frame *f);

/* Writes a frame's header for a payload of len bytes (len <= EXEC_FRAME_MAX). */
void exec_frame_header(uint8_t hdr[EXEC_FRAME_HDR], uint8_t type, uint32_t len);

/* A terminal's size; 0 rows or columns: not known (the program sees 0, as Linux's pty gives). */
struct exec_winsize {
    uint16_t rows, cols;
};

struct exec_request {
    char *argv[EXEC_MAX_ARGS + 1]; /* NULL-terminated, pointing into the payload */
    int argc;
    char *envp[EXEC_MAX_ENV + 1]; /* NAME=VALUE, NULL-terminated */
    int envc;
    const char *cwd; /* NULL: "/" */
    int tty;         /* a 'T' item came: ws is the terminal's first size */
    struct exec_winsize ws;
};

/* Parses a REQUEST's payload in place (the items' NULs end the strings). 0, or -1 with a reason
 * in *why: no NUL at the end, an empty or unknown item, no argument, a first argument that is
 * not an absolute path, too many arguments or variables, a variable without a valid NAME= (a
 * letter or '_', then letters, digits, '_'), a relative or second working directory, a second
 * terminal or one whose size is not two decimal numbers up to 65535 apart by one space. */
int exec_request_parse(char *payload, size_t len, struct exec_request *r, const char **why);

/* Encodes a request into buf (cap bytes); tty not NULL asks for a terminal of that size. Its
 * length, or 0 when it does not fit or an argument or variable count is over the limits. */
size_t exec_request_encode(uint8_t *buf, size_t cap, char *const *argv, int argc, char *const *envp,
                           int envc, const char *cwd, const struct exec_winsize *tty);

/* A WINSIZE frame's payload, both ways. */
void exec_winsize_encode(uint8_t out[EXEC_WINSIZE_LEN], const struct exec_winsize *ws);
void exec_winsize_decode(const uint8_t in[EXEC_WINSIZE_LEN], struct exec_winsize *ws);

/* Whether name[0..n) is a variable name as exec_request_parse accepts it. */
int exec_env_name_ok(const char *name, size_t n);

#endif
