/* stdio.c: the host end of the enclave's console rings (see stdio.h).
 *
 * The output ring carries records (stream, length, bytes) in the order the enclave wrote them,
 * so stdout and stderr keep their interleaving. The consumer says when it is about to sleep
 * (consumer_sleeping) so the producer kicks the doorbell only then: exits are expensive on our
 * KVM. Ring indices come from the guest and are checked before use; a bad one ends the enclave.
 */
#include "devices/stdio.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/log.h"
#include "devices/ring.h"
#include "monitor/monitor.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

struct stdio_dev {
    struct vm *vm;
    struct stdio_config cfg;
    struct alc_ring *out, *in;
    uint8_t *out_data, *in_data;
    uint64_t out_size, in_size;
    int kick_out, kick_in, stop_fd;
    pthread_t thread;
    int thread_started;
    int out_broken[4]; /* a host stream that refused writes (closed pipe): drop its output */
    int abandon;       /* stopping, and what is left of the output is not to be waited for */
};

/* The doorbells are eventfds the vCPU thread signals when the guest rings them (exits.c).
 * KVM's ioeventfd would save that exit (~15 us of ~50 us here), but a VM with any ioeventfd
 * takes ~15 ms longer to destroy on our KVM (an SRCU grace period), which would double the
 * launch-to-exit time of a short enclave; kicks are rare (the guest kicks only when the I/O
 * thread sleeps), so the plain exit is the better trade for now. */
static int make_doorbell(int *fd)
{
    *fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return *fd < 0 ? -1 : 0;
}

void stdio_doorbell(struct vm *vm, unsigned nr)
{
    struct stdio_dev *d = vm->stdio;
    int fd = nr == ALC_HC_KICK_CONSOLE ? d->kick_out : d->kick_in;
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof(one));
    (void)w;
}

static void drain_eventfd(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

static void write_all(struct stdio_dev *d, unsigned stream, int fd, const struct iovec *iov,
                      int cnt)
{
    if (d->out_broken[stream])
        return;
    struct iovec local[4];
    memcpy(local, iov, (size_t)cnt * sizeof(*iov));
    struct iovec *v = local;
    while (cnt > 0) {
        /* a host stream nobody reads must not keep the enclave's end waiting: stdio_stop
         * interrupts a blocked write (SIGUSR1, no SA_RESTART) once the output is abandoned */
        if (__atomic_load_n(&d->abandon, __ATOMIC_ACQUIRE)) {
            d->out_broken[stream] = 1;
            return;
        }
        ssize_t n = writev(fd, v, cnt);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                poll(&p, 1, 100);
                continue;
            }
            d->out_broken[stream] = 1;
            return;
        }
        while (cnt > 0 && (size_t)n >= v->iov_len) {
            n -= (ssize_t)v->iov_len;
            v++;
            cnt--;
        }
        if (cnt > 0) {
            v->iov_base = (uint8_t *)v->iov_base + n;
            v->iov_len -= (size_t)n;
        }
    }
}

static void emit_log(const struct iovec *iov, int cnt, uint64_t len)
{
    char line[1024];
    uint64_t n = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
    uint64_t done = 0;
    for (int i = 0; i < cnt && done < n; i++) {
        uint64_t take = iov[i].iov_len < n - done ? iov[i].iov_len : n - done;
        memcpy(line + done, iov[i].iov_base, take);
        done += take;
    }
    line[n] = 0;
    if (n == 0)
        return;
    int level = (unsigned char)line[0];
    for (uint64_t i = 1; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
            line[i] = '?';
    alc_log(level > ALC_LOG_TRACE ? ALC_LOG_TRACE : level, "%s", line + 1);
}

/* Consumes every complete record. Returns -1 if the guest corrupted the ring. */
static int drain_output(struct stdio_dev *d)
{
    struct alc_ring *r = d->out;
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    uint64_t tail = r->tail;
    int drained = head != tail;
    struct ring_record rec;
    enum ring_status st;
    while ((st = ring_next_record(d->out_data, d->out_size, head, tail, &rec)) == RING_RECORD) {
        if (rec.stream == ALC_STREAM_LOG)
            emit_log(rec.iov, rec.iovcnt, rec.len);
        else
            write_all(d, rec.stream,
                      rec.stream == ALC_STREAM_STDOUT ? d->cfg.out_fd : d->cfg.err_fd, rec.iov,
                      rec.iovcnt);
        tail = rec.next_tail;
        __atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
    }
    if (st == RING_CORRUPT) {
        vm_end(d->vm, VM_END_VIOLATION, 137,
               "malformed output ring (head %" PRIu64 ", tail %" PRIu64 ")", head, tail);
        return -1;
    }
    if (drained) {
        __atomic_or_fetch(&d->vm->shared->events, ALC_EV_CONSOLE_SPACE, __ATOMIC_ACQ_REL);
        vm_wake_waiters(d->vm);
    }
    return 0;
}

/* Serves a pending stdin request; the host's stdin has been reported ready. One read(), as
 * the program's own read() would do natively. */
static void serve_stdin(struct stdio_dev *d)
{
    struct alc_ring *r = d->in;
    uint64_t want = __atomic_load_n(&r->want, __ATOMIC_ACQUIRE);
    if (want == 0)
        return;
    uint64_t head = r->head, tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    if (head - tail > d->in_size) {
        vm_end(d->vm, VM_END_VIOLATION, 137, "stdin ring indices out of range");
        return;
    }
    uint64_t space = d->in_size - (head - tail);
    uint64_t off = head & (d->in_size - 1);
    uint64_t n = want < space ? want : space;
    if (n > d->in_size - off)
        n = d->in_size - off;
    if (n == 0)
        return; /* the guest has not consumed what it has: it will ask again */
    ssize_t got = read(d->cfg.in_fd, d->in_data + off, n);
    if (got > 0)
        __atomic_store_n(&r->head, head + (uint64_t)got, __ATOMIC_RELEASE);
    else if (got == 0)
        __atomic_store_n(&r->eof, 1, __ATOMIC_RELEASE);
    else if (errno == EINTR || errno == EAGAIN)
        return;
    else
        __atomic_store_n(&r->error, -errno, __ATOMIC_RELEASE);
    __atomic_store_n(&r->want, 0, __ATOMIC_RELEASE);
    __atomic_or_fetch(&d->vm->shared->events, ALC_EV_STDIN, __ATOMIC_ACQ_REL);
    vm_wake_waiters(d->vm);
}

static void *stdio_thread(void *arg)
{
    struct stdio_dev *d = arg;
    for (;;) {
        /* once the monitor is sandboxed: before anything done for a running guest */
        sandbox_thread_class(SANDBOX_DEVICE);
        if (drain_output(d))
            break;
        /* about to sleep: from here on the producer must kick */
        __atomic_store_n(&d->out->consumer_sleeping, 1, __ATOMIC_SEQ_CST);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&d->out->head, __ATOMIC_ACQUIRE) != d->out->tail) {
            __atomic_store_n(&d->out->consumer_sleeping, 0, __ATOMIC_RELAXED);
            continue;
        }
        int stdin_pending = __atomic_load_n(&d->in->want, __ATOMIC_ACQUIRE) != 0 &&
                            !__atomic_load_n(&d->in->eof, __ATOMIC_ACQUIRE);
        struct pollfd p[4] = {
            {.fd = d->kick_out, .events = POLLIN},
            {.fd = d->kick_in, .events = POLLIN},
            {.fd = d->stop_fd, .events = POLLIN},
            {.fd = stdin_pending ? d->cfg.in_fd : -1, .events = POLLIN},
        };
        int n = poll(p, 4, -1);
        __atomic_store_n(&d->out->consumer_sleeping, 0, __ATOMIC_SEQ_CST);
        if (n < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            drain_eventfd(d->kick_out);
        if (p[1].revents)
            drain_eventfd(d->kick_in);
        if (p[2].revents) {
            drain_output(d);
            break;
        }
        if (p[3].fd >= 0 && p[3].revents)
            serve_stdin(d); /* readable, at its end, or broken: read() says which */
    }
    return NULL;
}

int stdio_start(struct vm *vm, const struct stdio_config *cfg)
{
    struct stdio_dev *d = calloc(1, sizeof(*d));
    if (!d)
        return E_MONITOR_FAILURE;
    d->vm = vm;
    d->cfg = *cfg;
    d->kick_out = d->kick_in = d->stop_fd = -1;
    d->out =
        GPA_PTR(&vm->mem, vm->layout.out_ring_gpa, ALC_RING_DATA_OFFSET + LAYOUT_OUT_RING_DATA);
    d->in = GPA_PTR(&vm->mem, vm->layout.in_ring_gpa, ALC_RING_DATA_OFFSET + LAYOUT_IN_RING_DATA);
    d->out_data = (uint8_t *)d->out + ALC_RING_DATA_OFFSET;
    d->in_data = (uint8_t *)d->in + ALC_RING_DATA_OFFSET;
    d->out_size = LAYOUT_OUT_RING_DATA;
    d->in_size = LAYOUT_IN_RING_DATA;
    vm->stdio = d;
    if (make_doorbell(&d->kick_out) || make_doorbell(&d->kick_in)) {
        alc_err_report(E_MONITOR_FAILURE, "eventfd: %s", strerror(errno));
        return E_MONITOR_FAILURE;
    }
    d->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (d->stop_fd < 0 || pthread_create(&d->thread, NULL, stdio_thread, d)) {
        alc_err_report(E_THREAD, "cannot start the I/O thread");
        return E_THREAD;
    }
    d->thread_started = 1;
    return 0;
}

/* Whether the output still owed to the host may be dropped: the enclave was ended from the host
 * (a signal, TERMINATE), or a terminating signal, or one `alcove-oci kill` carried (its KILL),
 * waits while the drain is stuck. */
static bool abandon_output(struct vm *vm)
{
    if (vm->end == VM_END_HOST)
        return true;
    sigset_t pending;
    if (sigpending(&pending))
        return false;
    return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 ||
           sigismember(&pending, SIGHUP) == 1 || sigismember(&pending, SIGQUIT) == 1 ||
           sigismember(&pending, MONITOR_SIGNAL_CARRIER) == 1;
}

void stdio_stop(struct vm *vm)
{
    struct stdio_dev *d = vm->stdio;
    if (!d)
        return;
    if (d->thread_started) {
        uint64_t one = 1;
        ssize_t w = write(d->stop_fd, &one, sizeof(one));
        (void)w;
        /* the output is drained to the host, unless the host stream does not take it and the
         * enclave's end came from the host: then the thread is interrupted until it returns */
        for (;;) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 10 * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            if (pthread_timedjoin_np(d->thread, NULL, &until) == 0)
                break;
            if (!d->abandon && abandon_output(vm))
                __atomic_store_n(&d->abandon, 1, __ATOMIC_RELEASE);
            if (d->abandon)
                pthread_kill(d->thread, SIGUSR1);
        }
    }
    if (d->stop_fd >= 0)
        close(d->stop_fd);
    if (d->kick_out >= 0)
        close(d->kick_out);
    if (d->kick_in >= 0)
        close(d->kick_in);
    free(d);
    vm->stdio = NULL;
}
