/* allowlist.c: parsing and checking vsock-proxy's allowlist (see allowlist.h). The file is
 * read with libyaml's event parser, walked as a state machine to the depth the format has: a
 * mapping with the key "allowlist", whose value is a sequence (or empty), of mappings with
 * "address" (a host name or IP address) and "port" (1-65535). Other keys and their values are
 * skipped, as Nitro's vsock-proxy ignores them; anything else is an error naming its line.
 * Collections nested deeper than MAX_DEPTH stop the parse at once: libyaml's scanner takes time
 * quadratic in the nesting depth, and no allowlist needs more than three levels. Aliases are
 * refused where a value is needed and never expanded. */
#include "proxy/allowlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#define MAX_DEPTH 8

/* The parser and its current event. */
struct yparse {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have;
    int depth;
    char *why;
    size_t whylen;
};

static void say(struct yparse *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct yparse *y, const char *fmt, ...)
{
    if (!y->why || !y->whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(y->why, y->whylen, fmt, ap);
    va_end(ap);
}

static unsigned line(const struct yparse *y)
{
    return (unsigned)y->ev.start_mark.line + 1;
}

/* Moves to the next event, keeping the nesting depth. 0 or -1 (said why). */
static int next(struct yparse *y)
{
    if (y->have)
        yaml_event_delete(&y->ev);
    y->have = false;
    if (!yaml_parser_parse(&y->parser, &y->ev)) {
        say(y, "line %u: %s", (unsigned)y->parser.problem_mark.line + 1,
            y->parser.problem ? y->parser.problem : "not valid YAML");
        return -1;
    }
    y->have = true;
    switch (y->ev.type) {
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (++y->depth > MAX_DEPTH) {
            say(y, "line %u: nested too deeply", line(y));
            return -1;
        }
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        y->depth--;
        break;
    default:
        break;
    }
    return 0;
}

/* Skips the node whose first event is the current one. */
static int skip_node(struct yparse *y)
{
    if (y->ev.type != YAML_SEQUENCE_START_EVENT && y->ev.type != YAML_MAPPING_START_EVENT)
        return 0;
    int outer = y->depth - 1;
    while (y->depth > outer)
        if (next(y))
            return -1;
    return 0;
}

static bool is_scalar(const struct yparse *y)
{
    return y->ev.type == YAML_SCALAR_EVENT;
}

/* Whether the current event is the scalar s. */
static bool scalar_is(const struct yparse *y, const char *s)
{
    size_t len = strlen(s);
    return is_scalar(y) && y->ev.data.scalar.length == len &&
           memcmp(y->ev.data.scalar.value, s, len) == 0;
}

/* A port number: decimal digits only, 1 to 65535. */
static int parse_port(const struct yparse *y, uint16_t *port)
{
    if (!is_scalar(y))
        return -1;
    const unsigned char *s = y->ev.data.scalar.value;
    size_t len = y->ev.data.scalar.length;
    if (len == 0 || len > 5)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* A host name or address: 1-253 bytes of printable ASCII without spaces. */
static int parse_address(const struct yparse *y, char **out)
{
    if (!is_scalar(y))
        return -1;
    const unsigned char *s = y->ev.data.scalar.value;
    size_t len = y->ev.data.scalar.length;
    if (len == 0 || len > ALLOWLIST_MAX_ADDRESS)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] >= 0x7f)
            return -1;
    *out = strndup((const char *)s, len);
    return *out ? 0 : -1;
}

/* One entry; the current event is its MAPPING_START. */
static int parse_entry(struct yparse *y, struct allow_entry *e)
{
    bool have_port = false;
    e->address = NULL;
    e->line = line(y);
    for (;;) {
        if (next(y))
            goto fail;
        if (y->ev.type == YAML_MAPPING_END_EVENT)
            break;
        bool is_address = scalar_is(y, "address"), is_port = scalar_is(y, "port");
        unsigned key_line = line(y);
        if (skip_node(y) || next(y)) /* the key (if a collection), then the value */
            goto fail;
        if (is_address) {
            if (e->address) {
                say(y, "line %u: 'address' given twice", key_line);
                goto fail;
            }
            if (parse_address(y, &e->address) != 0) {
                say(y, "line %u: 'address' must be a host name or an IP address", line(y));
                goto fail;
            }
        } else if (is_port) {
            if (have_port) {
                say(y, "line %u: 'port' given twice", key_line);
                goto fail;
            }
            if (parse_port(y, &e->port) != 0) {
                say(y, "line %u: 'port' must be a number from 1 to 65535", line(y));
                goto fail;
            }
            have_port = true;
        } else if (skip_node(y)) {
            goto fail;
        }
    }
    if (!e->address || !have_port) {
        say(y, "line %u: an allowlist entry needs both 'address' and 'port'", e->line);
        goto fail;
    }
    return 0;
fail:
    free(e->address);
    e->address = NULL;
    return -1;
}

/* The list; the current event is its SEQUENCE_START. */
static int parse_list(struct yparse *y, struct allowlist *out)
{
    size_t cap = 0;
    for (;;) {
        if (next(y))
            return -1;
        if (y->ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if (y->ev.type != YAML_MAPPING_START_EVENT) {
            say(y, "line %u: an allowlist entry must be a mapping {address: HOST, port: N}",
                line(y));
            return -1;
        }
        if (out->n == ALLOWLIST_MAX_ENTRIES) {
            say(y, "line %u: more than %u allowlist entries", line(y), ALLOWLIST_MAX_ENTRIES);
            return -1;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct allow_entry *grown = realloc(out->v, cap * sizeof(*grown));
            if (!grown) {
                say(y, "out of memory");
                return -1;
            }
            out->v = grown;
        }
        if (parse_entry(y, &out->v[out->n]))
            return -1;
        out->n++;
    }
}

/* The document: a mapping with "allowlist". */
static int parse_document(struct yparse *y, struct allowlist *out)
{
    if (next(y) || next(y)) /* STREAM_START, DOCUMENT_START */
        return -1;
    if (y->ev.type == YAML_STREAM_END_EVENT) {
        say(y, "the file is empty (expected 'allowlist:')");
        return -1;
    }
    if (next(y))
        return -1;
    if (y->ev.type != YAML_MAPPING_START_EVENT) {
        say(y, "line %u: expected a mapping with the key 'allowlist'", line(y));
        return -1;
    }
    bool found = false;
    for (;;) {
        if (next(y))
            return -1;
        if (y->ev.type == YAML_MAPPING_END_EVENT)
            break;
        bool is_list = scalar_is(y, "allowlist");
        unsigned key_line = line(y);
        if (skip_node(y) || next(y))
            return -1;
        if (!is_list) {
            if (skip_node(y))
                return -1;
            continue;
        }
        if (found) {
            say(y, "line %u: 'allowlist' given twice", key_line);
            return -1;
        }
        found = true;
        if (is_scalar(y) && y->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            (y->ev.data.scalar.length == 0 || scalar_is(y, "~") || scalar_is(y, "null")))
            continue; /* "allowlist:" with nothing: an empty list */
        if (y->ev.type != YAML_SEQUENCE_START_EVENT) {
            say(y, "line %u: 'allowlist' must be a list of {address: HOST, port: N}", line(y));
            return -1;
        }
        if (parse_list(y, out))
            return -1;
    }
    if (!found) {
        say(y, "no 'allowlist' key");
        return -1;
    }
    if (next(y)) /* DOCUMENT_END, so that trailing garbage is an error too */
        return -1;
    return 0;
}

int allowlist_parse(const char *text, size_t len, struct allowlist *out, char *why, size_t whylen)
{
    out->v = NULL;
    out->n = 0;
    struct yparse y = {.why = why, .whylen = whylen};
    if (len > ALLOWLIST_MAX_BYTES) {
        say(&y, "the file is larger than %u bytes", ALLOWLIST_MAX_BYTES);
        return -1;
    }
    if (!yaml_parser_initialize(&y.parser)) {
        say(&y, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
    int rc = parse_document(&y, out);
    if (y.have)
        yaml_event_delete(&y.ev);
    yaml_parser_delete(&y.parser);
    if (rc != 0)
        allowlist_free(out);
    return rc;
}

int allowlist_load(const char *path, struct allowlist *out, char *why, size_t whylen)
{
    out->v = NULL;
    out->n = 0;
    /* O_NONBLOCK: a FIFO opens at once and is refused below; waiting for a writer would block
     * the proxy before its signal handling is set up */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "not a regular file");
        close(fd);
        return -1;
    }
    if (st.st_size > (off_t)ALLOWLIST_MAX_BYTES) {
        snprintf(why, whylen, "the file is larger than %u bytes", ALLOWLIST_MAX_BYTES);
        close(fd);
        return -1;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, whylen, "%s", strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap)
            break; /* it grew while we read: parse what the size said, plus one byte */
    }
    close(fd);
    if (!buf) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    int rc = allowlist_parse(buf, len, out, why, whylen);
    free(buf);
    return rc;
}

void allowlist_free(struct allowlist *al)
{
    for (size_t i = 0; i < al->n; i++)
        free(al->v[i].address);
    free(al->v);
    al->v = NULL;
    al->n = 0;
}

enum allow_result allowlist_check(const struct allowlist *al, const char *host, uint16_t port,
                                  int family, const struct addr_list *remote,
                                  struct addr_list *allowed, const struct allow_entry **matched)
{
    allowed->n = 0;
    const struct allow_entry *first = NULL;
    for (size_t i = 0; i < al->n; i++)
        if (al->v[i].port == port && strcasecmp(al->v[i].address, host) == 0) {
            if (matched)
                *matched = &al->v[i];
            return ALLOW_BY_NAME;
        }
    for (size_t i = 0; i < al->n; i++) {
        if (al->v[i].port != port)
            continue;
        struct addr_list ips;
        if (resolve_host(al->v[i].address, port, family, &ips) != 0)
            continue; /* an entry that does not resolve allows nothing */
        for (int j = 0; j < remote->n; j++)
            if (addr_list_has_ip(&ips, &remote->a[j])) {
                addr_list_add(allowed, &remote->a[j], remote->len[j]);
                if (!first)
                    first = &al->v[i];
            }
    }
    if (matched)
        *matched = first;
    return allowed->n ? ALLOW_BY_ADDR : ALLOW_DENIED;
}
