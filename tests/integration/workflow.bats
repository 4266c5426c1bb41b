#!/usr/bin/env bats
# workflow.bats: the Occlum-style workflow (docs/workflow.md): alcove init, alcove.json's checks,
# alcove build (measured configuration, reproducible, incremental, signed), alcove run's
# entry_points and env.untrusted refusals, alcove package; then, in enclaves, a program run as
# an entry point with its measured and host-given environment, and the Python and Java web
# examples from init to curl through a published port.

load helpers

setup() {
  T=$BATS_TEST_TMPDIR
  export SOURCE_DATE_EPOCH=1
  . "$SOURCE_ROOT/examples/lib/image.sh"
}

# expect_error STATUS CODE ARGS...: alcove ARGS fails with STATUS and prints [ CODE ].
expect_error() {
  local want=$1 code=$2
  shift 2
  run timeout 60 "$ALCOVE" "$@"
  if [ "$status" -ne "$want" ] || [[ "$output" != *"[ $code ]"* ]]; then
    echo "alcove $*: status $status (want $want), output: $output"
    return 1
  fi
}

# a directory with a static program at /bin/hello and busybox at /bin/busybox
make_app() {
  mkdir -p "$(dirname "$1")"
  "$ALCOVE" init "$1" 2> /dev/null
  cp "$(prog hello-musl-exec)" "$1/image/bin/hello"
  cp /bin/busybox "$1/image/bin/busybox"
}

pcr() { sed -n "s/.*\"$1\": \"\([0-9a-f]*\)\".*/\1/p"; }

@test "workflow: init makes image/ and a valid alcove.json, and refuses a directory that has one" {
  run "$ALCOVE" init "$T/app"
  [ "$status" -eq 0 ]
  [ -d "$T/app/image/etc" ] && [ -d "$T/app/image/tmp" ] && [ -d "$T/app/image/bin" ]
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["entry_points"] == ["/bin"]; assert c["metadata"]["name"] == "app"; assert c["resource_limits"]["user_space_size"] == "256MB"' "$T/app/alcove.json"
  echo '{}' > "$T/app/alcove.json"
  expect_error 85 E85 init "$T/app"
  [ "$(cat "$T/app/alcove.json")" = '{}' ]
  expect_error 2 E01 init
  expect_error 2 E03 init --frobnicate
  expect_error 2 E03 build --frobnicate
  expect_error 2 E03 package --frobnicate
  expect_error 2 E03 build "$T/app" "$T/app"
  # build in a directory that is not an init directory
  mkdir "$T/empty"
  expect_error 85 E85 build "$T/empty"
}

@test "workflow: alcove.json's bad values are [ E85 ] naming the key; unknown and SGX-only keys warn" {
  make_app "$T/app"
  cp "$T/app/alcove.json" "$T/good.json"
  local key val
  while read -r key val; do
    cp "$T/good.json" "$T/app/alcove.json"
    set_key "$T/app" "$key" "$val"
    expect_error 85 E85 build "$T/app" || { echo "key $key = $val"; return 1; }
    [[ "$output" == *"'$key'"* ]] || { echo "no key named: $output"; return 1; }
  done << 'EOF2'
resource_limits.user_space_size "12XB"
resource_limits.user_space_size "0MB"
resource_limits.user_space_size "1TB"
resource_limits.user_space_size true
resource_limits.max_num_of_threads 0
resource_limits.max_num_of_threads 1.5
resource_limits.max_num_of_threads "64"
process.default_stack_size "-4MB"
process.default_mmap_size []
entry_points "/bin"
entry_points []
entry_points ["bin/hello"]
entry_points ["/bin/../etc"]
env.default ["NOEQUALS"]
env.default ["1X=y"]
env.untrusted ["A-B"]
env.untrusted [3]
metadata.debuggable "yes"
metadata.name ""
resource_limits []
EOF2
  # mounts: hostfs and unknown types are refused, by index
  cp "$T/good.json" "$T/app/alcove.json"
  set_key "$T/app" mount '[{"target": "/host", "type": "hostfs", "source": "."}]'
  expect_error 85 E85 build "$T/app"
  [[ "$output" == *"'mount[0]'"* && "$output" == *hostfs* ]]
  set_key "$T/app" mount '[{"target": "/data", "type": "ramfs"}, {"target": "/x", "type": "nfs"}]'
  expect_error 85 E85 build "$T/app"
  [[ "$output" == *"'mount[1]'"* ]]
  # not JSON, and JSON that is not an object
  echo '{"entry_points": ["/bin"]' > "$T/app/alcove.json"
  expect_error 85 E85 build "$T/app"
  echo '["/bin"]' > "$T/app/alcove.json"
  expect_error 85 E85 build "$T/app"
  echo '{"entry_points": ["/bin"]} x' > "$T/app/alcove.json"
  expect_error 85 E85 build "$T/app"
  # unknown keys and Occlum's SGX-only keys: a warning each, and the build goes on
  cp "$T/good.json" "$T/app/alcove.json"
  set_key "$T/app" frobnicate 1
  set_key "$T/app" metadata.product_id 0
  set_key "$T/app" resource_limits.kernel_space_heap_size '"32MB"'
  run "$ALCOVE" build "$T/app"
  [ "$status" -eq 0 ]
  [[ "$output" == *"'frobnicate': unknown key"* ]]
  [[ "$output" == *"'metadata.product_id': Occlum's, with no meaning in alcove"* ]]
  [[ "$output" == *"'resource_limits.kernel_space_heap_size': Occlum's"* ]]
}

@test "workflow: build is reproducible, measures alcove.json (PCR2 and PCR0 change, PCR1 not), and is incremental" {
  make_app "$T/a/app"
  make_app "$T/b/app"
  touch -d @5 "$T/b/app/image/bin/hello" # times are not measured
  run "$ALCOVE" build "$T/a/app"
  [ "$status" -eq 0 ]
  local p0 p1 p2
  p0=$(echo "$output" | pcr PCR0); p1=$(echo "$output" | pcr PCR1); p2=$(echo "$output" | pcr PCR2)
  [ ${#p2} -eq 96 ]
  run "$ALCOVE" build "$T/b/app"
  [ "$(echo "$output" | pcr PCR0)" = "$p0" ] && [ "$(echo "$output" | pcr PCR2)" = "$p2" ]
  cmp "$T/a/app/build/enclave.eif" "$T/b/app/build/enclave.eif"
  # the same again from scratch
  rm -rf "$T/a/app/build"
  run "$ALCOVE" build "$T/a/app"
  [ "$(echo "$output" | pcr PCR2)" = "$p2" ]
  # nothing changed: nothing rebuilt, nothing read, the same measurements
  local before
  before=$(stat -c %Y.%s "$T/a/app/build/enclave.eif")
  sleep 1.1
  run "$ALCOVE" build "$T/a/app"
  [ "$status" -eq 0 ]
  [[ "$output" == *"up to date"*"0 read again"* ]]
  [ "$(echo "$output" | pcr PCR2)" = "$p2" ]
  [ "$(stat -c %Y.%s "$T/a/app/build/enclave.eif")" = "$before" ]
  # a touched file is read again (its hash), found the same: still up to date; then not read
  touch "$T/a/app/image/bin/busybox"
  run "$ALCOVE" build "$T/a/app"
  [[ "$output" == *"up to date"*"1 read again"* ]]
  run "$ALCOVE" build "$T/a/app"
  [[ "$output" == *"up to date"*"0 read again"* ]]
  # a changed file: rebuilt, PCR2 changes, PCR1 (the boot ramdisk) does not
  echo changed >> "$T/a/app/image/bin/hello"
  run "$ALCOVE" build "$T/a/app"
  [[ "$output" == *"1 new or changed"* ]]
  [ "$(echo "$output" | pcr PCR2)" != "$p2" ] && [ "$(echo "$output" | pcr PCR1)" = "$p1" ]
  [ "$(stat -c %Y.%s "$T/a/app/build/enclave.eif")" != "$before" ]
  # alcove.json is measured: an entry point, an env.default value, debuggable each change PCR2
  local k v seen=" $p2 "
  for kv in 'entry_points ["/bin/hello"]' 'env.default ["A=1"]' 'metadata.debuggable true' \
            'env.untrusted ["B"]' 'resource_limits.user_space_size "64MB"'; do
    k=${kv%% *}; v=${kv#* }
    set_key "$T/b/app" "$k" "$v"
    run "$ALCOVE" build "$T/b/app"
    [ "$status" -eq 0 ]
    local now
    now=$(echo "$output" | pcr PCR2)
    [[ "$seen" != *" $now "* ]] || { echo "$kv did not change PCR2"; return 1; }
    seen+="$now "
  done
  # the image holds the canonical configuration as its ramdisk's top-level alcove.json
  run python3 - "$T/b/app/build/enclave.eif" << 'PY'
import json, sys
b = open(sys.argv[1], "rb").read()
i = b.rfind(b"alcove.json\0")
h = i - 110
assert b[h:h + 6] == b"070701", "no cpio entry named alcove.json"
size, namesize = int(b[h + 54:h + 62], 16), int(b[h + 94:h + 102], 16)
start = h + ((110 + namesize + 3) & ~3)  # aligned within the archive
c = json.loads(b[start:start + size])
print(c["entry_points"], c["env"]["default"], c["env"]["untrusted"], c["metadata"]["debuggable"],
      c["resource_limits"]["user_space_size"])
PY
  echo "$output"
  [ "$output" = "['/bin/hello'] ['A=1'] ['B'] True 67108864" ]
  # formatting alone is not measured (the canonical form is)
  python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); json.dump(c, open(p,"w"))' "$T/b/app/alcove.json"
  run "$ALCOVE" build "$T/b/app"
  [[ "$output" == *"up to date"* ]]
}

@test "workflow: build sees a file rewritten with its old size and time, a new SOURCE_DATE_EPOCH, and refuses a linked image/" {
  make_app "$T/app"
  run "$ALCOVE" build "$T/app"
  [ "$status" -eq 0 ]
  local p2 t
  p2=$(echo "$output" | pcr PCR2)
  # the same length, the old modification time put back (cp -p, tar x do that)
  t=$(stat -c %y "$T/app/image/bin/hello")
  size=$(stat -c %s "$T/app/image/bin/hello")
  head -c "$size" /dev/zero > "$T/app/image/bin/hello"
  touch -d "$t" "$T/app/image/bin/hello"
  run "$ALCOVE" build "$T/app"
  [[ "$output" == *"1 new or changed"* ]]
  [ "$(echo "$output" | pcr PCR2)" != "$p2" ]
  # another SOURCE_DATE_EPOCH is another image: rebuilt, not "up to date"
  run env SOURCE_DATE_EPOCH=2 "$ALCOVE" build "$T/app"
  [[ "$output" != *"up to date"* ]]
  # image/ as a link to a directory: refused, not scanned as empty
  mv "$T/app/image" "$T/real"
  ln -s "$T/real" "$T/app/image"
  expect_error 85 E85 build "$T/app"
  [[ "$output" == *"symbolic link"* ]]
}

@test "workflow: a signed build has PCR8 and verifies; a key alone is an argument error" {
  make_app "$T/app"
  python3 "$BATS_TEST_DIRNAME/mkcert.py" "$T/key.pem" "$T/cert.pem" alcove-test -1 365
  run "$ALCOVE" build "$T/app" --signing-certificate "$T/cert.pem" --private-key "$T/key.pem"
  [ "$status" -eq 0 ]
  [ -n "$(echo "$output" | pcr PCR8)" ]
  run "$ALCOVE" describe-eif --eif-path "$T/app/build/enclave.eif"
  [ "$status" -eq 0 ]
  [[ "$output" == *PCR8* ]]
  expect_error 2 E01 build "$T/app" --private-key "$T/key.pem"
  # the short forms; the same certificate gives the same PCR8, and the build is then up to date
  run "$ALCOVE" build --cert "$T/cert.pem" --key "$T/key.pem" "$T/app"
  [ "$status" -eq 0 ] && [[ "$output" == *"up to date"* ]]
}

@test "workflow: run refuses a program outside entry_points ([ E86 ], 126), no program (125), --env outside env.untrusted ([ E87 ], 125); the packaged file and the directory's own path alike" {
  make_app "$T/app"
  set_entry_points "$T/app" /bin/hello /usr/local/bin
  set_key "$T/app" env.untrusted '["GREETING"]'
  expect_error 125 E85 run "$T/app" /bin/hello # not built yet
  [[ "$output" == *"alcove build"* ]]
  "$ALCOVE" build "$T/app" > /dev/null 2>&1
  expect_error 126 E86 run "$T/app" /bin/busybox echo hi
  [[ "$output" != *warning* ]]
  [[ "$output" == *"/bin/hello, /usr/local/bin"* ]]
  expect_error 126 E86 run "$T/app" /bin/hello/../busybox
  expect_error 126 E86 run "$T/app" /usr/local/binx
  expect_error 126 E86 run "$T/app" bin/hello
  expect_error 125 E86 run "$T/app"
  expect_error 125 E87 run --env PATH=/evil "$T/app" /bin/hello
  expect_error 125 E87 run -e LD_PRELOAD=/x.so "$T/app" /usr/local/bin/tool
  # alcove package: one file; alcove run FILE enforces the same
  run "$ALCOVE" package "$T/app" -o "$T/app.eif"
  [ "$status" -eq 0 ]
  cmp "$T/app.eif" "$T/app/build/enclave.eif"
  mkdir "$T/elsewhere"
  cp "$T/app.eif" "$T/elsewhere/"
  expect_error 126 E86 run "$T/elsewhere/app.eif" /bin/busybox
  expect_error 125 E87 run --env HOME=/x "$T/elsewhere/app.eif" /bin/hello
  expect_error 2 E01 package "$T/app"
  # never into the directory's own inputs: the next build would read the package itself
  expect_error 2 E03 package "$T/app" -o "$T/app/image/app.eif"
  expect_error 2 E03 package "$T/app" -o "$T/app/alcove.json"
  [ ! -e "$T/app/image/app.eif" ]
  grep -q entry_points "$T/app/alcove.json"
  # in the directory itself, an absolute program path names the program (as `occlum run`),
  # unless it is a file on the host, which alcove run runs as it always does
  cd "$T/app"
  expect_error 126 E86 run /opt/not-on-this-host/prog
  # ... but an image's path there is that image
  expect_error 126 E86 run "$T/elsewhere/app.eif" /bin/busybox
  expect_error 125 E86 run "$T/elsewhere/app.eif"
  # a changed alcove.json is not what runs: the image's measured copy is (a warning says so)
  sleep 0.01
  set_entry_points "$T/app" /bin
  expect_error 126 E86 run "$T/app" /bin/busybox echo hi
  [[ "$output" == *"changed after"*"was built"* ]]
}

@test "workflow: examples/lib/image.sh copies a program with its loader and libraries, and a library with its own (libjvm.so needs libstdc++)" {
  local R=$T/root lib dep
  image_add_program "$R" /bin/ls
  [ -x "$R/bin/ls" ] && [ -e "$R/lib64/ld-linux-x86-64.so.2" ]
  for dep in $(ldd /bin/ls | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do [ -e "$R$dep" ]; done
  lib=$(ldd /bin/bash | sed -n 's/.*libtinfo.* => \(\/[^ ]*\) .*/\1/p')
  [ -n "$lib" ] || skip "bash has no libtinfo here"
  R=$T/root2 # a root of its own: nothing there yet
  image_add_program "$R" "$lib"
  [ -e "$R$lib" ]
  for dep in $(ldd "$lib" | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do
    [ -e "$R$dep" ] || { echo "missing $dep"; return 1; }
  done
}

@test "workflow: in an enclave, an entry point runs with env.default (measured) and env.untrusted from the host; others' values do not reach it" {
  require_kvm
  make_app "$T/app"
  set_entry_points "$T/app" /bin/busybox
  set_key "$T/app" env.default '["MODE=measured", "PATH=/bin"]'
  set_key "$T/app" env.untrusted '["GREETING", "LEVEL"]'
  set_key "$T/app" resource_limits.user_space_size '"32MB"'
  set_key "$T/app" mount '[{"target": "/data", "type": "ramfs"}]'
  "$ALCOVE" build "$T/app" > /dev/null
  # GREETING only because --env names it: an image does not pick values out of alcove's own
  # environment (LEVEL, set there too, stays out unless named)
  run env GREETING=hello OTHER=no LEVEL=9 "$ALCOVE" run --env GREETING --env LEVEL=3 "$T/app" /bin/busybox sh -c \
    'echo "$MODE $GREETING $LEVEL ${OTHER:-unset}"; echo x > /data/f && /bin/busybox cat /data/f'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "measured hello 3 unset" ]
  [ "${lines[1]}" = x ]
  # the packaged file runs the same, and the program's exit status is alcove run's
  "$ALCOVE" package "$T/app" -o "$T/app.eif" > /dev/null 2>&1
  run "$ALCOVE" run "$T/app.eif" /bin/busybox sh -c 'echo "$MODE"; exit 7'
  [ "$status" -eq 7 ]
  [ "$output" = measured ]
}

@test "workflow: the Python web example, init to curl through -p (examples/python-web/run.sh)" {
  require_kvm
  command -v curl > /dev/null || skip "no curl"
  [ -x /usr/bin/python3 ] || skip "no python3"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run env ALCOVE="$ALCOVE" WAIT=600 timeout 900 "$SOURCE_ROOT/examples/python-web/run.sh" "$T/py" "$port"
  echo "$output" | tail -20
  [ "$status" -eq 0 ]
  [[ "$output" == *"Greetings from alcove!"* ]]
}

@test "workflow: the Java web example (Debian's OpenJDK 17, com.sun.net.httpserver), init to curl through -p (examples/java-web/run.sh)" {
  require_kvm
  command -v curl > /dev/null || skip "no curl"
  command -v javac > /dev/null || skip "no JDK (javac)"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run env ALCOVE="$ALCOVE" WAIT=1500 timeout 1800 "$SOURCE_ROOT/examples/java-web/run.sh" "$T/java" "$port"
  echo "$output" | tail -20
  [ "$status" -eq 0 ]
  [[ "$output" == *"Greetings from alcove!"* ]]
}
