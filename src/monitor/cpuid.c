/* cpuid.c: what CPUID tells the enclave. KVM_GET_SUPPORTED_CPUID answers for the host; the
 * enclave runs with fewer processor state components (XCR0 is set by the monitor: x87, SSE, AVX
 * and AVX-512 where the host has them, never PKRU, AMX tiles or others), so a feature whose
 * state is not enabled would raise #UD (SIGILL) in a program that trusts CPUID's feature bits.
 * cpuid_filter makes the answers agree with the enclave: feature bits only with their state
 * enabled, leaf 0xD (XSAVE) naming and sizing only the enabled components, no VMX or SVM. */
#include "monitor/cpuid.h"

#define XS_YMM  (1ull << 2)  /* AVX */
#define XS_ZMM  (7ull << 5)  /* AVX-512: opmask, ZMM_Hi256, Hi16_ZMM */
#define XS_PKRU (1ull << 9)  /* protection keys */
#define XS_TILE (3ull << 17) /* AMX: TILECFG, TILEDATA */

#define BIT(n) (1u << (n))
/* leaf 1 ecx */
#define L1_ECX_VMX BIT(5)
#define L1_ECX_AVX (BIT(12) | BIT(28) | BIT(29)) /* FMA, AVX, F16C */
/* leaf 7.0 */
#define L7_EBX_AVX2 BIT(5)
#define L7_EBX_AVX512                                                                              \
    (BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31))
#define L7_ECX_AVX512 (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
#define L7_ECX_PKU    (BIT(3) | BIT(4)) /* PKU, OSPKE */
#define L7_EDX_AVX512 (BIT(2) | BIT(3) | BIT(8) | BIT(23))
#define L7_EDX_AMX    (BIT(22) | BIT(24) | BIT(25))
/* leaf 7.1 eax */
#define L71_EAX_AVX_VNNI   BIT(4)
#define L71_EAX_AVX512BF16 BIT(5)
/* leaf 0x80000001 ecx */
#define LX1_ECX_SVM BIT(2)

static bool has(uint64_t xcr0, uint64_t state)
{
    return (xcr0 & state) == state;
}

uint64_t cpuid_host_xcr0(const struct kvm_cpuid2 *c)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == 0xd && c->entries[i].index == 0)
            return (uint64_t)c->entries[i].edx << 32 | c->entries[i].eax;
    return 3; /* x87 and SSE */
}

void cpuid_filter(struct kvm_cpuid2 *c, uint64_t xcr0, unsigned vcpu_index)
{
    uint32_t xsave_end = 512 + 64; /* the legacy area and the XSAVE header */
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == 0xd && e->index >= 2 && e->index < 63 && !(e->ecx & 1)) {
            if (!(xcr0 & (1ull << e->index)))
                e->eax = e->ebx = e->ecx = e->edx = 0; /* a user component not enabled */
            else if (e->ebx + e->eax > xsave_end)
                xsave_end = e->ebx + e->eax;
        }
    }
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:
            e->ebx = (e->ebx & 0x00ffffffu) | (vcpu_index << 24); /* initial APIC ID */
            e->ecx &= ~L1_ECX_VMX;                                /* no VMX inside */
            if (!has(xcr0, XS_YMM))
                e->ecx &= ~L1_ECX_AVX;
            break;
        case 7:
            if (e->index == 0) {
                if (!has(xcr0, XS_YMM))
                    e->ebx &= ~L7_EBX_AVX2;
                if (!has(xcr0, XS_YMM | XS_ZMM)) {
                    e->ebx &= ~L7_EBX_AVX512;
                    e->ecx &= ~L7_ECX_AVX512;
                    e->edx &= ~L7_EDX_AVX512;
                }
                if (!has(xcr0, XS_PKRU))
                    e->ecx &= ~L7_ECX_PKU;
                if (!has(xcr0, XS_TILE))
                    e->edx &= ~L7_EDX_AMX;
            } else if (e->index == 1) {
                if (!has(xcr0, XS_YMM))
                    e->eax &= ~L71_EAX_AVX_VNNI;
                if (!has(xcr0, XS_YMM | XS_ZMM))
                    e->eax &= ~L71_EAX_AVX512BF16;
            }
            break;
        case 0xb:
        case 0x1f:
            e->edx = vcpu_index; /* x2APIC ID */
            break;
        case 0xd:
            if (e->index == 0) {
                /* the components XCR0 may hold, and the most an XSAVE of them takes (ebx, the
                 * size for what XCR0 holds now, KVM keeps up to date itself) */
                e->eax &= (uint32_t)xcr0;
                e->edx &= (uint32_t)(xcr0 >> 32);
                e->ecx = xsave_end;
            }
            break;
        case 0x80000001:
            e->ecx &= ~LX1_ECX_SVM; /* no SVM inside */
            break;
        default:
            break;
        }
    }
}
