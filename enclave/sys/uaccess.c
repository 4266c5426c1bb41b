/* uaccess.c: checked access to the application's memory (see syscall.h). */
#include "klib.h"
#include "mm.h"
#include "syscall.h"

bool user_range_ok(uint64_t addr, size_t len, uint32_t need)
{
    /* allowed, and its pages have their frames: the kernel's own accesses never fault */
    return vms_accessible(mm_space(), addr, len, need) &&
           (len == 0 || mm_populate(addr, addr + len) == 0);
}

int copy_from_user(void *dst, uint64_t src, size_t len)
{
    if (!user_range_ok(src, len, PROT_READ))
        return -EFAULT;
    memcpy(dst, (const void *)src, len);
    return 0;
}

int copy_to_user(uint64_t dst, const void *src, size_t len)
{
    if (!user_range_ok(dst, len, PROT_WRITE))
        return -EFAULT;
    memcpy((void *)dst, src, len);
    return 0;
}

long strncpy_from_user(char *dst, uint64_t src, size_t max)
{
    for (size_t i = 0; i < max; i++) {
        /* check page by page: strings may end right before an unmapped page */
        if (i == 0 || ((src + i) & (PAGE_SIZE - 1)) == 0) {
            if (!user_range_ok(src + i, 1, PROT_READ))
                return -EFAULT;
        }
        dst[i] = *(const char *)(src + i);
        if (!dst[i])
            return (long)i;
    }
    return -ENAMETOOLONG;
}
