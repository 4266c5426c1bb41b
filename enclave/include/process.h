/* process.h: a process, that is what its threads share.
 *
 * Everything that Linux keeps per process lives in one struct process, reached from the running
 * thread (current_process()): the address space, the descriptor table, the working directory and
 * umask, the signal dispositions and the process's pending signals, the interval timers, the
 * resource limits, the executable's path and where its arguments lie. Each part belongs to the
 * file that implements it; the struct only gathers them, and the parts another file must not
 * reach into are opaque (struct fdtable, struct sigproc).
 *
 * Lifetime and locking: the first process is made at boot (process_init) and ends the enclave
 * when it ends. Others are made by fork, vfork and clone (process_fork, sys/fork.c) and end in
 * three steps: process_end marks one as exiting (exit_group, a fatal signal, SIGKILL from
 * another), each of its threads leaves at its next return to the application
 * (process_thread_exit), and the last one to leave releases what it held (descriptors, memory)
 * and leaves a zombie with its status for the parent's wait, which frees it. A struct process
 * stays allocated while a thread of it exists or it is not reaped (refs). All of it is guarded
 * by the kernel lock (scheduler.h), like every other kernel object. Rule for blocking code: nothing
 * a syscall keeps across a blocking wait (wait_until, sched_block, futex waits) may live in
 * file-scope storage; it lives on the thread's kernel stack, in memory the syscall allocated, or in
 * the thread or process it belongs to. Scratch space at file scope is for work that never blocks (a
 * path walk), and says so where it is declared.
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
struct pty; /* a pseudo-terminal pair (dev/pty.c) */

/* An interval timer (setitimer; sys/time.c): expiry on its clock (0: disarmed), period. */
struct itimer {
    int64_t expires;
    int64_t interval;
};

/* Who a process is (sys/cred.c): four user ids and four group ids (real, effective, saved and
 * filesystem: the ID_* indexes), and the supplementary groups. */
#define CRED_GROUPS 64
#define NGROUPS_MAX 65536
enum { ID_REAL, ID_EFF, ID_SAVED, ID_FS };
struct cred {
    uint32_t uid[4], gid[4];
    uint32_t ngroups;
    uint32_t groups[CRED_GROUPS];
};

struct procdir;  /* its /proc/<pid> (fs/procfs_pid.c) */
struct coredump; /* what a core dump gathers while the process's other threads leave */

/* Words of the auxiliary vector a process keeps from its execve (NT_AUXV in a core). */
#define AUXV_WORDS 48
/* In a wait status: the process was killed by a signal and dumped core (WCOREDUMP). */
#define WCOREFLAG 0x80

struct process {
    int pid;
    int pgid, sid; /* process group and session */
    /* the tree: children linked by sibling; every process by all_next */
    struct process *parent, *children, *sibling, *all_next;
    unsigned refs;              /* its threads, and one until it is reaped */
    bool exiting;               /* ending: its threads leave, nothing more is delivered to it */
    struct thread *exec_thread; /* running execve while the others leave (process_unshare) */
    bool zombie;                /* ended; waits for the parent to reap it */
    bool execed;                /* has run execve (setpgid by the parent is EACCES then) */
    int wstatus;                /* what wait4 reports once it has ended */
    int exit_signal;            /* what its parent gets when it ends (SIGCHLD, or 0: nothing) */
    struct thread *vforker;     /* the parent thread that waits for its exec or end (vfork) */
    struct waitq vfork_wq;      /* where that thread waits */
    struct waitq child_wq;      /* its threads in wait4/waitid: woken when a child has news */
    uint64_t children_cpu_ns;   /* what its reaped children used (RUSAGE_CHILDREN) */
    uint64_t start_ns;          /* when it was made (since boot) */
    struct cred cred;
    bool undumpable; /* no core file: its ids changed, or it runs a set-ID program (sys/cred.c) */
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
    uint64_t auxv[AUXV_WORDS]; /* the auxiliary vector execve gave it, up to AT_NULL */
    uint32_t auxv_bytes;
    /* threads (kernel/sched.c) */
    struct thread *threads; /* linked by thread.proc_next */
    unsigned nthreads;
    uint64_t dead_cpu_ns, dead_nvcsw; /* what its ended threads used */
    struct procdir *procdir;          /* its /proc directory, once looked up */
    /* job control (kernel/jobctl.c): the signal that stopped it (0: not stopped), and what its
     * parent's wait has yet to hear (JOBCTL_STOPPED, JOBCTL_CONTINUED, or 0) */
    int stop_sig;
    int jobctl_report;
    struct coredump *core; /* while it dumps core (kernel/coredump.c) */
    /* System V semaphore adjustments made with SEM_UNDO, applied at its end (sys/sem.c) */
    struct sem_undo *sem_undo;
    struct pidfd *pidfds; /* its pidfds (sys/pidfd.c), each of which holds a reference */
    /* its controlling terminal (dev/pty.c; inherited by fork, dropped by setsid), or NULL */
    struct pty *tty;
};

enum { JOBCTL_STOPPED = 1, JOBCTL_CONTINUED };
/* The current thread takes stop signal sig with its default action: the process stops (its
 * parent is told) and this thread waits until it is continued or ends. */
void jobctl_stop(int sig);
/* Waits while the current process is stopped (every thread, on its way to the application). */
void jobctl_wait_stopped(void);
/* SIGCONT was sent to p: a stopped p goes on, and its parent is told. */
void jobctl_continue(struct process *p);
/* p's process group is orphaned: no member has a parent in another group of its session, so
 * SIGTSTP, SIGTTIN and SIGTTOU do not stop it (dev/pty.c gives EIO instead). */
bool jobctl_orphaned(const struct process *p);

/* The process of the running thread (the first process in an idle context). */
struct process *current_process(void);
/* Makes the first process (pid 1) with an empty descriptor table and default limits; the
 * address space, descriptors and the rest are set up by their own init functions after it. */
struct process *process_init(void);
/* The first process. */
struct process *process_first(void);
/* The live or zombie process with this pid, or NULL. */
struct process *process_find(int pid);
/* Iterates every process. */
struct process *process_list(void);

/* A child of parent with copies of its descriptor table, working directory, umask, limits,
 * signal dispositions and identity (no threads, no address space: the caller gives them).
 * NULL when memory is short. */
struct process *process_fork(struct process *parent);
/* p becomes a child of parent (CLONE_PARENT). */
void process_reparent(struct process *p, struct process *parent);
/* Undoes process_fork for a child that never ran. */
void process_discard(struct process *p);
/* Process p ends with wait status wstatus (an exit code << 8, or the signal that killed it):
 * its threads leave at their next return to the application. Returns unless the caller is a
 * thread of p, which leaves at once. */
void process_end(struct process *p, int wstatus);
/* The same for the caller's own process p, but the caller stays: it returns once every other
 * thread of p has left (Linux's coredump_wait), and ends later with process_end. */
void process_end_others(struct process *p, int wstatus);
/* How the zombie p ended, as waitid and SIGCHLD tell it: CLD_EXITED with the exit code in
 * *status, or CLD_KILLED (CLD_DUMPED with WCOREFLAG) with the signal. */
int process_end_code(const struct process *p, int *status);
/* The current thread leaves its ending process; the last one out finishes it. */
NORETURN void process_thread_exit(void);
/* True when the current thread must leave: its process is ending, or another of its threads
 * runs execve. Every wait ends then, and the thread leaves on its way back to the application
 * (process_thread_leave). */
bool process_thread_must_leave(void);
NORETURN void process_thread_leave(void);
/* execve from a process with several threads: the others leave (as Linux's de_thread kills
 * them) and the caller takes the process's id as its thread id. 0, or -EINTR when the process
 * began to end meanwhile (the caller then leaves too). */
int process_unshare(struct process *p);
/* The vfork parent waiting for p may go on (p called execve, or ended). */
void process_vfork_done(struct process *p);
/* A reference on p held outside the process tree (a pidfd): p stays allocated, reaped or
 * not, until process_put. */
void process_get(struct process *p);
void process_put(struct process *p);
/* A zombie child's end is reported: it is unlinked and freed. */
void process_reap(struct process *p);
/* sys/sem.c: p ends: its SEM_UNDO adjustments are applied to their semaphores and forgotten. */
void sem_exit(struct process *p);
/* What clone and clone3 ask for (sys/thread.c): CLONE_* flags, the new stack's top, where the
 * parent's and the child's tids go, the TLS base, and where CLONE_PIDFD's descriptor goes. */
struct clone_req {
    uint64_t flags, stack, parent_tid, child_tid, tls, pidfd;
};
/* sys/fork.c: a new process, as clone without CLONE_THREAD asks. Returns the child's pid or
 * -errno. */
long process_clone(const struct clone_req *c, int exit_signal);
/* The thread t of its process is gone (sched.c, when its memory is freed). */
void process_thread_gone(struct process *p);

/* sys/cred.c: what the current process's identities allow. */
#define MAY_EXEC  1
#define MAY_WRITE 2
#define MAY_READ  4
/* An effective user id of 0: every privilege. */
bool cred_privileged(void);
/* The filesystem group id or a supplementary group is gid. */
bool cred_in_group(uint32_t gid);
/* 0 when the mode bits of ino that apply to the process give every MAY_* in want, else -EACCES
 * (root passes, but for executing a file without any execute bit). */
int cred_may_access(const struct inode *ino, unsigned want);
/* The same with the real ids: access(2) without AT_EACCESS (a set-user-ID program asks whether
 * its caller may). */
int cred_may_access_real(const struct inode *ino, unsigned want);
/* The process owns ino or is privileged (chmod, utimes, sticky directories). */
bool cred_owns(const struct inode *ino);
/* The process may send a signal to target (Linux's uid rule). */
bool cred_may_signal(const struct process *target);
/* execve of exe: set-user-ID and set-group-ID bits, and the saved ids follow the effective ones;
 * the process may dump core unless its effective ids differ from the real ones or it could not
 * read exe (Linux's rule with suid_dumpable 0). */
void cred_exec(const struct inode *exe);

#endif
