/* resolve.c: vsock-proxy's addresses (see resolve.h). getaddrinfo gives no TTL, so the cache of
 * the destination's addresses is refreshed on a fixed period by its own thread, which is the
 * only one that blocks on DNS: the workers copy the current list under a mutex when they dial.
 * A refresh that fails, or finds no permitted address, keeps the previous list. */
#include "proxy/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool addr_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return false;
}

bool addr_list_has_ip(const struct addr_list *list, const struct sockaddr_storage *a)
{
    for (int i = 0; i < list->n; i++)
        if (addr_same_ip(&list->a[i], a))
            return true;
    return false;
}

void addr_list_add(struct addr_list *list, const struct sockaddr_storage *a, socklen_t len)
{
    if (list->n >= ADDR_LIST_MAX || addr_list_has_ip(list, a) || len > sizeof(list->a[0]))
        return;
    memset(&list->a[list->n], 0, sizeof(list->a[0]));
    memcpy(&list->a[list->n], a, len);
    list->len[list->n] = len;
    list->n++;
}

const char *addr_ip_string(const struct sockaddr_storage *a, char *buf, size_t size)
{
    const void *src = a->ss_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)a)->sin_addr;
    if (!inet_ntop(a->ss_family, src, buf, (socklen_t)size))
        snprintf(buf, size, "?");
    return buf;
}

int resolve_host(const char *host, uint16_t port, int family, struct addr_list *out)
{
    out->n = 0;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM};
    hints.ai_flags = AI_NUMERICSERV;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0)
        return rc;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            addr_list_add(out, (const struct sockaddr_storage *)ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(res);
    return out->n ? 0 : EAI_NONAME;
}

void addr_cache_init(struct addr_cache *c, const struct addr_list *first)
{
    pthread_mutex_init(&c->lock, NULL);
    c->cur = *first;
    c->started = false;
    c->stop_pipe[0] = c->stop_pipe[1] = -1;
}

void addr_cache_get(struct addr_cache *c, struct addr_list *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->cur;
    pthread_mutex_unlock(&c->lock);
}

static void *refresh_main(void *arg)
{
    struct addr_cache *c = arg;
    for (;;) {
        struct pollfd p = {.fd = c->stop_pipe[0], .events = POLLIN};
        int n = poll(&p, 1, c->refresh_s * 1000);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != 0)
            return NULL; /* stop */
        struct addr_list found, keep = {.n = 0};
        if (resolve_host(c->host, c->port, c->family, &found) != 0)
            continue;
        for (int i = 0; i < found.n; i++)
            if (c->any_ip || addr_list_has_ip(&c->allowed, &found.a[i]))
                addr_list_add(&keep, &found.a[i], found.len[i]);
        if (keep.n == 0)
            continue;
        pthread_mutex_lock(&c->lock);
        c->cur = keep;
        pthread_mutex_unlock(&c->lock);
    }
}

int addr_cache_start_refresh(struct addr_cache *c)
{
    if (pipe2(c->stop_pipe, O_CLOEXEC) != 0)
        return -errno;
    int rc = pthread_create(&c->thread, NULL, refresh_main, c);
    if (rc != 0) {
        close(c->stop_pipe[0]);
        close(c->stop_pipe[1]);
        c->stop_pipe[0] = c->stop_pipe[1] = -1;
        return -rc;
    }
    c->started = true;
    return 0;
}

bool addr_cache_stop(struct addr_cache *c, int wait_ms)
{
    if (!c->started)
        return true;
    if (c->stop_pipe[1] >= 0)
        close(c->stop_pipe[1]); /* the thread sees POLLHUP */
    c->stop_pipe[1] = -1;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until); /* pthread_timedjoin_np's clock */
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    if (pthread_timedjoin_np(c->thread, NULL, &until) != 0)
        return false; /* still resolving: it ends with the process */
    close(c->stop_pipe[0]);
    c->started = false;
    return true;
}
