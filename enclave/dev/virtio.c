/* virtio.c: the virtio-mmio transport (version 2 registers) and split virtqueues of the
 * enclave kernel (see virtio.h). Registers are touched only to set a device up and to notify,
 * since each access is an exit; the rings are plain shared memory with acquire/release
 * ordering. The driver's bookkeeping (free list, chain lengths, cookies) is private, and what
 * the device writes into the used ring is checked before it is believed.
 */
#include "virtio.h"

#include "klib.h"
#include "scheduler.h"

#define F_VERSION_1_HIGH 1u /* VIRTIO_F_VERSION_1 is bit 32: bit 0 of the high word */

static uint32_t reg_read(struct virtio_dev *d, unsigned off)
{
    return *(volatile uint32_t *)(d->regs + off);
}

static void reg_write(struct virtio_dev *d, unsigned off, uint32_t val)
{
    *(volatile uint32_t *)(d->regs + off) = val;
}

int virtio_probe(struct virtio_dev *d, unsigned slot, uint32_t want)
{
    d->slot = slot;
    d->regs = (volatile uint8_t *)ALC_VIRTIO_VBASE(slot);
    if (reg_read(d, REG_MAGIC) != VIRTIO_MMIO_MAGIC || reg_read(d, REG_VERSION) != 2)
        return -ENODEV;
    d->device_id = reg_read(d, REG_DEVICE_ID);
    if (d->device_id == 0 || d->device_id != want)
        return -ENODEV;
    reg_write(d, REG_STATUS, 0); /* reset */
    reg_write(d, REG_STATUS, STATUS_ACKNOWLEDGE);
    reg_write(d, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
    reg_write(d, REG_DEVICE_FEATURES_SEL, 1);
    uint32_t high = reg_read(d, REG_DEVICE_FEATURES);
    if (!(high & F_VERSION_1_HIGH)) {
        reg_write(d, REG_STATUS, STATUS_FAILED);
        return -EIO;
    }
    /* the low word of the driver features is 0 after the reset: only bit 32 is taken */
    reg_write(d, REG_DRIVER_FEATURES_SEL, 1);
    reg_write(d, REG_DRIVER_FEATURES, F_VERSION_1_HIGH);
    uint32_t st = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK;
    reg_write(d, REG_STATUS, st);
    if (!(reg_read(d, REG_STATUS) & STATUS_FEATURES_OK)) {
        reg_write(d, REG_STATUS, STATUS_FAILED);
        return -EIO;
    }
    return 0;
}

/* Writes a 64-bit address as two halves. A zero high half is not written: the reset (status 0)
 * left it 0, and each register write is an exit. */
static void reg_write64(struct virtio_dev *d, unsigned low, uint64_t val)
{
    reg_write(d, low, (uint32_t)val);
    if (val >> 32)
        reg_write(d, low + 4, (uint32_t)(val >> 32));
}

int virtio_queue_setup(struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t size)
{
    reg_write(d, REG_QUEUE_SEL, index);
    uint32_t max = reg_read(d, REG_QUEUE_NUM_MAX);
    if (max == 0)
        return -ENODEV;
    uint32_t n = 1;
    while (n * 2 <= size && n * 2 <= max)
        n *= 2;
    memset(q, 0, sizeof(*q));
    q->dev = d;
    q->index = index;
    q->size = (uint16_t)n;
    /* kalloc_zeroed memory is physically contiguous (one bump region) and 64-byte aligned:
     * more than the 16 (desc), 2 (avail) and 4 (used) bytes the spec requires */
    q->desc = kalloc_zeroed(16u * n);
    q->avail = kalloc_zeroed(6u + 2u * n);
    q->used = kalloc_zeroed(6u + 8u * n);
    q->next_free = kalloc_zeroed(sizeof(uint16_t) * n);
    q->chain_len = kalloc_zeroed(sizeof(uint16_t) * n);
    q->in_len = kalloc_zeroed(sizeof(uint32_t) * n);
    q->cookies = kalloc_zeroed(sizeof(void *) * n);
    if (!q->desc || !q->avail || !q->used || !q->next_free || !q->chain_len || !q->in_len ||
        !q->cookies)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        q->next_free[i] = (uint16_t)(i + 1);
    q->free_head = 0;
    q->num_free = (uint16_t)n;
    reg_write(d, REG_QUEUE_NUM, n);
    reg_write64(d, REG_QUEUE_DESC_LOW, virt_to_phys((const void *)q->desc));
    reg_write64(d, REG_QUEUE_DRIVER_LOW, virt_to_phys((const void *)q->avail));
    reg_write64(d, REG_QUEUE_DEVICE_LOW, virt_to_phys((const void *)q->used));
    reg_write(d, REG_QUEUE_READY, 1);
    return 0;
}

void virtio_driver_ok(struct virtio_dev *d)
{
    reg_write(d, REG_STATUS,
              STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
}

uint64_t virtio_config_read(struct virtio_dev *d, unsigned off, unsigned len)
{
    volatile uint8_t *p = d->regs + REG_CONFIG + off;
    switch (len) {
    case 1:
        return *p;
    case 2:
        return *(volatile uint16_t *)p;
    case 4:
        return *(volatile uint32_t *)p;
    default:
        return *(volatile uint64_t *)p;
    }
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned nout, unsigned nin,
              void *cookie)
{
    unsigned n = nout + nin;
    KASSERT(n > 0 && cookie);
    if (n > q->num_free)
        return -ENOSPC;
    uint16_t head = q->free_head, i = head;
    uint32_t in_len = 0;
    for (unsigned k = 0; k < n; k++) {
        volatile struct virtq_desc *dsc = &q->desc[i];
        dsc->addr = virt_to_phys(bufs[k].addr);
        dsc->len = bufs[k].len;
        uint16_t flags = k >= nout ? VIRTQ_DESC_F_WRITE : 0;
        if (k >= nout)
            in_len += bufs[k].len;
        i = q->next_free[i];
        if (k + 1 < n)
            flags |= VIRTQ_DESC_F_NEXT;
        dsc->flags = flags;
        dsc->next = k + 1 < n ? i : 0;
    }
    q->free_head = i;
    q->num_free = (uint16_t)(q->num_free - n);
    q->chain_len[head] = (uint16_t)n;
    q->in_len[head] = in_len;
    q->cookies[head] = cookie;
    q->avail[AVAIL_RING + (q->avail_idx & (q->size - 1))] = head;
    q->avail_idx++;
    /* the descriptors and the ring entry before the index that publishes them */
    __atomic_store_n(&q->avail[AVAIL_IDX], q->avail_idx, __ATOMIC_RELEASE);
    return 0;
}

void virtq_kick(struct virtq *q)
{
    /* the device publishes its flag then re-reads avail idx; we publish idx then read the
     * flag: a full barrier on both sides keeps a notification from being lost */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&q->used[USED_FLAGS], __ATOMIC_ACQUIRE) & VIRTQ_USED_F_NO_NOTIFY)
        return;
    reg_write(q->dev, REG_QUEUE_NOTIFY, q->index);
    q->notifies++;
}

bool virtq_has_used(const struct virtq *q)
{
    return __atomic_load_n(&q->used[USED_IDX], __ATOMIC_ACQUIRE) != q->last_used;
}

void *virtq_get_used(struct virtq *q, uint32_t *len)
{
    uint16_t idx = __atomic_load_n(&q->used[USED_IDX], __ATOMIC_ACQUIRE);
    if (idx == q->last_used)
        return NULL;
    uint16_t outstanding = (uint16_t)(q->avail_idx - q->last_used);
    if ((uint16_t)(idx - q->last_used) > outstanding)
        kpanic("virtio slot %u queue %u: used index %u is past the %u chains handed out",
               q->dev->slot, q->index, idx, outstanding);
    volatile struct virtq_used_elem *ring =
        (volatile struct virtq_used_elem *)((volatile uint8_t *)q->used + 4);
    struct virtq_used_elem e;
    e.id = ring[q->last_used & (q->size - 1)].id;
    e.len = ring[q->last_used & (q->size - 1)].len;
    if (e.id >= q->size || !q->cookies[e.id])
        kpanic("virtio slot %u queue %u: used ring names descriptor %u, not a chain in use",
               q->dev->slot, q->index, e.id);
    if (e.len > q->in_len[e.id])
        kpanic("virtio slot %u queue %u: device wrote %u bytes into a chain of %u", q->dev->slot,
               q->index, e.len, q->in_len[e.id]);
    q->last_used++;
    void *cookie = q->cookies[e.id];
    q->cookies[e.id] = NULL;
    /* give the chain back to the free list, walking our own links, not the device-visible
     * descriptors */
    uint16_t n = q->chain_len[e.id], tail = (uint16_t)e.id;
    for (uint16_t k = 1; k < n; k++)
        tail = q->next_free[tail];
    q->next_free[tail] = q->free_head;
    q->free_head = (uint16_t)e.id;
    q->num_free = (uint16_t)(q->num_free + n);
    q->chain_len[e.id] = 0;
    *len = e.len;
    return cookie;
}

/* ---- events ---- */

static volatile uint32_t *events_word(void)
{
    return &((struct alc_shared *)phys_to_virt(g_boot->shared_gpa))->events;
}

void virtio_event_clear(unsigned slot)
{
    __atomic_and_fetch(events_word(), ~ALC_EV_VIRTIO(slot), __ATOMIC_ACQ_REL);
}

bool virtio_event_test(unsigned slot)
{
    return __atomic_load_n(events_word(), __ATOMIC_ACQUIRE) & ALC_EV_VIRTIO(slot);
}

void virtio_event_consumed(unsigned slot)
{
    sched_wake_events(ALC_EV_VIRTIO(slot));
}

static void (*g_service[ALC_VIRTIO_SLOTS])(void);

void virtio_set_service(unsigned slot, void (*fn)(void))
{
    KASSERT(slot < ALC_VIRTIO_SLOTS);
    g_service[slot] = fn;
}

void virtio_service(uint32_t events)
{
    for (unsigned s = 0; s < ALC_VIRTIO_SLOTS; s++)
        if ((events & ALC_EV_VIRTIO(s)) && g_service[s])
            g_service[s]();
}

void virtq_fault_last(struct virtq *q, uint64_t gpa)
{
    uint16_t head = q->avail[AVAIL_RING + ((uint16_t)(q->avail_idx - 1) & (q->size - 1))];
    q->desc[head].addr = gpa;
}
