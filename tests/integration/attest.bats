#!/usr/bin/env bats
# attest.bats: the NSM inside real enclaves: /dev/nsm with the Linux driver's ioctl (nsm_raw,
# hand-built CBOR) and through libnsm (nsm_lib), for musl and glibc; documents made in the
# enclave verified by `alcove verify-attestation` and by the independent verify_doc.py; PCRs
# equal to what build-enclave printed; debug mode; must-fail cases.

load helpers

PY=${PYTHON_DEBIAN:-/usr/bin/python3}
CHECK="$BATS_TEST_DIRNAME/verify_doc.py"

setup_file() {
  export ALCOVE_CA_DIR=$BATS_FILE_TMPDIR/ca
  "$ALCOVE" ca init > /dev/null
  "$ALCOVE" ca init --dir "$BATS_FILE_TMPDIR/other-ca" > /dev/null
  "$ALCOVE" build-enclave --binary "$(prog nsm_lib-musl-exec)" \
    --output-file "$BATS_FILE_TMPDIR/nsm.eif" > "$BATS_FILE_TMPDIR/nsm.json"
  # the same program with the attesting command line as the image's own
  "$ALCOVE" build-enclave --binary "$(prog nsm_lib-musl-exec)" \
    --cmd '/nsm_lib-musl-exec --attest 00112233445566778899' \
    --output-file "$BATS_FILE_TMPDIR/nsm-attest.eif" > "$BATS_FILE_TMPDIR/nsm-attest.json"
}

setup() {
  export ALCOVE_CA_DIR=$BATS_FILE_TMPDIR/ca
  export ALCOVE_RUNTIME_DIR=$BATS_TEST_TMPDIR/rt
  T=$BATS_TEST_TMPDIR
}

pcr() { python3 -c "import json; print(json.load(open('$BATS_FILE_TMPDIR/${2:-nsm}.json'))['Measurements']['PCR$1'])"; }

# launch_pcr N HEX ARG...: PCR N (0 or 2, given as HEX) of a launch with its own command line
# ARG... and no environment of its own, computed here independently (docs/attestation.md)
launch_pcr() {
  python3 - "$@" << 'PY'
import hashlib, struct, sys
n, pcr, args = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3:]
blob = struct.pack('<I', len(args)) + b''.join(a.encode() + b'\0' for a in args)
blob += struct.pack('<I', 0)
print(hashlib.sha384(pcr + hashlib.sha384(blob).digest()).hexdigest())
PY
}

# doc NONCE [alcove run options...]: an attestation document from a fresh enclave, into $T/doc
doc() {
  local nonce=$1
  shift
  "$ALCOVE" run "$@" "$BATS_FILE_TMPDIR/nsm.eif" /nsm_lib-musl-exec --attest "$nonce" > "$T/doc.hex"
  xxd -r -p "$T/doc.hex" > "$T/doc"
}

@test "/dev/nsm, raw ioctls with hand-built CBOR: every request and error (musl, glibc)" {
  require_kvm
  for v in "${VARIANTS[@]}"; do
    run "$ALCOVE" run "$(prog nsm_raw-$v)"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"nsm_raw: 27 checks, 0 failed"* ]]
  done
}

@test "libnsm: nsm-api's C functions and error codes (musl, glibc)" {
  require_kvm
  for v in "${VARIANTS[@]}"; do
    run "$ALCOVE" run "$(prog nsm_lib-$v)"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"nsm_lib: 32 checks, 0 failed"* ]]
  done
}

@test "a document from an EIF enclave: PCRs are the image's, the nonce is bound, both verifiers agree" {
  require_kvm
  "$ALCOVE" run "$BATS_FILE_TMPDIR/nsm-attest.eif" > "$T/doc.hex"
  xxd -r -p "$T/doc.hex" > "$T/doc"
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ALCOVE_CA_DIR/ca.pem" \
    --pcr 0="$(pcr 0 nsm-attest)" --pcr 1="$(pcr 1 nsm-attest)" --pcr 2="$(pcr 2 nsm-attest)" \
    --nonce 00112233445566778899 --max-age 60
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *'"Valid": true'* ]]
  [[ "$output" == *'"Nonce": "00112233445566778899"'* ]]
  [[ "$output" == *'"Debug": false'* ]]
  run "$PY" "$CHECK" "$T/doc" "$ALCOVE_CA_DIR/ca.pem" --nonce 00112233445566778899 \
    --pcr 0="$(pcr 0 nsm-attest)" --pcr 2="$(pcr 2 nsm-attest)"
  echo "$output"
  [ "$status" -eq 0 ]
  # the openssl command line agrees that the leaf chains to the CA
  "$PY" -c "
import cbor2, sys
d = cbor2.loads(open('$T/doc', 'rb').read())
p = cbor2.loads(d[2])
open('$T/leaf.der', 'wb').write(p['certificate'])
"
  openssl x509 -inform DER -in "$T/leaf.der" -out "$T/leaf.pem"
  openssl verify -CAfile "$ALCOVE_CA_DIR/ca.pem" "$T/leaf.pem"
}

@test "must-fail: wrong PCR, wrong nonce, another host's CA, a flipped bit, a stale document" {
  require_kvm
  doc aabbccdd
  ca=$ALCOVE_CA_DIR/ca.pem
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ca" --pcr 2="$(pcr 0)"
  [ "$status" -eq 80 ]; [[ "$output" == *"PCR2"* ]]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ca" --nonce aabbccde
  [ "$status" -eq 80 ]; [[ "$output" == *"nonce"* ]]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$BATS_FILE_TMPDIR/other-ca/ca.pem"
  [ "$status" -eq 80 ]
  run "$PY" "$CHECK" "$T/doc" "$BATS_FILE_TMPDIR/other-ca/ca.pem"
  [ "$status" -eq 1 ]
  # one bit in the signature, then one in the payload
  size=$(stat -c %s "$T/doc")
  for off in $((size - 10)) 200; do
    cp "$T/doc" "$T/bad"
    printf "$(printf '\\x%02x' $(( $(od -An -tu1 -j $off -N1 "$T/doc") ^ 1 )))" |
      dd of="$T/bad" bs=1 seek=$off conv=notrunc 2> /dev/null
    run "$ALCOVE" verify-attestation --document "$T/bad" --ca "$ca"
    [ "$status" -eq 80 ]
    run "$PY" "$CHECK" "$T/bad" "$ca"
    [ "$status" -eq 1 ]
  done
  sleep 2
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ca" --max-age 1
  [ "$status" -eq 80 ]; [[ "$output" == *"old"* || "$output" == *"age"* ]]
}

@test "debug mode: the image PCRs are zeros and the verifier refuses the document unless asked" {
  require_kvm
  doc 01 --debug-mode
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ALCOVE_CA_DIR/ca.pem"
  [ "$status" -eq 80 ]; [[ "$output" == *"debug"* ]]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ALCOVE_CA_DIR/ca.pem" --accept-debug
  [ "$status" -eq 0 ]
  zeros=$(printf '0%.0s' {1..96})
  [[ "$output" == *"\"0\": \"$zeros\""* ]]
  [[ "$output" == *'"Debug": true'* ]]
}

@test "without a host CA, Attestation answers InternalError and the enclave is told so" {
  require_kvm
  ALCOVE_CA_DIR=$T/no-ca run "$ALCOVE" run "$BATS_FILE_TMPDIR/nsm.eif" /nsm_lib-musl-exec --attest 01
  [ "$status" -eq 1 ]
  [[ "$output" == *"INTERNAL_ERROR"* || "$output" == *"InternalError"* ]]
  [[ "$output" == *"alcove ca init"* ]]
}

@test "must-fail: a launch with another command line or --env than the image's is measured: a verifier pinned to the image refuses it" {
  require_kvm
  # the image's own command, with --env added: PCR0 and PCR2 change, PCR1 (the kernel) does not
  "$ALCOVE" run --env SECRET_POLICY=off "$BATS_FILE_TMPDIR/nsm-attest.eif" > "$T/doc.hex"
  xxd -r -p "$T/doc.hex" > "$T/doc"
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ALCOVE_CA_DIR/ca.pem" \
    --pcr 0="$(pcr 0 nsm-attest)"
  echo "$output"
  [ "$status" -eq 80 ]
  [[ "$output" == *"PCR0"* ]]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ALCOVE_CA_DIR/ca.pem" \
    --pcr 2="$(pcr 2 nsm-attest)"
  [ "$status" -eq 80 ]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ALCOVE_CA_DIR/ca.pem" \
    --pcr 1="$(pcr 1 nsm-attest)"
  [ "$status" -eq 0 ]
  # another command than the image's: PCR0 and PCR2 are the image's extended with it, as a
  # verifier computes them (launch_pcr, independent of alcove's code)
  doc 0badc0de
  want0=$(launch_pcr 0 "$(pcr 0)" /nsm_lib-musl-exec --attest 0badc0de)
  want2=$(launch_pcr 2 "$(pcr 2)" /nsm_lib-musl-exec --attest 0badc0de)
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ALCOVE_CA_DIR/ca.pem" \
    --pcr 0="$want0" --pcr 1="$(pcr 1)" --pcr 2="$want2" --nonce 0badc0de
  echo "$output"
  [ "$status" -eq 0 ]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$ALCOVE_CA_DIR/ca.pem" \
    --pcr 0="$(pcr 0)"
  [ "$status" -eq 80 ]
}
