/* out_follow.c: a long-lived client whose allowed name changes address while it runs
 * (reresolve.bats): it looks the name up through the parent with the libc's resolver and
 * fetches from the address it gets, as an ordinary program does, and says what it sees.
 *
 *   out_follow NAME PORT OLD NEW PERIOD
 *
 * First NAME must resolve to OLD, and OLD:PORT serve a page; then "ready" (the test changes the
 * name's address on the host). With NEW an address: it looks NAME up every 200 ms until the
 * answer is NEW, fetches from NEW, connects to OLD at once (the previous generation: allowed),
 * then again 2.5 PERIODs (seconds) later (refused: EACCES). With NEW "-" (the host's lookup
 * hangs): for 3 PERIODs it looks NAME up and fetches from OLD, each within 3 s, then prints
 * "checked" and sleeps (the test ends the enclave). Each step prints a line; exit status 0 when
 * everything was as said, 1 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int g_port;

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* NAME's first IPv4 address as text into out ("EAI" when it does not resolve). */
static void lookup(const char *name, char *out, size_t size)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(name, NULL, &hints, &res) || !res) {
        snprintf(out, size, "EAI");
        return;
    }
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, out, (socklen_t)size);
    freeaddrinfo(res);
}

/* Connects to addr:g_port; with fetch, gets /index.txt and prints its last line. 0, or the
 * connect's errno (-1: the page did not come). */
static int visit(const char *addr, int fetch)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    inet_pton(AF_INET, addr, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return e;
    }
    int r = 0;
    if (fetch) {
        char req[128], buf[4096];
        int n = snprintf(req, sizeof(req), "GET /index.txt HTTP/1.0\r\n\r\n");
        size_t have = 0;
        ssize_t k = write(fd, req, (size_t)n);
        while (k > 0 && have < sizeof(buf) - 1 &&
               (k = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
            have += (size_t)k;
        buf[have] = 0;
        char *last = strstr(buf, "\r\n\r\n");
        r = last && strstr(last, "hello") ? 0 : -1;
        if (!r)
            printf("page from %s: %s", addr, last + 4);
    }
    close(fd);
    return r;
}

static const char *ename(int e)
{
    return e == 0              ? "ok"
           : e == EACCES       ? "EACCES"
           : e == ECONNREFUSED ? "ECONNREFUSED"
           : e < 0             ? "no page"
                               : strerror(e);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: out_follow NAME PORT OLD NEW PERIOD\n");
        return 2;
    }
    const char *name = argv[1], *old = argv[3], *new = argv[4];
    g_port = atoi(argv[2]);
    int period = atoi(argv[5]);
    char got[64];
    int ok = 1;
    lookup(name, got, sizeof(got));
    int e = visit(old, 1);
    printf("first: %s -> %s, %s\n", name, got, ename(e));
    if (strcmp(got, old) || e)
        return 1;
    printf("ready\n");
    fflush(stdout);
    long t0 = now_ms();
    if (strcmp(new, "-") == 0) {
        /* the host's lookup hangs: answers and connects go on from the last addresses */
        long worst = 0;
        while (now_ms() - t0 < 3000L * period) {
            long t = now_ms();
            lookup(name, got, sizeof(got));
            e = visit(got, 1);
            long took = now_ms() - t;
            worst = took > worst ? took : worst;
            if (strcmp(got, old) || e || took > 3000) {
                printf("during the hang: %s -> %s, %s in %ld ms\n", name, got, ename(e), took);
                ok = 0;
            }
            usleep(200000);
        }
        printf("checked: the slowest lookup and fetch took %ld ms\n", worst);
        fflush(stdout);
        sleep(600);
        return ok ? 0 : 1;
    }
    for (;;) {
        lookup(name, got, sizeof(got));
        if (strcmp(got, new) == 0)
            break;
        if (now_ms() - t0 > 120000) {
            printf("still %s after 120 s\n", got);
            return 1;
        }
        usleep(200000);
    }
    printf("moved: %s -> %s after %ld ms\n", name, got, now_ms() - t0);
    e = visit(new, 1);
    int eo = visit(old, 0);
    printf("new: %s; old at once: %s\n", ename(e), ename(eo));
    ok = !e && !eo;
    fflush(stdout);
    usleep((useconds_t)period * 2500000);
    eo = visit(old, 0);
    e = visit(new, 1);
    printf("new: %s; old later: %s\n", ename(e), ename(eo));
    return ok && !e && eo == EACCES ? 0 : 1;
}
