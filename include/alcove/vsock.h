/* alcove/vsock.h: libalcove, the host side of an enclave's vsock, for host programs.
 *
 * An enclave's one channel is vsock. On the host, each running enclave has a Unix socket,
 * "<runtime dir>/<cid>.vsock", that speaks Firecracker's hybrid vsock protocol (docs/vsock.md):
 * these calls hide it. A host program connects to a port in the enclave with
 * alcove_vsock_connect() and gets a plain connected stream socket; it accepts the enclave's
 * connections to the parent (CID 3) on a port with alcove_vsock_listen() and accept(). The
 * runtime directory is ALCOVE_RUNTIME_DIR, else /run/alcove for root, else
 * $XDG_RUNTIME_DIR/alcove, else /tmp/alcove-<uid>. Link with -lalcove (libalcove.a or
 * libalcove.so); docs/host-tools.md has examples. All calls are thread-safe.
 */
#ifndef ALCOVE_VSOCK_H
#define ALCOVE_VSOCK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ALCOVE_API __attribute__((visibility("default")))
#else
#define ALCOVE_API
#endif

/* The parent's (the host's) CID, as seen from an enclave, as on Nitro. */
#define ALCOVE_VSOCK_CID_PARENT 3u

/* Connects to port `port` of the enclave with CID `cid`. Returns a connected, blocking
 * SOCK_STREAM socket (close-on-exec): bytes written reach the program that accepted in the
 * enclave; shutdown(fd, SHUT_WR) is a half-close; EOF means the enclave side closed. The whole
 * connect, both the Unix socket and the CONNECT/OK handshake, takes at most timeout_ms
 * milliseconds (0 or negative: no limit). On failure returns -1 with errno:
 *   EHOSTUNREACH  no running enclave has this CID (no socket, or a stale one nobody serves);
 *   ECONNREFUSED  the enclave is running but nothing in it listens on the port (the monitor
 *                 closed the socket without answering);
 *   ETIMEDOUT     no answer within timeout_ms;
 *   EPROTO        the answer was not "OK <port>\n";
 *   ENAMETOOLONG, EMFILE, ENOMEM, ...  as socket(2) and connect(2). */
ALCOVE_API int alcove_vsock_connect(uint32_t cid, uint32_t port, int timeout_ms);

/* The same, for a hybrid vsock Unix socket given by path (a Firecracker microVM's uds_path
 * works too). */
ALCOVE_API int alcove_vsock_connect_uds(const char *uds_path, uint32_t port, int timeout_ms);

/* Listens for the connections the enclave with CID `cid` makes to the parent (CID 3) on port
 * `port`: a Unix socket at "<runtime dir>/<cid>.vsock_<port>", where the monitor delivers them.
 * With cid 0xFFFFFFFF (VMADDR_CID_ANY) it is "<runtime dir>/any.vsock_<port>", which gets the
 * connections on that port of every enclave of the runtime directory that has no listener of
 * its own there.
 * The enclave need not run yet. Returns the listening socket (blocking, close-on-exec): accept(2)
 * on it gives one stream per connection from the enclave. Returns -1 with errno EADDRINUSE when
 * another live program listens there.
 *
 * Stale sockets: a socket file left by a listener that died (nobody accepts on it: connecting
 * to it is refused) is removed and replaced; one someone listens on is never touched; a path
 * that is not a socket is never removed (EEXIST). The check and the replacement are done
 * under an flock of the runtime directory, so two alcove listeners cannot both replace it. */
ALCOVE_API int alcove_vsock_listen(uint32_t cid, uint32_t port);

/* The same, at "<uds_path>_<port>" for a hybrid vsock Unix socket given by path. */
ALCOVE_API int alcove_vsock_listen_uds(const char *uds_path, uint32_t port);

/* Removes the socket file of a listener made by alcove_vsock_listen*() and closes it. A
 * listener that is only closed (or whose process dies) leaves its file behind, a stale socket
 * the next alcove_vsock_listen() replaces. Returns 0, or -1 with errno. */
ALCOVE_API int alcove_vsock_unlisten(int listen_fd);

/* Writes the path of the enclave's hybrid vsock socket, "<runtime dir>/<cid>.vsock", into buf.
 * Returns 0, or -1 with errno (ENAMETOOLONG: buf too small). */
ALCOVE_API int alcove_vsock_uds_path(uint32_t cid, char *buf, size_t size);

/* The CID of the running enclave named `name` (its EnclaveName, as `alcove run --enclave-name`
 * and describe-enclaves show it), or 0 (errno ENOENT) when none runs. */
ALCOVE_API uint32_t alcove_enclave_cid(const char *name);

#ifdef __cplusplus
}
#endif

#endif
