#!/usr/bin/env bats
# oci_state.bats: alcove-oci's state and processes (docs/oci.md, "State" and "Signals"): the
# state root's owner and mode, creates that race or die half way, kill through pidfds and its
# record of the signal, damaged state directories, the monitor's descriptors, and run's signals
# before the enclave starts. Host-only but for the last tests, which skip loudly without
# /dev/kvm. ALCOVE_FAULT=oci-create-pause makes create wait 10 s after it forked the monitor,
# before it records the container: the window a create killed half way dies in.

load helpers
load oci_helpers

# The monitor of a create running in the background: create's child, once it has forked.
monitor_of() {
  local i m
  for i in $(seq 1 200); do
    m=$(pgrep -P "$1" | head -1)
    [ -n "$m" ] && { echo "$m"; return 0; }
    sleep 0.05
  done
  return 1
}

gone() { ! kill -0 "$1" 2> /dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2> /dev/null)" = Z ]; }

wait_gone() {
  local i
  for i in $(seq 1 100); do gone "$1" && return 0; sleep 0.1; done
  return 1
}

@test "oci_state: a missing state root is made 0700; one others may write in, or another user's, or a link, is refused [ E18 ]" {
  mkbundle "$T/b" true
  (umask 0; "${OCI[@]}" create --bundle "$T/b" c1 > "$T/out" 2>&1)
  [ "$(stat -c %a "$R")" = 700 ]
  "${OCI[@]}" delete c1
  chmod 0777 "$R"
  for cmd in "create --bundle $T/b c1" "state c1" "list" "kill c1" "delete --force c1"; do
    run "${OCI[@]}" $cmd
    [ "$status" -ne 0 ] || { echo "$cmd: accepted"; return 1; }
    assert_log_error "[ E18 ]"
    assert_log_error "every user may write in it"
  done
  chmod 0770 "$R"
  run "${OCI[@]}" list
  [ "$status" -ne 0 ]
  assert_log_error "its group may write in it"
  chmod 0700 "$R"
  if [ "$(id -u)" = 0 ]; then
    chown nobody "$R"
    run "${OCI[@]}" create --bundle "$T/b" c1
    [ "$status" -ne 0 ]
    assert_log_error "owned by another user"
    chown root "$R"
  fi
  mv "$R" "$T/real"
  ln -s "$T/real" "$R"
  run "${OCI[@]}" create --bundle "$T/b" c1
  [ "$status" -ne 0 ]
  assert_log_error "is a symbolic link"
  [ -z "$(ls -A "$T/real")" ]
  rm "$R"
}

@test "oci_state: two creates of one id at once: one has it, the other fails, nothing else is left" {
  mkbundle "$T/b" sleep 100
  local i
  for i in 1 2 3 4 5; do
    "${OCI[@]}" create --bundle "$T/b" --pid-file "$T/pa" c1 > "$T/oa" 2>&1 & local a=$!
    "${OCI[@]}" create --bundle "$T/b" --pid-file "$T/pb" c1 > "$T/ob" 2>&1 & local b=$!
    local sa=0 sb=0
    wait $a || sa=$?
    wait $b || sb=$?
    [ $((sa == 0)) -ne $((sb == 0)) ] || { echo "round $i: statuses $sa and $sb"; cat "$T/oa" "$T/ob"; return 1; }
    local won=$T/pa; [ "$sa" -eq 0 ] || won=$T/pb
    "${OCI[@]}" state c1 | python3 -c "import json, sys; s = json.load(sys.stdin); assert s['status'] == 'created' and s['pid'] == $(cat "$won"), s"
    # only the winner's monitor lives; no claim directory is left
    [ "$(ls -A "$R")" = c1 ] || { ls -la "$R"; return 1; }
    "${OCI[@]}" delete c1
    assert_nothing_left c1
    rm -f "$T/pa" "$T/pb"
  done
}

@test "oci_state: a create killed after it forked its monitor leaves no monitor and no state" {
  mkbundle "$T/b" sleep 100
  ALCOVE_FAULT=oci-create-pause "${OCI[@]}" create --bundle "$T/b" --pid-file "$T/pid" c1 > "$T/out" 2>&1 &
  local create=$!
  local mon
  mon=$(monitor_of "$create")
  [ -d "$R/c1" ]
  kill -KILL "$create"
  wait "$create" || true
  wait_gone "$mon" || { echo "the monitor $mon outlived its create"; ps -fp "$mon"; return 1; }
  for i in $(seq 1 50); do [ ! -e "$R/c1" ] && break; sleep 0.1; done
  assert_nothing_left c1
  [ -z "$(ls -A "$R")" ] || { ls -la "$R"; return 1; }
  # and the id is free again
  "${OCI[@]}" create --bundle "$T/b" c1 > "$T/out" 2>&1
  "${OCI[@]}" delete c1
}

@test "oci_state: a claim directory of a create that died before it took its id is swept" {
  mkbundle "$T/b" true
  # a dead create's (its pid is in the name), and a live one's, which stays
  sh -c 'exit 0' & local dead=$!
  wait $dead
  mkdir -p "$R/~create.$dead.2" "$R/~create.$$.3"
  chmod 700 "$R"
  echo x > "$R/~create.$dead.2/exec.fifo"
  "${OCI[@]}" create --bundle "$T/b" c1 > "$T/out" 2>&1
  [ ! -e "$R/~create.$dead.2" ]
  [ -d "$R/~create.$$.3" ]
  rmdir "$R/~create.$$.3"
  "${OCI[@]}" delete c1
}

# fake_running ID PID [START]: a state directory naming PID as a running container's monitor
# (with START as its start time; the process's own by default), as a started container's is.
fake_running() {
  local start=${3:-$(awk '{print $22}' "/proc/$2/stat")}
  mkdir -p "$R/$1"
  chmod 700 "$R" "$R/$1"
  printf '{"ociVersion": "1.0.2", "id": "%s", "pid": %d, "bundle": "/b", "rootfs": "/b/rootfs", "created": "2026-01-01T00:00:00Z", "annotations": {}, "alcove.pidStart": %s}\n' \
    "$1" "$2" "$start" > "$R/$1/state.json"
}

@test "oci_state: kill signals the recorded monitor only: a reused pid (another start time) is left alone" {
  sleep 100 & local victim=$!
  fake_running f1 "$victim" 12345
  run "${OCI[@]}" state f1
  [[ "$output" == *'"stopped"'* ]]
  for sig in TERM KILL INT; do
    run "${OCI[@]}" kill f1 $sig
    [ "$status" -ne 0 ]
    assert_log_error "container f1: container not running"
  done
  kill -0 "$victim"
  kill "$victim"
  # its own start time: it is the monitor, and TERM reaches it
  sleep 100 & local mon=$!
  fake_running f2 "$mon"
  "${OCI[@]}" kill f2 TERM
  wait_gone "$mon"
  rm -rf "$R/f1" "$R/f2"
}

@test "oci_state: kill KILL ends the monitor and writes nothing in the container's directory (links there stay untouched)" {
  # the monitor may run as its own user (docs/security.md): a KILL that came after a TERM is
  # noticed in its own signals, not recorded in root's directory
  sleep 100 & local mon=$!
  fake_running f1 "$mon"
  echo precious > "$T/victim"
  ln -s "$T/victim" "$R/f1/killed"
  ln -s "$T/victim" "$R/f1/killed.tmp"
  "${OCI[@]}" kill f1 KILL
  wait_gone "$mon"
  [ "$(cat "$T/victim")" = precious ]
  [ -L "$R/f1/killed" ] && [ -L "$R/f1/killed.tmp" ]
  "${OCI[@]}" delete f1
  assert_nothing_left f1
}

@test "oci_state: pause stops the monitor (paused), resume lets it go on; wrong states refused; a TERM for a paused one waits, a KILL ends it" {
  sleep 100 & local mon=$!
  fake_running p1 "$mon"
  proc_state() { awk '{print $3}' "/proc/$1/stat"; }
  "${OCI[@]}" pause p1
  [ "$(proc_state "$mon")" = T ]
  run "${OCI[@]}" state p1
  [[ "$output" == *'"paused"'* ]] || { echo "$output"; return 1; }
  run "${OCI[@]}" list
  [[ "$output" == *paused* ]]
  run "${OCI[@]}" pause p1
  [ "$status" -eq 1 ]
  assert_log_error "container p1: container not running"
  run "${OCI[@]}" delete p1
  [ "$status" -eq 1 ]
  assert_log_error "container p1 is paused"
  "${OCI[@]}" resume p1
  [ "$(proc_state "$mon")" != T ]
  run "${OCI[@]}" state p1
  [[ "$output" == *'"running"'* ]]
  run "${OCI[@]}" resume p1
  [ "$status" -eq 1 ]
  assert_log_error "container p1: container not paused"
  run "${OCI[@]}" pause
  [ "$status" -eq 1 ]
  # a signal for a paused container waits for resume, as for a frozen one; KILL ends it at once
  "${OCI[@]}" pause p1
  "${OCI[@]}" kill p1 TERM
  sleep 0.3
  [ "$(proc_state "$mon")" = T ]
  "${OCI[@]}" kill p1 KILL
  wait_gone "$mon"
  run "${OCI[@]}" pause p1
  [ "$status" -eq 1 ]
  assert_log_error "container p1: container not running"
  "${OCI[@]}" delete p1
  assert_nothing_left p1
}

@test "oci_state: kill of a stop signal is refused (pause stops a container); the monitor is untouched" {
  sleep 100 & local mon=$!
  fake_running f1 "$mon"
  for sig in STOP TSTP 21; do
    run "${OCI[@]}" kill f1 "$sig"
    [ "$status" -ne 0 ] || { echo "kill $sig accepted"; return 1; }
    assert_log_error "alcove-oci pause stops a container"
  done
  kill -0 "$mon"
  [ "$(awk '{print $3}' "/proc/$mon/stat")" != T ]
  kill "$mon"
  rm -rf "$R/f1"
}

@test "oci_state: delete --force removes damaged state: bad JSON, a directory for a file, a link or a file for the directory" {
  mkdir -p "$R/bad1" "$R/bad2/state.json/deeper" "$R/bad3/sub" "$T/outside/keep"
  chmod 700 "$R"
  echo '{not json' > "$R/bad1/state.json"
  ln -s /etc/passwd "$R/bad3/sub/link"
  ln -s "$T/outside" "$R/bad4"
  echo x > "$R/bad5"
  touch "$T/outside/keep/file"
  run "${OCI[@]}" delete bad4
  [ "$status" -ne 0 ]
  assert_log_error "delete --force removes it"
  for id in bad1 bad2 bad3 bad4 bad5; do
    run "${OCI[@]}" delete --force $id
    [ "$status" -eq 0 ] || { echo "$id: $output"; cat "$T/log.json"; return 1; }
    [ ! -e "$R/$id" ] && [ ! -L "$R/$id" ] || { echo "$id left"; ls -la "$R"; return 1; }
  done
  [ -f "$T/outside/keep/file" ] && [ -f /etc/passwd ]
  [ -z "$(ls -A "$R")" ]
}

@test "oci_state: another runtime's state under the same root (dockerd shares one with runc) is not listed and never deleted" {
  mkdir -p "$R/runc1"
  chmod 700 "$R" "$R/runc1"
  # runc's own fields, no alcove.pidStart
  printf '{"id": "runc1", "init_process_pid": %d, "init_process_start": 1, "created": "2026-01-01T00:00:00Z", "config": {}}\n' $$ > "$R/runc1/state.json"
  sleep 100 & local mon=$!
  fake_running a1 "$mon"
  run "${OCI[@]}" list --quiet
  [ "$output" = a1 ] || { echo "$output"; return 1; }
  run "${OCI[@]}" state runc1
  [ "$status" -eq 1 ]
  assert_log_error "container runc1 is another runtime's, not alcove-oci's"
  for f in "" --force; do
    run "${OCI[@]}" delete $f runc1
    [ "$status" -eq 1 ]
    assert_log_error "container runc1 is another runtime's"
    [ -f "$R/runc1/state.json" ]
  done
  run "${OCI[@]}" kill runc1 KILL
  [ "$status" -eq 1 ]
  kill "$mon"
  rm -rf "$R/runc1" "$R/a1"
}

@test "oci_state: the monitor holds none of create's descriptors but stdio; --preserve-fds N > 0 is refused" {
  mkbundle "$T/b" sleep 100
  "${OCI[@]}" create --bundle "$T/b" --pid-file "$T/pid" c1 > "$T/out" 2>&1 7> "$T/held" 8< /dev/null
  local mon fd target
  mon=$(cat "$T/pid")
  for fd in /proc/"$mon"/fd/*; do
    target=$(readlink "$fd")
    case "${fd##*/}:$target" in
      0:* | 1:* | 2:*) ;;
      *:"$T/log.json" | *:"$R/c1") ;; # its log, and its container's directory
      *) echo "the monitor holds fd ${fd##*/} -> $target"; return 1 ;;
    esac
  done
  "${OCI[@]}" delete c1
  run "${OCI[@]}" create --bundle "$T/b" --preserve-fds 2 c1
  [ "$status" -ne 0 ]
  assert_log_error "--preserve-fds 2: host descriptors cannot be passed into an enclave"
  assert_nothing_left c1
  "${OCI[@]}" create --bundle "$T/b" --preserve-fds 0 c1 > "$T/out" 2>&1
  "${OCI[@]}" delete c1
  assert_nothing_left c1
}

@test "oci_state: run: a TERM before the enclave starts ends run with 143 and leaves nothing" {
  mkbundle "$T/b" sleep 100
  ALCOVE_FAULT=oci-create-pause "${OCI[@]}" run --bundle "$T/b" r1 > "$T/out" 2>&1 &
  local r=$!
  monitor_of "$r" > /dev/null
  kill -TERM "$r"
  local status=0
  wait "$r" || status=$?
  [ "$status" -eq 143 ] || { echo "run: $status"; cat "$T/out"; return 1; }
  assert_nothing_left r1
}

# ---- enclaves ----

@test "oci_state: kill KILL ends a running enclave with 137, kill TERM with 143, each run's status" {
  require_kvm
  mkbundle "$T/b" sh -c 'echo started; sleep 300'
  local sig want
  for sig in KILL TERM; do
    want=137; [ "$sig" = KILL ] || want=143
    timeout 300 "${OCI[@]}" run --bundle "$T/b" k1 > "$T/out" 2> "$T/err" &
    local r=$! i
    for i in $(seq 1 300); do grep -q started "$T/out" && break; sleep 1; done
    grep -q started "$T/out" || { cat "$T/err" "$T/log.json"; return 1; }
    "${OCI[@]}" kill k1 "$sig"
    local status=0
    wait "$r" || status=$?
    [ "$status" -eq "$want" ] || { echo "kill $sig: run's status $status"; cat "$T/err"; return 1; }
    assert_nothing_left k1
  done
}

@test "oci_state: kill delivers USR1, USR2 and HUP to a workload that traps them and drops WINCH; TERM runs its trap; KILL ends it even when TERM is ignored (137)" {
  require_kvm
  # ash runs a trap once its foreground sleep ends
  mkbundle "$T/b" sh -c 'trap "echo got USR1" USR1; trap "echo got USR2" USR2; trap "echo got HUP" HUP; trap "echo bye; exit 4" TERM; echo started; while :; do sleep 1; done'
  timeout 300 "${OCI[@]}" run --bundle "$T/b" h1 > "$T/out" 2> "$T/err" &
  local r=$! i line
  for i in $(seq 1 300); do grep -q started "$T/out" && break; sleep 1; done
  grep -q started "$T/out" || { cat "$T/err" "$T/log.json"; return 1; }
  for sig in USR1 USR2 HUP; do
    "${OCI[@]}" kill h1 "$sig"
    for i in $(seq 1 120); do grep -qx "got $sig" "$T/out" && break; sleep 1; done
    grep -qx "got $sig" "$T/out" || { echo "no trap for $sig"; cat "$T/out" "$T/err"; return 1; }
  done
  "${OCI[@]}" kill h1 WINCH # no trap: its default is to be ignored
  sleep 2
  [[ "$("${OCI[@]}" state h1)" == *'"running"'* ]]
  "${OCI[@]}" kill h1 TERM
  local status=0
  wait "$r" || status=$?
  [ "$status" -eq 4 ] && grep -qx bye "$T/out" || { echo "TERM: run's status $status"; cat "$T/out" "$T/err"; return 1; }
  assert_nothing_left h1

  mkbundle "$T/b" sh -c 'trap "" TERM; echo started; while :; do sleep 1; done'
  timeout 300 "${OCI[@]}" run --bundle "$T/b" h2 > "$T/out" 2> "$T/err" &
  r=$!
  for i in $(seq 1 300); do grep -q started "$T/out" && break; sleep 1; done
  grep -q started "$T/out" || { cat "$T/err" "$T/log.json"; return 1; }
  "${OCI[@]}" kill h2 TERM
  sleep 3
  [[ "$("${OCI[@]}" state h2)" == *'"running"'* ]] || { echo "an ignored TERM ended it"; return 1; }
  "${OCI[@]}" kill h2 KILL
  status=0
  wait "$r" || status=$?
  [ "$status" -eq 137 ] || { echo "KILL: run's status $status"; cat "$T/err"; return 1; }
  assert_nothing_left h2
}

@test "oci_state: a workload that ends by itself reports its own status" {
  require_kvm
  mkbundle "$T/b" sh -c 'exit 5'
  timeout 300 "${OCI[@]}" run --bundle "$T/b" s1 > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 5 ] || { cat "$T/err" "$T/log.json"; return 1; }
  assert_nothing_left s1
}

@test "oci_state: a workload that exits 143 itself keeps 143 (the monitor was not stopped by a signal)" {
  require_kvm
  mkbundle "$T/b" sh -c 'echo started; sleep 3; exit 143'
  timeout 300 "${OCI[@]}" run --bundle "$T/b" s2 > "$T/out" 2> "$T/err" &
  local r=$! i
  for i in $(seq 1 300); do grep -q started "$T/out" && break; sleep 1; done
  grep -q started "$T/out" || { cat "$T/err" "$T/log.json"; return 1; }
  local status=0
  wait "$r" || status=$?
  [ "$status" -eq 143 ] || { echo "run's status $status"; cat "$T/err" "$T/log.json"; return 1; }
  assert_nothing_left s2
}

@test "oci_state: pause freezes a running enclave (no output until resume), resume lets it go on" {
  require_kvm
  mkbundle "$T/b" sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done'
  timeout 300 "${OCI[@]}" run --bundle "$T/b" p2 > "$T/out" 2> "$T/err" &
  local r=$! i
  for i in $(seq 1 300); do grep -q 'tick 3' "$T/out" && break; sleep 1; done
  grep -q 'tick 3' "$T/out" || { cat "$T/err" "$T/log.json"; return 1; }
  "${OCI[@]}" pause p2
  [[ "$("${OCI[@]}" state p2)" == *'"paused"'* ]]
  sleep 1 # output already on its way out of the monitor is let through
  local before after
  before=$(wc -l < "$T/out")
  sleep 3
  after=$(wc -l < "$T/out")
  [ "$before" -eq "$after" ] || { echo "paused, yet the workload wrote $((after - before)) lines"; return 1; }
  "${OCI[@]}" resume p2
  for i in $(seq 1 100); do [ "$(wc -l < "$T/out")" -gt "$after" ] && break; sleep 0.2; done
  [ "$(wc -l < "$T/out")" -gt "$after" ] || { echo "no output after resume"; cat "$T/err"; return 1; }
  "${OCI[@]}" pause p2
  "${OCI[@]}" kill p2 KILL
  local status=0
  wait "$r" || status=$?
  [ "$status" -eq 137 ] || { echo "run's status $status"; cat "$T/err"; return 1; }
  assert_nothing_left p2
}

@test "oci_state: kill of a paused container with a signal its workload handles leaves it paused (as a frozen one)" {
  # the stand-in holds the carrier as a real monitor does (it blocks it; here it ignores it)
  bash -c "trap '' RTMIN+2; exec sleep 100" & local mon=$!
  sleep 0.2
  fake_running p2 "$mon"
  "${OCI[@]}" pause p2
  [ "$(awk '{print $3}' "/proc/$mon/stat")" = T ]
  "${OCI[@]}" kill p2 USR1
  sleep 0.3
  run "${OCI[@]}" state p2
  kill -CONT "$mon"; kill "$mon"
  [[ "$output" == *'"paused"'* ]] || { echo "kill USR1 resumed a paused container: $output"; return 1; }
}

@test "oci_state: kill of a created container with STOP is refused too" {
  sleep 100 & local mon=$!
  fake_running c2 "$mon"
  mkfifo "$R/c2/exec.fifo"
  run "${OCI[@]}" state c2
  [[ "$output" == *'"created"'* ]] || { echo "$output"; return 1; }
  run "${OCI[@]}" kill c2 STOP
  local st=$status pst
  sleep 0.2
  pst=$(awk '{print $3}' "/proc/$mon/stat")
  kill -CONT "$mon"; kill "$mon"
  [ "$st" -ne 0 ] && [ "$pst" != T ] || { echo "kill STOP: status $st, the monitor's state $pst"; return 1; }
}
