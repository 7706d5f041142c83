#!/usr/bin/env bash
# `make run`: the local Kafka, every topic, a gateway on ws://127.0.0.1:9000/ocpp/{station_id},
# a sessions worker, the sessions API on :8080, a billing worker, the billing API on :8082 with a
# demo tariff, a load balancing worker, the load balancing API on :8083 with a demo site of the
# simulated stations (its capacity: 16 A per station), an alerts worker, the certificates
# service with a dev CA, and a few simulated stations that charge, in the foreground until
# Ctrl-C; then it stops what it started.
# Environment: FRESH (1: start from an empty broker), KAFKA_PORT (9092), GATEWAY_PORT (9000), GATEWAY_HTTP_PORT (9100),
# GATEWAY_ARGS (extra gateway options), STATIONS (5), API_PORT (8080), BILLING_API_PORT (8082),
# LOADBALANCE_HTTP_PORT (9400), LOADBALANCE_API_PORT (8083), ALERTS_HTTP_PORT (9500),
# CERTIFICATES_HTTP_PORT (9600).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=$root/.venv/bin/python
log_dir=$here/.run/logs
mkdir -p "$log_dir"

pids=()
summary_pid=""
kafka_started=""
cleanup() {
  trap - INT TERM EXIT
  [[ -n $summary_pid ]] && kill -TERM "$summary_pid" 2>/dev/null
  echo "run.sh: stopping" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n $kafka_started ]] && "$here/kafka.sh" stop
}
trap cleanup INT TERM EXIT

if ! "$here/kafka.sh" status >/dev/null 2>&1; then
  if [[ -n ${FRESH:-} ]]; then  # a clean slate: the broker's data of this port removed
    rm -rf "$here/.run/${KAFKA_PORT:-9092}"
  fi
  "$here/kafka.sh" start >/dev/null
  kafka_started=1
elif [[ -n ${FRESH:-} ]]; then
  echo "run.sh: FRESH=1 needs the broker stopped first (make kafka-stop)" >&2
  exit 2
fi
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:${KAFKA_PORT:-9092}
(cd "$root" && "$python" -m runtime provision)

gateway_port=${GATEWAY_PORT:-9000}
http_port=${GATEWAY_HTTP_PORT:-9100}
# Security profile 0 (no station authentication) is for this local demo only.
# shellcheck disable=SC2086  # GATEWAY_ARGS is a word list on purpose
(cd "$root" && exec "$python" -m gateway --host 127.0.0.1 --port "$gateway_port" \
  --http-host 127.0.0.1 --http-port "$http_port" --instance 0 --security-profile 0 \
  ${GATEWAY_ARGS:-}) 2>>"$log_dir/gateway.log" &
pids+=($!)

sessions_port=${SESSIONS_HTTP_PORT:-9200}
(cd "$root" && exec "$python" -m services.sessions --http-host 127.0.0.1 \
  --http-port "$sessions_port") 2>>"$log_dir/sessions.log" &
pids+=($!)
api_port=${API_PORT:-8080}
(cd "$root" && exec "$python" -m services.sessions.api --host 127.0.0.1 --port "$api_port") \
  2>>"$log_dir/api.log" &
pids+=($!)

billing_port=${BILLING_HTTP_PORT:-9300}
(cd "$root" && exec "$python" -m services.billing --http-host 127.0.0.1 \
  --http-port "$billing_port" --time-zone Europe/Amsterdam) 2>>"$log_dir/billing.log" &
pids+=($!)
billing_api_port=${BILLING_API_PORT:-8082}
(cd "$root" && exec "$python" -m services.billing.api --host 127.0.0.1 \
  --port "$billing_api_port") 2>>"$log_dir/billing-api.log" &
pids+=($!)
loadbalance_port=${LOADBALANCE_HTTP_PORT:-9400}
(cd "$root" && exec "$python" -m services.loadbalance --http-host 127.0.0.1 \
  --http-port "$loadbalance_port") 2>>"$log_dir/loadbalance.log" &
pids+=($!)
loadbalance_api_port=${LOADBALANCE_API_PORT:-8083}
(cd "$root" && exec "$python" -m services.loadbalance.api --host 127.0.0.1 \
  --port "$loadbalance_api_port") 2>>"$log_dir/loadbalance-api.log" &
pids+=($!)
# A development CA for station certificates (security profile 3, docs/certificates.md),
# made once; the certificates service signs the CSRs of stations with it.
dev_ca_dir="$here/.run/dev-ca"
(cd "$root" && "$python" -m services.certificates dev-ca "$dev_ca_dir") >/dev/null
certificates_port=${CERTIFICATES_HTTP_PORT:-9600}
(cd "$root" && exec "$python" -m services.certificates --ca-cert "$dev_ca_dir/ca.pem" \
  --ca-key "$dev_ca_dir/ca.key" --http-host 127.0.0.1 \
  --http-port "$certificates_port") 2>>"$log_dir/certificates.log" &
pids+=($!)
alerts_port=${ALERTS_HTTP_PORT:-9500}
(cd "$root" && exec "$python" -m services.alerts --http-host 127.0.0.1 \
  --http-port "$alerts_port") 2>>"$log_dir/alerts.log" &
pids+=($!)

wait_ready() {  # URL NAME
  for _ in $(seq 1 300); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "run.sh: $2 did not become ready (see $log_dir/$2.log)" >&2
  return 1
}
wait_ready "http://127.0.0.1:$http_port/readyz" gateway
wait_ready "http://127.0.0.1:$sessions_port/readyz" sessions
wait_ready "http://127.0.0.1:$api_port/readyz" api
wait_ready "http://127.0.0.1:$billing_port/readyz" billing
wait_ready "http://127.0.0.1:$billing_api_port/readyz" billing-api
wait_ready "http://127.0.0.1:$loadbalance_port/readyz" loadbalance
wait_ready "http://127.0.0.1:$loadbalance_api_port/readyz" loadbalance-api
wait_ready "http://127.0.0.1:$alerts_port/readyz" alerts
wait_ready "http://127.0.0.1:$certificates_port/readyz" certificates

# A dev API key (admin role), made anew each run: the old one of that name stops working.
api_key=$(cd "$root" && "$python" -m services.sessions.api keys create local-dev --role admin | tail -n 1)
for _ in $(seq 1 50); do  # the API reads new keys within a second
  curl -fsS "http://127.0.0.1:$api_port/stations?limit=1" -H "Authorization: Bearer $api_key" \
    >/dev/null 2>&1 && break
  sleep 0.1
done
# The simulated stations' card, in the token store (through the API, hence Kafka).
curl -fsS -X PUT "http://127.0.0.1:$api_port/tokens/DEMO-TOKEN-1" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $api_key" -d '{"type": "ISO14443", "status": "Accepted"}' >/dev/null
# A demo tariff for every station (through the billing API, hence Kafka): 0.35/kWh and a 0.50
# start fee, 21 % VAT.
for _ in $(seq 1 50); do  # the billing API reads the new key within a second too
  curl -fsS "http://127.0.0.1:$billing_api_port/tariffs" -H "Authorization: Bearer $api_key" \
    >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS -X PUT "http://127.0.0.1:$billing_api_port/tariffs/DEMO-AC" \
  -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' -d '{
  "country_code": "NL", "party_id": "CBS", "currency": "EUR",
  "last_updated": "2026-11-26T00:00:00Z",
  "elements": [{"price_components": [
    {"type": "FLAT", "price": 0.50, "vat": 21, "step_size": 1},
    {"type": "ENERGY", "price": 0.35, "vat": 21, "step_size": 1}]}]}' >/dev/null
curl -fsS -X PUT "http://127.0.0.1:$billing_api_port/tariff-assignments/default" \
  -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
  -d '{"tariff_id": "DEMO-AC", "time_zone": "Europe/Amsterdam"}' >/dev/null
# The simulated stations on one site of 16 A per station: when all charge, each gets 16 of its
# 32 A; while fewer charge, they share the site (through the load balancing API, hence Kafka).
stations=${STATIONS:-5}
site_stations=$(seq -f '"SIM%05g"' 1 "$stations" | paste -sd, -)
curl -fsS -X PUT "http://127.0.0.1:$loadbalance_api_port/sites/DEMO-SITE" \
  -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
  -d "{\"capacity_a\": $((stations * 16)), \"phases\": 3, \"stations\": [$site_stations]}" \
  >/dev/null
# A few stations that boot, report status and charge, against the gateway, for a day at most.
(cd "$root" && exec "$python" -m tools.simulator --url "ws://127.0.0.1:$gateway_port/ocpp" \
  --stations "$stations" --version mixed --connect-rate 5 --duration 86400 \
  --session-length 120 --meter-interval 15 --id-token DEMO-TOKEN-1) 2>>"$log_dir/simulator.log" &
pids+=($!)
cat <<MSG
chargebus is running:
  Kafka      $KAFKA_BOOTSTRAP_SERVERS
  gateway    ws://127.0.0.1:$gateway_port/ocpp/{station_id}   metrics http://127.0.0.1:$http_port/metrics
  sessions   one worker                                      metrics http://127.0.0.1:$sessions_port/metrics
  console    http://127.0.0.1:$api_port/console   (sign in with the API key below; docs/console.md)
  API        http://127.0.0.1:$api_port/stations  /sessions  /tokens  /alerts   (docs/api.md)
             /stations/{station_id}/device-model   (docs/sessions.md, "The inventory after a boot")
  alerts     one worker                                      metrics http://127.0.0.1:$alerts_port/metrics
  CA         $dev_ca_dir/ca.pem signs station certificates (docs/certificates.md)
  billing    http://127.0.0.1:$billing_api_port/tariffs  /tariff-assignments  /cdrs   (docs/billing.md)
  sites      http://127.0.0.1:$loadbalance_api_port/sites/DEMO-SITE/allocation  /allocation/history?format=png   (docs/loadbalance.md)
  API key    $api_key   (role admin; send Authorization: Bearer KEY)
  CLI        CHARGEBUS_API_KEY=$api_key .venv/bin/chargebus stations   (docs/cli.md)
  stations   $stations simulated stations (logs: $log_dir/)
Ctrl-C stops everything this command started.
MSG
if [[ -t 1 ]]; then  # the whole system on one screen, redrawn under this banner
  (cd "$root" && CHARGEBUS_API_KEY=$api_key exec "$python" -m tools.cli \
    --api "http://127.0.0.1:$api_port" --billing-api "http://127.0.0.1:$billing_api_port" \
    --loadbalance-api "http://127.0.0.1:$loadbalance_api_port" summary --watch 2) &
  summary_pid=$!  # not among pids: the screen ending does not stop the system
fi
wait -n "${pids[@]}"
