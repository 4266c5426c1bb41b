/* shebang.c: the "#!" line of a script (see shebang.h). */
#include "shebang.h"

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

int shebang_parse(const char *buf, size_t n, struct shebang *out)
{
    if (n > SHEBANG_MAX)
        n = SHEBANG_MAX;
    if (n < 2 || buf[0] != '#' || buf[1] != '!')
        return -1;
    size_t end = 2; /* the line: [2, end) */
    while (end < n && buf[end] != '\n' && buf[end] != '\0')
        end++;
    size_t i = 2;
    while (i < end && blank(buf[i]))
        i++;
    size_t name = i;
    while (i < end && !blank(buf[i]))
        i++;
    if (i == name)
        return -1;
    out->interp = buf + name;
    out->interp_len = i - name;
    while (i < end && blank(buf[i]))
        i++;
    size_t last = end;
    while (last > i && (blank(buf[last - 1]) || buf[last - 1] == '\r'))
        last--;
    out->arg = last > i ? buf + i : 0;
    out->arg_len = last - i;
    return 0;
}
