/* coredump.h: core files of processes killed by a signal whose default action is "core"
 * (kernel/coredump.c), as Linux writes them with its default settings: core_pattern "core",
 * core_uses_pid 0, RLIMIT_CORE as the limit on the file's size.
 *
 * The enclave's first process is never dumped: its end is the enclave's, and the file system
 * the core file would go to ends with it (sys/proc.c, process_kill).
 */
#ifndef ALCOVE_COREDUMP_H
#define ALCOVE_COREDUMP_H

#include "kernel.h"

struct linux_siginfo;
struct process;

/* True when sig's default action dumps core: SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
 * SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS. */
bool coredump_signal(int sig);

/* The current process (not the first one) is killed by info->si_signo, which the current thread
 * took with the user registers r (NULL, or a frame of the kernel: the thread's own syscall
 * frame is used). When RLIMIT_CORE allows a file, the process begins to end with that signal
 * (process_end_others: its other threads leave, their registers kept for the core) and the ELF
 * core file "core" is written in its working directory; once the file is there its wait status
 * gets WCOREFLAG. Returns with nothing done when the limit is below a page, the process is not
 * dumpable (it changed its ids: PR_SET_DUMPABLE) or memory is short (the caller's process_end
 * then ends the process as it would have). */
void coredump(const struct linux_siginfo *info, const struct regs *r);

/* A thread of p, a process that dumps core, leaves (process_thread_exit): its registers go into
 * the core. */
void coredump_thread_leaves(struct process *p);

#endif
