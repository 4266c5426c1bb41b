/* vsock.h: the virtio-vsock device and its host side (docs/vsock.md). One thread per enclave
 * multiplexes the guest's virtqueues and the host's Unix sockets: the enclave's listening socket
 * (Firecracker's hybrid protocol), the connections it accepts, and the connections the enclave
 * opens to CID 3 port P ("<uds>_P"). Port 9000 (the heartbeat) is answered by the device
 * itself. */
#ifndef ALCOVE_VSOCK_H
#define ALCOVE_VSOCK_H

#include <stdint.h>

struct vm;
struct publish_port;
struct out_rule;

/* Listens on the published TCP ports (common/publish.h), first thing in a launch, so that a
 * port in use fails it before memory, CPUs or files are taken. 0, or an alcove error code
 * (reported: E_PORT_UNAVAILABLE for a port that cannot be listened on); vsock_stop closes
 * them. Connections are accepted once vsock_start has started the thread. */
int vsock_publish(struct vm *vm, const struct publish_port *ports, unsigned n);

/* In a forked process that does not serve the enclave (monitor/keeper.h): closes its copies of
 * the published ports' sockets, so that the port is free once the monitor ends. */
void vsock_forget_published(struct vm *vm);

/* The operator's allowlist for outbound connections (common/outbound.h): rules (kept, not
 * copied: they must live as long as the enclave) and the addresses they resolve to now. 0, or
 * an alcove error code (reported). */
int vsock_allow(struct vm *vm, const struct out_rule *rules, unsigned n);

/* Creates the device in ALC_VIRTIO_SLOT_VSOCK with the enclave's cid, listens on uds_path (a
 * path that must not exist) and starts the device thread, which also serves the published
 * ports. 0, or an alcove error code (already
 * reported). */
int vsock_start(struct vm *vm, uint32_t cid, const char *uds_path);

/* Connects to the host listener for a guest's port: "<uds>_<port>", or when nothing is there (or
 * it refuses) "<runtime dir>/any.vsock_<port>", the listener for every enclave
 * (common/runtime.h). Only a listener whose socket and process are this process's uid's or
 * root's counts (in a shared runtime directory, another member's counts as nothing there).
 * 0 connected, 1 under way (non-blocking), or -1 with errno; *fd is the socket or -1. */
int vsock_listener_connect(const char *uds, uint32_t port, int *fd);

/* Stops the thread, closes every connection (host peers read EOF) and the listening sockets, and
 * removes the socket file. Safe to call when vsock_start failed or never ran. */
void vsock_stop(struct vm *vm);

#endif
