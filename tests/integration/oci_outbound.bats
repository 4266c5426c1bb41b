#!/usr/bin/env bats
# oci_outbound.bats: alcove-oci's outbound allowlist, the annotations alcove.allow
# (HOST:PORT[,HOST:PORT]...) and alcove.allowlist (a vsock-proxy.yaml file, relative to the
# bundle), read by the code that reads alcove run's --allow and --allowlist (docs/oci.md,
# docs/networking.md). Host-only: the values create takes and refuses (a refused one leaves
# nothing). Enclaves (skip loudly without /dev/kvm): a container fetches a page from the host's
# loopback through host.alcove.internal when the annotation allows it, and is refused (EACCES)
# when it does not; describe-enclaves shows a container's allowlist.

load helpers
load oci_helpers
load http_host

ALIAS=169.254.1.2 # ALC_HOST_ALIAS_V4, host.alcove.internal
BG_PIDS=()

# oci_helpers' teardown, after the HTTP server is gone
eval "oci_$(declare -f teardown)"
teardown() {
  stop_http
  oci_teardown
}

@test "oci_outbound: alcove.allow and alcove.allowlist make one list: in the debug log, state keeps the annotations" {
  printf 'allowlist:\n- {address: kms.example.com, port: 443}\n- {address: 10.0.0.1, port: 80}\n' \
    > "$T/allow.yaml"
  mkdir -p "$T/b"
  cp "$T/allow.yaml" "$T/b/allow.yaml"
  EDIT='c["annotations"]["alcove.allow"] = "host.alcove.internal:8080, Example.COM:443,[2001:db8::1]:80"
c["annotations"]["alcove.allowlist"] = "allow.yaml"' mkbundle "$T/b" true
  "${OCI[@]}" --debug create --bundle "$T/b" c1 > "$T/out" 2>&1 || { cat "$T/out" "$T/log.json"; return 1; }
  grep -F 'outbound allowlist: 5 destinations: host.alcove.internal:8080, example.com:443, [2001:db8::1]:80, kms.example.com:443, 10.0.0.1:80' \
    "$T/log.json"
  run "${OCI[@]}" state c1
  [ "$status" -eq 0 ]
  echo "$output" | python3 -c "
import json, sys
a = json.load(sys.stdin)['annotations']
assert a['alcove.allow'] == 'host.alcove.internal:8080, Example.COM:443,[2001:db8::1]:80', a
assert a['alcove.allowlist'] == 'allow.yaml', a"
  "${OCI[@]}" delete c1
  assert_nothing_left c1
  # an absolute path, and a rule named twice is kept once
  EDIT='c["annotations"]["alcove.allowlist"] = "'"$T"'/allow.yaml"
c["annotations"]["alcove.allow"] = "10.0.0.1:80"' mkbundle "$T/b" true
  "${OCI[@]}" --debug create --bundle "$T/b" c1 > "$T/out" 2>&1 || { cat "$T/out" "$T/log.json"; return 1; }
  grep -F 'outbound allowlist: 2 destinations: kms.example.com:443, 10.0.0.1:80' "$T/log.json"
  "${OCI[@]}" delete c1
  assert_nothing_left c1
  # features names both
  run "$ALCOVE_OCI" features
  echo "$output" | python3 -c 'import json, sys; a = json.load(sys.stdin)["annotations"]; assert "alcove.allow" in a and "alcove.allowlist" in a, a'
}

@test "oci_outbound: must-fail: values --allow and --allowlist refuse are refused, nothing is left" {
  local spec
  for spec in "" example.com :443 example.com:0 example.com:65536 "[::1]443" "exa mple.com:443" \
      127.0.0.1:22 "[::1]:22" 0.0.0.0:80 "example.com:443,,10.0.0.1:80" "example.com:443," \
      "example.com:443,nope"; do
    EDIT='c["annotations"]["alcove.allow"] = sys.argv[4]' mkbundle "$T/b" true "$spec"
    # (the value reaches python as the bundle's fourth argument: process.args gets it too)
    must_fail_create "annotation alcove.allow" || { echo "alcove.allow='$spec'"; return 1; }
  done
  EDIT='c["annotations"]["alcove.allow"] = "127.0.0.1:80"' mkbundle "$T/b" true
  must_fail_create "annotation alcove.allow=127.0.0.1:80: '127.0.0.1:80': '127.0.0.1' is a loopback"
  EDIT='c["annotations"]["alcove.allow"] = 443' mkbundle "$T/b" true
  must_fail_create "annotation alcove.allow: expected HOST:PORT"
  # a file that does not exist, one that is not vsock-proxy.yaml's format, a bad entry
  EDIT='c["annotations"]["alcove.allowlist"] = "none.yaml"' mkbundle "$T/b" true
  must_fail_create "annotation alcove.allowlist=none.yaml: $T/b/none.yaml: No such file"
  printf 'allowlist:\n- {address: example.com, port: nope}\n' > "$T/b/bad.yaml"
  EDIT='c["annotations"]["alcove.allowlist"] = "bad.yaml"' mkbundle "$T/b" true
  must_fail_create "annotation alcove.allowlist=bad.yaml: $T/b/bad.yaml: line 2"
  printf 'allowlist:\n- {address: "bad host", port: 443}\n' > "$T/b/bad2.yaml"
  EDIT='c["annotations"]["alcove.allowlist"] = "bad2.yaml"' mkbundle "$T/b" true
  must_fail_create "bad2.yaml: line 2: 'address' must be a host name"
  EDIT='c["annotations"]["alcove.allowlist"] = ""' mkbundle "$T/b" true
  must_fail_create "annotation alcove.allowlist: expected the path of a vsock-proxy.yaml file"
  # pcrs reads the bundle as create does
  run "$ALCOVE_OCI" pcrs --bundle "$T/b"
  [ "$status" -ne 0 ]
}

# ---- enclaves ----

stop_http() {
  local p
  for p in "${BG_PIDS[@]}"; do
    kill "$p" 2> /dev/null || true
    wait "$p" 2> /dev/null || true
  done
}

@test "oci_outbound: a container reaches the host's loopback when alcove.allow names it, EACCES when not" {
  require_kvm
  start_http
  mkdir -p "$T/b/rootfs"
  cp "$(prog out_connect-musl-exec)" "$T/b/rootfs/out_connect"
  EDIT='c["annotations"]["alcove.allow"] = "host.alcove.internal:'"$HTTP_PORT"'"' \
    mkbundle "$T/b" /out_connect "$ALIAS" "$HTTP_PORT" /index.txt
  timeout 300 "${OCI[@]}" run --bundle "$T/b" o1 > "$T/out" 2> "$T/err" && status=0 || status=$?
  cat "$T/out" "$T/err"
  [ "$status" -eq 0 ] || { cat "$T/log.json"; stop_http; return 1; }
  grep -q "connect: ok" "$T/out"
  grep -q "hello from the host $$" "$T/out"
  assert_nothing_left o1
  # the same through a vsock-proxy.yaml file next to config.json
  printf 'allowlist:\n- {address: host.alcove.internal, port: %s}\n' "$HTTP_PORT" > "$T/b/al.yaml"
  EDIT='c["annotations"]["alcove.allowlist"] = "al.yaml"' \
    mkbundle "$T/b" /out_connect "$ALIAS" "$HTTP_PORT" /index.txt
  timeout 300 "${OCI[@]}" run --bundle "$T/b" o2 > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 0 ] || { cat "$T/out" "$T/err" "$T/log.json"; stop_http; return 1; }
  grep -q "hello from the host $$" "$T/out"
  assert_nothing_left o2
  # another port, and no annotation at all: refused
  EDIT='c["annotations"]["alcove.allow"] = "host.alcove.internal:1"' \
    mkbundle "$T/b" /out_connect "$ALIAS" "$HTTP_PORT" /index.txt
  timeout 300 "${OCI[@]}" run --bundle "$T/b" o3 > "$T/out" 2> "$T/err" && status=0 || status=$?
  cat "$T/out" "$T/err"
  [ "$status" -eq 1 ] || { cat "$T/log.json"; stop_http; return 1; }
  grep -q "connect: EACCES" "$T/out"
  mkbundle "$T/b" /out_connect "$ALIAS" "$HTTP_PORT" /index.txt
  timeout 300 "${OCI[@]}" run --bundle "$T/b" o4 > "$T/out" 2> "$T/err" && status=0 || status=$?
  [ "$status" -eq 1 ] || { cat "$T/out" "$T/err" "$T/log.json"; stop_http; return 1; }
  grep -q "connect: EACCES" "$T/out"
  stop_http
  assert_nothing_left o4
}

@test "oci_outbound: describe-enclaves shows a container's allowlist" {
  require_kvm
  EDIT='c["annotations"]["alcove.allow"] = "example.com:443,host.alcove.internal:8080"' \
    mkbundle "$T/b" sh -c 'echo started; sleep 300'
  "${OCI[@]}" create --bundle "$T/b" c1 > "$T/out" 2> "$T/err"
  "${OCI[@]}" start c1
  local i
  for i in $(seq 1 300); do grep -q started "$T/out" && break; sleep 1; done
  grep -q started "$T/out" || { cat "$T/err" "$T/log.json"; return 1; }
  run "$ALCOVE" describe-enclaves
  echo "$output"
  [ "$status" -eq 0 ]
  echo "$output" | python3 -c "
import json, sys
d = [e for e in json.load(sys.stdin) if e.get('EnclaveName') == 'c1']
assert d, 'no enclave c1'
assert d[0]['OutboundAllowlist'] == [{'address': 'example.com', 'port': 443},
                                     {'address': 'host.alcove.internal', 'port': 8080}], d"
  "${OCI[@]}" delete --force c1
  assert_nothing_left c1
}
