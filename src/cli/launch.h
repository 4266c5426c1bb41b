/* launch.h: an enclave launched detached, as `run-enclave` and `start` launch one: its monitor
 * in a process and session of its own, the command waiting for its launch report, then
 * nitro-cli's JSON for it. */
#ifndef ALCOVE_LAUNCH_H
#define ALCOVE_LAUNCH_H

#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "monitor/monitor.h"

/* Forks the monitor for cfg (its stdin and stdout, and the enclave's streams, on /dev/null;
 * cfg's streams and ready_fd are set here) and waits for its launch report. The CID (*monitor:
 * the monitor's pid, a child of this process), or 0 with *code set (reported, by the monitor or
 * here; nothing runs then). close_fd: -1 or a descriptor the monitor must not keep. Signals this
 * process catches with a handler take their default action in the monitor. */
uint32_t launch_detached(struct enclave_config *cfg, int close_fd, pid_t *monitor, int *code);

/* run-enclave's JSON for the enclave with this CID, from its description: EnclaveName,
 * EnclaveID, ProcessID, EnclaveCID, NumberOfCPUs, CPUIDs, MemoryMiB. NULL, reported ([ E36 ]),
 * when the enclaves cannot be listed or it is not among them. */
cJSON *launch_json(uint32_t cid);

#endif
