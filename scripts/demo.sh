#!/usr/bin/env bash
# demo.sh: the main job, end to end: builds alcove and an example enclave application
# (examples/attest-server: serves attestation documents over vsock), packages it as a measured
# image (EIF), starts it as a detached enclave, asks it over vsock for an attestation document
# bound to a fresh nonce, and verifies that document against the host's attestation CA and the
# PCRs build-enclave printed. Then an unmodified web server (Debian's busybox httpd) in an
# enclave, reached from the host with curl through a published port (-p), and a foreground
# `alcove run`. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "setup: Debian packages"
./scripts/setup.sh

step "build alcove (meson + ninja)"
[ -f build/build.ninja ] || meson setup build > /dev/null
ninja -C build > /dev/null
A=build/src/alcove
echo "built $A ($($A --version))"

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  echo "demo: this machine has no usable /dev/kvm; alcove needs KVM to run an enclave" >&2
  exit 1
fi

# the demo's own runtime directory and CA, so that it never touches the host's enclaves or CA
work=$(mktemp -d /tmp/alcove-demo.XXXXXX)
export ALCOVE_RUNTIME_DIR=$work/run ALCOVE_CA_DIR=$work/ca
cleanup() {
  $A terminate-enclave --all > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step "the host's attestation CA (ECDSA P-384): alcove ca init"
$A ca init

step "package the example as a measured enclave image: alcove build-enclave"
echo "examples/attest-server: a static C program (libnsm + AF_VSOCK) built by meson"
$A build-enclave --binary build/examples/attest-server/attest-server-musl \
  --cmd '/attest-server-musl 5005' --name attest-server --version 1.0 \
  --output-file "$work/attest-server.eif" | tee "$work/measurements.json"
pcr() { python3 -c "import json; print(json.load(open('$work/measurements.json'))['Measurements']['PCR$1'])"; }

step "start it detached: alcove run-enclave (waits for the enclave's vsock heartbeat)"
$A run-enclave --eif-path "$work/attest-server.eif" --cpu-count 1 --memory 64 | tee "$work/run.json"
cid=$(python3 -c "import json; print(json.load(open('$work/run.json'))['EnclaveCID'])")
$A describe-enclaves | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    print("describe-enclaves: %s CID %d State %s Flags %s vsock %s" %
          (e["EnclaveName"], e["EnclaveCID"], e["State"], e["Flags"], e["VsockSocket"]))'

step "ask it over vsock for an attestation document bound to a fresh nonce: alcove connect"
nonce=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
echo "nonce: $nonce"
echo "NONCE $nonce" | $A connect --enclave-cid "$cid" --port 5005 > "$work/reply"
head -c 40 "$work/reply" | head -1
python3 - "$work/reply" "$work/doc" << 'EOF'
import sys
data = open(sys.argv[1], 'rb').read()
head, _, rest = data.partition(b'\n')
assert head.startswith(b'DOC '), data[:80]
n = int(head[4:])
assert len(rest) == n, (len(rest), n)
open(sys.argv[2], 'wb').write(rest)
print("received a %d-byte attestation document (COSE_Sign1, starts %s)" % (n, rest[:6].hex()))
EOF

step "verify it: signature, chain to the pinned CA, PCRs of the image, the nonce, its age"
$A verify-attestation --document "$work/doc" --ca "$ALCOVE_CA_DIR/ca.pem" \
  --pcr 0="$(pcr 0)" --pcr 1="$(pcr 1)" --pcr 2="$(pcr 2)" --nonce "$nonce" --max-age 60 |
  python3 -c '
import json, sys
d = json.load(sys.stdin)
print(json.dumps({k: d[k] for k in ("Valid", "ModuleID", "Digest", "Nonce", "Debug")}, indent=2))
print("PCR0:", d["PCRs"]["0"][:32] + "...  certificate:", d["Certificate"]["Subject"])'
echo "and with code that shares nothing with alcove (python3-cbor2, python3-cryptography):"
/usr/bin/python3 tests/integration/verify_doc.py "$work/doc" "$ALCOVE_CA_DIR/ca.pem" \
  --nonce "$nonce" --pcr 0="$(pcr 0)" --pcr 2="$(pcr 2)"
echo "a wrong nonce is refused:"
$A verify-attestation --document "$work/doc" --ca "$ALCOVE_CA_DIR/ca.pem" --nonce 00 2>&1 |
  head -1 || true

step "stop it: alcove terminate-enclave"
$A terminate-enclave --all
echo "left in the runtime directory: $(ls "$ALCOVE_RUNTIME_DIR" | grep -v allocator.lock || true)"

step "an unmodified web server in an enclave, reached from the host: alcove run -p"
port=$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
echo "Debian's busybox httpd (it knows nothing of vsock) listens on TCP port 80 inside; the host"
echo "publishes it on 127.0.0.1:$port, and every byte crosses vsock"
mkdir -p "$work/web/bin" "$work/web/www"
cp /bin/busybox "$work/web/bin/"
echo "<h1>hello from an enclave</h1>" > "$work/web/www/index.html"
$A run --memory 64 -p "127.0.0.1:$port:80" --rootfs "$work/web" \
  /bin/busybox httpd -f -p 80 -h /www &
web=$!
for _ in $(seq 100); do
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" && break
  sleep 0.2
done
echo "curl http://127.0.0.1:$port/"
curl -sS --max-time 10 "http://127.0.0.1:$port/"
kill "$web"
wait "$web" 2> /dev/null || true

step "a program in the foreground: alcove run (stdin, arguments, environment, exit status)"
mkdir -p build/examples
musl-gcc -static -O2 -o build/examples/hello examples/hello/hello.c
status=0
echo "a line for the enclave's stdin" |
  $A run --memory 64 --cpu-count 1 --env GREETING=hi build/examples/hello one two || status=$?
echo "exit status: $status"
