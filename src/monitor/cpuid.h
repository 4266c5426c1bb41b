/* cpuid.h: the CPUID answers the enclave gets (cpuid.c). */
#ifndef ALCOVE_MONITOR_CPUID_H
#define ALCOVE_MONITOR_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

/* The XCR0 components the host supports (leaf 0xD.0 of KVM_GET_SUPPORTED_CPUID), or x87|SSE. */
uint64_t cpuid_host_xcr0(const struct kvm_cpuid2 *c);
/* Makes KVM_GET_SUPPORTED_CPUID's answers those of vCPU vcpu_index of an enclave whose XCR0 is
 * xcr0: feature bits only with their state enabled, leaf 0xD only for enabled components, no
 * VMX/SVM, the vCPU's APIC IDs. */
void cpuid_filter(struct kvm_cpuid2 *c, uint64_t xcr0, unsigned vcpu_index);

#endif
