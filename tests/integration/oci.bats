#!/usr/bin/env bats
# oci.bats: alcove-oci, the OCI runtime (docs/oci.md). Host-only cases (no enclave starts: the
# version, spec, features, bundles that must be refused, a created container that never
# starts) run everywhere; the enclave cases (the lifecycle with a static busybox root file
# system, and podman driving alcove-oci) skip loudly without /dev/kvm. oci_state.bats has the
# state directories, kill and the monitor's descriptors.

load helpers
load oci_helpers
bats_require_minimum_version 1.5.0

@test "oci: --version names alcove-oci and the runtime-spec version" {
  run "$ALCOVE_OCI" --version
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^alcove-oci\ version\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
  [[ "${lines[1]}" =~ ^spec:\ 1\.[0-9]+\.[0-9]+$ ]]
}

@test "oci: spec writes a config.json this runtime accepts, and never overwrites one" {
  cd "$T"
  run "$ALCOVE_OCI" spec
  [ "$status" -eq 0 ]
  python3 -c 'import json; c = json.load(open("config.json")); assert c["ociVersion"].startswith("1."); assert c["root"]["path"] == "rootfs"'
  echo '{"mine": 1}' > config.json
  run "$ALCOVE_OCI" spec
  [ "$status" -ne 0 ]
  [[ "$output" == *"exists"* ]]
  [ "$(cat config.json)" = '{"mine": 1}' ]
}

@test "oci: features is a JSON document with the spec versions and alcove's annotations" {
  run "$ALCOVE_OCI" features
  [ "$status" -eq 0 ]
  echo "$output" | python3 -c 'import json, sys; f = json.load(sys.stdin); assert f["ociVersionMax"].startswith("1."); assert "alcove.debug-mode" in f["annotations"] and "alcove.exec" in f["annotations"]'
}

@test "oci: must-fail: a host bind mount is refused, nothing is left" {
  EDIT='c["mounts"].append({"destination": "/data", "type": "bind", "source": "/etc", "options": ["rbind"]})' \
    mkbundle "$T/b" sh -c 'echo hi'
  must_fail_create "mount refused: /data from /etc"
}

@test "oci: must-fail: a missing rootfs is refused, nothing is left" {
  EDIT='c["root"]["path"] = "no-such-dir"' mkbundle "$T/b" true
  must_fail_create "root.path $T/b/no-such-dir"
}

@test "oci: must-fail: an unknown alcove annotation, or a value it cannot take, is refused" {
  EDIT='c["annotations"]["alcove.cpu-pool-size"] = "3"' mkbundle "$T/b" true
  must_fail_create "annotation alcove.cpu-pool-size: unknown"
  EDIT='c["annotations"]["alcove.debug-mode"] = "maybe"' mkbundle "$T/b" true
  must_fail_create "alcove.debug-mode=maybe"
  EDIT='c["annotations"]["alcove.enclave-cid"] = "2"' mkbundle "$T/b" true
  must_fail_create "alcove.enclave-cid=2"
  # other engines' annotations are theirs: accepted
  EDIT='c["annotations"]["io.podman.annotations.autoremove"] = "TRUE"' mkbundle "$T/b" true
  "${OCI[@]}" create --bundle "$T/b" c1 > "$T/out" 2>&1
  "${OCI[@]}" delete c1
  assert_nothing_left c1
}

@test "oci: must-fail: annotations that are not an object, CPU lists and quotas an enclave cannot have, a huge config.json" {
  EDIT='c["annotations"] = ["x"]' mkbundle "$T/b" true
  must_fail_create "annotations must be an object"
  EDIT='c["linux"]["resources"] = {"cpu": {"cpus": "0-4294967295"}}' mkbundle "$T/b" true
  must_fail_create "is not a CPU list"
  EDIT='c["linux"]["resources"] = {"cpu": {"cpus": "3-1"}}' mkbundle "$T/b" true
  must_fail_create "is not a CPU list"
  EDIT='c["linux"]["resources"] = {"cpu": {"quota": 4294967298, "period": 1}}' mkbundle "$T/b" true
  must_fail_create "an enclave has 1 to"
  mkbundle "$T/b" true
  truncate -s 20M "$T/b/config.json"
  must_fail_create "more than a bundle's 16 MiB limit"
}

@test "oci: ids that are not a container's ('..', '/', '') reach no path outside --root, for every command" {
  mkdir -p "$T/outside"
  echo '{}' > "$T/outside/state.json"
  mkfifo "$T/outside/exec.fifo"
  for cmd in state start kill delete; do
    for id in ../outside .. "a/b" ""; do
      run timeout 20 "${OCI[@]}" $cmd "$id"
      [ "$status" -ne 0 ] && [ "$status" -ne 124 ] || { echo "$cmd '$id': status $status"; return 1; }
    done
  done
  [ -p "$T/outside/exec.fifo" ] && [ -f "$T/outside/state.json" ]
  mkbundle "$T/b" true
  run "$ALCOVE_OCI" --root "" create --bundle "$T/b" c1
  [ "$status" -ne 0 ] && [ "$status" -lt 128 ]
}

@test "oci: must-fail: a terminal without a console socket, a working directory other than /, a tmpfs elsewhere" {
  EDIT='c["process"]["terminal"] = True' mkbundle "$T/b" sh
  must_fail_create "process.terminal is true: the pty's master needs --console-socket"
  EDIT='c["process"]["cwd"] = "/srv"' mkbundle "$T/b" sh
  must_fail_create "process.cwd /srv"
  EDIT='c["mounts"].append({"destination": "/cache", "type": "tmpfs", "source": "tmpfs"})' mkbundle "$T/b" sh
  must_fail_create "a tmpfs at /cache"
}

# A pty needs devpts at /dev/pts: scripts/kvm-vm.sh's chroot binds /dev without it.
need_devpts() {
  [ -e /dev/pts/ptmx ] || mount -t devpts devpts /dev/pts 2> /dev/null ||
    skip "no devpts at /dev/pts: no pty can be made here"
}

@test "oci: a terminal: the pty's master goes over --console-socket, sized as consoleSize says, raw" {
  need_devpts
  EDIT='c["process"]["terminal"] = True; c["process"]["consoleSize"] = {"height": 31, "width": 97}' \
    mkbundle "$T/b" sh
  # the engine's end (conmon's, containerd's): takes one descriptor with the pty's name
  python3 - "$T/console.sock" "$T/console.txt" <<'PY' &
import array, fcntl, os, socket, struct, sys, termios
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
fds = array.array("i")
msg, anc, _, _ = c.recvmsg(256, socket.CMSG_LEN(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:fds.itemsize])
rows, cols = struct.unpack("hh", fcntl.ioctl(fds[0], termios.TIOCGWINSZ, b"\0" * 4))
# the enclave's console is a terminal inside: this one passes bytes through (no echo, no editing)
lflag = termios.tcgetattr(fds[0])[3]
raw = "raw" if not lflag & (termios.ICANON | termios.ECHO | termios.ISIG) else "cooked"
open(sys.argv[2] + ".tmp", "w").write("%s %s %d %d %s\n" % (msg.decode(), os.isatty(fds[0]), rows, cols, raw))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
import time; time.sleep(60) # holds the master, as an engine does (its close hangs the pty up)
PY
  local holder=$!
  local i
  for i in $(seq 1 50); do [ -S "$T/console.sock" ] && break; sleep 0.1; done
  "${OCI[@]}" create --bundle "$T/b" --console-socket "$T/console.sock" --pid-file "$T/pid" c1 > "$T/out" 2>&1
  for i in $(seq 1 50); do [ -e "$T/console.txt" ] && break; sleep 0.1; done
  [[ "$(cat "$T/console.txt")" =~ ^/dev/pts/[0-9]+\ True\ 31\ 97\ raw$ ]] || { cat "$T/console.txt" "$T/out"; return 1; }
  # the monitor holds the slave as its stdio (once it has set itself up)
  local fd1
  for i in $(seq 1 50); do
    fd1=$(readlink "/proc/$(cat "$T/pid")/fd/1")
    [[ "$fd1" == /dev/pts/* ]] && break
    sleep 0.1
  done
  [[ "$fd1" == /dev/pts/* ]] || { echo "the monitor's stdout: $fd1"; return 1; }
  kill "$holder"
  "${OCI[@]}" delete c1
  assert_nothing_left c1
}

@test "oci: without --log, the ignored mounts' info lines stay out of the container's stderr" {
  mkbundle "$T/b" true
  "$ALCOVE_OCI" --root "$R" create --bundle "$T/b" c1 > "$T/out" 2> "$T/err"
  [ ! -s "$T/out" ] && [ ! -s "$T/err" ] || { cat "$T/out" "$T/err"; return 1; }
  "$ALCOVE_OCI" --root "$R" delete c1
  "$ALCOVE_OCI" --root "$R" --debug create --bundle "$T/b" c1 > "$T/out" 2> "$T/err"
  grep -q "mount /proc ignored" "$T/err"
  "$ALCOVE_OCI" --root "$R" delete c1
  assert_nothing_left c1
}

@test "oci: the mounts every engine adds are ignored, each with a log line" {
  EDIT='c["mounts"] += [{"destination": d, "type": "bind", "source": "/etc/hosts"} for d in ("/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/run/.containerenv")] + [{"destination": "/dev/shm", "type": "bind", "source": "/dev/shm"}, {"destination": "/dev/pts", "type": "devpts", "source": "devpts"}, {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}]' \
    mkbundle "$T/b" true
  "${OCI[@]}" create --bundle "$T/b" c1 > "$T/out" 2>&1
  for d in /proc /dev /sys /etc/hosts /etc/resolv.conf /etc/hostname /run/.containerenv /dev/shm /dev/pts /sys/fs/cgroup; do
    grep -q "\"mount $d ignored" "$T/log.json" || { echo "no log line for $d"; cat "$T/log.json"; return 1; }
  done
  "${OCI[@]}" delete c1
  assert_nothing_left c1
}

@test "oci: must-fail: a second create with the same id fails and leaves the first as it was" {
  mkbundle "$T/b" sleep 100
  "${OCI[@]}" create --bundle "$T/b" --pid-file "$T/pid1" c1 > "$T/out1" 2>&1
  local pid
  pid=$(cat "$T/pid1")
  kill -0 "$pid"
  "${OCI[@]}" create --bundle "$T/b" --pid-file "$T/pid2" c1 > "$T/out2" 2>&1 && status=0 || status=$?
  [ "$status" -ne 0 ]
  assert_log_error "container c1 exists"
  [ ! -e "$T/pid2" ]
  run "${OCI[@]}" state c1
  [ "$status" -eq 0 ]
  echo "$output" | python3 -c "import json, sys; s = json.load(sys.stdin); assert s['status'] == 'created', s; assert s['pid'] == $pid, s; assert s['bundle'] == '$T/b', s"
  # created, never started: delete ends its monitor (no enclave was started)
  "${OCI[@]}" delete c1
  ! kill -0 "$pid" 2> /dev/null || [ "$(awk '{print $3}' "/proc/$pid/stat")" = Z ]
  assert_nothing_left c1
}

@test "oci: list and ps show a created container; state, kill, start of an unknown id fail" {
  mkbundle "$T/b" sleep 100
  "${OCI[@]}" create --bundle "$T/b" --pid-file "$T/pid" c1 > "$T/out" 2>&1
  run "${OCI[@]}" list --format json
  [ "$status" -eq 0 ]
  echo "$output" | python3 -c "import json, sys; l = json.load(sys.stdin); assert [s['id'] for s in l] == ['c1'] and l[0]['status'] == 'created', l"
  run "${OCI[@]}" list
  [[ "${lines[1]}" == "c1 "*created* ]]
  run "${OCI[@]}" ps --format json c1
  [ "$output" = "[$(cat "$T/pid")]" ]
  "${OCI[@]}" delete --force c1
  for cmd in state start kill; do
    run "${OCI[@]}" $cmd nosuch
    [ "$status" -ne 0 ]
    assert_log_error "container nosuch does not exist"
  done
  run "${OCI[@]}" delete nosuch
  [ "$status" -ne 0 ]
  # as runc: delete --force of what is not there is done
  run "${OCI[@]}" delete --force nosuch
  [ "$status" -eq 0 ]
}

@test "oci: update is refused with a reason in the log" {
  run "${OCI[@]}" update c1
  [ "$status" -ne 0 ]
  assert_log_error "update is not supported"
}

@test "oci: exec: of an unknown id, of a created container, of one created without alcove.exec; nothing left" {
  run "${OCI[@]}" exec nosuch /bin/true
  [ "$status" -ne 0 ]
  assert_log_error "container nosuch does not exist"
  # a created container (nothing runs yet): refused as runc refuses it
  EDIT='c["annotations"]["alcove.exec"] = "/bin"' mkbundle "$T/b" sleep 100
  "${OCI[@]}" create --bundle "$T/b" c1 > "$T/out" 2>&1
  run "${OCI[@]}" exec c1 /bin/true
  [ "$status" -ne 0 ]
  assert_log_error "cannot exec in a created container"
  "${OCI[@]}" delete --force c1
  assert_nothing_left c1
  # a running container without the annotation: a stand-in monitor (a live process the state
  # names, as oci_state.bats makes them) shows as running; exec says which annotation enables it
  sleep 100 &
  local fake=$!
  mkdir -p "$R/c2" && chmod 700 "$R" "$R/c2"
  printf '{"ociVersion": "1.0.2", "id": "c2", "pid": %d, "bundle": "/b", "rootfs": "/b/rootfs", "created": "2026-01-01T00:00:00Z", "annotations": {}, "alcove.pidStart": %s}\n' \
    "$fake" "$(awk '{print $22}' "/proc/$fake/stat")" > "$R/c2/state.json"
  "${OCI[@]}" state c2 | grep -q '"running"'
  run "${OCI[@]}" exec c2 /bin/true
  [ "$status" -ne 0 ]
  assert_log_error "[ E84 ]"
  assert_log_error "created without the annotation alcove.exec"
  run "${OCI[@]}" exec --detach --pid-file "$T/xpid" c2 /bin/true
  [ "$status" -ne 0 ] && [ ! -e "$T/xpid" ]
  # with the annotation but no enclave of that monitor's in the runtime directory: said so
  sed -i 's|"annotations": {}|"annotations": {"alcove.exec": "/bin"}|' "$R/c2/state.json"
  run "${OCI[@]}" exec --detach --pid-file "$T/xpid" c2 /bin/true
  [ "$status" -ne 0 ] && [ ! -e "$T/xpid" ]
  assert_log_error "its enclave is not running"
  kill "$fake"
  wait "$fake" 2> /dev/null || true
  "${OCI[@]}" state c2 | grep -q '"stopped"'
  run "${OCI[@]}" exec c2 /bin/true
  [ "$status" -ne 0 ]
  assert_log_error "cannot exec in a stopped container"
  "${OCI[@]}" delete --force c2
  assert_nothing_left c2
}

# fake_exec_container ID MAIN...: a running container ID without an enclave: the exec service
# runs natively in --main mode (MAIN its program; the rules admit the host's /bin and /usr/bin,
# GREETING; and the test programs), behind a stand-in monitor (fake_vsock_host.py: the runtime directory's description
# of an enclave named ID, its vsock socket relaying port 41422 to the service); the state names
# that stand-in, with the container's root file system / (so programs resolve as on the host)
fake_exec_container() {
  local id=$1; shift
  mkdir -p -m 700 "$ALCOVE_RUNTIME_DIR"
  printf 'entry /bin\nentry /usr/bin\nentry %s\nuntrusted GREETING\ndefault PATH=/usr/bin:/bin\ndefault MODE=container\n' "${PROGRAMS:-/bin}" > "$T/rules"
  env -i PATH=/usr/bin:/bin MODE=container "$EXECD" --rules "$T/rules" --unix "$T/execd.sock" --main "$@" \
    > "$T/main.out" 2>&1 &
  SVC=$!
  for _ in $(seq 50); do [ -S "$T/execd.sock" ] && break; sleep 0.1; done
  python3 "$BATS_TEST_DIRNAME/fake_vsock_host.py" serve --uds "$ALCOVE_RUNTIME_DIR/7.vsock" \
    --name "$id" --cid 7 --exec-unix "$T/execd.sock" &
  HOST=$!
  for _ in $(seq 50); do [ -S "$ALCOVE_RUNTIME_DIR/7.vsock" ] && [ -s "$ALCOVE_RUNTIME_DIR/7.json" ] && break; sleep 0.1; done
  mkdir -p "$R/$id" && chmod 700 "$R" "$R/$id"
  printf '{"ociVersion": "1.0.2", "id": "%s", "pid": %d, "bundle": "/b", "rootfs": "/", "created": "2026-01-01T00:00:00Z", "annotations": {"alcove.exec": "/bin,/usr/bin", "alcove.exec-env": "GREETING"}, "alcove.pidStart": %s}\n' \
    "$id" "$HOST" "$(awk '{print $22}' "/proc/$HOST/stat")" > "$R/$id/state.json"
}

fake_exec_teardown() {
  [ -n "${HOST:-}" ] && kill "$HOST" 2> /dev/null
  [ -n "${SVC:-}" ] && kill "$SVC" 2> /dev/null
  HOST= SVC=
  wait 2> /dev/null || true
  rm -rf "${R:?}/f1"
}

@test "oci: exec (host-only: the service natively behind a stand-in monitor): stdio, statuses, env, --process, --detach, signals" {
  : "${EXECD:?set EXECD to the built alcove-execd}"
  fake_exec_container f1 sleep 300
  "${OCI[@]}" state f1 | grep -q '"running"'
  run --separate-stderr "${OCI[@]}" exec f1 sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ] && [ "$output" = out ] && [ "$stderr" = err ] ||
    { echo "$status: $output / $stderr"; cat "$T/log.json"; fake_exec_teardown; return 1; }
  [ "$(echo piped | "${OCI[@]}" exec f1 cat)" = piped ]
  run "${OCI[@]}" exec -e GREETING=hi --cwd /tmp f1 sh -c 'echo "$GREETING $MODE $(pwd)"'
  [ "$output" = "hi container /tmp" ]
  # refusals: in the service (not an entry point: 126; a name exec-env does not list: 125), and
  # a program the container's PATH does not have (127)
  run "${OCI[@]}" exec f1 /usr/sbin/nologin
  [ "$status" -eq 126 ]
  assert_log_error "[ E86 ]"
  run "${OCI[@]}" exec -e EVIL=1 f1 true
  [ "$status" -eq 125 ]
  assert_log_error "[ E87 ]"
  run -127 "${OCI[@]}" exec f1 no-such-program-here
  [ "$status" -eq 127 ]
  # --process wins over ARGS; its env's names that exec-env does not list are left out
  printf '{"args": ["sh", "-c", "echo \\"$GREETING-$HOSTNAME\\"; exit 6"], "env": ["PATH=/usr/bin:/bin", "HOSTNAME=engine", "GREETING=yo"], "cwd": "/"}' > "$T/proc.json"
  run "${OCI[@]}" exec --process "$T/proc.json" f1 ignored
  [ "$status" -eq 6 ] && [ "$output" = "yo-" ] || { echo "$status: $output"; fake_exec_teardown; return 1; }
  # --detach: 0 once the program runs, the relay's pid in --pid-file, reaped by a subreaper (as
  # conmon is) for the program's status; its output still comes
  python3 - "$T/xpid" "${OCI[@]}" exec --detach --pid-file "$T/xpid" f1 \
    sh -c 'sleep 1; echo detached-out; exit 4' > "$T/dout" << 'PY'
import ctypes, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
assert subprocess.run(sys.argv[2:]).returncode == 0
pid = int(open(sys.argv[1]).read())
print("status", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
  grep -q detached-out "$T/dout" && grep -q "status 4" "$T/dout" || { cat "$T/dout"; fake_exec_teardown; return 1; }
  run "${OCI[@]}" exec -d --pid-file "$T/ypid" f1 /usr/sbin/nologin
  [ "$status" -eq 126 ] && [ ! -e "$T/ypid" ]
  # a TERM to exec is passed on: the program dies of it (143)
  "${OCI[@]}" exec f1 sleep 60 > /dev/null 2>&1 &
  local ex=$!
  sleep 1
  kill -TERM "$ex"
  local st=0
  wait "$ex" || st=$?
  [ "$st" -eq 143 ]
  # the main program ends: a running exec ends with the service (125, [ E84 ])
  "${OCI[@]}" exec f1 sleep 60 > /dev/null 2>&1 &
  ex=$!
  sleep 1
  kill -TERM "$SVC" # TERM goes on to the main program: the service ends with 143
  st=0
  wait "$SVC" || st=$?
  SVC=
  [ "$st" -eq 143 ]
  st=0
  wait "$ex" || st=$?
  [ "$st" -eq 125 ]
  fake_exec_teardown
  [ -z "$(pgrep -f "^$ALCOVE_OCI " || true)" ]
}

@test "oci: exec --detach (host-only, the stand-in): KILL of the pid in --pid-file ends the program, as runc's exec pid is the program" {
  # containerd's shim (ctr tasks kill --exec-id) and podman's exec cleanup signal that pid; a
  # program that ignores HUP (a daemon, nohup, a server that reloads on HUP) must not outlive it
  : "${EXECD:?set EXECD to the built alcove-execd}"
  fake_exec_container f1 sleep 300
  python3 - "$T/xpid" "${OCI[@]}" exec --detach --pid-file "$T/xpid" f1 \
    sh -c 'trap "" HUP; echo $$ > '"$T"'/prog.pid; exec sleep 300' > "$T/dout" 2>&1 << 'PY2' || { cat "$T/dout"; fake_exec_teardown; return 1; }
import ctypes, os, signal, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER, as conmon and the shim
assert subprocess.run(sys.argv[2:]).returncode == 0
pid = int(open(sys.argv[1]).read())
time.sleep(1)
os.kill(pid, signal.SIGKILL)
print("status", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY2
  grep -q "status -9" "$T/dout" || { cat "$T/dout"; fake_exec_teardown; return 1; }
  local prog
  prog=$(cat "$T/prog.pid")
  for _ in $(seq 50); do kill -0 "$prog" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$prog" 2> /dev/null; then
    echo "the exec'd program $prog still runs after its exec pid was killed"
    fake_exec_teardown
    return 1
  fi
  fake_exec_teardown
}

@test "oci: exec: a program not in the container's PATH is reported in words podman maps to 127" {
  # podman (libpod getOCIRuntimeError) turns a runtime's message into exec's status by its words:
  # "executable file not found in" or "no such file or directory" give 127, else 125
  : "${EXECD:?set EXECD to the built alcove-execd}"
  fake_exec_container f1 sleep 300
  run -127 "${OCI[@]}" exec f1 no-such-program-here
  [ "$status" -eq 127 ]
  grep -Eiq 'executable file not found in|no such file or directory' "$T/log.json" ||
    { cat "$T/log.json"; fake_exec_teardown; return 1; }
  fake_exec_teardown
}

@test "oci: exec: a PATH entry with a trailing slash names a clean path (not refused as outside the entry points)" {
  : "${EXECD:?set EXECD to the built alcove-execd}"
  fake_exec_container f1 sleep 300
  printf '{"args": ["sh", "-c", "exit 6"], "env": ["PATH=/usr/bin/:/bin/"], "cwd": "/"}' > "$T/proc.json"
  run "${OCI[@]}" exec --process "$T/proc.json" f1
  [ "$status" -eq 6 ] || { echo "$status: $output"; cat "$T/log.json"; fake_exec_teardown; return 1; }
  fake_exec_teardown
}

@test "oci: alcove.exec with more process.env entries than the service's rules hold is refused before anything runs" {
  # the service reads at most EXEC_RULES_MAX (1024) default lines; more makes it refuse its
  # rules in the enclave and end the container with 125 at once
  EDIT='c["annotations"]["alcove.exec"] = "/bin"; c["process"]["env"] = ["V%d=x" % i for i in range(1025)]' \
    mkbundle "$T/b" true
  run "${OCI[@]}" pcrs --bundle "$T/b"
  [ "$status" -ne 0 ] || { echo "pcrs (and so create) accepted 1025 process.env entries"; return 1; }
}

@test "oci: exec --tty (host-only, the stand-in): the pty's master goes over --console-socket, the output comes through it" {
  need_devpts
  : "${EXECD:?set EXECD to the built alcove-execd}"
  fake_exec_container f1 sleep 300
  # the engine's end: takes the master, sizes nothing, copies what comes out of it to a file
  python3 - "$T/console.sock" "$T/tty.out" <<'PY' &
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
fds = array.array("i")
msg, anc, _, _ = c.recvmsg(256, socket.CMSG_LEN(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:fds.itemsize])
out = b""
while True:
    try:
        d = os.read(fds[0], 4096)
    except OSError:
        break  # EIO: the slave's last holder closed it
    if not d:
        break
    out += d
    if b"tty-out" in out:
        break
open(sys.argv[2], "wb").write(out)
PY
  local holder=$!
  for _ in $(seq 1 50); do [ -S "$T/console.sock" ] && break; sleep 0.1; done
  run "${OCI[@]}" exec --tty --console-socket "$T/console.sock" f1 sh -c 'echo tty-out; exit 2'
  [ "$status" -eq 2 ] || { echo "$status: $output"; cat "$T/log.json"; fake_exec_teardown; return 1; }
  wait "$holder"
  grep -q $'tty-out\r' "$T/tty.out" || { od -c "$T/tty.out"; fake_exec_teardown; return 1; }
  # --tty without a console socket is refused before anything runs
  run "${OCI[@]}" exec --tty f1 true
  [ "$status" -ne 0 ]
  assert_log_error "needs --console-socket"
  fake_exec_teardown
}

@test "oci: exec --tty (host-only, the stand-in): the program's own pty inside: isatty, size from consoleSize, echo, ^C, the engine's resize as SIGWINCH" {
  # console_tty_drive.py plays the engine: it takes the master from --console-socket, types a
  # line with an erase and a ^C into it and resizes it (TIOCSWINSZ, as conmon and containerd's
  # shim do); the program's transcript must be the one it gives on Linux's pty natively
  need_devpts
  : "${EXECD:?set EXECD to the built alcove-execd}"
  fake_exec_container f1 sleep 300
  local drive=$BATS_TEST_DIRNAME/console_tty_drive.py
  timeout -k 5 60 python3 "$drive" "$T/native.txt" -- "$(prog console_tty-musl-exec)" > "$T/native.res"
  printf '{"args": ["%s"], "env": ["PATH=/usr/bin:/bin"], "cwd": "/", "terminal": true, "consoleSize": {"height": 24, "width": 80}}' \
    "$(prog console_tty-musl-exec)" > "$T/proc.json"
  run timeout -k 5 120 python3 "$drive" "$T/exec.txt" --console-socket "$T/console.sock" -- \
    "${OCI[@]}" exec --tty --console-socket "$T/console.sock" --process "$T/proc.json" f1
  echo "$output"
  cat "$T/exec.txt"
  [ "$status" -eq 0 ] && [ "${lines[0]}" = "status 0" ] || { cat "$T/log.json"; fake_exec_teardown; return 1; }
  diff "$T/native.txt" "$T/exec.txt" || { fake_exec_teardown; return 1; }
  grep -qF 'SIGWINCH 1\r\nnew size: 40x100\r\n' "$T/exec.txt"
  # --detach --tty: the relay process follows the resizes too, and its status is the program's
  rm -f "$T/console.sock"
  run timeout -k 5 120 python3 "$drive" "$T/det.txt" --console-socket "$T/console.sock" -- \
    python3 -c '
import ctypes, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER, as conmon
assert subprocess.run(sys.argv[2:]).returncode == 0
sys.exit(os.waitstatus_to_exitcode(os.waitpid(int(open(sys.argv[1]).read()), 0)[1]))
' "$T/xpid" "${OCI[@]}" exec --detach --pid-file "$T/xpid" --tty --console-socket "$T/console.sock" --process "$T/proc.json" f1
  echo "$output"
  [ "$status" -eq 0 ] && [ "${lines[0]}" = "status 0" ] || { cat "$T/det.txt" "$T/log.json"; fake_exec_teardown; return 1; }
  diff "$T/native.txt" "$T/det.txt" || { fake_exec_teardown; return 1; }
  # started in a session that has a terminal of its own (script's), the relay cannot take the
  # pty as its controlling terminal: no SIGWINCH comes, the size is looked at instead
  if command -v script > /dev/null; then
    rm -f "$T/console.sock"
    run timeout -k 5 120 python3 "$drive" "$T/ctty.txt" --console-socket "$T/console.sock" -- \
      script -qec "${OCI[*]} exec --tty --console-socket $T/console.sock --process $T/proc.json f1" /dev/null
    echo "$output"
    [ "$status" -eq 0 ] && [ "${lines[0]}" = "status 0" ] || { cat "$T/ctty.txt" "$T/log.json"; fake_exec_teardown; return 1; }
    diff "$T/native.txt" "$T/ctty.txt" || { fake_exec_teardown; return 1; }
  fi
  fake_exec_teardown
}

@test "oci: must-fail: bad alcove.exec and alcove.exec-env values are refused at create" {
  EDIT='c["annotations"]["alcove.exec"] = ""' mkbundle "$T/b" true
  must_fail_create "annotation alcove.exec: expected absolute paths"
  EDIT='c["annotations"]["alcove.exec"] = "/bin,bin/sh"' mkbundle "$T/b" true
  must_fail_create "'bin/sh': expected absolute paths"
  EDIT='c["annotations"]["alcove.exec"] = "/bin/../etc"' mkbundle "$T/b" true
  must_fail_create "'/bin/../etc': expected absolute paths"
  EDIT='c["annotations"]["alcove.exec"] = "/bin,,/sbin"' mkbundle "$T/b" true
  must_fail_create "'': expected absolute paths"
  EDIT='c["annotations"]["alcove.exec"] = "/bin"; c["annotations"]["alcove.exec-env"] = "GOOD,BAD-NAME"' \
    mkbundle "$T/b" true
  must_fail_create "'BAD-NAME': expected variable names"
  EDIT='c["annotations"]["alcove.exec-env"] = "FOO"' mkbundle "$T/b" true
  must_fail_create "alcove.exec (the entry points exec may run) is not given"
  # process.env becomes the rules' defaults: each must be one NAME=VALUE line
  EDIT='c["annotations"]["alcove.exec"] = "/bin"; c["process"]["env"].append("X=a\nentry /")' \
    mkbundle "$T/b" true
  must_fail_create "must be NAME=VALUE on one line"
  # blanks around the items are dropped: accepted
  EDIT='c["annotations"]["alcove.exec"] = " /bin , /usr/bin"; c["annotations"]["alcove.exec-env"] = "A, B"' \
    mkbundle "$T/b" true
  "${OCI[@]}" create --bundle "$T/b" c1 > "$T/out" 2>&1
  "${OCI[@]}" delete c1
  assert_nothing_left c1
}

@test "oci: process's args and env are read alike by create and exec --process: arrays of strings, null as none" {
  # create (pcrs reads the bundle as create does)
  EDIT='c["process"]["env"] = None' mkbundle "$T/b" true
  run "${OCI[@]}" pcrs --bundle "$T/b"
  [ "$status" -eq 0 ] || { echo "process.env null refused: $output"; return 1; }
  EDIT='c["process"]["env"] = "PATH=/bin"' mkbundle "$T/b" true
  must_fail_create "process.env: expected an array of strings"
  EDIT='c["process"]["args"] = {"a": "true"}' mkbundle "$T/b" true
  must_fail_create "process.args: expected a non-empty array of strings"
  # exec --process: refused before the container is looked up, or, when well formed, not
  local j
  for j in '{"args": {"a": "sh"}}' '{"args": ["sh", 1]}' '{"args": []}' '{"args": ["sh"], "env": "X=1"}'; do
    echo "$j" > "$T/proc.json"
    run "${OCI[@]}" exec --process "$T/proc.json" nosuch
    [ "$status" -ne 0 ] || { echo "exec accepted $j"; return 1; }
    assert_log_error "expected args (a non-empty array of strings) and env (strings)"
  done
  echo '{"args": ["sh"], "env": null, "consoleSize": {"height": 0}}' > "$T/proc.json"
  run "${OCI[@]}" exec --process "$T/proc.json" nosuch
  [ "$status" -ne 0 ]
  assert_log_error "container nosuch does not exist"
}

pcr_of() { python3 -c "import json, sys; print(json.load(sys.stdin)['Measurements']['PCR$1'])"; }

@test "oci: pcrs: the same bundle measures the same; another root file system changes PCR0 and PCR2, not PCR1" {
  mkbundle "$T/b" sh -c 'echo one'
  "$ALCOVE_OCI" pcrs --bundle "$T/b" > "$T/p1" 2> /dev/null
  "$ALCOVE_OCI" pcrs --bundle "$T/b" > "$T/p2" 2> /dev/null
  cmp "$T/p1" "$T/p2"
  [[ "$(pcr_of 2 < "$T/p1")" =~ ^[0-9a-f]{96}$ ]]
  echo extra > "$T/b/rootfs/extra"
  "$ALCOVE_OCI" pcrs --bundle "$T/b" > "$T/p3" 2> /dev/null
  [ "$(pcr_of 1 < "$T/p1")" = "$(pcr_of 1 < "$T/p3")" ] # the kernel's and its command line's
  [ "$(pcr_of 2 < "$T/p1")" != "$(pcr_of 2 < "$T/p3")" ]
  [ "$(pcr_of 0 < "$T/p1")" != "$(pcr_of 0 < "$T/p3")" ]
  # debug mode: the image's PCRs read as zeros, as the enclave will report them
  EDIT='c["annotations"]["alcove.debug-mode"] = "true"' mkbundle "$T/b" sh
  [ "$("$ALCOVE_OCI" pcrs --bundle "$T/b" 2> /dev/null | pcr_of 0)" = "$(printf '0%.0s' $(seq 96))" ]
  # alcove.exec: the image holds the exec service and its rules, and the enclave's command line
  # is the service's: PCR0 and PCR2 change (PCR1 is alcove's kernel), and with the entry points
  # and names too
  mkbundle "$T/b" sh -c 'echo one'
  "$ALCOVE_OCI" pcrs --bundle "$T/b" > "$T/p4" 2> /dev/null
  EDIT='c["annotations"]["alcove.exec"] = "/bin"' mkbundle "$T/b" sh -c 'echo one'
  "$ALCOVE_OCI" pcrs --bundle "$T/b" > "$T/e1" 2> /dev/null
  EDIT='c["annotations"]["alcove.exec"] = "/bin/sh"' mkbundle "$T/b" sh -c 'echo one'
  "$ALCOVE_OCI" pcrs --bundle "$T/b" > "$T/e2" 2> /dev/null
  EDIT='c["annotations"]["alcove.exec"] = "/bin/sh"; c["annotations"]["alcove.exec-env"] = "FOO"' \
    mkbundle "$T/b" sh -c 'echo one'
  "$ALCOVE_OCI" pcrs --bundle "$T/b" > "$T/e3" 2> /dev/null
  [ "$(pcr_of 0 < "$T/p4")" != "$(pcr_of 0 < "$T/e1")" ]
  [ "$(pcr_of 1 < "$T/p4")" = "$(pcr_of 1 < "$T/e1")" ]
  [ "$(pcr_of 2 < "$T/p4")" != "$(pcr_of 2 < "$T/e1")" ]
  [ "$(pcr_of 2 < "$T/e1")" != "$(pcr_of 2 < "$T/e2")" ]
  [ "$(pcr_of 2 < "$T/e2")" != "$(pcr_of 2 < "$T/e3")" ]
  # a bundle that would be refused is refused here too
  EDIT='c["root"]["path"] = "nowhere"' mkbundle "$T/b" sh
  run "$ALCOVE_OCI" pcrs --bundle "$T/b"
  [ "$status" -ne 0 ]
}

# ---- enclaves ----

@test "oci: run: the workload's stdout, stderr and exit status are the runtime's" {
  require_kvm
  mkbundle "$T/b" sh -c 'echo out; echo err >&2; exit 3'
  timeout 300 "${OCI[@]}" run --bundle "$T/b" r1 > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 3 ] || { cat "$T/out" "$T/err" "$T/log.json"; return 1; }
  [ "$(cat "$T/out")" = out ]
  [ "$(cat "$T/err")" = err ]
  assert_nothing_left r1
}

@test "oci: create, start, state, kill, delete: the lifecycle of an enclave container" {
  require_kvm
  EDIT='c["linux"]["resources"]["memory"]["limit"] = 96 << 20' mkbundle "$T/b" sh -c 'echo started; sleep 300'
  "${OCI[@]}" create --bundle "$T/b" --pid-file "$T/pid" c1 > "$T/out" 2> "$T/err"
  [ "$(cat "$T/out")" = "" ] # held before the application runs
  "${OCI[@]}" start c1
  local i
  for i in $(seq 1 300); do grep -q started "$T/out" && break; sleep 1; done
  grep -q started "$T/out" || { cat "$T/err" "$T/log.json"; return 1; }
  run "${OCI[@]}" state c1
  echo "$output" | python3 -c "import json, sys; s = json.load(sys.stdin); assert s['status'] == 'running', s"
  # the enclave is in the runtime directory, 96 MiB as linux.resources asked
  grep -q '"MemoryMiB":[[:space:]]*96' "$ALCOVE_RUNTIME_DIR"/*.json
  run "${OCI[@]}" delete c1
  [ "$status" -ne 0 ] # running: delete needs --force
  "${OCI[@]}" kill c1 KILL
  for i in $(seq 1 60); do
    "${OCI[@]}" state c1 | grep -q '"stopped"' && break
    sleep 1
  done
  "${OCI[@]}" state c1 | grep -q '"stopped"'
  "${OCI[@]}" delete c1
  assert_nothing_left c1
}

@test "oci: an attestation document from a container's enclave verifies against alcove-oci pcrs" {
  require_kvm
  export ALCOVE_CA_DIR=$T/ca
  "$ALCOVE" ca init > /dev/null
  mkdir -p "$T/b/rootfs"
  cp "$(prog nsm_lib-musl-exec)" "$T/b/rootfs/nsm_lib"
  local nonce=00112233445566778899
  mkbundle "$T/b" /nsm_lib --attest "$nonce"
  "$ALCOVE_OCI" pcrs --bundle "$T/b" > "$T/pcrs.json" 2> /dev/null
  # bounded: a hang shows as a failure with the monitor's stderr and log
  timeout 300 "${OCI[@]}" run --bundle "$T/b" a1 > "$T/doc.hex" 2> "$T/err" ||
    { echo "run: status $?"; cat "$T/err" "$T/log.json"; ls -la "$T/doc.hex"; return 1; }
  xxd -r -p "$T/doc.hex" > "$T/doc"
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ALCOVE_CA_DIR/ca.pem" \
    --pcr 0="$(pcr_of 0 < "$T/pcrs.json")" --pcr 1="$(pcr_of 1 < "$T/pcrs.json")" \
    --pcr 2="$(pcr_of 2 < "$T/pcrs.json")" --nonce "$nonce" --max-age 60
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *'"Valid": true'* ]]
  assert_nothing_left a1
}

# exec_bundle DIR MAIN...: a bundle with the exec service (alcove.exec: /bin, alcove.exec-env:
# GREETING), process.env PATH and MODE, and a program outside the entry points
# (/usr/sbin/tool); MAIN is process.args
exec_bundle() {
  local dir=$1; shift
  EDIT='c["annotations"]["alcove.exec"] = "/bin"; c["annotations"]["alcove.exec-env"] = "GREETING"; c["process"]["env"] = ["PATH=/bin", "MODE=container"]; c["linux"]["resources"]["memory"]["limit"] = 96 << 20' \
    mkbundle "$dir" "$@"
  mkdir -p "$dir/rootfs/usr/sbin"
  ln -sf ../../bin/busybox "$dir/rootfs/usr/sbin/tool"
  for a in kill env; do ln -sf busybox "$dir/rootfs/bin/$a"; done
}

# wait_for FILE TEXT: FILE says TEXT within 300 s (an enclave boots slowly under TCG)
wait_for() {
  local i
  for i in $(seq 1 300); do grep -q "$2" "$1" 2> /dev/null && return 0; sleep 1; done
  echo "no '$2' in $1: $(cat "$1")"; cat "$T/log.json"; return 1
}

@test "oci: exec in a running container (alcove.exec): stdout, stderr, status, stdin, env, refusals, --detach, the container's status" {
  require_kvm
  exec_bundle "$T/b" sh -c 'echo $$ > /tmp/main.pid; trap "exit 5" USR1; echo main-up; while :; do sleep 1; done'
  timeout 600 "${OCI[@]}" run --bundle "$T/b" x1 > "$T/out" 2> "$T/err" &
  local runner=$!
  wait_for "$T/out" main-up
  # a command: its stdout and stderr apart, its status; a program named without a path
  run --separate-stderr timeout 300 "${OCI[@]}" exec x1 sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ] && [ "$output" = out ] && [ "$stderr" = err ] ||
    { echo "status $status: $output / $stderr"; cat "$T/log.json"; return 1; }
  # stdin goes through; the environment: the container's process.env, and an exec-env name
  [ "$(echo piped | timeout 300 "${OCI[@]}" exec x1 /bin/cat)" = piped ]
  run timeout 300 "${OCI[@]}" exec --env GREETING=hi x1 /bin/sh -c 'echo "$GREETING $MODE"'
  [ "$output" = "hi container" ]
  # refused in the enclave: not an entry point (126), a variable exec-env does not name (125)
  run timeout 300 "${OCI[@]}" exec x1 /usr/sbin/tool true
  [ "$status" -eq 126 ]
  assert_log_error "not one of the image's entry points"
  run timeout 300 "${OCI[@]}" exec --env EVIL=1 x1 /bin/true
  [ "$status" -eq 125 ]
  assert_log_error "[ E87 ]"
  # --process (runtime-spec's Process, as conmon and containerd's shim write it) wins over ARGS
  printf '{"args": ["sh", "-c", "echo from-process; exit 6"], "env": ["PATH=/bin", "HOSTNAME=x"], "cwd": "/"}' > "$T/proc.json"
  run timeout 300 "${OCI[@]}" exec --process "$T/proc.json" x1 ignored
  [ "$status" -eq 6 ] && [ "$output" = from-process ]
  # --detach: returns once the program runs, its relay's pid in --pid-file; a subreaper (as
  # conmon is) reaps that relay for the program's status
  python3 - "$T/xpid" timeout 300 "${OCI[@]}" exec --detach --pid-file "$T/xpid" x1 \
    /bin/sh -c 'sleep 2; echo detached-out; exit 4' > "$T/dout" << 'PY'
import ctypes, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
assert subprocess.run(sys.argv[2:]).returncode == 0
pid = int(open(sys.argv[1]).read())
print("status", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
  grep -q detached-out "$T/dout" && grep -q "status 4" "$T/dout" || { cat "$T/dout" "$T/log.json"; return 1; }
  # a detached exec the service refuses fails at once, with no pid file
  run timeout 300 "${OCI[@]}" exec -d --pid-file "$T/ypid" x1 /usr/sbin/tool
  [ "$status" -eq 126 ] && [ ! -e "$T/ypid" ]
  # the main program ends (an exec signals it) while an exec runs: that exec ends with the
  # enclave, and the container's status is the main program's
  timeout 300 "${OCI[@]}" exec x1 /bin/sleep 600 > /dev/null 2>&1 &
  local long=$!
  timeout 300 "${OCI[@]}" exec x1 /bin/sh -c 'kill -USR1 $(cat /tmp/main.pid)'
  local st=0
  wait "$runner" || st=$?
  [ "$st" -eq 5 ] || { echo "run: $st"; cat "$T/err" "$T/log.json"; return 1; }
  st=0
  wait "$long" || st=$?
  [ "$st" -eq 125 ] # the connection ended without a status ([ E84 ])
  assert_nothing_left x1
}

@test "oci: exec: kill of the container while an exec runs ends both (run -d)" {
  require_kvm
  exec_bundle "$T/b" sh -c 'echo main-up; sleep 600'
  timeout 300 "${OCI[@]}" run -d --bundle "$T/b" --pid-file "$T/pid" x2 > "$T/out" 2> "$T/err"
  wait_for "$T/out" main-up
  timeout 300 "${OCI[@]}" exec x2 /bin/sh -c 'echo exec-up; sleep 600' > "$T/xout" 2>&1 &
  local long=$!
  wait_for "$T/xout" exec-up
  "${OCI[@]}" kill x2 KILL
  local st=0
  wait "$long" || st=$?
  [ "$st" -eq 125 ]
  for i in $(seq 1 60); do "${OCI[@]}" state x2 | grep -q '"stopped"' && break; sleep 1; done
  "${OCI[@]}" state x2 | grep -q '"stopped"'
  run "${OCI[@]}" exec x2 /bin/true
  [ "$status" -ne 0 ]
  assert_log_error "cannot exec in a stopped container"
  "${OCI[@]}" delete x2
  assert_nothing_left x2
}

# podman_setup: $POD (podman with these machines' configuration: cgroupfs, a file events log,
# vfs storage under the test's directory) and the image localhost/alcove-bb:test, a static
# busybox tree made with `podman import`.
podman_setup() {
  require_kvm
  command -v podman > /dev/null || skip "podman is not installed (scripts/setup.sh installs it)"
  [ -x "$BB" ] || skip "no $BB"
  local P=$T/podman
  mkdir -p "$P"
  printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$P/containers.conf"
  export CONTAINERS_CONF=$P/containers.conf
  mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup 2> /dev/null || true
  POD=(podman --root "$P/graph" --runroot "$P/run" --storage-driver vfs)
  mkbundle "$T/b" true
  tar -C "$T/b/rootfs" -c . | timeout 300 "${POD[@]}" import - localhost/alcove-bb:test > /dev/null
  PRUN=(timeout 300 "${POD[@]}" --runtime "$ALCOVE_OCI" run --network none --ulimit nofile=20000:20000)
}

@test "oci: podman runs an image with alcove-oci: stdout, exit statuses, --rm" {
  podman_setup
  "${PRUN[@]}" --rm localhost/alcove-bb:test echo hello from an enclave > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 0 ] || { cat "$T/out" "$T/err"; return 1; }
  [ "$(cat "$T/out")" = "hello from an enclave" ]
  [ ! -s "$T/err" ] || { echo "stderr:"; cat "$T/err"; return 1; }
  "${PRUN[@]}" --rm localhost/alcove-bb:test sh -c 'echo to stderr >&2; exit 7' > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 7 ] || { cat "$T/out" "$T/err"; return 1; }
  [ "$(cat "$T/err")" = "to stderr" ]
  # --rm: podman deleted the containers through alcove-oci
  [ -z "$("${POD[@]}" ps -aq)" ]
  [ -z "$(ls -A /run/alcove-oci 2> /dev/null)" ]
  assert_nothing_left none
}

@test "oci: podman run -d, logs, inspect, pause, unpause, stop (SIGTERM ends the enclave: 143), rm" {
  podman_setup
  "${PRUN[@]}" -d --name alcove-d1 localhost/alcove-bb:test sh -c 'echo detached; sleep 300' > "$T/id" 2> "$T/err" ||
    { cat "$T/err"; return 1; }
  local i
  for i in $(seq 1 120); do "${POD[@]}" logs alcove-d1 2> /dev/null | grep -q detached && break; sleep 1; done
  [ "$("${POD[@]}" logs alcove-d1)" = detached ]
  [ "$("${POD[@]}" inspect alcove-d1 --format '{{.State.Status}}')" = running ]
  # pause and unpause go through alcove-oci pause/resume
  timeout 60 "${POD[@]}" --runtime "$ALCOVE_OCI" pause alcove-d1 > /dev/null
  [ "$("${POD[@]}" inspect alcove-d1 --format '{{.State.Status}}')" = paused ]
  [ "$(awk '{print $3}' "/proc/$("${POD[@]}" inspect alcove-d1 --format '{{.State.Pid}}')/stat")" = T ]
  timeout 60 "${POD[@]}" --runtime "$ALCOVE_OCI" unpause alcove-d1 > /dev/null
  [ "$("${POD[@]}" inspect alcove-d1 --format '{{.State.Status}}')" = running ]
  timeout 300 "${POD[@]}" --runtime "$ALCOVE_OCI" stop -t 10 alcove-d1 > /dev/null
  [ "$("${POD[@]}" inspect alcove-d1 --format '{{.State.ExitCode}} {{.State.Status}}')" = "143 exited" ]
  "${POD[@]}" --runtime "$ALCOVE_OCI" rm alcove-d1 > /dev/null
  [ -z "$("${POD[@]}" ps -aq)" ]
  assert_nothing_left none
}

@test "oci: podman run -t: the workload's console is podman's terminal, and a terminal inside" {
  podman_setup
  need_devpts
  "${PRUN[@]}" --rm -t localhost/alcove-bb:test sh -c 'echo tty-hello; [ -t 0 ] && [ -t 1 ] && echo inside-a-tty' \
    > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 0 ] || { cat "$T/out" "$T/err"; return 1; }
  # the enclave's terminal's \r\n, once (the host-side pty is raw)
  [ "$(cat "$T/out")" = $'tty-hello\r\ninside-a-tty\r' ] || { od -c "$T/out"; return 1; }
}

# resize_drive OUT -- CMD...: runs CMD (podman -it) on a new pty sized 24x80 as its controlling
# terminal, waits for "ready", resizes the pty to 40x100 (podman passes that on to conmon, which
# resizes the container's pty master), and waits for CMD's end; writes what the pty showed to
# OUT and prints CMD's status
resize_drive() {
  python3 - "$@" <<'PY'
import fcntl, os, pty, select, struct, subprocess, sys, termios, time
out, cmd = sys.argv[1], sys.argv[sys.argv.index("--") + 1:]
m, s = pty.openpty()
fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
p = subprocess.Popen(cmd, stdin=s, stdout=s, stderr=s, start_new_session=True,
                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
seen = b""
def wait_for(text, secs=240):
    global seen
    end = time.time() + secs
    while text not in seen and time.time() < end:
        if select.select([m], [], [], 1)[0]:
            try:
                seen += os.read(m, 4096)
            except OSError:
                break
        elif p.poll() is not None and text != b"never":
            break
    return text in seen
if wait_for(b"ready"):
    time.sleep(1)
    fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    wait_for(b"new-size")
try:
    status = p.wait(timeout=120)
except subprocess.TimeoutExpired:
    p.kill()
    status = p.wait()
wait_for(b"never", 1)
open(out, "w").write(repr(seen)[2:-1] + "\n")
print("status %d" % status)
PY
}

# a shell on a terminal: its size, then on SIGWINCH the new one, and status 5
SIZE_SH='busybox stty size; trap "echo new-size; busybox stty size; exit 5" WINCH; echo ready; while :; do sleep 1; done'

@test "oci: podman run -it: the size of podman's terminal inside, and its resize end to end (SIGWINCH, stty size)" {
  podman_setup
  need_devpts
  run resize_drive "$T/run.txt" -- "${PRUN[@]}" --rm -it localhost/alcove-bb:test sh -c "$SIZE_SH"
  echo "$output"
  cat "$T/run.txt"
  [ "$output" = "status 5" ]
  grep -qF '24 80\r\n' "$T/run.txt"
  grep -qF 'new-size\r\n40 100\r\n' "$T/run.txt"
  [ -z "$("${POD[@]}" ps -aq)" ]
}

@test "oci: podman exec -it: a terminal inside for the exec'd program, podman's size and its resize" {
  podman_setup
  need_devpts
  "${PRUN[@]}" -d --name alcove-t1 --annotation alcove.exec=/bin localhost/alcove-bb:test \
    sh -c 'echo up; sleep 600' > "$T/id" 2> "$T/err" || { cat "$T/err"; return 1; }
  local i
  for i in $(seq 1 120); do "${POD[@]}" logs alcove-t1 2> /dev/null | grep -q up && break; sleep 1; done
  run resize_drive "$T/exec.txt" -- timeout 300 "${POD[@]}" --runtime "$ALCOVE_OCI" exec -it alcove-t1 sh -c \
    "[ -t 0 ] && [ -t 1 ] && echo a-tty-inside; $SIZE_SH"
  echo "$output"
  cat "$T/exec.txt"
  timeout 300 "${POD[@]}" --runtime "$ALCOVE_OCI" stop -t 10 alcove-t1 > /dev/null
  "${POD[@]}" --runtime "$ALCOVE_OCI" rm alcove-t1 > /dev/null
  [ "$output" = "status 5" ]
  grep -qF 'a-tty-inside\r\n' "$T/exec.txt"
  grep -qF '24 80\r\n' "$T/exec.txt"
  grep -qF 'new-size\r\n40 100\r\n' "$T/exec.txt"
}

@test "oci: podman exec in a container that has alcove.exec: stdout, exit status, refusal" {
  podman_setup
  "${PRUN[@]}" -d --name alcove-e1 --annotation alcove.exec=/bin localhost/alcove-bb:test \
    sh -c 'echo up; sleep 600' > "$T/id" 2> "$T/err" || { cat "$T/err"; return 1; }
  local i
  for i in $(seq 1 120); do "${POD[@]}" logs alcove-e1 2> /dev/null | grep -q up && break; sleep 1; done
  run timeout 300 "${POD[@]}" --runtime "$ALCOVE_OCI" exec alcove-e1 echo hello from exec
  [ "$status" -eq 0 ] && [ "$output" = "hello from exec" ] || { echo "$status: $output"; return 1; }
  run timeout 300 "${POD[@]}" --runtime "$ALCOVE_OCI" exec alcove-e1 sh -c 'exit 3'
  [ "$status" -eq 3 ]
  echo piped > "$T/in"
  run timeout 300 "${POD[@]}" --runtime "$ALCOVE_OCI" exec -i alcove-e1 cat < "$T/in"
  [ "$output" = piped ]
  timeout 300 "${POD[@]}" --runtime "$ALCOVE_OCI" stop -t 10 alcove-e1 > /dev/null
  "${POD[@]}" --runtime "$ALCOVE_OCI" rm alcove-e1 > /dev/null
  [ -z "$("${POD[@]}" ps -aq)" ]
  assert_nothing_left none
}

# containerd_setup: a private containerd (its own root, state, sockets and config under the
# test's directory; no CRI) with the image localhost/alcove-bb:test imported from the archive
# `podman save` makes of podman_setup's image; CTR runs ctr against it. teardown_containerd
# stops it and removes what it made.
containerd_setup() {
  podman_setup
  command -v containerd > /dev/null && command -v ctr > /dev/null ||
    skip "containerd is not installed (scripts/setup.sh installs it)"
  local C=$T/ctrd
  containerd_start "$C" || return 1
  CTR=(ctr --address "$C/c.sock" --namespace alcove-test)
  timeout 300 "${POD[@]}" save --format docker-archive -o "$C/image.tar" localhost/alcove-bb:test > /dev/null 2>&1
  timeout 300 "${CTR[@]}" images import --snapshotter native "$C/image.tar" > /dev/null
  CRUN=(timeout 300 "${CTR[@]}" run --snapshotter native --runc-binary "$ALCOVE_OCI"
    --runc-root "$C/runc" --fifo-dir "$C/fifo")
}

teardown_containerd() {
  [ -n "${CONTAINERD_PID:-}" ] || return 0
  "${CTR[@]}" tasks kill -s SIGKILL ctr-d1 > /dev/null 2>&1 || true
  "${CTR[@]}" tasks delete ctr-d1 > /dev/null 2>&1 || true
  local c
  for c in $("${CTR[@]}" containers ls -q 2> /dev/null); do "${CTR[@]}" containers delete "$c" > /dev/null 2>&1; done
  "${CTR[@]}" images rm localhost/alcove-bb:test > /dev/null 2>&1 || true
  containerd_stop
}

@test "oci: containerd: ctr run --rm with alcove-oci as the runc shim's binary: stdout and exit statuses" {
  containerd_setup
  "${CRUN[@]}" --rm localhost/alcove-bb:test ctr-r1 echo hello from containerd > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 0 ] || { cat "$T/out" "$T/err" "$T/ctrd/containerd.log"; teardown_containerd; return 1; }
  [ "$(cat "$T/out")" = "hello from containerd" ] || { cat "$T/out" "$T/err"; teardown_containerd; return 1; }
  "${CRUN[@]}" --rm localhost/alcove-bb:test ctr-r2 sh -c 'exit 7' > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 7 ] || { echo "status $status"; cat "$T/out" "$T/err"; teardown_containerd; return 1; }
  # --rm: the shim deleted both through alcove-oci
  [ -z "$("${CTR[@]}" containers ls -q)" ] && [ -z "$(ls -A "$T/ctrd/runc/alcove-test" 2> /dev/null)" ] ||
    { "${CTR[@]}" containers ls; ls -la "$T/ctrd/runc/alcove-test"; teardown_containerd; return 1; }
  teardown_containerd
  assert_nothing_left none
}

@test "oci: containerd: ctr run -d, task list, kill (SIGKILL: 137), delete" {
  containerd_setup
  "${CRUN[@]}" -d localhost/alcove-bb:test ctr-d1 sh -c 'echo up; sleep 300' > /dev/null 2> "$T/err" ||
    { cat "$T/err"; teardown_containerd; return 1; }
  local i
  for i in $(seq 1 120); do "${CTR[@]}" tasks ls | grep -q "ctr-d1 .*RUNNING" && break; sleep 1; done
  "${CTR[@]}" tasks ls | grep -q "ctr-d1 .*RUNNING" || { "${CTR[@]}" tasks ls; teardown_containerd; return 1; }
  "${CTR[@]}" tasks kill -s SIGKILL ctr-d1
  for i in $(seq 1 120); do "${CTR[@]}" tasks ls | grep -q "ctr-d1 .*STOPPED" && break; sleep 1; done
  "${CTR[@]}" tasks ls | grep -q "ctr-d1 .*STOPPED" || { "${CTR[@]}" tasks ls; teardown_containerd; return 1; }
  # ctr says the status on stderr: "task ctr-d1 exit with non-zero exit code 137"
  local code
  code=$("${CTR[@]}" tasks delete ctr-d1 2>&1 | sed -n 's/.*non-zero exit code \([0-9]*\).*/\1/p')
  "${CTR[@]}" containers delete ctr-d1
  [ -z "$(ls -A "$T/ctrd/runc/alcove-test" 2> /dev/null)" ]
  teardown_containerd
  assert_nothing_left none
  [ "$code" = 137 ] || { echo "exit status '$code'"; return 1; }
}

@test "oci: containerd: ctr tasks exec in a container run with alcove.exec: stdout, exit status" {
  containerd_setup
  "${CRUN[@]}" -d --annotation alcove.exec=/bin localhost/alcove-bb:test ctr-d1 sh -c 'echo up; sleep 300' \
    > /dev/null 2> "$T/err" || { cat "$T/err"; teardown_containerd; return 1; }
  local i
  for i in $(seq 1 120); do "${CTR[@]}" tasks ls | grep -q "ctr-d1 .*RUNNING" && break; sleep 1; done
  run timeout 300 "${CTR[@]}" tasks exec --exec-id e1 ctr-d1 echo hello from ctr exec
  [ "$status" -eq 0 ] && [ "$output" = "hello from ctr exec" ] ||
    { echo "$status: $output"; teardown_containerd; return 1; }
  run timeout 300 "${CTR[@]}" tasks exec --exec-id e2 ctr-d1 sh -c 'exit 3'
  [ "$status" -eq 3 ] || { echo "$status: $output"; teardown_containerd; return 1; }
  "${CTR[@]}" tasks kill -s SIGKILL ctr-d1
  for i in $(seq 1 120); do "${CTR[@]}" tasks ls | grep -q "ctr-d1 .*STOPPED" && break; sleep 1; done
  "${CTR[@]}" tasks delete ctr-d1 > /dev/null 2>&1 || true
  "${CTR[@]}" containers delete ctr-d1
  teardown_containerd
  assert_nothing_left none
}
