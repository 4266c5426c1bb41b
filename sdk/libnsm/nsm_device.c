/* nsm_device.c: libnsm's access to the NSM device: opening and closing /dev/nsm, and one
 * request/response exchange through the NSM_IOCTL_RAW ioctl of Linux's drivers/misc/nsm.c. The
 * ioctl takes two {address, length} pairs; the kernel writes the response length (truncated to
 * the buffer) back into the response pair. Errors map as nsm-api's driver maps them: EMSGSIZE is
 * ERROR_CODE_INPUT_TOO_LARGE, anything else ERROR_CODE_INTERNAL_ERROR. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "alcove/nsm.h"
#include "nsm_transport.h"

/* struct nsm_raw of include/uapi/linux/nsm.h, spelled out: libc headers may lack linux/nsm.h. */
struct nsm_iovec_raw {
    uint64_t addr;
    uint64_t len;
};
struct nsm_raw_msg {
    struct nsm_iovec_raw request;
    struct nsm_iovec_raw response;
};
_Static_assert(sizeof(struct nsm_raw_msg) == 32, "nsm_raw is 32 bytes");
/* _IOWR(0x0A, 0x00, struct nsm_raw) */
#define NSM_IOCTL_RAW 0xC0200A00u

int32_t nsm_lib_init(void)
{
    return open(NSM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

void nsm_lib_exit(int32_t fd)
{
    close(fd);
}

ErrorCode nsm_transport_exchange(int32_t fd, const uint8_t *req, size_t req_len, uint8_t *resp,
                                 size_t *resp_len)
{
    struct nsm_raw_msg msg = {
        .request = {(uint64_t)(uintptr_t)req, req_len},
        .response = {(uint64_t)(uintptr_t)resp, *resp_len},
    };
    /* no retry on EINTR: the request may have reached the device (an extension, say) */
    if (ioctl(fd, NSM_IOCTL_RAW, &msg) < 0)
        return errno == EMSGSIZE ? ERROR_CODE_INPUT_TOO_LARGE : ERROR_CODE_INTERNAL_ERROR;
    if (msg.response.len > *resp_len)
        return ERROR_CODE_INTERNAL_ERROR;
    *resp_len = (size_t)msg.response.len;
    return ERROR_CODE_SUCCESS;
}
