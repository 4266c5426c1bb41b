/* nsm_transport.h: the seam between libnsm's API and the device. The library proper
 * (nsm_device.c) implements it with the NSM_IOCTL_RAW ioctl on /dev/nsm; the host unit tests
 * link a fake with canned responses in its place. */
#ifndef ALCOVE_LIBNSM_TRANSPORT_H
#define ALCOVE_LIBNSM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "alcove/nsm.h"

/* Sends the req_len bytes of req (at most NSM_REQUEST_MAX_SIZE) on fd and receives the response
 * into resp, whose capacity is *resp_len on entry (NSM_RESPONSE_MAX_SIZE); *resp_len is the
 * response length on return. ERROR_CODE_SUCCESS; ERROR_CODE_INPUT_TOO_LARGE when the device
 * refuses the size (EMSGSIZE); ERROR_CODE_INTERNAL_ERROR on any other failure. */
ErrorCode nsm_transport_exchange(int32_t fd, const uint8_t *req, size_t req_len, uint8_t *resp,
                                 size_t *resp_len);

#endif
