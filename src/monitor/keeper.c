/* keeper.c: the process that keeps an enclave's host records (see keeper.h).
 *
 * Lifetime: the keeper lives from keeper_start to the monitor's record (or its death); it holds
 * the claim (the flock that marks the CID as in use, the same open file description as the
 * monitor's until the monitor closes its copy), the lease file and the launch's report pipe.
 * What it does with them depends only on what it knew at the fork and on the record's three
 * numbers and reason, which it checks: the monitor's word decides no path and no pid. */
#include "monitor/keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocator/lease.h"
#include "common/errors.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "devices/vsock.h"
#include "monitor/monitor.h"
#include "monitor/registry.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

/* The keeper's answer once the records are gone. */
#define KEEPER_DONE 'D'

struct keeper_connect_req {
    int32_t kind; /* KEEPER_CONNECT */
    uint32_t port;
};

struct keeper_answer {
    int32_t r;   /* vsock_listener_connect's */
    int32_t err; /* its errno when r < 0 */
};

/* A guest's connection to a host listener: made here, the descriptor passed back. */
static void serve_connect(struct vm *vm, int fd, uint32_t port)
{
    int cfd = -1;
    int r = vsock_listener_connect(vm->vsock_path, port, &cfd);
    struct keeper_answer a = {r, r < 0 ? errno : 0};
    /* never blocked: a monitor that does not read its answers loses them, and only it */
    if (fd_send(fd, &a, sizeof(a), cfd, MSG_DONTWAIT) < 0)
        alc_log(ALC_LOG_DEBUG, "keeper: an answer not sent: %s", strerror(errno));
    if (cfd >= 0)
        close(cfd);
}

/* Waits until the monitor has ended: its pidfd, else (no pidfd_open) this process reparented. */
static void wait_monitor_end(const struct vm *vm, int pidfd)
{
    while (getppid() == vm->pid) {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        if (pidfd >= 0 ? poll(&p, 1, -1) == 1 : poll(NULL, 0, 100) < 0)
            break;
    }
}

/* The next message from the monitor into m: its size, 0 at the end of the pair or once the
 * monitor has ended (pidfd), never blocked by a monitor that holds the pair open without
 * writing. Descriptors sent along are dropped (plain recv: the kernel closes them). */
static ssize_t next_message(int fd, int pidfd, pid_t monitor, void *m, size_t size)
{
    for (;;) {
        if (pidfd < 0 && getppid() != monitor)
            return 0; /* no pidfd (Linux before 5.3): reparented, so the monitor has ended */
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        int r = poll(p, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 1000);
        if (r < 0 && errno != EINTR)
            return 0;
        if (p[0].revents) {
            ssize_t n = recv(fd, m, size, MSG_DONTWAIT);
            if (n > 0)
                return n;
            if (p[0].revents & (POLLHUP | POLLERR) || (n < 0 && errno != EAGAIN && errno != EINTR))
                return 0; /* the pair's end (its other end closed, or passed away and dropped) */
            /* n == 0 without a hang-up: an empty message, ignored */
        }
        if (pidfd >= 0 && p[1].revents)
            return 0; /* the monitor has ended; a record it sent last is read first above */
    }
}

static void keeper_main(struct vm *vm, const struct enclave_config *cfg, int fd)
{
    /* the terminal's and the engine's signals are the monitor's: the keeper ends when the
     * monitor does, never before */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* no terminal input; and a detached launch's stderr (the launching command's) must close
     * when the monitor reports the launch, which a copy here would prevent */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        if (cfg->ready_fd >= 0)
            dup2(null, 2);
        close(null);
    }
    vm->pool_mem = (struct pool_mem){0}; /* not inherited (MADV_DONTFORK) */
    vsock_forget_published(vm);
    /* the two capabilities the monitor keeps for its uid change are not the keeper's */
    if (sandbox_drop_remaining())
        _exit(125);
    /* the monitor's end is the kernel's word (its pidfd), not the pair's: a monitor that closed
     * its end, or passed it here in a message, is still running */
    int pidfd = (int)syscall(SYS_pidfd_open, vm->pid, 0);
    bool alive = getppid() == vm->pid; /* after pidfd_open: no pid reused in between */

    struct keeper_record rec;
    bool got = false;
    while (alive && !got) {
        union {
            int32_t kind;
            struct keeper_connect_req req;
            struct keeper_record rec;
        } m;
        ssize_t n = next_message(fd, pidfd, vm->pid, &m, sizeof(m));
        if (n == 0)
            break;
        if (m.kind == KEEPER_CONNECT && n == (ssize_t)sizeof(m.req)) {
            serve_connect(vm, fd, m.req.port);
        } else if (m.kind == KEEPER_END && n == (ssize_t)sizeof(m.rec)) {
            rec = m.rec;
            got = true;
        } else {
            alc_log(ALC_LOG_WARN, "keeper: a message of kind %d and %zd bytes ignored", (int)m.kind,
                    n);
        }
    }
    if (!got) {
        /* the monitor died (kill -9, a crash), or closed the pair, or sent what the keeper
         * could not take: nothing of its enclave may stay once it has ended. One that still
         * waits for an answer gets the end of the pair instead. */
        shutdown(fd, SHUT_RDWR);
        wait_monitor_end(vm, pidfd);
        memset(&rec, 0, sizeof(rec));
        rec.err = E_MONITOR_FAILURE;
        alc_log(ALC_LOG_WARN,
                "the monitor of enclave CID %u ended without a report; its records are removed",
                vm->claim.cid);
    }
    rec.why[sizeof(rec.why) - 1] = 0;
    if (rec.err < 0 || rec.err > 99)
        rec.err = E_MONITOR_FAILURE;
    if (rec.finish && !rec.err && cfg->detached) {
        vm->status = rec.status & 0xff;
        registry_finish(vm, rec.why); /* describe shows the exit until terminate-enclave */
    }
    /* the records now (what the monitor waits for); the lease (the pool's CPUs and pages) only
     * once the monitor has ended, the kernel's word: a monitor that only says it ended keeps
     * them counted. pool_acquire waits the moment that takes for a lease whose monitor has
     * ended. */
    registry_leave(vm);
    /* a failed launch is reported only now, when its CID, files and memory are free again */
    if (cfg->ready_fd >= 0 && !rec.reported) {
        int32_t msg[2] = {rec.err ? rec.err : E_ENCLAVE_BOOT_FAILURE, 0};
        if (write(cfg->ready_fd, msg, sizeof(msg)) < 0)
            alc_log(ALC_LOG_DEBUG, "the launching command went away: %s", strerror(errno));
    }
    char done = KEEPER_DONE;
    if (got && send(fd, &done, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        alc_log(ALC_LOG_DEBUG, "the monitor went away before the keeper's answer");
    if (vm->lease.fd >= 0) {
        shutdown(fd, SHUT_RDWR); /* nothing more to say: a monitor still waiting reads the end */
        wait_monitor_end(vm, pidfd);
        pool_lease_release(&vm->lease);
    }
    _exit(0);
}

void keeper_prepare(struct keeper *k)
{
    k->pid = -1;
    k->fd = -1;
    k->oom_fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);
    ssize_t n = k->oom_fd >= 0 ? pread(k->oom_fd, k->oom_old, sizeof(k->oom_old) - 1, 0) : -1;
    if (n <= 0 || pwrite(k->oom_fd, "-1000", 5, 0) != 5) {
        if (k->oom_fd >= 0)
            close(k->oom_fd); /* an unprivileged operator's: the keeper keeps the score */
        k->oom_fd = -1;
        return;
    }
    k->oom_old[n] = 0;
}

void keeper_cancel(struct keeper *k)
{
    if (k->oom_fd < 0)
        return;
    if (pwrite(k->oom_fd, k->oom_old, strlen(k->oom_old), 0) < 0)
        alc_log(ALC_LOG_WARN, "cannot give the monitor its OOM score back: %s", strerror(errno));
    close(k->oom_fd);
    k->oom_fd = -1;
}

int keeper_start(struct vm *vm, const struct enclave_config *cfg, struct keeper *k)
{
    k->pid = -1;
    k->fd = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
        alc_err_report(E_MONITOR_FAILURE, "socketpair: %s", strerror(errno));
        keeper_cancel(k);
        return E_MONITOR_FAILURE;
    }
    /* the pool's hugepages are private mappings: shared with a child, the monitor's first
     * write to each would need a second page (copy on write) that the pool does not have */
    if (vm->pool_mem.host && madvise(vm->pool_mem.host, vm->pool_mem.size, MADV_DONTFORK)) {
        alc_err_report(E_MONITOR_FAILURE, "madvise(MADV_DONTFORK): %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        keeper_cancel(k);
        return E_MONITOR_FAILURE;
    }
    fflush(NULL);
    /* every signal blocked across the fork: the child ignores them before it lets any through
     * (a Ctrl-C at this moment must not end it with the default action) */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        if (k->oom_fd >= 0)
            close(k->oom_fd);
        keeper_main(vm, cfg, sv[1]);
    }
    int fork_errno = errno;
    keeper_cancel(k);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        alc_err_report(E_MONITOR_FAILURE, "fork: %s", strerror(fork_errno));
        close(sv[0]);
        close(sv[1]);
        return E_MONITOR_FAILURE;
    }
    close(sv[1]);
    k->pid = pid;
    k->fd = sv[0];
    /* the description is the keeper's to write from now on */
    close(vm->claim.fd);
    vm->claim.fd = -1;
    return 0;
}

void keeper_finish(struct keeper *k, const struct keeper_record *rec)
{
    if (k->pid < 0)
        return;
    if (send(k->fd, rec, sizeof(*rec), MSG_NOSIGNAL) == (ssize_t)sizeof(*rec)) {
        char done = 0;
        ssize_t n;
        do
            n = recv(k->fd, &done, 1, 0);
        while (n < 0 && errno == EINTR);
        if (n != 1 || done != KEEPER_DONE)
            alc_log(ALC_LOG_WARN, "the keeper ended before it removed the enclave's records");
    } else {
        alc_log(ALC_LOG_WARN, "the keeper is gone: the enclave's records stay until the next "
                              "command removes them");
    }
    close(k->fd);
    k->fd = -1;
    /* reaped if it has ended; a keeper that waits for this process's end to give the lease
     * back (keeper_main) is reaped by whoever inherits it */
    waitpid(k->pid, NULL, WNOHANG);
    k->pid = -1;
}

int keeper_connect(struct keeper *k, uint32_t port, int *fd)
{
    *fd = -1;
    struct keeper_connect_req req = {KEEPER_CONNECT, port};
    if (send(k->fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
        errno = ECONNREFUSED;
        return -1;
    }
    struct keeper_answer a;
    struct iovec iov = {&a, sizeof(a)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    do
        n = recvmsg(k->fd, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len == CMSG_LEN(sizeof(int)) && *fd < 0)
            memcpy(fd, CMSG_DATA(cm), sizeof(int));
    if (n != (ssize_t)sizeof(a) || a.r < 0 || a.r > 1 || *fd < 0) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        errno = n == (ssize_t)sizeof(a) && a.r < 0 && a.err > 0 ? a.err : ECONNREFUSED;
        return -1;
    }
    return a.r;
}

int keeper_gone(const struct keeper *k)
{
    if (k->fd < 0)
        return 0;
    /* the hang-up only: an answer for the device thread may be waiting (POLLIN) */
    struct pollfd p = {.fd = k->fd, .events = 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}
