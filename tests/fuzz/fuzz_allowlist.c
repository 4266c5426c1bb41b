/* fuzz_allowlist.c: libFuzzer target for vsock-proxy's allowlist parser (src/proxy/allowlist.c),
 * which reads a user's YAML file: any bytes must give a list or an error with a message, never a
 * crash, a leak or a hang; a parsed list must hold only well-formed entries. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/allowlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct allowlist al;
    char why[256];
    why[0] = 0;
    if (allowlist_parse((const char *)data, size, &al, why, sizeof(why)) != 0) {
        if (!why[0] || al.n != 0 || al.v != NULL)
            abort(); /* a failure says why, and leaves nothing */
        return 0;
    }
    for (size_t i = 0; i < al.n; i++) {
        size_t len = strlen(al.v[i].address);
        if (len == 0 || len > ALLOWLIST_MAX_ADDRESS || al.v[i].port == 0 || al.v[i].line == 0)
            abort();
    }
    allowlist_free(&al);
    return 0;
}
