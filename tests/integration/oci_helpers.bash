# oci_helpers.bash: shared by oci.bats and oci_state.bats (alcove-oci, docs/oci.md): the state
# root and log of each test, a bundle maker, and the checks that nothing of a container is left.
#
# create leaves its monitor running with create's stdout and stderr: a create whose output bats
# captured would never let `run` return, so every create in these suites writes to files.

: "${ALCOVE_OCI:?set ALCOVE_OCI to the alcove-oci binary}"

BB=/bin/busybox

setup() {
  T=$BATS_TEST_TMPDIR
  R=$T/state                      # --root
  export ALCOVE_RUNTIME_DIR=$T/rt # the enclaves' runtime files, to show none is left
  OCI=("$ALCOVE_OCI" --root "$R" --log "$T/log.json" --log-format json)
}

teardown() {
  # a test that failed half way must not leave a monitor behind (nor oci.bats' stand-ins for
  # one and its exec service)
  [ -n "${HOST:-}" ] && kill "$HOST" 2> /dev/null
  [ -n "${SVC:-}" ] && kill "$SVC" 2> /dev/null
  local d
  for d in "$R"/*/; do
    [ -d "$d" ] && "${OCI[@]}" delete --force "$(basename "$d")" 2> /dev/null
  done
  return 0
}

# mkbundle DIR ARG...: a bundle whose rootfs/ holds busybox (with sh, echo, sleep, cat links)
# and whose process.args are ARG...; EDIT (a Python statement on `c`, the config) changes it.
mkbundle() {
  local dir=$1; shift
  mkdir -p "$dir/rootfs/bin"
  if [ -x "$BB" ]; then
    cp "$BB" "$dir/rootfs/bin/busybox"
    for a in sh echo sleep cat true false; do ln -sf busybox "$dir/rootfs/bin/$a"; done
  fi
  rm -f "$dir/config.json"
  (cd "$dir" && "$ALCOVE_OCI" spec)
  python3 - "$dir/config.json" "${EDIT:-pass}" "$@" <<'PY'
import json, sys
path, edit, args = sys.argv[1], sys.argv[2], sys.argv[3:]
c = json.load(open(path))
c["process"]["args"] = args
exec(edit)
json.dump(c, open(path, "w"), indent=1)
PY
}

# Nothing of container ID is left: no state directory, no process, no runtime file.
assert_nothing_left() {
  [ ! -e "$R/$1" ] || { echo "state of $1 left: $(ls -la "$R/$1")"; return 1; }
  local left
  left=$(pgrep -f "^$ALCOVE_OCI " | while read -r p; do
    [ "$(awk '{print $3}' "/proc/$p/stat" 2> /dev/null)" = Z ] || echo "$p"; done)
  [ -z "$left" ] || { echo "processes left: $left"; ps -fp $left; return 1; }
  if [ -d "$ALCOVE_RUNTIME_DIR" ]; then # allocator.lock is the host's, not an enclave's
    left=$(ls -A "$ALCOVE_RUNTIME_DIR" | grep -vx allocator.lock || true)
    [ -z "$left" ] || { echo "runtime files: $left"; return 1; }
  fi
}

# The last error line of the JSON log names what was wrong.
assert_log_error() {
  python3 - "$T/log.json" "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
errors = [l for l in lines if l["level"] == "error"]
assert errors, "no error line in the log: %r" % lines
assert sys.argv[2] in errors[-1]["msg"], "%r does not say %r" % (errors[-1]["msg"], sys.argv[2])
PY
}

# must_fail_create MSG: create of $T/b as c1 must fail, log MSG in its last error line (and
# on stderr), and leave nothing
must_fail_create() {
  local msg=$1
  "${OCI[@]}" create --bundle "$T/b" --pid-file "$T/pid" c1 > "$T/out" 2>&1 && status=0 || status=$?
  [ "$status" -ne 0 ] || { echo "create succeeded"; cat "$T/out"; return 1; }
  assert_log_error "$msg"
  grep -q "$msg" "$T/out" # errors reach stderr too
  [ ! -e "$T/pid" ]
  assert_nothing_left c1
  run "${OCI[@]}" state c1
  [ "$status" -ne 0 ]
}

# containerd_start DIR: a private containerd (oci.bats' ctr tests, docker.bats' dockerd): its
# root, state, sockets (DIR/c.sock) and config under DIR, the CRI plugin and the snapshotters
# these machines lack disabled; CONTAINERD_PID is its pid once it answers. containerd_stop ends
# it, and the shims it started that are still there (a test that failed half way).
containerd_start() {
  local C=$1
  mkdir -p "$C"
  cat > "$C/config.toml" <<TOML
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$C/c.sock"
[ttrpc]
  address = "$C/c.sock.ttrpc"
[debug]
  address = "$C/debug.sock"
TOML
  containerd --config "$C/config.toml" > "$C/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  CONTAINERD_DIR=$C
  local end=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$end" ]; do
    ctr --address "$C/c.sock" version > /dev/null 2>&1 && break
    kill -0 "$CONTAINERD_PID" 2> /dev/null || break
    sleep 0.2
  done
  ctr --address "$C/c.sock" version > /dev/null || { cat "$C/containerd.log"; return 1; }
}

containerd_stop() {
  [ -n "${CONTAINERD_PID:-}" ] || return 0
  kill "$CONTAINERD_PID" 2> /dev/null
  wait "$CONTAINERD_PID" 2> /dev/null || true
  CONTAINERD_PID=
  # a shim outlives containerd while its container does; the ones of this containerd name its
  # socket (-address DIR/c.sock)
  local p
  for p in $(pgrep -f -- "-address $CONTAINERD_DIR/c.sock( |$)"); do
    echo "# containerd_stop: a shim was left, ending it: $(tr '\0' ' ' < "/proc/$p/cmdline")" >&3
    kill -KILL "$p" 2> /dev/null || true
  done
  # the shims' socket directory is containerd's fixed one (/run/containerd/s): gone when empty
  rmdir /run/containerd/s /run/containerd 2> /dev/null || true
}
