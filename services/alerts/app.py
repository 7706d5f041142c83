"""The alerts worker: its pure core (core/partition.py) in the runtime's stateful worker (I/O).

Inputs stations.v1 and ocpp.presence.v1 (key station_id; GatewayAlive is the clock), state in
alerts.state.v1, alerts to alerts.v1 and alerts.open.v1.
"""

from contracts.topics import Topic
from runtime.worker import Service
from services.alerts.core.partition import Partition
from services.alerts.core.policy import Thresholds

NAME = "alerts"
SOURCES = (Topic.STATIONS, Topic.PRESENCE)


def service(thresholds: Thresholds) -> Service:
    """The alerts service as the runtime's worker runs it."""
    return Service(
        name=NAME,
        sources=SOURCES,
        changelog=Topic.ALERTS_STATE,
        new_store=lambda p: Partition(p, thresholds=thresholds),
    )
