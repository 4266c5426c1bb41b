/* fuzz_wf_config.c: alcove.json's parser (src/cli/wf_config.c) with arbitrary bytes. A text it
 * accepts has at least one entry point, every one an absolute path without '.' or '..', a
 * memory size in range, and a canonical form that parses back to the same canonical form (what
 * `alcove build` measures is what `alcove run` reads). */
#include <stdlib.h>
#include <string.h>

#include "cli/wf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wf_config c, d;
    if (wf_config_parse((const char *)data, size, "fuzz", true, &c) != 0)
        return 0;
    if (c.nentry == 0 || c.user_space_size < (1u << 20))
        abort();
    for (size_t i = 0; i < c.nentry; i++)
        if (!wf_path_ok(c.entry_points[i]))
            abort();
    char *a = wf_config_canonical(&c);
    if (!a || wf_config_parse(a, strlen(a), "canonical", false, &d) != 0)
        abort();
    char *b = wf_config_canonical(&d);
    if (!b || strcmp(a, b) != 0)
        abort();
    free(a);
    free(b);
    wf_config_free(&c);
    wf_config_free(&d);
    return 0;
}
