/* vsock.h: AF_VSOCK stream sockets over the virtio-vsock device (net/vsock_virtio.c), the
 * enclave's only channel to the world (docs/vsock.md). The syscalls (sys/socket.c) parse and copy
 * the application's arguments; everything about connections lives in net/vsock*.c: vsock.c (the
 * sockets' operations and file), vsock_io.c (send and receive), vsock_conn.c and vsock_rx.c (the
 * connections and their packets), vsock_virtio.c (the device), vsock_heartbeat.c.
 *
 * Conventions where the platform decides (Linux's AF_VSOCK otherwise, errno for errno):
 *   - the only peer is the parent, CID 3 (ALC_VSOCK_CID_HOST); CID 2 (VMADDR_CID_HOST) is an
 *     alias of it on the wire; any other CID goes to the device too, which refuses it;
 *     CID 1 (VMADDR_CID_LOCAL) is ENODEV, as on a Linux guest without vsock_loopback;
 *   - a refused connect() (the device answers RST) is ECONNREFUSED, as docs/vsock.md says
 *     (Linux's virtio transport reports ECONNRESET); a RST on an open connection is
 *     ECONNRESET, once, then end of file (TCP's way; Linux's vsock reads EOF at once);
 *   - a REQUEST to a listening port is answered with RESPONSE at once; the connection waits in
 *     the accept queue (backlog as listen() set it) until accept();
 *   - close() sends SHUTDOWN(RCV|SEND) (unless the program called shutdown() itself) and
 *     forgets the connection when the peer's RST comes (or 8 s later, sending RST itself), as
 *     Linux does.
 */
#ifndef ALCOVE_VSOCK_H
#define ALCOVE_VSOCK_H

#include "socket.h"

#define AF_VSOCK 40
#define PF_VSOCK AF_VSOCK

#define VMADDR_CID_ANY        0xffffffffu
#define VMADDR_PORT_ANY       0xffffffffu
#define VMADDR_CID_HYPERVISOR 0u
#define VMADDR_CID_LOCAL      1u
#define VMADDR_CID_HOST       2u
#define VMADDR_FLAG_TO_HOST   0x01u

#define IOCTL_VM_SOCKETS_GET_LOCAL_CID 0x7b9

struct sockaddr_vm {
    uint16_t svm_family;
    uint16_t svm_reserved1;
    uint32_t svm_port;
    uint32_t svm_cid;
    uint8_t svm_flags;
    uint8_t svm_zero[3];
};
_Static_assert(sizeof(struct sockaddr_vm) == 16, "struct sockaddr_vm");

/* ---- the device ---- */
/* Probes the virtio-vsock device in ALC_VIRTIO_SLOT_VSOCK and sets it up. 0, or -ENODEV when
 * there is none (sockets are then EAFNOSUPPORT). */
int vsock_init(void);
bool vsock_present(void);
/* The enclave's CID (VMADDR_CID_ANY without a device). */
uint32_t vsock_local_cid(void);
/* Processes what the device has used (received packets, sent buffers); cheap when nothing is
 * new. Every socket operation starts with it; wait_until runs it through virtio_service. */
void vsock_pump(void);
/* The application is ending: gives the device a moment to take the packets still queued. */
void vsock_exit_flush(void);
/* Nitro's heartbeat, in two halves so that the boot goes on while the device answers: begin
 * sends the REQUEST to CID 3 port 9000; end waits for the RESPONSE, sends 0xB7, reads it back
 * and closes. 0, or -errno (-ENODEV: no device, nothing done). */
int vsock_heartbeat_begin(void);
int vsock_heartbeat_end(void);

/* ---- sockets ---- */
struct vsock;

/* A new unconnected stream socket as a file (flags: O_NONBLOCK), with one reference for the
 * caller to install. NULL when out of memory. */
struct file *vsock_socket_file(uint32_t flags);
/* The socket behind a file, NULL when the file is not a socket. */
struct vsock *vsock_of(struct file *f);

/* Address checks of bind and connect (Linux's vsock_addr_cast): 0 or -EINVAL. */
int vsock_addr_check(const void *addr, int len, struct sockaddr_vm *out);

int vsock_bind(struct vsock *s, const struct sockaddr_vm *addr);
int vsock_listen(struct vsock *s, int backlog);
/* addr: already copied from the application; its checks come after the state's, as on Linux */
int vsock_connect(struct vsock *s, const void *addr, int len, bool nonblock);
/* A connection from the accept queue as a new file (flags: O_NONBLOCK). */
int vsock_accept(struct vsock *s, bool nonblock, uint32_t flags, struct file **out);
/* has_name: sendto/sendmsg named an address. Returns bytes sent or -errno (SIGPIPE raised for
 * EPIPE unless MSG_NOSIGNAL). */
long vsock_send(struct vsock *s, struct sock_io *io, size_t total, int flags, bool has_name);
long vsock_recv(struct vsock *s, struct sock_io *io, size_t total, int flags);
int vsock_shutdown(struct vsock *s, int how);
/* peer: the remote address (-ENOTCONN when not connected). */
int vsock_getname(struct vsock *s, bool peer, struct sockaddr_vm *out);
/* A connection from a published TCP port (a REQUEST from the parent to port
 * ALC_VSOCK_TCP_PORT0 + P that carried a valid struct alc_tcp_origin): the TCP client's
 * address, for the AF_INET layer's accept and getpeername. 0, or -ENOENT when it has none. */
int vsock_origin(struct vsock *s, struct alc_tcp_origin *out);

/* For net/inet_vsock.c (TCP connections through published ports): a socket's poll bits (Linux's
 * vsock_poll), the bytes queued to read (out: sent and not yet acknowledged by the peer), and an
 * abortive close: the peer gets a RST now (the file is released after as usual). */
uint32_t vsock_poll_bits(struct vsock *s);
uint64_t vsock_queued(struct vsock *s, bool out);
void vsock_abort(struct vsock *s);
/* An outbound TCP connection's vsock (net/inet_out.c): a non-blocking connect to the parent's
 * ALC_VSOCK_TCP_OUT_PORT whose REQUEST carries dest (alcove_abi.h), given up after timeout_ns.
 * 0 (under way) or -errno. */
int vsock_connect_out(struct vsock *s, const struct alc_tcp_origin *dest, int64_t timeout_ns);
/* How a connect stands: -EINPROGRESS, 0 (connected), or -errno (the RST's errno, ETIMEDOUT). */
int vsock_connect_result(struct vsock *s);

/* ---- options (sys/socket.c) ---- */
#define VSOCK_OPT_BUFFER_SIZE     0
#define VSOCK_OPT_BUFFER_MIN_SIZE 1
#define VSOCK_OPT_BUFFER_MAX_SIZE 2
/* The socket's settable state, for setsockopt and getsockopt. */
struct vsock_opts {
    struct sock_opts sk;                          /* SOL_SOCKET */
    uint64_t buffer_size, buffer_min, buffer_max; /* SO_VM_SOCKETS_BUFFER_* */
    int64_t connect_timeout_ns;                   /* SO_VM_SOCKETS_CONNECT_TIMEOUT */
};
struct vsock_opts *vsock_opts(struct vsock *s);
/* SO_ERROR: the pending error (positive), cleared. */
int vsock_take_error(struct vsock *s);
bool vsock_listening(struct vsock *s);

/* the sockets' ops for the socket layer (net/vsock_sock.c) */
extern const struct sock_ops g_vsock_sock_ops;

/* /dev/vsock (fs/devfs.c) */
extern const struct file_ops g_vsock_dev_ops;

#endif
