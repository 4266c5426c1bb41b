/* random.c: getrandom, from the CPU's RDRAND/RDSEED (the enclave has no other entropy). */
#include "kernel.h"
#include "klib.h"
#include "syscall.h"

static bool rdrand64(uint64_t *v)
{
    for (int i = 0; i < 32; i++) {
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
        __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
    }
    return false;
}

int random_fill(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        uint64_t v;
        if (!rdrand64(&v))
            return -EIO;
        size_t n = MIN(len, sizeof(v));
        memcpy(p, &v, n);
        p += n;
        len -= n;
    }
    return 0;
}

SYSCALL_DEFINE3(getrandom, uint64_t, ubuf, uint64_t, len, uint32_t, flags)
{
    if (flags & ~(uint32_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
        return -EINVAL;
    if ((flags & GRND_RANDOM) && (flags & GRND_INSECURE))
        return -EINVAL;
    len = MIN(len, 33554431ul); /* Linux returns at most this much at once */
    if (!user_range_ok(ubuf, len, PROT_WRITE))
        return -EFAULT;
    if (random_fill((void *)ubuf, len))
        return -EIO;
    return (long)len;
}
