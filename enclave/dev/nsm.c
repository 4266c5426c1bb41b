/* nsm.c: /dev/nsm, the Nitro Secure Module, with the Linux nsm driver's one ioctl
 * (specs/nsm-runtime.md section 3.1): NSM_IOCTL_RAW takes {request {addr, len}, response {addr,
 * len}}; the request (at most 0x1000 bytes, else EMSGSIZE) goes to the virtio-nsm device with a
 * 0x3000-byte response buffer, and the response is copied back, truncated to the caller's
 * buffer, with its length written into response.len. Any other ioctl is EINVAL.
 *
 * The device (the monitor's src/devices/nsm_dev.c) answers while the vCPU is stopped in the
 * notification, so the answer is normally there when the kick returns; the wait below is the
 * driver's side of the contract all the same (120 s, as Linux). The device is probed at the
 * first open, so enclaves that never use /dev/nsm spend no exits on it.
 */
#include "nsm.h"

#include "file.h"
#include "klib.h"
#include "syscall.h"
#include "vfs.h"
#include "virtio.h"
#include "wait.h"

#define NSM_IOCTL_RAW         0xc0200a00ul
#define NSM_REQUEST_MAX_SIZE  0x1000u
#define NSM_RESPONSE_MAX_SIZE 0x3000u
#define NSM_TIMEOUT_NS        (120ll * 1000000000ll)

struct nsm_iovec {
    uint64_t addr;
    uint64_t len;
};

struct nsm_raw {
    struct nsm_iovec request;
    struct nsm_iovec response;
};

static struct {
    int state; /* 0: not probed; 1: ready; -errno: absent or broken */
    struct virtio_dev dev;
    struct virtq q;
    uint8_t *req, *resp;
    uint32_t used_len;
    bool done;
} g_nsm;

static int nsm_probe(void)
{
    if (g_nsm.state)
        return g_nsm.state > 0 ? 0 : g_nsm.state;
    int err = virtio_probe(&g_nsm.dev, ALC_VIRTIO_SLOT_NSM, VIRTIO_ID_NSM);
    if (!err)
        err = virtio_queue_setup(&g_nsm.dev, &g_nsm.q, 0, 2);
    if (!err) {
        g_nsm.req = kmalloc(NSM_REQUEST_MAX_SIZE);
        g_nsm.resp = kmalloc(NSM_RESPONSE_MAX_SIZE);
        if (!g_nsm.req || !g_nsm.resp)
            err = -ENOMEM;
    }
    if (err) {
        g_nsm.state = err;
        return err;
    }
    virtio_driver_ok(&g_nsm.dev);
    g_nsm.state = 1;
    return 0;
}

/* Takes the answer off the used ring (cleared event bit first: see virtio.h). */
static bool nsm_answered(void *arg)
{
    (void)arg;
    virtio_event_clear(ALC_VIRTIO_SLOT_NSM);
    uint32_t len;
    if (virtq_get_used(&g_nsm.q, &len)) {
        g_nsm.used_len = len;
        g_nsm.done = true;
    }
    return g_nsm.done;
}

static long nsm_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    (void)f;
    if (cmd != NSM_IOCTL_RAW)
        return -EINVAL;
    struct nsm_raw raw;
    if (copy_from_user(&raw, arg, sizeof(raw)))
        return -EFAULT;
    if (raw.request.len > NSM_REQUEST_MAX_SIZE)
        return -EMSGSIZE;
    if (raw.request.len == 0)
        return -EINVAL;
    int err = nsm_probe();
    if (err)
        return err;
    if (copy_from_user(g_nsm.req, raw.request.addr, raw.request.len))
        return -EFAULT;
    struct virtq_buf bufs[2] = {
        {g_nsm.req, (uint32_t)raw.request.len},
        {g_nsm.resp, NSM_RESPONSE_MAX_SIZE},
    };
    g_nsm.done = false;
    if (virtq_add(&g_nsm.q, bufs, 1, 1, &g_nsm))
        return -EBUSY;
    virtq_kick(&g_nsm.q);
    /* not interruptible: the request is in flight and its buffers are ours */
    int64_t deadline = time_monotonic_ns() + NSM_TIMEOUT_NS;
    while (!nsm_answered(NULL)) {
        if (time_monotonic_ns() >= deadline)
            return -ETIMEDOUT;
        hc_wait(ALC_EV_VIRTIO(ALC_VIRTIO_SLOT_NSM), (uint64_t)NSM_TIMEOUT_NS);
    }
    uint64_t n = g_nsm.used_len < NSM_RESPONSE_MAX_SIZE ? g_nsm.used_len : NSM_RESPONSE_MAX_SIZE;
    if (n > raw.response.len)
        n = raw.response.len;
    if (copy_to_user(raw.response.addr, g_nsm.resp, n))
        return -EFAULT;
    raw.response.len = n;
    if (copy_to_user(arg, &raw, sizeof(raw)))
        return -EFAULT;
    return 0;
}

static const struct file_ops g_nsm_ops = {
    .ioctl = nsm_ioctl,
    .stat = vfs_file_stat,
    .release = vfs_file_release,
};

const struct file_ops *nsm_file_ops(void)
{
    return &g_nsm_ops;
}
