/* metadata.c: the EIF metadata section, nitro-cli's JSON shape, through cJSON. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "image/metadata.h"

/* Adds a string member; a NULL string is written as "". false on allocation failure. */
static bool add_string(cJSON *obj, const char *key, const char *value)
{
    return cJSON_AddStringToObject(obj, key, value ? value : "") != NULL;
}

/* Adds an embedded JSON value parsed from text, or null when text is NULL. */
static bool add_json(cJSON *obj, const char *key, const char *text)
{
    if (text == NULL)
        return cJSON_AddNullToObject(obj, key) != NULL;
    cJSON *v = cJSON_Parse(text);
    if (v == NULL)
        return false;
    if (!cJSON_AddItemToObject(obj, key, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

char *eif_metadata_to_json(const struct eif_metadata *m)
{
    char *out = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *build = cJSON_CreateObject();
    if (root == NULL || build == NULL)
        goto out;
    if (!add_string(root, "ImageName", m->image_name) ||
        !add_string(root, "ImageVersion", m->image_version))
        goto out;
    if (!add_string(build, "BuildTime", m->build_time) ||
        !add_string(build, "BuildTool", m->build_tool) ||
        !add_string(build, "BuildToolVersion", m->build_tool_version) ||
        !add_string(build, "OperatingSystem", m->operating_system) ||
        !add_string(build, "KernelVersion", m->kernel_version))
        goto out;
    if (!cJSON_AddItemToObject(root, "BuildMetadata", build))
        goto out;
    build = NULL; /* owned by root */
    if (!add_json(root, "DockerInfo", m->docker_info_json) ||
        !add_json(root, "CustomMetadata", m->custom_json))
        goto out;
    char *text = cJSON_PrintUnformatted(root);
    if (text) {
        out = strdup(text);
        cJSON_free(text);
    }
out:
    cJSON_Delete(build);
    cJSON_Delete(root);
    return out;
}

/* A copy of obj[key], which must be a string. */
static char *get_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return NULL;
    return strdup(v->valuestring);
}

/* The compact text of obj[key] (any JSON value), NULL in *out for null. false if absent. */
static bool get_json(const cJSON *obj, const char *key, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (v == NULL)
        return false;
    if (cJSON_IsNull(v))
        return true;
    char *text = cJSON_PrintUnformatted(v);
    if (text == NULL)
        return false;
    *out = strdup(text);
    cJSON_free(text);
    return *out != NULL;
}

int eif_metadata_parse(const uint8_t *json, size_t len, struct eif_metadata *m)
{
    cJSON *root = NULL;
    memset(m, 0, sizeof(*m));
    /* One JSON value and nothing after it but white space, as serde_json reads it: cJSON checks
     * that only up to a NUL, so parse a NUL-terminated copy of a section without NULs. */
    if (len == SIZE_MAX || memchr(json, '\0', len) != NULL)
        return -1;
    char *text = malloc(len + 1);
    if (text == NULL)
        return -1;
    memcpy(text, json, len);
    text[len] = '\0';
    root = cJSON_ParseWithLengthOpts(text, len + 1, NULL, true);
    free(text);
    if (!cJSON_IsObject(root))
        goto fail;
    const cJSON *build = cJSON_GetObjectItemCaseSensitive(root, "BuildMetadata");
    if (!cJSON_IsObject(build))
        goto fail;
    m->image_name = get_string(root, "ImageName");
    m->image_version = get_string(root, "ImageVersion");
    m->build_time = get_string(build, "BuildTime");
    m->build_tool = get_string(build, "BuildTool");
    m->build_tool_version = get_string(build, "BuildToolVersion");
    m->operating_system = get_string(build, "OperatingSystem");
    m->kernel_version = get_string(build, "KernelVersion");
    if (!m->image_name || !m->image_version || !m->build_time || !m->build_tool ||
        !m->build_tool_version || !m->operating_system || !m->kernel_version)
        goto fail;
    if (!get_json(root, "DockerInfo", &m->docker_info_json) ||
        !get_json(root, "CustomMetadata", &m->custom_json))
        goto fail;
    cJSON_Delete(root);
    return 0;
fail:
    cJSON_Delete(root);
    eif_metadata_free(m);
    return -1;
}

void eif_metadata_free(struct eif_metadata *m)
{
    free(m->image_name);
    free(m->image_version);
    free(m->build_time);
    free(m->build_tool);
    free(m->build_tool_version);
    free(m->operating_system);
    free(m->kernel_version);
    free(m->docker_info_json);
    free(m->custom_json);
    memset(m, 0, sizeof(*m));
}

/* SOURCE_DATE_EPOCH as a time, if it is a valid non-negative decimal number. */
static bool source_date_epoch(time_t *out)
{
    const char *s = getenv("SOURCE_DATE_EPOCH");
    char *end = NULL;
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || (long long)(time_t)v != v)
        return false;
    *out = (time_t)v;
    return true;
}

void eif_build_time(char *out, size_t size)
{
    time_t t;
    struct tm tm;
    if (!source_date_epoch(&t))
        t = time(NULL);
    if (size == 0)
        return;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%S+00:00", &tm) == 0)
        out[0] = '\0';
}
