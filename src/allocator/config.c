/* config.c: reading allocator.yaml (see config.h). libyaml loads the file into a document
 * (aliases stay references, so an alias bomb costs nothing), and the document is walked one
 * level deep: a mapping whose keys are memory_mib, cpu_count and cpu_pool, each once, with
 * scalar values. Numbers are plain (unquoted) decimal digits only, so "-1", "0x10", "1e3",
 * "8G" and "'512'" are refused rather than guessed at; every error names its line. */
#include "allocator/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>
#include "common/why.h"

const char *alloc_config_path(const char *explicit_path)
{
    if (explicit_path && *explicit_path)
        return explicit_path;
    const char *env = getenv("ALCOVE_ALLOCATOR_CONFIG");
    if (env && *env)
        return env;
    return ALLOC_CONFIG_DEFAULT;
}

static unsigned line_of(const yaml_node_t *n)
{
    return (unsigned)n->start_mark.line + 1;
}

enum key { KEY_MEMORY, KEY_COUNT, KEY_POOL, NKEYS };
static const char *const g_keys[NKEYS] = {"memory_mib", "cpu_count", "cpu_pool"};

static int key_of(const yaml_node_t *k)
{
    for (int i = 0; i < NKEYS; i++) {
        size_t len = strlen(g_keys[i]);
        if (k->data.scalar.length == len && memcmp(k->data.scalar.value, g_keys[i], len) == 0)
            return i;
    }
    return -1;
}

/* A positive decimal integer <= max, written plainly. 0, or -1 with the reason. */
static int parse_count(const yaml_node_t *v, const char *key, uint64_t max, uint64_t *out,
                       char *why, size_t whylen)
{
    if (v->type != YAML_SCALAR_NODE) {
        why_set(why, whylen, "line %u: %s must be a number, not a %s", line_of(v), key,
                v->type == YAML_MAPPING_NODE ? "mapping" : "list");
        return -1;
    }
    const char *s = (const char *)v->data.scalar.value;
    size_t len = v->data.scalar.length;
    if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        why_set(why, whylen, "line %u: %s must be a number, not the string \"%.*s\"", line_of(v),
                key, (int)(len > 40 ? 40 : len), s);
        return -1;
    }
    if (len == 0) {
        why_set(why, whylen, "line %u: %s has no value", line_of(v), key);
        return -1;
    }
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || n > max) {
            why_set(why, whylen,
                    "line %u: %s must be a positive integer (decimal digits), not '%.*s'",
                    line_of(v), key, (int)(len > 40 ? 40 : len), s);
            return -1;
        }
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    if (n == 0 || n > max) {
        why_set(why, whylen, "line %u: %s must be between 1 and %llu, not %.*s", line_of(v), key,
                (unsigned long long)max, (int)(len > 40 ? 40 : len), s);
        return -1;
    }
    *out = n;
    return 0;
}

static int parse_pool(const yaml_node_t *v, struct cpuset *out, char *why, size_t whylen)
{
    if (v->type != YAML_SCALAR_NODE) {
        why_set(why, whylen,
                "line %u: cpu_pool must be a cpulist string like \"2,3,6-9\", not a %s", line_of(v),
                v->type == YAML_MAPPING_NODE ? "mapping" : "list");
        return -1;
    }
    char reason[160];
    if (cpulist_parse((const char *)v->data.scalar.value, v->data.scalar.length, out, reason,
                      sizeof(reason)) != 0) {
        why_set(why, whylen, "line %u: cpu_pool: %s", line_of(v), reason);
        return -1;
    }
    if (cpuset_empty(out)) {
        why_set(why, whylen, "line %u: cpu_pool is empty", line_of(v));
        return -1;
    }
    return 0;
}

static int walk(yaml_document_t *doc, struct alloc_config *out, char *why, size_t whylen)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root) {
        why_set(why, whylen,
                "the file is empty: memory_mib and one of cpu_count or cpu_pool are "
                "required");
        return -1;
    }
    if (root->type != YAML_MAPPING_NODE) {
        why_set(why, whylen,
                "line %u: expected a mapping of keys (memory_mib, and cpu_count or cpu_pool)",
                line_of(root));
        return -1;
    }
    unsigned seen_line[NKEYS] = {0};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (!k || !v)
            return why_set(why, whylen, "malformed document"), -1;
        if (k->type != YAML_SCALAR_NODE) {
            why_set(why, whylen, "line %u: a key must be a name (memory_mib, cpu_count, cpu_pool)",
                    line_of(k));
            return -1;
        }
        int key = key_of(k);
        if (key < 0) {
            size_t len = k->data.scalar.length;
            why_set(why, whylen,
                    "line %u: unknown key '%.*s' (allowed: memory_mib, cpu_count, cpu_pool)",
                    line_of(k), (int)(len > 40 ? 40 : len), (const char *)k->data.scalar.value);
            return -1;
        }
        if (seen_line[key]) {
            why_set(why, whylen, "line %u: %s is given twice (first on line %u)", line_of(k),
                    g_keys[key], seen_line[key]);
            return -1;
        }
        seen_line[key] = line_of(k);
        uint64_t n;
        switch (key) {
        case KEY_MEMORY:
            if (parse_count(v, "memory_mib", ALLOC_CONFIG_MAX_MIB, &n, why, whylen))
                return -1;
            out->memory_mib = n;
            break;
        case KEY_COUNT:
            if (parse_count(v, "cpu_count", CPUS_MAX, &n, why, whylen))
                return -1;
            out->cpu_count = (unsigned)n;
            break;
        default:
            if (parse_pool(v, &out->cpu_pool, why, whylen))
                return -1;
            break;
        }
    }
    if (seen_line[KEY_COUNT] && seen_line[KEY_POOL]) {
        why_set(why, whylen,
                "line %u: cpu_pool and cpu_count (line %u) are both given: give exactly one",
                seen_line[KEY_POOL], seen_line[KEY_COUNT]);
        return -1;
    }
    if (!seen_line[KEY_MEMORY]) {
        why_set(why, whylen,
                "line %u: memory_mib is missing (required: MiB of memory for enclaves)",
                line_of(root));
        return -1;
    }
    if (!seen_line[KEY_COUNT] && !seen_line[KEY_POOL]) {
        why_set(why, whylen,
                "line %u: neither cpu_count nor cpu_pool is given: give exactly one (cpu_count: N, "
                "or cpu_pool: \"2,3\")",
                line_of(root));
        return -1;
    }
    return 0;
}

int alloc_config_parse(const char *text, size_t len, struct alloc_config *out, char *why,
                       size_t whylen)
{
    memset(out, 0, sizeof(*out));
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        why_set(why, whylen, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = -1;
    if (!yaml_parser_load(&parser, &doc)) {
        why_set(why, whylen, "line %u: YAML syntax error: %s%s%s",
                (unsigned)parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "malformed", parser.context ? " " : "",
                parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -1;
    }
    rc = walk(&doc, out, why, whylen);
    bool had_root = yaml_document_get_root_node(&doc) != NULL;
    yaml_document_delete(&doc);
    if (rc == 0 && had_root) {
        /* a second document ("---" then more) is not part of the format */
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            why_set(why, whylen, "line %u: YAML syntax error: %s",
                    (unsigned)parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "malformed");
            rc = -1;
        } else {
            yaml_node_t *r = yaml_document_get_root_node(&next);
            if (r) {
                why_set(why, whylen, "line %u: a second YAML document: the file holds one mapping",
                        line_of(r));
                rc = -1;
            }
            yaml_document_delete(&next);
        }
    }
    yaml_parser_delete(&parser);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

int alloc_config_load(const char *path, struct alloc_config *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    /* O_NONBLOCK: a FIFO opens at once and is refused below, instead of blocking for ever */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        why_set(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ALLOC_CONFIG_MAX_BYTES) {
        why_set(why, whylen, "%s is not a regular file of at most %d bytes", path,
                ALLOC_CONFIG_MAX_BYTES);
        close(fd);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        why_set(why, whylen, "out of memory");
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    int rc = alloc_config_parse(buf, got, out, why, whylen);
    free(buf);
    return rc;
}
