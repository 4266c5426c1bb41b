/* virtqueue.c: the device side of a split virtqueue; see virtqueue.h. The guest owns the rings
 * and may rewrite them while we read: every index and descriptor is copied once, then checked,
 * then used. */
#include "devices/virtqueue.h"

#include <stdio.h>
#include <string.h>

int vq_start(struct vq *q, const struct guest_mem *mem, char *why, size_t why_size)
{
    if (q->num == 0 || q->num > VQ_MAX_SIZE || (q->num & (q->num - 1))) {
        snprintf(why, why_size, "queue size %u is not a power of two up to %u", q->num,
                 VQ_MAX_SIZE);
        return -1;
    }
    if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3)) {
        snprintf(why, why_size, "misaligned queue (desc %#llx, driver %#llx, device %#llx)",
                 (unsigned long long)q->desc_gpa, (unsigned long long)q->avail_gpa,
                 (unsigned long long)q->used_gpa);
        return -1;
    }
    q->mem = mem;
    q->desc = GPA_PTR(mem, q->desc_gpa, 16ull * q->num);
    q->avail = GPA_PTR(mem, q->avail_gpa, 6ull + 2ull * q->num);
    q->used = GPA_PTR(mem, q->used_gpa, 6ull + 8ull * q->num);
    if (!q->desc || !q->avail || !q->used) {
        snprintf(why, why_size, "a queue ring lies outside guest memory");
        return -1;
    }
    q->last_avail = 0;
    q->used_idx = 0;
    return 0;
}

bool vq_has_avail(const struct vq *q)
{
    uint16_t idx = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
    return idx != q->last_avail;
}

int vq_pop(struct vq *q, struct vq_chain *c, char *why, size_t why_size)
{
    uint16_t avail_idx = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
    if (avail_idx == q->last_avail)
        return 0;
    if ((uint16_t)(avail_idx - q->last_avail) > q->num) {
        snprintf(why, why_size, "avail index %u is %u entries ahead of a queue of %u", avail_idx,
                 (uint16_t)(avail_idx - q->last_avail), q->num);
        return -1;
    }
    uint16_t head = q->avail[AVAIL_RING + (q->last_avail & (q->num - 1))];
    if (head >= q->num) {
        snprintf(why, why_size, "avail ring names descriptor %u of a queue of %u", head, q->num);
        return -1;
    }
    c->head = head;
    c->nout = c->nin = 0;
    c->out_len = c->in_len = 0;
    uint16_t i = head;
    for (unsigned hops = 0;; hops++) {
        if (hops >= VQ_MAX_SEGS || hops >= q->num) {
            snprintf(why, why_size, "descriptor chain from %u is longer than %u", head,
                     hops >= VQ_MAX_SEGS ? VQ_MAX_SEGS : q->num);
            return -1;
        }
        struct virtq_desc d;
        d.addr = q->desc[i].addr;
        d.len = q->desc[i].len;
        d.flags = q->desc[i].flags;
        d.next = q->desc[i].next;
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            snprintf(why, why_size, "indirect descriptor %u (not negotiated)", i);
            return -1;
        }
        uint8_t *p = d.len ? GPA_PTR(q->mem, d.addr, d.len) : NULL;
        if (d.len && !p) {
            snprintf(why, why_size, "descriptor %u points outside guest memory (%#llx, +%u)", i,
                     (unsigned long long)d.addr, d.len);
            return -1;
        }
        if (d.flags & VIRTQ_DESC_F_WRITE) {
            c->in[c->nin++] = (struct vq_seg){p, d.len};
            c->in_len += d.len;
        } else {
            if (c->nin) {
                snprintf(why, why_size, "readable descriptor %u after a writable one", i);
                return -1;
            }
            c->out[c->nout++] = (struct vq_seg){p, d.len};
            c->out_len += d.len;
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= q->num) {
            snprintf(why, why_size, "descriptor %u links to %u of a queue of %u", i, d.next,
                     q->num);
            return -1;
        }
        i = d.next;
    }
    q->last_avail++;
    return 1;
}

void vq_push(struct vq *q, uint16_t head, uint32_t len)
{
    volatile struct virtq_used_elem *ring =
        (volatile struct virtq_used_elem *)((volatile uint8_t *)q->used + USED_RING_OF);
    ring[q->used_idx & (q->num - 1)].id = head;
    ring[q->used_idx & (q->num - 1)].len = len;
    q->used_idx++;
    __atomic_store_n(&q->used[USED_IDX], q->used_idx, __ATOMIC_RELEASE);
}

void vq_want_notify(struct vq *q, bool want)
{
    __atomic_store_n(&q->used[USED_FLAGS], want ? 0 : VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
    /* the driver publishes avail idx then reads our flag; we publish the flag then re-read its
     * idx (vq_has_avail): a full barrier between keeps a notification from being lost */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

size_t vq_chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len)
{
    size_t done = 0;
    for (unsigned s = 0; s < c->nout && done < len; s++) {
        if (off >= c->out[s].len) {
            off -= c->out[s].len;
            continue;
        }
        size_t n = c->out[s].len - off;
        if (n > len - done)
            n = len - done;
        memcpy((uint8_t *)dst + done, c->out[s].p + off, n);
        done += n;
        off = 0;
    }
    return done;
}
