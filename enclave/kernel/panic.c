/* panic.c: the enclave kernel's log lines and its last words. */
#include "console.h"
#include "kernel.h"
#include "klib.h"

void klog(int level, const char *fmt, ...)
{
    if (!g_boot || level > (int)g_boot->log_level)
        return;
    char line[512];
    line[0] = (char)level;
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(line + 1, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    console_write(ALC_STREAM_LOG, line, (size_t)n + 1);
}

void kpanic(const char *fmt, ...)
{
    static int g_panicking;
    if (g_panicking++ || !g_boot) {
        /* a panic while panicking, or before the boot information is known */
        hypercall(ALC_HC_EXIT, 0x100 | 137);
        for (;;)
            __asm__ volatile("ud2");
    }
    struct alc_fatal f = {.kind = ALC_FATAL_KERNEL, .signo = SIGKILL, .vector = 0xffffffffu};
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(f.message, sizeof(f.message), fmt, ap);
    va_end(ap);
    hc_fatal(&f);
}
