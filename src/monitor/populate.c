/* populate.c: backing guest RAM (see populate.h). */
#include "monitor/populate.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <sched.h>
#include <string.h>

#include "common/errors.h"
#include "common/log.h"
#include "monitor/sandbox.h"
#include "monitor/vm.h"

static uint64_t *bitmap(struct vm *vm)
{
    return (uint64_t *)vm->populated;
}

static int chunk_done(struct vm *vm, uint64_t chunk)
{
    return (__atomic_load_n(&bitmap(vm)[chunk / 64], __ATOMIC_ACQUIRE) >> (chunk % 64)) & 1;
}

int populate_range(struct vm *vm, uint64_t gpa, uint64_t len)
{
    if ((gpa | len) & (ALC_CHUNK_SIZE - 1) || gpa + len < gpa || gpa + len > vm->mem.size)
        return -EINVAL;
    for (uint64_t c = gpa / ALC_CHUNK_SIZE; c < (gpa + len) / ALC_CHUNK_SIZE; c++) {
        if (chunk_done(vm, c))
            continue;
        int err = guest_mem_populate(&vm->mem, c * ALC_CHUNK_SIZE, ALC_CHUNK_SIZE);
        if (err)
            return err;
        __atomic_fetch_or(&bitmap(vm)[c / 64], 1ull << (c % 64), __ATOMIC_RELEASE);
    }
    return 0;
}

static void *populate_thread(void *arg)
{
    struct vm *vm = arg;
    struct sched_param sp = {0};
    sched_setscheduler(0, SCHED_IDLE, &sp); /* this thread (0: the caller, as the sandbox wants) */
    /* then its allowlist (monitor/sandbox.h): it starts under the common filter, and takes its
     * class's before the first thing it does for the guest's memory */
    sandbox_thread_class(SANDBOX_POPULATE);
    /* Not while the enclave boots: populating host memory disturbs the vCPU's wake-ups on our
     * nested KVM (the heartbeat's round trip went from ~0.3 ms to 10-50 ms with 64 MiB being
     * populated beside it), and what the boot needs it asks for itself. Start at the heartbeat,
     * or after a second without one. */
    for (int i = 0; i < 2000 && !atomic_load(&vm->heartbeat_seen); i++) {
        if (atomic_load(&vm->stopping) || atomic_load(&vm->populate_stop))
            return NULL;
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    for (uint64_t c = vm->layout.app_end / ALC_CHUNK_SIZE; c-- > 0;) {
        if (atomic_load(&vm->stopping) || atomic_load(&vm->populate_stop))
            break;
        if (populate_range(vm, c * ALC_CHUNK_SIZE, ALC_CHUNK_SIZE)) {
            alc_log(ALC_LOG_DEBUG, "background populate stopped at chunk %llu",
                    (unsigned long long)c);
            break; /* the guest will get ENOMEM when it asks for this memory itself */
        }
    }
    return NULL;
}

int populate_start(struct vm *vm)
{
    if (pthread_create(&vm->populate_thread, NULL, populate_thread, vm)) {
        alc_err_report(E_THREAD, "cannot start the populate thread");
        return E_THREAD;
    }
    vm->populate_started = true;
    return 0;
}

void populate_stop(struct vm *vm)
{
    if (!vm->populate_started)
        return;
    atomic_store(&vm->populate_stop, true);
    pthread_join(vm->populate_thread, NULL);
    vm->populate_started = false;
}
