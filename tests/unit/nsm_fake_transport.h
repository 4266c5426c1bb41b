/* nsm_fake_transport.h: a stand-in for libnsm's device transport in host tests. It records each
 * request it is given and answers with the canned response (or transport error) set last. */
#ifndef NSM_FAKE_TRANSPORT_H
#define NSM_FAKE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "alcove/nsm.h"

struct nsm_fake {
    int calls;                             /* exchanges since the last reset */
    uint8_t request[NSM_REQUEST_MAX_SIZE]; /* the last request */
    size_t request_len;
    uint8_t response[NSM_RESPONSE_MAX_SIZE]; /* what the next exchanges answer */
    size_t response_len;
    ErrorCode error; /* if not SUCCESS, the exchange fails with it */
};
extern struct nsm_fake nsm_fake;

void nsm_fake_reset(void);
/* Answers later exchanges with these bytes. */
void nsm_fake_respond(const void *resp, size_t len);

#endif
