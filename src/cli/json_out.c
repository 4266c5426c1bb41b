/* json_out.c: serde_json-style pretty printing (see json_out.h). */
#include "cli/json_out.h"

#include "image/eif.h"
#include "image/measure.h"
#include "image/metadata.h"

static void indent(FILE *f, int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", f);
}

static void print_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\b':
            fputs("\\b", f);
            break;
        case '\f':
            fputs("\\f", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void print_value(FILE *f, const cJSON *v, int depth)
{
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        int obj = cJSON_IsObject(v);
        const cJSON *c = v->child;
        if (!c) {
            fputs(obj ? "{}" : "[]", f);
            return;
        }
        fputs(obj ? "{\n" : "[\n", f);
        for (; c; c = c->next) {
            indent(f, depth + 1);
            if (obj) {
                print_string(f, c->string);
                fputs(": ", f);
            }
            print_value(f, c, depth + 1);
            fputs(c->next ? ",\n" : "\n", f);
        }
        indent(f, depth);
        fputc(obj ? '}' : ']', f);
    } else if (cJSON_IsString(v)) {
        print_string(f, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(long long)d)
            fprintf(f, "%lld", (long long)d);
        else
            fprintf(f, "%.17g", d);
    } else if (cJSON_IsBool(v)) {
        fputs(cJSON_IsTrue(v) ? "true" : "false", f);
    } else {
        fputs("null", f);
    }
}

void json_print(FILE *f, const cJSON *item)
{
    print_value(f, item, 0);
    fputc('\n', f);
}

cJSON *json_measurements(const struct eif_pcrs *pcrs)
{
    char hex[PCR_HEX_SIZE];
    cJSON *m = cJSON_CreateObject();
    /* nitro-cli prints the hasher's Debug form; do not match on it */
    cJSON_AddStringToObject(m, "HashAlgorithm", "Sha384 { ... }");
    pcr_to_hex(pcrs->pcr0, hex);
    cJSON_AddStringToObject(m, "PCR0", hex);
    pcr_to_hex(pcrs->pcr1, hex);
    cJSON_AddStringToObject(m, "PCR1", hex);
    pcr_to_hex(pcrs->pcr2, hex);
    cJSON_AddStringToObject(m, "PCR2", hex);
    if (pcrs->has_pcr8) {
        pcr_to_hex(pcrs->pcr8, hex);
        cJSON_AddStringToObject(m, "PCR8", hex);
    }
    return m;
}

static void add_string_or_null(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *metadata_json(const struct eif_metadata *m)
{
    cJSON *o = cJSON_CreateObject();
    add_string_or_null(o, "BuildTime", m->build_time);
    add_string_or_null(o, "BuildTool", m->build_tool);
    add_string_or_null(o, "BuildToolVersion", m->build_tool_version);
    add_string_or_null(o, "OperatingSystem", m->operating_system);
    add_string_or_null(o, "KernelVersion", m->kernel_version);
    cJSON *docker = m->docker_info_json ? cJSON_Parse(m->docker_info_json) : NULL;
    cJSON_AddItemToObject(o, "DockerInfo", docker ? docker : cJSON_CreateNull());
    /* custom metadata: its keys flattened into this object, as nitro-cli does */
    cJSON *custom = m->custom_json ? cJSON_Parse(m->custom_json) : NULL;
    if (cJSON_IsObject(custom)) {
        while (custom->child) {
            cJSON *item = cJSON_DetachItemViaPointer(custom, custom->child);
            cJSON_AddItemToObject(o, item->string, item);
        }
    }
    cJSON_Delete(custom);
    return o;
}

int json_add_image_metadata(cJSON *out, const struct eif_image *img)
{
    if (img->metadata < 0)
        return 0;
    struct eif_metadata m;
    const struct eif_section *s = &img->sections[img->metadata];
    if (eif_metadata_parse(s->data, s->size, &m) != 0)
        return -1;
    add_string_or_null(out, "ImageName", m.image_name);
    add_string_or_null(out, "ImageVersion", m.image_version);
    cJSON_AddItemToObject(out, "Metadata", metadata_json(&m));
    eif_metadata_free(&m);
    return 0;
}
