/* console_file.c: the application's stdin, stdout and stderr as files. They behave like the
 * ends of pipes (no terminal is ever attached to an enclave). */
#include "console.h"
#include "file.h"
#include "klib.h"
#include "syscall.h"

static long stdin_read(struct file *f, void *buf, size_t len)
{
    return console_read_stdin(buf, len, f->flags & O_NONBLOCK);
}

static uint32_t stdin_poll(struct file *f)
{
    (void)f;
    return console_stdin_poll();
}

static long stdin_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    (void)f;
    if (cmd != FIONREAD)
        return -ENOTTY; /* TCGETS, TIOCGWINSZ ...: not a terminal */
    int n = (int)console_stdin_nread();
    return copy_to_user(arg, &n, sizeof(n)) ? -EFAULT : 0;
}

/* stdout and stderr: always writable (a write waits for ring space if it must) */
static uint32_t stream_poll(struct file *f)
{
    (void)f;
    return POLLOUT | POLLWRNORM;
}

static long stream_write(struct file *f, const void *buf, size_t len)
{
    console_write((unsigned)(uintptr_t)f->priv, buf, len);
    return (long)len;
}

static int stream_stat(struct file *f, struct linux_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = 0xd;
    st->st_ino = 1 + (uint64_t)(uintptr_t)f->priv;
    st->st_nlink = 1;
    st->st_mode = S_IFIFO | 0600;
    st->st_blksize = 4096;
    return 0;
}

/* what /proc/self/fd/N names for the standard streams */
static long stream_name(struct file *f, char *buf, size_t size)
{
    (void)f;
    return ksnprintf(buf, size, "/dev/console");
}

static long stream_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    (void)f;
    (void)cmd;
    (void)arg;
    return -ENOTTY; /* TCGETS, TIOCGWINSZ ...: not a terminal */
}

static const struct file_ops g_stdin_ops = {
    .read = stdin_read,
    .poll = stdin_poll,
    .wake_events = ALC_EV_STDIN,
    .stat = stream_stat,
    .ioctl = stdin_ioctl,
    .name = stream_name,
};
static const struct file_ops g_stdout_ops = {
    .write = stream_write,
    .poll = stream_poll,
    .stat = stream_stat,
    .ioctl = stream_ioctl,
    .name = stream_name,
};

static struct file g_console[3] = {
    {.ops = &g_stdin_ops, .flags = O_RDONLY, .refs = 1, .priv = (void *)0},
    {.ops = &g_stdout_ops,
     .flags = O_WRONLY,
     .refs = 1,
     .priv = (void *)(uintptr_t)ALC_STREAM_STDOUT},
    {.ops = &g_stdout_ops,
     .flags = O_WRONLY,
     .refs = 1,
     .priv = (void *)(uintptr_t)ALC_STREAM_STDERR},
};

struct file *console_file(int which)
{
    return &g_console[which];
}
