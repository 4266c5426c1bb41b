/* vsock_virtio.h: the boundary between the virtio-vsock device (net/vsock_virtio.c: queues and
 * buffers) and the connections on top of it (net/vsock_conn.c, net/vsock_rx.c, and the sockets'
 * side in net/vsock.c and net/vsock_io.c). Private to net/vsock*.c.
 *
 * Sending: vsock_tx_get gives a buffer for a packet (NULL when the device has none free now);
 * the caller writes the header and payload at b->mem and hands it to the device with
 * vsock_tx_put (or returns it unused with vsock_tx_release); vsock_tx_kick notifies the device of
 * what was put since the last kick. Receiving: the device calls vsock_rx_packet for each packet,
 * whose payload is only valid during the call. All under the kernel lock.
 */
#ifndef ALCOVE_NET_VSOCK_VIRTIO_H
#define ALCOVE_NET_VSOCK_VIRTIO_H

#include "virtio.h"

#define SLOT ALC_VIRTIO_SLOT_VSOCK
#define EV   ALC_EV_VIRTIO(ALC_VIRTIO_SLOT_VSOCK)

#define RX_BUFS 32
#define HDR_LEN 44u

_Static_assert(sizeof(struct vsock_hdr) == HDR_LEN, "virtio_vsock_hdr");

struct txbuf {
    uint8_t *mem;
    uint32_t cap;
    struct txbuf *next;
};

/* ---- net/vsock_virtio.c ---- */
void vsock_tx_release(struct txbuf *b);
/* Whether a buffer for a packet is to be had now (after tx_reclaim). */
bool vsock_tx_avail(void);
/* A buffer for a packet with up to *payload bytes; *payload shrinks to what fits. */
struct txbuf *vsock_tx_get(uint32_t *payload);
void vsock_tx_put(struct txbuf *b, uint32_t len);
void vsock_tx_kick(void);
/* Buffers the device has not given back yet. */
unsigned vsock_tx_busy(void);
/* Adds rx buffers until the queue holds want of them (or memory runs out). */
void vsock_rx_grow(unsigned want);

/* ---- what the device calls (net/vsock_rx.c, net/vsock_conn.c) ---- */
/* A received packet: h checked against the buffer's length (h->len bytes of payload). */
void vsock_rx_packet(const struct vsock_hdr *h, const uint8_t *payload);
/* Sends what connections owe (RSTs, control packets) and runs their timers: vsock_pump's work
 * after the rings. */
void vsock_conn_service(void);

#endif
