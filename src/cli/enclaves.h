/* enclaves.h: the enclaves of this host as the CLI sees them, from the runtime directory
 * (src/common/runtime.h): the running ones, and the ones whose application has ended (State
 * EMPTY) until terminate-enclave removes them. Reading the list also cleans up after monitors
 * that died without cleaning up (kill -9): their files go, and they are not listed. */
#ifndef ALCOVE_ENCLAVES_H
#define ALCOVE_ENCLAVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

struct enclave_rec {
    uint32_t cid;
    bool running; /* its monitor holds the claim */
    uid_t owner;  /* its description's owner: the user who started it */
    cJSON *desc;  /* its description (registry.c's fields) */
};

/* Whether the runtime directory can be used: 0, or the code after reporting it ([ E18 ] when it
 * is unsafe: another user's, writable by others, a symbolic link; [ E19 ] when it cannot be
 * made or is not a directory). Commands that read or make enclaves' files or sockets call it
 * first. */
int enclaves_runtime_check(void);

/* Every enclave, sorted by CID. 0, or -errno (the runtime directory is unreadable). */
int enclaves_list(struct enclave_rec **out, size_t *n);
void enclaves_free(struct enclave_rec *r, size_t n);
/* After enclaves_list: "" or, when descriptions in a shared runtime directory were another
 * user's (unreadable, so not listed), a note saying how many, to add to a "no enclave" error. */
const char *enclaves_hidden_note(void);
/* The enclave with this EnclaveID (id) or EnclaveName (name), or NULL. Names and IDs are what
 * a description says, and a user may write any: the caller's own enclave is found first; for
 * root, another user's when only one matches (several: NULL, and enclaves_hidden_note says
 * so). */
struct enclave_rec *enclaves_find(struct enclave_rec *r, size_t n, const char *id,
                                  const char *name);
/* The same among the caller's own enclaves only (whether a name is taken, say). */
struct enclave_rec *enclaves_find_own(struct enclave_rec *r, size_t n, const char *id,
                                      const char *name);
/* A name for a new enclave of the caller's: stem, else stem_1, stem_2 ... the first that none of
 * its own enclaves in r has (as nitro-cli names an image's enclaves), in out. */
void enclaves_unique_name(struct enclave_rec *r, size_t n, const char *stem, char *out,
                          size_t size);
/* A string field of a description ("" when missing). */
const char *enclave_field(const struct enclave_rec *e, const char *key);

/* Connects to a running enclave's control socket and sends cmd (a line without its newline),
 * only when the socket is owner's (the enclave's description's owner) and the process that
 * listens on it runs as owner: in a shared runtime directory a member may bind a socket at a
 * path another user's enclave would use. The socket, or -1 with errno set (EPERM: not the
 * enclave's socket, enclave_socket_why() says why). */
int enclave_control(uint32_t cid, uid_t owner, const char *cmd);
/* The same checks for a connection to vsock port port of the enclave (alcove/vsock.h). */
int enclave_vsock_connect(uint32_t cid, uid_t owner, uint32_t port, int timeout_ms);
const char *enclave_socket_why(void);

/* Ends the enclave with this EnclaveID as terminate-enclave does (cmd_terminate_enclave.c),
 * without printing its JSON: *out gets {EnclaveName, EnclaveID, Terminated} (the caller deletes
 * it) when it is gone. 0, or an alcove error code (reported). */
int enclaves_terminate(const char *id, cJSON **out);

/* Copies a debug-mode enclave's console to stdout until it ends or timeout_s (0: none) passes
 * (cmd_console.c). 0, or an alcove error code (reported). */
int console_attach(uint32_t cid, uid_t owner, int timeout_s);

#endif
