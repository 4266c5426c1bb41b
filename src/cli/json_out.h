/* json_out.h: printing JSON the way nitro-cli does (serde_json's pretty printer: two-space
 * indentation, "key": value), so scripts written for nitro-cli read alcove's output. */
#ifndef ALCOVE_JSON_OUT_H
#define ALCOVE_JSON_OUT_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* Prints item and a newline to f. */
void json_print(FILE *f, const cJSON *item);

/* The Measurements object nitro-cli prints: HashAlgorithm, PCR0, PCR1, PCR2 [, PCR8]. */
struct eif_pcrs;
cJSON *json_measurements(const struct eif_pcrs *pcrs);

/* Adds ImageName, ImageVersion and Metadata from an image's metadata section, as describe-eif
 * and describe-enclaves --metadata print them (nothing when it has none). 0, or -1 when the
 * section is not nitro-cli's JSON. */
struct eif_image;
int json_add_image_metadata(cJSON *out, const struct eif_image *img);

#endif
