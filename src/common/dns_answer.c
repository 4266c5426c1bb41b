/* dns_answer.c: answering the enclave's DNS queries from the allowlist's zone (dns_answer.h). */
#include "common/dns_answer.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum { RCODE_OK = 0, RCODE_FORMERR = 1, RCODE_NXDOMAIN = 3, RCODE_NOTIMP = 4, RCODE_REFUSED = 5 };

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Whether the question's name (at q + 12) is plain labels, no compression pointer: it is
 * echoed byte for byte, and a pointer into the query's other records would point elsewhere in
 * the answer. Resolvers never compress a question's name. */
static bool plain_name(const uint8_t *q, size_t len)
{
    for (size_t at = NS_HFIXEDSZ; at < len;) {
        uint8_t l = q[at];
        if (l == 0)
            return true;
        if (l & 0xc0)
            return false;
        at += 1u + l;
    }
    return false;
}

/* The header of an answer to q with this rcode and counts (q has at least 12 bytes). */
static void header(uint8_t *out, const uint8_t *q, int rcode, unsigned qd, unsigned an)
{
    memset(out, 0, NS_HFIXEDSZ);
    out[0] = q[0];
    out[1] = q[1];
    /* QR, the query's opcode and RD; RA */
    out[2] = (uint8_t)(0x80 | (q[2] & 0x79));
    out[3] = (uint8_t)(0x80 | rcode);
    put16(out + 4, qd);
    put16(out + 6, an);
}

static int zone_has(const struct dns_zone *z, const char *name)
{
    for (unsigned i = 0; i < z->n; i++)
        if (strcasecmp(z->v[i].name, name) == 0)
            return 1;
    return 0;
}

size_t dns_answer(const struct dns_zone *z, const uint8_t *q, size_t len, uint8_t *out)
{
    if (len < NS_HFIXEDSZ || len > DNS_QUERY_MAX || (q[2] & 0x80))
        return 0; /* not a query (or one we cannot even answer) */
    unsigned opcode = (q[2] >> 3) & 0xf;
    if (opcode != ns_o_query) {
        header(out, q, RCODE_NOTIMP, 0, 0);
        return NS_HFIXEDSZ;
    }
    ns_msg m;
    ns_rr rr;
    if (ns_initparse(q, (int)len, &m) != 0 || ns_msg_count(m, ns_s_qd) != 1 ||
        ns_parserr(&m, ns_s_qd, 0, &rr) != 0) {
        header(out, q, RCODE_FORMERR, 0, 0);
        return NS_HFIXEDSZ;
    }
    /* the question as it came, to echo: the name's wire form and type and class */
    int qlen = ns_skiprr(q + NS_HFIXEDSZ, q + len, ns_s_qd, 1);
    if (qlen <= 0 || NS_HFIXEDSZ + (size_t)qlen > DNS_ANSWER_MAX || !plain_name(q, len)) {
        header(out, q, RCODE_FORMERR, 0, 0);
        return NS_HFIXEDSZ;
    }
    memcpy(out + NS_HFIXEDSZ, q + NS_HFIXEDSZ, (size_t)qlen);
    size_t at = NS_HFIXEDSZ + (size_t)qlen;
    if (ns_rr_class(rr) != ns_c_in) {
        header(out, q, RCODE_REFUSED, 1, 0);
        return at;
    }
    const char *name = ns_rr_name(rr);
    if (!zone_has(z, name)) {
        header(out, q, RCODE_NXDOMAIN, 1, 0);
        return at;
    }
    int type = ns_rr_type(rr);
    int family = type == ns_t_a ? AF_INET : type == ns_t_aaaa ? AF_INET6 : 0;
    size_t alen = family == AF_INET ? 4 : 16;
    unsigned an = 0;
    for (unsigned i = 0; family && i < z->n; i++) {
        const struct dns_record *r = &z->v[i];
        if (r->family != family || strcasecmp(r->name, name) != 0)
            continue;
        if (at + 12 + alen > DNS_ANSWER_MAX)
            break;      /* what fits */
        out[at] = 0xc0; /* the name: a pointer to the question's */
        out[at + 1] = NS_HFIXEDSZ;
        put16(out + at + 2, (unsigned)type);
        put16(out + at + 4, ns_c_in);
        out[at + 6] = out[at + 7] = 0;
        put16(out + at + 8, z->ttl && z->ttl < DNS_TTL ? z->ttl : DNS_TTL);
        put16(out + at + 10, (unsigned)alen);
        memcpy(out + at + 12, r->addr, alen);
        at += 12 + alen;
        an++;
    }
    header(out, q, RCODE_OK, 1, an);
    return at;
}
