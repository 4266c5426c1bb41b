/* fuzz_allocator_config.c: allocator.yaml's parser (src/allocator/config.c) and the cpulist
 * parser under it with arbitrary bytes. A text it accepts must describe a valid configuration
 * (memory_mib in range, exactly one of cpu_count and cpu_pool); a refusal must say why. Every
 * accepted cpulist must print back to the same set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allocator/config.h"
#include "allocator/cpulist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct alloc_config c;
    char why[256] = "";
    if (alloc_config_parse((const char *)data, size, &c, why, sizeof(why)) == 0) {
        if (c.memory_mib == 0 || c.memory_mib > ALLOC_CONFIG_MAX_MIB)
            abort();
        if ((c.cpu_count != 0) == !cpuset_empty(&c.cpu_pool))
            abort();
    } else if (!why[0]) {
        abort();
    }
    struct cpuset s, back;
    if (cpulist_parse((const char *)data, size, &s, NULL, 0) == 0) {
        static char text[5 * CPUS_MAX + 16];
        if (cpulist_format(&s, text, sizeof(text)) != 0 ||
            cpulist_parse(text, strlen(text), &back, NULL, 0) != 0 || !cpuset_equal(&s, &back))
            abort();
    }
    return 0;
}
