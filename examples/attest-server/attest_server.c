/* attest_server.c: an example enclave application that hands out attestation documents over
 * vsock. It listens on a vsock port (5005 unless given), and for each connection reads one line
 * "NONCE <hex> [<user-data hex>]\n", asks the NSM (through libnsm) for a document carrying that
 * nonce and user data, writes "DOC <length>\n" and the document's raw bytes, and closes. Bad
 * input gets one "ERR <reason>\n" line. Connections are served one at a time, each bounded by a
 * receive timeout, until the process is killed. See README.md for the protocol. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#if __has_include(<linux/vm_sockets.h>)
#include <linux/vm_sockets.h>
#else
/* musl's headers come without the kernel's: the stable ABI of linux/vm_sockets.h */
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define VMADDR_CID_ANY 0xffffffffu
struct sockaddr_vm {
    sa_family_t svm_family;
    unsigned short svm_reserved1;
    unsigned int svm_port;
    unsigned int svm_cid;
    unsigned char svm_flags;
    unsigned char svm_zero[sizeof(struct sockaddr) - sizeof(sa_family_t) - sizeof(unsigned short) -
                           sizeof(unsigned int) - sizeof(unsigned int) - sizeof(unsigned char)];
};
#endif

#include "alcove/nsm.h"

#define DEFAULT_PORT   5005
#define MAX_FIELD      512                                         /* bytes of nonce or user data */
#define MAX_LINE       (6 + 2 * MAX_FIELD + 1 + 2 * MAX_FIELD + 1) /* "NONCE " hex " " hex "\n" */
#define RECV_TIMEOUT_S 10

static int32_t nsm_fd = -1;

/* Writes all n bytes; -1 on error. */
static int write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k, n -= (size_t)k;
    }
    return 0;
}

static void reply_error(int fd, const char *why)
{
    char line[128];
    int n = snprintf(line, sizeof(line), "ERR %s\n", why);
    write_all(fd, line, (size_t)n);
}

/* Reads one line of at most MAX_LINE bytes, newline included, into buf (NUL-terminated, without
 * the newline). 0, or -1 with the reason in *why. */
static int read_line(int fd, char *buf, const char **why)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t k = read(fd, &c, 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            *why = errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" : "read failed";
            return -1;
        }
        if (k == 0) {
            *why = "no newline";
            return -1;
        }
        if (c == '\n')
            break;
        if (n == MAX_LINE - 1) {
            *why = "line too long";
            return -1;
        }
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = 0;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the hex digits s[0..len) into out (capacity cap). Bytes written, or -1. */
static long unhex(const char *s, size_t len, uint8_t *out, size_t cap)
{
    if (len % 2 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(len / 2);
}

static void serve(int fd)
{
    static char line[MAX_LINE];
    static uint8_t nonce[MAX_FIELD], user_data[MAX_FIELD], doc[NSM_RESPONSE_MAX_SIZE];
    const char *why;
    if (read_line(fd, line, &why) < 0) {
        reply_error(fd, why);
        return;
    }
    if (strncmp(line, "NONCE ", 6) != 0) {
        reply_error(fd, "expected NONCE <hex> [<hex>]");
        return;
    }
    const char *hex = line + 6, *space = strchr(hex, ' ');
    size_t hex_len = space ? (size_t)(space - hex) : strlen(hex);
    long nonce_len = unhex(hex, hex_len, nonce, sizeof(nonce));
    long ud_len = space ? unhex(space + 1, strlen(space + 1), user_data, sizeof(user_data)) : 0;
    if (nonce_len <= 0 || ud_len < 0) {
        reply_error(fd, "nonce and user data: hex, 1..512 and 0..512 bytes");
        return;
    }
    uint32_t doc_len = sizeof(doc);
    ErrorCode rc = nsm_get_attestation_doc(nsm_fd, space ? user_data : NULL, (uint32_t)ud_len,
                                           nonce, (uint32_t)nonce_len, NULL, 0, doc, &doc_len);
    if (rc != ERROR_CODE_SUCCESS) {
        char msg[32];
        snprintf(msg, sizeof(msg), "nsm error %d", (int)rc);
        reply_error(fd, msg);
        fprintf(stderr, "attest-server: attestation failed: error code %d\n", (int)rc);
        return;
    }
    char head[32];
    int n = snprintf(head, sizeof(head), "DOC %u\n", doc_len);
    if (write_all(fd, head, (size_t)n) < 0 || write_all(fd, doc, doc_len) < 0)
        fprintf(stderr, "attest-server: write failed: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
    long port = DEFAULT_PORT;
    if (argc > 2 ||
        (argc == 2 && ((port = strtol(argv[1], NULL, 10)) <= 0 || port > 0xffffffffL))) {
        fprintf(stderr, "usage: attest-server [PORT]   (default %d)\n", DEFAULT_PORT);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    nsm_fd = nsm_lib_init();
    if (nsm_fd < 0) {
        fprintf(stderr, "attest-server: %s: %s\n", NSM_DEVICE_PATH, strerror(errno));
        return 1;
    }
    int ls = socket(AF_VSOCK, SOCK_STREAM, 0);
    struct sockaddr_vm addr;
    memset(&addr, 0, sizeof(addr));
    addr.svm_family = AF_VSOCK;
    addr.svm_cid = VMADDR_CID_ANY;
    addr.svm_port = (unsigned int)port;
    if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(ls, 8) < 0) {
        fprintf(stderr, "attest-server: vsock port %ld: %s\n", port, strerror(errno));
        return 1;
    }
    fprintf(stderr, "attest-server: listening on vsock port %ld\n", port);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            fprintf(stderr, "attest-server: accept: %s\n", strerror(errno));
            return 1;
        }
        struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        serve(fd);
        close(fd);
    }
}
