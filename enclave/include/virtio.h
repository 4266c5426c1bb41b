/* virtio.h: the enclave kernel's virtio-mmio driver core (virtio 1.2 section 4.2, version 2
 * registers) and split virtqueues (section 2.7), shared by the device drivers (vsock, later NSM).
 *
 * Every register access is an exit to the monitor (~50 us), so a driver touches the registers
 * only to set the device up and to notify; everything else goes through the rings in guest
 * memory. There are no interrupts: the device sets ALC_EV_VIRTIO(slot) in the shared events word
 * when it has used buffers. A driver registers a service function for its slot; wait_until runs
 * it (virtio_service) before every look at its condition when the waiter's events include the
 * slot's bit, and the service clears the bit (virtio_event_clear) BEFORE it reads the used rings,
 * so that buffers used after the look wake the next wait.
 *
 * Nothing the device writes is trusted: a used-ring entry that names a descriptor the driver did
 * not hand out, or a length larger than the buffer, ends the enclave (kpanic) instead of
 * corrupting memory. The driver's own bookkeeping (free list, chain lengths) lives in private
 * memory, never in the rings the device can write.
 */
#ifndef ALCOVE_VIRTIO_H
#define ALCOVE_VIRTIO_H

#include "abi/virtio.h"
#include "kernel.h"

/* the event bits of every slot */
#define VIRTIO_EVENTS (ALC_EV_VIRTIO(ALC_VIRTIO_SLOTS) - ALC_EV_VIRTIO(0))

struct virtio_dev;

/* One split virtqueue. */
struct virtq {
    struct virtio_dev *dev;
    uint16_t index; /* the queue number (QueueSel / QueueNotify value) */
    uint16_t size;  /* a power of two */
    volatile struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
    volatile uint16_t *used;  /* flags, idx, then ring of struct virtq_used_elem */
    /* private to the driver */
    uint16_t avail_idx;  /* the next avail index we publish */
    uint16_t last_used;  /* the next used entry we consume */
    uint16_t free_head;  /* head of the free descriptor list (through next_free) */
    uint16_t num_free;   /* free descriptors */
    uint16_t *next_free; /* [size] free list links, and chain links of busy descriptors */
    uint16_t *chain_len; /* [size] descriptors in the chain whose head this is (0: not a head) */
    uint32_t *in_len;    /* [size] device-writable bytes of the chain whose head this is */
    void **cookies;      /* [size] the driver's token for the chain whose head this is */
    uint64_t notifies;   /* QueueNotify writes (statistics) */
};

struct virtio_dev {
    unsigned slot;
    volatile uint8_t *regs; /* the register window (kernel virtual) */
    uint32_t device_id;
};

/* One buffer of a chain: a kernel virtual address (with a physical alias) and a length. */
struct virtq_buf {
    const void *addr;
    uint32_t len;
};

/* Looks at slot: magic, version 2 and DeviceID. 0 when a device with DeviceID want is there,
 * -ENODEV when the slot is empty (DeviceID 0) or holds another device. Then resets it and
 * negotiates VIRTIO_F_VERSION_1 only (ACKNOWLEDGE, DRIVER, FEATURES_OK): -EIO when the device
 * refuses. */
int virtio_probe(struct virtio_dev *d, unsigned slot, uint32_t want);
/* Sets queue index up with at most size entries (fewer if the device offers fewer; a power of
 * two). The rings come from the kernel heap, never freed. 0, -ENODEV (no such queue) or
 * -ENOMEM. */
int virtio_queue_setup(struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t size);
/* DRIVER_OK: the device may use the queues from now on. */
void virtio_driver_ok(struct virtio_dev *d);
/* Reads config space (offset from 0x100) with one access of len 1, 2, 4 or 8 bytes. */
uint64_t virtio_config_read(struct virtio_dev *d, unsigned off, unsigned len);

/* Adds a chain: nout device-readable buffers then nin device-writable ones, and publishes it in
 * the avail ring. cookie (not NULL) comes back from virtq_get_used. 0, or -ENOSPC when the
 * queue lacks free descriptors. Does not notify: call virtq_kick when done adding. */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned nout, unsigned nin,
              void *cookie);
/* Notifies the device about new avail entries unless it said it does not need it
 * (VIRTQ_USED_F_NO_NOTIFY, read after a full barrier). */
void virtq_kick(struct virtq *q);
/* The next used chain: its cookie, and in *len the bytes the device wrote (checked against the
 * chain's writable length). NULL when the device has used nothing new. */
void *virtq_get_used(struct virtq *q, uint32_t *len);
/* Whether the used ring holds entries not yet taken (no side effects). */
bool virtq_has_used(const struct virtq *q);

/* Fault injection for the monitor's tests (ALC_BOOT_FAULT_VIRTQ): points the last chain added
 * at gpa, as a hostile driver would. */
void virtq_fault_last(struct virtq *q, uint64_t gpa);

/* The event bit of slot in the shared events word. */
void virtio_event_clear(unsigned slot);
bool virtio_event_test(unsigned slot);
/* A service that cleared the slot's bit and then found used buffers calls this: the bit was
 * also the wake-up of every other thread blocked on the slot's event (a socket's writer waiting
 * for credit while another process's accept ran the pump), and it is gone, so they are woken
 * here to look again. */
void virtio_event_consumed(unsigned slot);

/* The service function of a slot (its driver's "interrupt handler"): clears the slot's event
 * bit, then processes the used rings. */
void virtio_set_service(unsigned slot, void (*fn)(void));
/* Runs the service functions of the slots whose ALC_EV_VIRTIO bits are in events (wait.c). */
void virtio_service(uint32_t events);

#endif
