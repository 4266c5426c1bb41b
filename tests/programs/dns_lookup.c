/* dns_lookup.c: name lookups through the parent (outbound.bats): getaddrinfo of each NAME, as
 * an unmodified program does it (the libc's resolver, /etc/resolv.conf).
 *
 *   dns_lookup NAME...
 *
 * Prints "NAME: ADDR ADDR ..." (each address once, in the resolver's order) or "NAME: EAI_xxx".
 * Exit status 0 when every name resolved, 1 otherwise. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *gai_name(int e)
{
    switch (e) {
    case EAI_NONAME:
        return "EAI_NONAME";
    case EAI_AGAIN:
        return "EAI_AGAIN";
    case EAI_FAIL:
        return "EAI_FAIL";
    case EAI_SYSTEM:
        return "EAI_SYSTEM";
    default:
        return gai_strerror(e);
    }
}

int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
        int e = getaddrinfo(argv[i], NULL, &hints, &res);
        printf("%s:", argv[i]);
        if (e) {
            printf(" %s\n", gai_name(e));
            status = 1;
            continue;
        }
        char seen[16][INET6_ADDRSTRLEN];
        int nseen = 0;
        for (struct addrinfo *a = res; a; a = a->ai_next) {
            char text[INET6_ADDRSTRLEN];
            const void *ip = a->ai_family == AF_INET
                                 ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                                 : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
            inet_ntop(a->ai_family, ip, text, sizeof(text));
            int dup = 0;
            for (int k = 0; k < nseen; k++)
                dup |= strcmp(seen[k], text) == 0;
            if (dup || nseen == 16)
                continue;
            strcpy(seen[nseen++], text);
            printf(" %s", text);
        }
        printf("\n");
        freeaddrinfo(res);
    }
    return status;
}
