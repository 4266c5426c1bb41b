/* lifecycle.h: the commands that make, start, signal and remove a container, and their
 * shared steps (create.c, control.c). */
#ifndef ALCOVE_OCI_LIFECYCLE_H
#define ALCOVE_OCI_LIFECYCLE_H

#include <sys/types.h>

/* Each command takes argv from its name on and returns the exit status. */
int oci_cmd_create(int argc, char **argv);
int oci_cmd_start(int argc, char **argv);
int oci_cmd_run(int argc, char **argv);
int oci_cmd_state(int argc, char **argv);
int oci_cmd_kill(int argc, char **argv);
int oci_cmd_exec(int argc, char **argv); /* exec.c */
int oci_cmd_pause(int argc, char **argv);
int oci_cmd_resume(int argc, char **argv);
int oci_cmd_delete(int argc, char **argv);
int oci_cmd_list(int argc, char **argv);
int oci_cmd_ps(int argc, char **argv);
int oci_cmd_features(int argc, char **argv);
int oci_cmd_spec(int argc, char **argv);

/* Releases a created container's monitor (reads exec.fifo in its locked directory dir). 0, or
 * an error code (reported). */
int oci_release_monitor(int dir, const char *id, pid_t pid, unsigned long long pid_start);

#endif
