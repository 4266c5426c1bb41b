/* vsock_args.h: the arguments the host vsock commands (connect, vsock-proxy) share: numbers
 * with ranges, and the enclave picked by --enclave-cid, --enclave-name or --enclave-id. Each
 * function reports its own [ Exx ] error and returns the code (0 when all is well). */
#ifndef ALCOVE_CLI_VSOCK_ARGS_H
#define ALCOVE_CLI_VSOCK_ARGS_H

#include <stdint.h>

/* Parses a decimal number from min to max for option `opt` ("--port"). */
int vsock_arg_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Parses seconds (decimals allowed, > 0) into milliseconds. */
int vsock_arg_seconds(const char *opt, const char *s, int *ms);

/* The enclave selected by exactly one of cid (a string), name and id (the others NULL). */
int vsock_arg_enclave(const char *cid, const char *name, const char *id, uint32_t *out);

#endif
