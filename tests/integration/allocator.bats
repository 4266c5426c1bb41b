#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# allocator.bats: `alcove allocator apply|status|release` against a fake sysfs tree
# (ALCOVE_SYSFS_ROOT) and a temporary runtime directory (ALCOVE_RUNTIME_DIR): the counts it
# writes, its JSON, its [ Exx ] refusals and their exit statuses, leases held by live and dead
# processes. Then, only as root on a host with hugepage support, one real reservation (64 MiB
# and one core outside CPU 0's) that a lease maps and pins (tests/unit/test_allocator in its
# live mode), and a release that must leave the host's counts as they were. Needs ALCOVE.

: "${ALCOVE:?set ALCOVE to the alcove binary}"
PY=${PYTHON_DEBIAN:-/usr/bin/python3}
UNIT_TEST="$(dirname "$ALCOVE")/../tests/unit/test_allocator"
NODE0=devices/system/node/node0/hugepages

# A fake host: one node, CPUs 0-7 in 4 cores of 2 threads (core k: CPUs k and k+4), 2 MiB and
# 1 GiB pages on node 0.
make_tree() {
  local r=$1
  mkdir -p "$r/devices/system/cpu" "$r/$NODE0/hugepages-2048kB" "$r/$NODE0/hugepages-1048576kB"
  echo 0-7 > "$r/devices/system/cpu/online"
  for c in 0 1 2 3 4 5 6 7; do
    mkdir -p "$r/devices/system/cpu/cpu$c/topology"
    echo "$((c % 4)),$((c % 4 + 4))" > "$r/devices/system/cpu/cpu$c/topology/thread_siblings_list"
  done
  echo 0-7 > "$r/devices/system/node/node0/cpulist"
  echo 5 > "$r/$NODE0/hugepages-2048kB/nr_hugepages"
  echo 0 > "$r/$NODE0/hugepages-1048576kB/nr_hugepages"
}

setup() {
  T=$(mktemp -d)
  export ALCOVE_SYSFS_ROOT="$T/sys" ALCOVE_RUNTIME_DIR="$T/run"
  unset ALCOVE_ALLOCATOR_CONFIG
  make_tree "$ALCOVE_SYSFS_ROOT"
  N2M="$ALCOVE_SYSFS_ROOT/$NODE0/hugepages-2048kB/nr_hugepages"
  N1G="$ALCOVE_SYSFS_ROOT/$NODE0/hugepages-1048576kB/nr_hugepages"
}

teardown() {
  [ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null
  rm -rf "$T"
}

# json_get FILE EXPR: the Python expression EXPR over the parsed JSON j.
json_get() {
  "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

@test "apply reserves pages and whole cores, status shows them, release gives them back" {
  printf 'memory_mib: 1124\ncpu_count: 4\n' > "$T/a.yaml"
  run "$ALCOVE" allocator apply --config "$T/a.yaml"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Reserved for enclaves: 1124 MiB of hugepages (1 x 1 GiB, 50 x 2 MiB) and CPUs 1-2,5-6 on NUMA node 0."* ]]
  [ "$(cat "$N1G")" = 1 ]
  [ "$(cat "$N2M")" = 55 ]
  [ -f "$ALCOVE_RUNTIME_DIR/allocator.json" ]

  "$ALCOVE" allocator status > "$T/s.json"
  [ "$(json_get "$T/s.json" 'j["Reserved"]')" = True ]
  [ "$(json_get "$T/s.json" 'j["NUMANode"]')" = 0 ]
  [ "$(json_get "$T/s.json" 'j["MemoryMiB"]')" = "{'Reserved': 1124, 'Used': 0, 'Free': 1124}" ]
  [ "$(json_get "$T/s.json" 'j["CPUs"]["Pool"]')" = "[1, 2, 5, 6]" ]
  [ "$(json_get "$T/s.json" 'j["CPUs"]["Free"]')" = "[1, 2, 5, 6]" ]
  [ "$(json_get "$T/s.json" '[p["SizeKiB"] for p in j["HugePages"]]')" = "[1048576, 2048]" ]
  [ "$(json_get "$T/s.json" 'j["Config"]')" = "$T/a.yaml" ]
  # nitro-cli's JSON style: two-space indentation
  grep -q '^  "Reserved": true,$' "$T/s.json"

  run "$ALCOVE" allocator release
  [ "$status" -eq 0 ]
  [[ "$output" == *"Released"* ]]
  [ "$(cat "$N2M")" = 5 ]
  [ "$(cat "$N1G")" = 0 ]
  [ ! -e "$ALCOVE_RUNTIME_DIR/allocator.json" ]
  run "$ALCOVE" allocator release
  [ "$status" -eq 0 ]
  [[ "$output" == *"Nothing was reserved"* ]]
  "$ALCOVE" allocator status > "$T/s.json"
  [ "$(json_get "$T/s.json" 'j["Reserved"]')" = False ]
}

@test "the config comes from --config, else ALCOVE_ALLOCATOR_CONFIG; cpu_pool takes a cpulist" {
  printf 'memory_mib: 64\ncpu_pool: "3,7"\n' > "$T/env.yaml"
  ALCOVE_ALLOCATOR_CONFIG="$T/env.yaml" run "$ALCOVE" allocator apply
  [ "$status" -eq 0 ]
  [[ "$output" == *"CPUs 3,7 on NUMA node 0"* ]]
  [ "$(cat "$N2M")" = 37 ]
  "$ALCOVE" allocator release
  ALCOVE_ALLOCATOR_CONFIG=$T/none.yaml run "$ALCOVE" allocator apply
  [ "$status" -eq 100 ]
  [[ "$output" == *"[ E100 ] Allocator configuration error: cannot open $T/none.yaml"* ]]
}

@test "malformed configs: [ E100 ] naming the line, exit 100, nothing written" {
  bad() {
    printf "$1" > "$T/bad.yaml"
    run "$ALCOVE" allocator apply --config "$T/bad.yaml"
    echo "$output"
    [ "$status" -eq 100 ]
    [[ "$output" == *"[ E100 ] Allocator configuration error: $T/bad.yaml: $2"* ]]
    [ "$(cat "$N2M")" = 5 ]
    [ ! -e "$ALCOVE_RUNTIME_DIR/allocator.json" ]
  }
  bad 'memory_mib: 64\ncpu_count: 2\ncpus: 2\n' "line 3: unknown key 'cpus'"
  bad 'memory_mib: 64\ncpu_count: 2\ncpu_pool: "1,5"\n' "line 3: cpu_pool and cpu_count (line 2) are both given"
  bad 'memory_mib: 64\n' "line 1: neither cpu_count nor cpu_pool"
  bad 'memory_mib: sixty\ncpu_count: 2\n' "line 1: memory_mib must be a positive integer"
  bad 'memory_mib: 64\ncpu_count: -2\n' "line 2: cpu_count must be a positive integer"
  bad '' "the file is empty"
  bad 'memory_mib: 64\ncpu_pool: "1-"\n' "line 2: cpu_pool: '1-' is not a CPU number"
}

@test "CPU rules: [ E20 ] / [ E22 ] with the reason, exit 20 / 22, nothing reserved" {
  refused() {
    printf "$1" > "$T/c.yaml"
    run "$ALCOVE" allocator apply --config "$T/c.yaml"
    echo "$output"
    [ "$status" -eq "$2" ]
    [[ "$output" == *"$3"* ]]
    [ "$(cat "$N2M")" = 5 ]
    [ ! -e "$ALCOVE_RUNTIME_DIR/allocator.json" ]
  }
  refused 'memory_mib: 64\ncpu_count: 3\n' 20 "[ E20 ] Invalid CPU configuration: cpu_count 3 is not a multiple of the host's 2 threads per core"
  refused 'memory_mib: 64\ncpu_count: 8\n' 22 "[ E22 ] Insufficient CPUs available in the pool: cpu_count 8: the host has 6 CPUs in whole cores outside CPU 0's core (0,4)"
  refused 'memory_mib: 64\ncpu_pool: "0,4"\n' 20 "CPU 0 is the host's"
  refused 'memory_mib: 64\ncpu_pool: "4"\n' 20 "CPU 4 is a hyperthread sibling of CPU 0"
  refused 'memory_mib: 64\ncpu_pool: "1,2"\n' 20 "CPU 1 is in the pool but its sibling CPU 5 is not"
}

@test "a second node: cpu_count moves whole to a node that has the CPUs; a pool may not span nodes" {
  # node 0: CPUs 0-3, node 1: CPUs 4-7; no hyperthreads
  for c in 0 1 2 3 4 5 6 7; do echo "$c" > "$ALCOVE_SYSFS_ROOT/devices/system/cpu/cpu$c/topology/thread_siblings_list"; done
  echo 0-3 > "$ALCOVE_SYSFS_ROOT/devices/system/node/node0/cpulist"
  mkdir -p "$ALCOVE_SYSFS_ROOT/devices/system/node/node1/hugepages/hugepages-2048kB"
  echo 4-7 > "$ALCOVE_SYSFS_ROOT/devices/system/node/node1/cpulist"
  echo 0 > "$ALCOVE_SYSFS_ROOT/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
  printf 'memory_mib: 64\ncpu_count: 4\n' > "$T/n.yaml"
  run "$ALCOVE" allocator apply --config "$T/n.yaml"
  [ "$status" -eq 0 ]
  [[ "$output" == *"CPUs 4-7 on NUMA node 1"* ]]
  [ "$(cat "$ALCOVE_SYSFS_ROOT/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages")" = 32 ]
  [ "$(cat "$N2M")" = 5 ]
  "$ALCOVE" allocator release
  [ "$(cat "$ALCOVE_SYSFS_ROOT/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages")" = 0 ]
  printf 'memory_mib: 64\ncpu_pool: "3-4"\n' > "$T/n.yaml"
  run "$ALCOVE" allocator apply --config "$T/n.yaml"
  [ "$status" -eq 20 ]
  [[ "$output" == *"spans NUMA nodes: CPU 3 is on node 0, CPU 4 on node 1"* ]]
}

@test "leases: a live holder blocks release (E102) until --force; a dead one does not" {
  printf 'memory_mib: 64\ncpu_count: 2\n' > "$T/a.yaml"
  "$ALCOVE" allocator apply --config "$T/a.yaml"
  mkdir -p "$ALCOVE_RUNTIME_DIR/leases"
  L="$ALCOVE_RUNTIME_DIR/leases/4242-0.json"
  printf '{"ProcessID": 4242, "MemoryMiB": 32, "CPUs": [1, 5], "HugePages": [{"SizeKiB": 2048, "Count": 16}]}\n' > "$L"
  # a dead owner: nobody holds the file's lock
  "$ALCOVE" allocator status > "$T/s.json"
  [ "$(json_get "$T/s.json" 'j["Enclaves"]')" = "[]" ]
  # a live owner holds it
  "$PY" -c 'import fcntl, sys, time
f = open(sys.argv[1])
fcntl.flock(f, fcntl.LOCK_EX)
time.sleep(60)' "$L" &
  HOLDER=$!
  for _ in $(seq 50); do flock -n "$L" true || break; sleep 0.1; done
  "$ALCOVE" allocator status > "$T/s.json"
  [ "$(json_get "$T/s.json" 'j["MemoryMiB"]')" = "{'Reserved': 64, 'Used': 32, 'Free': 32}" ]
  [ "$(json_get "$T/s.json" 'j["CPUs"]["Used"]')" = "[1, 5]" ]
  [ "$(json_get "$T/s.json" 'j["CPUs"]["Free"]')" = "[]" ]
  [ "$(json_get "$T/s.json" 'j["Enclaves"][0]["ProcessID"]')" = 4242 ]
  run "$ALCOVE" allocator release
  [ "$status" -eq 102 ]
  [[ "$output" == *"[ E102 ] Allocator resources in use: 1 running enclave holds part of the reservation: process 4242 of uid $(id -u) (2 CPUs, 32 MiB)"*"--force"* ]]
  [ "$(cat "$N2M")" = 37 ]
  # so does apply, which would replace the reservation
  run "$ALCOVE" allocator apply --config "$T/a.yaml"
  [ "$status" -eq 102 ]
  run "$ALCOVE" allocator release --force
  [ "$status" -eq 0 ]
  [ "$(cat "$N2M")" = 5 ]
  kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true; HOLDER=
  # the holder is gone: a new reservation and a release go through, the stale file is removed
  "$ALCOVE" allocator apply --config "$T/a.yaml"
  "$ALCOVE" allocator release
  [ ! -e "$L" ]
}

@test "bad usage: [ E01 ] / [ E03 ], status 2 (argument errors exit as nitro-cli's clap)" {
  run "$ALCOVE" allocator
  [ "$status" -eq 2 ]; [[ "$output" == *"[ E01 ]"* ]]
  run "$ALCOVE" allocator reserve
  [ "$status" -eq 2 ]; [[ "$output" == *"[ E03 ]"* ]]
  [[ "$output" == *"unknown subcommand 'reserve'"* ]]
  run "$ALCOVE" allocator status --force
  [ "$status" -eq 2 ]
  run "$ALCOVE" allocator release extra
  [ "$status" -eq 2 ]
  run "$ALCOVE" allocator --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"alcove allocator apply [--config FILE]"* ]]
}

# ---- the real host: root only, restores the counts ----

@test "real host (root): reserve 64 MiB and one core, map and pin a lease, release restores" {
  if [ "$(id -u)" -ne 0 ]; then
    echo "# NOT ROOT: the real-host allocator test is SKIPPED, not passed" >&3
    skip "needs root"
  fi
  unset ALCOVE_SYSFS_ROOT
  if [ ! -w /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages ]; then
    echo "# NO writable 2 MiB hugepage support in /sys: the real-host test is SKIPPED" >&3
    skip "no hugepage support"
  fi
  before=$(grep -H . /sys/kernel/mm/hugepages/*/nr_hugepages /sys/devices/system/node/node*/hugepages/*/nr_hugepages 2>/dev/null | sort)
  tpc=$(tr ',' '\n' < /sys/devices/system/cpu/cpu0/topology/thread_siblings_list | "$PY" -c '
import sys
n = 0
for part in sys.stdin.read().split():
    a, _, b = part.partition("-")
    n += int(b or a) - int(a) + 1
print(n)')
  printf 'memory_mib: 64\ncpu_count: %s\n' "$tpc" > "$T/real.yaml"
  run "$ALCOVE" allocator apply --config "$T/real.yaml"
  echo "$output"
  after_fail=$(grep -H . /sys/kernel/mm/hugepages/*/nr_hugepages /sys/devices/system/node/node*/hugepages/*/nr_hugepages 2>/dev/null | sort)
  if [ "$status" -eq 22 ]; then
    [ "$after_fail" = "$before" ]
    echo "# this host has no core outside CPU 0's ($(nproc) CPUs): the real-host test is SKIPPED" >&3
    skip "too few CPUs for a pool outside CPU 0's core"
  fi
  if [ "$status" -eq 27 ]; then
    [ "$after_fail" = "$before" ]
    echo "# the kernel could not find 64 MiB of hugepages now: the real-host test is SKIPPED" >&3
    skip "no free memory for hugepages"
  fi
  [ "$status" -eq 0 ]
  "$ALCOVE" allocator status > "$T/s.json"
  [ "$(json_get "$T/s.json" 'j["MemoryMiB"]["Reserved"]')" = 64 ]
  if [ -x "$UNIT_TEST" ] && [ "$tpc" = 1 ]; then
    run env ALCOVE_ALLOCATOR_LIVE=1 "$UNIT_TEST"
    echo "$output"
    echo "# real host: $output" >&3
    live=$status
  else
    echo "# $UNIT_TEST missing or hyperthreads: the live lease check is SKIPPED" >&3
    live=0
  fi
  run "$ALCOVE" allocator release
  echo "$output"
  [ "$status" -eq 0 ]
  after=$(grep -H . /sys/kernel/mm/hugepages/*/nr_hugepages /sys/devices/system/node/node*/hugepages/*/nr_hugepages 2>/dev/null | sort)
  [ "$after" = "$before" ]
  [ "$live" -eq 0 ]
}

@test "real host (root): enclaves take hugepages and pinned CPUs from the pool; over-asks are refused; a killed monitor gives its share back" {
  if [ "$(id -u)" -ne 0 ] || [ ! -r /dev/kvm ] || [ -z "${PROGRAMS:-}" ]; then
    echo "# NOT ROOT, NO /dev/kvm or no PROGRAMS: the pool-with-enclaves test is SKIPPED" >&3
    skip "needs root, KVM and the test programs"
  fi
  unset ALCOVE_SYSFS_ROOT
  if [ ! -w /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages ]; then
    echo "# NO writable 2 MiB hugepage support in /sys: SKIPPED" >&3
    skip "no hugepage support"
  fi
  before=$(grep -H . /sys/kernel/mm/hugepages/*/nr_hugepages /sys/devices/system/node/node*/hugepages/*/nr_hugepages 2>/dev/null | sort)
  printf 'memory_mib: 128\ncpu_count: 1\n' > "$T/pool.yaml"
  run "$ALCOVE" allocator apply --config "$T/pool.yaml"
  if [ "$status" -eq 22 ] || [ "$status" -eq 20 ] || [ "$status" -eq 27 ]; then
    echo "# this host cannot give a pool of one core and 128 MiB ($output): SKIPPED" >&3
    skip "no pool possible here"
  fi
  [ "$status" -eq 0 ]
  "$ALCOVE" build-enclave --binary "$PROGRAMS/ticker-musl-exec" --cmd '/ticker-musl-exec 1000' \
    --output-file "$T/t.eif" > /dev/null 2>&1
  run --separate-stderr "$ALCOVE" run-enclave --eif-path "$T/t.eif" --cpu-count 1 --memory 64
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  pid=$(echo "$output" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["ProcessID"])')
  "$ALCOVE" describe-enclaves > "$T/d.json"
  [ "$(json_get "$T/d.json" 'j[0]["MemoryBacking"]')" = hugepages ]
  pool_cpu=$(json_get "$T/d.json" 'j[0]["CPUIDs"][0]')
  [ "$pool_cpu" != 0 ]
  # the vCPU thread runs on the pool's CPU
  grep -q "Cpus_allowed_list:[[:space:]]*$pool_cpu$" /proc/"$pid"/task/*/status
  # the pool's one CPU is taken: [ E22 ] with what is free
  run "$ALCOVE" run-enclave --eif-path "$T/t.eif" --cpu-count 1 --memory 32
  echo "$output"
  [ "$status" -eq 22 ]; [[ "$output" == *"[ E22 ]"* ]]
  # kill -9: the lease goes with its holder (its keeper gives it back once the monitor has
  # ended, a moment later: docs/security.md)
  kill -9 "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  for _ in $(seq 50); do
    "$ALCOVE" allocator status > "$T/s.json"
    [ "$(json_get "$T/s.json" 'j["MemoryMiB"]["Used"]')" = 0 ] && break
    sleep 0.1
  done
  [ "$(json_get "$T/s.json" 'j["MemoryMiB"]["Used"]')" = 0 ]
  # more memory than the pool: [ E27 ] saying what is free
  run "$ALCOVE" run-enclave --eif-path "$T/t.eif" --cpu-count 1 --memory 256
  echo "$output"
  [ "$status" -eq 27 ]; [[ "$output" == *"free"* ]]
  run "$ALCOVE" allocator release
  [ "$status" -eq 0 ]
  after=$(grep -H . /sys/kernel/mm/hugepages/*/nr_hugepages /sys/devices/system/node/node*/hugepages/*/nr_hugepages 2>/dev/null | sort)
  [ "$after" = "$before" ]
}
