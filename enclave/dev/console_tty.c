/* console_tty.c: the console as a terminal (ALC_BOOT_CONSOLE_TTY: `alcove run -t`, an OCI
 * bundle's process.terminal). At boot a pty pair is made as an open of /dev/ptmx would make it;
 * its slave becomes the first process's stdin, stdout and stderr and, opened by that session
 * leader without O_NOCTTY, its controlling terminal (foreground group its own). Its master is
 * the kernel's: the host's input bytes are written to it (so the line discipline echoes, edits
 * and turns ^C into SIGINT for the foreground group), and what it gives is the console's output.
 *
 * Nothing here may wait: the pump runs from the pair's change hook (after a slave read or write,
 * an echo, a termios change) and from sched_poll when the monitor answered a stdin request, both
 * under the kernel lock. So a stdin request is kept pending whenever the slave's input has room,
 * and ALC_EV_STDIN is among the events the scheduler waits for (an idle vCPU wakes, a busy one
 * is preempted), so that a ^C reaches a program that is not reading. Input the line discipline
 * cannot take yet waits in g_pending until a slave read makes room.
 */
#include "console.h"

#include "file.h"
#include "kernel.h"
#include "klib.h"
#include "process.h"
#include "syscall.h"
#include "tty.h"
#include "vfs.h"

static struct file *g_master;
static uint8_t g_pending[256];
static size_t g_pending_len, g_pending_off;
static bool g_in_eof; /* the host's input ended: nothing more is asked for */
static bool g_busy;   /* the pump is running (its own writes call the hook again) */

static struct linux_winsize winsize_of(uint64_t packed)
{
    struct linux_winsize ws;
    memcpy(&ws, &packed, sizeof(ws));
    return ws;
}

static void pump_output(void)
{
    uint8_t buf[512];
    long n;
    while ((n = g_master->ops->read(g_master, buf, sizeof(buf))) > 0)
        console_write(ALC_STREAM_STDOUT, buf, (size_t)n);
}

/* Hands the line discipline what the host typed; true when it took everything offered. */
static bool pump_input(void)
{
    for (;;) {
        if (g_pending_off < g_pending_len) {
            long n = g_master->ops->write(g_master, g_pending + g_pending_off,
                                          g_pending_len - g_pending_off);
            if (n <= 0)
                return false; /* full (-EAGAIN): a slave read makes room and calls back */
            g_pending_off += (size_t)n;
            continue;
        }
        if (g_in_eof)
            return true;
        long got = console_stdin_pull(g_pending, sizeof(g_pending));
        if (got == -EAGAIN)
            return true; /* asked for more: ALC_EV_STDIN brings it */
        if (got <= 0) {
            /* the end of the host's input (or its error): as `docker run -t` without -i, the
             * terminal stays open and gives nothing more */
            g_in_eof = true;
            return true;
        }
        g_pending_off = 0;
        g_pending_len = (size_t)got;
    }
}

static void pump(void)
{
    if (g_busy || !g_master)
        return;
    g_busy = true;
    pump_output();
    pump_input();
    pump_output(); /* the echoes of what was just typed */
    g_busy = false;
}

int console_tty_init(void)
{
    struct inode *ptmx, *pts;
    int err = vfs_lookup(NULL, "/dev/ptmx", 0, &ptmx);
    err = err ? err : vfs_open(ptmx, O_RDWR | O_NONBLOCK, &g_master);
    if (err)
        return err;
    file_get(g_master); /* the kernel's, for the enclave's life */
    struct linux_winsize ws = winsize_of(g_boot->console_winsize);
    int index = pty_console_attach(g_master, &ws, NULL);
    if (index < 0)
        return index;
    char path[24];
    ksnprintf(path, sizeof(path), "/dev/pts/%d", index);
    struct file *slave;
    err = vfs_lookup(NULL, path, 0, &pts);
    /* the first process is its session's leader without a terminal: this open makes the slave
     * its controlling terminal, with its own group in the foreground */
    err = err ? err : vfs_open(pts, O_RDWR, &slave);
    if (err)
        return err;
    for (int fd = 0; fd < 3; fd++)
        fd_close(fd);
    if (fd_install(slave, 0, false) != 0 || fd_dup_to(0, 1, false) != 1 ||
        fd_dup_to(0, 2, false) != 2)
        return -EMFILE;
    (void)pty_console_attach(g_master, &ws, pump);
    pump(); /* the first stdin request */
    return 0;
}

void console_tty_event(uint32_t events)
{
    if (!g_master)
        return;
    if (events & ALC_EV_WINSIZE) {
        struct alc_shared *sh = phys_to_virt(g_boot->shared_gpa);
        __atomic_and_fetch(&sh->events, ~ALC_EV_WINSIZE, __ATOMIC_ACQ_REL);
        struct linux_winsize ws =
            winsize_of(__atomic_load_n(&sh->console_winsize, __ATOMIC_ACQUIRE));
        pty_console_resize(g_master, &ws);
    }
    if (events & ALC_EV_STDIN) {
        /* taken even when the line discipline is full (the bytes wait in the ring until a
         * slave read makes room), so that a set event never keeps a vCPU from idling */
        struct alc_shared *sh = phys_to_virt(g_boot->shared_gpa);
        __atomic_and_fetch(&sh->events, ~ALC_EV_STDIN, __ATOMIC_ACQ_REL);
        pump();
    }
}

uint32_t console_tty_events(void)
{
    if (!g_master)
        return 0;
    return ALC_EV_WINSIZE | (g_in_eof ? 0 : ALC_EV_STDIN);
}
