/* vsock_heartbeat.c: Nitro's heartbeat at boot, over an ordinary vsock connection to the parent
 * (CID 3, port 9000): begin sends the REQUEST so that the boot goes on while the monitor answers,
 * end waits for the RESPONSE, sends 0xB7, reads it back and closes (vsock.h, docs/vsock.md).
 */
#include "vsock_conn.h"

#include "klib.h"
#include "vfs.h"

static struct file *g_hb;

int vsock_heartbeat_begin(void)
{
    if (!vsock_present())
        return -ENODEV;
    struct vsock *s = vsock_new(NULL);
    g_hb = s ? vsock_file_for(s, 0) : NULL;
    if (!g_hb) {
        if (s)
            vsock_free(s);
        return -ENOMEM;
    }
    struct sockaddr_vm a = {.svm_family = AF_VSOCK,
                            .svm_port = ALC_VSOCK_HEARTBEAT_PORT,
                            .svm_cid = ALC_VSOCK_CID_HOST};
    /* the deadline starts now: as long as the monitor itself waits (a loaded host is slow) */
    s->o.connect_timeout_ns = (int64_t)ALC_HEARTBEAT_TIMEOUT_S * NSEC_PER_SEC;
    int err = vsock_connect(s, &a, sizeof(a), true);
    return err == -EINPROGRESS ? 0 : err;
}

int vsock_heartbeat_end(void)
{
    if (!g_hb)
        return -ENODEV;
    struct vsock *s = g_hb->priv;
    struct sockaddr_vm a = s->remote;
    uint8_t b = ALC_VSOCK_HEARTBEAT_BYTE;
    struct linux_iovec v = {(uint64_t)&b, 1};
    struct sock_io io = {.iov = &v, .cnt = 1};
    long err = vsock_connect(s, &a, sizeof(a), false); /* waits for the answer */
    if (err == -EISCONN)
        err = 0;
    if (!err) {
        long n = vsock_send(s, &io, 1, MSG_NOSIGNAL, false);
        err = n == 1 ? 0 : n < 0 ? n : -EIO;
    }
    if (!err) {
        b = 0;
        io = (struct sock_io){.iov = &v, .cnt = 1};
        s->o.sk.rcvtimeo_ns = (int64_t)ALC_HEARTBEAT_TIMEOUT_S * NSEC_PER_SEC;
        long n = vsock_recv(s, &io, 1, 0);
        err = n == 1 ? (b == ALC_VSOCK_HEARTBEAT_BYTE ? 0 : -EPROTO) : n < 0 ? n : -ECONNRESET;
    }
    file_discard(g_hb);
    g_hb = NULL;
    return (int)err;
}
