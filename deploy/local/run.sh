#!/usr/bin/env bash
# `make run`: the local Kafka, every topic, and a gateway on ws://127.0.0.1:9000/ocpp/{station_id},
# in the foreground until Ctrl-C; then it stops what it started.
# Environment: KAFKA_PORT (9092), GATEWAY_PORT (9000), GATEWAY_HTTP_PORT (9100),
# GATEWAY_ARGS (extra gateway options, e.g. "--security-profile 1").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=$root/.venv/bin/python
log_dir=$here/.run/logs
mkdir -p "$log_dir"

pids=()
kafka_started=""
cleanup() {
  trap - INT TERM EXIT
  echo "run.sh: stopping" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n $kafka_started ]] && "$here/kafka.sh" stop
}
trap cleanup INT TERM EXIT

if ! "$here/kafka.sh" status >/dev/null 2>&1; then
  "$here/kafka.sh" start >/dev/null
  kafka_started=1
fi
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:${KAFKA_PORT:-9092}
(cd "$root" && "$python" -m contracts provision)

gateway_port=${GATEWAY_PORT:-9000}
http_port=${GATEWAY_HTTP_PORT:-9100}
# Security profile 0 (no station authentication) is for this local demo only.
# shellcheck disable=SC2086  # GATEWAY_ARGS is a word list on purpose
(cd "$root" && exec "$python" -m gateway --host 127.0.0.1 --port "$gateway_port" \
  --http-host 127.0.0.1 --http-port "$http_port" --instance 0 --security-profile 0 \
  ${GATEWAY_ARGS:-}) 2>>"$log_dir/gateway.log" &
pids+=($!)

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
cat <<MSG
chargebus is running:
  Kafka     $KAFKA_BOOTSTRAP_SERVERS
  gateway   ws://127.0.0.1:$gateway_port/ocpp/{station_id}   (logs: $log_dir/gateway.log)
  metrics   http://127.0.0.1:$http_port/metrics   health: /healthz /readyz
Ctrl-C stops everything this command started.
MSG
wait -n "${pids[@]}"
