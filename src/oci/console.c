/* console.c: the pty of a container with a terminal (see console.h). */
#include "oci/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/fdpass.h"
#include "common/tty_raw.h"
#include "oci/log.h"

static int send_fd(const char *socket_path, int fd, const char *name)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof(a.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(a.sun_path, socket_path, strlen(socket_path) + 1);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    ssize_t n = fd_send(s, name, strlen(name), fd, 0);
    int e = errno;
    close(s);
    errno = e;
    return n < 0 ? -1 : 0;
}

int oci_console_make(const char *socket_path, unsigned rows, unsigned cols, int raw)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) || unlockpt(master)) {
        oci_err(E_FILE_OPERATION, "a pty for the terminal: %s", strerror(errno));
        if (master >= 0)
            close(master);
        return -1;
    }
    char name[64];
    if (ptsname_r(master, name, sizeof(name))) {
        oci_err(E_FILE_OPERATION, "the pty's name: %s", strerror(errno));
        close(master);
        return -1;
    }
    if (rows && cols) {
        struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        ioctl(master, TIOCSWINSZ, &ws);
    }
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        oci_err(E_FILE_OPERATION, "%s: %s", name, strerror(errno));
        close(master);
        return -1;
    }
    /* the enclave's console is a terminal of its own (ALC_BOOT_CONSOLE_TTY): this one passes
     * bytes through untouched, so that its line discipline is the only one (no double echo,
     * no \r\r\n; a ^C is a byte for the enclave's, which signals its foreground group) */
    struct termios t;
    if (raw && tcgetattr(slave, &t) == 0) {
        tty_raw_flags(&t);
        tcsetattr(slave, TCSANOW, &t);
    }
    if (send_fd(socket_path, master, name)) {
        oci_err(E_FILE_OPERATION, "--console-socket %s: %s", socket_path, strerror(errno));
        close(master);
        close(slave);
        return -1;
    }
    close(master);
    return slave;
}
