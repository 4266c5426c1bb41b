/* virtqueue.h: the device side of a virtio split virtqueue (virtio 1.2 section 2.7) in guest
 * memory the guest may change at any moment. Every descriptor is read once, checked (index,
 * flags, direction order, chain length, the range inside guest RAM through the checked
 * translator) and only then used. A pure module over guest memory, fuzzed by
 * tests/fuzz/fuzz_virtqueue.c. */
#ifndef ALCOVE_VIRTQUEUE_H
#define ALCOVE_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/virtio.h"
#include "monitor/memory.h"

#define VQ_MAX_SIZE 1024 /* the largest queue a device offers */
#define VQ_MAX_SEGS 16   /* the most descriptors one chain may have */

struct vq {
    /* set by the driver through the transport's registers */
    uint16_t num; /* queue size (a power of two, <= the device's maximum) */
    bool ready;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    /* resolved by vq_start */
    const struct guest_mem *mem;
    volatile struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[num], used_event */
    volatile uint16_t *used;  /* flags, idx, then ring of struct virtq_used_elem */
    uint16_t last_avail;      /* the next avail ring entry the device will take */
    uint16_t used_idx;        /* the device's used index (the guest only reads it) */
};

/* One buffer: a checked host pointer into guest memory. */
struct vq_seg {
    uint8_t *p;
    uint32_t len;
};

/* A chain taken from the avail ring: the device-readable segments, then the device-writable
 * ones (the order the spec requires). */
struct vq_chain {
    uint16_t head;
    unsigned nout, nin;
    struct vq_seg out[VQ_MAX_SEGS], in[VQ_MAX_SEGS];
    uint64_t out_len, in_len;
};

/* Checks the ring addresses the driver gave (alignment, inside guest RAM) and resolves them.
 * 0, or -1 with the reason in why. */
int vq_start(struct vq *q, const struct guest_mem *mem, char *why, size_t why_size);

/* Takes the next available chain. 1: *c holds it; 0: the ring is empty; -1: the guest broke
 * the protocol (the reason in why). */
int vq_pop(struct vq *q, struct vq_chain *c, char *why, size_t why_size);

/* Returns a chain to the driver, with len bytes written into its writable segments. */
void vq_push(struct vq *q, uint16_t head, uint32_t len);

/* Whether the avail ring holds chains the device has not taken. */
bool vq_has_avail(const struct vq *q);

/* Tells the driver whether it must notify (write QueueNotify) after adding buffers. */
void vq_want_notify(struct vq *q, bool want);

/* Copies up to len bytes from the chain's readable segments, starting at offset off. Returns
 * the bytes copied. */
size_t vq_chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len);

#endif
