/* file.h: open files and the descriptor table.
 *
 * A struct file is one open file description (shared by dup'ed descriptors); its ops say what
 * kind of object it is. The descriptor table maps small integers to files, with a close-on-exec
 * flag per descriptor, as on Linux.
 */
#ifndef ALCOVE_FILE_H
#define ALCOVE_FILE_H

#include "kernel.h"
#include "wait.h"

struct file;

struct inode;
struct process;
struct sock_ops;

struct file_ops {
    /* buf is a kernel pointer or an already validated user pointer */
    long (*read)(struct file *f, void *buf, size_t len);
    long (*write)(struct file *f, const void *buf, size_t len);
    /* reads at offset without moving the position; NULL: ESPIPE */
    long (*pread)(struct file *f, void *buf, size_t len, uint64_t off);
    /* writes at offset without moving the position; NULL: ESPIPE */
    long (*pwrite)(struct file *f, const void *buf, size_t len, uint64_t off);
    /* readiness now: POLLIN | POLLOUT | POLLHUP | POLLERR bits (no waiting); NULL: a file that
     * is always ready for reading and writing, as regular files are */
    uint32_t (*poll)(struct file *f);
    /* the ALC_EV_* monitor events that can change poll's answer (console stdin), for waiters */
    uint32_t wake_events;
    /* true when the file calls poll_notify (poll.h) whenever its readiness may change: a thread
     * waiting on it (wait.h, wait_on_file) is then woken by that alone, not after every syscall */
    bool notifies;
    /* new position, or -errno; NULL: ESPIPE */
    int64_t (*lseek)(struct file *f, int64_t off, int whence);
    /* fills buf with linux_dirent64 records; NULL: ENOTDIR */
    long (*getdents)(struct file *f, void *buf, size_t len);
    int (*stat)(struct file *f, struct linux_stat *st);
    long (*ioctl)(struct file *f, unsigned long cmd, uint64_t arg);
    /* what /proc/self/fd/N names for a file outside the tree ("pipe:[12]"); NULL: a default */
    long (*name)(struct file *f, char *buf, size_t size);
    void (*release)(struct file *f);
    /* sockets: what the socket syscalls do with it (socket.h); NULL: not a socket (ENOTSOCK) */
    const struct sock_ops *sock;
};

struct file {
    const struct file_ops *ops;
    struct waitq waiters; /* threads waiting on it (kernel/wait.c) */
    uint32_t flags;       /* O_ACCMODE | O_APPEND | O_NONBLOCK ... */
    uint32_t refs;
    void *priv;
    struct inode *inode; /* files of the file system; NULL for the console */
    uint64_t pos;        /* the file position (directories: the next entry's index) */
    bool writer;         /* counted in inode->writers (a regular file open for writing) */
};

#define FD_MAX 1024

void fd_init(void);
/* A child's table (fork): the same files, each with one more reference. NULL: no memory. */
struct fdtable *fdtable_copy(const struct fdtable *src);
/* Closes every descriptor of t and frees it (a process's end). */
void fdtable_free(struct fdtable *t, const struct process *owner);
/* execve: the current process's O_CLOEXEC descriptors close. */
void fd_close_on_exec(void);
/* True when the current process has a free descriptor (accept checks before it dequeues a
 * connection it would otherwise lose to EMFILE). */
bool fd_room(void);
/* Takes a reference on f and installs it at the lowest free descriptor >= min. */
int fd_install(struct file *f, int min, bool cloexec);
/* The file behind fd (no reference taken: descriptors live until close), or NULL. */
struct file *fd_get(int fd);
int fd_close(int fd);
/* The file open as descriptor fd in table t (another process's), without a reference: for use
 * at once, never across a wait. */
struct file *fd_peek(const struct fdtable *t, int fd);
/* Gives back the references fd_get took for the calling thread's syscall (sys/dispatch.c). */
void fd_release_held(void);
/* A reference held outside any descriptor table (a descriptor in flight in an AF_UNIX
 * message): file_get takes one, file_put gives it back (the last one releases the file). */
static inline void file_get(struct file *f)
{
    f->refs++;
}
void file_put(struct file *f);
/* Releases a file that was made but never installed (refs 0); a no-op for shared files. */
void file_discard(struct file *f);
int fd_dup_to(int oldfd, int newfd, bool cloexec);
int fd_get_cloexec(int fd);
int fd_set_cloexec(int fd, bool cloexec);

/* The three standard streams (dev/console_file.c). */
struct file *console_file(int which);

#endif
