/* vsock_args.h: the arguments the host vsock commands (connect, vsock-proxy) share: numbers
 * with ranges, and the enclave picked by --enclave-cid, --enclave-name or --enclave-id. Each
 * function reports its own [ Exx ] error and returns the code (0 when all is well). */
#ifndef ALCOVE_CLI_VSOCK_ARGS_H
#define ALCOVE_CLI_VSOCK_ARGS_H

#include <stdint.h>
#include <sys/types.h>

/* Parses a decimal number from min to max for option `opt` ("--port"). */
int vsock_arg_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Parses seconds (decimals allowed, > 0) into milliseconds. */
int vsock_arg_seconds(const char *opt, const char *s, int *ms);

/* The enclave selected by exactly one of cid (a string), name and id (the others NULL), and,
 * when owner is not NULL, who started it (its description's owner): [ E90 ] when the CID has
 * no description, [ E39 ] when it is another user's (for a caller other than root). */
int vsock_arg_enclave(const char *cid, const char *name, const char *id, uint32_t *out,
                      uid_t *owner);
/* Who started the enclave with this CID (its description's owner), or the error reported
 * ([ E90 ]: no description, [ E39 ]: another user's, for a caller other than root). */
int vsock_arg_owner(uint32_t cid, uid_t *owner);

#endif
