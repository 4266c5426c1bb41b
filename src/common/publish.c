/* publish.c: parsing published-port specs (publish.h). Strict on purpose: a spec that Docker
 * would read differently, or that only looks like one, is refused rather than guessed at. */
#include "common/publish.h"
#include "common/why.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* A port: 1 to 5 decimal digits, 1 to 65535. 0 when it is not one. */
static uint16_t parse_port(const char *s, size_t len)
{
    if (len == 0 || len > 5)
        return 0;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v >= 1 && v <= 65535 ? (uint16_t)v : 0;
}

int publish_parse(const char *spec, struct publish_port *out, char *why, size_t why_size)
{
    static const char form[] = "expected [IP:]HOST_PORT:ENCLAVE_PORT";
    memset(out, 0, sizeof(*out));
    char buf[128];
    size_t len = strlen(spec);
    if (len == 0 || len >= sizeof(buf))
        return why_fail(why, why_size, "%s", form);
    memcpy(buf, spec, len + 1);
    /* the protocol: TCP only */
    char *slash = strchr(buf, '/');
    if (slash) {
        if (strcmp(slash + 1, "udp") == 0 || strcmp(slash + 1, "sctp") == 0)
            return why_fail(why, why_size, "only TCP ports can be published");
        if (strcmp(slash + 1, "tcp") != 0)
            return why_fail(why, why_size, "unknown protocol '%s' (only tcp)", slash + 1);
        *slash = 0;
    }
    /* the address */
    char *ports = buf, ip[64] = "";
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close || close[1] != ':')
            return why_fail(why, why_size, "%s, an IPv6 address in brackets", form);
        size_t l = (size_t)(close - buf - 1);
        if (l >= sizeof(ip))
            return why_fail(why, why_size, "'%.*s' is not an IPv6 address", (int)l, buf + 1);
        memcpy(ip, buf + 1, l);
        ip[l] = 0;
        if (inet_pton(AF_INET6, ip, out->addr) != 1)
            return why_fail(why, why_size, "'%s' is not an IPv6 address", ip);
        out->family = AF_INET6;
        ports = close + 2;
    } else {
        char *first = strchr(buf, ':'), *last = strrchr(buf, ':');
        if (!first)
            return why_fail(why, why_size, "%s (both ports are needed)", form);
        if (first != last) {
            if (strchr(first + 1, ':') != last)
                return why_fail(why, why_size, "%s; an IPv6 address goes in brackets ([::1])",
                                form);
            size_t l = (size_t)(first - buf);
            if (l == 0 || l >= sizeof(ip))
                return why_fail(why, why_size, "%s (an empty or overlong IP)", form);
            memcpy(ip, buf, l);
            ip[l] = 0;
            /* inet_pton takes dotted quads only: "1.2.3", "01.2.3.4" and names are refused */
            if (inet_pton(AF_INET, ip, out->addr) != 1)
                return why_fail(why, why_size, "'%s' is not an IPv4 address", ip);
            ports = first + 1;
        }
        out->family = AF_INET;
    }
    char *colon = strchr(ports, ':');
    if (!colon || strchr(colon + 1, ':'))
        return why_fail(why, why_size, "%s", form);
    out->host_port = parse_port(ports, (size_t)(colon - ports));
    if (!out->host_port)
        return why_fail(why, why_size, "host port '%.*s': expected 1 to 65535",
                        (int)(colon - ports), ports);
    out->enclave_port = parse_port(colon + 1, strlen(colon + 1));
    if (!out->enclave_port)
        return why_fail(why, why_size, "enclave port '%s': expected 1 to 65535", colon + 1);
    /* the address as text, canonical ("::0001" is "::1") */
    if (!inet_ntop(out->family, out->addr, out->host_ip, sizeof(out->host_ip)))
        return why_fail(why, why_size, "%s", form);
    return 0;
}

static bool wildcard(const struct publish_port *p)
{
    static const uint8_t zero[16];
    return memcmp(p->addr, zero, p->family == AF_INET ? 4 : 16) == 0;
}

bool publish_conflict(const struct publish_port *a, const struct publish_port *b)
{
    if (a->host_port != b->host_port || a->family != b->family)
        return false;
    return wildcard(a) || wildcard(b) ||
           memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

int publish_add(struct publish_port *list, unsigned *n, const char *spec, char *why,
                size_t why_size)
{
    struct publish_port p;
    if (publish_parse(spec, &p, why, why_size))
        return -1;
    if (*n >= PUBLISH_MAX)
        return why_fail(why, why_size, "at most %d ports can be published", PUBLISH_MAX);
    for (unsigned i = 0; i < *n; i++)
        if (publish_conflict(&list[i], &p))
            return why_fail(why, why_size, "host port %u is published twice (on %s and %s)",
                            p.host_port, list[i].host_ip, p.host_ip);
    list[(*n)++] = p;
    return 0;
}
