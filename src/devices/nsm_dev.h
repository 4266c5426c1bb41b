/* nsm_dev.h: the virtio-nsm device behind the enclave's /dev/nsm (specs/nsm-runtime.md 3.3). */
#ifndef ALCOVE_NSM_DEV_H
#define ALCOVE_NSM_DEV_H

struct vm;
struct enclave_config;

/* Puts the device in ALC_VIRTIO_SLOT_NSM. cfg must outlive the enclave (its PCRs, or what was
 * booted, are read at the first request). 0 or -errno. */
int nsm_dev_start(struct vm *vm, const struct enclave_config *cfg);
void nsm_dev_stop(struct vm *vm);

/* PCR0, 1, 2 (and 8) of what cfg boots: its EIF's, or measured from its kernel and ramdisk as
 * an EIF of them would be (alcove-oci pcrs prints them before the enclave runs). The image
 * PCRs a debug-mode enclave reports are zeros all the same. */
struct eif_pcrs;
void nsm_measure_boot(const struct enclave_config *cfg, struct eif_pcrs *out);

#endif
