#!/usr/bin/env bats
# workflow_exec.bats: alcove start, exec and stop (docs/workflow.md, "start, exec, stop"): one
# long-lived enclave for an init directory, whose exec service runs entry points one after
# another or at once. On the host (no enclave): the service itself, run natively on a Unix
# socket and driven by an independent client (exec_client.py), and the commands' refusals. In
# enclaves: start, two execs at once, refusals, statuses and signals, stop leaving nothing, start
# twice, exec after stop, a stale record.

load helpers
bats_require_minimum_version 1.5.0

setup() {
  T=$BATS_TEST_TMPDIR
  export SOURCE_DATE_EPOCH=1
  export ALCOVE_RUNTIME_DIR=$T/rt
  . "$SOURCE_ROOT/examples/lib/image.sh"
  CLIENT=$SOURCE_ROOT/tests/integration/exec_client.py
}

teardown() {
  [ -n "${APP:-}" ] && "$ALCOVE" stop "$APP" > /dev/null 2>&1 || true
  [ -n "${SVC:-}" ] && kill "$SVC" 2> /dev/null || true
  [ -n "${HOLD:-}" ] && kill "$HOLD" 2> /dev/null || true
}

# fake_enclave CID ID: a description in the runtime directory whose claim a process holds, as a
# running enclave's monitor holds it (no control socket, no vsock: driving it fails, loudly)
fake_enclave() {
  mkdir -p -m 700 "$ALCOVE_RUNTIME_DIR"
  printf '{"EnclaveName": "fake", "EnclaveID": "%s", "EnclaveCID": %s, "State": "RUNNING"}\n' \
    "$2" "$1" > "$ALCOVE_RUNTIME_DIR/$1.json"
  chmod 600 "$ALCOVE_RUNTIME_DIR/$1.json"
  hold_lock "$ALCOVE_RUNTIME_DIR/$1.json"
  for _ in $(seq 50); do flock -n -s "$ALCOVE_RUNTIME_DIR/$1.json" true || return 0; sleep 0.1; done
  return 1
}

# hold_lock FILE: a process (HOLD) holds an exclusive flock on FILE until it is killed
hold_lock() {
  touch "$1"
  (exec 9< "$1" && flock -x 9 && exec sleep 300) &
  HOLD=$!
}

# record DIR CID ID: DIR/build/started.json as start writes it for DIR
record() {
  printf '{"EnclaveName": "fake", "EnclaveID": "%s", "EnclaveCID": %s, "Directory": "%s", ' \
    "$3" "$2" "$1" > "$1/build/started.json"
  printf '"DirectoryIdentity": "%s"}\n' "$(stat -c %d:%i "$1")" >> "$1/build/started.json"
}

# the service natively, on $T/sock, with rules for the host's /bin and /usr/bin/env
native_service() {
  : "${EXECD:?set EXECD to the built alcove-execd}"
  printf 'entry /bin\nentry /usr/bin/env\nuntrusted FOO\ndefault PATH=/bin:/usr/bin\ndefault MODE=measured\n' > "$T/rules"
  # its own environment as alcove start would give it, and more, which no program gets
  env -i PATH=/evil MODE=measured FOO=start EVIL=1 \
    "$EXECD" --rules "$T/rules" --unix "$T/sock" 2> "$T/execd.err" &
  SVC=$!
  wait_until [ -S "$T/sock" ] && return 0
  echo "the service did not listen: $(cat "$T/execd.err")"; return 1
}

# expect_error STATUS CODE ARGS...: alcove ARGS fails with STATUS and prints [ CODE ].
expect_error() {
  local want=$1 code=$2
  shift 2
  local expect=()
  [ "$want" -eq 127 ] && expect=(-127) # bats warns about a 127 it was not told to expect
  run "${expect[@]}" timeout 300 "$ALCOVE" "$@"
  if [ "$status" -ne "$want" ] || [[ "$output" != *"[ $code ]"* ]]; then
    echo "alcove $*: status $status (want $want), output: $output"
    return 1
  fi
}

# an init directory with busybox and a static program, entry points /bin
make_app() {
  "$ALCOVE" init "$1" 2> /dev/null
  cp /bin/busybox "$1/image/bin/busybox"
  cp "$(prog hello-musl-exec)" "$1/image/bin/hello"
  set_entry_points "$1" /bin
  set_key "$1" env.default '["MODE=measured", "PATH=/bin"]'
  set_key "$1" env.untrusted '["GREETING"]'
  set_key "$1" resource_limits.user_space_size '"48MB"'
}

field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

# wait_until CMD...: runs CMD every 0.1 s until it succeeds, for at most WAIT_S (30) seconds by
# the clock; fails after that. Generous for a loaded machine (a TCG VM beside others), and no
# slower for a quick one: it polls.
WAIT_S=30
wait_until() {
  local end=$((SECONDS + WAIT_S))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}

# until_file NAME: shell code for a native program that goes on until the test creates $T/NAME
# (then the program's next command runs), at most about 120 s; a program that must outlive the
# test's steps lives as long as they take, and no longer
until_file() {
  echo "i=0; while [ ! -e '$T/$1' ] && [ \$i -lt 2400 ]; do sleep 0.05; i=\$((i + 1)); done"
}

# ended PID: no such process, not even a zombie (it was reaped)
ended() { ! kill -0 "$1" 2> /dev/null; }
# zombies_of PID: the children of PID that are zombies, one line each
zombies_of() { ps -o stat= --ppid "$1" | grep Z || true; }

@test "exec service (native): run, statuses, stdout and stderr apart, stdin, signals, refusals" {
  native_service
  run "$CLIENT" "$T/sock" --ping
  [ "$output" = pong ]
  run --separate-stderr "$CLIENT" "$T/sock" -- /bin/sh -c 'echo out; echo err >&2; exit 7'
  [ "$status" -eq 7 ] && [ "$output" = out ] && [ "$stderr" = err ]
  printf 'one\ntwo\n' > "$T/in"
  run "$CLIENT" "$T/sock" --stdin "$T/in" -- /bin/cat
  [ "$status" -eq 0 ] && [ "$output" = "$(printf 'one\ntwo')" ]
  # a big stream both ways keeps its bytes
  head -c 3000000 /dev/urandom > "$T/big"
  "$CLIENT" "$T/sock" --stdin "$T/big" -- /bin/cat > "$T/big.out"
  cmp "$T/big" "$T/big.out"
  run "$CLIENT" "$T/sock" --env FOO=bar --cwd /tmp -- /bin/sh -c 'echo "$FOO $(pwd)"'
  [ "$output" = "bar /tmp" ]
  # the environment: env.default, start's untrusted names, the request's; nothing else
  run "$CLIENT" "$T/sock" -- /usr/bin/env
  [ "$output" = "$(printf 'PATH=/bin:/usr/bin\nMODE=measured\nFOO=start')" ]
  run "$CLIENT" "$T/sock" --env FOO=bar -- /usr/bin/env
  [ "$output" = "$(printf 'PATH=/bin:/usr/bin\nMODE=measured\nFOO=bar')" ]
  grep -q "EVIL: not an env.untrusted name" "$T/execd.err"
  # killed by a signal: 128 + N; a SIGNAL frame reaches the program
  run "$CLIENT" "$T/sock" -- /bin/sh -c 'kill -9 $$'
  [ "$status" -eq 137 ]
  run "$CLIENT" "$T/sock" --signal 0.3:15 -- /bin/sleep 30
  [ "$status" -eq 143 ]
  # ... also ahead of stdin the program does not read
  head -c 600000 /dev/zero > "$T/unread"
  run "$CLIENT" "$T/sock" --stdin "$T/unread" --signal 0.5:15 -- /bin/sleep 30
  [ "$status" -eq 143 ]
  # refused, each with its reason: not an entry point (2), env (3), no such file (4), cwd (6)
  run "$CLIENT" "$T/sock" -- /usr/sbin/nologin
  [ "$status" -eq 202 ] && [[ "$output" == *"not one of the image's entry points"* ]]
  run "$CLIENT" "$T/sock" -- /bin/../usr/sbin/nologin
  [ "$status" -eq 202 ]
  run "$CLIENT" "$T/sock" --env BAR=1 -- /usr/bin/env
  [ "$status" -eq 203 ]
  run "$CLIENT" "$T/sock" -- /bin/no-such-program
  [ "$status" -eq 204 ]
  run "$CLIENT" "$T/sock" --cwd /no/such/dir -- /bin/pwd
  [ "$status" -eq 206 ]
  # malformed: an unknown first frame, an empty item, a relative program, a huge length
  run "$CLIENT" "$T/sock" --raw 5a00000000
  [[ "$output" == *"F 33 "*"not a request"* ]]
  run "$CLIENT" "$T/sock" --raw 52020000000000
  [[ "$output" == *"malformed request"* ]]
  run "$CLIENT" "$T/sock" --raw 520300000041780000
  [[ "$output" == *"malformed request"* ]]
  run "$CLIENT" "$T/sock" --raw 52ffffffff
  [[ "$output" == *"not a request"* ]]
  # and it still serves
  run "$CLIENT" "$T/sock" -- /bin/echo still
  [ "$output" = still ]
}

@test "exec service (native): two programs at once; one waits on stdin while the other ends" {
  native_service
  mkfifo "$T/fifo"
  "$CLIENT" "$T/sock" --stdin "$T/fifo" -- /bin/sh -c 'read x; echo "A got $x"; exit 3' \
    > "$T/a.out" 2>&1 &
  local a=$!
  run "$CLIENT" "$T/sock" -- /bin/sh -c 'echo B; exit 5'
  [ "$status" -eq 5 ] && [ "$output" = B ]
  kill -0 "$a" # A still waits
  echo hello > "$T/fifo"
  local st=0
  wait "$a" || st=$?
  [ "$st" -eq 3 ] && [ "$(cat "$T/a.out")" = "A got hello" ]
  # orphans are reaped: a program that leaves a child behind
  run "$CLIENT" "$T/sock" -- /bin/sh -c '(sleep 0.2 &) ; echo parent'
  [ "$output" = parent ]
  sleep 0.5
  [ -z "$(ps -o stat= --ppid "$SVC" | grep Z || true)" ]
}

# the service in --main mode (alcove-oci's containers with alcove.exec), natively on $T/sock:
# main_service STDIN PROGRAM [ARGS...]; its stdout and stderr go to $T/main.out and main.err
main_service() {
  : "${EXECD:?set EXECD to the built alcove-execd}"
  printf 'entry /bin\ndefault PATH=/bin:/usr/bin\n' > "$T/rules"
  rm -f "$T/sock"
  local in=$1
  shift
  env -i PATH=/bin:/usr/bin "$EXECD" --rules "$T/rules" --unix "$T/sock" --main "$@" \
    < "$in" > "$T/main.out" 2> "$T/main.err" &
  SVC=$!
  wait_until [ -S "$T/sock" ] && return 0
  echo "the service did not listen: $(cat "$T/main.err")"; return 1
}

# svc_wait: waits (at most WAIT_S) for the service to end; its status in SVC_STATUS (not in a
# subshell: only this shell can wait for it)
svc_wait() {
  SVC_STATUS=0
  wait_until ended "$SVC" || true
  wait "$SVC" || SVC_STATUS=$?
  SVC=
}

@test "exec service (native, --main): the container's program, its stdio and status; execs meanwhile" {
  echo 'from stdin' > "$T/in"
  # the main program lives until the execs below are done ($T/end)
  main_service "$T/in" sh -c 'read x; echo "main got $x"; echo to-err >&2; '"$(until_file end)"'; exit 3'
  # an exec while the main program runs: the rules still apply, the environment is the rules'
  run "$CLIENT" "$T/sock" -- /bin/sh -c 'echo "exec $PATH"; exit 4'
  [ "$status" -eq 4 ] && [ "$output" = "exec /bin:/usr/bin" ]
  run "$CLIENT" "$T/sock" -- /usr/sbin/nologin
  [ "$status" -eq 202 ]
  touch "$T/end"
  svc_wait
  [ "$SVC_STATUS" -eq 3 ]
  [ "$(cat "$T/main.out")" = "main got from stdin" ]
  [ "$(cat "$T/main.err")" = to-err ]
  # a program that cannot start: 127 (no such program), as a container's would
  main_service /dev/null /no/such/program
  svc_wait
  [ "$SVC_STATUS" -eq 127 ]
  grep -q '/no/such/program' "$T/main.err"
}

@test "exec service (native, --main): signals reach the program; its end ends the execs; orphans reaped" {
  # USR1, USR2, WINCH, HUP and ALRM are passed on (the program traps them), TERM ends it: 143
  main_service /dev/null sh -c 'for s in USR1 USR2 WINCH HUP ALRM; do trap "echo got-$s" $s; done
    echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$T/main.out"
  for s in USR1 USR2 WINCH HUP ALRM; do
    kill -s "$s" "$SVC"
    wait_until grep -q "got-$s" "$T/main.out" || { echo "no got-$s: $(cat "$T/main.out")"; return 1; }
  done
  kill -TERM "$SVC"
  svc_wait
  [ "$SVC_STATUS" -eq 143 ]
  # the main program ends while an exec runs: the exec's program ends too, and the service
  # exits with the main program's status; an orphan the main program left was reaped meanwhile.
  # The main program ends when the test says ($T/end), once the exec runs and the orphan is gone
  main_service /dev/null sh -c '(sleep 0.2 & echo $! > '"$T"'/orphan.pid); '"$(until_file end)"'; exit 9'
  "$CLIENT" "$T/sock" -- /bin/sh -c 'echo $$ > '"$T"'/exec.pid; exec sleep 60' > /dev/null 2>&1 &
  local client=$!
  wait_until [ -s "$T/exec.pid" ]
  local pid orphan
  pid=$(cat "$T/exec.pid")
  kill -0 "$pid"
  wait_until [ -s "$T/orphan.pid" ]
  orphan=$(cat "$T/orphan.pid")
  wait_until ended "$orphan" || { echo "orphan $orphan not reaped: $(ps -o stat= -p "$orphan")"; return 1; }
  [ -z "$(zombies_of "$SVC")" ]
  touch "$T/end"
  svc_wait
  [ "$SVC_STATUS" -eq 9 ]
  wait_until ended "$pid"
  local st=0
  wait "$client" || st=$?
  [ "$st" -eq 199 ] # its connection ended without a status
}

@test "exec service (native, --main): a signal to pid 1's process group (a terminal's Ctrl-C) reaches the main program once and leaves the execs alone" {
  # the enclave kernel sends a host terminal's signal to every process of pid 1's group
  # (enclave/kernel/host_signal.c); natively, the service leads a group of its own and the
  # group is signalled as the kernel would
  : "${EXECD:?set EXECD to the built alcove-execd}"
  printf 'entry /bin\ndefault PATH=/bin:/usr/bin\n' > "$T/rules"
  setsid env -i PATH=/bin:/usr/bin "$EXECD" --rules "$T/rules" --unix "$T/sock" --main \
    sh -c 'trap "echo int >> '"$T"'/ints" INT; echo ready; while :; do sleep 0.2 & wait $!; done' \
    < /dev/null > "$T/main.out" 2> "$T/main.err" &
  SVC=$!
  wait_until [ -S "$T/sock" ]
  wait_until grep -q ready "$T/main.out"
  [ "$(ps -o pgid= -p "$SVC" | tr -d ' ')" = "$SVC" ]
  # the exec's program lives until the INT has been counted ($T/exec-end)
  "$CLIENT" "$T/sock" -- /bin/sh -c 'echo exec-up; '"$(until_file exec-end)"'; exit 4' \
    > "$T/exec.out" 2>&1 &
  local client=$!
  wait_until grep -q exec-up "$T/exec.out"
  kill -INT -- -"$SVC"
  wait_until [ -s "$T/ints" ]
  sleep 1.5 # time for a second INT, were there one
  # the main program traps INT: once, as a runc container's program gets a Ctrl-C once
  [ "$(wc -l < "$T/ints")" -eq 1 ] || { echo "main got INT $(wc -l < "$T/ints") times"; return 1; }
  touch "$T/exec-end"
  # the exec's session is not the container's terminal's: it goes on to its program's status
  local st=0
  wait "$client" || st=$?
  [ "$st" -eq 4 ] || { echo "exec: $st: $(cat "$T/exec.out")"; return 1; }
  kill -TERM "$SVC"
  svc_wait
}

@test "exec service (native): at most 64 sessions at once; the 65th is refused with a reason" {
  native_service
  python3 - "$T/sock" << 'PY'
import socket, struct, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    return s
def request(s, *argv):
    p = b"".join(b"A" + a.encode() + b"\0" for a in argv)
    s.sendall(b"R" + struct.pack("<I", len(p)) + p)
def frame(s):
    h = b""
    while len(h) < 5:
        c = s.recv(5 - len(h))
        if not c:
            return None, b""
        h += c
    n = struct.unpack("<I", h[1:])[0]
    p = b""
    while len(p) < n:
        p += s.recv(n - len(p))
    return chr(h[0]), p
held = []
for i in range(64):
    s = conn()
    request(s, "/bin/sleep", "60")
    held.append(s)
time.sleep(1)
s = conn()
t, p = frame(s)
assert t == "F" and p[0] == 7 and b"too many sessions" in p, (t, p)
for h in held:
    h.close()  # their programs get SIGHUP, their sessions end
deadline = time.time() + 60  # 64 sessions end on a loaded machine too (CI runs beside a VM)
while time.time() < deadline:
    s = conn()
    try:
        request(s, "/bin/echo", "again")
        t, p = frame(s)
        if t == "S":  # started: its output follows
            t, p = frame(s)
    except (BrokenPipeError, ConnectionResetError):
        t = None  # still refused: the service closed it before the request went out
    if t == "O":
        assert p == b"again\n", p
        break
    time.sleep(0.1)
else:
    sys.exit("no session after the others ended")
PY
}

@test "start/exec/stop without an enclave: the commands' refusals" {
  make_app "$T/app"
  expect_error 125 E89 exec "$T/app" /bin/hello
  [[ "$output" == *"alcove start"* ]]
  run "$ALCOVE" stop "$T/app"
  [ "$status" -eq 0 ] && [[ "$output" == *"Nothing runs"* ]]
  expect_error 85 E85 start "$T/nowhere"
  expect_error 125 E85 exec /bin/hello # not in an init directory
  expect_error 2 E03 start --frobnicate
  expect_error 2 E03 stop --frobnicate
  expect_error 125 E01 exec "$T/app"
  expect_error 126 E86 exec "$T/app" bin/hello
  # build puts the service and its rules into the image; image/.alcove is alcove's
  "$ALCOVE" build "$T/app" > /dev/null 2>&1
  mkdir "$T/app/image/.alcove"
  expect_error 85 E85 build "$T/app"
  [[ "$output" == *"reserved"* ]]
  rmdir "$T/app/image/.alcove"
  # rules larger than the service reads (256 KiB) are refused at build, naming the keys
  cp "$T/app/alcove.json" "$T/alcove.json.saved"
  set_entry_points "$T/app" $(python3 -c 'print(" ".join("/bin/%03d%s" % (i, "x" * 3000) for i in range(100)))')
  expect_error 85 E85 build "$T/app"
  [[ "$output" == *"'entry_points'"*"exec rules"* ]]
  cp "$T/alcove.json.saved" "$T/app/alcove.json"
  # a stale record (an enclave that is gone) is no enclave
  record "$T/app" 77 i-gone
  expect_error 125 E89 exec "$T/app" /bin/hello
  [[ "$output" == *"has ended"* ]]
  [ ! -e "$T/app/build/started.json" ]
}

@test "start/exec/stop without an enclave: a copied directory's record is not the copy's" {
  make_app "$T/app"
  "$ALCOVE" build "$T/app" > /dev/null 2>&1
  fake_enclave 77 i-fake
  record "$T/app" 77 i-fake
  # the original's record counts: exec reaches for the enclave (which has no service here)
  expect_error 125 E84 exec "$T/app" /bin/hello
  cp -a "$T/app" "$T/copy"
  # the copy's is not the copy's: exec and a second look at it refuse to use it...
  expect_error 125 E89 exec "$T/copy" /bin/hello
  [[ "$output" == *"not this directory's"*"$T/app"* ]]
  # ... stop leaves the original's enclave alone and drops the copied record
  run --separate-stderr "$ALCOVE" stop "$T/copy"
  echo "$stderr"
  [ "$status" -eq 0 ] && [ -z "$output" ] && [[ "$stderr" == *"left alone"* ]]
  [ ! -e "$T/copy/build/started.json" ] && [ -e "$T/app/build/started.json" ]
  kill -0 "$HOLD" && [ -e "$ALCOVE_RUNTIME_DIR/77.json" ]
  # a record without the directory's identity (an older alcove's) is not used either
  echo '{"EnclaveName": "x", "EnclaveID": "i-fake", "EnclaveCID": 77}' > "$T/copy/build/started.json"
  expect_error 125 E89 exec "$T/copy" /bin/hello
  [[ "$output" == *"older alcove"* ]]
}

@test "start/exec/stop without an enclave: a record is removed only when its enclave is known gone" {
  make_app "$T/app"
  "$ALCOVE" build "$T/app" > /dev/null 2>&1
  record "$T/app" 77 i-gone
  # the enclaves cannot be listed (the runtime directory is a file): not known, kept
  : > "$T/notdir"
  ALCOVE_RUNTIME_DIR=$T/notdir expect_error 125 E19 exec "$T/app" /bin/hello
  [ -e "$T/app/build/started.json" ]
  ALCOVE_RUNTIME_DIR=$T/notdir expect_error 19 E19 stop "$T/app"
  [ -e "$T/app/build/started.json" ]
  # while start or stop holds the directory's lock, exec leaves the record to them
  hold_lock "$T/app/build/started.lock"
  sleep 0.3
  expect_error 125 E89 exec "$T/app" /bin/hello
  [ -e "$T/app/build/started.json" ]
  kill "$HOLD"
  wait "$HOLD" || true
  HOLD=
  # known gone (no such enclave): removed
  expect_error 125 E89 exec "$T/app" /bin/hello
  [[ "$output" == *"has ended"* ]]
  [ ! -e "$T/app/build/started.json" ]
}

# The driver's pty needs devpts at /dev/pts (scripts/kvm-vm.sh's chroot binds /dev without it).
need_devpts() {
  [ -e /dev/pts/ptmx ] || mount -t devpts devpts /dev/pts 2> /dev/null ||
    skip "no devpts at /dev/pts: no pty can be made here"
}

# locked FILE: another process holds a lock on FILE (a monitor's on its description)
locked() { ! flock -n -s "$1" true; }

# exec_behind_stand_in: the service natively on $T/sock (rules admitting the host's /bin and
# the test programs), behind a stand-in monitor (fake_vsock_host.py: enclave CID 7's description
# and vsock socket, its exec port relayed to the service), and an init directory $T/app whose
# record names that enclave: `alcove exec $T/app ...` reaches the native service as it would an
# enclave's
exec_behind_stand_in() {
  : "${EXECD:?set EXECD to the built alcove-execd}"
  printf 'entry /bin\nentry /usr/bin\nentry %s\ndefault PATH=/bin:/usr/bin\n' "$PROGRAMS" > "$T/rules"
  env -i PATH=/bin:/usr/bin "$EXECD" --rules "$T/rules" --unix "$T/sock" 2> "$T/execd.err" &
  SVC=$!
  mkdir -p -m 700 "$ALCOVE_RUNTIME_DIR"
  python3 "$BATS_TEST_DIRNAME/fake_vsock_host.py" serve --uds "$ALCOVE_RUNTIME_DIR/7.vsock" \
    --name app --cid 7 --exec-unix "$T/sock" &
  HOLD=$!
  wait_until [ -S "$T/sock" ] && wait_until [ -S "$ALCOVE_RUNTIME_DIR/7.vsock" ] &&
    wait_until [ -s "$ALCOVE_RUNTIME_DIR/7.json" ] && wait_until locked "$ALCOVE_RUNTIME_DIR/7.json" ||
    { echo "no stand-in: $(cat "$T/execd.err")"; return 1; }
  "$ALCOVE" init "$T/app" 2> /dev/null
  mkdir -p "$T/app/build"
  record "$T/app" 7 i-fake-enc7
  "$ALCOVE" exec "$T/app" /bin/true
}

DRIVE="$BATS_TEST_DIRNAME/console_tty_drive.py"
PTY_DRIVE="$BATS_TEST_DIRNAME/pty_drive.py"

# the transcript console_tty_drive.py writes: the program on a terminal, as console_tty.bats
# checks it (the same program natively gives the same bytes)
check_tty_transcript() {
  local f=$1
  cat "$f"
  grep -qF 'isatty: 1 1 1\r\nttyname: /dev/pts/N\r\nforeground: own group\r\nsession leader: yes\r\n' "$f"
  grep -qF 'termios: icanon 1 echo 1 isig 1 onlcr 1\r\nsize: 24x80\r\n' "$f"
  grep -qF 'ready>abx\x08 \x08c\r\nline: abc\\x0a (4 bytes)\r\n' "$f"
  grep -qF '^Cafter ^C: ppoll -1 Interrupted system call, SIGINT 1\r\n' "$f"
  grep -qF 'SIGWINCH 1\r\nnew size: 40x100\r\ndone\r\n' "$f"
}

@test "exec -t (native service, the real client): a terminal inside: isatty, ttyname, size, echo, ^C, SIGWINCH, the host terminal restored" {
  need_devpts
  exec_behind_stand_in
  timeout -k 5 60 python3 "$DRIVE" "$T/native.txt" -- "$(prog console_tty-musl-exec)" > "$T/native.res"
  run timeout -k 5 120 python3 "$DRIVE" "$T/exec.txt" -- "$ALCOVE" exec -t "$T/app" "$(prog console_tty-musl-exec)"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "status 0" ]
  [ "${lines[1]}" = "terminal restored: yes" ]
  check_tty_transcript "$T/exec.txt"
  diff "$T/native.txt" "$T/exec.txt"
}

@test "exec -t (native service): stdin not a terminal (24x80, ^D at its end), stderr on the terminal too, statuses; without -t pipes as before" {
  exec_behind_stand_in
  # neither stdin nor stdout a terminal: the default size; the terminal's \r\n
  run timeout 30 "$ALCOVE" exec -t "$T/app" "$(prog console_tty-musl-exec)" info < /dev/null
  [ "$status" -eq 0 ]
  [[ "$output" == *$'isatty: 1 1 1\r'* ]] && [[ "$output" == *$'size: 24x80\r'* ]] || { echo "$output"; return 1; }
  # the end of stdin is the terminal's end of file: cat ends
  run timeout 30 "$ALCOVE" exec -t "$T/app" /bin/cat < /dev/null
  [ "$status" -eq 0 ]
  # stdin's bytes are typed (echoed by the line discipline), stderr comes to stdout; the status
  run --separate-stderr timeout 30 "$ALCOVE" exec --tty "$T/app" /bin/sh -c 'read x; echo "got $x" >&2; exit 4' <<< hello
  [ "$status" -eq 4 ] && [ "$output" = $'hello\r\ngot hello\r' ] && [ -z "$stderr" ] ||
    { echo "$status: $output / $stderr"; return 1; }
  # a signal to alcove exec -t goes to the program (143)
  run timeout 30 "$ALCOVE" exec -t "$T/app" /bin/sh -c 'kill -TERM $$'
  [ "$status" -eq 143 ]
  # without -t: pipes, as before
  run timeout 30 "$ALCOVE" exec "$T/app" "$(prog console_tty-musl-exec)" info < /dev/null
  [ "$status" -eq 0 ] && [ "${lines[0]}" = "isatty: 0 0 0" ] && [[ "$output" != *$'\r'* ]]
  run "$ALCOVE" exec --help
  [[ "$output" == *"-t, --tty"* ]]
}

@test "exec -t (native service): a TERM to alcove exec while the terminal is raw: the program gets it, the terminal is restored" {
  need_devpts
  exec_behind_stand_in
  run env STEP_TIMEOUT=20 timeout -k 5 60 python3 "$PTY_DRIVE" expect:up raw signal:TERM -- \
    "$ALCOVE" exec -t "$T/app" /bin/sh -c 'echo up; exec sleep 60'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "status 143" ]
  [ "${lines[1]}" = "terminal restored: yes" ]
  [ "${lines[2]}" = "raw meanwhile: yes" ]
}

@test "start, exec -t in an enclave: a terminal inside (console_tty as on Linux), busybox sh interactive, the host terminal restored" {
  require_kvm
  need_devpts
  APP=$T/app
  make_app "$APP"
  cp "$(prog console_tty-musl-exec)" "$APP/image/bin/console_tty"
  run --separate-stderr timeout 600 "$ALCOVE" start "$APP"
  [ "$status" -eq 0 ] || { echo "$output $stderr"; return 1; }
  timeout -k 5 60 python3 "$DRIVE" "$T/native.txt" -- "$(prog console_tty-musl-exec)" > "$T/native.res"
  run env STEP_TIMEOUT=90 timeout -k 10 300 python3 "$DRIVE" "$T/exec.txt" -- "$ALCOVE" exec -t "$APP" /bin/console_tty
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "status 0" ]
  [ "${lines[1]}" = "terminal restored: yes" ]
  check_tty_transcript "$T/exec.txt"
  diff "$T/native.txt" "$T/exec.txt"
  # busybox sh, interactive: a prompt, a command, [ -t 0 ], its status
  run env STEP_TIMEOUT=240 timeout -k 10 300 python3 "$PTY_DRIVE" expect:'# ' \
    send:'echo hi-$((1+2)); [ -t 0 ] && echo tty-$((2+3)); stty size; exit 7\r' expect:tty-5 -- \
    "$ALCOVE" exec -t "$APP" /bin/busybox sh
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "status 7" ]
  [ "${lines[1]}" = "terminal restored: yes" ]
  [[ "${lines[2]}" == "transcript: "*'hi-3\r\n'* ]]
  "$ALCOVE" stop "$APP" > /dev/null
}

@test "start/exec/stop with two programs at once (in an enclave)" {
  require_kvm
  APP=$T/app
  make_app "$APP"
  # start builds the directory (it had no image), prints run-enclave's JSON, records it
  run --separate-stderr "$ALCOVE" start --env GREETING=hi "$APP"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  local pid cid id
  pid=$(echo "$output" | field '["ProcessID"]')
  cid=$(echo "$output" | field '["EnclaveCID"]')
  id=$(echo "$output" | field '["EnclaveID"]')
  [ -S "$ALCOVE_RUNTIME_DIR/$cid.vsock" ]
  [ -f "$APP/build/started.json" ]
  # a second start is refused
  expect_error 88 E88 start "$APP"
  # two at once: A waits on its stdin while B runs to its end
  mkfifo "$T/fifo"
  "$ALCOVE" exec "$APP" /bin/busybox sh -c 'read x; echo "A got $x $GREETING $MODE"; exit 3' \
    < "$T/fifo" > "$T/a.out" 2> "$T/a.err" &
  local a=$!
  exec 8> "$T/fifo" # hold it open: A's stdin stays empty, not ended
  run --separate-stderr "$ALCOVE" exec "$APP" /bin/busybox sh -c 'echo B out; echo B err >&2; exit 5'
  [ "$status" -eq 5 ] && [ "$output" = "B out" ] && [ "$stderr" = "B err" ]
  kill -0 "$a"
  echo hello >&8
  exec 8>&-
  local st=0
  wait "$a" || st=$?
  cat "$T/a.err"
  [ "$st" -eq 3 ] && [ "$(cat "$T/a.out")" = "A got hello hi measured" ]
  # a static program; a per-exec --env (env.untrusted) replaces start's
  run "$ALCOVE" exec "$APP" /bin/hello
  [ "$status" -eq 0 ] && [[ "$output" == *ello* ]]
  run "$ALCOVE" exec --env GREETING=yo -w /tmp "$APP" /bin/busybox sh -c 'echo "$GREETING $(pwd)"'
  [ "$output" = "yo /tmp" ]
  # refusals: not an entry point (126, [ E86 ]), a variable env.untrusted lacks (125, [ E87 ]),
  # no such file (127)
  expect_error 126 E86 exec "$APP" /etc/passwd
  expect_error 126 E86 exec "$APP" /bin/../etc/passwd
  expect_error 125 E87 exec --env OTHER=1 "$APP" /bin/hello
  expect_error 127 E72 exec "$APP" /bin/no-such
  # a killed program: 128 + N; Ctrl-C on alcove exec reaches it
  run "$ALCOVE" exec "$APP" /bin/busybox sh -c 'kill -9 $$'
  [ "$status" -eq 137 ]
  "$ALCOVE" exec "$APP" /bin/busybox sleep 100 < /dev/null &
  local s=$!
  sleep 3
  kill -INT "$s"
  st=0
  wait "$s" || st=$?
  [ "$st" -eq 130 ]
  # stop: nothing left (no monitor, nothing in the runtime directory), the record gone; its
  # stdout is terminate-enclave's JSON for the enclave, and nothing else
  run --separate-stderr "$ALCOVE" stop "$APP"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | field '["EnclaveID"]')" = "$id" ]
  [ "$(echo "$output" | field '["Terminated"]')" = True ]
  for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  ! kill -0 "$pid" 2> /dev/null
  [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v '^allocator.lock$' || true)" ]
  [ ! -e "$APP/build/started.json" ]
  # stop again: nothing runs, status 0; exec after stop: [ E89 ]
  run "$ALCOVE" stop "$APP"
  [ "$status" -eq 0 ] && [[ "$output" == *"Nothing runs"* ]]
  expect_error 125 E89 exec "$APP" /bin/hello
}

@test "start after its enclave died (kill -9 of the monitor): the stale record is noticed" {
  require_kvm
  APP=$T/app
  make_app "$APP"
  run --separate-stderr "$ALCOVE" start "$APP"
  [ "$status" -eq 0 ]
  local pid
  pid=$(echo "$output" | field '["ProcessID"]')
  kill -9 "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  expect_error 125 E89 exec "$APP" /bin/hello
  [[ "$output" == *"has ended"* ]]
  run --separate-stderr "$ALCOVE" start "$APP"
  [ "$status" -eq 0 ]
  run "$ALCOVE" exec "$APP" /bin/hello
  [ "$status" -eq 0 ]
  run "$ALCOVE" stop "$APP"
  [ "$status" -eq 0 ]
}

# nothing_left: no enclave's files in the runtime directory, no record
nothing_left() {
  [ -z "$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -v '^allocator.lock$' || true)" ] &&
    [ ! -e "$APP/build/started.json" ]
}

@test "a start that fails or is interrupted after the launch leaves nothing running" {
  require_kvm
  APP=$T/app
  make_app "$APP"
  "$ALCOVE" build "$APP" > /dev/null 2>&1
  # the enclaves cannot be listed right after the launch: the launched enclave is stopped again
  ALCOVE_FAULT=start-describe run --separate-stderr "$ALCOVE" start "$APP"
  echo "$stderr"
  [ "$status" -eq 36 ] && [[ "$stderr" == *"[ E36 ]"* ]] && [ -z "$output" ]
  nothing_left
  # Ctrl-C while start waits: status 130, the enclave stopped again, no record
  ALCOVE_FAULT=start-pause "$ALCOVE" start "$APP" > "$T/start.out" 2> "$T/start.err" &
  local s=$!
  for _ in $(seq 600); do
    grep -q Starting "$T/start.err" && ls "$ALCOVE_RUNTIME_DIR" | grep -q '\.json$' && break
    sleep 0.1
  done
  sleep 1
  kill -INT "$s"
  local st=0
  wait "$s" || st=$?
  cat "$T/start.err"
  [ "$st" -eq 130 ] && [ ! -s "$T/start.out" ] && grep -q "interrupted" "$T/start.err"
  nothing_left
  # and the directory starts normally afterwards
  run --separate-stderr "$ALCOVE" start "$APP"
  [ "$status" -eq 0 ]
  run "$ALCOVE" exec "$APP" /bin/hello
  [ "$status" -eq 0 ]
}
