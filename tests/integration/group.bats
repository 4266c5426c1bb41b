#!/usr/bin/env bats
# group.bats (issue 14): non-root operators through a group, as Nitro's `ne` group
# (docs/security.md, "The alcove group"). A throwaway group and three throwaway users (two
# members, one not) are made for the file and removed after it (groupadd/useradd; where /etc
# cannot be changed, as in the test VM, the same unused ids stay numbers), commands run as them
# through setpriv, and /dev/kvm, when it is root's alone, is lent to the group for the file; the
# runtime directory is
# root:GROUP mode 1770 under /tmp (not /work: Unix sockets need a local file system). Checked:
# only that exact shared form is accepted, a non-member is refused with [ E18 ] naming the group,
# a member neither sees nor reaches another member's enclave (describe, terminate, connect,
# console) nor removes its files, members use root's pool and cannot change it, root finds its
# own enclave first and uses no socket that is not the enclave owner's, a member neither makes
# the allocator's lock nor holds it for ever, leases are their file owner's and a planted FIFO
# is not one, and, with KVM, real enclaves of two members, including a member's listener that
# must not get another member's guest connections. Needs root (it adds users); skips loudly
# otherwise. (Claims that skip another user's files: test_runtime.)

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
  if [ "$(id -u)" -ne 0 ]; then
    return 0
  fi
  # ids nobody has: a group, two members (A, B) and a user outside it (C)
  local n=$(($$ % 1000))
  while getent group $((61000 + n * 4)) > /dev/null ||
    getent passwd $((61001 + n * 4)) $((61002 + n * 4)) $((61003 + n * 4)) > /dev/null; do
    n=$(((n + 1) % 1000))
  done
  export GID_T=$((61000 + n * 4)) UA=$((61001 + n * 4)) UB=$((61002 + n * 4)) UC=$((61003 + n * 4))
  export GRP=alg$n NAMED=0
  # named, where /etc can be changed (the test VM's /etc is a 9p mount on which shadow's lock
  # files fail: there the ids stay numbers, which the kernel and alcove take alike)
  # (a 9p /etc is not even tried: a lock that fails halfway would leave entries behind)
  if [ "$(stat -f -c %T /etc)" != v9fs ] && groupadd -g "$GID_T" "$GRP" 2> /dev/null; then
    NAMED=1
    useradd -M -N -u "$UA" -g nogroup -G "$GRP" -s /usr/sbin/nologin "${GRP}a" &&
      useradd -M -N -u "$UB" -g nogroup -G "$GRP" -s /usr/sbin/nologin "${GRP}b" &&
      useradd -M -N -u "$UC" -g nogroup -s /usr/sbin/nologin "${GRP}c" || NAMED=2
  fi
  if [ "$NAMED" != 0 ]; then
    export GLABEL=$GRP
  else
    echo "# /etc cannot be changed here: the test users are uids $UA $UB $UC, group $GID_T" >&3
    export GLABEL=$GID_T
  fi
  # /dev/kvm is group kvm's on Debian (0660): the members need it too, as the docs say
  export MEMBER_GROUPS=$GID_T KVM_WAS=
  if [ -c /dev/kvm ] && [ "$(stat -c %g /dev/kvm)" != 0 ]; then
    MEMBER_GROUPS=$GID_T,$(stat -c %g /dev/kvm)
  elif [ -c /dev/kvm ]; then
    # root's alone (a bare VM's devtmpfs, 0600): lent to the test's group for the file, as
    # Debian's udev rule gives it to kvm, and given back in teardown_file
    KVM_WAS=$(stat -c '%a %g' /dev/kvm)
    chgrp "$GID_T" /dev/kvm
    chmod 0660 /dev/kvm
  fi
  # a directory every user may pass through (bats' own are root's 0700)
  G=$(mktemp -d /tmp/alcove-group.XXXXXX)
  chmod 0755 "$G"
  export G
  "$ALCOVE" build-enclave --binary /bin/busybox --cmd '/busybox sleep 1000' \
    --output-file "$G/sleeper.eif" > /dev/null
  chmod 0644 "$G/sleeper.eif"
}

teardown_file() {
  [ -n "${GID_T:-}" ] || return 0
  local u
  if [ -n "${KVM_WAS:-}" ]; then
    chgrp "${KVM_WAS#* }" /dev/kvm
    chmod "${KVM_WAS% *}" /dev/kvm
  fi
  for u in "$UA" "$UB" "$UC"; do
    pkill -KILL -u "$u" 2> /dev/null || true
  done
  sleep 0.5
  if [ "$NAMED" != 0 ]; then
    for u in a b c; do
      userdel "$GRP$u" 2> /dev/null || true
    done
    groupdel "$GRP"
  fi
  rm -rf "$G"
  if getent passwd "${GRP}a" "${GRP}b" "${GRP}c" || getent group "$GRP"; then
    echo "the test users or group are left"
    return 1
  fi
}

setup() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "# not root: the group tests need to act as other users, SKIPPED, not passed" >&3
    skip "not root: cannot act as other users"
  fi
  RT=$G/rt-$BATS_TEST_NUMBER
  mkdir "$RT"
  chown "root:$GID_T" "$RT"
  chmod 01770 "$RT"
  FAKE_PIDS=()
}

teardown() {
  [ -n "${RT:-}" ] || return 0
  local p
  for p in "${FAKE_PIDS[@]}"; do
    kill "$p" 2> /dev/null || true
    wait "$p" 2> /dev/null || true
  done
  ALCOVE_RUNTIME_DIR=$RT timeout 120 "$ALCOVE" terminate-enclave --all > /dev/null 2>&1 || true
  rm -rf "$RT"
}

# as UID CMD...: CMD as that user (A and B in the group, C not), with the test's runtime
# directory.
as() {
  local u=$1 groups
  shift
  if [ "$u" = "$UC" ]; then groups=(--clear-groups); else groups=(--groups "$MEMBER_GROUPS"); fi
  setpriv --reuid "$u" --regid 65534 "${groups[@]}" -- env ALCOVE_RUNTIME_DIR="$RT" "$@"
}

# as_bg UID CMD... &: the same for a background job, whose $! is then the command's own pid
# (the job's subshell becomes it).
as_bg() {
  local u=$1 groups
  shift
  if [ "$u" = "$UC" ]; then groups=(--clear-groups); else groups=(--groups "$MEMBER_GROUPS"); fi
  exec setpriv --reuid "$u" --regid 65534 "${groups[@]}" -- env ALCOVE_RUNTIME_DIR="$RT" "$@"
}

# Nothing of the users runs any more, and the runtime directory holds only what root's pool
# keeps (its lock).
assert_nothing_left() {
  local u left
  for u in "$UA" "$UB" "$UC"; do
    for _ in $(seq 50); do pgrep -u "$u" > /dev/null || break; sleep 0.1; done
    if pgrep -u "$u" > /dev/null; then echo "processes of $u left: $(pgrep -a -u "$u")"; return 1; fi
  done
  left=$(ls -A "$RT" | grep -v '^allocator.lock$' || true)
  if [ -n "$left" ]; then echo "left in $RT: $left"; return 1; fi
}

# fake_enclave USER CID [MODE [NAME [ID [SOCKETS]]]]: what a running enclave of USER keeps in
# the runtime directory (its description, locked, and its sockets, MODE or 0600; SOCKETS: which,
# "ctl vsock" by default), held by a process of that user, which writes "conn SUFFIX" to
# fakeCID.out for each connection it gets. The monitor itself needs KVM; the files are what
# another user meets. Sets FAKE_PID.
fake_enclave() {
  local u=$1 cid=$2 mode=${3:-0600} name=${4:-fake$2} id=${5:-i-fake-enc$2} socks=${6-ctl vsock}
  as_bg "$u" python3 -c '
import fcntl, json, os, select, socket, sys, time
d, cid, name, eid = sys.argv[1], int(sys.argv[2]), sys.argv[4], sys.argv[5]
fd = os.open("%s/%d.json" % (d, cid), os.O_RDWR | os.O_CREAT, 0o600)
os.fchmod(fd, int(sys.argv[3], 8))
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps({"EnclaveName": name, "EnclaveID": eid,
                         "ProcessID": os.getpid(), "EnclaveCID": cid,
                         "State": "RUNNING"}).encode())
socks = {}
for suffix in sys.argv[6].split():
    path = "%s/%d.%s" % (d, cid, suffix)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    os.chmod(path, int(sys.argv[3], 8))
    s.listen(4)
    socks[s] = suffix
print("ready", flush=True)
end = time.time() + 600
while time.time() < end:
    if not socks:
        time.sleep(1)
        continue
    r, _, _ = select.select(list(socks), [], [], 1)
    for s in r:
        c, _ = s.accept()
        print("conn", socks[s], flush=True)
        c.close()
' "$RT" "$cid" "$mode" "$name" "$id" "$socks" > "$BATS_TEST_TMPDIR/fake$cid.out" &
  FAKE_PID=$!
  FAKE_PIDS+=("$FAKE_PID")
  for _ in $(seq 100); do
    grep -q ready "$BATS_TEST_TMPDIR/fake$cid.out" 2> /dev/null && return 0
    sleep 0.1
  done
  echo "the fake enclave $cid did not start"
  return 1
}

# plant_socket USER PATH: a socket of USER at PATH that counts its connections ("conn" lines
# in PATH's name .out under the test's directory).
plant_socket() {
  local u=$1 path=$2
  as_bg "$u" python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.listen(4)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    print("conn", flush=True)
    c.close()
' "$path" > "$BATS_TEST_TMPDIR/$(basename "$path").out" &
  FAKE_PIDS+=($!)
  for _ in $(seq 100); do
    grep -q ready "$BATS_TEST_TMPDIR/$(basename "$path").out" 2> /dev/null && return 0
    sleep 0.1
  done
  echo "the planted socket $path did not start"
  return 1
}

@test "group: only root's directory in the exact shared form (1770, root:GROUP) is accepted" {
  run as "$UA" "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ]
  [ "$output" = "[]" ]
  # root uses it too
  ALCOVE_RUNTIME_DIR=$RT run "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ]
  # every other group-writable form is refused, for members and root alike
  for mode in 00770 01777 03770 01775 02770 00775; do
    chmod "$mode" "$RT"
    run as "$UA" "$ALCOVE" describe-enclaves
    [ "$status" -eq 18 ] || { echo "mode $mode: $output"; return 1; }
    [[ "$output" == *"[ E18 ]"* ]]
    ALCOVE_RUNTIME_DIR=$RT run "$ALCOVE" describe-enclaves
    [ "$status" -eq 18 ] || { echo "root, mode $mode: $output"; return 1; }
  done
  chmod 01770 "$RT"
  run as "$UA" "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ]
  # the same form owned by a member is that member's own group-writable directory: refused
  chown "$UA:$GID_T" "$RT"
  run as "$UA" "$ALCOVE" describe-enclaves
  [ "$status" -eq 18 ]
  [[ "$output" == *"may be written by its group"* ]]
  run as "$UB" "$ALCOVE" describe-enclaves
  [ "$status" -eq 18 ]
  [[ "$output" == *"owned by uid"* ]]
  chown "root:$GID_T" "$RT"
  assert_nothing_left
}

@test "group: a non-member is refused with [ E18 ] naming the group, by every command" {
  for cmd in "describe-enclaves" "terminate-enclave --all" "console --enclave-name x" \
    "connect --enclave-cid 5 --port 5000" "vsock-proxy --enclave-cid 5 --port 5000 --listen-tcp 127.0.0.1:0" \
    "run-enclave --eif-path $G/sleeper.eif --cpu-count 1 --memory 64" "allocator status"; do
    # shellcheck disable=SC2086
    run as "$UC" "$ALCOVE" $cmd
    [ "$status" -eq 18 ] || { echo "$cmd: $status $output"; return 1; }
    [[ "$output" == *"[ E18 ]"*"group '$GLABEL'"*"usermod -aG $GLABEL"* ]] || { echo "$cmd: $output"; return 1; }
  done
  assert_nothing_left
}

@test "group: a member neither sees nor reaches another member's enclave, nor removes its files" {
  fake_enclave "$UA" 5
  local a_pid=$FAKE_PID
  # B's forgery, readable by all: not A's enclave either
  fake_enclave "$UB" 6 0666
  # A sees its own, only
  run as "$UA" "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ]
  [[ "$output" == *'"EnclaveID": "i-fake-enc5"'* ]]
  [[ "$output" != *'fake6'* ]]
  run as "$UA" "$ALCOVE" terminate-enclave --enclave-name fake6
  [ "$status" -ne 0 ]
  [[ "$output" == *"1 enclave in $RT is another user's"* ]]
  kill "$FAKE_PID"
  wait "$FAKE_PID" || true
  rm -f "$RT/6.json" "$RT/6.ctl" "$RT/6.vsock"
  # B sees none, and stopping, connecting to or watching A's is refused
  run as "$UB" "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ]
  [ "$output" = "[]" ]
  run as "$UB" "$ALCOVE" terminate-enclave --enclave-id i-fake-enc5
  [ "$status" -ne 0 ]
  [[ "$output" == *"1 enclave in $RT is another user's"* ]]
  run as "$UB" "$ALCOVE" terminate-enclave --all
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tail -n 1)" = "[]" ]
  run as "$UB" "$ALCOVE" connect --enclave-cid 5 --port 5000
  [ "$status" -eq 39 ]
  [[ "$output" == *"[ E39 ]"*"another user's"* ]]
  run as "$UB" "$ALCOVE" console --enclave-name fake5
  [ "$status" -ne 0 ]
  [[ "$output" == *"another user's"* ]]
  # the sticky bit: B removes or renames none of A's files
  for f in 5.json 5.ctl 5.vsock; do
    run as "$UB" rm -f "$RT/$f"
    [ "$status" -ne 0 ]
    run as "$UB" mv "$RT/$f" "$RT/x"
    [ "$status" -ne 0 ]
    [ -e "$RT/$f" ]
  done
  # root sees it
  ALCOVE_RUNTIME_DIR=$RT run "$ALCOVE" describe-enclaves
  [[ "$output" == *'"EnclaveID": "i-fake-enc5"'* ]]
  # its end: A's next command cleans up, B's leaves A's files alone
  kill "$a_pid"
  wait "$a_pid" || true
  run as "$UB" "$ALCOVE" describe-enclaves
  [ -e "$RT/5.json" ]
  run as "$UA" "$ALCOVE" describe-enclaves
  [ "$output" = "[]" ]
  rm -f "$RT/5.ctl" "$RT/5.vsock" # sockets of a process that was not a monitor
  assert_nothing_left
}

@test "group: members use root's pool and cannot change it; a member's record is not the pool" {
  run as "$UA" "$ALCOVE" allocator status
  [ "$status" -eq 0 ]
  [[ "$output" == *'"Reserved": false'* ]]
  run as "$UA" "$ALCOVE" allocator release
  [ "$status" -eq 18 ]
  [[ "$output" == *"[ E18 ]"*"only root applies or releases it"* ]]
  echo 'memory_mib: 64' > "$G/alloc.yaml"
  echo 'cpu_count: 1' >> "$G/alloc.yaml"
  chmod 0644 "$G/alloc.yaml"
  run as "$UA" "$ALCOVE" allocator apply --config "$G/alloc.yaml"
  [ "$status" -eq 18 ]
  # a record a member makes is not taken for a reservation, nor does it fail anyone's command
  # (a FIFO there would stop every launch in open())
  for kind in file fifo; do
    if [ $kind = file ]; then
      as "$UB" sh -c "echo '{\"Version\": 1}' > $RT/allocator.json"
    else
      as "$UB" mkfifo "$RT/allocator.json"
    fi
    run as "$UA" timeout 10 "$ALCOVE" allocator status
    [ "$status" -eq 0 ] || { echo "$kind: $status $output"; return 1; }
    [[ "$output" == *'"Reserved": false'* ]]
    ALCOVE_RUNTIME_DIR=$RT run timeout 10 "$ALCOVE" allocator status
    [ "$status" -eq 0 ] || { echo "$kind: $status $output"; return 1; }
    [[ "$output" == *'"Reserved": false'* ]]
    rm -f "$RT/allocator.json"
  done
  assert_nothing_left
}

@test "group: root finds its own enclave first, and never uses a socket that is not the enclave owner's" {
  # A copies the name and ID of root's enclave, at a lower CID
  fake_enclave "$UA" 5 0600 svc i-svc
  fake_enclave 0 7 0600 svc i-svc
  # root tells them apart by their owners, which the description files' owners give
  ALCOVE_RUNTIME_DIR=$RT run "$ALCOVE" describe-enclaves
  echo "$output" | python3 -c '
import json, sys
d = {e["EnclaveCID"]: e["OwnerUid"] for e in json.load(sys.stdin)}
assert d == {5: int(sys.argv[1]), 7: 0}, d
' "$UA"
  ALCOVE_RUNTIME_DIR=$RT run timeout 20 "$ALCOVE" console --enclave-name svc --disconnect-timeout 1
  grep -q "conn ctl" "$BATS_TEST_TMPDIR/fake7.out"
  if grep -q conn "$BATS_TEST_TMPDIR/fake5.out"; then echo "root's console reached A's"; return 1; fi
  ALCOVE_RUNTIME_DIR=$RT run timeout 20 "$ALCOVE" connect --enclave-id i-svc --port 5000 < /dev/null
  grep -q "conn vsock" "$BATS_TEST_TMPDIR/fake7.out"
  if grep -q conn "$BATS_TEST_TMPDIR/fake5.out"; then echo "root's connect reached A's"; return 1; fi
  # a name that only members' enclaves have, two of them: ambiguous for root, not a guess
  fake_enclave "$UB" 6 0600 dup i-dup6
  fake_enclave "$UA" 8 0600 dup i-dup8
  ALCOVE_RUNTIME_DIR=$RT run timeout 20 "$ALCOVE" terminate-enclave --enclave-name dup
  [ "$status" -eq 58 ] || { echo "$status $output"; return 1; }
  [[ "$output" == *"[ E58 ]"*"2 enclaves of other users"* ]] || { echo "$output"; return 1; }
  if grep -q conn "$BATS_TEST_TMPDIR/fake6.out" "$BATS_TEST_TMPDIR/fake8.out"; then
    echo "root's terminate reached a member's"; return 1
  fi
  # root's enclave without sockets of its own (as under 'alcove run'), where A put its own:
  # root does not connect to them
  fake_enclave 0 9 0600 solo i-solo ""
  plant_socket "$UA" "$RT/9.vsock"
  plant_socket "$UA" "$RT/9.ctl"
  ALCOVE_RUNTIME_DIR=$RT run timeout 20 "$ALCOVE" connect --enclave-cid 9 --port 5000 < /dev/null
  [ "$status" -eq 39 ] || { echo "$status $output"; return 1; }
  [[ "$output" == *"[ E39 ]"*"9.vsock is a socket of uid $UA, not the enclave's"* ]] || { echo "$output"; return 1; }
  ALCOVE_RUNTIME_DIR=$RT run timeout 20 "$ALCOVE" vsock-proxy --enclave-cid 9 --port 5000 \
    --listen-tcp 127.0.0.1:0
  [ "$status" -eq 39 ] || { echo "$status $output"; return 1; }
  [[ "$output" == *"9.vsock is a socket of uid $UA, not the enclave's"* ]] || { echo "$output"; return 1; }
  ALCOVE_RUNTIME_DIR=$RT run timeout 20 "$ALCOVE" terminate-enclave --enclave-id i-solo
  [ "$status" -eq 39 ] || { echo "$status $output"; return 1; }
  [[ "$output" == *"9.ctl is a socket of uid $UA"* ]] || { echo "$output"; return 1; }
  ALCOVE_RUNTIME_DIR=$RT run timeout 20 "$ALCOVE" console --enclave-id i-solo --disconnect-timeout 1
  [ "$status" -ne 0 ]
  if grep -q conn "$BATS_TEST_TMPDIR/9.vsock.out" "$BATS_TEST_TMPDIR/9.ctl.out"; then
    echo "root connected to A's socket"; return 1
  fi
  # a FIFO where a description would be stops no listing (root's reads every user's)
  as "$UA" mkfifo "$RT/12.json"
  ALCOVE_RUNTIME_DIR=$RT run timeout 10 "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ] || { echo "$status $output"; return 1; }
  run as "$UA" timeout 10 "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ] || { echo "$status $output"; return 1; }
  rm -f "$RT/12.json"
  local p
  for p in "${FAKE_PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  sleep 0.3
  rm -f "$RT"/*.ctl "$RT"/*.vsock
  ALCOVE_RUNTIME_DIR=$RT run "$ALCOVE" describe-enclaves
  [ "$output" = "[]" ]
  assert_nothing_left
}

@test "group: leases count for the user who owns them; a planted FIFO, link, second name or directory is not another lease" {
  # root's pool, on a fake sysfs tree (one node, CPUs 0-3, cores k and k+2)
  local sys=$G/sys-$BATS_TEST_NUMBER c
  mkdir -p "$sys/devices/system/cpu" "$sys/devices/system/node/node0/hugepages/hugepages-2048kB"
  echo 0-3 > "$sys/devices/system/cpu/online"
  for c in 0 1 2 3; do
    mkdir -p "$sys/devices/system/cpu/cpu$c/topology"
    echo "$((c % 2)),$((c % 2 + 2))" > "$sys/devices/system/cpu/cpu$c/topology/thread_siblings_list"
  done
  echo 0-3 > "$sys/devices/system/node/node0/cpulist"
  echo 0 > "$sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
  printf 'memory_mib: 64\ncpu_count: 2\n' > "$G/pool.yaml"
  # a leases directory B made before root's first apply does not stop the pool: moved aside
  as "$UB" mkdir "$RT/leases"
  ALCOVE_SYSFS_ROOT=$sys ALCOVE_RUNTIME_DIR=$RT run "$ALCOVE" allocator apply --config "$G/pool.yaml"
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ "$(stat -c '%u %a' "$RT/leases")" = "0 1770" ]
  [ "$(stat -c %u "$RT"/leases.uid"$UB"-*.removed)" = "$UB" ]
  as "$UB" rmdir "$RT"/leases.uid"$UB"-*.removed
  # A's lease, held, that says it is process 1's: it counts, as A's
  as_bg "$UA" python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b"{\"ProcessID\": 1, \"MemoryMiB\": 2, \"CPUs\": [1, 3], \"HugePages\": [{\"SizeKiB\": 2048, \"Count\": 1}]}")
fcntl.flock(fd, fcntl.LOCK_EX)
print("ready", flush=True)
time.sleep(120)
' "$RT/leases/1-0.json" > "$BATS_TEST_TMPDIR/lease.out" &
  FAKE_PIDS+=($!)
  for _ in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/lease.out" && break; sleep 0.1; done
  # a FIFO (which would block every reader's open), a link to A's lease, a second name of it
  as "$UB" mkfifo "$RT/leases/fifo.json"
  as "$UB" ln -s 1-0.json "$RT/leases/link.json"
  ln "$RT/leases/1-0.json" "$RT/leases/hard.json"
  ALCOVE_SYSFS_ROOT=$sys ALCOVE_RUNTIME_DIR=$RT run timeout 10 "$ALCOVE" allocator status
  [ "$status" -eq 0 ] || { echo "$status $output"; return 1; }
  echo "$output" | python3 -c '
import json, sys
e = json.load(sys.stdin)["Enclaves"]
assert [(x["Uid"], x["ProcessID"], x["CPUIDs"]) for x in e] == [(int(sys.argv[1]), 1, [1, 3])], e
' "$UA"
  run as "$UB" timeout 10 "$ALCOVE" allocator status
  [ "$status" -eq 0 ] || { echo "$status $output"; return 1; }
  # B removes none of A's (the sticky bit)
  run as "$UB" rm -f "$RT/leases/1-0.json"
  [ "$status" -ne 0 ]
  # root's release names A's lease by its owner, and removes the planted files
  ALCOVE_SYSFS_ROOT=$sys ALCOVE_RUNTIME_DIR=$RT run timeout 10 "$ALCOVE" allocator release
  [ "$status" -eq 102 ] || { echo "$status $output"; return 1; }
  [[ "$output" == *"process 1 of uid $UA (2 CPUs, 2 MiB)"* ]] || { echo "$output"; return 1; }
  [ ! -e "$RT/leases/fifo.json" ] && [ ! -e "$RT/leases/hard.json" ] && [ ! -L "$RT/leases/link.json" ]
  kill "${FAKE_PIDS[-1]}"
  ALCOVE_SYSFS_ROOT=$sys ALCOVE_RUNTIME_DIR=$RT run "$ALCOVE" allocator release
  [ "$status" -eq 0 ] || { echo "$status $output"; return 1; }
  rm -rf "$RT/leases" "$sys"
  assert_nothing_left
}

@test "group: a member that holds the runtime directory's lock, or binds a listener's path first, does not stop root's host listeners" {
  as_bg "$UA" python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("ready", flush=True)
time.sleep(120)
' "$RT" > "$BATS_TEST_TMPDIR/dirlock.out" &
  FAKE_PIDS+=($!)
  for _ in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/dirlock.out" && break; sleep 0.1; done
  printf 'allowlist:\n- {address: 127.0.0.1, port: 9}\n' > "$G/allow.yaml"
  ALCOVE_RUNTIME_DIR=$RT timeout 60 "$ALCOVE" vsock-proxy --enclave-cid 5 --config "$G/allow.yaml" \
    8000 127.0.0.1 9 > "$BATS_TEST_TMPDIR/proxy.out" 2>&1 &
  local proxy=$!
  FAKE_PIDS+=("$proxy")
  for _ in $(seq 250); do [ -S "$RT/5.vsock_8000" ] && break; sleep 0.1; done
  [ -S "$RT/5.vsock_8000" ] || { cat "$BATS_TEST_TMPDIR/proxy.out"; return 1; }
  kill "$proxy"
  wait "$proxy" || true
  # nor does a live socket of a member's at the path root's listener takes (every enclave's)
  kill "${FAKE_PIDS[0]}"
  plant_socket "$UB" "$RT/any.vsock_8001"
  ALCOVE_RUNTIME_DIR=$RT timeout 60 "$ALCOVE" vsock-proxy --config "$G/allow.yaml" \
    8001 127.0.0.1 9 > "$BATS_TEST_TMPDIR/proxy.out" 2>&1 &
  proxy=$!
  FAKE_PIDS+=("$proxy")
  for _ in $(seq 100); do [ "$(stat -c %u "$RT/any.vsock_8001")" = 0 ] && break; sleep 0.1; done
  [ "$(stat -c %u "$RT/any.vsock_8001")" = 0 ] || { cat "$BATS_TEST_TMPDIR/proxy.out"; return 1; }
  kill "$proxy"
  wait "$proxy" || true
  local p
  for p in "${FAKE_PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  rm -f "$RT/5.vsock_8000" "$RT/any.vsock_8001"
  assert_nothing_left
}

# wait_locked FILE: until somebody holds an flock on FILE (a member's `flock` started).
wait_locked() {
  for _ in $(seq 100); do
    [ -e "$1" ] && ! flock -n -s "$1" true 2> /dev/null && return 0
    sleep 0.1
  done
  echo "nobody locked $1"
  return 1
}

@test "group: a member neither makes the allocator's lock nor holds it for ever" {
  # a member's command makes no lock file: only the directory's owner (root) does
  run as "$UA" "$ALCOVE" allocator status
  [ "$status" -eq 0 ]
  [ ! -e "$RT/allocator.lock" ]
  # one a member made first and holds is not root's lock: root's command replaces it and goes
  # on at once
  local HOLD='
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
time.sleep(120)
'
  as_bg "$UA" python3 -c "$HOLD" "$RT/allocator.lock" &
  FAKE_PIDS+=($!)
  wait_locked "$RT/allocator.lock"
  ALCOVE_RUNTIME_DIR=$RT run timeout 60 "$ALCOVE" allocator release
  [ "$status" -eq 0 ] || { echo "$status $output"; return 1; }
  [ "$(stat -c '%u %a' "$RT/allocator.lock")" = "0 644" ]
  # a member that holds root's lock makes root's command fail in about 10 s, naming it
  as_bg "$UB" python3 -c "$HOLD" "$RT/allocator.lock" &
  FAKE_PIDS+=($!)
  wait_locked "$RT/allocator.lock"
  local start=$SECONDS
  ALCOVE_RUNTIME_DIR=$RT run timeout 60 "$ALCOVE" allocator release
  [ "$status" -eq 15 ] || { echo "$status $output"; return 1; }
  [[ "$output" == *"[ E15 ]"*"held by another process (process ${FAKE_PIDS[-1]} 'python3' of uid $UB)"* ]] || { echo "$output"; return 1; }
  [ $((SECONDS - start)) -lt 30 ]
  # status reads without it
  ALCOVE_RUNTIME_DIR=$RT run timeout 5 "$ALCOVE" allocator status
  [ "$status" -eq 0 ]
  run as "$UA" timeout 5 "$ALCOVE" allocator status
  [ "$status" -eq 0 ]
  local p
  for p in "${FAKE_PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  rm -f "$RT/allocator.lock"
  assert_nothing_left
}

@test "group: real enclaves of two members (KVM)" {
  require_kvm
  if ! as "$UA" test -w /dev/kvm; then
    echo "# $UA cannot open /dev/kvm: this KVM test is SKIPPED, not passed" >&3
    skip "no /dev/kvm for the test users"
  fi
  # a file another member left at CID 4 is skipped, not an error
  as "$UB" touch "$RT/4.json"
  run --separate-stderr as "$UA" "$ALCOVE" run-enclave --eif-path "$G/sleeper.eif" --cpu-count 1 --memory 64
  [ "$status" -eq 0 ] || { echo "$output $stderr"; return 1; }
  id=$(echo "$output" | python3 -c "import json,sys; print(json.load(sys.stdin)['EnclaveID'])")
  cid=$(echo "$output" | python3 -c "import json,sys; print(json.load(sys.stdin)['EnclaveCID'])")
  [ "$cid" -eq 5 ]
  [ "$(stat -c '%u %a' "$RT/$cid.json")" = "$UA 600" ]
  [ "$(stat -c '%u %a' "$RT/$cid.vsock")" = "$UA 600" ]
  run as "$UB" "$ALCOVE" describe-enclaves
  [ "$output" = "[]" ]
  run as "$UB" "$ALCOVE" terminate-enclave --enclave-id "$id"
  [ "$status" -ne 0 ]
  [[ "$output" == *"another user's"* ]]
  run as "$UB" "$ALCOVE" connect --enclave-cid "$cid" --port 5000
  [ "$status" -eq 39 ]
  run as "$UA" "$ALCOVE" describe-enclaves
  [[ "$output" == *"\"EnclaveID\": \"$id\""* ]]
  run as "$UA" "$ALCOVE" terminate-enclave --enclave-id "$id"
  [ "$status" -eq 0 ]
  as "$UB" rm -f "$RT/4.json"

  # B listens where A's guest connects (its CID's port and every enclave's): A's guest must
  # not reach B, and finds nothing there
  local peer
  for peer in "$RT/9.vsock_6001" "$RT/any.vsock_6001"; do
    as_bg "$UB" python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.listen(4)
s.settimeout(60)
print("ready", flush=True)
try:
    c, _ = s.accept()
    print("accepted", flush=True)
except socket.timeout:
    pass
' "$peer" > "$BATS_TEST_TMPDIR/peer.out" &
    FAKE_PIDS+=($!)
    for _ in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/peer.out" && break; sleep 0.1; done
    run as "$UA" "$ALCOVE" run --enclave-cid 9 "$(prog vsock_client-musl-exec)" -e 6001
    [ "$output" = "connect: ECONNREFUSED" ] || { echo "$peer: $output"; return 1; }
    if grep -q accepted "$BATS_TEST_TMPDIR/peer.out"; then echo "$peer got A's connection"; return 1; fi
    kill "${FAKE_PIDS[-1]}" 2> /dev/null || true
    wait "${FAKE_PIDS[-1]}" 2> /dev/null || true
    rm -f "$peer"
  done
  # A's own listener there does get it
  as_bg "$UA" python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
print("ready", flush=True)
c, _ = s.accept()
print("accepted", flush=True)
' "$RT/9.vsock_6001" > "$BATS_TEST_TMPDIR/own.out" &
  FAKE_PIDS+=($!)
  for _ in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/own.out" && break; sleep 0.1; done
  run as "$UA" "$ALCOVE" run --enclave-cid 9 "$(prog vsock_client-musl-exec)" -e 6001
  [ "$output" = "connect: OK" ]
  grep -q accepted "$BATS_TEST_TMPDIR/own.out"
  wait "${FAKE_PIDS[-1]}" 2> /dev/null || true
  rm -f "$RT/9.vsock_6001"
  assert_nothing_left
}
