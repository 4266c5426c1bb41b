/* hello.c: an example enclave program. Build it static (musl-gcc -static or gcc -static) and run
 * it with `alcove run`: it tells what the enclave looks like from the inside. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct utsname u;
    struct sysinfo si;
    unsigned char nonce[8];
    uname(&u);
    sysinfo(&si);
    getrandom(nonce, sizeof(nonce), 0);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));

    printf("Hello from inside an enclave!\n");
    printf("  kernel:   %s %s (%s)\n", u.sysname, u.release, u.version);
    printf("  memory:   %lu MiB for the application, %lu MiB free\n", si.totalram >> 20,
           si.freeram >> 20);
    printf("  vCPUs:    %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("  time:     %s\n", when);
    printf("  random:   ");
    for (size_t i = 0; i < sizeof(nonce); i++)
        printf("%02x", nonce[i]);
    printf(" (RDRAND)\n  args:    ");
    for (int i = 1; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n");
    char line[256];
    if (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = 0;
        printf("  stdin:    \"%s\"\n", line);
    }
    return 0;
}
