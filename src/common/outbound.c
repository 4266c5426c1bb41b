/* outbound.c: parsing the outbound allowlist's rules (outbound.h). Strict: a spec that only
 * looks like HOST:PORT is refused rather than guessed at. */
#include "common/outbound.h"
#include "common/why.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A DNS name as RFC 1123 hosts have them (and '_', which real names use): labels of 1 to 63
 * characters, no empty label, no leading or trailing '-'; an optional final '.' is dropped. */
static int name_ok(const char *h, size_t len)
{
    if (len && h[len - 1] == '.')
        len--;
    if (len == 0 || len > OUTBOUND_HOST_MAX)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? h[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || h[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
        if (label == 0 && c == '-')
            return 0;
        label++;
    }
    return 1;
}

bool out_addr_is_local(int family, const void *addr)
{
    const uint8_t *a = addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t zero[16];
    if (family == AF_INET6) {
        if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
            return true; /* :: and ::1 */
        if (memcmp(a, mapped, 12) != 0)
            return false;
        a += 12; /* ::ffff:a.b.c.d is a.b.c.d */
    } else if (family != AF_INET) {
        return false;
    }
    return a[0] == 127 || memcmp(a, zero, 4) == 0;
}

int out_rule_add_host(struct out_rule *list, unsigned *n, const char *host, unsigned port,
                      char *why, size_t why_size)
{
    static const char local[] = "'%.40s' is a loopback or unspecified address, the enclave's own; "
                                "the host's loopback is host.alcove.internal";
    struct out_rule r;
    memset(&r, 0, sizeof(r));
    size_t len = strlen(host);
    if (port < 1 || port > 65535)
        return why_fail(why, why_size, "the port must be a number from 1 to 65535");
    unsigned char bin[16];
    if (strchr(host, ':')) {
        if (len >= 64 || inet_pton(AF_INET6, host, bin) != 1)
            return why_fail(why, why_size, "'%.64s' is not an IPv6 address", host);
        if (out_addr_is_local(AF_INET6, bin))
            return why_fail(why, why_size, local, host);
        inet_ntop(AF_INET6, bin, r.host, sizeof(r.host)); /* one spelling for each address */
    } else if (inet_pton(AF_INET, host, bin) == 1) {
        if (out_addr_is_local(AF_INET, bin))
            return why_fail(why, why_size, local, host);
        inet_ntop(AF_INET, bin, r.host, sizeof(r.host));
    } else {
        if (!name_ok(host, len))
            return why_fail(why, why_size, "'%.64s' is not a host name or an IP address", host);
        /* all digits and dots, yet no address (999.1.1.1, 1.2.3): refused, not looked up */
        if (strspn(host, "0123456789.") == len)
            return why_fail(why, why_size, "'%.64s' is not an IPv4 address", host);
        for (size_t i = 0; i < len; i++)
            r.host[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
        if (len && r.host[len - 1] == '.')
            r.host[len - 1] = 0;
    }
    r.port = (uint16_t)port;
    if (out_rule_names(list, *n, r.host, r.port))
        return 0;
    if (*n >= OUTBOUND_MAX)
        return why_fail(why, why_size, "more than %d allowed destinations", OUTBOUND_MAX);
    list[(*n)++] = r;
    return 0;
}

int out_rule_parse(const char *spec, struct out_rule *out, char *why, size_t why_size)
{
    static const char form[] = "expected HOST:PORT (an IPv6 address in brackets: [::1]:443)";
    unsigned n = 0;
    char host[OUTBOUND_HOST_MAX + 2];
    size_t len = strlen(spec);
    const char *colon;
    size_t hl;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':')
            return why_fail(why, why_size, "%s", form);
        hl = (size_t)(close - spec - 1);
        if (hl == 0 || !strchr(spec + 1, ':') || strchr(spec + 1, ':') > close)
            return why_fail(why, why_size, "%s; brackets hold an IPv6 address", form);
        colon = close + 1;
        spec++;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || colon == spec)
            return why_fail(why, why_size, "%s", form);
        if (strchr(spec, ':') != colon)
            return why_fail(why, why_size, "%s", form);
        hl = (size_t)(colon - spec);
    }
    if (hl >= sizeof(host))
        return why_fail(why, why_size, "the host is longer than %d characters", OUTBOUND_HOST_MAX);
    memcpy(host, spec, hl);
    host[hl] = 0;
    const char *p = colon + 1;
    size_t pl = strlen(p);
    unsigned port = 0;
    if (pl == 0 || pl > 5 || strspn(p, "0123456789") != pl)
        return why_fail(why, why_size, "'%.16s' is not a port (1 to 65535)", p);
    for (size_t i = 0; i < pl; i++)
        port = port * 10 + (unsigned)(p[i] - '0');
    (void)len;
    return out_rule_add_host(out, &n, host, port, why, why_size);
}

int out_rule_add(struct out_rule *list, unsigned *n, const char *spec, char *why, size_t why_size)
{
    struct out_rule r;
    if (out_rule_parse(spec, &r, why, why_size))
        return -1;
    return out_rule_add_host(list, n, r.host, r.port, why, why_size);
}

int out_rule_names(const struct out_rule *list, unsigned n, const char *host, uint16_t port)
{
    for (unsigned i = 0; i < n; i++)
        if (strcasecmp(list[i].host, host) == 0 && (port == 0 || list[i].port == port))
            return 1;
    return 0;
}
