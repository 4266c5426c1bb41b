/* exec_rules.c: the exec service's rules (exec_rules.h). */
#include "execproto/exec_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execproto/exec_proto.h"

bool exec_path_ok(const char *s)
{
    if (!s || s[0] != '/' || strlen(s) >= 4096)
        return false;
    for (const char *p = s + 1; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if ((n == 0 && e) || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n + (e ? 1 : 0);
    }
    return true;
}

int exec_rules_parse(char *text, size_t len, struct exec_rules *r, size_t *line)
{
    memset(r, 0, sizeof(*r));
    *line = 0;
    if (memchr(text, 0, len))
        return -1;
    size_t pos = 0;
    while (pos < len) {
        (*line)++;
        char *s = text + pos;
        char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (!nl)
            return -1; /* every line ends with a newline: a cut file is not taken */
        *nl = 0;
        if (n > 6 && memcmp(s, "entry ", 6) == 0 && exec_path_ok(s + 6)) {
            if (r->nentry == EXEC_RULES_MAX)
                return -1;
            r->entry[r->nentry++] = s + 6;
        } else if (n > 10 && memcmp(s, "untrusted ", 10) == 0 && exec_env_name_ok(s + 10, n - 10)) {
            if (r->nuntrusted == EXEC_RULES_MAX)
                return -1;
            r->untrusted[r->nuntrusted++] = s + 10;
        } else if (n > 8 && memcmp(s, "default ", 8) == 0 && strchr(s + 8, '=') &&
                   exec_env_name_ok(s + 8, (size_t)(strchr(s + 8, '=') - (s + 8)))) {
            if (r->ndefault == EXEC_RULES_MAX)
                return -1;
            r->defaults[r->ndefault++] = s + 8;
        } else {
            return -1;
        }
    }
    *line = 0;
    return 0;
}

bool exec_rules_entry_allowed(const struct exec_rules *r, const char *path)
{
    return exec_entry_match(r->entry, r->nentry, path);
}

bool exec_entry_match(const char *const *entries, size_t n_entries, const char *path)
{
    if (!exec_path_ok(path))
        return false;
    for (size_t i = 0; i < n_entries; i++) {
        const char *e = entries[i];
        size_t n = strlen(e);
        while (n > 1 && e[n - 1] == '/')
            n--;
        if (strncmp(path, e, n) == 0 && (path[n] == 0 || path[n] == '/' || (n == 1 && e[0] == '/')))
            return true;
    }
    return false;
}

bool exec_rules_env_allowed(const struct exec_rules *r, const char *name, size_t n)
{
    for (size_t i = 0; i < r->nuntrusted; i++)
        if (strlen(r->untrusted[i]) == n && memcmp(r->untrusted[i], name, n) == 0)
            return true;
    return false;
}

/* Adds kv to out[0..*n), replacing an entry of the same name. */
static void env_put(const char **out, size_t *n, const char *kv)
{
    size_t len = strcspn(kv, "=") + 1;
    for (size_t i = 0; i < *n; i++)
        if (strncmp(out[i], kv, len) == 0) {
            out[i] = kv;
            return;
        }
    out[(*n)++] = kv;
}

size_t exec_env_compose(const struct exec_rules *r, char *const *service, char *const *req,
                        int nreq, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ndefault; i++)
        env_put(out, &n, r->defaults[i]);
    for (size_t i = 0; service && service[i]; i++) {
        size_t len = strcspn(service[i], "=");
        if (service[i][len] == '=' && exec_rules_env_allowed(r, service[i], len))
            env_put(out, &n, service[i]);
    }
    for (int i = 0; i < nreq; i++)
        env_put(out, &n, req[i]);
    out[n] = NULL;
    return n;
}

char *exec_rules_text(const char *const *entry, size_t nentry, const char *const *untrusted,
                      size_t nuntrusted, const char *const *defaults, size_t ndefault)
{
    size_t cap = 1;
    for (size_t i = 0; i < nentry; i++)
        cap += strlen(entry[i]) + 7;
    for (size_t i = 0; i < nuntrusted; i++)
        cap += strlen(untrusted[i]) + 11;
    for (size_t i = 0; i < ndefault; i++)
        cap += strlen(defaults[i]) + 9;
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < nentry; i++)
        p += sprintf(p, "entry %s\n", entry[i]);
    for (size_t i = 0; i < nuntrusted; i++)
        p += sprintf(p, "untrusted %s\n", untrusted[i]);
    for (size_t i = 0; i < ndefault; i++)
        p += sprintf(p, "default %s\n", defaults[i]);
    *p = 0;
    return s;
}
