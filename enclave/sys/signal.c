/* signal.c: signal dispositions and the mask. For now they are recorded and reported back;
 * delivering signals to handlers comes with the signals work (hardware faults end the program
 * as the default action would, see kernel/exception.c). */
#include "klib.h"
#include "syscall.h"

static struct linux_sigaction g_actions[NSIG + 1];
static uint64_t g_sigmask;
static struct linux_stack_t g_altstack = {.flags = SS_DISABLE};

#define UNBLOCKABLE ((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)))

SYSCALL_DEFINE4(rt_sigaction, int, sig, uint64_t, uact, uint64_t, uold, uint64_t, sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    if (sig < 1 || sig > NSIG)
        return -EINVAL;
    struct linux_sigaction act;
    if (uact) {
        if (copy_from_user(&act, uact, sizeof(act)))
            return -EFAULT;
        if (sig == SIGKILL || sig == SIGSTOP)
            return -EINVAL;
    }
    if (uold && copy_to_user(uold, &g_actions[sig], sizeof(act)))
        return -EFAULT;
    if (uact) {
        act.mask &= ~UNBLOCKABLE;
        g_actions[sig] = act;
    }
    return 0;
}

SYSCALL_DEFINE4(rt_sigprocmask, int, how, uint64_t, uset, uint64_t, uold, uint64_t, sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    uint64_t set = 0, old = g_sigmask;
    if (uset) {
        if (copy_from_user(&set, uset, 8))
            return -EFAULT;
        switch (how) {
        case SIG_BLOCK:
            g_sigmask |= set;
            break;
        case SIG_UNBLOCK:
            g_sigmask &= ~set;
            break;
        case SIG_SETMASK:
            g_sigmask = set;
            break;
        default:
            return -EINVAL;
        }
        g_sigmask &= ~UNBLOCKABLE;
    }
    if (uold && copy_to_user(uold, &old, 8))
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE2(sigaltstack, uint64_t, uss, uint64_t, uold)
{
    struct linux_stack_t ss;
    if (uss) {
        if (copy_from_user(&ss, uss, sizeof(ss)))
            return -EFAULT;
        if (ss.flags & ~(SS_DISABLE | (int32_t)0x80000000))
            return -EINVAL;
        if (!(ss.flags & SS_DISABLE) && ss.size < MINSIGSTKSZ)
            return -ENOMEM;
    }
    if (uold && copy_to_user(uold, &g_altstack, sizeof(g_altstack)))
        return -EFAULT;
    if (uss)
        g_altstack = ss.flags & SS_DISABLE ? (struct linux_stack_t){.flags = SS_DISABLE} : ss;
    return 0;
}
