/* stdin_echo.c: reads stdin with reads of varied sizes until EOF, and prints each byte
 * transformed (upper case) plus a summary: the stdin path must deliver every byte once. */
#include <ctype.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    static char buf[100000];
    size_t sizes[] = {1, 3, 4096, 17, 100000, 512};
    unsigned long total = 0, lines = 0, sum = 0, k = 0;
    for (;;) {
        size_t want = sizes[k++ % 6];
        ssize_t n = read(0, buf, want);
        if (n < 0) {
            perror("read");
            return 2;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            buf[i] = (char)toupper((unsigned char)buf[i]);
            lines += buf[i] == '\n';
            sum = sum * 31 + (unsigned char)buf[i];
        }
        fwrite(buf, 1, (size_t)n, stdout);
        total += (unsigned long)n;
    }
    printf("\nbytes=%lu lines=%lu sum=%lu\n", total, lines, sum);
    /* reading again at EOF gives 0 again */
    printf("again=%zd\n", read(0, buf, 10));
    return 0;
}
