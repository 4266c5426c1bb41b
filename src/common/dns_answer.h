/* dns_answer.h: the enclave's name lookups through the parent (docs/networking.md, "Name
 * lookups"). A query the enclave sent to port 53 of any address outside it reaches the monitor,
 * which answers it from a zone made of the outbound allowlist: a name the allowlist names gets
 * the addresses the monitor resolved for it at launch; every other name does not exist
 * (NXDOMAIN). The query is untrusted bytes: glibc's libresolv parses it (ns_initparse,
 * ns_parserr); this file builds the answer. Pure, for the monitor and tests/fuzz. */
#ifndef ALCOVE_DNS_ANSWER_H
#define ALCOVE_DNS_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#define DNS_QUERY_MAX  1024 /* a longer query is dropped */
#define DNS_ANSWER_MAX 512  /* answers fit a UDP message without EDNS */
#define DNS_TTL        60

/* A name the zone has (family 0), or one of its addresses (AF_INET, AF_INET6). */
struct dns_record {
    char name[254]; /* lower case, no final '.' */
    int family;
    uint8_t addr[16];
};

struct dns_zone {
    const struct dns_record *v;
    unsigned n;
    unsigned ttl; /* of its answers, in seconds (0: DNS_TTL) */
};

/* Answers the query q (len bytes) into out (at least DNS_ANSWER_MAX bytes): its length, or 0
 * when nothing is to be sent (not a query, or too short to say which). A query for a name of
 * the zone is NOERROR with its A or AAAA records (none for other types); another name is
 * NXDOMAIN; another class REFUSED; a query that does not parse FORMERR; opcodes other than
 * QUERY NOTIMP. */
size_t dns_answer(const struct dns_zone *z, const uint8_t *q, size_t len, uint8_t *out);

#endif
