/* info.c: `features` (what this runtime supports, runtime-spec's features document) and `spec`
 * (a starting config.json for a bundle whose rootfs/ is the enclave's file system). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/errors.h"
#include "common/fileio.h"
#include "oci/lifecycle.h"
#include "oci/log.h"

static cJSON *strings(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}
#define STRINGS(v) strings(v, sizeof(v) / sizeof(v[0]))

int oci_cmd_features(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static const char *const hooks[] = {""};
    static const char *const mount_types[] = {"proc", "tmpfs", "sysfs", "devpts", "mqueue"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ociVersionMin", "1.0.0");
    cJSON_AddStringToObject(o, "ociVersionMax", "1.1.0");
    cJSON_AddItemToObject(o, "hooks", strings(hooks, 0));
    cJSON_AddItemToObject(o, "mountOptions", cJSON_CreateArray());
    cJSON *lx = cJSON_AddObjectToObject(o, "linux");
    cJSON_AddItemToObject(lx, "namespaces", cJSON_CreateArray());
    cJSON_AddItemToObject(lx, "capabilities", cJSON_CreateArray());
    cJSON *cg = cJSON_AddObjectToObject(lx, "cgroup");
    cJSON_AddBoolToObject(cg, "v1", 0);
    cJSON_AddBoolToObject(cg, "v2", 0);
    cJSON_AddBoolToObject(cg, "systemd", 0);
    cJSON *sc = cJSON_AddObjectToObject(lx, "seccomp");
    cJSON_AddBoolToObject(sc, "enabled", 0);
    cJSON_AddItemToObject(lx, "alcove.ignoredMountTypes", STRINGS(mount_types));
    cJSON *ann = cJSON_AddObjectToObject(o, "annotations");
    cJSON_AddStringToObject(ann, "io.github.alcove.enclave", "true");
    cJSON_AddStringToObject(ann, "alcove.debug-mode", "true|false: PCRs read as zeros");
    cJSON_AddStringToObject(ann, "alcove.enclave-cid", "the enclave's vsock CID (>= 4)");
    cJSON_AddStringToObject(ann, "alcove.allow",
                            "HOST:PORT[,HOST:PORT]...: outbound connections allowed");
    cJSON_AddStringToObject(ann, "alcove.allowlist",
                            "a vsock-proxy.yaml file (relative to the bundle): the same");
    cJSON_AddStringToObject(ann, "alcove.exec",
                            "PATH[,PATH]...: entry points exec may run (measured; enables exec)");
    cJSON_AddStringToObject(ann, "alcove.exec-env",
                            "NAME[,NAME]...: variables exec may set (measured)");
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s)
        return 1;
    printf("%s\n", s);
    cJSON_free(s);
    return 0;
}

static const char g_spec[] =
    "{\n"
    "  \"ociVersion\": \"1.0.2\",\n"
    "  \"process\": {\n"
    "    \"terminal\": false,\n"
    "    \"user\": {\"uid\": 0, \"gid\": 0},\n"
    "    \"args\": [\"sh\"],\n"
    "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\n"
    "    \"cwd\": \"/\"\n"
    "  },\n"
    "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
    "  \"hostname\": \"alcove\",\n"
    "  \"mounts\": [\n"
    "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
    "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},\n"
    "    {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\"}\n"
    "  ],\n"
    "  \"annotations\": {},\n"
    "  \"linux\": {\n"
    "    \"resources\": {\"memory\": {\"limit\": 134217728}, \"cpu\": {\"cpus\": \"0\"}}\n"
    "  }\n"
    "}\n";

int oci_cmd_spec(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'}, {"rootless", no_argument, NULL, 'r'}, {0}};
    const char *bundle = ".";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
        if (c == 'b') {
            bundle = optarg;
        } else if (c != 'r') {
            oci_err(E_INVALID_ARGUMENT, "spec: unknown option '%s'", argv[optind - 1]);
            return 1;
        }
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/config.json", bundle);
    struct stat st;
    if (lstat(path, &st) == 0) {
        oci_err(E_FILE_OPERATION, "%s exists: remove it first", path);
        return 1;
    }
    int r = write_file_atomic(path, g_spec, sizeof(g_spec) - 1, 0644);
    if (r) {
        oci_err(E_FILE_OPERATION, "%s: %s", path, strerror(-r));
        return 1;
    }
    return 0;
}
