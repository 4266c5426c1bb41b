/* sandbox.h: what the monitor may still do once the enclave is set up (issue 14,
 * docs/security.md).
 *
 * The monitor parses what the guest puts in its virtqueues and answers NSM requests with the
 * attestation key in memory, so a bug there must not become the host's. Two steps:
 * - sandbox_drop_privileges(), before the monitor's first thread: not dumpable (no process of
 *   the same uid reads its memory through /proc or ptrace), no_new_privs, writes only beneath
 *   the runtime directory and to devices (Landlock), and every capability goes (effective,
 *   permitted, inheritable, ambient and the bounding set). The monitor keeps its uid: its files
 *   (the runtime directory, the pool's leases) are its own, and it needs no capability to use
 *   them.
 * - sandbox_enter(), once the guest's memory, vCPUs and devices exist and before a vCPU runs:
 *   a seccomp filter on every thread of the process allows only the system calls the running
 *   monitor makes (descriptors, Unix and TCP sockets it does not bind, memory, threads, time,
 *   signals and limits of itself), the KVM ioctls a running vCPU needs, and not exec, fork,
 *   identity changes, mounts, tracing or loading anything into the kernel. A refused call ends
 *   the process with a message naming it: a refusal is a bug in alcove, not something the
 *   guest can cause. What the filter leaves open (files and sockets of the monitor's uid) is
 *   in docs/security.md. */
#ifndef ALCOVE_SANDBOX_H
#define ALCOVE_SANDBOX_H

/* 0, or -1 with an [ E73 ] message printed. A process without capabilities has none to drop.
 * From then on it writes, makes and removes files only beneath writable_dir (NULL: nowhere)
 * and writes to device nodes (Landlock, where the kernel has it). */
int sandbox_drop_privileges(const char *writable_dir);
/* The same, but CAP_SETUID and CAP_SETGID stay (effective and permitted) for
 * identity_change (monitor/identity.h), which takes them away with root's uid in every
 * thread; the bounding set is emptied all the same. */
int sandbox_drop_privileges_keep_setid(const char *writable_dir);
/* Drops what capabilities remain (after sandbox_drop_privileges_keep_setid: CAP_SETUID and
 * CAP_SETGID), in the calling thread, for a process that changes no uid (monitor/keeper.h).
 * 0, or -1 with an [ E73 ] message printed. */
int sandbox_drop_remaining(void);
/* 0, or -1 with an [ E73 ] message printed. */
int sandbox_enter(void);
/* The thread classes, each with an allowlist of its own stacked over the common filter
 * (sandbox_class.c, docs/security.md): a class may call only what its list names, and only
 * where the common filter allows it too. */
enum sandbox_class {
    SANDBOX_VCPU,     /* vCPU threads, and the preemption timer thread (sched.c) */
    SANDBOX_CONTROL,  /* a detached enclave's control thread */
    SANDBOX_DEVICE,   /* the vsock and stdio device threads */
    SANDBOX_POPULATE, /* the thread that backs guest RAM in the background (populate.c) */
    SANDBOX_RESOLVER, /* the thread that resolves the outbound allowlist's names again */
    SANDBOX_NCLASSES
};
/* Compiles the classes' filters (sandbox_enter calls it before loading the common one). 0, or
 * -1 with an [ E73 ] message printed. */
int sandbox_classes_prepare(void);
/* The common filter is loaded: from now on sandbox_thread_class installs. */
void sandbox_classes_ready(void);
/* Stacks class c's filter on the calling thread, once; before sandbox_enter (and in programs
 * that never call it) it does nothing, so a thread started earlier calls it at the top of its
 * loop and is confined from the first thing it does for a running guest. A thread that cannot
 * load it ends the process (status 125). With ALCOVE_FAULT=sandbox-vcpu, sandbox-control,
 * sandbox-device or sandbox-populate, a thread of that class then makes a call its class
 * refuses; with sandbox-<class>-open, one (openat) that only its allowlist refuses. */
void sandbox_thread_class(enum sandbox_class c);
/* Fault injection for the tests: with ALCOVE_FAULT=sandbox-exec in the environment, the monitor
 * tries to start /bin/true once it is sandboxed (the filter must end it with its message). */
void sandbox_fault_probe(void);

#endif
