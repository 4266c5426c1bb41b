/* log.h: the monitor's diagnostics, and the enclave kernel's log lines it relays.
 * Lines go to stderr (or --log-file) as "alcove: ..." when their level is enabled. */
#ifndef ALCOVE_LOG_H
#define ALCOVE_LOG_H

#include "abi/alcove_abi.h"

void log_set_level(int level);
int log_get_level(void);
/* Sends log lines to fd instead of stderr (the caller keeps fd open). */
void log_set_fd(int fd);
int log_get_fd(void);
/* Lines as JSON objects ({"level":...,"msg":...}) instead of text: alcove-oci's --log-format
 * json, which containerd reads. */
void log_set_json(int on);
/* level is enum alc_log_level */
void alc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses "error|warn|info|debug|trace"; -1 if unknown. */
int log_level_parse(const char *name);

#endif
