/* sandbox.h: what the monitor may still do once the enclave is set up (issue 14).
 *
 * The monitor parses what the guest puts in its virtqueues and answers NSM requests with the
 * attestation key in memory, so a bug there must not become the host's. Two steps:
 * - sandbox_drop_privileges(), before the monitor's first thread: every capability goes
 *   (effective, permitted, inheritable, ambient and the bounding set) and no exec can give any
 *   back (no_new_privs). The monitor keeps its uid: its files (the runtime directory, the pool's
 *   leases) are its own, and it needs no capability to use them.
 * - sandbox_enter(), once the guest's memory, vCPUs and devices exist and before a vCPU runs:
 *   a seccomp filter on every thread of the process allows only the system calls the running
 *   monitor makes (descriptors, sockets, memory, threads, time, signals to itself), the KVM
 *   ioctls a running vCPU needs and nothing that starts a program, changes identities, mounts,
 *   traces or loads anything into the kernel. A refused call ends the process with a message
 *   naming it: a refusal is a bug in alcove, not something the guest can cause. */
#ifndef ALCOVE_SANDBOX_H
#define ALCOVE_SANDBOX_H

/* 0, or -1 with an [ E73 ] message printed. A process without capabilities has none to drop. */
int sandbox_drop_privileges(void);
/* 0, or -1 with an [ E73 ] message printed. */
int sandbox_enter(void);
/* Fault injection for the tests: with ALCOVE_FAULT=sandbox-exec in the environment, the monitor
 * tries to start /bin/true once it is sandboxed (the filter must end it with its message). */
void sandbox_fault_probe(void);

#endif
