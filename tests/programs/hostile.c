/* hostile.c (must fail): plays a hostile guest against the monitor, through the hypercall page
 * the enclave's code can reach. Natively it just segfaults. In an enclave the monitor must stop
 * the enclave with a protocol-violation message and survive. argv[1] picks the attack. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define MMIO 0xffffffffbfe00000ul

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "fatal-gpa";
    volatile uint64_t *hc = (volatile uint64_t *)MMIO;
    if (strcmp(what, "fatal-gpa") == 0)
        hc[1] = 0x7ffffffff000ul; /* ALC_HC_FATAL with an argument outside guest memory */
    else if (strcmp(what, "wait-gpa") == 0)
        hc[2] = ~0ul - 8; /* ALC_HC_WAIT whose range wraps around */
    else if (strcmp(what, "unknown") == 0)
        hc[100] = 1; /* no such hypercall */
    else if (strcmp(what, "read") == 0)
        printf("%lu\n", (unsigned long)hc[0]); /* reading the hypercall page */
    else if (strcmp(what, "short") == 0)
        *(volatile uint8_t *)(MMIO + 0) = 1; /* a 1-byte store */
    else if (strcmp(what, "populate") == 0) {
        /* The request must sit at a guest-physical address the program knows, and its memory
         * is not mapped 1:1: it writes the request at the start of every page of 40 MiB, whose
         * frames come from the bottom of the application region (docs/memory.md), so the page
         * at guest-physical 16 MiB holds one. */
        size_t len = 40u << 20;
        char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
            return 2;
        for (size_t off = 0; off < len; off += 4096) {
            volatile uint64_t *req = (volatile uint64_t *)(buf + off);
            req[0] = 1ull << 50; /* ALC_HC_POPULATE far outside guest RAM */
            req[1] = 2ull << 20;
            req[2] = 0;
        }
        hc[5] = 16ull << 20;
    }
    puts("the monitor let it through");
    return 0;
}
