#!/usr/bin/env bash
# Run a command with the local Kafka up and every topic provisioned; stop the broker afterwards
# only if this script started it.  Usage: deploy/local/with-kafka.sh CMD [ARGS...]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}

started=""
if ! "$here/kafka.sh" status >/dev/null 2>&1; then
  "$here/kafka.sh" start >/dev/null
  started=1
fi
cleanup() { if [[ -n $started ]]; then "$here/kafka.sh" stop; fi; }
trap cleanup EXIT
port=${KAFKA_PORT:-9092}
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port
(cd "$root" && "$python" -m runtime provision >/dev/null)
"$@"
