/* slow_resolver.c: an LD_PRELOAD library that makes getaddrinfo as slow as a resolver whose
 * servers do not answer: it sleeps $SLOW_RESOLVER_S seconds before resolving. For the test that
 * SIGTERM ends vsock-proxy at once while it resolves REMOTE_ADDR (cli_checks.bats). */
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <unistd.h>

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    const char *s = getenv("SLOW_RESOLVER_S");
    if (s)
        sleep((unsigned)atoi(s));
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
        (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))dlsym(
            RTLD_NEXT, "getaddrinfo");
    return real ? real(node, service, hints, res) : EAI_FAIL;
}
