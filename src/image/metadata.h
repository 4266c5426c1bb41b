/* metadata.h: the EIF metadata section (specs/eif.md section 4): compact JSON with the keys, in
 * order, ImageName, ImageVersion, BuildMetadata{BuildTime, BuildTool, BuildToolVersion,
 * OperatingSystem, KernelVersion}, DockerInfo, CustomMetadata. Not measured. */
#ifndef ALCOVE_METADATA_H
#define ALCOVE_METADATA_H

#include <stddef.h>
#include <stdint.h>

struct eif_metadata {
    char *image_name;
    char *image_version;
    char *build_time; /* RFC 3339 */
    char *build_tool; /* "alcove" */
    char *build_tool_version;
    char *operating_system; /* "alcove" */
    char *kernel_version;   /* the enclave kernel's version */
    char *docker_info_json; /* JSON text, or NULL for null */
    char *custom_json;      /* JSON text, or NULL for null */
};

/* Serialises m (compact JSON, nitro-cli's key order) into a malloc'd string. */
char *eif_metadata_to_json(const struct eif_metadata *m);
/* Parses a metadata section. 0, or -1 when it is not the shape above. Free with
 * eif_metadata_free. */
int eif_metadata_parse(const uint8_t *json, size_t len, struct eif_metadata *m);
void eif_metadata_free(struct eif_metadata *m);
/* RFC 3339 time of SOURCE_DATE_EPOCH if set (reproducible builds), else of now, UTC. */
void eif_build_time(char *out, size_t size);

#endif
