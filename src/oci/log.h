/* log.h: alcove-oci's diagnostics. podman and containerd give a runtime --log FILE and
 * --log-format text|json and report the last error line of that file when a command fails, so
 * errors go there (and to stderr, as runc does); info lines (what a bundle asked for that the
 * enclave ignores) go to the log only. Without --log, errors go to stderr, and info lines too
 * with --debug only: that stderr is the container's own output. */
#ifndef ALCOVE_OCI_LOG_H
#define ALCOVE_OCI_LOG_H

/* Opens the log (path may be NULL: stderr). json: one JSON object per line, as containerd reads
 * it ({"level":...,"msg":...,"time":...}); else logrus's text lines. 0 or -1 (reported). */
int oci_log_open(const char *path, int json);
/* The log's descriptor (the monitor's own log lines go there too), or 2. */
int oci_log_fd(void);
int oci_log_is_json(void);
void oci_log_set_debug(int on);

/* An error line: "[ Exx ] description: message", to the log and stderr. */
void oci_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An info line (the log only; stderr when there is no log). */
void oci_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A debug line, with --debug only. */
void oci_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
