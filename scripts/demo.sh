#!/usr/bin/env bash
# demo.sh: the main job, end to end: builds alcove, builds an example enclave program (a static
# executable), runs it in an enclave with arguments, environment and stdin, and shows what it
# printed and how it exited. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "setup: Debian packages"
./scripts/setup.sh

step "build alcove (meson + ninja)"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
echo "built build/src/alcove ($(build/src/alcove --version))"

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  echo "demo: this machine has no usable /dev/kvm; alcove needs KVM to run an enclave" >&2
  exit 1
fi

step "build the example enclave program: musl-gcc -static examples/hello/hello.c"
mkdir -p build/examples
musl-gcc -static -O2 -o build/examples/hello examples/hello/hello.c
readelf -h build/examples/hello | sed -n 's/^ *Type: *//p; s/^ *Machine: *//p' | paste -sd' ' -

step "run it: alcove run --memory 64 --cpu-count 1 build/examples/hello one two"
echo "a line for the enclave's stdin" |
  build/src/alcove run --memory 64 --cpu-count 1 --env GREETING=hi build/examples/hello one two
echo "exit status: $?"

step "a program that crashes: the enclave reports the fault and the shell status"
status=0
build/src/alcove run build/tests/nullderef-musl-exec 2>&1 || status=$?
echo "exit status: $status (128 + SIGSEGV)"

step "package it as a measured enclave image (EIF) and run that: build-enclave, describe-eif"
build/src/alcove build-enclave --binary build/examples/hello --output-file build/examples/hello.eif
build/src/alcove describe-eif --eif-path build/examples/hello.eif |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print("CheckCRC:", d["CheckCRC"], " PCR2:", d["Measurements"]["PCR2"][:32] + "...")'
echo "from the image" | build/src/alcove run build/examples/hello.eif | head -3
