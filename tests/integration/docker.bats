#!/usr/bin/env bats
# docker.bats: Docker runs containers as enclaves through alcove-oci (docs/oci.md, "Docker"),
# with Debian 12's docker.io (dockerd 20.10). Each test starts its own dockerd and containerd,
# everything of theirs under the test's directory (on /tmp: their unix sockets cannot live on
# the 9p file system the KVM VM shares), and stops them in teardown whatever happened; a
# system dockerd or containerd is neither used nor touched. The refusals run everywhere dockerd
# is installed (no enclave starts); the enclave cases skip loudly without /dev/kvm.

load helpers
load oci_helpers

# have_kvm: the test as require_kvm makes it, without skipping
have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && (exec 9<> /dev/kvm) 2> /dev/null; }

# docker_setup [flag]: a private containerd ($T/ctrd) and dockerd ($T/docker) with alcove-oci
# as the runtime "alcove" (in daemon.json's "runtimes", or with `flag` through --add-runtime),
# the image localhost/alcove-bb:test imported from a static busybox tree (`docker import`), DK
# (the docker client against that daemon) and DRUN (docker run --runtime alcove --network none).
docker_setup() {
  command -v dockerd > /dev/null || skip "dockerd is not installed (scripts/setup.sh installs docker.io)"
  command -v containerd > /dev/null && command -v ctr > /dev/null ||
    skip "containerd is not installed (scripts/setup.sh installs it)"
  [ -x "$BB" ] || skip "no $BB"
  # the client of docker.io's own version (a newer one elsewhere in PATH would negotiate down,
  # but this is the pair Debian ships); DOCKER overrides
  local cli=${DOCKER:-}
  [ -n "$cli" ] || { [ -x /usr/bin/docker ] && cli=/usr/bin/docker; } || cli=$(command -v docker) ||
    skip "no docker client (scripts/setup.sh installs docker.io)"
  local D=$T/docker
  mkdir -p "$D"
  # the runc shim reads the container's cgroup (as for podman_setup): the KVM VM mounts none
  mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup 2> /dev/null || true
  # dockerd 20.10 takes a system containerd at /run/containerd/containerd.sock when one runs:
  # this one is the test's own
  containerd_start "$T/ctrd" || return 1
  # dockerd makes /run/docker/plugins (a fixed path); teardown removes what it made
  DOCKER_RUN_MADE=1
  [ ! -e /run/docker ] || DOCKER_RUN_MADE=
  local add=()
  if [ "${1:-}" = flag ]; then
    add=(--add-runtime "alcove=$ALCOVE_OCI")
    python3 -c 'import json, sys; json.dump({"deprecated-key-path": sys.argv[2]}, open(sys.argv[1], "w"))' \
      "$D/daemon.json" "$D/key.json"
  else
    python3 -c 'import json, sys; json.dump({"deprecated-key-path": sys.argv[2], "runtimes": {"alcove": {"path": sys.argv[3]}}}, open(sys.argv[1], "w"), indent=1)' \
      "$D/daemon.json" "$D/key.json" "$ALCOVE_OCI"
  fi
  # no network of dockerd's (no bridge, no iptables rules, no sysctl changed): containers run
  # with --network none; vfs needs no overlay module (the KVM VM loads only its own)
  dockerd --config-file "$D/daemon.json" --data-root "$D/data" --exec-root "$D/exec" \
    --pidfile "$D/dockerd.pid" -H "unix://$D/docker.sock" --containerd "$T/ctrd/c.sock" \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
    --storage-driver vfs "${add[@]}" > "$D/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  export DOCKER_CONFIG=$D/cli # the client's own files, not /root/.docker's
  DK=(timeout 300 "$cli" -H "unix://$D/docker.sock")
  local end=$((SECONDS + 180)) # the KVM VM's software CPU makes dockerd's start slow
  while [ "$SECONDS" -lt "$end" ]; do
    "${DK[@]}" version > /dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2> /dev/null || break
    sleep 0.2
  done
  "${DK[@]}" version > /dev/null 2>&1 || { echo "dockerd did not answer:"; tail -30 "$D/dockerd.log"; return 1; }
  mkbundle "$T/b" true
  tar -C "$T/b/rootfs" -c . | "${DK[@]}" import - localhost/alcove-bb:test > /dev/null ||
    { tail -30 "$D/dockerd.log"; return 1; }
  DRUN=("${DK[@]}" run --runtime alcove --network none)
}

docker_stop() {
  [ -n "${DOCKERD_PID:-}" ] || return 0
  local c i
  for c in $("${DK[@]}" ps -aq 2> /dev/null); do "${DK[@]}" rm -f "$c" > /dev/null 2>&1; done
  kill "$DOCKERD_PID" 2> /dev/null
  for i in $(seq 1 300); do kill -0 "$DOCKERD_PID" 2> /dev/null || break; sleep 0.2; done
  kill -KILL "$DOCKERD_PID" 2> /dev/null && echo "# docker_stop: dockerd did not end on TERM" >&3
  wait "$DOCKERD_PID" 2> /dev/null || true
  DOCKERD_PID=
  # dockerd binds its data root on itself; one that was killed leaves that mount behind
  local m
  for m in $(awk -v d="$T/docker/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" 2> /dev/null || true
  done
  rm -rf --one-file-system "$T/docker"
  [ -z "$DOCKER_RUN_MADE" ] || rmdir /run/docker/plugins /run/docker 2> /dev/null || true
}

teardown() {
  docker_stop
  containerd_stop
}

# Nothing of the test's containers is left: none in docker, no shim of the test's containerd,
# no container in alcove-oci's state (dockerd's runtime root, EXEC-ROOT/runtime-*/moby), no
# alcove-oci process, no enclave runtime file.
assert_docker_nothing_left() {
  [ -z "$("${DK[@]}" ps -aq)" ] || { "${DK[@]}" ps -a; return 1; }
  local i shims
  for i in $(seq 1 50); do
    shims=$(pgrep -f -- "-address $T/ctrd/c.sock( |$)" || true)
    [ -z "$shims" ] && break
    sleep 0.2
  done
  [ -z "$shims" ] || { echo "shims left:"; ps -fp $shims; return 1; }
  local states
  states=$(find "$T/docker/exec" -mindepth 3 -maxdepth 3 -path '*/runtime-*/*/*' 2> /dev/null)
  [ -z "$states" ] || { echo "alcove-oci state left: $states"; return 1; }
  assert_nothing_left none
}

@test "docker: must-fail: a bind mount (-v) and a working directory (-w) alcove-oci refuses: docker says why, nothing is left" {
  docker_setup
  "${DRUN[@]}" --rm -v /etc:/data localhost/alcove-bb:test echo hi > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 125 ] || { echo "status $status"; cat "$T/out" "$T/err"; return 1; }
  grep -q 'mount refused: /data from /etc' "$T/err" || { cat "$T/err"; return 1; }
  [ ! -s "$T/out" ]
  "${DRUN[@]}" --rm -w /srv localhost/alcove-bb:test echo hi > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 125 ] || { echo "status $status"; cat "$T/out" "$T/err"; return 1; }
  grep -q 'process.cwd /srv' "$T/err" || { cat "$T/err"; return 1; }
  assert_docker_nothing_left
}

@test "docker: dockerd --add-runtime names alcove-oci as daemon.json does (must-fail: a tmpfs elsewhere than /tmp)" {
  docker_setup flag
  "${DRUN[@]}" --rm --tmpfs /cache localhost/alcove-bb:test true > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 125 ] || { echo "status $status"; cat "$T/out" "$T/err"; return 1; }
  grep -q 'a tmpfs at /cache' "$T/err" || { cat "$T/err"; return 1; }
  # daemon.json names no runtime here: only --add-runtime told dockerd of alcove-oci
  ! grep -q '"runtimes"' "$T/docker/daemon.json"
  assert_docker_nothing_left
}

@test "docker: without /dev/kvm, docker run fails with alcove's KVM error and leaves nothing" {
  ! have_kvm || skip "this machine has KVM: the enclave cases below run instead"
  docker_setup
  "${DRUN[@]}" --rm localhost/alcove-bb:test echo hello > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -ne 0 ] || { cat "$T/out" "$T/err"; return 1; }
  grep -q '\[ E70 \] KVM unavailable' "$T/err" || { echo "status $status"; cat "$T/err"; return 1; }
  [ ! -s "$T/out" ]
  assert_docker_nothing_left
}

# ---- enclaves ----

@test "docker: docker run --runtime alcove: stdout, stderr, exit statuses, --rm" {
  require_kvm
  docker_setup
  "${DRUN[@]}" --rm localhost/alcove-bb:test echo hello > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 0 ] || { echo "status $status"; cat "$T/out" "$T/err"; tail -30 "$T/docker/dockerd.log"; return 1; }
  [ "$(cat "$T/out")" = hello ]
  [ ! -s "$T/err" ] || { echo "stderr:"; cat "$T/err"; return 1; }
  "${DRUN[@]}" --rm localhost/alcove-bb:test sh -c 'echo to stderr >&2; exit 7' > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 7 ] || { echo "status $status"; cat "$T/out" "$T/err"; return 1; }
  [ "$(cat "$T/err")" = "to stderr" ]
  [ ! -s "$T/out" ]
  assert_docker_nothing_left
}

@test "docker: docker run -d, logs, inspect, stop (SIGTERM ends the enclave: 143), rm" {
  require_kvm
  docker_setup
  "${DRUN[@]}" -d --name alcove-d1 localhost/alcove-bb:test sh -c 'echo detached; sleep 300' > "$T/id" 2> "$T/err" ||
    { cat "$T/err"; tail -30 "$T/docker/dockerd.log"; return 1; }
  local i
  for i in $(seq 1 120); do "${DK[@]}" logs alcove-d1 2> /dev/null | grep -q detached && break; sleep 1; done
  [ "$("${DK[@]}" logs alcove-d1)" = detached ] || { "${DK[@]}" logs alcove-d1; "${DK[@]}" ps -a; return 1; }
  [ "$("${DK[@]}" inspect alcove-d1 --format '{{.State.Status}}')" = running ]
  # the enclave is alcove's, in the runtime directory the test gave (through containerd, its shim)
  ls "$ALCOVE_RUNTIME_DIR"/*.json > /dev/null
  "${DK[@]}" stop -t 30 alcove-d1 > /dev/null
  [ "$("${DK[@]}" inspect alcove-d1 --format '{{.State.ExitCode}} {{.State.Status}}')" = "143 exited" ] ||
    { "${DK[@]}" inspect alcove-d1 --format '{{json .State}}'; return 1; }
  "${DK[@]}" rm alcove-d1 > /dev/null
  assert_docker_nothing_left
}
