/* args.h: argument values several commands share, parsed one way with nitro-cli's rules. */
#ifndef ALCOVE_ARGS_H
#define ALCOVE_ARGS_H

#include <stdint.h>

/* An enclave CID for --enclave-cid: decimal; 0 means "pick one"; 1, 2 (well-known), 3 (the
 * parent) and 0xFFFFFFFF (any) are refused, as is anything that does not fit 32 bits. 0, or -1
 * after reporting [ E03 ]. allow_auto: whether 0 is accepted. */
int args_parse_cid(const char *s, int allow_auto, uint32_t *cid);

/* A --memory value: "N", "NM", "NG" or "NT" (MiB by default, as nitro-cli's). 0 on error. */
uint64_t args_parse_mib(const char *s);

#endif
