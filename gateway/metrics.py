"""The gateway's Prometheus metrics: declarations, and their children by label values."""

from functools import cache

from prometheus_client import Counter, Gauge, Histogram

from gateway.core.auth import AuthResult

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

CONNECTIONS = Gauge("chargebus_gateway_connections", "Open station WebSockets", ["ocpp_version"])
FRAMES = Counter(
    "chargebus_gateway_frames_total",
    "OCPP frames by action, direction (in: from station) and message type",
    ["action", "direction", "message_type"],
)
ERRORS = Counter(
    "chargebus_gateway_errors_total", "CALLERRORs the gateway sent on its own, by code", ["code"]
)
AUTH_FAILURES = Counter(
    "chargebus_gateway_auth_failures_total", "Refused handshakes by reason", ["reason"]
)
# Every reason starts at 0, so that rate() and increase() see each reason's first refusal
# (the alert on boot-serial-mismatch fires on one); the last two are counted in server.py.
for _reason in (
    *(r for r in AuthResult if not r.accepted),
    "no-subprotocol",
    "boot-serial-mismatch",
):
    AUTH_FAILURES.labels(_reason)
COMMANDS = Counter("chargebus_gateway_commands_total", "Commands by outcome", ["outcome"])
STATION_ROUND_TRIP = Histogram(
    "chargebus_gateway_station_round_trip_seconds",
    "CALL to a station until its answer",
    ["action"],
    buckets=_LATENCY_BUCKETS,
)
SERVICE_ROUND_TRIP = Histogram(
    "chargebus_gateway_service_round_trip_seconds",
    "Station CALL received until the service's reply arrived through Kafka",
    ["action"],
    buckets=_LATENCY_BUCKETS,
)
KAFKA_PRODUCE = Histogram(
    "chargebus_gateway_kafka_produce_seconds",
    "Produce until acknowledged (acks=all)",
    ["topic"],
    buckets=_LATENCY_BUCKETS,
)
INBOX_RECORDS = Counter(
    "chargebus_gateway_inbox_records_total", "Inbox records by kind and fate", ["kind", "fate"]
)
SUPERSEDED = Counter(
    "chargebus_gateway_superseded_total",
    "Links closed because the station connected again at another gateway",
)


# A metric's child for label values, remembered: ``labels()`` takes a lock and checks its
# arguments on every call, 1.2 µs more than this (measured); a gateway updates five a message.
# Every label value here comes from a closed set (the actions a version knows, the topics).
frames = cache(FRAMES.labels)
connections = cache(CONNECTIONS.labels)
station_round_trip = cache(STATION_ROUND_TRIP.labels)
service_round_trip = cache(SERVICE_ROUND_TRIP.labels)
kafka_produce = cache(KAFKA_PRODUCE.labels)
inbox_records = cache(INBOX_RECORDS.labels)
