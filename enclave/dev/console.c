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
#include "wait.h"

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

/* ---- stdin: the monitor reads the host's stdin only when asked (r->want), one read() per
 * request, and raises ALC_EV_STDIN when it has answered with data, the end or an error. ---- */

/* How long a non-blocking look at stdin (poll with no timeout, O_NONBLOCK reads) waits for the
 * monitor to answer a request it has just been given, so that a host file, /dev/null or a pipe
 * that holds data is ready at once, as natively. The answer takes ~0.3 ms, at times over 5 ms
 * on a busy host. Only a look that posts a new request waits: while one is pending (the host's
 * stdin has nothing yet), looks are free. */
#define STDIN_GRACE_NS (50 * 1000 * 1000)

static uint64_t stdin_avail(void)
{
    struct alc_ring *r = g_in.r;
    uint64_t avail = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) - r->tail;
    if (avail > g_in.size)
        kpanic("stdin ring corrupted (head %lu tail %lu)", r->head, r->tail);
    return avail;
}

/* What the ring holds now, as POLL* bits; clears ALC_EV_STDIN first, so that an answer that
 * comes after the look wakes the next hc_wait. */
static uint32_t stdin_state(void)
{
    struct alc_ring *r = g_in.r;
    clear_event(ALC_EV_STDIN);
    uint32_t mask = 0;
    if (stdin_avail())
        mask |= POLLIN | POLLRDNORM;
    if (__atomic_load_n(&r->eof, __ATOMIC_ACQUIRE))
        mask |= POLLHUP;
    if (__atomic_load_n(&r->error, __ATOMIC_ACQUIRE))
        mask |= POLLERR;
    return mask;
}

static bool stdin_answered(void *arg)
{
    (void)arg;
    return stdin_state() || __atomic_load_n(&g_in.r->want, __ATOMIC_ACQUIRE) == 0;
}

/* Asks the monitor for up to want bytes, unless a request is pending already. Returns true when
 * it posted a new one. */
static bool stdin_request(uint64_t want)
{
    struct alc_ring *r = g_in.r;
    if (__atomic_load_n(&r->want, __ATOMIC_ACQUIRE) != 0)
        return false;
    clear_event(ALC_EV_STDIN);
    __atomic_store_n(&r->want, MIN(want, g_in.size), __ATOMIC_RELEASE);
    kick(ALC_HC_KICK_STDIN);
    return true;
}

static void stdin_grace(void)
{
    int64_t end = time_monotonic_ns() + STDIN_GRACE_NS;
    for (;;) {
        if (stdin_answered(NULL))
            return;
        int64_t now = time_monotonic_ns();
        if (now >= end)
            return;
        hc_wait(ALC_EV_STDIN, (uint64_t)(end - now));
    }
}

uint32_t console_stdin_poll(void)
{
    uint32_t mask = stdin_state();
    if (!mask && stdin_request(g_in.size)) {
        stdin_grace();
        mask = stdin_state();
    }
    return mask;
}

long console_stdin_nread(void)
{
    if (!stdin_state() && stdin_request(g_in.size))
        stdin_grace();
    return (long)stdin_avail();
}

static long stdin_take(void *buf, size_t len)
{
    struct alc_ring *r = g_in.r;
    uint64_t n = MIN(stdin_avail(), len);
    uint64_t off = r->tail & (g_in.size - 1);
    uint64_t first = MIN(n, g_in.size - off);
    memcpy(buf, g_in.data + off, first);
    memcpy((uint8_t *)buf + first, g_in.data, n - first);
    __atomic_store_n(&r->tail, r->tail + n, __ATOMIC_RELEASE);
    return (long)n;
}

long console_stdin_pull(void *buf, size_t len)
{
    struct alc_ring *r = g_in.r;
    clear_event(ALC_EV_STDIN);
    if (stdin_avail())
        return stdin_take(buf, len);
    if (__atomic_load_n(&r->eof, __ATOMIC_ACQUIRE))
        return 0;
    int32_t err = __atomic_exchange_n(&r->error, 0, __ATOMIC_ACQ_REL);
    if (err < 0)
        return err;
    stdin_request(g_in.size);
    return -EAGAIN;
}

long console_read_stdin(void *buf, size_t len, bool nonblock)
{
    struct alc_ring *r = g_in.r;
    bool graced = false;
    if (len == 0)
        return 0;
    for (;;) {
        if (stdin_avail() > 0)
            return stdin_take(buf, len);
        if (__atomic_load_n(&r->eof, __ATOMIC_ACQUIRE))
            return 0;
        int32_t err = __atomic_exchange_n(&r->error, 0, __ATOMIC_ACQ_REL);
        if (err < 0)
            return err;
        /* ask the monitor for up to len bytes and idle until they (or EOF) arrive */
        stdin_request(len);
        if (nonblock) {
            if (graced)
                return -EAGAIN;
            stdin_grace();
            graced = true;
            continue;
        }
        if (wait_until(stdin_answered, NULL, ALC_EV_STDIN, WAIT_FOREVER))
            return -ERESTARTSYS;
    }
}
