#!/bin/bash
# run.sh [DIR] [HOST_PORT]: the workflow for a Java web service, from nothing to curl:
# alcove init DIR, Debian's OpenJDK 17 and the compiled Greeter class into DIR/image,
# alcove build, alcove run with -p HOST_PORT:8080, then curl http://127.0.0.1:HOST_PORT/.
# KEEP=1 leaves the service running. ALCOVE: the alcove binary (default: alcove on PATH);
# CPUS: the enclave's vCPUs (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/image.sh"
ALCOVE=${ALCOVE:-alcove}
dir=${1:-java-web}
port=${2:-8080}
command -v javac > /dev/null || { echo "needs javac (openjdk-17-jdk-headless)" >&2; exit 1; }

[ -e "$dir/alcove.json" ] || "$ALCOVE" init "$dir"
jdk=$(image_add_jdk "$dir/image")
mkdir -p "$dir/image/app"
javac -d "$dir/image/app" "$here/Greeter.java"
set_entry_points "$dir" "$jdk/bin/java"
set_key "$dir" resource_limits.user_space_size '"1GB"'
set_key "$dir" resource_limits.max_num_of_threads 64
"$ALCOVE" build "$dir"

"$ALCOVE" run -c "${CPUS:-2}" -p "127.0.0.1:$port:8080" "$dir" "$jdk/bin/java" -Xmx512m \
  -XX:+UseSerialGC -cp /app Greeter 8080 &
pid=$!
trap '[ "${KEEP:-0}" = 1 ] || kill $pid 2> /dev/null || true' EXIT
wait_http "$port" "${WAIT:-900}" "$pid" || { echo "the service did not answer" >&2; exit 1; }
if [ "${KEEP:-0}" = 1 ]; then
  echo "serving on 127.0.0.1:$port (alcove pid $pid)" >&2
  wait $pid
fi
