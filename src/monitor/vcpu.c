/* vcpu.c: a vCPU: its CPU state, set directly with KVM ioctls (long mode, paging, the GDT,
 * TSS and IDT of boot.c, the syscall MSRs, FSGSBASE, XCR0), and the thread that runs it.
 *
 * Every vCPU starts at CPL3 at the enclave kernel's entry point. The only CPL0 code is the
 * kernel's trampoline page, reached through LSTAR and the IDT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "common/errors.h"
#include "common/log.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

#define MSR_STAR           0xc0000081u
#define MSR_LSTAR          0xc0000082u
#define MSR_CSTAR          0xc0000083u
#define MSR_SFMASK         0xc0000084u
#define MSR_FS_BASE        0xc0000100u
#define MSR_GS_BASE        0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u

#define CR0_PE         0x1ull
#define CR0_MP         0x2ull
#define CR0_ET         0x10ull
#define CR0_NE         0x20ull
#define CR0_WP         0x10000ull
#define CR0_AM         0x40000ull
#define CR0_PG         0x80000000ull
#define CR4_PAE        0x20ull
#define CR4_OSFXSR     0x200ull
#define CR4_OSXMMEXCPT 0x400ull
#define CR4_FSGSBASE   0x10000ull
#define CR4_OSXSAVE    0x40000ull
#define EFER_SCE       0x1ull
#define EFER_LME       0x100ull
#define EFER_LMA       0x400ull
#define EFER_NXE       0x800ull

/* flags masked on syscall entry: TF, IF, DF, IOPL, NT, AC */
#define SFMASK_BITS 0x47700ull
/* XCR0 components we enable when the host has them: x87, SSE, AVX, AVX-512 */
#define XCR0_WANTED 0xe7ull

static int ioctl_fail(const char *what)
{
    alc_err_report(E_IOCTL_FAILURE, "%s: %s", what, strerror(errno));
    return E_IOCTL_FAILURE;
}

int vcpu_create(struct vm *vm, unsigned index)
{
    struct vcpu *v = &vm->vcpus[index];
    v->vm = vm;
    v->index = index;
    v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
    if (v->fd < 0)
        return ioctl_fail("KVM_CREATE_VCPU");
    int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size <= 0)
        return ioctl_fail("KVM_GET_VCPU_MMAP_SIZE");
    v->run_size = (size_t)size;
    v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        v->run = NULL;
        return ioctl_fail("mmap(kvm_run)");
    }
    return 0;
}

static int setup_cpuid(struct vcpu *v)
{
    size_t n = 256;
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
    if (!c)
        return ioctl_fail("calloc");
    c->nent = (uint32_t)n;
    if (ioctl(v->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c)) {
        free(c);
        return ioctl_fail("KVM_GET_SUPPORTED_CPUID");
    }
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == 1) {
            e->ebx = (e->ebx & 0x00ffffffu) | (v->index << 24); /* initial APIC ID */
            e->ecx &= ~(1u << 5);                               /* no VMX inside */
        } else if (e->function == 0xb || e->function == 0x1f) {
            e->edx = v->index; /* x2APIC ID */
        } else if (e->function == 0x80000001) {
            e->ecx &= ~(1u << 2); /* no SVM inside */
        }
    }
    int r = ioctl(v->fd, KVM_SET_CPUID2, c);
    free(c);
    return r ? ioctl_fail("KVM_SET_CPUID2") : 0;
}

static uint64_t supported_xcr0(struct vm *vm)
{
    struct {
        struct kvm_cpuid2 c;
        struct kvm_cpuid_entry2 e[256];
    } q = {.c.nent = 256};
    if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &q))
        return 3;
    for (uint32_t i = 0; i < q.c.nent; i++)
        if (q.e[i].function == 0xd && q.e[i].index == 0)
            return ((uint64_t)q.e[i].edx << 32 | q.e[i].eax) & XCR0_WANTED;
    return 3;
}

static int setup_sregs(struct vcpu *v)
{
    struct kvm_sregs s;
    if (ioctl(v->fd, KVM_GET_SREGS, &s))
        return ioctl_fail("KVM_GET_SREGS");
    struct kvm_segment code = {.base = 0,
                               .limit = 0xffffffff,
                               .selector = ALC_SEL_UCODE,
                               .type = 11,
                               .present = 1,
                               .dpl = 3,
                               .s = 1,
                               .l = 1,
                               .g = 1};
    struct kvm_segment data = {.base = 0,
                               .limit = 0xffffffff,
                               .selector = ALC_SEL_UDATA,
                               .type = 3,
                               .present = 1,
                               .dpl = 3,
                               .s = 1,
                               .db = 1,
                               .g = 1};
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.tr = (struct kvm_segment){
        .base = ALC_CPU_VBASE + ALC_CPU_PAGE_GDT * ALC_PAGE_SIZE + ALC_CPU_TSS_OFFSET,
        .limit = 0x67,
        .selector = ALC_SEL_TSS,
        .type = 11, /* busy 64-bit TSS */
        .present = 1,
    };
    s.ldt = (struct kvm_segment){.unusable = 1};
    s.gdt.base = ALC_CPU_VBASE + ALC_CPU_PAGE_GDT * ALC_PAGE_SIZE;
    s.gdt.limit = ALC_GDT_ENTRIES * 8 - 1;
    s.idt.base = ALC_PHYSMAP_VBASE + v->vm->layout.idt_gpa;
    s.idt.limit = ALC_IDT_VECTORS * 16 - 1;
    s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    s.cr3 = v->vm->cr3[v->index];
    s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE | CR4_OSXSAVE;
    s.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    if (ioctl(v->fd, KVM_SET_SREGS, &s))
        return ioctl_fail("KVM_SET_SREGS");
    return 0;
}

static int setup_msrs(struct vcpu *v)
{
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e[7];
    } m = {.h.nmsrs = 7,
           .e = {
               {.index = MSR_STAR,
                .data = ((uint64_t)(ALC_SEL_UCODE32 & ~3) << 48) | ((uint64_t)ALC_SEL_KCODE << 32)},
               {.index = MSR_LSTAR, .data = v->vm->kernel.hdr.tramp_syscall},
               {.index = MSR_CSTAR, .data = 0},
               {.index = MSR_SFMASK, .data = SFMASK_BITS},
               {.index = MSR_FS_BASE, .data = 0},
               {.index = MSR_GS_BASE, .data = 0},
               {.index = MSR_KERNEL_GS_BASE, .data = 0},
           }};
    if (ioctl(v->fd, KVM_SET_MSRS, &m) != 7)
        return ioctl_fail("KVM_SET_MSRS");
    return 0;
}

int vcpu_setup(struct vcpu *v)
{
    int err = setup_cpuid(v);
    if (!err)
        err = setup_sregs(v);
    if (!err)
        err = setup_msrs(v);
    if (err)
        return err;
    struct kvm_xcrs x = {.nr_xcrs = 1, .xcrs = {{.xcr = 0, .value = supported_xcr0(v->vm)}}};
    if (ioctl(v->fd, KVM_SET_XCRS, &x))
        return ioctl_fail("KVM_SET_XCRS");
    struct kvm_regs r;
    memset(&r, 0, sizeof(r));
    const struct alc_kernel_header *h = &v->vm->kernel.hdr;
    r.rip = v->index == 0 ? h->entry_boot : h->entry_ap;
    r.rsp = ALC_CPU_KSTACK_TOP;
    r.rdi = v->vm->layout.boot_gpa;
    r.rsi = v->index;
    r.rflags = 0x2;
    if (ioctl(v->fd, KVM_SET_REGS, &r))
        return ioctl_fail("KVM_SET_REGS");
    return 0;
}

void vcpu_kick(struct vcpu *v)
{
    if (v->run)
        v->run->immediate_exit = 1;
    if (v->thread_started)
        pthread_kill(v->thread, SIGUSR1);
}

static void report_stop(struct vcpu *v, const char *what)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    memset(&r, 0, sizeof(r));
    memset(&s, 0, sizeof(s));
    ioctl(v->fd, KVM_GET_REGS, &r);
    ioctl(v->fd, KVM_GET_SREGS, &s);
    vm_end(v->vm, VM_END_KERNEL, 137, "%s on vCPU %u at rip %#llx (cs %#x), rsp %#llx, cr2 %#llx",
           what, v->index, r.rip, s.cs.selector, r.rsp, s.cr2);
}

void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct vm *vm = v->vm;
    sandbox_thread_class(SANDBOX_VCPU); /* before its first KVM_RUN */
    while (!atomic_load(&vm->stopping)) {
        if (ioctl(v->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                v->run->immediate_exit = 0;
                if (!atomic_load(&vm->stopping))
                    sched_preempt(v);
                continue;
            }
            vm_end(vm, VM_END_HOST, 125, "KVM_RUN on vCPU %u: %s", v->index, strerror(errno));
            break;
        }
        switch (v->run->exit_reason) {
        case KVM_EXIT_MMIO:
            if (exits_handle_mmio(v))
                return NULL;
            break;
        case KVM_EXIT_SHUTDOWN:
            report_stop(v, "triple fault");
            return NULL;
        case KVM_EXIT_IO:
            vm_end(vm, VM_END_VIOLATION, 137,
                   "port I/O (port %#x) on vCPU %u: the enclave uses no I/O ports", v->run->io.port,
                   v->index);
            return NULL;
        case KVM_EXIT_HLT:
            report_stop(v, "hlt outside the idle path");
            return NULL;
        case KVM_EXIT_FAIL_ENTRY:
            vm_end(vm, VM_END_HOST, 125, "KVM entry failed on vCPU %u (reason %#llx)", v->index,
                   (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
            return NULL;
        case KVM_EXIT_INTERNAL_ERROR:
            report_stop(v, "KVM internal error");
            return NULL;
        default: {
            char what[64];
            snprintf(what, sizeof(what), "unexpected KVM exit %u", v->run->exit_reason);
            report_stop(v, what);
            return NULL;
        }
        }
    }
    return NULL;
}
