/* nsm_dev.h: the virtio-nsm device behind the enclave's /dev/nsm (specs/nsm-runtime.md 3.3). */
#ifndef ALCOVE_NSM_DEV_H
#define ALCOVE_NSM_DEV_H

struct vm;
struct enclave_config;

/* Puts the device in ALC_VIRTIO_SLOT_NSM. cfg must outlive the enclave (its PCRs, or what was
 * booted, are read at the first request). 0 or -errno. */
int nsm_dev_start(struct vm *vm, const struct enclave_config *cfg);
void nsm_dev_stop(struct vm *vm);

#endif
