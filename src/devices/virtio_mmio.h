/* virtio_mmio.h: the virtio-mmio transport (virtio 1.2 section 4.2, version 2 registers) of the
 * monitor's devices. Each device fills a struct virtio_ops (kvmtool's shape: the transport
 * handles the registers, feature negotiation and queue setup; the device sees its queues and
 * notifications). Register accesses arrive as MMIO exits on the vCPU threads
 * (monitor/exits.c); what a device does with a notification, and on which thread, is its own
 * business. Slots and addresses: include/abi/alcove_abi.h. */
#ifndef ALCOVE_VIRTIO_MMIO_H
#define ALCOVE_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtqueue.h"

#define VIRTIO_MAX_QUEUES 4

struct vm;
struct virtio_dev;

struct virtio_ops {
    const char *name;
    uint32_t device_id;
    unsigned nqueues;
    uint16_t queue_max;
    uint64_t features;                           /* offered besides VIRTIO_F_VERSION_1 */
    uint32_t config_size;                        /* bytes of config space */
    const void *(*config)(struct virtio_dev *d); /* its bytes (read-only for the driver) */
    /* The driver set DRIVER_OK: every queue is checked and ready. 0, or -1 (ends the enclave). */
    int (*start)(struct virtio_dev *d);
    /* The driver wrote queue q to QueueNotify (on a vCPU thread). */
    void (*notify)(struct virtio_dev *d, unsigned q);
};

struct virtio_dev {
    struct vm *vm;
    unsigned slot;
    const struct virtio_ops *ops;
    void *priv;           /* the device's own state */
    pthread_mutex_t lock; /* register state: vCPUs may race each other */
    uint32_t status;
    uint32_t dev_features_sel, drv_features_sel, queue_sel;
    uint64_t drv_features;
    bool started;
    struct vq vq[VIRTIO_MAX_QUEUES];
};

/* Puts a device into slot (ALC_VIRTIO_SLOT_*). The monitor frees it with virtio_remove. */
struct virtio_dev *virtio_add(struct vm *vm, unsigned slot, const struct virtio_ops *ops,
                              void *priv);
void virtio_remove(struct vm *vm, unsigned slot);

/* An MMIO access at gpa inside the virtio windows (len bytes at data; for a read the data is
 * filled in). 0, or -1 when the guest broke the protocol (the enclave has been ended). */
int virtio_mmio_access(struct vm *vm, uint64_t gpa, uint8_t *data, unsigned len, bool is_write);

/* "Interrupt": the device used buffers of its queues; sets ALC_EV_VIRTIO(slot) and wakes a vCPU
 * that waits for it. */
void virtio_signal_used(struct virtio_dev *d);

#endif
