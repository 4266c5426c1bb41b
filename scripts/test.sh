#!/usr/bin/env bash
# test.sh: builds alcove and runs every test: unit (cmocka), integration (bats: real enclaves,
# differential, must-fail, bad input), a short libFuzzer run of every fuzz target, and checks on
# the enclave kernel binary and the source formatting. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "setup: Debian packages"
./scripts/setup.sh

step "build (meson + ninja) in build/"
[ -f build/build.ninja ] || meson setup build
ninja -C build

have_kvm=yes
if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ] || ! ( exec 9<>/dev/kvm ) 2>/dev/null; then
  have_kvm=no
  cat <<'MSG'

######################################################################
#  NO USABLE /dev/kvm ON THIS MACHINE.                                #
#  Every test that runs an enclave is SKIPPED (not passed) here.      #
#  Unit tests, bad-input checks and fuzzing still run. To run the     #
#  enclave suites in a VM that has KVM (QEMU emulating AMD-V, slow):  #
#    ALCOVE_VM_SUITES="threads libos_pipes" ./scripts/test.sh         #
#  (or =all), or scripts/kvm-vm.sh -- meson test -C build ...         #
######################################################################
MSG
fi

step "enclave kernel: no segment both writable and executable"
if readelf -lW build/enclave/alcove-kernel.elf | awk '$1 == "LOAD" && $7 ~ /W/ && $7 ~ /E/' | grep -q .; then
  echo "FAIL: the enclave kernel has a W+X segment"; exit 1
fi
echo "ok"

step "the enclave kernel builds reproducibly (a second build directory gives the same bytes)"
repro=$(mktemp -d)
meson setup "$repro" > /dev/null
ninja -C "$repro" enclave/alcove-kernel.elf > /dev/null
cmp "$repro/enclave/alcove-kernel.elf" build/enclave/alcove-kernel.elf
rm -rf "$repro"
echo "ok: $(sha256sum build/enclave/alcove-kernel.elf | cut -c1-16)..."

step "source formatting (clang-format, .clang-format)"
if command -v clang-format >/dev/null; then
  files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src enclave lib include tests bench -name '*.[ch]')
  clang-format --dry-run --Werror $files
  echo "ok"
fi

step "unit and integration tests (meson test)"
if ! meson test -C build --print-errorlogs; then
  # Every test that failed runs once more; failing again fails the run. One that passes the
  # second time is printed as FLAKY (a bug to find, see README "Testing"), not hidden: the
  # enclave suites race real timers, vsock and the host's scheduler on a 2-CPU machine.
  failed=$(python3 -c 'import json
names = set()
for line in open("build/meson-logs/testlog.json"):
    t = json.loads(line)
    if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL"):
        names.add(t["name"].split(" / ")[-1])
print(" ".join(sorted(names)))')
  [ -n "$failed" ] || exit 1
  step "failed: $failed: once more"
  meson test -C build --print-errorlogs $failed
  printf '\n######################################################################\n'
  printf '#  FLAKY: %s failed, then passed when run again.\n' "$failed"
  printf '######################################################################\n'
fi

step "fuzzing: each target for ${FUZZ_SECONDS:=20}s (clang, libFuzzer, ASan, UBSan)"
if command -v clang >/dev/null; then
  [ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true
    targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
  ninja -C build-fuzz $(for t in $targets; do echo tests/fuzz/$t; done)
  for t in $targets; do mkdir -p "build-fuzz/corpus/${t#fuzz_}"; done
  cp build/tests/hello-musl-exec build/tests/hello-glibc-pie build-fuzz/corpus/elf/ 2>/dev/null || true
  cp build/tests/unit/x86_cover_sample build-fuzz/corpus/x86_cover/ 2>/dev/null || true
  printf '/bin/../abs/passwd' > build-fuzz/corpus/vfs/seed-links
  printf 'tmp/./new/' > build-fuzz/corpus/vfs/seed-create
  # alcove.json: the template alcove init writes, and one with every kind of field
  rm -rf build-fuzz/corpus/wf-seed && build/src/alcove init build-fuzz/corpus/wf-seed 2> /dev/null &&
    cp build-fuzz/corpus/wf-seed/alcove.json build-fuzz/corpus/wf_config/seed-init.json
  rm -rf build-fuzz/corpus/wf-seed
  printf '%s' '{"entry_points":["/a","/b/"],"mount":[{"target":"/d","type":"ramfs"}],"env":{"default":["A=1"],"untrusted":["B"]},"metadata":{"name":"n","debuggable":true},"process":{"default_stack_size":"1MB"}}' \
    > build-fuzz/corpus/wf_config/seed-all.json
  # the exec service's frames: a request with every item, stdin, a signal; and a rules file
  printf 'R\x18\x00\x00\x00A/bin/sh\x00A-c\x00EA=1\x00W/tmp\x00I\x02\x00\x00\x00hiI\x00\x00\x00\x00K\x01\x00\x00\x00\x0f' \
    > build-fuzz/corpus/exec_proto/seed-frames
  printf 'entry /bin\nentry /usr/bin/python3\nuntrusted FOO\n' > build-fuzz/corpus/exec_proto/seed-rules
  # seed the OCI/docker archive readers with archives and layers made here (whiteouts, links)
  python3 tests/fuzz/oci_seeds.py build-fuzz/corpus/oci_archive build-fuzz/corpus/oci_layer || true
  # seed the EIF parser with real images: plain and signed
  if [ ! -f build-fuzz/corpus/eif/hello.eif ]; then
    build/src/alcove build-enclave --binary build/tests/hello-musl-exec \
      --output-file build-fuzz/corpus/eif/hello.eif > /dev/null 2>&1 || true
    build/src/alcove build-enclave --binary build/tests/hello-musl-exec \
      --signing-certificate tests/data/eif/v5-cert.pem --private-key tests/data/eif/v5-key.pem \
      --output-file build-fuzz/corpus/eif/hello-signed.eif > /dev/null 2>&1 || true
  fi
  for t in ${targets//fuzz_/}; do
    build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
      build-fuzz/corpus/$t 2>&1 | tail -3
  done
else
  echo "SKIPPED: clang not installed"
fi

if [ "$have_kvm" = no ] && [ -n "${ALCOVE_VM_SUITES:-}" ] && [ "${ALCOVE_VM_SUITES}" != none ]; then
  # Without /dev/kvm the suites above skipped every enclave. On request they run again in a VM
  # whose (software) CPU emulates AMD-V, so that its kernel has KVM: real enclaves on real KVM,
  # 10-50 times slower than on hardware (the threads suite: about 6 minutes). Not by default:
  # all of them take longer than CI allows, and timing-sensitive tests are less reliable there.
  suites=$ALCOVE_VM_SUITES
  [ "$suites" = all ] && suites="--suite integration"
  step "enclave suites in a VM with KVM (scripts/kvm-vm.sh): $suites"
  ./scripts/kvm-vm.sh --timeout "${ALCOVE_VM_TIMEOUT:-4500}" -- \
    meson test -C build --no-rebuild --print-errorlogs --timeout-multiplier 4 $suites
fi

step "all tests passed"
