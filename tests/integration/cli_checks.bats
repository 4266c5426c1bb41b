#!/usr/bin/env bats
# cli_checks.bats: the CLI's checks of what it is given, none of which needs an enclave (so they
# run on machines without KVM): files that are not regular, EIF headers checked before the body
# is read, option syntax, --config JSON, CIDs, and the runtime directory's modes and owner. Each
# bad input is a must-fail test: its [ Exx ] error and exit status, at once, nothing left behind.

load helpers
bats_require_minimum_version 1.5.0

setup() {
  T=$BATS_TEST_TMPDIR
  export ALCOVE_RUNTIME_DIR=$T/rt
}

teardown() {
  [ "$(alcove_processes)" -eq 0 ]
}

# expect_error STATUS CODE COMMAND...: runs alcove with a 10 s limit (a wait is a failure: 124)
# and checks its status and "[ CODE ]" message.
expect_error() {
  local want=$1 code=$2
  shift 2
  run timeout 10 "$ALCOVE" "$@"
  if [ "$status" -ne "$want" ] || [[ "$output" != *"[ $code ]"* ]]; then
    echo "alcove $*: status $status (want $want), output: $output"
    return 1
  fi
}

@test "a FIFO or a directory where a regular file is expected: a clear error at once, never a wait" {
  mkfifo "$T/fifo"
  mkdir "$T/dir"
  for p in "$T/fifo" "$T/dir"; do
    expect_error 19 E19 run-enclave --config "$p"
    expect_error 19 E19 run-enclave --eif-path "$p" --memory 64 --cpu-count 1
    expect_error 19 E19 describe-eif --eif-path "$p"
    expect_error 19 E19 sign-eif --eif-path "$p" --signing-certificate "$p" --private-key "$p"
    expect_error 19 E19 pcr --input "$p"
    expect_error 19 E19 pcr --signing-certificate "$p"
    expect_error 19 E19 verify-attestation --document "$p" --ca "$p"
    expect_error 126 E71 run "$p"
    expect_error 7 E07 build-enclave --binary "$p" --output-file "$T/out.eif"
    expect_error 100 E100 allocator apply --config "$p"
    expect_error 93 E93 vsock-proxy --enclave-cid 5 --config "$p" 8000 127.0.0.1 80
  done
  run timeout 10 "$ALCOVE" describe-eif --eif-path "$T/fifo"
  [[ "$output" == *"not a regular file"* ]]
  [ ! -e "$T/out.eif" ]
}

@test "--output-file that exists and is not a regular file (FIFO, socket, directory): refused, left as it was" {
  "$ALCOVE" build-enclave --binary "$(prog hello-musl-exec)" --output-file "$T/ok.eif" > /dev/null
  python3 "$BATS_TEST_DIRNAME/mkcert.py" "$T/key.pem" "$T/cert.pem" alcove-test -1 365
  mkfifo "$T/fifo"
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/sock"
  mkdir "$T/dir"
  for p in fifo sock dir; do
    # refused before the image is built (the rename into place would have replaced it)
    expect_error 19 E19 build-enclave --binary "$(prog hello-musl-exec)" --output-file "$T/$p"
    [[ "$output" == *"--output-file $T/$p: "* ]]
    [ "$p" = dir ] || [[ "$output" == *"not a regular file"* ]]
    expect_error 19 E19 sign-eif --eif-path "$T/ok.eif" --signing-certificate "$T/cert.pem" \
      --private-key "$T/key.pem" --output-file "$T/$p"
  done
  [ -p "$T/fifo" ]; [ -S "$T/sock" ]; [ -d "$T/dir" ] && [ -z "$(ls -A "$T/dir")" ]
  # no temporary left beside them, and the input image unchanged (it is not signed)
  [ -z "$(ls "$T" | grep '\.tmp\.')" ]
  run "$ALCOVE" describe-eif --eif-path "$T/ok.eif"
  [[ "$output" != *"SigningCertificate"* ]]
  # a regular file and a symbolic link are replaced, as before
  touch "$T/old.eif"
  ln -s "$T/old.eif" "$T/link.eif"
  "$ALCOVE" build-enclave --binary "$(prog hello-musl-exec)" --output-file "$T/old.eif" > /dev/null
  "$ALCOVE" build-enclave --binary "$(prog hello-musl-exec)" --output-file "$T/link.eif" > /dev/null
  [ -f "$T/link.eif" ] && [ ! -L "$T/link.eif" ]
  local want got
  want=$("$ALCOVE" describe-eif --eif-path "$T/ok.eif" | grep PCR0)
  for f in old link; do
    got=$("$ALCOVE" describe-eif --eif-path "$T/$f.eif" | grep PCR0)
    [ "$got" = "$want" ]
  done
  [ -f "$T/old.eif" ] && [ "$(readlink "$T/link.eif")" = "" ]
}

# run_limited COMMAND...: alcove with at most 1 GiB of address space and 10 s, so that a reader
# that takes a file's size in memory before it checks the header fails (or is killed).
run_limited() {
  run bash -c 'ulimit -v 1048576; exec timeout 10 "$@"' _ "$ALCOVE" "$@"
}

@test "an EIF's header (or an ELF file's) is checked against the file's size before its body is read" {
  "$ALCOVE" build-enclave --binary "$(prog hello-musl-exec)" --output-file "$T/ok.eif" > /dev/null
  run_limited describe-eif --eif-path "$T/ok.eif"
  [ "$status" -eq 0 ]
  # a valid header on a 4 GiB (sparse) file: its table no longer describes the file
  cp "$T/ok.eif" "$T/big.eif"
  truncate -s 4G "$T/big.eif"
  # the magic alone, then 4 GiB of nothing
  printf '.eif' > "$T/magic.eif"
  truncate -s 4G "$T/magic.eif"
  # a table whose last section runs 4 GiB past the end of the file
  cp "$T/ok.eif" "$T/bounds.eif"
  python3 - "$T/bounds.eif" <<'PY'
import struct, sys
f = open(sys.argv[1], "r+b")
head = f.read(548)
n = struct.unpack(">H", head[26:28])[0]
f.seek(284 + 8 * (n - 1))
f.write(struct.pack(">Q", struct.unpack(">Q", head[284 + 8 * (n - 1):292 + 8 * (n - 1)])[0] + (4 << 30)))
PY
  # a forged header whose table describes the 4 GiB file exactly: one section of type 9
  python3 - "$T/forged.eif" <<'PY'
import struct, sys
size = 4 << 30
table = struct.pack(">32Q", 548, *[0] * 31) + struct.pack(">32Q", size - 560, *[0] * 31)
head = b".eif" + struct.pack(">HHQQHH", 4, 0, 0, 0, 0, 1) + table + b"\0" * 8
open(sys.argv[1], "wb").write(head + struct.pack(">HHQ", 9, 0, size - 560))
PY
  truncate -s 4G "$T/forged.eif"
  for f in big magic bounds forged; do
    case $f in
      big) why="trailing bytes" ;;
      magic) why="unsupported EIF version" ;;
      bounds) why="past the end" ;;
      forged) why="invalid section type" ;;
    esac
    run_limited describe-eif --eif-path "$T/$f.eif"
    [ "$status" -eq 35 ]; [[ "$output" == *"[ E35 ]"*"$why"* ]]
    run_limited run-enclave --eif-path "$T/$f.eif" --memory 64 --cpu-count 1
    [ "$status" -eq 35 ]; [[ "$output" == *"[ E35 ]"*"$why"* ]]
    run_limited sign-eif --eif-path "$T/$f.eif" --signing-certificate x --private-key y
    [ "$status" -eq 35 ]; [[ "$output" == *"[ E35 ]"*"$why"* ]]
    run_limited run "$T/$f.eif"
    [ "$status" -eq 126 ]; [[ "$output" == *"[ E35 ]"*"$why"* ]]
  done
  # ELF files that cannot run, 4 GiB long: refused from their ELF and program headers
  printf '\177ELF\1\1\1' > "$T/elf32"             # a 32-bit ELF header
  truncate -s 4G "$T/elf32"
  python3 - "$(prog hello-musl-exec)" "$T/elfseg" "$T/elfph" <<'PY'
import struct, sys
elf = bytearray(open(sys.argv[1], "rb").read())
phoff, = struct.unpack_from("<Q", elf, 0x20)
phnum, = struct.unpack_from("<H", elf, 0x38)
# a PT_LOAD whose bytes run 8 GiB into the file
for i in range(phnum):
    at = phoff + 56 * i
    if struct.unpack_from("<I", elf, at)[0] == 1:
        struct.pack_into("<QQ", elf, at + 32, 8 << 30, 8 << 30)
        break
open(sys.argv[2], "wb").write(elf)
# a program header table past the end of the file
elf = bytearray(open(sys.argv[1], "rb").read(64))
struct.pack_into("<Q", elf, 0x20, (4 << 30) - 8)
open(sys.argv[3], "wb").write(elf)
PY
  truncate -s 4G "$T/elfseg" "$T/elfph"
  for f in elf32 elfseg elfph; do
    case $f in
      elf32) why="not a 64-bit" ;;
      *) why="malformed ELF headers" ;;
    esac
    run_limited run "$T/$f"
    [ "$status" -eq 126 ]; [[ "$output" == *"[ E71 ]"*"$why"* ]] || { echo "$f: $output"; return 1; }
  done
  # neither an image nor an ELF file: refused from its first bytes
  truncate -s 4G "$T/zeros"
  run_limited run "$T/zeros"
  [ "$status" -eq 126 ]; [[ "$output" == *"[ E71 ]"*"not an ELF"* ]]
  run_limited describe-eif --eif-path "$T/zeros"
  [ "$status" -eq 35 ]; [[ "$output" == *"[ E35 ]"*"bad magic"* ]]
  # and what it costs: a few MiB, not the file's size
  # (GNU time, Debian's package time: scripts/setup.sh installs it)
  /usr/bin/time -f %M -o "$T/rss" "$ALCOVE" describe-eif --eif-path "$T/big.eif" 2> /dev/null || true
  [ "$(tail -1 "$T/rss")" -lt 65536 ]
  # sign-eif left the refused images as they were
  [ "$(stat -c %s "$T/big.eif")" -eq $((4 << 30)) ]
}

@test "--flag=value is taken wherever --flag value is, as nitro-cli (clap) takes it" {
  truncate -s 100 "$T/short.eif"
  fake_cpus
  # each would stop at "unknown option '--flag=value'" ([ E03 ]) if the form were not understood
  expect_error 35 E35 run-enclave --eif-path="$T/short.eif" --memory=64 --cpu-count=1
  expect_error 35 E35 run-enclave --eif-path "$T/short.eif" --memory=64 --cpu-ids=1 --enclave-cid=9 \
    --enclave-name=x
  expect_error 2 E02 run-enclave --eif-path="$T/short.eif" --memory=64 --cpu-ids=1 2 --cpu-count=1
  mkfifo "$T/fifo"
  expect_error 19 E19 run-enclave --config="$T/fifo"
  expect_error 58 E58 console --enclave-name=nobody --disconnect-timeout=1
  expect_error 90 E90 console --enclave-id=i-nobody
  expect_error 58 E58 terminate-enclave --enclave-name=nobody
  expect_error 90 E90 terminate-enclave --enclave-id=i-nobody
  expect_error 35 E35 describe-eif --eif-path="$T/short.eif"
  expect_error 35 E35 sign-eif --eif-path="$T/short.eif" --signing-certificate=c --private-key=k
  expect_error 19 E19 pcr --input="$T/none"
  expect_error 58 E58 connect --enclave-name=nobody --port=5000
  expect_error 126 E71 run --memory=64 --cpu-count=1 "$T/short.eif"
  run "$ALCOVE" explain --error-code=E35
  [ "$status" -eq 0 ]; [[ "$output" == *"EIF"* ]]
  # the value is checked as a separate one is
  expect_error 3 E03 console --enclave-name=x --disconnect-timeout=0
  expect_error 2 E01 console --enclave-name
  # an option where a value should be is not taken as the value (as clap), nor is an empty value
  expect_error 2 E01 run-enclave --eif-path --memory 64 --cpu-count 1
  [[ "$output" == *"--eif-path needs a value"* ]]
  expect_error 2 E01 run-enclave --eif-path "$T/short.eif" --memory --cpu-count 1
  expect_error 2 E01 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-name --debug-mode
  expect_error 2 E01 run-enclave --config --eif-path "$T/short.eif"
  expect_error 2 E01 terminate-enclave --enclave-name --all
  expect_error 2 E01 terminate-enclave --enclave-id --all
  expect_error 2 E01 console --enclave-name --disconnect-timeout 5
  expect_error 2 E01 console --enclave-id x --disconnect-timeout --enclave-name
  for empty in --enclave-name= --enclave-id=; do
    expect_error 2 E01 terminate-enclave "$empty"
    expect_error 2 E01 console "$empty"
    [[ "$output" == *"not an empty one"* ]]
  done
  expect_error 2 E01 terminate-enclave --enclave-name ""
  expect_error 2 E01 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-cid ""
  expect_error 2 E01 run-enclave --eif-path= --memory 64 --cpu-count 1
  expect_error 2 E01 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-name=
  # given with '=', a value may start with "--" (the image's path here)
  cp "$T/short.eif" "$T/--short.eif"
  ( cd "$T" && expect_error 35 E35 run-enclave --eif-path=--short.eif --memory 64 --cpu-count 1 )
  # a flag that takes no value refuses one
  expect_error 2 E03 run-enclave --eif-path="$T/short.eif" --memory=64 --cpu-count=1 --debug-mode=yes
  [[ "$output" == *"--debug-mode takes no value"* ]]
  expect_error 2 E03 terminate-enclave --all=yes
}

@test "argument errors exit 2, as nitro-cli's clap exits; a bad value nitro-cli checks itself exits with its code (3)" {
  truncate -s 100 "$T/short.eif"
  # an unknown option, in every command (each would otherwise go on, or fail another way)
  local cmd
  for cmd in run-enclave describe-enclaves terminate-enclave console build-enclave describe-eif \
             pcr sign-eif explain verify-attestation connect vsock-proxy "allocator status" "ca show"; do
    expect_error 2 E03 $cmd --frobnicate || { echo "in: $cmd"; return 1; }
    [[ "$output" == *"frobnicate"* ]]
  done
  # an unknown command, and no command at all (the help, as clap's arg_required_else_help)
  expect_error 2 E03 frobnicate
  run "$ALCOVE"
  [ "$status" -eq 2 ]; [[ "$output" == *"Commands:"* ]]
  # a required option missing, or options that conflict
  expect_error 2 E01 run-enclave --memory 64 --cpu-count 1
  expect_error 2 E01 run-enclave --eif-path "$T/short.eif" --memory 64
  expect_error 2 E02 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --cpu-ids 1
  expect_error 2 E02 run-enclave --config "$T/c.json" --memory 64
  expect_error 2 E01 terminate-enclave
  expect_error 2 E02 terminate-enclave --all --enclave-name x
  expect_error 2 E01 console
  expect_error 2 E01 describe-eif
  expect_error 2 E01 pcr
  expect_error 2 E02 pcr --input a --signing-certificate b
  expect_error 2 E01 sign-eif --eif-path "$T/short.eif"
  expect_error 2 E01 build-enclave --output-file "$T/x.eif"
  expect_error 2 E02 build-enclave --output-file "$T/x.eif" --binary a --rootfs b
  expect_error 2 E01 explain
  expect_error 2 E01 connect --enclave-cid 5
  expect_error 2 E01 vsock-proxy --enclave-cid 5 8000 127.0.0.1
  expect_error 2 E03 vsock-proxy --enclave-cid 5 8000 127.0.0.1 80 extra
  expect_error 2 E02 vsock-proxy --enclave-cid 5 -4 -6 8000 127.0.0.1 80
  expect_error 2 E01 vsock-proxy --port 5000 --listen-tcp 8080
  expect_error 2 E01 allocator
  expect_error 2 E03 allocator reserve
  expect_error 2 E01 verify-attestation
  # an option without its value (said so, not called unknown), a flag with one
  for cmd in "describe-eif --eif-path" "pcr --input" "sign-eif --eif-path" "explain --error-code" \
             "connect --port" "vsock-proxy --config" "allocator apply --config" "ca show --dir" \
             "verify-attestation --document" "build-enclave --binary" "run-enclave --eif-path"; do
    expect_error 2 E01 $cmd || { echo "in: $cmd"; return 1; }
    [[ "$output" == *"${cmd##* } needs a value"* ]] || { echo "in: $cmd: $output"; return 1; }
  done
  expect_error 125 E01 run --memory
  expect_error 2 E03 describe-enclaves --metadata=x
  # values that nitro-cli parses itself: E03, status 3
  expect_error 3 E03 run-enclave --eif-path "$T/short.eif" --memory lots --cpu-count 1
  expect_error 3 E03 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count x
  expect_error 3 E03 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-cid x
  expect_error 3 E03 console --enclave-name x --disconnect-timeout 0
  # alcove run keeps docker run's 125
  expect_error 125 E03 run --frobnicate "$T/short.eif"
  expect_error 125 E01 run
  # nothing left behind: no runtime directory
  [ ! -e "$ALCOVE_RUNTIME_DIR" ]
}

# config TEXT: writes $T/c.json
config() { printf '%s' "$1" > "$T/c.json"; }

# config_with KEY VALUE: a valid configuration for $T/short.eif, but with KEY set to VALUE (JSON)
config_with() {
  local -A keys=([eif_path]="\"$T/short.eif\"" [memory_mib]=64 [cpu_count]=1)
  keys[$1]=$2
  local k text=""
  for k in "${!keys[@]}"; do text+="${text:+, }\"$k\": ${keys[$k]}"; done
  config "{$text}"
}

# fake_cpus: a fake host for the CPU checks (ALCOVE_SYSFS_ROOT, no allocator reservation):
# CPUs 0-7, core k is CPUs k and k+4
fake_cpus() {
  local r=$T/sys
  mkdir -p "$r/devices/system/cpu"
  echo 0-7 > "$r/devices/system/cpu/online"
  for c in 0 1 2 3 4 5 6 7; do
    mkdir -p "$r/devices/system/cpu/cpu$c/topology"
    echo "$((c % 4)),$((c % 4 + 4))" > "$r/devices/system/cpu/cpu$c/topology/thread_siblings_list"
  done
  export ALCOVE_SYSFS_ROOT=$r
}

@test "--config JSON: unknown keys are ignored, malformed JSON is [ E17 ] (nitro-cli's serde error)" {
  truncate -s 100 "$T/short.eif"
  fake_cpus
  # accepted: the launch goes on to read the image (and refuses it)
  config "{\"eif_path\": \"$T/short.eif\", \"memory_mib\": 64, \"cpu_count\": 1, \"unknown\": 1,
           \"other\": {\"x\": [1, null]}, \"enclave_cid\": null, \"enclave_name\": null}"
  expect_error 35 E35 run-enclave --config "$T/c.json"
  # each ignored key is named on stderr (a misspelt optional one would otherwise change nothing)
  [[ "$output" == *'ignoring "unknown", which is not one of nitro-cli'*'ignoring "other"'* ]]
  config_with debug-mode true
  expect_error 35 E35 run-enclave --config "$T/c.json"
  [[ "$output" == *'ignoring "debug-mode"'* ]]
  config "{\"eif_path\": \"$T/short.eif\", \"memory_mib\": 64, \"cpu_ids\": [1, 2], \"debug_mode\": true,
           \"attach_console\": false, \"enclave_cid\": 0, \"x\": 1, \"x\": 2}"
  expect_error 35 E35 run-enclave --config "$T/c.json"
  # not JSON, or not an object
  local bad=('{"eif_path": "x",' '' '[1]' '"x"' "{\"eif_path\": \"$T/short.eif\"} trailing"
             "{\"eif_path\": \"$T/short.eif\", 'memory_mib': 64}")
  for text in "${bad[@]}"; do
    config "$text"
    expect_error 17 E17 run-enclave --config "$T/c.json" || { echo "for: $text"; return 1; }
  done
  config '{"eif_path": "x",'
  expect_error 17 E17 run-enclave --config "$T/c.json"
  [[ "$output" == *"not valid JSON (at line 1, column 18)"* ]]
  printf '{"eif_path": "x"}\0{' > "$T/c.json"   # a NUL inside
  expect_error 17 E17 run-enclave --config "$T/c.json"
  # one of nitro-cli's keys with the wrong type, or twice
  local typed=('memory_mib "lots"' 'memory_mib 64.5' 'memory_mib -1' 'cpu_count "1"'
               'cpu_ids [1,"2"]' 'cpu_ids 3' 'enclave_cid "5"' 'debug_mode "yes"'
               'attach_console 1' 'enclave_name 7' 'eif_path null' 'memory_mib null')
  for kv in "${typed[@]}"; do
    config_with ${kv}
    expect_error 17 E17 run-enclave --config "$T/c.json" || { echo "for: $kv"; return 1; }
  done
  config_with memory_mib '"lots"'
  expect_error 17 E17 run-enclave --config "$T/c.json"
  [[ "$output" == *'"memory_mib" must be a whole number of MiB'* ]]
  config "{\"eif_path\": \"$T/short.eif\", \"eif_path\": \"$T/short.eif\", \"memory_mib\": 64, \"cpu_count\": 1}"
  expect_error 17 E17 run-enclave --config "$T/c.json"
  [[ "$output" == *'"eif_path" is given twice'* ]]
  # the right type, a value out of range: [ E03 ] as on the command line
  for kv in 'cpu_count 0' 'cpu_count 65' 'enclave_cid 2' 'enclave_cid 4294967296' 'memory_mib 0'; do
    config_with ${kv}
    expect_error 3 E03 run-enclave --config "$T/c.json" || { echo "for: $kv"; return 1; }
  done
  run "$ALCOVE" explain --error-code E17
  [ "$status" -eq 0 ]; [[ "$output" == *"JSON"* ]]
}

@test "--enclave-cid: nitro-cli's rules (1, 2, 3, 4294967295 and anything above 32 bits refused; 0 picks one)" {
  truncate -s 100 "$T/short.eif"
  for cid in 1 2 4294967295; do
    expect_error 3 E03 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-cid "$cid"
    [[ "$output" == *"well-known"* ]]
    expect_error 125 E03 run --enclave-cid "$cid" "$T/short.eif"
  done
  expect_error 3 E03 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-cid 3
  [[ "$output" == *"the parent's CID"* ]]
  for cid in 4294967296 18446744073709551616 99999999999999999999999; do
    expect_error 3 E03 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-cid "$cid"
    [[ "$output" == *"above 4294967294"* ]]
  done
  for cid in -5 x " 5" $'\t5' $'\n5' $'\v5' 5x 5. + ++5 "+ 5" +-5 -+5 0x10; do
    expect_error 3 E03 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-cid "$cid"
    [[ "$output" == *"not a number"* ]] || { echo "for '$cid'"; return 1; }
  done
  # a leading '+' is taken, as Rust's u64::from_str (nitro-cli's parser) takes it
  expect_error 35 E35 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-cid +5
  expect_error 3 E03 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-cid +3
  [[ "$output" == *"the parent's CID"* ]]
  # the same rules in --config, where a number that is not whole is a type error
  for cid in 1 2 3 4294967295 4294967296; do
    config "{\"eif_path\": \"$T/short.eif\", \"memory_mib\": 64, \"cpu_count\": 1, \"enclave_cid\": $cid}"
    expect_error 3 E03 run-enclave --config "$T/c.json"
  done
  config "{\"eif_path\": \"$T/short.eif\", \"memory_mib\": 64, \"cpu_count\": 1, \"enclave_cid\": 4.5}"
  expect_error 17 E17 run-enclave --config "$T/c.json"
  # 0 asks for the lowest free CID (the launch goes on, and stops at the image), and says so
  expect_error 35 E35 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1 --enclave-cid 0
  [[ "$output" == *"lowest free CID"* ]]
  # where an existing enclave is named, 0 names none
  for cid in 0 1 2 3 4294967295 4294967296; do
    expect_error 3 E03 connect --enclave-cid "$cid" --port 5000
    expect_error 3 E03 vsock-proxy --enclave-cid "$cid" --config "$T/none.yaml" 8000 127.0.0.1 80
  done
}

# The SDK's test client, beside alcove in the build tree.
sdk_client() { echo "$(cd "$(dirname "$ALCOVE")/.." && pwd)/tests/tools/vsock_sdk_client"; }

# wait_socket PATH: at most 10 s for a socket to appear.
wait_socket() {
  local i
  for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done
  echo "no socket $1"; return 1
}

@test "runtime directory: made 0700 whatever the umask; sockets in it 0600 under umask 000" {
  for mask in 000 022 277; do
    ( umask $mask; ALCOVE_RUNTIME_DIR=$T/rt$mask "$ALCOVE" describe-enclaves > "$T/out" )
    [ "$(cat "$T/out")" = "[]" ]
    [ "$(stat -c %a "$T/rt$mask")" = 700 ] || { echo "umask $mask: $(stat -c %a "$T/rt$mask")"; return 1; }
  done
  # a host program's listener for an enclave's connections (libalcove), under umask 000
  ( umask 000; exec "$(sdk_client)" listen 5 6000 > /dev/null ) &
  local pid=$!
  wait_socket "$ALCOVE_RUNTIME_DIR/5.vsock_6000"
  local mode
  mode=$(stat -c %a "$ALCOVE_RUNTIME_DIR/5.vsock_6000")
  kill "$pid"; wait "$pid" || true
  [ "$mode" = 600 ]
  # vsock-proxy's listener for an enclave's outbound connections, under umask 000
  printf 'allowlist:\n- {address: 127.0.0.1, port: 80}\n' > "$T/allow.yaml"
  ( umask 000; exec "$ALCOVE" vsock-proxy --enclave-cid 5 --config "$T/allow.yaml" 8001 127.0.0.1 80 2> /dev/null ) &
  pid=$!
  wait_socket "$ALCOVE_RUNTIME_DIR/5.vsock_8001"
  mode=$(stat -c %a "$ALCOVE_RUNTIME_DIR/5.vsock_8001")
  kill -INT "$pid"; wait "$pid" || true
  [ "$mode" = 600 ]
  [ ! -e "$ALCOVE_RUNTIME_DIR/5.vsock_8001" ]
}

# every command that uses the runtime directory refuses an unsafe one with [ E18 ] ($T/ok.eif:
# a valid image, since an image is checked before the directory)
expect_unsafe() {
  local why=$1
  expect_error 18 E18 describe-enclaves
  [[ "$output" == *"$ALCOVE_RUNTIME_DIR"*"$why"* ]] || { echo "$output"; return 1; }
  expect_error 18 E18 terminate-enclave --all
  expect_error 18 E18 terminate-enclave --enclave-name x
  expect_error 18 E18 console --enclave-name x
  expect_error 18 E18 run-enclave --eif-path "$T/ok.eif" --memory 64 --cpu-count 1
  expect_error 18 E18 connect --enclave-cid 5 --port 5000
  expect_error 18 E18 connect --enclave-name x --port 5000
  expect_error 18 E18 vsock-proxy --enclave-cid 5 --config "$T/none.yaml" 8001 127.0.0.1 80
  expect_error 125 E18 run "$(prog hello-musl-exec)"
}

@test "runtime directory: another user's, writable by others, not rwx for its owner, or a symbolic link is refused with [ E18 ]" {
  local d=$T/unsafe
  "$ALCOVE" build-enclave --binary "$(prog hello-musl-exec)" --output-file "$T/ok.eif" > /dev/null
  mkdir -m 700 "$d"
  export ALCOVE_RUNTIME_DIR=$d
  for mode in 777 1777 770 720 702 500 300 600; do
    chmod "$mode" "$d"
    case $mode in *2 | *7 | 1777) why="every user" ;; ?00) why="chmod u+rwx" ;; *) why="its group" ;; esac
    expect_unsafe "$why"
    [ "$(stat -c %a "$d")" = "$mode" ]   # refused, never changed
    [ -z "$(ls -A "$d")" ]               # and nothing made in it
  done
  chmod 700 "$d"
  ln -s "$d" "$T/link"
  ALCOVE_RUNTIME_DIR=$T/link expect_unsafe "symbolic link"
  if [ "$(id -u)" = 0 ]; then
    chown 65534 "$d"
    expect_unsafe "owned by uid 65534"
    chown 0 "$d"
  fi
  # a directory of one's own that others may only read is used as it is
  chmod 755 "$d"
  run "$ALCOVE" describe-enclaves
  [ "$status" -eq 0 ]; [ "$output" = "[]" ]
  run "$ALCOVE" explain --error-code E18
  [[ "$output" == *"runtime directory"* ]]
  [[ "$output" == *"/tmp/alcove-<uid>"* ]]   # each default is named
}

@test "run-enclave and run check the image before the runtime directory: a bad image leaves no directory behind" {
  export ALCOVE_RUNTIME_DIR=$T/new/rt
  mkdir "$T/new"
  truncate -s 100 "$T/short.eif"
  printf '\177ELF\1' > "$T/elf32"
  expect_error 35 E35 run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-count 1
  expect_error 19 E19 run-enclave --eif-path "$T/none.eif" --memory 64 --cpu-count 1
  expect_error 126 E71 run "$T/short.eif"
  expect_error 126 E71 run "$T/elf32"
  [ -z "$(ls -A "$T/new")" ]
  # a good image goes on to the directory (under a regular file here, so that making it fails
  # and the launch stops there)
  "$ALCOVE" build-enclave --binary "$(prog hello-musl-exec)" --output-file "$T/ok.eif" > /dev/null
  touch "$T/file"
  ALCOVE_RUNTIME_DIR=$T/file/rt expect_error 19 E19 run-enclave --eif-path "$T/ok.eif" --memory 64 --cpu-count 1
  [[ "$output" == *"$T/file/rt: cannot create it"* ]]
  ALCOVE_RUNTIME_DIR=$T/file/rt expect_error 125 E19 run "$(prog hello-musl-exec)"
  [[ "$output" == *"$T/file/rt: cannot create it"* ]]
}

@test "--cpu-ids checked without a pool, with nitro-cli's codes: twice (E20), no such CPU (E21), CPU 0's core (E20)" {
  truncate -s 100 "$T/short.eif"
  fake_cpus
  local r=$ALCOVE_SYSFS_ROOT
  re() { expect_error "$1" "$2" run-enclave --eif-path "$T/short.eif" --memory 64 --cpu-ids "${@:3}"; }
  re 20 E20 1 1
  [[ "$output" == *"CPU 1 is given twice"* ]]
  re 20 E20 99 5 99   # twice comes first, as in nitro-cli
  re 21 E21 1 8
  [[ "$output" == *"CPU 8 does not exist or is offline (online CPUs: 0-7)"* ]]
  re 21 E21 4095
  re 20 E20 0
  [[ "$output" == *"CPU 0's core (0,4)"* ]]
  re 20 E20 1 4
  [[ "$output" == *"CPU 4 is a hyperthread sibling of CPU 0"* ]]
  # an offline CPU
  echo 0-6 > "$r/devices/system/cpu/online"
  re 21 E21 3 7
  echo 0-7 > "$r/devices/system/cpu/online"
  # good ones go on to the image
  re 35 E35 1 5
  re 35 E35 3
  # the same checks for --config's cpu_ids
  for ids in '[2, 2]' '[1, 9]' '[4]'; do
    config "{\"eif_path\": \"$T/short.eif\", \"memory_mib\": 64, \"cpu_ids\": $ids}"
    run timeout 10 "$ALCOVE" run-enclave --config "$T/c.json"
    [ "$status" -eq 20 ] || [ "$status" -eq 21 ] || { echo "$ids: $status $output"; return 1; }
  done
  config "{\"eif_path\": \"$T/short.eif\", \"memory_mib\": 64, \"cpu_ids\": [2, 6]}"
  expect_error 35 E35 run-enclave --config "$T/c.json"
  # nothing was made: no runtime directory
  [ ! -e "$ALCOVE_RUNTIME_DIR" ]
  # and on this host, a CPU far beyond its last
  unset ALCOVE_SYSFS_ROOT
  re 21 E21 4095
}

@test "vsock-proxy ends at once on SIGTERM while it resolves REMOTE_ADDR (a resolver that does not answer), leaving nothing" {
  local lib
  lib="$(cd "$(dirname "$ALCOVE")/.." && pwd)/tests/tools/slow_resolver.so"
  [ -f "$lib" ]
  printf 'allowlist:\n- {address: slow.example, port: 443}\n' > "$T/allow.yaml"
  # (SIGTERM only: a background job of a script starts with SIGINT ignored)
  for sig in TERM; do
    LD_PRELOAD=$lib SLOW_RESOLVER_S=60 "$ALCOVE" vsock-proxy --enclave-cid 5 --config "$T/allow.yaml" \
      8001 slow.example 443 2> "$T/err" &
    local pid=$! i
    sleep 0.5
    kill -0 "$pid"                      # still resolving
    local t0=$SECONDS
    kill -"$sig" "$pid"
    for i in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2> /dev/null || { kill -9 "$pid"; echo "SIG$sig: still running after 5 s"; return 1; }
    wait "$pid" || true
    [ $((SECONDS - t0)) -lt 5 ]
    # nothing made: no listener, and no runtime directory
    [ ! -e "$ALCOVE_RUNTIME_DIR/5.vsock_8001" ]
  done
  # once it listens, SIGTERM is a clean stop: the socket removed, status 0 (numeric
  # REMOTE_ADDR, resolved at once)
  printf 'allowlist:\n- {address: 127.0.0.1, port: 443}\n' > "$T/allow.yaml"
  "$ALCOVE" vsock-proxy --enclave-cid 5 --config "$T/allow.yaml" 8001 127.0.0.1 443 2> "$T/err" &
  pid=$!
  for i in $(seq 100); do [ -S "$ALCOVE_RUNTIME_DIR/5.vsock_8001" ] && break; sleep 0.1; done
  [ -S "$ALCOVE_RUNTIME_DIR/5.vsock_8001" ]
  kill -TERM "$pid"
  local st=0
  wait "$pid" || st=$?
  [ "$st" -eq 0 ]
  [ ! -e "$ALCOVE_RUNTIME_DIR/5.vsock_8001" ]
}

@test "an OCI or docker archive whose tar header claims 8 GiB costs what the archive holds, not 8 GiB" {
  python3 - "$T/big.tar" <<'PY'
import io, sys, tarfile
ti = tarfile.TarInfo("blobs/big")
ti.size = 8 << 30
open(sys.argv[1], "wb").write(ti.tobuf(tarfile.GNU_FORMAT) + b"x" * 4096)
PY
  for kind in oci docker; do
    run_limited build-enclave --$kind-archive "$T/big.tar" --output-file "$T/out.eif"
    [ "$status" -eq 49 ]; [[ "$output" == *"[ E49 ]"*"blobs/big"* ]]
    # it read the 4 KiB there are and found the rest missing (it asked for 8 GiB at once, which
    # a limit on its memory refused with 'out of memory')
    [[ "$output" == *"runcated"* ]] || { echo "$output"; return 1; }
    [ ! -e "$T/out.eif" ]
    [ -z "$(ls "$T" | grep '\.tmp\.')" ]
  done
}
