/* vsock_virtio.c: the virtio-vsock device (virtio 1.2 section 5.10) under the enclave's AF_VSOCK
 * sockets: its queues, its receive and transmit buffers, the pump that services them, the
 * device's probe, and /dev/vsock (see vsock.h for the sockets' conventions and docs/vsock.md for
 * the device's contract). What the packets mean to connections is net/vsock_conn.c and
 * net/vsock_rx.c; vsock_virtio.h is the boundary between the two.
 *
 * The device: queues rx (0) and tx (1); the event queue (2) is left unset (docs/vsock.md). RX_BUFS
 * device-writable buffers of a header and 64 KiB sit in the rx queue; a received packet's payload
 * is copied into its socket's receive ring at once (vsock_rx_packet) and the buffer goes straight
 * back, so a socket that is not read never holds the device's buffers (flow control is the credit
 * we advertise: the ring's size). Sent packets are built in kernel buffers (TX_SMALL small ones
 * for control packets and small writes, TX_BIG of 64 KiB for the rest: about 1 MiB in flight at
 * most), taken back when the device has used them. There are no interrupts: vsock_pump, run at
 * every socket operation and by wait_until for waiters of ALC_EV_VIRTIO(slot), clears the event
 * bit and then processes the used rings, and notifies the device only when it asks for it
 * (virtq_kick).
 *
 * Locking: everything here runs under the kernel lock (docs/architecture.md); g_in_pump keeps
 * vsock_pump from re-entering itself through what it calls. The buffers live as long as the
 * enclave: none is ever freed.
 */
#include "vsock_virtio.h"

#include "klib.h"
#include "syscall.h"
#include "vfs.h"
#include "vsock.h"

enum { Q_RX = 0, Q_TX = 1 };

#define RX_QUEUE_SIZE    64
#define TX_QUEUE_SIZE    256
#define RX_BOOT_BUFS     2
#define PKT_MAX          (64u << 10)
#define BUF_LEN          (HDR_LEN + PKT_MAX)
#define TX_SMALL         64
#define TX_SMALL_LEN     256u
#define TX_SMALL_PAYLOAD (TX_SMALL_LEN - HDR_LEN)
#define TX_BIG           16

struct rxbuf {
    uint8_t *mem;
};

static struct virtio_dev g_dev;
static struct virtq g_q[2];
static bool g_present, g_in_pump;
static uint32_t g_cid = VMADDR_CID_ANY;
static struct rxbuf g_rx[RX_BUFS];
static unsigned g_rx_made;
static struct txbuf g_tx_small[TX_SMALL], g_tx_big[TX_BIG];
static struct txbuf *g_small_free, *g_big_free;
static unsigned g_big_made, g_tx_busy;
static bool g_tx_dirty, g_rx_dirty;
/* used buffers taken off either ring since the last pump woke the device's waiters */
static bool g_used;

bool vsock_present(void)
{
    return g_present;
}

uint32_t vsock_local_cid(void)
{
    return g_cid;
}

/* ---- transmit buffers ---- */

void vsock_tx_release(struct txbuf *b)
{
    if (b->cap == TX_SMALL_LEN) {
        b->next = g_small_free;
        g_small_free = b;
    } else {
        b->next = g_big_free;
        g_big_free = b;
    }
}

/* Takes back the buffers the device has sent. */
static void tx_reclaim(void)
{
    uint32_t len;
    struct txbuf *b;
    while ((b = virtq_get_used(&g_q[Q_TX], &len))) {
        g_used = true;
        bool small = b >= g_tx_small && b < g_tx_small + TX_SMALL;
        if (!small && !(b >= g_tx_big && b < g_tx_big + TX_BIG))
            kpanic("virtio-vsock: tx cookie %p is not ours", (void *)b);
        vsock_tx_release(b);
        g_tx_busy--;
    }
}

/* Whether a buffer for a packet is to be had now (after tx_reclaim). */
bool vsock_tx_avail(void)
{
    return g_q[Q_TX].num_free > 0 && (g_small_free || g_big_free || g_big_made < TX_BIG);
}

/* A buffer for a packet with up to *payload bytes; *payload shrinks to what fits. Small
 * packets take small buffers while there are any. */
struct txbuf *vsock_tx_get(uint32_t *payload)
{
    if (g_q[Q_TX].num_free == 0 || (!g_small_free && !g_big_free))
        tx_reclaim();
    if (g_q[Q_TX].num_free == 0)
        return NULL;
    struct txbuf *b = NULL;
    if (*payload <= TX_SMALL_PAYLOAD && g_small_free) {
        b = g_small_free;
        g_small_free = b->next;
        return b;
    }
    if (!g_big_free && g_big_made < TX_BIG) {
        uint8_t *mem = kmalloc(BUF_LEN);
        if (mem) {
            g_tx_big[g_big_made] = (struct txbuf){mem, BUF_LEN, NULL};
            vsock_tx_release(&g_tx_big[g_big_made++]);
        }
    }
    if (g_big_free) {
        b = g_big_free;
        g_big_free = b->next;
        if (*payload > PKT_MAX)
            *payload = PKT_MAX;
    } else if (g_small_free) {
        b = g_small_free;
        g_small_free = b->next;
        *payload = TX_SMALL_PAYLOAD;
    }
    return b;
}

void vsock_tx_put(struct txbuf *b, uint32_t len)
{
    struct virtq_buf vb = {b->mem, len};
    if (virtq_add(&g_q[Q_TX], &vb, 1, 0, b))
        kpanic("virtio-vsock: no tx descriptor after a check");
    g_tx_busy++;
    g_tx_dirty = true;
}

void vsock_tx_kick(void)
{
    if (g_tx_dirty) {
        g_tx_dirty = false;
        virtq_kick(&g_q[Q_TX]);
    }
}

unsigned vsock_tx_busy(void)
{
    return g_tx_busy;
}

static void rx_post(struct rxbuf *b)
{
    struct virtq_buf vb = {b->mem, BUF_LEN};
    if (virtq_add(&g_q[Q_RX], &vb, 0, 1, b))
        kpanic("virtio-vsock: no rx descriptor for a buffer");
    g_rx_dirty = true;
}

/* Hands the received packets to their connections. */
static void rx_process(void)
{
    uint32_t len;
    struct rxbuf *b;
    while ((b = virtq_get_used(&g_q[Q_RX], &len))) {
        g_used = true;
        if (b < g_rx || b >= g_rx + RX_BUFS)
            kpanic("virtio-vsock: rx cookie %p is not ours", (void *)b);
        if (len < HDR_LEN)
            kpanic("virtio-vsock: an rx packet of %u bytes, less than its header", len);
        struct vsock_hdr h;
        memcpy(&h, b->mem, sizeof(h));
        if (h.len > len - HDR_LEN)
            kpanic("virtio-vsock: an rx packet says %u payload bytes of %u", h.len, len - HDR_LEN);
        vsock_rx_packet(&h, b->mem + HDR_LEN);
        rx_post(b); /* straight back: the payload has been copied */
    }
}

void vsock_pump(void)
{
    if (!g_present || g_in_pump)
        return;
    g_in_pump = true;
    virtio_event_clear(SLOT); /* before looking: what the device uses later wakes the next wait */
    tx_reclaim();
    rx_process();
    vsock_conn_service();
    /* the bit this pump cleared was also the wake-up of the threads blocked on it (another
     * process's writer waiting for credit or buffers while this thread's accept pumped): the
     * states they wait on may have changed, so they look again. Buffers a sender took back
     * itself since the last pump (vsock_tx_get) count too: their bit may be the one cleared */
    if (g_used) {
        g_used = false;
        virtio_event_consumed(SLOT);
    }
    if (g_rx_dirty) {
        g_rx_dirty = false;
        virtq_kick(&g_q[Q_RX]); /* an exit only when the device ran out of buffers */
    }
    vsock_tx_kick();
    g_in_pump = false;
}

/* ---- the device ---- */

/* Adds rx buffers until the queue holds want of them (or memory runs out). */
void vsock_rx_grow(unsigned want)
{
    want = MIN(want, MIN((unsigned)RX_BUFS, (unsigned)g_q[Q_RX].size));
    while (g_rx_made < want) {
        uint8_t *mem = kmalloc(BUF_LEN);
        if (!mem) {
            klog(ALC_LOG_WARN, "vsock: no memory for more rx buffers (%u)", g_rx_made);
            break;
        }
        g_rx[g_rx_made].mem = mem;
        rx_post(&g_rx[g_rx_made++]);
    }
    if (g_rx_dirty && g_present) {
        g_rx_dirty = false;
        virtq_kick(&g_q[Q_RX]);
    }
}

int vsock_init(void)
{
    int err = virtio_probe(&g_dev, SLOT, VIRTIO_ID_VSOCK);
    if (err) {
        if (err != -ENODEV)
            klog(ALC_LOG_ERROR, "virtio-vsock: the device refused the driver (%d)", err);
        return -ENODEV;
    }
    uint64_t cid = virtio_config_read(&g_dev, 0, 8);
    if (cid <= VMADDR_CID_HOST || cid >= VMADDR_CID_ANY) {
        klog(ALC_LOG_ERROR, "virtio-vsock: the device gave CID %lu", cid);
        return -ENODEV;
    }
    /* the event queue (2) carries only transport resets, which a monitor that never migrates
     * does not send: it is left unset, which saves its ~7 register exits at boot */
    if (virtio_queue_setup(&g_dev, &g_q[Q_RX], Q_RX, RX_QUEUE_SIZE) ||
        virtio_queue_setup(&g_dev, &g_q[Q_TX], Q_TX, TX_QUEUE_SIZE)) {
        klog(ALC_LOG_ERROR, "virtio-vsock: cannot set the queues up");
        return -ENODEV;
    }
    uint8_t *small = kalloc_zeroed(TX_SMALL * TX_SMALL_LEN);
    if (!small)
        return -ENOMEM;
    for (unsigned i = 0; i < TX_SMALL; i++) {
        g_tx_small[i] = (struct txbuf){small + i * TX_SMALL_LEN, TX_SMALL_LEN, NULL};
        vsock_tx_release(&g_tx_small[i]);
    }
    g_cid = (uint32_t)cid;
    /* a few rx buffers for the heartbeat; the rest when the application makes a socket. No
     * notification before DRIVER_OK: the device looks at its queues when it starts */
    vsock_rx_grow(RX_BOOT_BUFS);
    if (g_boot->flags & ALC_BOOT_FAULT_VIRTQ)
        virtq_fault_last(&g_q[Q_RX], g_boot->mem_size + ALC_PAGE_SIZE); /* see the tests */
    g_rx_dirty = false;
    virtio_driver_ok(&g_dev);
    virtio_set_service(SLOT, vsock_pump);
    g_present = true;
    return 0;
}

/* Whether the peer has taken all we sent on s (its fwd_cnt: the bytes the host socket took). */
/* ---- /dev/vsock ---- */

static long vdev_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    (void)f;
    if (cmd != IOCTL_VM_SOCKETS_GET_LOCAL_CID)
        return -ENOTTY;
    uint32_t cid = g_cid;
    return copy_to_user(arg, &cid, sizeof(cid)) ? -EFAULT : 0;
}

const struct file_ops g_vsock_dev_ops = {
    .ioctl = vdev_ioctl,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};
