/* sandbox_rules.h: argument-checked seccomp rules written as tables, shared by the common filter
 * (sandbox.c) and the thread classes' allowlists (sandbox_class.c), so that a check both make
 * (signals to this process only, threads and never processes, the socket families) is written
 * once and reads the same in both. */
#ifndef ALCOVE_SANDBOX_RULES_H
#define ALCOVE_SANDBOX_RULES_H

#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

/* One rule: system call nr gets action when every one of its ncmp comparisons holds (ncmp 0:
 * whatever its arguments). Written with libseccomp's macros, for example
 * {SCMP_SYS(kill), SCMP_ACT_ALLOW, 1, {SCMP_A0(SCMP_CMP_EQ, self)}}. */
struct sandbox_rule {
    int nr;
    uint32_t action;
    unsigned ncmp;
    struct scmp_arg_cmp cmp[2];
};

/* Adds n rules in order. 0 or -errno (libseccomp's). */
int sandbox_rules_add(scmp_filter_ctx ctx, const struct sandbox_rule *rules, size_t n);
/* ioctl allowed for these requests only (compared on the low 32 bits, as the kernel reads
 * them). 0 or -errno. */
int sandbox_rules_ioctls(scmp_filter_ctx ctx, const unsigned long *requests, size_t n);
/* socket for AF_UNIX (host listeners), AF_INET and AF_INET6 (outbound TCP), every other family
 * answered EAFNOSUPPORT (glibc's name lookups take that in their stride; a trap would end the
 * monitor), and socketpair for AF_UNIX only (a name-lookup stream's pair,
 * devices/vsock_dns.c). 0 or -errno. */
int sandbox_rules_sockets(scmp_filter_ctx ctx);

#endif
