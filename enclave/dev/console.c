/* console.c: stdout, stderr and kernel log records into the output ring; stdin from the input
 * ring. The monitor's I/O thread is the other end of both rings (src/devices/stdio.c).
 *
 * Exits are expensive on our KVM, so the producer kicks the monitor only when its consumer has
 * said it is going to sleep, and waits for ring space by polling briefly before it idles the
 * vCPU with ALC_HC_WAIT.
 */
#include "console.h"

#include "kernel.h"
#include "klib.h"

struct ring_view {
    struct alc_ring *r;
    uint8_t *data;
    uint64_t size;
};

static struct ring_view g_out, g_in;
static struct alc_shared *g_shared;

static void ring_view_init(struct ring_view *v, uint64_t gpa, uint64_t size)
{
    v->r = phys_to_virt(gpa);
    v->data = (uint8_t *)v->r + ALC_RING_DATA_OFFSET;
    v->size = size;
}

void console_init(void)
{
    ring_view_init(&g_out, g_boot->out_ring_gpa, g_boot->out_ring_size);
    ring_view_init(&g_in, g_boot->in_ring_gpa, g_boot->in_ring_size);
    g_shared = phys_to_virt(g_boot->shared_gpa);
}

static void kick(unsigned doorbell)
{
    hypercall(doorbell, 1);
}

static void clear_event(uint32_t bit)
{
    __atomic_and_fetch(&g_shared->events, ~bit, __ATOMIC_ACQ_REL);
}

static uint64_t out_free(void)
{
    uint64_t tail = __atomic_load_n(&g_out.r->tail, __ATOMIC_ACQUIRE);
    return g_out.size - (g_out.r->head - tail);
}

static void wait_for_space(uint64_t need)
{
    for (int spin = 0; spin < 2000; spin++) {
        if (out_free() >= need)
            return;
        __asm__ volatile("pause");
    }
    while (out_free() < need) {
        clear_event(ALC_EV_CONSOLE_SPACE);
        kick(ALC_HC_KICK_CONSOLE);
        if (out_free() >= need)
            return;
        hc_wait(ALC_EV_CONSOLE_SPACE, 10 * 1000 * 1000);
    }
}

static void ring_put(uint64_t pos, const void *src, uint64_t len)
{
    uint64_t off = pos & (g_out.size - 1);
    uint64_t first = MIN(len, g_out.size - off);
    memcpy(g_out.data + off, src, first);
    memcpy(g_out.data, (const uint8_t *)src + first, len - first);
}

void console_write(unsigned stream, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    if (!g_out.r)
        return; /* before console_init: nowhere to write */
    uint64_t max_payload = g_out.size / 2 - 4;
    while (len > 0) {
        uint64_t n = MIN(len, max_payload);
        wait_for_space(n + 4);
        uint64_t head = g_out.r->head;
        uint32_t hdr = (uint32_t)(stream << 24) | (uint32_t)n;
        ring_put(head, &hdr, 4);
        ring_put(head + 4, p, n);
        __atomic_store_n(&g_out.r->head, head + 4 + n, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&g_out.r->consumer_sleeping, __ATOMIC_ACQUIRE))
            kick(ALC_HC_KICK_CONSOLE);
        p += n;
        len -= n;
    }
}

long console_read_stdin(void *buf, size_t len)
{
    struct alc_ring *r = g_in.r;
    if (len == 0)
        return 0;
    for (;;) {
        uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        uint64_t avail = head - r->tail;
        if (avail > g_in.size)
            kpanic("stdin ring corrupted (head %lu tail %lu)", head, r->tail);
        if (avail > 0) {
            uint64_t n = MIN(avail, len);
            uint64_t off = r->tail & (g_in.size - 1);
            uint64_t first = MIN(n, g_in.size - off);
            memcpy(buf, g_in.data + off, first);
            memcpy((uint8_t *)buf + first, g_in.data, n - first);
            __atomic_store_n(&r->tail, r->tail + n, __ATOMIC_RELEASE);
            return (long)n;
        }
        if (__atomic_load_n(&r->eof, __ATOMIC_ACQUIRE))
            return 0;
        int32_t err = __atomic_exchange_n(&r->error, 0, __ATOMIC_ACQ_REL);
        if (err < 0)
            return err;
        /* ask the monitor for up to len bytes and idle until they (or EOF) arrive */
        clear_event(ALC_EV_STDIN);
        __atomic_store_n(&r->want, (uint64_t)MIN(len, g_in.size), __ATOMIC_RELEASE);
        kick(ALC_HC_KICK_STDIN);
        while (__atomic_load_n(&r->want, __ATOMIC_ACQUIRE) != 0)
            hc_wait(ALC_EV_STDIN, 0);
    }
}
