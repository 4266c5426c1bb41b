/* cmd_describe_enclaves.c: `alcove describe-enclaves [--metadata]`, nitro-cli's JSON array, one
 * object per enclave on this host, in nitro-cli's field order, then alcove's own fields
 * (VsockSocket, MemoryBacking, and ExitStatus/ExitReason for an enclave whose application has
 * ended: State "EMPTY"). */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/enclaves.h"
#include "cli/json_out.h"
#include "common/errors.h"
#include "common/runtime.h"

static const char *const g_order[] = {
    "EnclaveName", "EnclaveID", "ProcessID", "EnclaveCID", "NumberOfCPUs",
    "CPUIDs",      "MemoryMiB", "State",     "Flags",      "Measurements",
};
static const char *const g_metadata[] = {"ImageName", "ImageVersion", "Metadata"};

static bool listed(const char *key, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

static int run_describe_enclaves(int argc, char **argv)
{
    bool metadata = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--metadata") == 0) {
            metadata = true;
        } else {
            return args_usage_error(E_INVALID_ARGUMENT, "unknown option '%s'", argv[i]);
        }
    }
    int err = enclaves_runtime_check();
    if (err)
        return err;
    struct enclave_rec *list;
    size_t n;
    int r = enclaves_list(&list, &n);
    if (r < 0) {
        alc_err_report(E_FILE_OPERATION, "the runtime directory: %s", strerror(-r));
        return E_FILE_OPERATION;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject(), *d = list[i].desc;
        for (size_t k = 0; k < sizeof(g_order) / sizeof(g_order[0]); k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, g_order[k]);
            if (v)
                cJSON_AddItemToObject(o, g_order[k], cJSON_Duplicate(v, 1));
        }
        if (metadata)
            for (size_t k = 0; k < 3; k++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, g_metadata[k]);
                if (v)
                    cJSON_AddItemToObject(o, g_metadata[k], cJSON_Duplicate(v, 1));
            }
        for (cJSON *v = d->child; v; v = v->next)
            if (!listed(v->string, g_order, sizeof(g_order) / sizeof(g_order[0])) &&
                !listed(v->string, g_metadata, 3) && strcmp(v->string, "OwnerUid") != 0)
                cJSON_AddItemToObject(o, v->string, cJSON_Duplicate(v, 1));
        /* a shared directory: whose enclave it is, from the description file's owner (never
         * from what the description says: its owner writes that, and names and IDs are not
         * unique across users) */
        if (runtime_dir_shared(NULL))
            cJSON_AddNumberToObject(o, "OwnerUid", (double)list[i].owner);
        cJSON_AddItemToArray(arr, o);
    }
    json_print(stdout, arr);
    cJSON_Delete(arr);
    enclaves_free(list, n);
    return 0;
}

const struct command cmd_describe_enclaves = {
    .name = "describe-enclaves",
    .run = run_describe_enclaves,
    .summary = "list this host's enclaves as JSON (nitro-cli's describe-enclaves)",
    .usage = "Usage: alcove describe-enclaves [--metadata]\n\n"
             "Prints a JSON array: EnclaveName, EnclaveID, ProcessID, EnclaveCID, NumberOfCPUs,\n"
             "CPUIDs, MemoryMiB, State (RUNNING, or EMPTY once its application has ended, with\n"
             "ExitStatus and ExitReason), Flags (DEBUG_MODE or NONE), Measurements, VsockSocket,\n"
             "MemoryBacking (hugepages from the allocator's pool, or ordinary), PublishedPorts\n"
             "(-p/--publish: HostIp, HostPort, EnclavePort, Protocol), OutboundAllowlist\n"
             "(--allow/--allowlist: address, port). --metadata adds ImageName, ImageVersion\n"
             "and Metadata from the image. In a runtime directory shared with a group, OwnerUid:\n"
             "the uid that started the enclave (root lists every member's).\n",
};
