/* registry.h: an enclave's identity on the host (its CID, EnclaveID and name) and its entry in
 * the runtime directory (src/common/runtime.h), which is how the CLI's other commands and host
 * programs find it. */
#ifndef ALCOVE_REGISTRY_H
#define ALCOVE_REGISTRY_H

struct vm;
struct enclave_config;

/* Claims the CID (cfg->cid, or the lowest free one), makes the EnclaveID and writes the
 * description. 0, or an alcove error code (reported). */
int registry_enter(struct vm *vm, const struct enclave_config *cfg);
/* The description now (malloc'd JSON, nitro-cli's describe-enclaves fields and alcove's own). */
char *registry_json(struct vm *vm);
/* Rewrites the description (after State or resources changed). */
void registry_update(struct vm *vm);
/* The application ended by itself: State becomes EMPTY with its exit status and reason, the CID
 * is free again, and the description stays until terminate-enclave removes it. */
void registry_finish(struct vm *vm, const char *reason);
/* Removes the enclave's runtime files and frees its CID. */
void registry_leave(struct vm *vm);

#endif
