/* nsm_dev.c: the virtio-nsm device (DeviceID 33, specs/nsm-runtime.md section 3.3): one queue;
 * each request is a device-readable buffer holding the CBOR request followed by a device-writable
 * buffer of exactly 0x3000 bytes for the response. Requests are answered at once, on the vCPU
 * thread that wrote QueueNotify: they are small, and the guest waits for the answer anyway.
 *
 * What it answers with is src/attest/nsm.c. The host CA (ca.h: its certificate and key) is read
 * once, at set-up, by the main thread (nsm_dev_start), before the monitor is sandboxed: the vCPU
 * threads that answer requests open and read no file (their allowlist has neither,
 * monitor/sandbox_class.c). It stays in the monitor's memory (never the guest's) for the
 * enclave's life, to issue leaves; a CA that cannot be read is reported at the first request
 * that needs it, as before. Two things are made lazily, at the first request that needs them,
 * so that enclaves that never attest pay little at launch:
 *  - the PCRs of an enclave booted without an EIF (a binary or a tree): measured, the EIF way,
 *    over the host's copy of what was booted (kernel, cmdline "alcove", the application ramdisk);
 *  - the signer, when the NSM is about to sign one: the CA issues a leaf for this enclave. A leaf
 *    near its end is replaced the same way.
 */
#include "devices/nsm_dev.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/ca.h"
#include "attest/nsm.h"
#include "common/log.h"
#include "devices/virtio_mmio.h"
#include "image/measure.h"
#include "monitor/kernel_image.h"
#include "monitor/monitor.h"
#include "monitor/vm.h"

#define NSM_QUEUE_SIZE    2
#define LEAF_RENEW_BEFORE (10 * 60) /* seconds before the leaf's end */

struct nsm_dev {
    struct vm *vm;
    struct virtio_dev *dev;
    const struct enclave_config *cfg;
    pthread_mutex_t lock;
    bool ready; /* nsm is initialised */
    struct nsm nsm;
    struct attest_signer signer;
    bool have_signer, warned;
    struct attest_ca *ca; /* read at set-up; NULL: why_no_ca says why */
    char why_no_ca[256];
    uint8_t req[NSM_REQUEST_MAX_SIZE];
    uint8_t resp[NSM_RESPONSE_MAX_SIZE];
};

/* PCR0, 1, 2 of an image made at launch (a binary, a directory, a bundle), as the same image
 * built into an EIF would have. */
static int measure_booted(const struct enclave_config *cfg, struct eif_pcrs *out)
{
    size_t ksize = cfg->kernel_size;
    const uint8_t *kernel = cfg->kernel ? cfg->kernel : kernel_image_builtin(&ksize);
    struct eif_blob app = {.data = cfg->rootfs, .size = cfg->rootfs_size};
    if (cfg->rootfs_iov)
        app = (struct eif_blob){
            .size = cfg->rootfs_size, .iov = cfg->rootfs_iov, .iovcnt = cfg->rootfs_iovcnt};
    struct eif_blob ramdisks[2] = {{.data = NULL, .size = 0}, app};
    struct eif_contents c = {
        .kernel = {.data = kernel, .size = ksize},
        .cmdline = {.data = (const uint8_t *)"alcove", .size = 6},
        .ramdisks = ramdisks,
        .nramdisks = 2,
    };
    return eif_measure_contents(&c, out);
}

/* PCR0, 1, 2 (and 8) of what was booted, with the launch's own command line, environment and
 * the options that change what the enclave kernel does or tells the host (image/measure.h).
 * All zeros when the image cannot be measured. */
void nsm_measure_boot(const struct enclave_config *cfg, struct eif_pcrs *out)
{
    if (cfg->pcrs)
        *out = *cfg->pcrs;
    else if (measure_booted(cfg, out)) {
        memset(out, 0, sizeof(*out));
        return;
    }
    static const char *const level_opt[] = {NULL, NULL, "log-level=info", "log-level=debug",
                                            "log-level=trace"};
    const char *opts[3];
    char fault[80];
    int nopts = 0;
    if (cfg->log_level > ALC_LOG_WARN && cfg->log_level <= ALC_LOG_TRACE)
        opts[nopts++] = level_opt[cfg->log_level];
    if (cfg->no_syscall_patch)
        opts[nopts++] = "no-syscall-patch";
    const char *f = getenv("ALCOVE_FAULT"); /* fault injection for the tests (monitor.c) */
    if (f && *f) {
        snprintf(fault, sizeof(fault), "fault=%s", f);
        opts[nopts++] = fault;
    }
    /* values of the names an image declares untrusted are its host's input (docs/workflow.md) */
    int envc = cfg->env_declared ? 0 : cfg->envc;
    if (pcr_measure_launch(out, cfg->argv, cfg->argc, cfg->envp, envc, opts, nopts))
        memset(out, 0, sizeof(*out));
}

/* Gives the NSM a valid leaf, issuing one when there is none or it ends soon (the NSM calls
 * this before it signs a document). */
static void ensure_signer(void *ctx)
{
    struct nsm_dev *nd = ctx;
    time_t now = time(NULL);
    if (nd->have_signer && now + LEAF_RENEW_BEFORE < nd->signer.not_after)
        return;
    char why[256];
    snprintf(why, sizeof(why), "%s", nd->why_no_ca);
    struct attest_signer fresh = {0};
    if (nd->ca && ca_issue_signer(nd->ca, nd->vm->enclave_id, now, &fresh, why, sizeof(why)) == 0) {
        nsm_set_signer(&nd->nsm, NULL);
        if (nd->have_signer)
            attest_signer_free(&nd->signer);
        nd->signer = fresh;
        nd->have_signer = true;
        nsm_set_signer(&nd->nsm, &nd->signer);
    } else if (!nd->warned) {
        alc_log(ALC_LOG_WARN,
                "attestation documents are unavailable (Attestation answers InternalError): the "
                "host's attestation CA: %s (see 'alcove ca init')",
                why);
        nd->warned = true;
    }
}

static void ensure_ready(struct nsm_dev *nd)
{
    if (nd->ready)
        return;
    struct eif_pcrs p;
    nsm_measure_boot(nd->cfg, &p);
    if (nsm_init(&nd->nsm, p.pcr0, p.pcr1, p.pcr2, p.has_pcr8 ? p.pcr8 : NULL, nd->cfg->debug_mode,
                 nd->vm->enclave_id, NULL) == 0) {
        nd->nsm.refresh_signer = ensure_signer;
        nd->nsm.refresh_ctx = nd;
        nd->ready = true;
    }
}

static void nsm_notify(struct virtio_dev *d, unsigned qi)
{
    struct nsm_dev *nd = d->priv;
    struct vq *q = &d->vq[qi];
    pthread_mutex_lock(&nd->lock);
    bool used = false;
    for (;;) {
        struct vq_chain ch;
        char why[160];
        int r = vq_pop(q, &ch, why, sizeof(why));
        if (r == 0)
            break;
        if (r < 0) {
            vm_end(nd->vm, VM_END_VIOLATION, 137, "virtio-nsm queue: %s", why);
            break;
        }
        if (ch.nout == 0 || ch.out_len == 0 || ch.nin == 0 || ch.in_len != NSM_RESPONSE_MAX_SIZE) {
            vm_end(nd->vm, VM_END_VIOLATION, 137,
                   "virtio-nsm: a request of %" PRIu64 " bytes with a response buffer of %" PRIu64
                   " (must be 1.. and 0x3000)",
                   ch.out_len, ch.in_len);
            break;
        }
        size_t req_len = ch.out_len;
        if (req_len <= sizeof(nd->req))
            vq_chain_read(&ch, 0, nd->req, req_len); /* one copy: the guest may change its own */
        ensure_ready(nd);
        size_t n = nsm_handle(&nd->nsm, nd->req, req_len, nd->resp, sizeof(nd->resp));
        /* the response into the writable segments */
        size_t done = 0;
        for (unsigned s = 0; s < ch.nin && done < n; s++) {
            size_t k = ch.in[s].len < n - done ? ch.in[s].len : n - done;
            memcpy(ch.in[s].p, nd->resp + done, k);
            done += k;
        }
        vq_push(q, ch.head, (uint32_t)n);
        used = true;
    }
    pthread_mutex_unlock(&nd->lock);
    if (used)
        virtio_signal_used(d);
}

static int nsm_start(struct virtio_dev *d)
{
    if (!d->vq[0].ready) {
        vm_end(d->vm, VM_END_VIOLATION, 137, "virtio-nsm started without its queue");
        return -1;
    }
    return 0;
}

static const void *nsm_config(struct virtio_dev *d)
{
    (void)d;
    return NULL;
}

static const struct virtio_ops g_nsm_ops = {
    .name = "nsm",
    .device_id = VIRTIO_ID_NSM,
    .nqueues = 1,
    .queue_max = NSM_QUEUE_SIZE,
    .config_size = 0,
    .config = nsm_config,
    .start = nsm_start,
    .notify = nsm_notify,
};

int nsm_dev_start(struct vm *vm, const struct enclave_config *cfg)
{
    struct nsm_dev *nd = calloc(1, sizeof(*nd));
    if (!nd)
        return -ENOMEM;
    nd->vm = vm;
    nd->cfg = cfg;
    /* OpenSSL and the CA now, on the main thread (see the top of this file) */
    nsm_crypto_prepare();
    char dir[PATH_MAX];
    if (ca_resolve_dir(NULL, dir, sizeof(dir)) == 0)
        nd->ca = ca_load(dir, nd->why_no_ca, sizeof(nd->why_no_ca));
    else
        snprintf(nd->why_no_ca, sizeof(nd->why_no_ca), "no CA directory");
    pthread_mutex_init(&nd->lock, NULL);
    nd->dev = virtio_add(vm, ALC_VIRTIO_SLOT_NSM, &g_nsm_ops, nd);
    if (!nd->dev) {
        ca_free(nd->ca);
        pthread_mutex_destroy(&nd->lock);
        free(nd);
        return -EEXIST;
    }
    vm->nsm = nd;
    return 0;
}

void nsm_dev_stop(struct vm *vm)
{
    struct nsm_dev *nd = vm->nsm;
    if (!nd)
        return;
    virtio_remove(vm, ALC_VIRTIO_SLOT_NSM);
    if (nd->have_signer)
        attest_signer_free(&nd->signer);
    ca_free(nd->ca);
    pthread_mutex_destroy(&nd->lock);
    free(nd);
    vm->nsm = NULL;
}
