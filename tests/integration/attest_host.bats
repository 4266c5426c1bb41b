#!/usr/bin/env bats
# attest_host.bats: attestation on the host, without an enclave: `alcove ca init/show`, documents
# made through the NSM request handler by tests/tools/mkdoc, checked by `alcove verify-attestation`
# and by the independent tests/integration/verify_doc.py (cbor2 + cryptography, no alcove code).
# Needs ALCOVE and MKDOC (meson test sets both).

: "${ALCOVE:?set ALCOVE to the alcove binary}"
: "${MKDOC:?set MKDOC to tests/tools/mkdoc}"
PY=${PYTHON_DEBIAN:-/usr/bin/python3}
CHECK="$BATS_TEST_DIRNAME/verify_doc.py"
PCR0=$(printf '10%.0s' {1..48})
PCR2=$(printf '12%.0s' {1..48})
# genuine AWS Nitro documents and AWS's root certificate (tests/data/nitro/README.md)
NITRO="$BATS_TEST_DIRNAME/../data/nitro"
AWS_ROOT="$NITRO/AWS_NitroEnclaves_Root-G1.pem"

setup() {
  T=$(mktemp -d)
  CA="$T/ca"
  "$ALCOVE" ca init --dir "$CA" > "$T/init.json"
}

teardown() {
  rm -rf "$T"
}

@test "ca init: 0700 directory, ca.pem 0644, ca.key 0600, fingerprint printed" {
  [ "$(stat -c %a "$CA")" = 700 ]
  [ "$(stat -c %a "$CA/ca.pem")" = 644 ]
  [ "$(stat -c %a "$CA/ca.key")" = 600 ]
  fp=$(openssl x509 -in "$CA/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2)
  grep -q "\"SHA256Fingerprint\": \"$fp\"" "$T/init.json"
  openssl x509 -in "$CA/ca.pem" -noout -text | grep -q 'CA:TRUE, pathlen:0'
}

@test "ca init refuses to replace a CA without --force; --force replaces it" {
  before=$(cat "$CA/ca.pem")
  run "$ALCOVE" ca init --dir "$CA"
  [ "$status" -eq 81 ]
  [[ "$output" == *"[ E81 ]"*"already exists"*"--force"* ]]
  [ "$(cat "$CA/ca.pem")" = "$before" ]
  run "$ALCOVE" ca init --dir "$CA" --force
  [ "$status" -eq 0 ]
  [ "$(cat "$CA/ca.pem")" != "$before" ]
}

@test "ca show prints the certificate; ALCOVE_CA_DIR is the default directory" {
  run env ALCOVE_CA_DIR="$CA" "$ALCOVE" ca show
  [ "$status" -eq 0 ]
  [ "$output" = "$(cat "$CA/ca.pem")" ]
  run "$ALCOVE" ca show --dir "$T/none"
  [ "$status" -eq 81 ]
}

@test "a document verifies with alcove and with the independent checker" {
  "$MKDOC" --ca-dir "$CA" --out "$T/doc" --nonce 00ff --user-data 68656c6c6f --public-key 0102
  run "$PY" "$CHECK" "$T/doc" "$CA/ca.pem" --nonce 00ff --pcr "0=$PCR0"
  echo "$output"
  [ "$status" -eq 0 ]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem" --nonce 00ff \
    --pcr "0=$PCR0" --pcr "2=$PCR2" --max-age 60
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *'"Valid": true'* ]]
  [[ "$output" == *'"UserData": "68656c6c6f"'* ]]
  [[ "$output" == *'"Nonce": "00ff"'* ]]
  [[ "$output" == *'"PublicKey": "0102"'* ]]
  [[ "$output" == *'"Debug": false'* ]]
  [[ "$output" == *'"Subject": "O=alcove,CN=i-0123456789abcdef0-enc0123456789abcdef"'* ]]
}

@test "an extended and locked PCR16 is in the document" {
  "$MKDOC" --ca-dir "$CA" --out "$T/doc" --extend 16=616263
  want=$("$PY" -c 'import hashlib; print(hashlib.sha384(bytes(48) + b"abc").hexdigest())')
  run "$PY" "$CHECK" "$T/doc" "$CA/ca.pem" --pcr "16=$want"
  [ "$status" -eq 0 ]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem" --pcr "16=$want"
  [ "$status" -eq 0 ]
}

@test "must fail: a flipped bit in the payload, the signature or the header" {
  "$MKDOC" --ca-dir "$CA" --out "$T/doc"
  size=$(stat -c %s "$T/doc")
  for off in 2 12 100 400 $((size / 2)) $((size - 60)) $((size - 1)); do
    cp "$T/doc" "$T/bad"
    "$PY" -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 0x04; open(p, "wb").write(b)' "$T/bad" "$off"
    run "$ALCOVE" verify-attestation --document "$T/bad" --ca "$CA/ca.pem"
    [ "$status" -eq 80 ]
    [[ "$output" == *"[ E80 ]"* ]]
    run "$PY" "$CHECK" "$T/bad" "$CA/ca.pem"
    [ "$status" -eq 1 ]
  done
}

@test "must fail: a document signed under another CA" {
  "$ALCOVE" ca init --dir "$T/other" > /dev/null
  "$MKDOC" --ca-dir "$T/other" --out "$T/doc"
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem"
  [ "$status" -eq 80 ]
  [[ "$output" == *"certificate chain: the root (cabundle[0]) is not the pinned CA"* ]]
  run "$PY" "$CHECK" "$T/doc" "$CA/ca.pem"
  [ "$status" -eq 1 ]
}

@test "must fail: a wrong PCR value" {
  "$MKDOC" --ca-dir "$CA" --out "$T/doc"
  wrong=$(printf '99%.0s' {1..48})
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem" --pcr "2=$wrong"
  [ "$status" -eq 80 ]
  [[ "$output" == *"policy: PCR2 is $PCR2, expected $wrong"* ]]
}

@test "must fail: a stale document with --max-age" {
  "$MKDOC" --ca-dir "$CA" --out "$T/doc" --age 50
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem" --max-age 120
  [ "$status" -eq 0 ]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem" --max-age 30
  [ "$status" -eq 80 ]
  [[ "$output" == *"old, more than the maximum age of 30 s"* ]]
}

@test "must fail: a wrong or missing nonce" {
  "$MKDOC" --ca-dir "$CA" --out "$T/doc" --nonce 0102
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem" --nonce 0103
  [ "$status" -eq 80 ]
  [[ "$output" == *"nonce mismatch: the document has 0102, expected 0103"* ]]
  "$MKDOC" --ca-dir "$CA" --out "$T/doc2"
  run "$ALCOVE" verify-attestation --document "$T/doc2" --ca "$CA/ca.pem" --nonce 0102
  [ "$status" -eq 80 ]
  [[ "$output" == *"the document has no nonce"* ]]
}

@test "must fail: a debug-mode document unless --accept-debug" {
  "$MKDOC" --ca-dir "$CA" --out "$T/doc" --debug
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem"
  [ "$status" -eq 80 ]
  [[ "$output" == *"debug-mode enclave"* ]]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem" --accept-debug
  [ "$status" -eq 0 ]
  [[ "$output" == *'"Debug": true'* ]]
}

@test "bad arguments and files" {
  run "$ALCOVE" verify-attestation --ca "$CA/ca.pem"
  [ "$status" -eq 2 ]   # an argument error, as nitro-cli's clap exits
  run "$ALCOVE" verify-attestation --document "$T/none" --ca "$CA/ca.pem"
  [ "$status" -eq 19 ]
  "$MKDOC" --ca-dir "$CA" --out "$T/doc"
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$CA/ca.pem" --pcr 40=00
  [ "$status" -eq 3 ]
  run "$ALCOVE" verify-attestation --document "$T/doc" --ca "$T/doc"
  [ "$status" -eq 19 ]
  head -c 100 "$T/doc" > "$T/short"
  run "$ALCOVE" verify-attestation --document "$T/short" --ca "$CA/ca.pem"
  [ "$status" -eq 80 ]
  [[ "$output" == *"malformed document"* ]]
}

@test "genuine AWS Nitro documents verify with AWS's root, --at a time inside their validity" {
  fp=$(openssl x509 -in "$AWS_ROOT" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)
  [ "$fp" = 641A0321A3E244EFE456463195D606317ED7CDCC3C1756E09893F3C68F79BB5B ]
  for at in 2024-09-07T14:38:39Z 2024-09-07T16:38:39.5+02:00 1725719919; do
    run "$ALCOVE" verify-attestation --document "$NITRO/blocky-2024-09-07.cbor" --ca "$AWS_ROOT" \
      --at "$at" --max-age 120
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *'"ModuleID": "i-0a22e5c5f24d22174-enc0191cceb4289903f"'* ]]
    [[ "$output" == *'"Timestamp": 1725719859545'* ]]
    [[ "$output" == *'"NotAfter": "2024-09-07T17:37:39Z"'* ]]
    [[ "$output" == *'"Debug": false'* ]]
  done
  run "$ALCOVE" verify-attestation --document "$NITRO/cape-2022-09-15.cbor" --ca "$AWS_ROOT" \
    --at 2022-09-15T17:44:24Z --nonce 47b5fba6979cbf7e567e2629
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *'"ModuleID": "i-0697c9729fa547b20-enc0183422ede9a5dc8"'* ]]
  run "$ALCOVE" verify-attestation --document "$NITRO/blocky-2024-09-07-debug.cbor" \
    --ca "$AWS_ROOT" --at 2024-09-07T14:39:00Z
  [ "$status" -eq 80 ]
  [[ "$output" == *"debug-mode enclave"* ]]
  run "$ALCOVE" verify-attestation --document "$NITRO/blocky-2024-09-07-debug.cbor" \
    --ca "$AWS_ROOT" --at 2024-09-07T14:39:00Z --accept-debug
  [ "$status" -eq 0 ]
  [[ "$output" == *'"Debug": true'* ]]
}

@test "must fail: a genuine AWS document expired, under alcove's CA, with a flipped byte" {
  doc="$NITRO/blocky-2024-09-07.cbor"
  run "$ALCOVE" verify-attestation --document "$doc" --ca "$AWS_ROOT" --at 2024-09-07T17:37:40Z
  [ "$status" -eq 80 ]
  [[ "$output" == *"[ E80 ]"*"certificate chain: certificate has expired (at depth 0)"* ]]
  run "$ALCOVE" verify-attestation --document "$doc" --ca "$AWS_ROOT"
  [ "$status" -eq 80 ]
  [[ "$output" == *"certificate has expired"* ]]
  run "$ALCOVE" verify-attestation --document "$doc" --ca "$CA/ca.pem" --at 2024-09-07T14:38:39Z
  [ "$status" -eq 80 ]
  [[ "$output" == *"the root (cabundle[0]) is not the pinned CA"* ]]
  size=$(stat -c %s "$doc")
  for off in $((size - 99)) $((size - 1)); do # the payload's last byte, the signature's last
    cp "$doc" "$T/bad"
    "$PY" -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 0x01; open(p, "wb").write(b)' "$T/bad" "$off"
    run "$ALCOVE" verify-attestation --document "$T/bad" --ca "$AWS_ROOT" --at 2024-09-07T14:38:39Z
    [ "$status" -eq 80 ]
    [[ "$output" == *"signature does not verify"* ]]
  done
  for at in 2024-09-07T14:38:39 2024-09-07 0 -1 tomorrow; do
    run "$ALCOVE" verify-attestation --document "$doc" --ca "$AWS_ROOT" --at "$at"
    [ "$status" -eq 3 ]
    [[ "$output" == *"[ E03 ]"*"--at"* ]]
  done
}
