/* launch.c: an enclave launched detached (launch.h). */
#include "cli/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/enclaves.h"
#include "common/errors.h"

uint32_t launch_detached(struct enclave_config *cfg, int close_fd, pid_t *monitor, int *code)
{
    *code = E_ENCLAVE_BOOT_FAILURE;
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int pfd[2];
    if (null_fd < 0 || pipe2(pfd, O_CLOEXEC)) {
        alc_err_report(E_FILE_OPERATION, "pipe: %s", strerror(errno));
        *code = E_FILE_OPERATION;
        if (null_fd >= 0)
            close(null_fd);
        return 0;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        alc_err_report(E_MONITOR_FAILURE, "fork: %s", strerror(errno));
        *code = E_MONITOR_FAILURE;
        close(pfd[0]);
        close(pfd[1]);
        close(null_fd);
        return 0;
    }
    if (pid == 0) {
        /* the monitor: its own session, no terminal, stdin and stdout nowhere */
        close(pfd[0]);
        if (close_fd >= 0)
            close(close_fd);
        setsid();
        for (int sig = 1; sig < NSIG; sig++) {
            struct sigaction sa;
            if (sigaction(sig, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
                sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
                signal(sig, SIG_DFL); /* the command's handlers are not the monitor's */
        }
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        cfg->in_fd = cfg->out_fd = cfg->err_fd = null_fd;
        cfg->ready_fd = pfd[1];
        int r = monitor_run(cfg);
        _exit(r < 0 ? -r : 0);
    }
    *monitor = pid;
    close(pfd[1]);
    close(null_fd);
    int32_t result[2] = {E_ENCLAVE_BOOT_FAILURE, 0};
    ssize_t got;
    do
        got = read(pfd[0], result, sizeof(result));
    while (got < 0 && errno == EINTR);
    close(pfd[0]);
    if (got != (ssize_t)sizeof(result)) {
        alc_err_report(E_ENCLAVE_BOOT_FAILURE, "the enclave's monitor ended during the launch");
        return 0;
    }
    if (result[0])
        *code = result[0]; /* the monitor reported it */
    return result[0] ? 0 : (uint32_t)result[1];
}

cJSON *launch_json(uint32_t cid)
{
    struct enclave_rec *list;
    size_t n;
    int r = enclaves_list(&list, &n);
    if (r) {
        alc_err_report(E_ENCLAVE_BOOT_FAILURE, "cannot list the enclaves: %s", strerror(-r));
        return NULL;
    }
    struct enclave_rec *e = NULL;
    for (size_t i = 0; i < n; i++)
        if (list[i].cid == cid && list[i].owner == geteuid()) /* never another user's */
            e = &list[i];
    if (!e) {
        enclaves_free(list, n);
        alc_err_report(E_ENCLAVE_BOOT_FAILURE, "the enclave ended right after its launch");
        return NULL;
    }
    cJSON *out = cJSON_CreateObject();
    static const char *const keys[] = {"EnclaveName",  "EnclaveID", "ProcessID", "EnclaveCID",
                                       "NumberOfCPUs", "CPUIDs",    "MemoryMiB"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e->desc, keys[i]);
        cJSON_AddItemToObject(out, keys[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    }
    enclaves_free(list, n);
    return out;
}
