#!/bin/bash
# run.sh [DIR] [HOST_PORT]: the workflow for a Python web service, from nothing to curl:
# alcove init DIR, Debian's python3 and server.py into DIR/image, alcove build, alcove run with
# -p HOST_PORT:8080, then curl http://127.0.0.1:HOST_PORT/. KEEP=1 leaves the service running.
# ALCOVE: the alcove binary (default: alcove on PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/image.sh"
ALCOVE=${ALCOVE:-alcove}
dir=${1:-python-web}
port=${2:-8080}

[ -e "$dir/alcove.json" ] || "$ALCOVE" init "$dir"
image_add_python "$dir/image"
mkdir -p "$dir/image/app"
cp "$here/server.py" "$dir/image/app/"
set_entry_points "$dir" /usr/bin/python3
set_key "$dir" resource_limits.user_space_size '"256MB"'
"$ALCOVE" build "$dir"

"$ALCOVE" run -p "127.0.0.1:$port:8080" "$dir" /usr/bin/python3 /app/server.py 8080 &
pid=$!
trap '[ "${KEEP:-0}" = 1 ] || kill $pid 2> /dev/null || true' EXIT
wait_http "$port" "${WAIT:-600}" "$pid" || { echo "the service did not answer" >&2; exit 1; }
if [ "${KEEP:-0}" = 1 ]; then
  echo "serving on 127.0.0.1:$port (alcove pid $pid)" >&2
  wait $pid
fi
