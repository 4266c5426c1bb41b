/* sandbox_rules.c: argument-checked seccomp rules as tables (see sandbox_rules.h). */
#include "monitor/sandbox_rules.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>

int sandbox_rules_add(scmp_filter_ctx ctx, const struct sandbox_rule *rules, size_t n)
{
    int r = 0;
    for (size_t i = 0; !r && i < n; i++)
        r = rules[i].ncmp > 2 ? -EINVAL
                              : seccomp_rule_add_array(ctx, rules[i].action, rules[i].nr,
                                                       rules[i].ncmp, rules[i].cmp);
    return r;
}

int sandbox_rules_ioctls(scmp_filter_ctx ctx, const unsigned long *requests, size_t n)
{
    int r = 0;
    for (size_t i = 0; !r && i < n; i++)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, requests[i]));
    return r;
}

int sandbox_rules_sockets(scmp_filter_ctx ctx)
{
    static const int families[] = {AF_UNIX, AF_INET, AF_INET6};
    int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
                             SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)AF_UNIX));
    for (size_t i = 0; !r && i < sizeof(families) / sizeof(families[0]); i++)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                             SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]));
    for (int f = 0; !r && f < AF_MAX; f++)
        if (f != AF_UNIX && f != AF_INET && f != AF_INET6)
            r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                 SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)f));
    return r;
}
