/* alcove_abi.h: the one boundary between the monitor (host) and the enclave kernel (guest).
 *
 * Both sides include this file. It is C11 with fixed-size types only; every shared structure
 * has its size and offsets pinned by _Static_assert so that drift breaks the build. Guest
 * addresses appear here as integers (guest-physical addresses, "GPA"); the monitor turns them
 * into host pointers only through its checked translator (src/monitor/memory.h).
 *
 * Versioning: ALC_ABI_VERSION changes whenever a layout or meaning here changes. The monitor
 * refuses an enclave kernel built for another version.
 */
#ifndef ALCOVE_ABI_H
#define ALCOVE_ABI_H

#ifdef __ASSEMBLER__
#define ALC_U64(x) x
#else
#include <stddef.h>
#include <stdint.h>
#define ALC_U64(x) x##ull
#endif

#define ALC_ABI_VERSION 7

#define ALC_PAGE_SIZE ALC_U64(4096)
#define ALC_HUGE_SIZE (ALC_U64(2) << 20)

/* ---- Virtual address layout (the same on every vCPU except the CPU window) ---------------- */

/* Application half (PML4 entries 0-255): the enclave kernel's own to map (ABI 4); the monitor's
 * page tables leave it empty. Guest RAM below ALC_APP_LOW_UNMAPPED is never handed to the
 * application (NULL dereferences fault). */
#define ALC_APP_LOW_UNMAPPED ALC_U64(0x10000)
/* Enclave kernel image, linked here (-mcmodel=kernel). */
#define ALC_KERNEL_VBASE ALC_U64(0xffffffff80000000)
/* All of guest RAM, 2 MiB pages, no execute. */
#define ALC_PHYSMAP_VBASE ALC_U64(0xffff888000000000)
/* The hypercall page (MMIO, no RAM behind it). */
#define ALC_MMIO_VBASE ALC_U64(0xffffffffbfe00000)
/* This vCPU's private window: each vCPU maps its own pages here (own PML4). */
#define ALC_CPU_VBASE ALC_U64(0xffffffffffe00000)

/* ---- Guest-physical layout ---------------------------------------------------------------- */

/* RAM is one region [0, mem_size). The hypercall page lives above any possible RAM. */
#define ALC_MMIO_GPA      ALC_U64(0x10000000000) /* 1 TiB */
#define ALC_MAX_MEM_BYTES (ALC_U64(512) << 30)   /* one PML4 entry of application region */

/* ---- Segments (GDT built by the monitor, identical on every vCPU) ------------------------- */

#define ALC_SEL_KCODE   0x08
#define ALC_SEL_KDATA   0x10
#define ALC_SEL_UCODE32 0x1b
#define ALC_SEL_UDATA   0x23
#define ALC_SEL_UCODE   0x2b
#define ALC_SEL_TSS     0x30
#define ALC_GDT_ENTRIES 8

/* vCPUs per enclave */
#define ALC_MAX_CPUS 64

/* ---- Hypercalls ----------------------------------------------------------------------------
 * A hypercall is a 64-bit store to ALC_MMIO_VBASE + 8 * number. The stored value is the
 * argument. Every hypercall exits to the monitor: the doorbells (KICK_*) only wake one of its
 * threads (no ioeventfd: with one, destroying the VM costs ~15 ms more on our KVM, see
 * docs/architecture.md); the others are answered in guest memory before the vCPU resumes. */
#ifndef __ASSEMBLER__
enum alc_hypercall {
    ALC_HC_EXIT = 0,         /* arg: exit status (0..255); the enclave ends */
    ALC_HC_FATAL = 1,        /* arg: GPA of struct alc_fatal; the enclave ends */
    ALC_HC_WAIT = 2,         /* arg: GPA of struct alc_wait; returns when woken or timed out */
    ALC_HC_KICK_CONSOLE = 3, /* doorbell: output ring has new records */
    ALC_HC_KICK_STDIN = 4,   /* doorbell: the guest asks for stdin bytes */
    ALC_HC_POPULATE = 5,     /* arg: GPA of struct alc_populate; back guest RAM before use */
    ALC_HC_WAKE = 6,         /* arg: a vCPU index; ends that vCPU's ALC_HC_WAIT (a thread is
                                ready for it) */
    ALC_HC_SCHED = 7,        /* arg: time slice in ns (0: none); starts preemption, see below */
    ALC_HC_COUNT = 8,
};
#endif

/* ---- Exit causes reported through ALC_HC_FATAL -------------------------------------------- */

#ifndef __ASSEMBLER__
enum alc_fatal_kind {
    ALC_FATAL_SIGNAL = 1, /* the application died of a signal (hardware exception or kill) */
    ALC_FATAL_KERNEL = 2, /* the enclave kernel itself failed (a bug or a corrupted state) */
};
#endif

#ifndef __ASSEMBLER__
struct alc_fatal {
    uint32_t kind;   /* enum alc_fatal_kind */
    uint32_t signo;  /* Linux signal number */
    uint32_t vector; /* x86 exception vector, or 0xffffffff when none */
    uint32_t reserved;
    uint64_t error_code; /* exception error code */
    uint64_t rip;
    uint64_t rsp;
    uint64_t addr;     /* faulting address (CR2) for page faults */
    char message[224]; /* NUL-terminated detail from the enclave kernel */
};
_Static_assert(sizeof(struct alc_fatal) == 272, "alc_fatal layout");
#endif

#ifndef __ASSEMBLER__
struct alc_wait {
    uint32_t mask; /* wake when (events & mask) != 0 */
    uint32_t reserved;
    uint64_t timeout_ns; /* 0 = no timeout */
};
_Static_assert(sizeof(struct alc_wait) == 16, "alc_wait layout");
#endif

/* Guest RAM is backed by the host in 2 MiB chunks. The monitor backs the kernel region before
 * boot and the rest in the background; before the kernel hands a chunk whose bit is still clear
 * in the populated bitmap (boot info) to the application, it asks with ALC_HC_POPULATE, so the
 * application never touches memory the host has not backed (that would trap on every page). */
#define ALC_CHUNK_SIZE (ALC_U64(2) << 20)
#ifndef __ASSEMBLER__
struct alc_populate {
    uint64_t gpa;   /* 2 MiB aligned */
    uint64_t len;   /* a multiple of 2 MiB */
    int64_t result; /* out: 0, or -ENOMEM when the host could not back it */
};
_Static_assert(sizeof(struct alc_populate) == 24, "alc_populate layout");
#endif

/* Event bits the monitor sets in struct alc_shared.events (then wakes a waiting vCPU). */
#define ALC_EV_CONSOLE_SPACE 0x1u /* the output ring has been drained */
#define ALC_EV_STDIN         0x2u /* the stdin ring has data, EOF or an error */
#define ALC_EV_SIGNAL        0x4u /* shared.host_signals has signals to deliver */
#define ALC_EV_WINSIZE       0x8u /* shared.console_winsize changed (ALC_BOOT_CONSOLE_TTY) */
#define ALC_EV_VIRTIO(slot)  (0x100u << (slot)) /* virtio device `slot` used some buffers */
#define ALC_EV_STOP          0x80000000u        /* the enclave is being torn down */

/* ---- virtio-mmio devices ---------------------------------------------------------------------
 * Device `slot` has a virtio-mmio register window (virtio 1.2 section 4.2.2, version 2 "modern"
 * layout) at ALC_MMIO_GPA + ALC_VIRTIO_WINDOW * (slot + 1), mapped by the monitor at the same
 * offset from ALC_MMIO_VBASE. Split virtqueues only; the device offers VIRTIO_F_VERSION_1 and
 * nothing else. Register accesses are 32-bit (config space: its natural widths) and each one is
 * an exit, so drivers touch the registers only to set up and to notify.
 * There are no interrupts: when a device has put buffers in a used ring it sets
 * ALC_EV_VIRTIO(slot) in struct alc_shared.events and wakes a vCPU waiting for that bit
 * (ALC_HC_WAIT). Drivers poll their used rings. Notification suppression is virtio's
 * (VIRTQ_USED_F_NO_NOTIFY: the device is busy and will look at the avail ring again before it
 * sleeps, so the driver need not write QueueNotify). A slot whose device is absent reads
 * DeviceID 0. */
#define ALC_VIRTIO_WINDOW      ALC_U64(0x1000)
#define ALC_VIRTIO_SLOTS       2
#define ALC_VIRTIO_SLOT_VSOCK  0 /* virtio-vsock (DeviceID 19) */
#define ALC_VIRTIO_SLOT_NSM    1 /* virtio-nsm (DeviceID 33) */
#define ALC_VIRTIO_GPA(slot)   (ALC_MMIO_GPA + ALC_VIRTIO_WINDOW * ((slot) + 1))
#define ALC_VIRTIO_VBASE(slot) (ALC_MMIO_VBASE + ALC_VIRTIO_WINDOW * ((slot) + 1))

/* vsock well-known addresses */
#define ALC_VSOCK_CID_HOST       3u    /* the parent (Nitro's numbering) */
#define ALC_VSOCK_HEARTBEAT_PORT 9000u /* the enclave kernel sends 0xB7 here once booted */
#define ALC_VSOCK_HEARTBEAT_BYTE 0xB7u
/* How long either side waits for the heartbeat, in seconds: the enclave kernel for the monitor's
 * answer (its connect and the echo), the monitor for the byte (per started unit of nitro-cli's
 * rule: 6 GiB of image, 100 GiB of memory). One generous figure, nitro-cli's, so that a boot
 * under load is never failed by a shorter deadline on one side. */
#define ALC_HEARTBEAT_TIMEOUT_S 90u

/* Published TCP ports (docs/networking.md). The monitor accepts TCP connections on a published
 * host port and turns each into a vsock connection from the parent to the guest's port
 * ALC_VSOCK_TCP_PORT0 + P, P the enclave's TCP port. Its REQUEST packet carries the client's
 * address as payload (struct alc_tcp_origin, len = its size), so that the enclave's accept()
 * can report it; Linux ignores a REQUEST's payload, the enclave kernel reads it. */
#define ALC_VSOCK_TCP_PORT0 0x10000u
#ifndef __ASSEMBLER__
struct alc_tcp_origin {
    uint16_t family;  /* 2 (AF_INET) or 10 (AF_INET6), little-endian */
    uint16_t port;    /* the client's port, network byte order */
    uint8_t addr[16]; /* AF_INET: the address in the first 4 bytes, network byte order */
};
_Static_assert(sizeof(struct alc_tcp_origin) == 20, "alc_tcp_origin layout");
#endif

/* Outbound TCP connections (docs/networking.md, "Outbound connections"). A TCP connect inside the
 * enclave to an address that is not its own becomes a vsock connection to the parent's port
 * ALC_VSOCK_TCP_OUT_PORT whose REQUEST carries the destination as payload (struct alc_tcp_origin,
 * len = its size). The monitor checks it against the operator's allowlist and connects: RESPONSE
 * when the TCP connection is up, or RST with a Linux errno in flags (EACCES: not allowed; the
 * host's errno otherwise: ECONNREFUSED, ETIMEDOUT, ENETUNREACH ...). A RST with flags 0 is
 * ECONNREFUSED. ALC_HOST_ALIAS_V4 (169.254.1.2, "host.alcove.internal") is the host's own
 * loopback, 127.0.0.1, for the ports the allowlist names with it. */
#define ALC_VSOCK_TCP_OUT_PORT    0x20000u
#define ALC_HOST_ALIAS_V4         0xA9FE0102u /* 169.254.1.2, host byte order */
#define ALC_HOST_ALIAS_NAME       "host.alcove.internal"
#define ALC_OUT_CONNECT_TIMEOUT_S 20u /* the monitor's deadline for the TCP connect */
/* Name lookups through the parent: a UDP datagram to port 53 of an address outside the enclave
 * goes, framed, over one vsock stream per UDP socket to the parent's port ALC_VSOCK_DNS_PORT; the
 * monitor answers it (src/common/dns_answer.h) in a frame with the same address and port, which
 * the enclave kernel delivers as a datagram from them. A frame: struct alc_dns_frame, then len
 * bytes of DNS message (at most ALC_DNS_FRAME_MAX); anything else ends the stream. */
#define ALC_VSOCK_DNS_PORT 0x20001u
#define ALC_DNS_FRAME_MAX  4096u
#ifndef __ASSEMBLER__
struct alc_dns_frame {
    uint16_t len;     /* the message's bytes, little-endian */
    uint16_t port;    /* the server's port, network byte order */
    uint8_t addr[16]; /* the server's address, IPv6 form (v4: ::ffff:a.b.c.d) */
};
_Static_assert(sizeof(struct alc_dns_frame) == 20, "alc_dns_frame layout");
#endif

/* ---- Rings ---------------------------------------------------------------------------------
 * Single-producer single-consumer byte rings in guest memory. Positions are free-running
 * 64-bit byte counters; the data index is (position % size), size a power of two.
 * The producer and consumer words sit on separate cache lines. */
#ifndef __ASSEMBLER__
struct alc_ring {
    volatile uint64_t head; /* bytes produced (written by the producer) */
    uint8_t pad0[56];
    volatile uint64_t tail;              /* bytes consumed (written by the consumer) */
    volatile uint32_t consumer_sleeping; /* consumer is about to block: producer must kick */
    uint32_t pad1;
    uint8_t pad2[48];
    /* host -> guest rings only (stdin): */
    volatile uint64_t want; /* guest: bytes it would like (0 = none pending) */
    volatile uint32_t eof;  /* host: the input has ended */
    volatile int32_t error; /* host: -errno of a failed host read, else 0 */
    uint8_t pad3[48];
    /* data[size] follows at offset ALC_RING_DATA_OFFSET */
};
#endif
#define ALC_RING_DATA_OFFSET 192
#ifndef __ASSEMBLER__
_Static_assert(sizeof(struct alc_ring) == ALC_RING_DATA_OFFSET, "alc_ring layout");
#endif

/* Output ring records: a 4-byte header (stream << 24 | length) then length bytes. A record may
 * wrap around the end of the ring. */
#define ALC_REC_MAX_LEN 0x00ffffffu
#ifndef __ASSEMBLER__
enum alc_stream {
    ALC_STREAM_STDOUT = 1,
    ALC_STREAM_STDERR = 2,
    ALC_STREAM_LOG = 3, /* enclave kernel diagnostics; first payload byte is the level */
};
#endif

#ifndef __ASSEMBLER__
enum alc_log_level {
    ALC_LOG_ERROR = 0,
    ALC_LOG_WARN = 1,
    ALC_LOG_INFO = 2,
    ALC_LOG_DEBUG = 3,
    ALC_LOG_TRACE = 4, /* every syscall */
};
#endif

/* Memory shared for signalling; one page. */
#ifndef __ASSEMBLER__
struct alc_shared {
    volatile uint32_t events;       /* ALC_EV_* set by the monitor, cleared by the guest */
    volatile uint32_t ready;        /* guest: threads ready to run that no vCPU runs (preemption) */
    volatile int64_t wake_at;       /* guest: CLOCK_MONOTONIC ns when a sleeping thread is due, or
                                       INT64_MAX; the monitor preempts a busy vCPU then */
    volatile uint32_t wait_events;  /* guest: ALC_EV_* bits some blocked thread waits for */
    volatile uint32_t kick;         /* guest: incremented to have the monitor preempt, at its next
                                       slice, every vCPU running the application: a thread there
                                       must enter the kernel (a signal, its process stopping or
                                       ending) */
    volatile uint32_t caught;       /* guest: bit N set when the first process (pid 1) does not
                                       leave signal N (1-31) to its default action (a handler,
                                       SIG_IGN) or every one of its threads blocks it */
    volatile uint32_t host_signals; /* monitor: bit N set to deliver signal N to the first
                                       process, then ALC_EV_SIGNAL; the guest takes the bits */
    volatile uint32_t host_group_signals; /* monitor: the same for the first process's process
                                             group (what a terminal's Ctrl-C reaches) */
    volatile uint64_t console_winsize;    /* monitor: the host terminal's size as Linux's struct
                                             winsize (rows, cols, xpixel, ypixel: 16 bits each,
                                             little-endian), then ALC_EV_WINSIZE; only with
                                             ALC_BOOT_CONSOLE_TTY */
};
#endif

/* ---- Boot information -----------------------------------------------------------------------
 * Written by the monitor before the first vCPU runs; read-only for the guest afterwards.
 * The bootstrap vCPU enters the kernel's boot entry with rdi = GPA of this structure. */
#define ALC_BOOT_NO_SYSCALL_PATCH 0x1u /* keep every syscall on the trap path */
#define ALC_BOOT_NO_HEARTBEAT     0x2u /* fault injection for tests: skip the heartbeat */
#define ALC_BOOT_FAULT_VIRTQ      0x4u /* fault injection: post an rx buffer outside guest RAM */
#define ALC_BOOT_CONSOLE_TTY      0x8u /* the console is a terminal inside (below) */
#define ALC_BOOT_MAGIC            ALC_U64(0x31544f4f42434c41) /* "ALCBOOT1" */
/* ALC_BOOT_CONSOLE_TTY (alcove run -t, OCI process.terminal): the kernel makes a pty whose master
 * is the console and whose slave is the first process's stdio and controlling terminal, sized
 * console_winsize (docs/tty.md, "The console"). */

#ifndef __ASSEMBLER__
struct alc_boot_info {
    uint64_t magic;
    uint32_t abi_version;
    uint32_t cpu_count;
    uint64_t mem_size;  /* bytes of guest RAM */
    uint64_t app_start; /* the application region, mapped VA == GPA */
    uint64_t app_end;
    uint64_t kheap_gpa; /* free kernel-region memory for the kernel's own allocations */
    uint64_t kheap_size;
    uint64_t tsc_hz;
    uint64_t tsc_mult;         /* ns = ((tsc - boot_tsc) * tsc_mult) >> 32 */
    uint64_t boot_tsc;         /* guest TSC at the anchor */
    int64_t boot_realtime_ns;  /* host CLOCK_REALTIME at the anchor */
    int64_t boot_monotonic_ns; /* host CLOCK_MONOTONIC at the anchor */
    uint64_t strings_gpa;      /* argv then environment strings, each NUL-terminated: argc > 0
                              replaces the ramdisk's cmd; envc entries add to (or replace
                              entries of) the ramdisk's env */
    uint64_t strings_size;
    uint32_t argc;
    uint32_t envc;
    uint64_t exec_path_gpa; /* NUL-terminated path (in the enclave) of the program to run, or ""
                           for the application ramdisk's cmd[0], searched in PATH */
    uint64_t rootfs_gpa;    /* the application ramdisk: newc cpio archive(s) with rootfs/...,
                               cmd and env (the EIF's ramdisks after the first) */
    uint64_t rootfs_size;
    uint64_t out_ring_gpa;  /* struct alc_ring + data, guest -> host */
    uint64_t out_ring_size; /* data bytes, power of two */
    uint64_t in_ring_gpa;   /* struct alc_ring + data, host -> guest (stdin) */
    uint64_t in_ring_size;
    uint64_t shared_gpa; /* struct alc_shared */
    uint64_t stack_size; /* bytes for the application's main stack */
    uint32_t log_level;  /* enum alc_log_level: what the kernel bothers to send */
    uint32_t flags;      /* ALC_BOOT_* */
    uint8_t random[16];  /* seed for AT_RANDOM, from the host's CSPRNG */
    uint64_t kernel_gpa; /* where the kernel image (linked at ALC_KERNEL_VBASE) lies */
    uint64_t kernel_size;
    uint64_t populated_gpa;   /* bitmap: bit i set when chunk i (2 MiB) is backed */
    uint64_t console_winsize; /* ALC_BOOT_CONSOLE_TTY: the initial window size, as
                                 shared.console_winsize */
    uint64_t reserved[4];
};
_Static_assert(sizeof(struct alc_boot_info) == 280, "alc_boot_info layout");
#endif

/* ---- The CPU window ---------------------------------------------------------------------------
 * Each vCPU has its own pages at ALC_CPU_VBASE. The CPL0 trampolines address them with
 * absolute 32-bit sign-extended operands, so they must stay in the top 2 GiB. */
#ifndef __ASSEMBLER__
struct alc_cpu_area {
    uint64_t user_rsp;         /* 0x00: saved by the syscall trampoline */
    uint64_t exc_rax;          /* 0x08: saved by the exception trampoline */
    uint64_t exc_cr2;          /* 0x10: CR2 copied by the exception trampoline */
    uint64_t cpu_index;        /* 0x18 */
    uint64_t syscall_frame[5]; /* 0x20: iretq frame (rip, cs, rflags, rsp, ss) to the kernel */
    uint64_t exc_frame[5];     /* 0x48: iretq frame to the kernel's exception entry */
    uint64_t ret_rip;          /* 0x70: scratch for the CPL3 return path */
    uint64_t ret_rsp;          /* 0x78 */
    uint64_t boot_info_gpa;    /* 0x80 */
    /* threads and preemption (see "Preemption" below) */
    uint64_t kstack_top;            /* 0x88: guest: the running thread's kernel stack top */
    uint64_t preempt_rip;           /* 0x90: monitor: where the application was preempted */
    uint64_t preempt_rsp;           /* 0x98 */
    uint64_t preempt_rflags;        /* 0xa0 */
    volatile uint32_t need_resched; /* 0xa8: monitor sets, guest clears: a slice ended */
    volatile uint32_t in_kernel;    /* 0xac: guest: 1 while the vCPU runs the kernel */
    volatile uint64_t switches;     /* 0xb0: guest: context switches on this vCPU so far */
    uint64_t boot_cr3;              /* 0xb8: monitor: this vCPU's PML4 (GPA) at boot */
    uint64_t reserved[8];
    /* the rest of the page belongs to the enclave kernel (struct percpu) */
};
_Static_assert(sizeof(struct alc_cpu_area) == 0x100, "alc_cpu_area layout");
#endif

#define ALC_CPU_USER_RSP      0x00
#define ALC_CPU_EXC_RAX       0x08
#define ALC_CPU_EXC_CR2       0x10
#define ALC_CPU_SYSCALL_FRAME 0x20
#define ALC_CPU_EXC_FRAME     0x48
#define ALC_CPU_RET_RIP       0x70
#define ALC_CPU_RET_RSP       0x78
#define ALC_CPU_KSTACK        0x88
#define ALC_CPU_PREEMPT_RIP   0x90
#define ALC_CPU_PREEMPT_RSP   0x98
#define ALC_CPU_PREEMPT_FLAGS 0xa0
#ifndef __ASSEMBLER__
_Static_assert(offsetof(struct alc_cpu_area, user_rsp) == ALC_CPU_USER_RSP, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, exc_rax) == ALC_CPU_EXC_RAX, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, exc_cr2) == ALC_CPU_EXC_CR2, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, syscall_frame) == ALC_CPU_SYSCALL_FRAME, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, exc_frame) == ALC_CPU_EXC_FRAME, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, ret_rip) == ALC_CPU_RET_RIP, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, ret_rsp) == ALC_CPU_RET_RSP, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, kstack_top) == ALC_CPU_KSTACK, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, preempt_rip) == ALC_CPU_PREEMPT_RIP, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, preempt_rsp) == ALC_CPU_PREEMPT_RSP, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, preempt_rflags) == ALC_CPU_PREEMPT_FLAGS, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, switches) == 0xb0, "cpu area");
_Static_assert(offsetof(struct alc_cpu_area, boot_cr3) == 0xb8, "cpu area");
#endif

/* ---- Preemption ------------------------------------------------------------------------------
 * The guest has no timer interrupt: on our KVM every CPL0 instruction is emulated, so a tick
 * through the IDT would cost tens of microseconds whether or not anything needs to run. The
 * monitor is the timer instead, and only while the guest asks (ALC_HC_SCHED, sent when the
 * application first has more than one thread). Every slice its timer thread looks at shared
 * memory and, for each vCPU that is not waiting in ALC_HC_WAIT and has made no context switch
 * (switches unchanged) for a whole slice, preempts it when a thread is ready (shared.ready) or a
 * sleeper is due (shared.wake_at) or an event a blocked thread waits for is set
 * (shared.events & shared.wait_events); and once after the guest changed shared.kick, every vCPU
 * not waiting in ALC_HC_WAIT (the guest's way to make a thread on another vCPU enter its kernel,
 * as an IPI would). Preempting a vCPU: need_resched = 1; if in_kernel is 0
 * the vCPU is also stopped (one in the kernel looks at need_resched on its way out, and stopping
 * it there would only stall the vCPUs waiting for the kernel's lock); if it was running the
 * application (rip in the lower half), its rip, rsp and rflags
 * go to preempt_*, and it continues at the kernel header's entry_preempt with rsp = kstack_top
 * and rflags = 0x2, every other register unchanged. In the kernel's half it continues as it
 * was: the kernel looks at need_resched before it returns to the application. */

/* ---- Host signals -----------------------------------------------------------------------------
 * A signal the host sends the enclave (a Ctrl-C to `alcove run`, `alcove-oci kill`) reaches the
 * first process only where that process asked for it: the guest keeps shared.caught up to date
 * (bit N: pid 1 has a handler for N or ignores it, or every one of its threads blocks it). For
 * such a signal the monitor sets bit N in shared.host_signals (or host_group_signals when the
 * host's terminal made it, as a Ctrl-C: the signal then goes to pid 1's process group, as a
 * terminal sends it to its foreground group), then ALC_EV_SIGNAL in
 * shared.events, wakes a waiting vCPU and has every vCPU running the application enter its
 * kernel (as for shared.kick); the guest clears ALC_EV_SIGNAL, takes both words and sends each
 * signal as one from outside (SI_USER, pid 0, uid 0). For any other signal the monitor
 * applies the default action itself, without the guest: it ends the enclave with 128 + N (or
 * drops a signal whose default is to be ignored), so a guest that never looks cannot keep a
 * terminating signal from ending it unless it says its first process asked to handle that
 * signal (`caught` is the guest's word: a compromised kernel keeps only itself alive so; KILL
 * and TERMINATE never ask it). */

/* Page offsets inside the CPU window. */
#define ALC_CPU_PAGE_AREA      0 /* struct alc_cpu_area + kernel per-CPU data */
#define ALC_CPU_PAGE_GDT       1 /* GDT (64 bytes) then the TSS at +0x800 */
#define ALC_CPU_TSS_OFFSET     0x800
#define ALC_CPU_PAGE_IST       2  /* 2 pages: CPL0 exception stack (IST1) */
#define ALC_CPU_PAGE_EXC_STACK 4  /* 8 pages: the kernel's exception handler stack */
#define ALC_CPU_PAGE_KSTACK    12 /* 16 pages: boot and syscall stack */
#define ALC_CPU_PAGES          28

#define ALC_CPU_IST_TOP       (ALC_CPU_VBASE + (ALC_CPU_PAGE_IST + 2) * ALC_PAGE_SIZE)
#define ALC_CPU_EXC_STACK_TOP (ALC_CPU_VBASE + (ALC_CPU_PAGE_EXC_STACK + 8) * ALC_PAGE_SIZE)
#define ALC_CPU_KSTACK_TOP    (ALC_CPU_VBASE + (ALC_CPU_PAGE_KSTACK + 16) * ALC_PAGE_SIZE)

/* The exception trampoline leaves this frame at the top of the IST stack. */
#ifndef __ASSEMBLER__
struct alc_exc_frame {
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip;
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
};
#endif
#define ALC_CPU_EXC_FRAME_ADDR (ALC_CPU_IST_TOP - 56)
#ifndef __ASSEMBLER__
_Static_assert(sizeof(struct alc_exc_frame) == 56, "alc_exc_frame layout");
#endif

/* ---- The enclave kernel's self-description ---------------------------------------------------
 * Carried in an ELF note (name "ALCOVE", type ALC_NOTE_KERNEL) of the enclave kernel image. */
#define ALC_NOTE_NAME     "ALCOVE"
#define ALC_NOTE_KERNEL   1u
#define ALC_KERNEL_MAGIC  0x4b434c41u /* "ALCK" */
#define ALC_EXC_STUB_SIZE 16
#define ALC_EXC_VECTORS   32
/* The gates the monitor fills: the exceptions only. The enclave kernel reaches the two CPL0
 * instructions paging needs (loading CR3, invlpg) through #UD: `ud2` at one of two addresses of
 * its own code, which the #UD stub recognises (enclave/entry/tramp.S). On our KVM (PVM) an `int n`
 * instruction at CPL3 is itself #UD, whatever the gate says, so a software-interrupt gate cannot
 * be used (ABI 7). */
#define ALC_IDT_VECTORS ALC_EXC_VECTORS

#ifndef __ASSEMBLER__
struct alc_kernel_header {
    uint32_t magic;
    uint32_t abi_version;
    uint64_t entry_boot;       /* CPL3: bootstrap vCPU, rdi = boot info GPA */
    uint64_t entry_ap;         /* CPL3: other vCPUs, rdi = boot info GPA, rsi = cpu index */
    uint64_t entry_syscall;    /* CPL3: where the syscall trampoline lands */
    uint64_t entry_exception;  /* CPL3: where the exception trampoline lands */
    uint64_t tramp_syscall;    /* CPL0: MSR_LSTAR */
    uint64_t tramp_exceptions; /* CPL0: vector v's stub at + v * ALC_EXC_STUB_SIZE */
    uint64_t entry_preempt;    /* CPL3: where a preempted vCPU continues (see Preemption) */
    uint64_t unused;           /* 0 (ABI 4-6: the paging gates' stubs) */
    uint64_t reserved[2];
};
_Static_assert(sizeof(struct alc_kernel_header) == 88, "alc_kernel_header layout");
#endif

#endif /* ALCOVE_ABI_H */
