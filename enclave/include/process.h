/* process.h: a process, that is what its threads share.
 *
 * Everything that Linux keeps per process lives in one struct process, reached from the running
 * thread (current_process()): the address space, the descriptor table, the working directory and
 * umask, the signal dispositions and the process's pending signals, the interval timers, the
 * resource limits, the executable's path and where its arguments lie. Each part belongs to the
 * file that implements it; the struct only gathers them, and the parts another file must not
 * reach into are opaque (struct fdtable, struct sigproc).
 *
 * Lifetime and locking: a process is made at boot (the first one, process_init) and lives until
 * the enclave ends. All of it is guarded by the kernel lock (scheduler.h), like every other
 * kernel object. Rule for blocking code: nothing a syscall keeps across a blocking wait
 * (wait_until, sched_block, futex waits) may live in file-scope storage; it lives on the
 * thread's kernel stack, in memory the syscall allocated, or in the thread or process it
 * belongs to. Scratch space at file scope is for work that never blocks (a path walk), and says
 * so where it is declared.
 *
 * The vCPUs' idle contexts (the boot work in kernel_main and the scheduler's idle loop) run on
 * behalf of the first process: current_process() is that process there.
 */
#ifndef ALCOVE_PROCESS_H
#define ALCOVE_PROCESS_H

#include "kernel.h"
#include "vfs.h" /* PATH_MAX_LEN */

struct mm;      /* the address space (mm.h) */
struct fdtable; /* the descriptor table (fs/fdtable.c) */
struct sigproc; /* dispositions and the process's pending signals (kernel/signal.c) */
struct inode;
struct thread;

/* An interval timer (setitimer; sys/time.c): expiry on its clock (0: disarmed), period. */
struct itimer {
    int64_t expires;
    int64_t interval;
};

struct process {
    int pid;
    struct mm *mm;
    struct fdtable *files;
    struct sigproc *sig;
    /* the file system view (sys/fs.c, fs/vfs.c) */
    struct inode *cwd; /* a reference is held */
    uint32_t umask;
    /* limits and priority (sys/proc.c) */
    struct linux_rlimit rlimits[RLIM_NLIMITS];
    int nice;
    /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF (sys/time.c) */
    struct itimer itimers[3];
    /* the program (loader/exec.c): its path in the enclave and argv's strings in its memory
     * (/proc/self/exe, /proc/self/cmdline) */
    char exe_path[PATH_MAX_LEN];
    uint64_t arg_start, arg_end;
    /* threads (kernel/sched.c) */
    struct thread *threads; /* linked by thread.proc_next */
    unsigned nthreads;
    uint64_t dead_cpu_ns, dead_nvcsw; /* what its ended threads used */
};

/* The process of the running thread (the first process in an idle context). */
struct process *current_process(void);
/* Makes the first process (pid 1) with an empty descriptor table and default limits; the
 * address space, descriptors and the rest are set up by their own init functions after it. */
struct process *process_init(void);
/* The first process. */
struct process *process_first(void);

#endif
