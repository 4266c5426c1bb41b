/* nsm_fake_transport.c: the fake transport of nsm_fake_transport.h, linked into host tests in
 * place of libnsm's nsm_device.c. */
#include <string.h>

#include "nsm_fake_transport.h"
#include "nsm_transport.h"

struct nsm_fake nsm_fake;

void nsm_fake_reset(void)
{
    memset(&nsm_fake, 0, sizeof(nsm_fake));
}

void nsm_fake_respond(const void *resp, size_t len)
{
    memcpy(nsm_fake.response, resp, len);
    nsm_fake.response_len = len;
}

ErrorCode nsm_transport_exchange(int32_t fd, const uint8_t *req, size_t req_len, uint8_t *resp,
                                 size_t *resp_len)
{
    (void)fd;
    nsm_fake.calls++;
    if (req_len > sizeof(nsm_fake.request))
        return ERROR_CODE_INTERNAL_ERROR;
    memcpy(nsm_fake.request, req, req_len);
    nsm_fake.request_len = req_len;
    if (nsm_fake.error != ERROR_CODE_SUCCESS)
        return nsm_fake.error;
    size_t n = nsm_fake.response_len < *resp_len ? nsm_fake.response_len : *resp_len;
    memcpy(resp, nsm_fake.response, n);
    *resp_len = n;
    return ERROR_CODE_SUCCESS;
}
