# http_host.bash: an HTTP server on the host's loopback, the destination of the outbound tests
# (outbound.bats, oci_outbound.bats). The caller's teardown kills what BG_PIDS lists.

free_port() {
  python3 -c "
import socket
s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

# python3's http.server on 127.0.0.1 serving $T/www (index.txt: "hello from the host $$"); its
# port in HTTP_PORT, its pid added to BG_PIDS.
start_http() {
  mkdir -p "$T/www"
  echo "hello from the host $$" > "$T/www/index.txt"
  HTTP_PORT=$(free_port)
  python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$HTTP_PORT" \
    > "$T/http.log" 2>&1 &
  BG_PIDS+=("$!")
  local i
  for i in $(seq 200); do
    ss -ltn | grep -q "127.0.0.1:$HTTP_PORT " && return 0
    sleep 0.05
  done
  cat "$T/http.log"
  return 1
}
