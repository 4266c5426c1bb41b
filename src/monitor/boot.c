/* boot.c: the enclave's initial memory image: page tables, descriptor tables, the CPU windows
 * and the boot information. The vCPUs start directly at CPL3 in long mode on these tables
 * (vcpu.c); no code runs in the guest before the kernel's entry point.
 *
 * Virtual layout (alcove_abi.h): the upper half only, since the enclave kernel maps the
 * application half itself: all RAM at ALC_PHYSMAP_VBASE, no-execute; the kernel image at
 * ALC_KERNEL_VBASE with its segments' permissions; the hypercall page; and each vCPU's window at
 * ALC_CPU_VBASE, different per vCPU through its own PML4. Leaf entries are created
 * with the accessed and dirty bits already set so the CPU never has to write them.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/errors.h"
#include "common/log.h"
#include "monitor/monitor.h"
#include "monitor/vm.h"
#include "x86/pte.h"

#define PAGE 4096ull
#define HUGE (2ull << 20)

struct pt_pool {
    struct vm *vm;
    uint64_t next, end;
};

static uint64_t *table_at(struct vm *vm, uint64_t gpa)
{
    return GPA_PTR(&vm->mem, gpa, PAGE);
}

static int pt_alloc(struct pt_pool *p, uint64_t *gpa)
{
    if (p->next >= p->end)
        return -1;
    *gpa = p->next;
    p->next += PAGE;
    memset(table_at(p->vm, *gpa), 0, PAGE);
    return 0;
}

/* Maps one page (4 KiB, or 2 MiB with huge) at va to gpa in the tree rooted at pml4. */
static int pt_map(struct pt_pool *p, uint64_t pml4, uint64_t va, uint64_t gpa, uint64_t flags,
                  int huge)
{
    uint64_t table = pml4;
    int levels = huge ? 2 : 3; /* tables to walk through before the leaf's table */
    for (int shift = 39; levels-- > 0; shift -= 9) {
        uint64_t *t = table_at(p->vm, table);
        uint64_t *e = &t[(va >> shift) & 511];
        if (!(*e & PTE_P)) {
            uint64_t next;
            if (pt_alloc(p, &next))
                return -1;
            *e = next | PTE_P | PTE_W | PTE_U | PTE_A;
        }
        table = *e & PTE_ADDR;
    }
    uint64_t *leaf = &table_at(p->vm, table)[(va >> (huge ? 21 : 12)) & 511];
    *leaf = gpa | flags | PTE_P | PTE_A | (huge ? PTE_PS : 0);
    return 0;
}

static int map_physmap(struct pt_pool *p, uint64_t pml4, uint64_t mem_size)
{
    for (uint64_t gpa = 0; gpa < mem_size; gpa += HUGE)
        if (pt_map(p, pml4, ALC_PHYSMAP_VBASE + gpa, gpa, PTE_W | PTE_U | PTE_D | PTE_NX, 1))
            return -1;
    return 0;
}

/* Copies the kernel's segments into place and maps them with their own permissions. */
static int load_kernel(struct vm *vm, struct pt_pool *p, uint64_t pml4)
{
    const struct kernel_image *k = &vm->kernel;
    uint8_t *dst = GPA_PTR(&vm->mem, vm->layout.kernel_gpa, k->span);
    if (!dst)
        return -1;
    for (uint32_t i = 0; i < k->elf.nload; i++) {
        const struct elfp_segment *s = &k->elf.load[i];
        uint64_t off = s->vaddr - ALC_KERNEL_VBASE;
        memcpy(dst + off, k->file + s->offset, s->filesz);
        memset(dst + off + s->filesz, 0, s->memsz - s->filesz);
        uint64_t flags =
            PTE_U | ((s->flags & ELFP_W) ? PTE_W | PTE_D : 0) | ((s->flags & ELFP_X) ? 0 : PTE_NX);
        for (uint64_t pg = off & ~(PAGE - 1); pg < off + s->memsz; pg += PAGE)
            if (pt_map(p, pml4, ALC_KERNEL_VBASE + pg, vm->layout.kernel_gpa + pg, flags, 0))
                return -1;
    }
    /* the hypercall page, then one register window per virtio slot */
    for (uint64_t i = 0; i <= ALC_VIRTIO_SLOTS; i++)
        if (pt_map(p, pml4, ALC_MMIO_VBASE + i * PAGE, ALC_MMIO_GPA + i * PAGE,
                   PTE_W | PTE_U | PTE_D | PTE_PCD | PTE_PWT | PTE_NX, 0))
            return -1;
    return 0;
}

static int map_cpu_window(struct pt_pool *p, uint64_t pml4, uint64_t cpu_gpa)
{
    for (uint64_t i = 0; i < ALC_CPU_PAGES; i++)
        if (pt_map(p, pml4, ALC_CPU_VBASE + i * PAGE, cpu_gpa + i * PAGE,
                   PTE_W | PTE_U | PTE_D | PTE_NX, 0))
            return -1;
    return 0;
}

/* A second vCPU shares everything with the first except PML4[511]'s window subtree. */
static int clone_root(struct pt_pool *p, uint64_t pml4_0, uint64_t *pml4_out)
{
    uint64_t pml4, pdpt;
    if (pt_alloc(p, &pml4) || pt_alloc(p, &pdpt))
        return -1;
    uint64_t *src = table_at(p->vm, pml4_0), *dst = table_at(p->vm, pml4);
    memcpy(dst, src, PAGE);
    uint64_t *src_pdpt = table_at(p->vm, src[511] & PTE_ADDR);
    uint64_t *dst_pdpt = table_at(p->vm, pdpt);
    memcpy(dst_pdpt, src_pdpt, PAGE);
    dst_pdpt[511] = 0; /* the window's PD is private */
    dst[511] = pdpt | (src[511] & ~PTE_ADDR);
    *pml4_out = pml4;
    return 0;
}

static void set_gate(uint8_t *idt, unsigned vec, uint64_t handler, unsigned dpl)
{
    uint8_t *e = idt + vec * 16;
    memset(e, 0, 16);
    e[0] = (uint8_t)handler;
    e[1] = (uint8_t)(handler >> 8);
    e[2] = ALC_SEL_KCODE;
    e[4] = 1;                            /* IST1: always a known stack */
    e[5] = (uint8_t)(0x8e | (dpl << 5)); /* present, 64-bit interrupt gate */
    e[6] = (uint8_t)(handler >> 16);
    e[7] = (uint8_t)(handler >> 24);
    uint32_t hi = (uint32_t)(handler >> 32);
    memcpy(e + 8, &hi, 4);
}

static void fill_idt(struct vm *vm, uint8_t *idt)
{
    for (unsigned v = 0; v < ALC_EXC_VECTORS; v++) {
        /* int3 and into may be used by the application (Linux allows both from user mode) */
        unsigned dpl = (v == 3 || v == 4) ? 3 : 0;
        set_gate(idt, v, vm->kernel.hdr.tramp_exceptions + (uint64_t)v * ALC_EXC_STUB_SIZE, dpl);
    }
}

static void fill_cpu_window(struct vm *vm, unsigned cpu, uint8_t *win)
{
    struct alc_cpu_area *area = (struct alc_cpu_area *)win;
    area->cpu_index = cpu;
    area->boot_info_gpa = vm->layout.boot_gpa;
    area->kstack_top = ALC_CPU_KSTACK_TOP;
    area->boot_cr3 = vm->cr3[cpu];
    vm->vcpus[cpu].area = area; /* sched.c reads the scheduling words, writes preempt_* */
    uint64_t sys[5] = {vm->kernel.hdr.entry_syscall, ALC_SEL_UCODE, 0x2, ALC_CPU_KSTACK_TOP,
                       ALC_SEL_UDATA};
    uint64_t exc[5] = {vm->kernel.hdr.entry_exception, ALC_SEL_UCODE, 0x2, ALC_CPU_EXC_STACK_TOP,
                       ALC_SEL_UDATA};
    memcpy(area->syscall_frame, sys, sizeof(sys));
    memcpy(area->exc_frame, exc, sizeof(exc));

    uint64_t *gdt = (uint64_t *)(win + ALC_CPU_PAGE_GDT * PAGE);
    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffull; /* kernel code, 64-bit, DPL0 */
    gdt[2] = 0x00cf93000000ffffull; /* kernel data */
    gdt[3] = 0x00cffb000000ffffull; /* user code, 32-bit (unused) */
    gdt[4] = 0x00cff3000000ffffull; /* user data, DPL3 */
    gdt[5] = 0x00affb000000ffffull; /* user code, 64-bit, DPL3 */
    uint64_t tss = ALC_CPU_VBASE + ALC_CPU_PAGE_GDT * PAGE + ALC_CPU_TSS_OFFSET;
    gdt[6] = 0x67 | ((tss & 0xffffff) << 16) | (0x89ull << 40) | (((tss >> 24) & 0xff) << 56);
    gdt[7] = tss >> 32;

    uint8_t *t = win + ALC_CPU_PAGE_GDT * PAGE + ALC_CPU_TSS_OFFSET;
    uint64_t ist = ALC_CPU_IST_TOP;
    memcpy(t + 4, &ist, 8);    /* rsp0 */
    memcpy(t + 0x24, &ist, 8); /* ist1 */
    uint16_t iomap = 0x68;     /* no I/O permission bitmap */
    memcpy(t + 0x66, &iomap, 2);
}

int boot_prepare(struct vm *vm, const struct alc_boot_info *info, const char *strings,
                 const char *exec_path, const struct enclave_config *cfg)
{
    uint64_t rootfs_size = cfg->rootfs_size;
    const struct layout *l = &vm->layout;
    struct pt_pool pool = {vm, l->pt_gpa, l->pt_gpa + l->pt_pages * PAGE};
    uint64_t pml4;

    if (pt_alloc(&pool, &pml4) || map_physmap(&pool, pml4, l->mem_size) ||
        load_kernel(vm, &pool, pml4) || map_cpu_window(&pool, pml4, l->cpu_gpa[0]))
        goto no_room;
    vm->cr3[0] = pml4;
    for (unsigned i = 1; i < vm->ncpu; i++) {
        if (clone_root(&pool, vm->cr3[0], &vm->cr3[i]) ||
            map_cpu_window(&pool, vm->cr3[i], l->cpu_gpa[i]))
            goto no_room;
    }

    uint8_t *idt = GPA_PTR(&vm->mem, l->idt_gpa, PAGE);
    fill_idt(vm, idt);
    for (unsigned i = 0; i < vm->ncpu; i++)
        fill_cpu_window(vm, i, GPA_PTR(&vm->mem, l->cpu_gpa[i], ALC_CPU_PAGES * PAGE));

    memcpy(GPA_PTR(&vm->mem, l->strings_gpa, info->strings_size), strings, info->strings_size);
    memcpy(GPA_PTR(&vm->mem, l->exec_path_gpa, strlen(exec_path) + 1), exec_path,
           strlen(exec_path) + 1);
    uint8_t *rootfs = GPA_PTR(&vm->mem, l->rootfs_gpa, rootfs_size);
    if (cfg->rootfs_iov) {
        uint64_t at = 0;
        for (int i = 0; i < cfg->rootfs_iovcnt; i++) {
            size_t n = cfg->rootfs_iov[i].iov_len;
            if (n > rootfs_size - at) {
                alc_err_report(E_MONITOR_FAILURE, "the application ramdisk's pieces overflow it");
                return E_MONITOR_FAILURE;
            }
            memcpy(rootfs + at, cfg->rootfs_iov[i].iov_base, n);
            at += n;
        }
    } else {
        memcpy(rootfs, cfg->rootfs, rootfs_size);
    }

    struct alc_boot_info *b = GPA_PTR(&vm->mem, l->boot_gpa, sizeof(*b));
    *b = *info;
    b->magic = ALC_BOOT_MAGIC;
    b->abi_version = ALC_ABI_VERSION;
    b->cpu_count = vm->ncpu;
    b->mem_size = l->mem_size;
    b->app_start = ALC_APP_LOW_UNMAPPED;
    b->app_end = l->app_end;
    b->kheap_gpa = l->kheap_gpa;
    b->kheap_size = l->kheap_size;
    b->strings_gpa = l->strings_gpa;
    b->exec_path_gpa = l->exec_path_gpa;
    b->rootfs_gpa = l->rootfs_gpa;
    b->rootfs_size = rootfs_size;
    b->out_ring_gpa = l->out_ring_gpa;
    b->out_ring_size = LAYOUT_OUT_RING_DATA;
    b->in_ring_gpa = l->in_ring_gpa;
    b->in_ring_size = LAYOUT_IN_RING_DATA;
    b->shared_gpa = l->shared_gpa;
    b->kernel_gpa = l->kernel_gpa;
    b->populated_gpa = l->populated_gpa;
    b->kernel_size = vm->kernel.span;
    vm->boot = b;
    vm->shared = GPA_PTR(&vm->mem, l->shared_gpa, sizeof(struct alc_shared));
    alc_log(ALC_LOG_DEBUG, "page tables: %" PRIu64 " of %" PRIu64 " pages",
            (uint64_t)((pool.next - l->pt_gpa) / PAGE), l->pt_pages);
    return 0;

no_room:
    alc_err_report(E_MONITOR_FAILURE, "the page-table pool is too small (a monitor bug)");
    return E_MONITOR_FAILURE;
}
