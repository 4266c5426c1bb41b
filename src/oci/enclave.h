/* enclave.h: what a container's enclave is, from its bundle and the image built from its
 * root.path: the monitor's configuration, and the PCRs the enclave will report (`alcove-oci
 * pcrs`, so an operator can pin them before the container runs). */
#ifndef ALCOVE_OCI_ENCLAVE_H
#define ALCOVE_OCI_ENCLAVE_H

struct enclave_config;
struct oci_bundle;
struct boot_image;

/* Without linux.resources.memory.limit, an enclave has this (MiB) beyond its image's size. */
#define OCI_BASE_MEMORY_MIB 64

/* Builds the enclave's image from the bundle's root.path (with alcove.exec: and the exec
 * service and its rules, b->exec_rules as the bundle's load built them, under /.alcove). 0, or
 * an error code (reported). */
int oci_enclave_image(struct boot_image *bi, const struct oci_bundle *b);

/* Fills cfg for the container id: b and bi must outlive it. stdio is 0, 1, 2. */
void oci_enclave_config(struct enclave_config *cfg, const char *id, const struct oci_bundle *b,
                        const struct boot_image *bi);

int oci_cmd_pcrs(int argc, char **argv);

#endif
