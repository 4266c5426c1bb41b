/* virtio_mmio.c: the virtio-mmio register file of each device slot (see virtio_mmio.h). The
 * driver configures a device through these registers once, at boot; after DRIVER_OK only
 * QueueNotify and the config space matter, and a driver that tries to reconfigure a running
 * device is stopped. */
#include "devices/virtio_mmio.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/vm.h"

#define VIRTIO_VENDOR 0x56434c41u /* "ALCV" */

struct virtio_dev *virtio_add(struct vm *vm, unsigned slot, const struct virtio_ops *ops,
                              void *priv)
{
    if (slot >= ALC_VIRTIO_SLOTS || vm->virtio[slot])
        return NULL;
    struct virtio_dev *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->vm = vm;
    d->slot = slot;
    d->ops = ops;
    d->priv = priv;
    pthread_mutex_init(&d->lock, NULL);
    vm->virtio[slot] = d;
    return d;
}

void virtio_remove(struct vm *vm, unsigned slot)
{
    struct virtio_dev *d = vm->virtio[slot];
    if (!d)
        return;
    vm->virtio[slot] = NULL;
    pthread_mutex_destroy(&d->lock);
    free(d);
}

void virtio_signal_used(struct virtio_dev *d)
{
    struct vm *vm = d->vm;
    uint32_t bit = ALC_EV_VIRTIO(d->slot);
    uint32_t old = __atomic_fetch_or(&vm->shared->events, bit, __ATOMIC_ACQ_REL);
    if (!(old & bit))
        vm_wake_waiters(vm);
}

static uint64_t offered(const struct virtio_dev *d)
{
    return d->ops->features | VIRTIO_F_VERSION_1;
}

static int violation(struct virtio_dev *d, const char *what, uint64_t value)
{
    vm_end(d->vm, VM_END_VIOLATION, 137, "virtio %s (slot %u): %s (%#" PRIx64 ")", d->ops->name,
           d->slot, what, value);
    return -1;
}

static uint32_t reg_read(struct virtio_dev *d, unsigned off)
{
    struct vq *q = d->queue_sel < d->ops->nqueues ? &d->vq[d->queue_sel] : NULL;
    switch (off) {
    case REG_MAGIC:
        return VIRTIO_MMIO_MAGIC;
    case REG_VERSION:
        return 2;
    case REG_DEVICE_ID:
        return d->ops->device_id;
    case REG_VENDOR_ID:
        return VIRTIO_VENDOR;
    case REG_DEVICE_FEATURES:
        return d->dev_features_sel < 2 ? (uint32_t)(offered(d) >> (32 * d->dev_features_sel)) : 0;
    case REG_QUEUE_NUM_MAX:
        return q ? d->ops->queue_max : 0;
    case REG_QUEUE_READY:
        return q ? q->ready : 0;
    case REG_INTERRUPT_STATUS:
        return 0; /* no interrupts: see alcove_abi.h */
    case REG_STATUS:
        return d->status;
    case REG_CONFIG_GENERATION:
        return 0; /* the config never changes */
    default:
        return 0;
    }
}

static void set_half(uint64_t *v, bool high, uint32_t x)
{
    *v = high ? (*v & 0xffffffffull) | ((uint64_t)x << 32) : (*v & ~0xffffffffull) | x;
}

static int set_status(struct virtio_dev *d, uint32_t val)
{
    if (val == 0) {
        if (d->started)
            return violation(d, "reset of a running device", 0);
        d->status = 0;
        d->drv_features = 0;
        memset(d->vq, 0, sizeof(d->vq));
        return 0;
    }
    if (d->started && val != d->status)
        return violation(d, "status change of a running device", val);
    if ((val & STATUS_FEATURES_OK) && !(d->status & STATUS_FEATURES_OK)) {
        /* accepted only when the driver took nothing we did not offer, and took version 1 */
        if ((d->drv_features & ~offered(d)) || !(d->drv_features & VIRTIO_F_VERSION_1))
            val &= ~STATUS_FEATURES_OK;
    }
    if ((val & STATUS_DRIVER_OK) && !d->started) {
        if (!(val & STATUS_FEATURES_OK))
            return violation(d, "DRIVER_OK without FEATURES_OK", val);
        for (unsigned i = 0; i < d->ops->nqueues; i++) {
            char why[160];
            if (d->vq[i].ready && vq_start(&d->vq[i], &d->vm->mem, why, sizeof(why))) {
                vm_end(d->vm, VM_END_VIOLATION, 137, "virtio %s queue %u: %s", d->ops->name, i,
                       why);
                return -1;
            }
        }
        d->status = val;
        /* the queues' state before the flag: notifies on other vCPUs read the flag first */
        __atomic_store_n(&d->started, true, __ATOMIC_RELEASE);
        return d->ops->start(d) ? -1 : 0;
    }
    d->status = val;
    return 0;
}

static int reg_write(struct virtio_dev *d, unsigned off, uint32_t val)
{
    struct vq *q = d->queue_sel < d->ops->nqueues ? &d->vq[d->queue_sel] : NULL;
    bool queue_reg = off == REG_QUEUE_NUM || off == REG_QUEUE_READY ||
                     (off >= REG_QUEUE_DESC_LOW && off <= REG_QUEUE_DEVICE_HIGH);
    if (queue_reg && (!q || d->started))
        return violation(d, d->started ? "queue setup of a running device" : "no such queue",
                         d->queue_sel);
    switch (off) {
    case REG_DEVICE_FEATURES_SEL:
        d->dev_features_sel = val;
        return 0;
    case REG_DRIVER_FEATURES:
        if (d->drv_features_sel < 2 && !(d->status & STATUS_FEATURES_OK))
            set_half(&d->drv_features, d->drv_features_sel == 1, val);
        return 0;
    case REG_DRIVER_FEATURES_SEL:
        d->drv_features_sel = val;
        return 0;
    case REG_QUEUE_SEL:
        d->queue_sel = val;
        return 0;
    case REG_QUEUE_NUM:
        if (val == 0 || val > d->ops->queue_max || (val & (val - 1)))
            return violation(d, "bad queue size", val);
        q->num = (uint16_t)val;
        return 0;
    case REG_QUEUE_READY:
        q->ready = val & 1;
        return 0;
    case REG_QUEUE_DESC_LOW:
    case REG_QUEUE_DESC_HIGH:
        set_half(&q->desc_gpa, off == REG_QUEUE_DESC_HIGH, val);
        return 0;
    case REG_QUEUE_DRIVER_LOW:
    case REG_QUEUE_DRIVER_HIGH:
        set_half(&q->avail_gpa, off == REG_QUEUE_DRIVER_HIGH, val);
        return 0;
    case REG_QUEUE_DEVICE_LOW:
    case REG_QUEUE_DEVICE_HIGH:
        set_half(&q->used_gpa, off == REG_QUEUE_DEVICE_HIGH, val);
        return 0;
    case REG_INTERRUPT_ACK:
        return 0;
    case REG_STATUS:
        return set_status(d, val);
    default:
        return violation(d, "write of a read-only or unknown register", off);
    }
}

int virtio_mmio_access(struct vm *vm, uint64_t gpa, uint8_t *data, unsigned len, bool is_write)
{
    uint64_t rel = gpa - ALC_VIRTIO_GPA(0);
    unsigned slot = (unsigned)(rel / ALC_VIRTIO_WINDOW), off = (unsigned)(rel % ALC_VIRTIO_WINDOW);
    struct virtio_dev *d = slot < ALC_VIRTIO_SLOTS ? vm->virtio[slot] : NULL;
    if (!d) {
        /* an empty slot: DeviceID 0 says "no device"; everything else reads 0 */
        if (!is_write) {
            uint32_t v = off == REG_MAGIC ? VIRTIO_MMIO_MAGIC : off == REG_VERSION ? 2 : 0;
            memset(data, 0, len);
            memcpy(data, &v, len < 4 ? len : 4);
        }
        return 0;
    }
    if (off == REG_QUEUE_NOTIFY && is_write && len == 4) {
        uint32_t qi;
        memcpy(&qi, data, 4);
        if (!__atomic_load_n(&d->started, __ATOMIC_ACQUIRE) || qi >= d->ops->nqueues ||
            !d->vq[qi].ready)
            return violation(d, "notify of a queue that is not running", qi);
        d->ops->notify(d, qi);
        return 0;
    }
    if (off >= REG_CONFIG) {
        unsigned c = off - REG_CONFIG;
        if (is_write || (len != 1 && len != 2 && len != 4 && len != 8) ||
            c + len > d->ops->config_size)
            return violation(d, "bad config space access", off);
        memcpy(data, (const uint8_t *)d->ops->config(d) + c, len);
        return 0;
    }
    if (len != 4 || (off & 3))
        return violation(d, "register access that is not 32-bit", off);
    pthread_mutex_lock(&d->lock);
    int r = 0;
    if (is_write) {
        uint32_t v;
        memcpy(&v, data, 4);
        r = reg_write(d, off, v);
    } else {
        uint32_t v = reg_read(d, off);
        memcpy(data, &v, 4);
    }
    pthread_mutex_unlock(&d->lock);
    return r;
}
