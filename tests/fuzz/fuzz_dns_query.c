/* fuzz_dns_query.c: the enclave's DNS queries (common/dns_answer.c, over glibc's libresolv) with
 * arbitrary bytes: an answer is never longer than DNS_ANSWER_MAX, always parses, carries the
 * query's ID, and names only the zone's addresses. */
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/dns_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct dns_record recs[] = {
        {"host.alcove.internal", 0, {0}},
        {"host.alcove.internal", AF_INET, {169, 254, 1, 2}},
        {"a.example", 0, {0}},
        {"a.example", AF_INET6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
    };
    struct dns_zone z = {recs, sizeof(recs) / sizeof(recs[0]), 0};
    uint8_t out[DNS_ANSWER_MAX];
    size_t n = dns_answer(&z, data, size, out);
    if (n == 0)
        return 0;
    if (n > DNS_ANSWER_MAX || n < NS_HFIXEDSZ || out[0] != data[0] || out[1] != data[1] ||
        !(out[2] & 0x80))
        abort();
    ns_msg m;
    if (ns_initparse(out, (int)n, &m) != 0)
        abort();
    for (int i = 0; i < ns_msg_count(m, ns_s_an); i++) {
        ns_rr rr;
        if (ns_parserr(&m, ns_s_an, i, &rr) != 0)
            abort();
        size_t l = ns_rr_rdlen(rr);
        int ok = 0;
        for (size_t k = 0; k < z.n; k++)
            ok |= recs[k].family && l == (recs[k].family == AF_INET ? 4u : 16u) &&
                  !memcmp(ns_rr_rdata(rr), recs[k].addr, l);
        if (!ok)
            abort();
    }
    return 0;
}
