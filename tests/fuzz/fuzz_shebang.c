/* fuzz_shebang.c: the "#!" line reader on arbitrary bytes: what it returns lies inside the first
 * SHEBANG_MAX bytes, the interpreter is a non-empty run without blanks, and neither slice holds a
 * newline or a NUL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "script/shebang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s, size_t n, const char *buf, size_t limit, int blanks_ok)
{
    if (s < buf || s + n > buf + limit)
        abort();
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || s[i] == '\0' || (!blanks_ok && (s[i] == ' ' || s[i] == '\t')))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct shebang sb;
    if (shebang_parse(buf, size, &sb))
        return 0;
    size_t limit = size < SHEBANG_MAX ? size : SHEBANG_MAX;
    if (sb.interp_len == 0)
        abort();
    check(sb.interp, sb.interp_len, buf, limit, 0);
    if (sb.arg) {
        if (sb.arg_len == 0 || sb.arg < sb.interp + sb.interp_len)
            abort();
        check(sb.arg, sb.arg_len, buf, limit, 1);
    } else if (sb.arg_len) {
        abort();
    }
    return 0;
}
