/* host_signal.c: the host's signals for the enclave's first process (alcove_abi.h, "Host
 * signals").
 *
 * The monitor forwards a signal only when pid 1 asked for it (shared.caught, kept up to date
 * here); for the others it applies the default action itself. So this file has two halves: the
 * mask, recomputed whenever pid 1's dispositions or its threads' masks change (signal.c calls
 * host_signal_changed), and the delivery, run from sched_poll when the monitor raised
 * ALC_EV_SIGNAL. Both run under the kernel lock. A mask that is a moment stale is harmless
 * either way: a forwarded signal the program does not handle gets its default action here, and
 * one the monitor acted on would have ended the process here too. */
#include "kernel.h"
#include "klib.h"
#include "process.h"
#include "signal.h"

static struct alc_shared *shared(void)
{
    return phys_to_virt(g_boot->shared_gpa);
}

void host_signal_changed(struct process *p)
{
    if (p != process_first() || !p->sig)
        return;
    uint64_t wanted = signal_wanted_set(p);
    uint32_t caught = 0;
    for (int sig = 1; sig < 32; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && (wanted & SIGBIT(sig)))
            caught |= 1u << sig;
    __atomic_store_n(&shared()->caught, caught, __ATOMIC_RELEASE);
}

static void send_host(struct process *p, int sig)
{
    if (p->zombie)
        return;
    /* as a signal from outside the enclave's namespace: no sender pid, uid 0 */
    struct linux_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = sig;
    info.si_code = SI_USER;
    signal_send_proc(p, sig, &info, NULL);
}

void host_signal_take(void)
{
    struct alc_shared *sh = shared();
    /* the event first: bits set after the exchanges raise it again */
    __atomic_and_fetch(&sh->events, ~ALC_EV_SIGNAL, __ATOMIC_ACQ_REL);
    uint32_t one = __atomic_exchange_n(&sh->host_signals, 0, __ATOMIC_ACQ_REL);
    uint32_t group = __atomic_exchange_n(&sh->host_group_signals, 0, __ATOMIC_ACQ_REL);
    struct process *init = process_first();
    for (int sig = 1; sig < 32; sig++) {
        uint32_t bit = 1u << sig;
        if (!((one | group) & bit) || sig == SIGKILL || sig == SIGSTOP)
            continue;
        klog(ALC_LOG_DEBUG, "host signal %d to %s", sig, group & bit ? "pid 1's group" : "pid 1");
        if (group & bit) {
            /* the others first, as kill(2) does: pid 1 ending ends the enclave */
            for (struct process *p = process_list(); p; p = p->all_next)
                if (p != init && p->pgid == init->pgid)
                    send_host(p, sig);
        }
        send_host(init, sig);
    }
}
