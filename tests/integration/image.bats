#!/usr/bin/env bats
# image.bats: enclave images (EIF): build-enclave from a binary, a directory, an OCI layout made
# by umoci and a docker-save archive made by skopeo; describe-eif, pcr, sign-eif; reproducible
# builds; and images that must not boot.

load helpers

EIFTOOL="$BATS_TEST_DIRNAME/eiftool.py"
export SOURCE_DATE_EPOCH=1700000000

# json FILE EXPR: evaluates a Python expression over the JSON in FILE (bound to j)
json() { python3 -c "import json,sys; j=json.load(open('$1')); print($2)"; }

build() { "$ALCOVE" build-enclave "$@" 2> "$BATS_TEST_TMPDIR/build.err"; }

# make_keys N [FROM_DAYS TO_DAYS]: keyN.pem and certN.pem (P-384, self-signed, CN alcove-test-N)
make_keys() {
  local d=$BATS_TEST_TMPDIR n=$1
  python3 "$BATS_TEST_DIRNAME/mkcert.py" "$d/key$n.pem" "$d/cert$n.pem" "alcove-test-$n" \
    "${2:--1}" "${3:-365}"
}

@test "build-enclave --binary: the Measurements JSON, describe-eif, and the image runs" {
  local e=$BATS_TEST_TMPDIR/hello.eif
  build --binary "$(prog hello-glibc-exec)" --output-file "$e" > "$BATS_TEST_TMPDIR/m.json"
  grep -q "Start building the Enclave Image" "$BATS_TEST_TMPDIR/build.err"
  [ "$(json "$BATS_TEST_TMPDIR/m.json" "sorted(j['Measurements'])")" = "['HashAlgorithm', 'PCR0', 'PCR1', 'PCR2']" ]
  [ "$(json "$BATS_TEST_TMPDIR/m.json" "len(j['Measurements']['PCR0'])")" = 96 ]
  "$ALCOVE" describe-eif --eif-path "$e" > "$BATS_TEST_TMPDIR/d.json"
  [ "$(json "$BATS_TEST_TMPDIR/d.json" "[k for k in j]")" = "['EifVersion', 'Measurements', 'IsSigned', 'CheckCRC', 'ImageName', 'ImageVersion', 'Metadata']" ]
  [ "$(json "$BATS_TEST_TMPDIR/d.json" "j['CheckCRC'], j['IsSigned'], j['EifVersion']")" = "True False 4" ]
  [ "$(json "$BATS_TEST_TMPDIR/d.json" "j['Measurements'] == json.load(open('$BATS_TEST_TMPDIR/m.json'))['Measurements']")" = True ]
  require_kvm
  run "$ALCOVE" run "$e"
  [ "$status" -eq 0 ]
  [[ "$output" == *"hello from an enclave"* ]]
}

@test "the same inputs give the same bytes; PCR1 is the same for every application" {
  local d=$BATS_TEST_TMPDIR
  build --binary "$(prog hello-musl-exec)" --output-file "$d/a.eif" > "$d/a.json"
  build --binary "$(prog hello-musl-exec)" --output-file "$d/b.eif" > "$d/b.json"
  cmp "$d/a.eif" "$d/b.eif"
  SOURCE_DATE_EPOCH=1800000000 build --binary "$(prog hello-musl-exec)" --output-file "$d/c.eif" > "$d/c.json"
  ! cmp -s "$d/a.eif" "$d/c.eif"          # the build time is in the metadata ...
  cmp "$d/a.json" "$d/c.json"              # ... which is not measured
  build --binary "$(prog args-musl-exec)" --output-file "$d/e.eif" > "$d/e.json"
  [ "$(json "$d/a.json" "j['Measurements']['PCR1']")" = "$(json "$d/e.json" "j['Measurements']['PCR1']")" ]
  [ "$(json "$d/a.json" "j['Measurements']['PCR2']")" != "$(json "$d/e.json" "j['Measurements']['PCR2']")" ]
}

@test "pcr --input agrees with an independent computation" {
  local f=$BATS_TEST_TMPDIR/f
  printf 'abc' > "$f"
  run "$ALCOVE" pcr --input "$f"
  [ "$status" -eq 0 ]
  [[ "$output" == *'"PCR": "93732e3733514a841c982cfa75ea76ab55fe011acb9cd980ef4523913c65be1b0998e04d77f8c174f81a82151619ca40"'* ]]
}

@test "build-enclave --rootfs: a directory tree with busybox; run with its cmd and with another" {
  local r=$BATS_TEST_TMPDIR/tree
  mkdir -p "$r/bin" "$r/etc/sub"
  cp /bin/busybox "$r/bin/"
  for a in cat ls wc; do ln -s busybox "$r/bin/$a"; done
  printf 'one\ntwo\nthree\n' > "$r/etc/sub/lines"
  build --rootfs "$r" --cmd '["/bin/wc", "-l", "/etc/sub/lines"]' --env GREETING=hi \
    --output-file "$BATS_TEST_TMPDIR/tree.eif" > /dev/null
  require_kvm
  run "$ALCOVE" run "$BATS_TEST_TMPDIR/tree.eif"
  [ "$status" -eq 0 ]
  [ "$output" = "3 /etc/sub/lines" ]
  run "$ALCOVE" run "$BATS_TEST_TMPDIR/tree.eif" cat /etc/sub/lines
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'one\ntwo\nthree')" ]
  run "$ALCOVE" run --rootfs "$r" ls /etc/sub
  [ "$status" -eq 0 ]
  [ "$output" = "lines" ]
}

# An OCI image made by umoci: two layers, the second deletes a file (a whiteout) and adds one.
make_oci() {
  local d=$BATS_TEST_TMPDIR/oci
  mkdir -p "$d" && cd "$d"
  umoci init --layout img
  umoci new --image img:v1
  umoci config --image img:v1 --config.cmd /bin/cat --config.cmd /etc/one --config.cmd /etc/two \
    --config.env FOO=bar --config.volume /data --architecture amd64
  umoci unpack --rootless --image img:v1 bundle > /dev/null
  mkdir -p bundle/rootfs/bin bundle/rootfs/etc
  cp /bin/busybox bundle/rootfs/bin/
  ln -s busybox bundle/rootfs/bin/cat
  echo "from layer one" > bundle/rootfs/etc/one
  echo "to be deleted" > bundle/rootfs/etc/deleteme
  umoci repack --image img:v1 bundle
  rm bundle/rootfs/etc/deleteme
  echo "from layer two" > bundle/rootfs/etc/two
  umoci repack --image img:v1 bundle
  (cd img && tar cf ../img-oci.tar .)
  skopeo copy oci:img:v1 docker-archive:img-docker.tar:test/img:v1 > /dev/null 2>&1
  cd - > /dev/null
}

@test "build-enclave --oci-archive (umoci) and --docker-archive (skopeo): layers, whiteouts, Cmd" {
  command -v umoci >/dev/null || skip "umoci not installed"
  make_oci
  local d=$BATS_TEST_TMPDIR/oci
  build --oci-archive "$d/img-oci.tar" --output-file "$d/oci.eif" > "$d/oci.json"
  build --docker-archive "$d/img-docker.tar" --output-file "$d/docker.eif" > "$d/docker.json"
  # both give the same application, so the same measurements
  [ "$(json "$d/oci.json" "j['Measurements']['PCR2']")" = "$(json "$d/docker.json" "j['Measurements']['PCR2']")" ]
  "$ALCOVE" describe-eif --eif-path "$d/docker.eif" > "$d/desc.json"
  [ "$(json "$d/desc.json" "j['ImageVersion']")" = v1 ]
  require_kvm
  for e in oci docker; do
    run "$ALCOVE" run "$d/$e.eif"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'from layer one\nfrom layer two')" ]
    run "$ALCOVE" run "$d/$e.eif" /bin/cat /etc/deleteme
    [ "$status" -eq 1 ]
    [[ "$output" == *"No such file"* ]]
    # the image's volume is a writable tmpfs; the rest of the image is not
    run "$ALCOVE" run "$d/$e.eif" /bin/busybox sh -c 'echo v > /data/f && read x < /data/f && echo "got $x"; echo w > /etc/w'
    [ "$status" -eq 1 ]
    [[ "$output" == *"got v"* ]]
    [[ "$output" == *"Read-only file system"* ]]
  done
}

@test "signed images: PCR8, describe-eif, sign-eif appends and replaces, run checks it" {
  local d=$BATS_TEST_TMPDIR
  make_keys 1
  make_keys 2
  build --binary "$(prog hello-musl-exec)" --signing-certificate "$d/cert1.pem" \
    --private-key "$d/key1.pem" --output-file "$d/s.eif" > "$d/s.json"
  [ "$(json "$d/s.json" "sorted(j['Measurements'])")" = "['HashAlgorithm', 'PCR0', 'PCR1', 'PCR2', 'PCR8']" ]
  "$ALCOVE" pcr --signing-certificate "$d/cert1.pem" > "$d/p8.json"
  [ "$(json "$d/s.json" "j['Measurements']['PCR8']")" = "$(json "$d/p8.json" "j['PCR8']")" ]
  "$ALCOVE" describe-eif --eif-path "$d/s.eif" > "$d/sd.json"
  [ "$(json "$d/sd.json" "j['IsSigned'], j['SignatureCheck'], j['CheckCRC']")" = "True True True" ]
  [ "$(json "$d/sd.json" "j['SigningCertificate']['IssuerName']['commonName']")" = alcove-test-1 ]
  [ "$(json "$d/sd.json" "j['SigningCertificate']['Algorithm']")" = ecdsa-with-SHA384 ]
  # sign an unsigned image, then re-sign it with another key
  build --binary "$(prog hello-musl-exec)" --output-file "$d/u.eif" > "$d/u.json"
  "$ALCOVE" sign-eif --eif-path "$d/u.eif" --signing-certificate "$d/cert1.pem" --private-key "$d/key1.pem" > "$d/u1.json"
  [ "$(json "$d/u1.json" "j['Measurements']['PCR0']")" = "$(json "$d/u.json" "j['Measurements']['PCR0']")" ]
  [ "$(json "$d/u1.json" "j['Measurements']['PCR8']")" = "$(json "$d/s.json" "j['Measurements']['PCR8']")" ]
  "$ALCOVE" sign-eif --eif-path "$d/u.eif" --signing-certificate "$d/cert2.pem" --private-key "$d/key2.pem" > "$d/u2.json"
  [ "$(json "$d/u2.json" "j['Measurements']['PCR8']")" != "$(json "$d/u1.json" "j['Measurements']['PCR8']")" ]
  python3 "$EIFTOOL" info "$d/u.eif" | awk '{print $2}' | paste -sd' ' | grep -qx "1 2 5 3 3 4"
  "$ALCOVE" describe-eif --eif-path "$d/u.eif" > "$d/ud.json"
  [ "$(json "$d/ud.json" "j['SignatureCheck'], j['CheckCRC']")" = "True True" ]
  require_kvm
  run "$ALCOVE" run "$d/u.eif"
  [ "$status" -eq 0 ]
}

@test "describe-eif prints the issuer's whole name, every attribute, as nitro-cli prints it" {
  local d=$BATS_TEST_TMPDIR
  # several attributes, one of them twice, a quote and a backslash in a value
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -days 30 \
    -keyout "$d/key.pem" -out "$d/cert.pem" -sha384 \
    -subj '/C=DE/ST=Berlin/L=Mitte/O=Example "q" \\ Org/OU=second/OU=first/CN=signer.example' 2> /dev/null
  build --binary "$(prog hello-musl-exec)" --signing-certificate "$d/cert.pem" \
    --private-key "$d/key.pem" --output-file "$d/s.eif" > /dev/null
  "$ALCOVE" describe-eif --eif-path "$d/s.eif" > "$d/sd.json"
  # a map sorted by key (a BTreeMap in nitro-cli), the last value of a repeated key, each value
  # as Rust's Debug writes it with the quotes removed (so '"' leaves its backslash)
  run python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["SigningCertificate"]["IssuerName"]))' "$d/sd.json"
  [ "$output" = '{"commonName": "signer.example", "countryName": "DE", "localityName": "Mitte", "organizationName": "Example \\q\\ \\\\ Org", "organizationalUnitName": "first", "stateOrProvinceName": "Berlin"}' ]
}

@test "tampered images do not boot: a flipped byte in each section, truncation, sizes, 33 sections" {
  local d=$BATS_TEST_TMPDIR
  build --binary "$(prog hello-musl-exec)" --output-file "$d/t.eif" > /dev/null
  for i in 0 1 2 3 4; do
    python3 "$EIFTOOL" flip "$d/t.eif" "$d/f$i.eif" "$i"
    run "$ALCOVE" run "$d/f$i.eif"
    echo "section $i: $output"
    [ "$status" -eq 126 ]
    [[ "$output" == *"[ E35 ]"*"CRC"* ]]
    "$ALCOVE" describe-eif --eif-path "$d/f$i.eif" > "$d/fd.json"
    [ "$(json "$d/fd.json" "j['CheckCRC']")" = False ]
  done
  python3 "$EIFTOOL" truncate "$d/t.eif" "$d/short.eif" 1000
  run "$ALCOVE" run "$d/short.eif"
  [ "$status" -eq 126 ]; [[ "$output" == *"[ E35 ]"* ]]
  python3 "$EIFTOOL" oversize "$d/t.eif" "$d/big.eif"
  run "$ALCOVE" run "$d/big.eif"
  [ "$status" -eq 126 ]; [[ "$output" == *"[ E35 ]"* ]]
  python3 "$EIFTOOL" sections33 "$d/t.eif" "$d/s33.eif"
  run "$ALCOVE" run "$d/s33.eif"
  [ "$status" -eq 126 ]; [[ "$output" == *"[ E35 ]"* ]]
  run "$ALCOVE" describe-eif --eif-path "$d/s33.eif"
  [ "$status" -eq 35 ]
}

@test "a wrong signature and an expired certificate do not boot" {
  local d=$BATS_TEST_TMPDIR
  make_keys 1
  build --binary "$(prog hello-musl-exec)" --signing-certificate "$d/cert1.pem" \
    --private-key "$d/key1.pem" --output-file "$d/s.eif" > /dev/null
  # a bit flipped in the signature itself (the last byte of s), the CRC made right again
  python3 "$EIFTOOL" flip-last-fixcrc "$d/s.eif" "$d/bad.eif" 5
  run "$ALCOVE" run "$d/bad.eif"
  echo "$output"
  [ "$status" -eq 126 ]
  [[ "$output" == *"[ E59 ]"* ]]
  run "$ALCOVE" describe-eif --eif-path "$d/bad.eif"
  [ "$status" -eq 35 ]
  # PCR0 changed under a valid signature: the contents are not what was signed
  python3 "$EIFTOOL" flip-fixcrc "$d/s.eif" "$d/other.eif" 4
  run "$ALCOVE" run "$d/other.eif"
  [ "$status" -eq 126 ]
  [[ "$output" == *"[ E59 ]"* ]]
  make_keys 3 -30 -1 # expired yesterday
  "$ALCOVE" build-enclave --binary "$(prog hello-musl-exec)" --signing-certificate "$d/cert3.pem" \
    --private-key "$d/key3.pem" --output-file "$d/old.eif" > /dev/null 2>&1
  run "$ALCOVE" run "$d/old.eif"
  [ "$status" -eq 126 ]
  [[ "$output" == *"[ E59 ]"*"valid"* ]]
  # a certificate whose key did not make the signature: sign with key 1, present certificate 3
  run "$ALCOVE" sign-eif --eif-path "$d/s.eif" --signing-certificate "$d/cert3.pem" \
    --private-key "$d/key1.pem" --output-file "$d/mixed.eif"
  if [ "$status" -eq 0 ]; then
    run "$ALCOVE" run "$d/mixed.eif"
    [ "$status" -eq 126 ]
    [[ "$output" == *"[ E59 ]"* ]]
  else
    [[ "$output" == *"[ E60 ]"* ]] # refused at signing: the key does not match the certificate
  fi
}

@test "an EIF with a Linux kernel is refused with a clear message" {
  python3 "$EIFTOOL" bzimage "$BATS_TEST_TMPDIR/linux.eif"
  run "$ALCOVE" run "$BATS_TEST_TMPDIR/linux.eif"
  echo "$output"
  [ "$status" -eq 126 ]
  [[ "$output" == *"Linux"* ]]
  run "$ALCOVE" describe-eif --eif-path "$BATS_TEST_TMPDIR/linux.eif"
  [ "$status" -eq 0 ]
}

@test "build-enclave's bad input: no source, two sources, a cert without a key, a missing file" {
  # argument errors exit 2, as nitro-cli's clap
  run "$ALCOVE" build-enclave --output-file "$BATS_TEST_TMPDIR/x.eif"
  [ "$status" -eq 2 ]; [[ "$output" == *"[ E01 ]"* ]]
  run "$ALCOVE" build-enclave --binary a --rootfs b --output-file "$BATS_TEST_TMPDIR/x.eif"
  [ "$status" -eq 2 ]; [[ "$output" == *"[ E02 ]"* ]]
  run "$ALCOVE" build-enclave --binary a --signing-certificate c --output-file "$BATS_TEST_TMPDIR/x.eif"
  [ "$status" -eq 2 ]
  run "$ALCOVE" build-enclave --binary /nonexistent --output-file "$BATS_TEST_TMPDIR/x.eif"
  [ "$status" -ne 0 ]
  [ ! -e "$BATS_TEST_TMPDIR/x.eif" ]
  [ -z "$(ls "$BATS_TEST_TMPDIR" | grep '\.tmp\.')" ]
}
