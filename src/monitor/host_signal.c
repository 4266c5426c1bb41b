/* host_signal.c: a signal the host sends the enclave (alcove_abi.h, "Host signals").
 *
 * `alcove run` takes INT, TERM, HUP and QUIT (a Ctrl-C, a `kill`), and `alcove-oci kill` sends
 * any signal as MONITOR_SIGNAL_CARRIER with the number as its value. One the host's terminal
 * made (a Ctrl-C: si_code SI_KERNEL) goes to the first process's process group, as a terminal's
 * goes to its foreground group; any other to the first process alone, as `docker kill` does. The
 * enclave's first process gets the signal when it asked for it (shared.caught); otherwise the
 * monitor applies the default action itself, so ending an enclave never depends on the guest's
 * cooperation unless its program asked to handle that signal. */
#include <signal.h>

#include "common/log.h"
#include "monitor/vm.h"

/* signal(7)'s default actions other than ending the process */
static bool default_ignored(int sig)
{
    return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

static bool default_stops(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

void host_signal(struct vm *vm, int sig, bool from_terminal)
{
    if (sig < 1 || sig > 31)
        return;
    uint32_t bit = 1u << sig;
    struct alc_shared *sh = vm->shared;
    if (sig != SIGKILL && sig != SIGSTOP &&
        (__atomic_load_n(&sh->caught, __ATOMIC_ACQUIRE) & bit)) {
        __atomic_fetch_or(from_terminal ? &sh->host_group_signals : &sh->host_signals, bit,
                          __ATOMIC_ACQ_REL);
        __atomic_fetch_or(&sh->events, ALC_EV_SIGNAL, __ATOMIC_ACQ_REL);
        vm_wake_waiters(vm);
        sched_kick_running(vm); /* a program computing on every vCPU sees it too */
        alc_log(ALC_LOG_DEBUG, "signal %d: delivered to the enclave's first process%s", sig,
                from_terminal ? "'s process group" : "");
        return;
    }
    if (default_ignored(sig)) {
        alc_log(ALC_LOG_DEBUG, "signal %d: ignored (its default action)", sig);
        return;
    }
    if (default_stops(sig)) {
        alc_log(ALC_LOG_WARN,
                "signal %d: not delivered (a stop signal; alcove-oci pause stops "
                "an enclave)",
                sig);
        return;
    }
    vm_end(vm, VM_END_HOST, 128 + sig, "stopped by signal %d", sig);
}
