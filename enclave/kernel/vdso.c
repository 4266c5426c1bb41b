/* vdso.c: the kernel's side of the vDSO (see vdso.h): the embedded object checked and given its
 * data at boot, a copy mapped by every execve, and the range whose preemption is a stub's. */
#include "vdso.h"

#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "process.h"

extern const char alcove_vdso_image[], alcove_vdso_image_end[]; /* kernel/vdso_blob.S */
extern char alc_entry_fast[];                                   /* entry.S */

/* the ELF-64 headers as far as they are read here */
struct ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size, link_info, addralign, entsize;
};

static uint8_t *g_image; /* the object with its data filled: what every execve copies */
static uint64_t g_size;  /* its bytes */
static uint64_t g_enter_off, g_enter_len;

/* The section called name: its address in the object (linked at 0) and size; false if none. */
static bool find_section(const char *name, uint64_t *addr, uint64_t *size)
{
    const struct ehdr *e = (const struct ehdr *)g_image;
    if (e->shentsize != sizeof(struct shdr) || e->shoff > g_size ||
        (uint64_t)e->shnum * sizeof(struct shdr) > g_size - e->shoff || e->shstrndx >= e->shnum)
        return false;
    const struct shdr *sh = (const struct shdr *)(g_image + e->shoff);
    const struct shdr *names = &sh[e->shstrndx];
    for (unsigned i = 0; i < e->shnum; i++) {
        uint64_t at = names->offset + sh[i].name, len = strlen(name) + 1;
        if (names->offset > g_size || at > g_size - len || memcmp(g_image + at, name, len) != 0)
            continue;
        if (sh[i].addr > g_size || sh[i].size > g_size - sh[i].addr)
            return false;
        *addr = sh[i].addr;
        *size = sh[i].size;
        return true;
    }
    return false;
}

void vdso_init(void)
{
    g_size = (uint64_t)(alcove_vdso_image_end - alcove_vdso_image);
    g_image = kmalloc(PAGE_UP(g_size));
    if (!g_image)
        kpanic("out of kernel memory for the vDSO");
    memset(g_image, 0, PAGE_UP(g_size));
    memcpy(g_image, alcove_vdso_image, g_size);
    uint64_t data, data_len;
    if (g_size < sizeof(struct ehdr) || memcmp(g_image, "\177ELF", 4) != 0 ||
        !find_section(".alc_data", &data, &data_len) || data_len < sizeof(struct alc_vdso_data) ||
        !find_section(".alc_enter", &g_enter_off, &g_enter_len))
        kpanic("the vDSO image is malformed");
    /* the clocks' constants, as kernel/time.c uses them; the way in for the rest */
    struct alc_vdso_data d = {
        .boot_tsc = g_boot->boot_tsc,
        .tsc_mult = g_boot->tsc_mult,
        .boot_realtime_ns = g_boot->boot_realtime_ns,
        .boot_monotonic_ns = g_boot->boot_monotonic_ns,
        .fast_entry = (uint64_t)alc_entry_fast,
    };
    memcpy(g_image + data, &d, sizeof(d));
}

int vdso_map(uint64_t *base)
{
    struct mm *mm = mm_current();
    uint64_t at, len = PAGE_UP(g_size);
    mm->vdso_base = 0;
    if (mm_map_anywhere(len, PAGE_SIZE, 0, PROT_READ | PROT_EXEC, VMA_ANON | VMA_F_VDSO, &at))
        return -ENOMEM;
    if (mm_write(at, g_image, len)) {
        mm_unmap(at, at + len);
        return -ENOMEM;
    }
    mm->vdso_base = *base = at;
    return 0;
}

int vdso_restore(uint64_t start, uint64_t end)
{
    uint64_t base = mm_current()->vdso_base, len = PAGE_UP(g_size);
    if (!base || base >= end || base + len <= start)
        return 0;
    uint64_t from = MAX(start, base), to = MIN(end, base + len);
    return mm_write(from, g_image + (from - base), to - from) ? -ENOMEM : 0;
}

bool vdso_enter_contains(uint64_t rip)
{
    const struct mm *mm = current_process()->mm;
    uint64_t start = mm && mm->vdso_base ? mm->vdso_base + g_enter_off : 0;
    return start && rip >= start && rip < start + g_enter_len;
}
