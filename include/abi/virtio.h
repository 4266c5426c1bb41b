/* virtio.h: the parts of the virtio 1.2 specification that both the monitor's devices
 * (src/devices/) and the enclave kernel's drivers (enclave/dev/, enclave/net/) use, written once:
 * the virtio-mmio registers (section 4.2.2), the device status bits (2.1), the split virtqueue's
 * layout (2.7), and the virtio-vsock packet header (5.10.6). How alcove places and signals the
 * devices is in alcove_abi.h. */
#ifndef ALCOVE_ABI_VIRTIO_H
#define ALCOVE_ABI_VIRTIO_H

#include <stdint.h>

/* ---- virtio-mmio registers, version 2 ---- */
enum virtio_mmio_reg {
    REG_MAGIC = 0x000,
    REG_VERSION = 0x004,
    REG_DEVICE_ID = 0x008,
    REG_VENDOR_ID = 0x00c,
    REG_DEVICE_FEATURES = 0x010,
    REG_DEVICE_FEATURES_SEL = 0x014,
    REG_DRIVER_FEATURES = 0x020,
    REG_DRIVER_FEATURES_SEL = 0x024,
    REG_QUEUE_SEL = 0x030,
    REG_QUEUE_NUM_MAX = 0x034,
    REG_QUEUE_NUM = 0x038,
    REG_QUEUE_READY = 0x044,
    REG_QUEUE_NOTIFY = 0x050,
    REG_INTERRUPT_STATUS = 0x060,
    REG_INTERRUPT_ACK = 0x064,
    REG_STATUS = 0x070,
    REG_QUEUE_DESC_LOW = 0x080,
    REG_QUEUE_DESC_HIGH = 0x084,
    REG_QUEUE_DRIVER_LOW = 0x090,
    REG_QUEUE_DRIVER_HIGH = 0x094,
    REG_QUEUE_DEVICE_LOW = 0x0a0,
    REG_QUEUE_DEVICE_HIGH = 0x0a4,
    REG_CONFIG_GENERATION = 0x0fc,
    REG_CONFIG = 0x100,
};
#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */

/* ---- device status ---- */
#define STATUS_ACKNOWLEDGE 1u
#define STATUS_DRIVER      2u
#define STATUS_DRIVER_OK   4u
#define STATUS_FEATURES_OK 8u
#define STATUS_FAILED      128u

#define VIRTIO_F_VERSION_1 (1ull << 32)

/* ---- split virtqueues ---- */
#define VIRTQ_DESC_F_NEXT          1
#define VIRTQ_DESC_F_WRITE         2
#define VIRTQ_DESC_F_INDIRECT      4
#define VIRTQ_USED_F_NO_NOTIFY     1
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

/* the avail ring as 16-bit words: flags, idx, ring[num], used_event */
#define AVAIL_FLAGS 0
#define AVAIL_IDX   1
#define AVAIL_RING  2
/* the used ring: flags, idx (16-bit words), then struct virtq_used_elem ring[num] */
#define USED_FLAGS   0
#define USED_IDX     1
#define USED_RING_OF 4 /* bytes before the first element */

/* ---- virtio-vsock ---- */
#define VIRTIO_ID_VSOCK 19
#define VIRTIO_ID_NSM   33

enum virtio_vsock_op {
    OP_REQUEST = 1,
    OP_RESPONSE = 2,
    OP_RST = 3,
    OP_SHUTDOWN = 4,
    OP_RW = 5,
    OP_CREDIT_UPDATE = 6,
    OP_CREDIT_REQUEST = 7,
};
#define VSOCK_TYPE_STREAM   1
#define VSOCK_SHUTDOWN_RCV  1u /* the sender will receive nothing more */
#define VSOCK_SHUTDOWN_SEND 2u /* the sender will send nothing more */

struct vsock_hdr {
    uint64_t src_cid;
    uint64_t dst_cid;
    uint32_t src_port;
    uint32_t dst_port;
    uint32_t len;
    uint16_t type;
    uint16_t op;
    uint32_t flags;
    uint32_t buf_alloc;
    uint32_t fwd_cnt;
} __attribute__((packed));
_Static_assert(sizeof(struct vsock_hdr) == 44, "virtio_vsock_hdr");

#endif
