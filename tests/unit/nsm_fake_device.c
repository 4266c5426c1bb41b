/* nsm_fake_device.c: an LD_PRELOAD module that gives a host process a /dev/nsm, so that the
 * enclave test programs nsm_raw.c and nsm_lib.c (built for the host) can run their checks
 * without an enclave. open("/dev/nsm") returns a descriptor of /dev/null that this module
 * recognizes; ioctl on it behaves as Linux's drivers/misc/nsm.c (EINVAL for another command,
 * EMSGSIZE for a request over 0x1000 bytes, the response truncated to the caller's buffer and
 * its length written back) and hands each request to the monitor's own NSM handler
 * (src/attest/nsm.c), signing documents with a CA generated in memory. */
/* define open and open64 both, so no redirection of one to the other */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "attest/ca.h"
#include "attest/nsm.h"

#define NSM_IOCTL_RAW 0xC0200A00ul

struct nsm_iovec_raw {
    uint64_t addr, len;
};
struct nsm_raw_msg {
    struct nsm_iovec_raw request, response;
};

static int fake_fd = -1;
static struct nsm nsm;
static struct attest_signer signer;

static void setup_nsm(void)
{
    static const char module_id[] = "i-0123456789abcdef0-enc0123456789abcdef";
    uint8_t pcr[3][NSM_PCR_SIZE];
    char why[256];
    for (int i = 0; i < 3; i++)
        memset(pcr[i], 0x10 + i, NSM_PCR_SIZE);
    struct attest_ca *ca = ca_generate("fake-nsm.alcove-enclaves", time(NULL), why, sizeof(why));
    if (!ca || ca_issue_signer(ca, module_id, time(NULL), &signer, why, sizeof(why)) ||
        nsm_init(&nsm, pcr[0], pcr[1], pcr[2], NULL, false, module_id, &signer)) {
        fprintf(stderr, "nsm_fake_device: %s\n", ca ? why : "no CA");
        abort();
    }
    ca_free(ca);
}

static int open_common(const char *name, const char *path, int flags, va_list ap)
{
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, name);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
    if (path && strcmp(path, "/dev/nsm") == 0) {
        if (fake_fd < 0)
            setup_nsm();
        int fd = real("/dev/null", O_RDWR | (flags & O_CLOEXEC));
        if (fd >= 0)
            fake_fd = fd;
        return fd;
    }
    return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int fd = open_common("open", path, flags, ap);
    va_end(ap);
    return fd;
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int fd = open_common("open64", path, flags, ap);
    va_end(ap);
    return fd;
}

int ioctl(int fd, unsigned long cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (fd != fake_fd || fake_fd < 0) {
        int (*real)(int, unsigned long, ...) =
            (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
        return real(fd, cmd, arg);
    }
    if (cmd != NSM_IOCTL_RAW) {
        errno = EINVAL;
        return -1;
    }
    struct nsm_raw_msg *m = arg;
    if (m->request.len > NSM_REQUEST_MAX_SIZE) {
        errno = EMSGSIZE;
        return -1;
    }
    static uint8_t req[NSM_REQUEST_MAX_SIZE], resp[NSM_RESPONSE_MAX_SIZE];
    memcpy(req, (const void *)(uintptr_t)m->request.addr, m->request.len);
    size_t n = nsm_handle(&nsm, req, m->request.len, resp, sizeof(resp));
    if (n > m->response.len)
        n = m->response.len;
    memcpy((void *)(uintptr_t)m->response.addr, resp, n);
    m->response.len = n;
    return 0;
}

int close(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "close");
    if (fd == fake_fd && fd >= 0)
        fake_fd = -1;
    return real(fd);
}
