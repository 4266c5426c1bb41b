/* console_file.c: the application's stdin, stdout and stderr as files. They behave like the
 * ends of pipes (no terminal is ever attached to an enclave). */
#include "console.h"
#include "file.h"
#include "klib.h"

static long stdin_read(struct file *f, void *buf, size_t len)
{
    (void)f;
    return console_read_stdin(buf, len);
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

static long stream_ioctl(struct file *f, unsigned long cmd, uint64_t arg)
{
    (void)f;
    (void)cmd;
    (void)arg;
    return -ENOTTY; /* TCGETS, TIOCGWINSZ ...: not a terminal */
}

static const struct file_ops g_stdin_ops = {
    .read = stdin_read,
    .stat = stream_stat,
    .ioctl = stream_ioctl,
};
static const struct file_ops g_stdout_ops = {
    .write = stream_write,
    .stat = stream_stat,
    .ioctl = stream_ioctl,
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
