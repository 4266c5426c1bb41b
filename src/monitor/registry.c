/* registry.c: the enclave's identity and its runtime-directory entry (see registry.h). The
 * EnclaveID has nitro-cli's shape, "<instance>-enc<16 hex digits>": the instance is the
 * machine's board asset tag when it is an EC2 instance ID, else "i-" and the first 16 hex
 * digits of /etc/machine-id. */
#include "monitor/registry.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/errors.h"
#include "common/outbound.h"
#include "common/publish.h"
#include "monitor/monitor.h"
#include "monitor/vm.h"

/* Reads the first line of path into buf, whitespace trimmed. 0 or -1. */
static int read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char *r = fgets(buf, (int)size, f);
    fclose(f);
    if (!r)
        return -1;
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = 0;
    return n ? 0 : -1;
}

static void make_enclave_id(char *out, size_t size)
{
    char inst[64] = "i-0000000000000000", line[128];
    if (read_line("/sys/devices/virtual/dmi/id/board_asset_tag", line, sizeof(line)) == 0 &&
        strncmp(line, "i-", 2) == 0 && strlen(line) < sizeof(inst)) {
        snprintf(inst, sizeof(inst), "%s", line);
    } else if (read_line("/etc/machine-id", line, sizeof(line)) == 0 && strlen(line) >= 16) {
        snprintf(inst, sizeof(inst), "i-%.16s", line);
    }
    uint64_t slot = 0;
    if (getrandom(&slot, sizeof(slot), 0) != sizeof(slot))
        slot = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
    snprintf(out, size, "%s-enc%016llx", inst, (unsigned long long)slot);
}

char *registry_json(struct vm *vm)
{
    const struct enclave_config *cfg = vm->cfg;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "EnclaveName", vm->enclave_name);
    cJSON_AddStringToObject(o, "EnclaveID", vm->enclave_id);
    cJSON_AddNumberToObject(o, "ProcessID", vm->pid);
    cJSON_AddNumberToObject(o, "EnclaveCID", vm->claim.cid);
    cJSON_AddNumberToObject(o, "NumberOfCPUs", cfg->cpu_count);
    cJSON *ids = cJSON_AddArrayToObject(o, "CPUIDs");
    for (unsigned i = 0; i < vm->ncpu_ids; i++)
        cJSON_AddItemToArray(ids, cJSON_CreateNumber(vm->cpu_ids[i]));
    cJSON_AddNumberToObject(
        o, "MemoryMiB", (double)(cfg->mem_mib_reported ? cfg->mem_mib_reported : cfg->memory_mib));
    cJSON_AddStringToObject(o, "State", vm->state);
    cJSON_AddStringToObject(o, "Flags", cfg->debug_mode ? "DEBUG_MODE" : "NONE");
    /* what the CLI knows about the image (Measurements, metadata), merged in */
    cJSON *extra = cfg->describe_extra ? cJSON_Parse(cfg->describe_extra) : NULL;
    for (cJSON *e = extra ? extra->child : NULL; e; e = e->next)
        cJSON_AddItemToObject(o, e->string, cJSON_Duplicate(e, 1));
    cJSON_Delete(extra);
    cJSON_AddStringToObject(o, "VsockSocket", vm->vsock_path);
    cJSON_AddStringToObject(o, "MemoryBacking", vm->memory_backing);
    /* -p/--publish, as Docker's inspect names its parts */
    cJSON *ports = cJSON_AddArrayToObject(o, "PublishedPorts");
    for (unsigned i = 0; i < cfg->npublish; i++) {
        const struct publish_port *p = &cfg->publish[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "HostIp", p->host_ip);
        cJSON_AddNumberToObject(e, "HostPort", p->host_port);
        cJSON_AddNumberToObject(e, "EnclavePort", p->enclave_port);
        cJSON_AddStringToObject(e, "Protocol", "tcp");
        cJSON_AddItemToArray(ports, e);
    }
    /* --allow/--allowlist: the operator's outbound allowlist, as vsock-proxy.yaml names its
     * parts (not measured: a verifier cannot learn it from the PCRs) */
    cJSON *allow = cJSON_AddArrayToObject(o, "OutboundAllowlist");
    for (unsigned i = 0; i < cfg->nallow; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "address", cfg->allow[i].host);
        cJSON_AddNumberToObject(e, "port", cfg->allow[i].port);
        cJSON_AddItemToArray(allow, e);
    }
    if (vm->exit_reason[0] || strcmp(vm->state, "EMPTY") == 0) {
        cJSON_AddNumberToObject(o, "ExitStatus", vm->status);
        cJSON_AddStringToObject(o, "ExitReason", vm->exit_reason);
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    return text;
}

static int describe(struct vm *vm)
{
    char *text = registry_json(vm);
    if (!text)
        return -ENOMEM;
    int r = runtime_describe(&vm->claim, text);
    cJSON_free(text);
    return r;
}

void registry_update(struct vm *vm)
{
    if (vm->claim.fd >= 0)
        describe(vm);
}

void registry_finish(struct vm *vm, const char *reason)
{
    vm->state = "EMPTY";
    snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%s", reason);
    describe(vm);
    runtime_release_keep(&vm->claim);
}

int registry_enter(struct vm *vm, const struct enclave_config *cfg)
{
    int r = runtime_claim(&vm->claim, cfg->cid);
    if (r == -EADDRINUSE) {
        if (cfg->cid)
            alc_err_report(E_CID_IN_USE, "enclave CID %u is in use by another enclave", cfg->cid);
        else
            alc_err_report(E_CID_IN_USE, "no free enclave CID");
        return E_CID_IN_USE;
    }
    if (r == -EACCES && cfg->cid) {
        /* a shared runtime directory: a file at the CID's paths is another member's */
        alc_err_report(E_CID_IN_USE,
                       "enclave CID %u is another user's (a file of it in %s, its "
                       "description or a socket, is not this user's)",
                       cfg->cid, runtime_dir());
        return E_CID_IN_USE;
    }
    if (r < 0 && runtime_dir_problem()) {
        int code = r == -EPERM ? E_FILE_PERMISSIONS : E_FILE_OPERATION;
        alc_err_report(code, "the runtime directory: %s", runtime_dir_problem());
        return code;
    }
    if (r < 0) {
        alc_err_report(E_FILE_OPERATION, "the runtime directory %s: %s", runtime_dir(),
                       strerror(-r));
        return E_FILE_OPERATION;
    }
    make_enclave_id(vm->enclave_id, sizeof(vm->enclave_id));
    snprintf(vm->enclave_name, sizeof(vm->enclave_name), "%s",
             cfg->name && *cfg->name ? cfg->name : vm->enclave_id);
    if (runtime_path(vm->vsock_path, sizeof(vm->vsock_path), vm->claim.cid, "vsock") ||
        strlen(vm->vsock_path) >= 100 /* sun_path, with room for "_<port>" */) {
        alc_err_report(E_FILE_OPERATION, "the runtime directory's path is too long for a socket");
        runtime_release(&vm->claim);
        return E_FILE_OPERATION;
    }
    vm->cfg = cfg;
    if (!vm->state)
        vm->state = "RUNNING";
    r = describe(vm);
    if (r < 0) {
        alc_err_report(E_FILE_OPERATION, "cannot describe the enclave: %s", strerror(-r));
        runtime_release(&vm->claim);
        return E_FILE_OPERATION;
    }
    return 0;
}

void registry_leave(struct vm *vm)
{
    runtime_release(&vm->claim);
}
