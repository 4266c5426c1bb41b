/* test_console_tty.c: the console as a terminal (enclave/dev/console_tty.c) over the real pty pair
 * and line discipline (dev/pty.c, dev/tty_ldisc.c), on the host: the kernel around them (the
 * file system's lookups and opens, the first process, signals, the console rings) is replaced by
 * the few stand-ins below, so that what the pump does is checked without an enclave: the slave
 * as pid 1's stdio and controlling terminal, its output with ONLCR to the console, typed input
 * echoed and edited, ^C as SIGINT to the foreground group, a resize as SIGWINCH, input held back
 * while the line discipline is full and given once a read makes room, the end of the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the C library's stdio.h names these too (same values) */
#undef RENAME_NOREPLACE
#undef RENAME_EXCHANGE
#undef RENAME_WHITEOUT

#include "console.h"
#include "file.h"
#include "kernel.h"
#include "process.h"
#include "signal.h"
#include "syscall.h"
#include "tty.h"
#include "vfs.h"

/* ---- stand-ins for the kernel ---- */
static struct alc_boot_info g_boot_info;
const struct alc_boot_info *g_boot = &g_boot_info;
static struct alc_shared g_shared_page;

static struct process g_first = {.pid = 1, .pgid = 1, .sid = 1};
static uint32_t g_signals; /* bit N: signal N sent to pid 1 */

struct process *current_process(void)
{
    return &g_first;
}
struct process *process_list(void)
{
    return &g_first;
}
int signal_send_proc(struct process *p, int sig, const struct linux_siginfo *info,
                     struct thread *target)
{
    (void)info;
    (void)target;
    if (p == &g_first)
        g_signals |= 1u << sig;
    return 0;
}
int signal_action(int sig, const struct linux_sigaction *act, struct linux_sigaction *old)
{
    (void)sig;
    (void)act;
    memset(old, 0, sizeof(*old));
    return 0;
}
uint64_t signal_blocked(void)
{
    return 0;
}
bool jobctl_orphaned(const struct process *p)
{
    (void)p;
    return false;
}
bool cred_privileged(void)
{
    return true;
}
void poll_notify(struct file *f, uint32_t key)
{
    (void)f;
    (void)key;
}
void wait_on_file(struct file *f)
{
    (void)f;
}
int wait_until(bool (*ready)(void *arg), void *arg, uint32_t events, int64_t deadline_ns)
{
    (void)events;
    (void)deadline_ns;
    return ready(arg) ? 0 : -EINTR; /* nothing else runs here: never wait */
}
int64_t time_monotonic_ns(void)
{
    return 0;
}
int copy_from_user(void *dst, uint64_t src, size_t len)
{
    memcpy(dst, (const void *)(uintptr_t)src, len);
    return 0;
}
int copy_to_user(uint64_t dst, const void *src, size_t len)
{
    memcpy((void *)(uintptr_t)dst, src, len);
    return 0;
}
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
void *kzalloc(size_t size)
{
    return calloc(1, size);
}
void kfree(void *p)
{
    free(p);
}

/* the file system: /dev/ptmx, and the /dev/pts/N that pty.c links */
static struct inode g_ptmx, g_devpts_dir;
static struct inode *g_pts[4];
static int ptmx_open(struct inode *ino, uint32_t flags, struct file **out)
{
    return pty_open_ptmx(ino, flags, out);
}
static const struct inode_ops g_ptmx_iops = {.open = ptmx_open};

struct inode *vfs_new_inode(uint32_t mode, uint32_t dev, uint32_t flags)
{
    struct inode *i = calloc(1, sizeof(*i));
    i->mode = mode;
    i->dev = dev;
    i->flags = flags;
    return i;
}
struct file *vfs_open_inode(struct inode *ino, uint32_t flags)
{
    struct file *f = calloc(1, sizeof(*f));
    f->flags = flags & (O_ACCMODE | O_NONBLOCK);
    f->inode = ino;
    return f;
}
int vfs_link(struct inode *dir, const char *name, uint32_t len, struct inode *child, bool copy)
{
    (void)dir;
    (void)len;
    (void)copy;
    g_pts[atoi(name)] = child;
    return 0;
}
int vfs_unlink(struct inode *dir, const char *name, uint32_t len)
{
    (void)dir;
    (void)len;
    g_pts[atoi(name)] = NULL;
    return 0;
}
void vfs_get(struct inode *i)
{
    i->refs++;
}
void vfs_put(struct inode *i)
{
    i->refs--;
}
void vfs_drop(struct inode *i)
{
    (void)i;
}
void vfs_file_release(struct file *f)
{
    free(f);
}
int vfs_file_stat(struct file *f, struct linux_stat *st)
{
    (void)f;
    memset(st, 0, sizeof(*st));
    return 0;
}
int vfs_lookup(struct inode *base, const char *path, unsigned flags, struct inode **out)
{
    (void)base;
    (void)flags;
    if (strcmp(path, "/dev/ptmx") == 0) {
        *out = &g_ptmx;
        return 0;
    }
    if (strncmp(path, "/dev/pts/", 9) == 0 && g_pts[atoi(path + 9)]) {
        *out = g_pts[atoi(path + 9)];
        return 0;
    }
    return -ENOENT;
}
int vfs_open(struct inode *ino, uint32_t flags, struct file **out)
{
    return ino->iops->open(ino, flags, out);
}

/* the first process's descriptors 0 to 2 */
static struct file *g_fds[3];
int fd_close(int fd)
{
    g_fds[fd] = NULL;
    return 0;
}
int fd_install(struct file *f, int min, bool cloexec)
{
    (void)cloexec;
    for (int fd = min; fd < 3; fd++) {
        if (!g_fds[fd]) {
            f->refs++;
            g_fds[fd] = f;
            return fd;
        }
    }
    return -EMFILE;
}
int fd_dup_to(int oldfd, int newfd, bool cloexec)
{
    (void)cloexec;
    g_fds[newfd] = g_fds[oldfd];
    g_fds[newfd]->refs++;
    return newfd;
}
void file_discard(struct file *f)
{
    (void)f;
}

/* the console rings: what the host typed, and what went out */
static char g_out[65536];
static size_t g_out_len;
static uint8_t g_in[8192];
static size_t g_in_len, g_in_off;
static bool g_in_eof;
static int g_requests;

void console_write(unsigned stream, const void *buf, size_t len)
{
    assert_int_equal(stream, ALC_STREAM_STDOUT);
    assert_true(g_out_len + len <= sizeof(g_out));
    memcpy(g_out + g_out_len, buf, len);
    g_out_len += len;
}
long console_stdin_pull(void *buf, size_t len)
{
    if (g_in_off < g_in_len) {
        size_t n = g_in_len - g_in_off < len ? g_in_len - g_in_off : len;
        memcpy(buf, g_in + g_in_off, n);
        g_in_off += n;
        return (long)n;
    }
    if (g_in_eof)
        return 0;
    g_requests++;
    return -EAGAIN;
}

/* ---- helpers ---- */
static void type(const char *s, size_t len)
{
    memcpy(g_in + g_in_len, s, len);
    g_in_len += len;
    console_tty_event(ALC_EV_STDIN);
}

static void expect_out(const char *s)
{
    size_t len = strlen(s);
    if (g_out_len != len || memcmp(g_out, s, len)) {
        fprintf(stderr, "console output (%zu bytes): ", g_out_len);
        for (size_t i = 0; i < g_out_len; i++)
            fprintf(stderr, (g_out[i] >= 32 && g_out[i] < 127) ? "%c" : "\\x%02x",
                    (unsigned char)g_out[i]);
        fprintf(stderr, "\n");
        fail();
    }
    g_out_len = 0;
}

static long slave_read(void *buf, size_t len)
{
    struct file *s = g_fds[0];
    s->flags |= O_NONBLOCK;
    return s->ops->read(s, buf, len);
}

static struct linux_winsize size_of_slave(void)
{
    struct linux_winsize ws;
    assert_int_equal(g_fds[0]->ops->ioctl(g_fds[0], TIOCGWINSZ, (uint64_t)(uintptr_t)&ws), 0);
    return ws;
}

static int setup(void **state)
{
    (void)state;
    g_ptmx.mode = S_IFCHR | 0666;
    g_ptmx.iops = &g_ptmx_iops;
    pty_set_devpts(&g_devpts_dir);
    g_boot_info.shared_gpa = (uint64_t)(uintptr_t)&g_shared_page - ALC_PHYSMAP_VBASE;
    struct linux_winsize ws = {.ws_row = 24, .ws_col = 80};
    memcpy(&g_boot_info.console_winsize, &ws, sizeof(ws));
    return console_tty_init();
}

/* ---- the tests, in order: they share the one console ---- */
static void slave_is_stdio_and_ctty(void **state)
{
    (void)state;
    assert_non_null(g_fds[0]);
    assert_ptr_equal(g_fds[0], g_fds[1]);
    assert_ptr_equal(g_fds[0], g_fds[2]);
    assert_int_equal(tty_nr_of(&g_first), (136u << 8) | 0); /* /dev/pts/0 */
    assert_int_equal(tty_pgrp_of(&g_first), 1);
    struct linux_winsize ws = size_of_slave();
    assert_int_equal(ws.ws_row, 24);
    assert_int_equal(ws.ws_col, 80);
    assert_true(g_requests >= 1); /* input is asked for from the start */
    assert_true(console_tty_events() & ALC_EV_STDIN);
    assert_true(console_tty_events() & ALC_EV_WINSIZE);
}

static void output_onlcr(void **state)
{
    (void)state;
    struct file *out = g_fds[1];
    assert_int_equal(out->ops->write(out, "ready>", 6), 6);
    expect_out("ready>");
    assert_int_equal(out->ops->write(out, "a\nb\n", 4), 4);
    expect_out("a\r\nb\r\n");
}

static void typed_line_echoed_and_edited(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(slave_read(buf, sizeof(buf)), -EAGAIN);
    type("abx\x7f", 4);
    expect_out("abx\b \b");
    assert_int_equal(slave_read(buf, sizeof(buf)), -EAGAIN); /* no whole line yet */
    type("c\r", 2);
    expect_out("c\r\n");
    assert_int_equal(slave_read(buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "abc\n", 4);
}

static void ctrl_c_is_sigint_to_the_group(void **state)
{
    (void)state;
    g_signals = 0;
    type("\x03", 1);
    assert_true(g_signals & (1u << SIGINT));
    expect_out("^C");
    g_signals = 0;
    type("\x1c", 1); /* ^\ */
    assert_true(g_signals & (1u << SIGQUIT));
    expect_out("^\\");
}

static void resize_is_sigwinch(void **state)
{
    (void)state;
    g_signals = 0;
    struct linux_winsize ws = {.ws_row = 40, .ws_col = 100};
    uint64_t packed;
    memcpy(&packed, &ws, sizeof(ws));
    g_shared_page.console_winsize = packed;
    g_shared_page.events |= ALC_EV_WINSIZE;
    console_tty_event(ALC_EV_WINSIZE);
    assert_false(g_shared_page.events & ALC_EV_WINSIZE);
    assert_true(g_signals & (1u << SIGWINCH));
    ws = size_of_slave();
    assert_int_equal(ws.ws_row, 40);
    assert_int_equal(ws.ws_col, 100);
    g_signals = 0;
    console_tty_event(ALC_EV_WINSIZE); /* the same size again: no signal */
    assert_false(g_signals & (1u << SIGWINCH));
}

/* raw mode, more than the line discipline holds: the rest waits and comes with the reads */
static void full_input_waits_for_reads(void **state)
{
    (void)state;
    struct linux_termios t;
    struct file *s = g_fds[0];
    assert_int_equal(s->ops->ioctl(s, TCGETS, (uint64_t)(uintptr_t)&t), 0);
    t.c_lflag &= ~(uint32_t)(TTY_ICANON | TTY_ECHO | TTY_ISIG);
    assert_int_equal(s->ops->ioctl(s, TCSETS, (uint64_t)(uintptr_t)&t), 0);
    static char big[6000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    type(big, sizeof(big));
    assert_int_equal(g_out_len, 0); /* no echo */
    static char got[8000];
    size_t total = 0;
    long n;
    while ((n = slave_read(got + total, sizeof(got) - total)) > 0)
        total += (size_t)n;
    assert_int_equal(n, -EAGAIN);
    assert_int_equal(total, sizeof(big));
    assert_memory_equal(got, big, sizeof(big));
}

static void end_of_input(void **state)
{
    (void)state;
    g_in_eof = true;
    console_tty_event(ALC_EV_STDIN);
    assert_false(console_tty_events() & ALC_EV_STDIN); /* nothing more is asked for */
    assert_true(console_tty_events() & ALC_EV_WINSIZE);
    char buf[8];
    assert_int_equal(slave_read(buf, sizeof(buf)), -EAGAIN); /* the terminal stays open */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slave_is_stdio_and_ctty),
        cmocka_unit_test(output_onlcr),
        cmocka_unit_test(typed_line_echoed_and_edited),
        cmocka_unit_test(ctrl_c_is_sigint_to_the_group),
        cmocka_unit_test(resize_is_sigwinch),
        cmocka_unit_test(full_input_waits_for_reads),
        cmocka_unit_test(end_of_input),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
